"""Fidelity benchmark (issue 13): the workflow's numbers against truth on a matrix of scans.

**Matrix.** Synthetic scans from tomopress's simulator with truth on a grid ``--fine-factor``
(default 4) times finer than the reconstruction: every combination of detector blur
(``--blur``, default 0.4, 0.8, 1.2 px), flat counts (``--i0``, default 2,000 and 20,000),
microstructure variant (``--morphologies``, default ``thin_equatorial`` and
``subresolution_separator`` of `tomopress.synthetic.params.MORPHOLOGIES`) and pressure
(``--pressures``, default 6 and 100 MPa): 24 scans. Each scan draws its ring strength
(``ring_gain_error`` in [0.01, 0.05]) and beam drift (``drift_total`` in [-0.03, 0.03]) from
a generator seeded by its cell. All scans run through the real Snakefile in one invocation,
with the layer rows and the x-y region given in the sample sheet so that the crops coincide
with the truth's rows and ROI exactly.

**Seeds.** ``--seed-set fit`` and ``--seed-set report`` draw disjoint microstructure and noise
seeds (every seed of ``fit`` is even, every seed of ``report`` odd; microstructure seeds are
below 2 x 10^6, noise seeds from 10^7 up), so parameters fitted on one set are reported on the
other. Fit on ``fit``; quote ``report`` (the default). A microstructure seed belongs to a
morphology (all acquisitions and both pressures of a variant share the cell, as in a real
pressure series); the noise, ring and drift seeds belong to a scan.

**Independent phantoms** (``--independent``): the three scans of
``../shared/data/independent_phantoms`` (another simulator: validation only, nothing is ever
fitted on them) run with a config for 256-column scans (``crop.roi_size_px: 144``,
``flatfield.ring_size: 7``) and sheet rows from the truth's ``interior_z_range``; truth is
``layers.*.fine_grid``.

**Scores** per scan (`tomopress.synthetic.scoring`): errors of composite and separator
porosity, composite SE and AM fractions, f_c and R against the targets of issue 13 (±1, ±0.5,
±1.5, ±1.5, ±2 points, ±0.05), and of the tortuosity factor against
`tomopress.metrics.diffusion.tortuosity_factor` on the true majority labels of the same region
(±5 %); Dice of void, SE and AM per layer against the true majority labels; the hard-label
reference (the metrics of the true majority labels: what a perfect hard segmentation gives);
wall time and peak memory of every per-layer rule (Snakemake's benchmark files); pressure
trends (change of porosity, f_c, R and tau between the pressures of a series against the
truth's). Columns ``<col>_uncertainty`` and ``<col>_labels`` of the metrics table are read
when present. The blur the calibration records (``blur_sigma_px``, the sample's edge against
air) is scored against the blur the composite crop really has (``blur``: the Gaussian that maps
the truth's voxel-averaged attenuation onto the crop, `effective_blur_sigma_px`).

Simulated scans are cached in ``<work>/scans`` (keyed by parameters, seeds and a digest of the
simulator's source); the workflow's results are recomputed on every run.

    .venv/bin/python benchmarks/fidelity.py [--seed-set fit|report] [--quick] [--cells PATTERNS]
        [--size demo|small] [--blur 0.4,0.8,1.2] [--i0 2000,20000] [--morphologies A,B]
        [--pressures 6,100] [--fine-factor 4] [--work DIR] [--out FILE] [--cores 2]
        [--sim-jobs 2] [--list]
    .venv/bin/python benchmarks/fidelity.py --independent [--scans scan_158ab72297,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import hashlib
import itertools
import json
import logging
import math
import os
import platform
import shutil
import subprocess
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import yaml

from tomopress.metrics.anisotropy import directional_contact_fractions
from tomopress.metrics.contact import contact_metrics
from tomopress.metrics.diffusion import tortuosity_factor
from tomopress.metrics.fractions import volume_fractions
from tomopress.segment.crop import centred_roi
from tomopress.synthetic.beamtime import truth_paths
from tomopress.synthetic.params import MORPHOLOGIES, SyntheticParams
from tomopress.synthetic.scoring import (
    TARGETS,
    TREND_QUANTITIES,
    effective_blur_sigma_px,
    independent_truth,
    phase_dice,
    pressure_trend,
    score_layers,
    summarize_scores,
    tomopress_truth,
)
from tomopress.types import LAYERS, PHASES

log = logging.getLogger("fidelity")

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"
INDEPENDENT_DIR = REPO.parent / "shared" / "data" / "independent_phantoms"
INDEPENDENT_SCANS = ("scan_158ab72297", "scan_75545789d2", "scan_b3f1179757")
#: config for the independent phantoms' 256-column detector (the demo's is for 160 columns)
INDEPENDENT_CONFIG = {"crop": {"roi_size_px": 144}, "flatfield": {"ring_size": 7}}
#: the realistic cell runs as its own config says (two-material Paganin for its 3 mm phase
#: contrast, ring filter, transition rows), in a Snakemake invocation of its own
REALISTIC_CONFIG_FILE = REPO / "config" / "independent_b3f.yaml"

#: detector presets: the demo's (SyntheticParams defaults: 72 x 160, 256 angles, ROI 96) and a
#: smaller cell for the tests (40 x 112, ROI 68; about 5x faster to simulate at fine factor 4)
SIZES: dict[str, dict[str, Any]] = {
    "demo": {},
    "small": {"n_rows": 40, "n_cols": 112, "separator_rows": 12, "transition_rows": 3,
              "roi_size_px": 68, "center_offset_px": 2.0},
}
BLURS_PX = (0.4, 0.8, 1.2)
I0_COUNTS = (2000.0, 20000.0)
MORPHS = ("thin_equatorial", "subresolution_separator")
#: equatorial voids wider than thin_equatorial's 0.6 µm, to check f_c against the contact
#: probe's gap resolution (``--morphologies equatorial_1.2um,equatorial_2.5um``; not in the
#: default matrix)
PROBE_CHECK_MORPHOLOGIES = {f"equatorial_{w:g}um": {"equator_shell_um": w, "equator_weight_scale": 3.0}
                            for w in (1.2, 2.5)}
ALL_MORPHOLOGIES = {**MORPHOLOGIES, **PROBE_CHECK_MORPHOLOGIES}
PRESSURES_MPA = (6.0, 100.0)
RING_GAIN_RANGE = (0.01, 0.05)
DRIFT_RANGE = (-0.03, 0.03)
#: the 2-scan slice of --quick: the hardest variant at the middle blur and low noise
QUICK = {"morphology": "thin_equatorial", "blur_sigma_px": 0.8, "i0_counts": 20000.0}
SEED_PARITY = {"fit": 0, "report": 1}
NOTES = {
    "scan_b3f1179757": "realistic cell (housing tube wider than the detector, metal foil and rod "
                       "rows, propagation phase contrast): needs padding, phase retrieval and "
                       "layer finding; run with config/independent_b3f.yaml's settings "
                       "(two-material Paganin) and the truth's layer rows",
}


# ----------------------------------------------------------------------------- the matrix
def _stable(text: str) -> int:
    """A hash of `text` that is the same in every process and on every machine."""
    return zlib.crc32(text.encode())


@dataclasses.dataclass(frozen=True)
class Cell:
    """One synthetic scan of the matrix."""

    seed_set: str
    morphology: str
    blur_sigma_px: float
    i0_counts: float
    pressure_mpa: float
    size: str = "demo"
    fine_factor: int = 4

    @property
    def series(self) -> str:
        """The acquisition and microstructure (every pressure of a series shares it)."""
        return (f"{self.seed_set}_{self.morphology}_b{self.blur_sigma_px:g}"
                f"_i{self.i0_counts:g}_{self.size}")

    @property
    def cell_id(self) -> str:
        return f"{self.series}_p{self.pressure_mpa:g}"

    @property
    def microstructure_seed(self) -> int:
        return 2 * (_stable(self.morphology) % 10**6) + SEED_PARITY[self.seed_set]

    @property
    def noise_seed(self) -> int:
        key = f"{self.series}|{self.pressure_mpa:g}"
        return 10**7 + 2 * (_stable(key) % 10**6) + SEED_PARITY[self.seed_set]

    def params(self) -> SyntheticParams:
        """Simulator parameters, with ring strength and drift drawn for this scan."""
        rng = np.random.default_rng([SEED_PARITY[self.seed_set], self.noise_seed])
        return SyntheticParams(
            **SIZES[self.size], fine_factor=self.fine_factor, blur_sigma_px=self.blur_sigma_px,
            i0_counts=self.i0_counts, ring_gain_error=float(rng.uniform(*RING_GAIN_RANGE)),
            drift_total=float(rng.uniform(*DRIFT_RANGE)),
            microstructure_seed=self.microstructure_seed, **ALL_MORPHOLOGIES[self.morphology])


def matrix_cells(*, seed_set: str, morphologies, blurs, i0s, pressures, size: str,
                 fine_factor: int) -> list[Cell]:
    return [Cell(seed_set, m, float(b), float(i), float(p), size, fine_factor)
            for m, b, i, p in itertools.product(morphologies, blurs, i0s, pressures)]


# ----------------------------------------------------------------------- simulation cache
def _simulator_digest() -> str:
    h = hashlib.sha256()
    for path in sorted((REPO / "src" / "tomopress" / "synthetic").glob("*.py")):
        if path.name != "scoring.py":
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


def _simulate(path: str, pressure_mpa: float, params: dict[str, Any], seed: int) -> float:
    from tomopress.synthetic.beamtime import simulate_scan

    t0 = time.perf_counter()
    simulate_scan(path, pressure_mpa=pressure_mpa, params=SyntheticParams(**params), seed=seed)
    return time.perf_counter() - t0


def ensure_scans(cells: list[Cell], cache: Path, *, jobs: int) -> dict[str, dict[str, Any]]:
    """Simulate the scans not in the cache (in `jobs` processes); their files and seconds."""
    cache.mkdir(parents=True, exist_ok=True)
    digest = _simulator_digest()
    info: dict[str, dict[str, Any]] = {}
    todo = []
    for cell in cells:
        params = cell.params()
        key = hashlib.sha256(json.dumps(
            {"params": params.as_dict(), "pressure_mpa": cell.pressure_mpa,
             "seed": cell.noise_seed, "simulator": digest}, sort_keys=True).encode()).hexdigest()
        raw = cache / f"{cell.cell_id}.h5"
        meta_path = cache / f"{cell.cell_id}.sim.json"
        files = [raw, cache / f"{cell.cell_id}.truth.json", cache / f"{cell.cell_id}.truth.h5"]
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        info[cell.cell_id] = {"raw": raw, "params": params, "key": key, "meta": meta_path}
        if meta.get("key") == key and all(f.is_file() for f in files):
            info[cell.cell_id].update(simulate_s=meta["simulate_s"], cached=True)
        else:
            todo.append(cell)
    if todo:
        log.info("simulating %d of %d scans (%d processes)", len(todo), len(cells), jobs)
        args = [(str(info[c.cell_id]["raw"]), c.pressure_mpa, info[c.cell_id]["params"].as_dict(),
                 c.noise_seed) for c in todo]
        if jobs > 1 and len(todo) > 1:
            with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
                seconds = list(pool.map(_simulate, *zip(*args)))
        else:
            seconds = [_simulate(*a) for a in args]
        for cell, s in zip(todo, seconds):
            entry = info[cell.cell_id]
            entry["meta"].write_text(json.dumps({"key": entry["key"], "simulate_s": s}))
            entry.update(simulate_s=s, cached=False)
    return info


# ---------------------------------------------------------------------------- the workflow
def write_sheet(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = ["scan_id", "sample", "pressure_mpa", "raw", "format", "composite_rows",
               "separator_rows", "roi_xy"]
    lines = ["\t".join(columns)]
    lines += ["\t".join(str(row.get(c, "")) for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_workflow(run_dir: Path, sheet: Path, overrides: dict[str, Any], *, cores: int) -> dict:
    """One Snakemake invocation over the sheet, to the metrics table; never raises."""
    results = run_dir / "results"
    snakemake = Path(sys.executable).with_name("snakemake")
    command = [str(snakemake if snakemake.exists() else shutil.which("snakemake") or "snakemake"),
               str(results / "tables" / "metrics.parquet"),
               "--snakefile", str(REPO / "Snakefile"), "--directory", str(run_dir),
               "--cores", str(cores), "--keep-going", "--rerun-incomplete",
               "--configfile", str(REPO / "config" / "config.yaml")]
    if overrides:
        extra = run_dir / "overrides.yaml"
        extra.write_text(yaml.safe_dump(overrides))
        command.append(str(extra))
    command += ["--config", f"samples={sheet}", f"results={results}"]
    log_path = run_dir / "snakemake.log"
    log.info("running the workflow: %s", " ".join(command))
    t0 = time.perf_counter()
    with log_path.open("w") as fh:
        rc = subprocess.run(command, check=False, cwd=run_dir, stdout=fh,
                            stderr=subprocess.STDOUT).returncode
    return {"returncode": rc, "seconds": time.perf_counter() - t0, "log": str(log_path),
            "command": command}


def read_metrics(results: Path) -> pd.DataFrame:
    """The metrics table, or the per-scan parts that exist when the aggregate was not built."""
    whole = results / "tables" / "metrics.parquet"
    if whole.is_file():
        return pd.read_parquet(whole)
    parts = sorted(results.glob("*/tables/metrics.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts]) if parts else pd.DataFrame()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def measured_layers(table: pd.DataFrame, scan_id: str) -> dict[str, dict[str, Any]]:
    if table.empty or "scan_id" not in table:
        return {}
    rows = table[table["scan_id"] == scan_id]
    return {str(r["layer"]): {k: _plain(v) for k, v in r.items()} for _, r in rows.iterrows()}


def _benchmark_s(path: Path) -> tuple[float, float]:
    df = pd.read_csv(path, sep="\t")
    return float(df["s"].sum()), float(df["max_rss"].max()) if "max_rss" in df else math.nan


def rule_times(results: Path, scan_id: str) -> dict[str, Any]:
    """Wall seconds and peak RSS (MB) of every rule's jobs for one scan, per layer and total."""
    per_layer: dict[str, dict[str, float]] = {layer: {} for layer in LAYERS}
    rss: dict[str, float] = {layer: 0.0 for layer in LAYERS}
    total = 0.0
    root = results / "benchmarks"
    for rule_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        files = [rule_dir / f"{scan_id}.tsv", *sorted((rule_dir / scan_id).glob("*.tsv"))]
        for f in files:
            if not f.is_file():
                continue
            s, mb = _benchmark_s(f)
            total += s
            if f.parent.name == scan_id and f.stem in per_layer:
                per_layer[f.stem][rule_dir.name] = s
                rss[f.stem] = max(rss[f.stem], mb if math.isfinite(mb) else 0.0)
    for times in per_layer.values():
        times["segment_plus_metrics_s"] = times.get("segment", 0.0) + times.get("metrics", 0.0)
    return {"per_layer_s": per_layer, "per_layer_max_rss_mb": rss, "scan_total_s": total}


