"""Tests of tomopress.synthetic.scoring: truth readers, errors against targets, Dice, trends."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest

from tomopress.synthetic.beamtime import SyntheticParams, simulate_scan, truth_paths
from tomopress.synthetic.scoring import (
    TARGETS,
    Target,
    effective_blur_sigma_px,
    independent_truth,
    phase_dice,
    pressure_trend,
    score_layers,
    score_target,
    summarize_scores,
    tomopress_truth,
)
from tomopress.types import AM, OUTSIDE, SE, VOID

TINY = SyntheticParams(n_rows=16, n_cols=48, n_angles=32, separator_rows=6, transition_rows=1,
                       roi_size_px=24, cylinder_diameter_frac=0.85, center_offset_px=1.3,
                       n_flats=3, n_darks=3, n_ring_columns=2, n_dead_columns=1, n_zingers=4)
BY_NAME = {t.name: t for t in TARGETS}


def test_tomopress_truth_region_matches_the_partial_volume_fractions(tmp_path):
    """The truth's rows and ROI, applied to the coarse partial-volume fractions of truth.h5
    (block means of the same fine labels), give the truth's volume fractions."""
    path = tmp_path / "scan.h5"
    raw = simulate_scan(path, pressure_mpa=25.0, params=TINY, seed=3)
    truth = tomopress_truth(json.loads(truth_paths(path)[0].read_text()))
    assert truth == tomopress_truth(raw)
    with h5py.File(truth_paths(path)[1], "r") as fh:
        fractions = {p: fh[f"{p}_fraction"][...].astype(np.float64) for p in ("void", "se", "am")}
    for layer in ("composite", "separator"):
        (z0, z1), (y0, y1, x0, x1) = truth[layer]["z_rows"], truth[layer]["roi_xy"]
        sums = {p: f[z0:z1, y0:y1, x0:x1].sum() for p, f in fractions.items()}
        total = sum(sums.values())
        for p in ("void", "se", "am"):
            assert truth[layer][f"volume_fraction_{p}"] == pytest.approx(sums[p] / total, abs=1e-6)
        assert truth[layer]["porosity"] == truth[layer]["volume_fraction_void"]
    assert truth["composite"]["contact_area_fraction"] is not None


def test_tomopress_truth_has_no_contact_without_am():
    layer = {"z_range_rows": [0, 2], "roi_xy_px": [0, 4, 0, 4], "contact_area_fraction": 0.7,
             "volume_fraction": {"void": 0.1, "se": 0.9, "am": 0.0}}
    truth = tomopress_truth({"layers": {"composite": layer, "separator": layer}})
    assert truth["separator"]["contact_area_fraction"] is None


def test_independent_truth_reads_the_physical_values(shared_data):
    path = shared_data / "independent_phantoms" / "scan_158ab72297.truth.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    raw = json.loads(path.read_text())
    fine, majority = independent_truth(raw), independent_truth(raw, grid="majority_labels_0p5um")
    comp = fine["composite"]
    # R is f_z / f_xy of the same file; the fractions of the three phases add up to one
    assert comp["contact_anisotropy_R"] == pytest.approx(
        comp["contact_fraction_z"] / comp["contact_fraction_xy"], rel=1e-9)
    assert sum(comp[f"volume_fraction_{p}"] for p in ("void", "se", "am")) == pytest.approx(1.0)
    assert comp["porosity"] == comp["volume_fraction_void"]
    assert comp["z_rows"] == raw["layers"]["composite"]["interior_z_range"]
    assert fine["separator"]["contact_area_fraction"] is None
    # the fine grid and the majority labels are different measurements of the same layer
    fc_fine, fc_majority = (t["composite"]["contact_area_fraction"] for t in (fine, majority))
    assert abs(fc_fine - fc_majority) > 0.005


def test_phase_dice_counts_overlap_and_ignores_outside():
    rng = np.random.default_rng(13)
    a = rng.integers(0, 3, size=(6, 8, 8)).astype(np.uint8)
    b = a.copy()
    flip = rng.random(a.shape) < 0.3
    b[flip] = (b[flip] + 1) % 3
    n_a, n_b = np.count_nonzero(a == VOID), np.count_nonzero(b == VOID)
    both = np.count_nonzero((a == VOID) & (b == VOID))
    assert phase_dice(a, b, VOID) == pytest.approx(2 * both / (n_a + n_b))
    assert phase_dice(a, a, SE) == 1.0
    c = a.copy()
    c[0] = OUTSIDE  # voxels outside in either volume are not counted
    keep = slice(1, None)
    assert phase_dice(a, c, AM) == pytest.approx(phase_dice(a[keep], a[keep], AM))
    assert np.isnan(phase_dice(np.full((1, 2, 2), SE, np.uint8), np.full((1, 2, 2), SE, np.uint8),
                               VOID))
    with pytest.raises(ValueError, match="shape"):
        phase_dice(a, a[1:], VOID)


@pytest.mark.parametrize(("measured", "passed"), [(0.31, True), (0.29, True), (0.3101, False),
                                                   (0.2899, False)])
def test_score_target_at_the_tolerance(measured, passed):
    s = score_target(BY_NAME["composite_porosity"], {"porosity": measured}, {"porosity": 0.30})
    assert s["passed"] is passed
    assert s["error_points"] == pytest.approx(100 * (measured - 0.30))


