"""How much a hidden gap at the AM surface shows in the grey levels (issue 13's f_c and R).

f_c and R miss wherever the labels call AM|SE contact where the truth has a thin void. This
script asks whether any estimator on the grey levels could tell those places apart, on scans
the workflow has already processed (run ``fidelity.py`` and ``fidelity.py --independent``
first; their results are read, nothing is rerun):

- **Elements**: every voxel outside the labels' AM with an AM face neighbour that the labels
  call SE (contact), split by the true majority label of the same voxel (SE: contact; void:
  a gap the labels missed). Truth is used only to split, never to fit.
- **Profiles**: the raw reconstructed attenuation (the crop, before denoising) along the AM
  normal (gradient of the smoothed signed distance of the labels' AM), from 3 voxels inside
  to 4 outside, trilinear.
- **Separation**: Fisher's discriminant between the two groups' profiles at 1-voxel steps,
  ``d' = sqrt(Δᵀ Σ⁻¹ Δ)`` with the pooled covariance, fitted on even elements and measured
  on odd ones; the share of missed gaps a per-element test finds at a 5 % false-alarm rate;
  and how many elements must be pooled for d' = 2 (were their noises independent).
- **Degeneracy**: how much of the mean profile difference a shift of the AM boundary alone
  explains (the first-order signature of a thin gap is that of a boundary shift).
- **Templates from the scan's own forward model**: the contact probe's renderer (class means,
  recorded blur, FBP-spectrum noise, the scan's labeller) draws AM spheres of radius 6, 8 and
  10 voxels wrapped in void gaps of 0-1.5 voxels; the discriminant is fitted on those
  renderings' elements (their truth is known) and the share of missed gaps among the scan's
  called contacts is estimated from the scan's mean score, ``(mean − μ_contact) /
  (μ_gap − μ_contact)``. No truth of the scan enters; it is compared with the truth after.

Writes ``benchmarks/results/contact_signal.json``.

    .venv/bin/python benchmarks/contact_signal.py [--work .bench-fidelity] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import yaml
from scipy import ndimage, optimize

from tomopress.intake.workflow import relabel_options
from tomopress.segment.contact_probe import render_and_label, shell_phantom
from tomopress.segment.stage import relabeller
from tomopress.types import AM, SE, VOID

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "independent_phantoms"
#: outward distance along the AM normal, voxels: half-voxel steps for the mean profiles, every
#: other one (1-voxel steps) for the discriminant
FINE_OFFSETS = np.arange(-3.0, 4.01, 0.5)
OFFSETS = FINE_OFFSETS[::2]
#: gap widths (voxels) and AM radii of the renderings the templates are fitted on
TEMPLATE_GAPS_PX = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
TEMPLATE_RADII_PX = (6.0, 8.0, 10.0)


def surface_elements(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-AM voxels with an AM face neighbour: indices, outward unit normals, signed distance.

    The normal is the gradient of the signed distance to the labels' AM (outside > 0),
    smoothed by a 1-voxel Gaussian so that it follows the surface, not its staircase.
    """
    am = labels == AM
    dist = ndimage.distance_transform_edt(~am) - ndimage.distance_transform_edt(am)
    dist = ndimage.gaussian_filter(np.where(am, dist + 0.5, dist - 0.5), 1.0)
    touching = np.zeros_like(am)
    for axis in range(3):
        for step in (1, -1):
            touching |= np.roll(am, step, axis=axis)
    element = ~am & touching & (labels != 255)
    for axis in range(3):  # np.roll wraps round: the array's faces are not elements
        edge = [slice(None)] * 3
        edge[axis] = [0, -1]
        element[tuple(edge)] = False
    idx = np.argwhere(element)
    grad = np.stack([g[element] for g in np.gradient(dist)], axis=1)
    grad /= np.linalg.norm(grad, axis=1, keepdims=True) + 1e-12
    return idx, grad, dist[element]