def failure_tail(results: Path, scan_id: str, n_lines: int = 12) -> str | None:
    """The end of the first job log of this scan that reports an error."""
    logs = results / "logs"
    paths = [*logs.glob(f"*/{scan_id}.log"), *logs.glob(f"*/{scan_id}/*.log")]
    for path in sorted(paths):
        if path.is_file():
            text = path.read_text(errors="replace")
            if "Error" in text or "Traceback" in text:
                return f"{path.relative_to(results)}:\n" + "\n".join(text.splitlines()[-n_lines:])
    return None


# ---------------------------------------------------------------------------- truth side
def reference_metrics(labels: np.ndarray, voxel_size_um: float) -> dict[str, Any]:
    """Fractions, f_c and R of a label volume (the hard-label reference of the true labels)."""
    vf = volume_fractions(labels)
    out = {"porosity": vf["volume_fraction_void"], **vf}
    if vf["volume_fraction_am"] > 0:
        out["contact_area_fraction"] = contact_metrics(
            labels, voxel_size_um=voxel_size_um)["contact_area_fraction"]
        out["contact_anisotropy_R"] = directional_contact_fractions(labels)["contact_anisotropy_R"]
    return out


def label_scores(results: Path, scan_id: str, truth_labels: np.ndarray,
                 region: dict[str, tuple[list[int], list[int]]]) -> dict[str, Any]:
    """Dice per phase and layer of the pipeline's labels against the true labels of its crop."""
    out: dict[str, Any] = {}
    for layer in LAYERS:
        path = results / scan_id / "segment" / f"{layer}.h5"
        if not path.is_file():
            out[layer] = None
            continue
        with h5py.File(path, "r") as fh:
            labels = fh["labels"][...]
            z0, z1 = (int(v) for v in fh.attrs["z_rows"])
            y0, y1, x0, x1 = (int(v) for v in fh.attrs["roi_xy"])
        true = truth_labels[z0:z1, y0:y1, x0:x1]
        want_z, want_roi = region[layer]
        out[layer] = {
            **{f"dice_{name}": phase_dice(labels, true, v) for name, v in PHASES.items()},
            "crop_z_rows": [z0, z1], "crop_roi_xy": [y0, y1, x0, x1],
            "crop_matches_truth_region": [z0, z1] == list(want_z) and
                                         [y0, y1, x0, x1] == list(want_roi),
        }
    return out