def test_score_target_relative_uncertainty_and_hard_label_columns():
    tau = BY_NAME["composite_tau_factor"]
    s = score_target(tau, {"tau_factor": 2.1, "tau_factor_uncertainty": 0.05,
                           "tau_factor_labels": 2.4}, {"tau_factor": 2.0})
    assert s["error"] == pytest.approx(0.05) and s["passed"] is True and s["relative"] is True
    assert s["error_over_uncertainty"] == pytest.approx(0.1 / 0.05)
    assert s["labels_value"] == 2.4 and s["labels_error"] == pytest.approx(0.2)
    assert "error_points" not in s
    missing = score_target(tau, {"tau_factor": float("inf")}, {"tau_factor": 2.0})
    assert missing["passed"] is False and missing["error"] is None
    assert score_target(tau, {"tau_factor": 2.0}, {"tau_factor": None})["passed"] is None


def test_score_layers_scores_every_target_and_a_missing_layer_fails():
    truth = {"composite": {"porosity": 0.3}, "separator": {"porosity": 0.1}}
    scores = score_layers({"composite": {"porosity": 0.3}}, truth)
    assert set(scores) == {t.name for t in TARGETS}
    assert scores["composite_porosity"]["passed"] is True
    assert scores["separator_porosity"]["passed"] is False  # the layer was not measured
    assert scores["composite_contact_area_fraction"]["passed"] is None  # no truth given


def test_pressure_trend_sign_and_size():
    fc = BY_NAME["composite_contact_area_fraction"]
    lo, hi = {"measured": 0.60, "truth": 0.55}, {"measured": 0.66, "truth": 0.62}
    t = pressure_trend(fc, lo, hi)
    assert t["measured_change"] == pytest.approx(0.06) and t["true_change"] == pytest.approx(0.07)
    assert t["sign_agrees"] is True and t["passed"] is True
    flat = pressure_trend(fc, lo, {"measured": 0.58, "truth": 0.62})
    assert flat["sign_agrees"] is False and flat["passed"] is False
    rel = pressure_trend(BY_NAME["composite_tau_factor"], {"measured": 2.0, "truth": 2.5},
                         {"measured": 2.2, "truth": 2.5})
    assert rel["measured_change"] == pytest.approx(0.1) and rel["passed"] is False
    assert pressure_trend(fc, {"measured": None, "truth": 0.5}, hi)["passed"] is None


def test_summarize_scores_counts_bias_and_worst_error():
    truth = {"composite": {"porosity": 0.2, "contact_anisotropy_R": 1.1}}
    cells = [score_layers({"composite": {"porosity": p, "contact_anisotropy_R": r}}, truth)
             for p, r in ((0.195, 1.0), (0.22, 1.12), (0.205, 1.16))]
    s = summarize_scores(cells)
    assert s["composite_porosity"]["n_scored"] == 3 and s["composite_porosity"]["n_passed"] == 2
    assert s["composite_porosity"]["mean_error"] == pytest.approx(0.02 / 3)
    assert s["composite_contact_anisotropy_R"]["max_abs_error"] == pytest.approx(0.1)
    assert s["composite_contact_anisotropy_R"]["n_failed"] == 2
    assert s["separator_porosity"]["n_scored"] == 0


def test_targets_are_those_of_issue_13():
    tol = {t.name: t.tolerance for t in TARGETS}
    assert tol == {"composite_porosity": 0.01, "separator_porosity": 0.005,
                   "composite_volume_fraction_se": 0.015, "composite_volume_fraction_am": 0.015,
                   "composite_contact_area_fraction": 0.02,
                   "composite_contact_anisotropy_R": 0.05, "composite_tau_factor": 0.05}
    assert dataclasses.replace(TARGETS[0], layer="separator").name == "separator_porosity"
    assert Target("composite", "tau_factor", 0.05, relative=True).relative


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    z, y, x = (n // f for n in a.shape)
    return a[:z * f, :y * f, :x * f].reshape(z, f, y, f, x, f).mean(axis=(1, 3, 5))


@pytest.mark.parametrize("sigma", [0.45, 0.85, 1.25])
def test_effective_blur_recovers_the_blur_of_a_fine_grid_phantom(sigma):
    # balls on a 4x finer grid, blurred there by an analytic Gaussian transfer function (FFT),
    # then averaged into voxels: the voxels' own box is not blur, the Gaussian is
    f, n = 4, 28
    rng = np.random.default_rng(3)
    zz, yy, xx = np.indices((n * f,) * 3) + 0.5
    fine = np.full(zz.shape, 21.0)
    for c in rng.uniform(0, n * f, (14, 3)):
        fine[(zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 < (rng.uniform(3, 6) * f) ** 2] = 80.0
    fine[rng.random(fine.shape) < 0.002] = 0.0
    k = [np.fft.fftfreq(n * f) for _ in range(3)]
    kz, ky, kx = np.meshgrid(*k, indexing="ij")
    transfer = np.exp(-2 * np.pi**2 * (sigma * f) ** 2 * (kz**2 + ky**2 + kx**2))
    blurred = np.fft.ifftn(np.fft.fftn(fine) * transfer).real
    m = 5
    recon = _block_mean(blurred, f)[m:-m, m:-m, m:-m]
    recon = 0.97 * recon + 1.5 + rng.normal(0, 2.0, recon.shape)  # gain, offset, noise
    out = effective_blur_sigma_px(recon, _block_mean(fine, f), margin_px=m)
    assert out["sigma_px"] == pytest.approx(sigma, abs=0.03)
    assert out["gain"] == pytest.approx(0.97, abs=0.02)
    assert out["residual_rms"] == pytest.approx(2.0, rel=0.1)


def test_effective_blur_wants_the_margin_around_the_region():
    with pytest.raises(ValueError, match="plus 2 voxels"):
        effective_blur_sigma_px(np.zeros((4, 4, 4)), np.zeros((6, 6, 6)), margin_px=2)