def normal_profiles(grey: np.ndarray, idx: np.ndarray, normal: np.ndarray,
                    signed_distance: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Grey levels at `offsets` voxels along each element's normal from the AM surface."""
    surface = idx - signed_distance[:, None] * normal
    points = surface[:, None, :] + offsets[None, :, None] * normal[:, None, :]
    coords = points.reshape(-1, 3).T
    inside = np.all((coords >= 0) & (coords <= np.array(grey.shape)[:, None] - 1), axis=0)
    values = ndimage.map_coordinates(grey.astype(np.float64), coords, order=1)
    values[~inside] = np.nan
    return values.reshape(len(idx), len(offsets))


def discriminant(contact: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """Fisher's weights separating two groups of profiles (pooled covariance)."""
    pooled = 0.5 * (np.cov(contact, rowvar=False) + np.cov(gap, rowvar=False))
    return np.linalg.solve(pooled, gap.mean(0) - contact.mean(0))


def fisher_separation(contact: np.ndarray, gap: np.ndarray) -> dict[str, float]:
    """Fisher's d' between two groups of profiles: fitted on even rows, measured on odd rows."""
    fit_c, fit_g, test_c, test_g = contact[::2], gap[::2], contact[1::2], gap[1::2]
    weights = discriminant(fit_c, fit_g)
    score_c, score_g = test_c @ weights, test_g @ weights
    spread = np.sqrt(0.5 * (score_c.var(ddof=1) + score_g.var(ddof=1)))
    d_prime = float((score_g.mean() - score_c.mean()) / spread)
    threshold = np.quantile(score_c, 0.95)
    return {"d_prime": d_prime, "gaps_found_at_5pct_false_alarms": float(np.mean(score_g > threshold)),
            "elements_pooled_for_d_prime_2": float((2.0 / d_prime) ** 2) if d_prime > 0 else None}


def shift_explained(contact_mean: np.ndarray, gap_mean: np.ndarray,
                    offsets: np.ndarray) -> dict[str, float]:
    """Share of the mean profile difference that a shift of the AM boundary alone explains."""
    def shifted(delta: float) -> np.ndarray:
        return np.interp(offsets + delta, offsets, contact_mean)

    def residual(delta: float) -> float:
        return float(np.sum((gap_mean - shifted(delta)) ** 2))

    best = optimize.minimize_scalar(residual, bounds=(-1.5, 1.5), method="bounded")
    total = float(np.sum((gap_mean - contact_mean) ** 2))
    return {"best_shift_voxels": float(best.x),
            "difference_energy_explained": 1.0 - best.fun / total if total > 0 else None,
            "max_difference_after_shift_per_cm": float(np.max(np.abs(gap_mean - shifted(best.x))))}


def rendered_elements(thresholds: dict[str, Any], calibration: dict[str, Any],
                      segment_options: dict[str, Any], seed: int = 1
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profiles, labels and true phase of the elements of the template renderings."""
    relabel = relabeller(thresholds, calibration, segment_options)
    rng = np.random.default_rng(seed)
    parts = []
    for radius in TEMPLATE_RADII_PX:
        am, void, _ = shell_phantom(TEMPLATE_GAPS_PX, film=False, radius_px=radius, rng=rng)
        grey, labels = render_and_label(
            am, void, levels=tuple(thresholds["means"]), blur_sigma_px=calibration["blur_sigma_px"],
            noise_sigma=thresholds["noise_sigma"], rng=rng, relabel=relabel)
        true = np.where(am > 0.5, AM, np.where(void > 1.0 - am - void, VOID, SE))
        idx, normal, sd = surface_elements(labels)
        profiles = normal_profiles(grey, idx, normal, sd, OFFSETS)
        whole = ~np.isnan(profiles).any(axis=1)
        parts.append((profiles[whole], labels[tuple(idx.T)][whole], true[tuple(idx.T)][whole]))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


def template_estimate(rendered: tuple[np.ndarray, np.ndarray, np.ndarray],
                      called_contact_profiles: np.ndarray) -> dict[str, float]:
    """Share of missed gaps among a scan's called contacts, from rendered templates."""
    profiles, labels, true = rendered
    contact = profiles[(labels == SE) & (true != VOID)]
    gap = profiles[(labels == SE) & (true == VOID)]
    weights = discriminant(contact, gap)
    mu_contact, mu_gap = float((contact @ weights).mean()), float((gap @ weights).mean())
    score = float((called_contact_profiles @ weights).mean())
    return {"template_missed_gap_share": (score - mu_contact) / (mu_gap - mu_contact),
            "template_score_scan": score, "template_score_contact": mu_contact,
            "template_score_gap": mu_gap}


def scan_signal(results: Path, scan_id: str, truth_labels: np.ndarray,
                segment_options: dict[str, Any]) -> dict[str, Any]:
    """The record of one scan: group sizes, mean profiles, separation, degeneracy."""
    with h5py.File(results / scan_id / "crop" / "composite.h5", "r") as fh:
        grey = fh["volume"][...]
        z0, z1 = (int(v) for v in fh.attrs["z_rows"])
        y0, y1, x0, x1 = (int(v) for v in fh.attrs["roi_xy"])
    with h5py.File(results / scan_id / "segment" / "composite.h5", "r") as fh:
        labels = fh["labels"][...]
    calibration = json.loads((results / scan_id / "calibration.json").read_text())
    thresholds = json.loads((results / scan_id / "segment" / "thresholds.json").read_text())
    true = truth_labels[z0:z1, y0:y1, x0:x1]
    idx, normal, sd = surface_elements(labels)
    called_contact = labels[tuple(idx.T)] == SE
    truth_at = true[tuple(idx.T)]
    fine = normal_profiles(grey, idx, normal, sd, FINE_OFFSETS)
    profiles = fine[:, ::2]  # the 1-voxel OFFSETS
    whole = ~np.isnan(profiles).any(axis=1)
    contact = called_contact & (truth_at == SE) & whole
    gap = called_contact & (truth_at == VOID) & whole
    n_called = int((called_contact & whole).sum())
    template = template_estimate(rendered_elements(thresholds, calibration, segment_options),
                                 profiles[called_contact & whole])
    contact_mean, gap_mean = np.nanmean(fine[contact], 0), np.nanmean(fine[gap], 0)
    levels = calibration["levels_per_cm"]
    return {
        "scan_id": scan_id,
        "blur_sigma_px": calibration["blur_sigma_px"],
        "noise_sigma_per_cm": calibration["noise_sigma"],
        "levels_per_cm": {"am": levels["am"], "se": levels["se"]},
        "elements_called_contact": n_called,
        "called_contact_truly_void": int(gap.sum()),
        "called_contact_truly_void_share": float(gap.sum() / n_called) if n_called else None,
        "offsets_voxels": FINE_OFFSETS.tolist(),
        "mean_profile_truly_contact_per_cm": contact_mean.round(2).tolist(),
        "mean_profile_truly_void_per_cm": gap_mean.round(2).tolist(),
        "max_mean_difference_per_cm": float(np.max(np.abs(gap_mean - contact_mean))),
        "profile_std_truly_contact_per_cm": float(np.nanmean(np.nanstd(profiles[contact], 0))),
        **fisher_separation(profiles[contact], profiles[gap]),
        **shift_explained(contact_mean, gap_mean, FINE_OFFSETS),
        "truly_void_among_called_contact": float(np.mean(truth_at[called_contact & whole] == VOID)),
        **template,
    }


def matrix_scans(work: Path) -> list[tuple[Path, str, Path]]:
    results = work / "matrix-report-demo" / "results"
    return [(results, d.name, work / "scans" / f"{d.name}.truth.h5")
            for d in sorted(results.glob("report_*")) if (d / "segment" / "composite.h5").is_file()]


def independent_scans(work: Path) -> list[tuple[Path, str, Path]]:
    out = []
    for kind in ("plain",):  # the realistic cell is labelled with its own config
        results = work / "independent" / kind / "results"
        out += [(results, d.name, SHARED / f"{d.name}.labels.h5")
                for d in sorted(results.glob("scan_*")) if (d / "segment" / "composite.h5").is_file()]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=ROOT / ".bench-fidelity")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "contact_signal.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    segment_options = relabel_options(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    out: dict[str, Any] = {"what": __doc__.split("\n\n")[0], "matrix": [], "independent": []}
    for key, scans in (("matrix", matrix_scans(args.work)), ("independent", independent_scans(args.work))):
        for results, scan_id, truth_path in scans:
            if not truth_path.is_file():
                print(f"{scan_id}: no truth labels at {truth_path}, skipped", file=sys.stderr)
                continue
            with h5py.File(truth_path, "r") as fh:
                truth_labels = fh["labels"][...]
            rec = scan_signal(results, scan_id, truth_labels, segment_options)
            out[key].append(rec)
            print(f"{scan_id:48s} blur {rec['blur_sigma_px']:.2f} noise {rec['noise_sigma_per_cm']:5.1f} "
                  f"missed gaps {rec['called_contact_truly_void_share']:.2f} "
                  f"max mean diff {rec['max_mean_difference_per_cm']:5.2f} /cm d' {rec['d_prime']:.2f} "
                  f"found {rec['gaps_found_at_5pct_false_alarms']:.2f} pool {rec['elements_pooled_for_d_prime_2']:.0f} "
                  f"shift {rec['best_shift_voxels']:+.2f} explains {rec['difference_energy_explained']:.2f} "
                  f"template est {rec['template_missed_gap_share']:.2f} vs {rec['truly_void_among_called_contact']:.2f}",
                  flush=True)
    for key in ("matrix", "independent"):
        recs = out[key]
        if recs:
            d = np.array([r["d_prime"] for r in recs])
            out[f"{key}_summary"] = {
                "n_scans": len(recs), "d_prime_range": [float(d.min()), float(d.max())],
                "d_prime_median": float(np.median(d)),
                "gaps_found_range": [min(r["gaps_found_at_5pct_false_alarms"] for r in recs),
                                     max(r["gaps_found_at_5pct_false_alarms"] for r in recs)],
                "shift_explains_range": [min(r["difference_energy_explained"] for r in recs),
                                         max(r["difference_energy_explained"] for r in recs)],
            }
    out["seconds"] = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out} in {out['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