def truth_tau(truth_labels: np.ndarray, z_rows, roi) -> float | None:
    (z0, z1), (y0, y1, x0, x1) = z_rows, roi
    tau = tortuosity_factor(truth_labels[z0:z1, y0:y1, x0:x1])["tau_factor"]
    return float(tau) if math.isfinite(tau) else None


#: voxels of truth around the composite crop for the blur reference (>= 3 σ up to 2 voxels)
BLUR_MARGIN_PX = 6


def blur_scores(results: Path, scan_id: str, truth_h5: Path, mu_cm: dict[str, float],
                ) -> dict[str, Any] | None:
    """The scan's recorded blur against the blur its composite crop really has.

    Reference: :func:`effective_blur_sigma_px` of the crop against the truth's voxel-averaged
    attenuation. Measured: ``blur_sigma_px`` of the calibration record (the sample's edge
    against air, or AM edges) and its standard error.
    """
    cal_path = results / scan_id / "calibration.json"
    crop_path = results / scan_id / "crop" / "composite.h5"
    if not (cal_path.is_file() and crop_path.is_file()):
        return None
    cal = json.loads(cal_path.read_text())
    with h5py.File(crop_path, "r") as fh:
        recon = fh["volume"][...]
        z0, z1 = (int(v) for v in fh.attrs["z_rows"])
        y0, y1, x0, x1 = (int(v) for v in fh.attrs["roi_xy"])
    m = BLUR_MARGIN_PX
    with h5py.File(truth_h5, "r") as fh:
        shape = fh["am_fraction"].shape
        # the part of the crop with m voxels of truth around it (the composite ends at the
        # last detector row: its lowest planes are left out)
        lo = [max(a, m) for a in (z0, y0, x0)]
        hi = [min(b, n - m) for b, n in zip((z1, y1, x1), shape)]
        if any(h - lo_ < 8 for lo_, h in zip(lo, hi)):
            return None
        window = tuple(slice(a - m, b + m) for a, b in zip(lo, hi))
        sharp = (mu_cm["am"] * fh["am_fraction"][window].astype(np.float64)
                 + mu_cm["se"] * fh["se_fraction"][window])
    part = tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, (z0, y0, x0)))
    ref = effective_blur_sigma_px(recon[part], sharp, margin_px=m)
    fit = cal.get("edge_fit") or {}
    stderr = fit.get("sigma_stderr_px")
    error = cal["blur_sigma_px"] - ref["sigma_px"]
    return {"reference_px": ref["sigma_px"], "reference_residual_rms": ref["residual_rms"],
            "measured_px": cal["blur_sigma_px"], "measured_stderr_px": stderr,
            "method": cal.get("blur_method"), "error_px": error,
            "error_over_uncertainty": (error / stderr if stderr and stderr > 0
                                       and math.isfinite(stderr) else None)}


def score_scan(measured: dict, truth: dict, *, results: Path, scan_id: str,
               truth_labels: np.ndarray, region: dict, voxel_size_um: float) -> dict[str, Any]:
    z, roi = region["composite"]
    truth["composite"]["tau_factor"] = truth_tau(truth_labels, z, roi)
    reference = {}
    for layer in LAYERS:
        (z0, z1), (y0, y1, x0, x1) = region[layer]
        reference[layer] = reference_metrics(truth_labels[z0:z1, y0:y1, x0:x1], voxel_size_um)
    scores = score_layers(measured, truth)
    scored = [s for s in scores.values() if s["passed"] is not None]
    return {
        "status": "ok" if measured else "failed",
        "errors": scores,
        "passed_all": bool(measured) and all(s["passed"] for s in scored),
        "labels": label_scores(results, scan_id, truth_labels, region),
        "truth": {layer: {k: v for k, v in truth[layer].items()} for layer in LAYERS},
        "reference_true_majority_labels": reference,
        "measured": {layer: {k: measured[layer].get(k) for k in _REPORTED}
                     for layer in measured},
    }


_REPORTED = ("porosity", "volume_fraction_void", "volume_fraction_se", "volume_fraction_am",
             "contact_area_fraction", "contact_fraction_xy", "contact_fraction_z",
             "contact_anisotropy_R", "tau_factor", "z_start_row", "z_stop_row",
             "threshold_low_per_cm", "threshold_high_per_cm", "segmentation_method",
             "contact_gap_resolution_um", "contact_film_resolution_um")


def trends(records: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    """Pressure trends between consecutive pressures of every group of scanned records."""
    by_target = {t.name: t for t in TARGETS}
    out = []
    keyed = sorted((r for r in records if r["status"] == "ok"), key=lambda r: r["pressure_mpa"])
    for name in sorted({r[group] for r in keyed}):
        members = [r for r in keyed if r[group] == name]
        for lo, hi in itertools.pairwise(members):
            if lo["pressure_mpa"] == hi["pressure_mpa"]:
                continue
            out.append({
                group: name, "low": lo["scan_id"], "high": hi["scan_id"],
                "pressures_mpa": [lo["pressure_mpa"], hi["pressure_mpa"]],
                "quantities": {q: pressure_trend(by_target[q], lo["errors"][q], hi["errors"][q])
                               for q in TREND_QUANTITIES},
            })
    return out


def summary(records: list[dict[str, Any]], trend_list: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in records if r["status"] == "ok"]
    trend_summary = {}
    for q in TREND_QUANTITIES:
        done = [t["quantities"][q] for t in trend_list if t["quantities"][q]["passed"] is not None]
        trend_summary[q] = {"n_pairs": len(done), "n_passed": sum(t["passed"] for t in done),
                            "n_sign_agrees": sum(t["sign_agrees"] for t in done)}
    return {
        "n_scans": len(records), "n_ok": len(ok),
        "n_passing_all_targets": sum(r["passed_all"] for r in ok),
        "targets": summarize_scores([r["errors"] for r in ok]),
        "trends": trend_summary,
        "blur": blur_summary(ok),
        "contact_probe": contact_probe_summary(ok),
    }


def contact_probe_summary(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The contact probe's resolutions, and whether they explain the f_c errors.

    For morphologies with gaps of known thickness at the AM surface (``equator_shell_um``),
    `n_gaps_below_resolution` counts the cells whose probe says those gaps read as contact, and
    `n_fc_over_read` the cells whose f_c reads more than its target too high.
    """
    rows = [(r, r["measured"].get("composite", {})) for r in records]
    rows = [(r, m) for r, m in rows if m.get("contact_gap_resolution_um") is not None
            or m.get("contact_film_resolution_um") is not None]
    if not rows:
        return None
    out: dict[str, Any] = {"n_scored": len(rows)}
    for kind in ("gap", "film"):
        v = [m.get(f"contact_{kind}_resolution_um") for _, m in rows]
        done = np.array([x for x in v if x is not None], float)
        out[f"{kind}_resolution_um"] = {
            "min": float(done.min()) if done.size else None,
            "median": float(np.median(done)) if done.size else None,
            "max": float(done.max()) if done.size else None,
            "n_unresolved": sum(x is None for x in v)}
    shelled = [(r, m) for r, m in rows if (r.get("morphology_params") or {}).get("equator_shell_um")]
    if shelled:
        fc = [r["errors"]["composite_contact_area_fraction"] for r, _ in shelled]
        out["gaps_of_known_thickness"] = {
            "n_cells": len(shelled),
            "n_gaps_below_resolution": sum(
                m.get("contact_gap_resolution_um") is None
                or m["contact_gap_resolution_um"] > r["morphology_params"]["equator_shell_um"]
                for r, m in shelled),
            "n_fc_over_read": sum(e["error"] is not None and e["error"] > e["tolerance"]
                                  for e in fc)}
    return out


def blur_summary(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """How far the recorded blur is from the crop's, and whether its standard error covers it."""
    scored = [r["blur"] for r in records if r.get("blur")]
    if not scored:
        return None
    err = np.array([b["error_px"] for b in scored])
    ratio = np.array([abs(b["error_over_uncertainty"]) for b in scored
                      if b["error_over_uncertainty"] is not None])
    return {"n_scored": len(scored), "mean_error_px": float(err.mean()),
            "median_abs_error_px": float(np.median(np.abs(err))),
            "max_abs_error_px": float(np.abs(err).max()),
            "n_within_0p1_px": int(np.sum(np.abs(err) <= 0.1)),
            "n_within_2_stderr": int(np.sum(ratio <= 2)), "n_with_stderr": int(ratio.size)}


def _machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(), "load_average": list(os.getloadavg())}


# ---------------------------------------------------------------------------- two modes
def run_matrix(args: argparse.Namespace, cells: list[Cell]) -> dict[str, Any]:
    t0 = time.perf_counter()
    scans = ensure_scans(cells, args.work / "scans", jobs=args.sim_jobs)
    t_sim = time.perf_counter() - t0
    run_dir = args.work / f"{'quick' if args.quick else 'matrix'}-{args.seed_set}-{args.size}"
    results = run_dir / "results"
    if results.exists() and not args.keep_results:
        shutil.rmtree(results)
    run_dir.mkdir(parents=True, exist_ok=True)
    truth_docs = {c.cell_id: json.loads(truth_paths(scans[c.cell_id]["raw"])[0].read_text())
                  for c in cells}
    truths = {cell_id: tomopress_truth(doc) for cell_id, doc in truth_docs.items()}
    rows = []
    for c in cells:
        t = truths[c.cell_id]
        y0, y1, x0, x1 = t["composite"]["roi_xy"]
        rows.append({"scan_id": c.cell_id, "sample": c.series,
                     "pressure_mpa": f"{c.pressure_mpa:g}",
                     "raw": scans[c.cell_id]["raw"], "format": "dxchange",
                     "composite_rows": "{}:{}".format(*t["composite"]["z_rows"]),
                     "separator_rows": "{}:{}".format(*t["separator"]["z_rows"]),
                     "roi_xy": f"{y0}:{y1},{x0}:{x1}"})
    sheet = write_sheet(run_dir / "samples.tsv", rows)
    wf = run_workflow(run_dir, sheet, {}, cores=args.cores)
    t1 = time.perf_counter()
    table = read_metrics(results)
    records = []
    for c in cells:
        truth = truths[c.cell_id]
        p = scans[c.cell_id]["params"]
        truth_h5 = truth_paths(scans[c.cell_id]["raw"])[1]
        with h5py.File(truth_h5, "r") as fh:
            truth_labels = fh["labels"][...]
        region = {layer: (truth[layer]["z_rows"], truth[layer]["roi_xy"]) for layer in LAYERS}
        measured = measured_layers(table, c.cell_id)
        rec = {
            "scan_id": c.cell_id, "series": c.series, "seed_set": c.seed_set,
            "pressure_mpa": c.pressure_mpa, "morphology": c.morphology,
            "morphology_params": ALL_MORPHOLOGIES[c.morphology], "size": c.size,
            "detector_rows_cols": [p.n_rows, p.n_cols], "n_angles": p.n_angles,
            "fine_factor": p.fine_factor,
            "acquisition": {"blur_sigma_px": p.blur_sigma_px, "i0_counts": p.i0_counts,
                            "ring_gain_error": p.ring_gain_error,
                            "n_ring_columns": p.n_ring_columns, "drift_total": p.drift_total},
            "microstructure_seed": p.microstructure_seed, "noise_seed": c.noise_seed,
            "simulate_s": scans[c.cell_id]["simulate_s"],
            "simulation_cached": scans[c.cell_id]["cached"],
            **score_scan(measured, truth, results=results, scan_id=c.cell_id,
                         truth_labels=truth_labels, region=region,
                         voxel_size_um=p.pixel_size_um),
            "blur": blur_scores(results, c.cell_id, truth_h5, truth_docs[c.cell_id]["mu_cm"]),
            "time": rule_times(results, c.cell_id),
        }
        if rec["status"] != "ok":
            rec["failure"] = failure_tail(results, c.cell_id)
        records.append(rec)
    trend_list = trends(records, "series")
    return {
        "mode": "quick" if args.quick else "matrix", "seed_set": args.seed_set,
        "seed_sets": "fit: every seed even; report: every seed odd (disjoint); microstructure "
                     "seeds < 2e6 (one per morphology), noise seeds >= 1e7 (one per scan)",
        "machine": _machine(), "targets": [dataclasses.asdict(t) for t in TARGETS],
        "seconds": {"simulation": t_sim, "workflow": wf["seconds"],
                    "scoring": time.perf_counter() - t1, "total": time.perf_counter() - t0},
        "workflow_returncode": wf["returncode"], "workflow_log": wf["log"],
        "summary": summary(records, trend_list), "trends": trend_list, "cells": records,
    }


def run_independent(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    folder = args.independent_dir
    if not folder.is_dir():
        raise SystemExit(f"{folder} is absent: the independent phantoms live in ../shared/data")
    side = INDEPENDENT_CONFIG["crop"]["roi_size_px"]
    realistic_config = {k: v for k, v in yaml.safe_load(REALISTIC_CONFIG_FILE.read_text()).items()
                        if k not in ("samples", "results")}
    truth_json, groups = {}, {}
    for scan in args.scans:
        t = json.loads((folder / f"{scan}.truth.json").read_text())
        truth_json[scan] = t
        kind = "realistic" if "realistic_cell" in t["acquisition"] else "plain"
        groups.setdefault(kind, []).append(
            {"scan_id": scan, "pressure_mpa": f"{t['pressure_mpa']:g}",
             "sample": f"independent_{kind}", "raw": folder / f"{scan}.h5", "format": "dxchange",
             **{f"{layer}_rows": "{}:{}".format(*t["layers"][layer]["interior_z_range"])
                for layer in LAYERS}})
    wf_seconds, wf_runs, tables, results_of = 0.0, {}, [], {}
    for kind, rows in groups.items():
        run_dir = args.work / "independent" / kind
        results = run_dir / "results"
        if results.exists() and not args.keep_results:
            shutil.rmtree(results)
        run_dir.mkdir(parents=True, exist_ok=True)
        sheet = write_sheet(run_dir / "samples.tsv", rows)
        overrides = realistic_config if kind == "realistic" else INDEPENDENT_CONFIG
        wf = run_workflow(run_dir, sheet, overrides, cores=args.cores)
        wf_seconds += wf["seconds"]
        wf_runs[kind] = {"returncode": wf["returncode"], "log": wf["log"],
                         "config_overrides": overrides}
        tables.append(read_metrics(results))
        results_of.update({row["scan_id"]: results for row in rows})
    t1 = time.perf_counter()
    table = pd.concat(tables, ignore_index=True)
    records = []
    for row in [row for rows in groups.values() for row in rows]:
        scan, t = row["scan_id"], truth_json[row["scan_id"]]
        results = results_of[scan]
        truth = independent_truth(t)
        with h5py.File(folder / f"{scan}.labels.h5", "r") as fh:
            truth_labels = fh["labels"][...]
        roi = list(centred_roi(truth_labels.shape[1:], side))
        region = {layer: (truth[layer]["z_rows"], roi) for layer in LAYERS}
        measured = measured_layers(table, scan)
        acq = t["acquisition"]
        rec = {
            "scan_id": scan, "sample": row["sample"], "pressure_mpa": float(t["pressure_mpa"]),
            "volume_shape_zyx": t["volume_shape_zyx"], "n_angles": t["n_angles"],
            "acquisition": {"blur_sigma_px": acq["detector_blur_sigma_px"], "i0_counts": acq["I0"],
                            "ring_columns": acq["ring_columns"], "drift_total": acq["drift_total"],
                            "realistic_cell": "realistic_cell" in acq},
            "truth_grid": "fine_grid (0.125 um, whole layer inside the cylinder)",
            **score_scan(measured, truth, results=results, scan_id=scan,
                         truth_labels=truth_labels, region=region,
                         voxel_size_um=float(t["voxel_size_um"])),
            "time": rule_times(results, scan),
        }
        if scan in NOTES:
            rec["note"] = NOTES[scan]
        if rec["status"] != "ok":
            rec["failure"] = failure_tail(results, scan)
        records.append(rec)
    trend_list = trends([r for r in records if not r["acquisition"]["realistic_cell"]], "sample")
    return {
        "mode": "independent", "config_overrides": INDEPENDENT_CONFIG,
        "workflow_runs": wf_runs,
        "trend_note": "the plain scans are different cells (generator seeds 401, 402): their "
                      "trend is the structure model's, not one cell's",
        "machine": _machine(), "targets": [dataclasses.asdict(t) for t in TARGETS],
        "seconds": {"workflow": wf_seconds, "scoring": time.perf_counter() - t1,
                    "total": time.perf_counter() - t0},
        "summary": summary(records, trend_list), "trends": trend_list, "cells": records,
    }


# ----------------------------------------------------------------------------- reporting
def print_table(result: dict[str, Any]) -> None:
    cols = [t.name for t in TARGETS]
    short = {"composite_porosity": "phi_c", "separator_porosity": "phi_s",
             "composite_volume_fraction_se": "SE", "composite_volume_fraction_am": "AM",
             "composite_contact_area_fraction": "f_c", "composite_contact_anisotropy_R": "R",
             "composite_tau_factor": "tau%"}
    head = " ".join(f"{short[c]:>8s}" for c in cols)
    print(f"{'scan':48s} {head}  void Dice c/s   s/layer")
    for r in result["cells"]:
        if r["status"] != "ok":
            print(f"{r['scan_id']:48s} FAILED")
            continue
        cells = []
        for c in cols:
            e = r["errors"][c]
            if e["error"] is None:
                cells.append(f"{'-':>8s}")
                continue
            percent = e.get("error_points") is not None or e["relative"]
            v = 100 * e["error"] if percent else e["error"]
            cells.append(f"{v:+7.2f}{'' if e['passed'] else '!'}".rjust(8))
        lab = r["labels"]
        dice = "/".join(f"{lab[k]['dice_void']:.2f}" if lab.get(k) else "-" for k in LAYERS)
        t = r["time"]["per_layer_s"]
        secs = "/".join(f"{t[k]['segment_plus_metrics_s']:.0f}" for k in LAYERS)
        print(f"{r['scan_id']:48s} " + " ".join(cells) + f"  {dice:>13s}  {secs:>7s}")
    print("errors in points (R: absolute, tau: %); ! = misses the target")
    for t in result["trends"]:
        q = t["quantities"]
        print(f"trend {t['low']} -> {t['high']}: " + ", ".join(
            f"{k}: {v['measured_change']:+.3f} vs {v['true_change']:+.3f}"
            for k, v in q.items() if v["measured_change"] is not None))
    summ = result["summary"]
    print(f"{summ['n_ok']} of {summ['n_scans']} scans processed, "
          f"{summ['n_passing_all_targets']} meet every target")
    for name, t in summ["targets"].items():
        if t["n_scored"]:
            scale = 100 if name in short and short[name] != "R" else 1
            bias = "-" if t["mean_error"] is None else f"{scale * t['mean_error']:+.2f}"
            worst = "-" if t["max_abs_error"] is None else f"{scale * t['max_abs_error']:.2f}"
            covered = (f"; {t['n_within_2_uncertainties']}/{t['n_with_uncertainty']} within 2 "
                       "uncertainties" if t.get("n_with_uncertainty") else "")
            print(f"  {name:34s} {t['n_passed']}/{t['n_scored']} within "
                  f"±{scale * t['tolerance']:g}; bias {bias}, worst {worst}{covered}")
    for name, t in summ["trends"].items():
        print(f"  trend {name:28s} {t['n_passed']}/{t['n_pairs']} pairs keep sign and size "
              f"({t['n_sign_agrees']} keep the sign)")
    blur = summ.get("blur")
    if blur:
        print(f"  blur (recorded - crop's own, px): bias {blur['mean_error_px']:+.2f}, median "
              f"|error| {blur['median_abs_error_px']:.2f}, worst {blur['max_abs_error_px']:.2f}; "
              f"{blur['n_within_0p1_px']}/{blur['n_scored']} within 0.1 px, "
              f"{blur['n_within_2_stderr']}/{blur['n_with_stderr']} within 2 standard errors")
    probe = summ.get("contact_probe")
    if probe:
        span = {k: probe[f"{k}_resolution_um"] for k in ("gap", "film")}
        print("  contact probe (µm): " + "; ".join(
            f"{k} resolution {v['min']:.2f}-{v['max']:.2f} (median {v['median']:.2f}), "
            f"{v['n_unresolved']} unresolved" if v["median"] is not None
            else f"{k} unresolved in {v['n_unresolved']}"
            for k, v in span.items()))
        known = probe.get("gaps_of_known_thickness")
        if known:
            print(f"  gaps of known thickness: below the probe's resolution in "
                  f"{known['n_gaps_below_resolution']}/{known['n_cells']} cells; f_c over-read "
                  f"beyond its target in {known['n_fc_over_read']}/{known['n_cells']}")
    print(f"seconds: {json.dumps(result['seconds'])}")


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed-set", choices=sorted(SEED_PARITY), default="report")
    ap.add_argument("--quick", action="store_true", help="2 scans: one series at 2 pressures")
    ap.add_argument("--cells", default="", help="comma-separated patterns of scan ids (fnmatch)")
    ap.add_argument("--list", action="store_true", help="print the scan ids and exit")
    ap.add_argument("--size", choices=sorted(SIZES), default="demo")
    ap.add_argument("--blur", type=_floats, default=list(BLURS_PX))
    ap.add_argument("--i0", type=_floats, default=list(I0_COUNTS))
    ap.add_argument("--morphologies", type=lambda s: s.split(","), default=list(MORPHS))
    ap.add_argument("--pressures", type=_floats, default=list(PRESSURES_MPA))
    ap.add_argument("--fine-factor", type=int, default=4)
    ap.add_argument("--independent", action="store_true",
                    help="run the independent phantoms instead of the matrix")
    ap.add_argument("--scans", type=lambda s: s.split(","), default=list(INDEPENDENT_SCANS))
    ap.add_argument("--independent-dir", type=Path, default=INDEPENDENT_DIR)
    ap.add_argument("--work", type=Path, default=REPO / ".bench-fidelity")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--sim-jobs", type=int, default=2)
    ap.add_argument("--keep-results", action="store_true",
                    help="reuse the workflow's results of the last run (default: recompute)")
    args = ap.parse_args(argv)
    unknown = set(args.morphologies) - set(ALL_MORPHOLOGIES)
    if unknown:
        ap.error(f"unknown morphologies {sorted(unknown)}; choose from {sorted(ALL_MORPHOLOGIES)}")
    if args.out is None:
        name = "fidelity_independent" if args.independent else (
            "fidelity_quick" if args.quick else
            "fidelity" if args.size == "demo" else f"fidelity_{args.size}")
        args.out = RESULTS_DIR / f"{name}.json"
    args.work = args.work.resolve()
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.independent:
        result = run_independent(args)
    else:
        if args.quick:
            args.morphologies = [QUICK["morphology"]]
            args.blur, args.i0 = [QUICK["blur_sigma_px"]], [QUICK["i0_counts"]]
        cells = matrix_cells(seed_set=args.seed_set, morphologies=args.morphologies,
                             blurs=args.blur, i0s=args.i0, pressures=args.pressures,
                             size=args.size, fine_factor=args.fine_factor)
        if args.cells:
            patterns = args.cells.split(",")
            cells = [c for c in cells if any(fnmatch.fnmatch(c.cell_id, p) for p in patterns)]
        if args.list:
            print("\n".join(c.cell_id for c in cells))
            return {"cells": [c.cell_id for c in cells]}
        if not cells:
            raise SystemExit("no scan matches --cells")
        result = run_matrix(args, cells)
    result = _plain(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    print_table(result)
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
