"""A full-size scan through the workflow: wall time per stage, peak memory per job, peak disk.

A BL20XU scan is 1800 projections of 2048 x 2048 uint16 (15 GB). This benchmark

1. simulates the band of detector rows that holds the layers (default 128 rows: separator over
   composite, NCM spheres in LGPS with voids at 25 MPa, from
   :func:`tomopress.synthetic.microstructure.build_microstructure` on a 512-pixel cell whose
   inner square is mirror-tiled over a 0.92 mm cylinder), projects it at 1800 angles with the
   Fourier-slice projector (:mod:`tomopress.synthetic.fourier`), adds detector blur, per-column
   gain, four ring columns, a dead column, Poisson and read noise and zingers;
2. writes a DXchange file of the full size whose other rows repeat the band (contiguous
   layout, as ``dxchange.write_dxf`` and h5py write by default; flats and darks likewise);
3. runs the workflow with the default profile and the schema's real-scan defaults (64-row
   slabs, 1024 x 1024 crops, ring window 21) twice:

   - **band**: the sheet's ``recon_rows`` is the band; every stage through metrics and the
     scan's contact probe (target: 10 minutes, every job below 4 GB);
   - **full**: ``recon_rows`` is every row; flat-field, reconstruction and the volume
     (target: 30 minutes, every job below 8 GB);

4. reads Snakemake's ``benchmark:`` files (wall seconds and peak RSS of every job) and polls
   the results folder's size every second for the peak disk used by intermediates (the raw
   file excluded), and writes ``benchmarks/results/full_scan.json`` and a table.

It needs about 15 GB for the raw file plus 35 GB for the full reconstruction (float32 slabs)
in ``--work`` (default ``.bench-full/`` in the repository, git-ignored), and about 25 minutes on 2 cores.

    .venv/bin/python benchmarks/full_scan.py [--work DIR] [--skip-full] [--keep]
        [--n-angles 1800 --n-rows 2048 --n-cols 2048 --band-rows 128 --roi-px 1024]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import yaml

from tomopress.intake.config import validate_config
from tomopress.synthetic.beamtime import PIXEL_SIZE_PATH
from tomopress.synthetic.forward import blur_projections, detector_counts
from tomopress.synthetic.fourier import fourier_projections
from tomopress.synthetic.microstructure import build_microstructure
from tomopress.synthetic.params import SyntheticParams
from tomopress.types import AM, SE

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "full_scan.json"
SCAN_ID = "fullsize"
PIXEL_SIZE_UM = 0.5
#: attenuation at ~30 keV (cm⁻¹): a 0.92 mm composite then transmits ~20 %, as at the beamline
MU_AM_CM, MU_SE_CM = 30.0, 8.0
CELL_COLS = 512  #: side of the simulated cell whose inner square is tiled
PRESSURE_MPA = 25.0
I0_COUNTS, DARK_COUNTS, READ_NOISE = 40000.0, 100.0, 3.0
N_FLATS, N_DARKS = 20, 10
TARGETS = {"band": {"minutes": 10.0, "job_rss_gb": 4.0},
           "full": {"minutes": 30.0, "job_rss_gb": 8.0}}


def band_attenuation(band_rows: int, n_cols: int, *, separator_rows: int) -> np.ndarray:
    """Attenuation per pixel length, (band_rows, n_cols, n_cols) float32, air outside."""
    cell = min(CELL_COLS, n_cols)
    inner = int(2 * np.floor(0.45 * cell / np.sqrt(2))) - 4
    params = SyntheticParams(n_rows=band_rows, n_cols=cell, fine_factor=1,
                             separator_rows=separator_rows, roi_size_px=inner)
    labels = build_microstructure(params, PRESSURE_MPA).labels
    lo = (cell - inner) // 2
    square = labels[:, lo : lo + inner, lo : lo + inner]
    lut = np.zeros(256, dtype=np.float32)
    lut[AM], lut[SE] = MU_AM_CM * PIXEL_SIZE_UM * 1e-4, MU_SE_CM * PIXEL_SIZE_UM * 1e-4
    before = (n_cols - inner) // 2
    tiled = np.pad(square, ((0, 0), (before, n_cols - inner - before),
                            (before, n_cols - inner - before)), mode="symmetric")
    mu = lut[tiled]
    yy, xx = np.ogrid[:n_cols, :n_cols]
    centre = (n_cols - 1) / 2
    mu[:, np.hypot(yy - centre, xx - centre) > 0.45 * n_cols] = 0.0
    return mu


def simulate_band(n_angles: int, band_rows: int, n_cols: int, *, seed: int = 0) -> dict:
    """Counts of the band, flats and darks of one detector row block, and the geometry."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    mu = band_attenuation(band_rows, n_cols, separator_rows=max(8, band_rows // 4))
    center_px = (n_cols - 1) / 2 + 3.4
    theta_deg = np.arange(n_angles) * (180.0 / n_angles)
    t1 = time.perf_counter()
    trans = fourier_projections(mu, np.deg2rad(theta_deg), center_px=center_px,
                                n_threads=os.cpu_count() or 1)
    del mu
    t2 = time.perf_counter()
    np.negative(trans, out=trans)
    np.exp(trans, out=trans)
    blur_projections(trans, 0.6)
    u = (np.arange(n_cols) - (n_cols - 1) / 2) / (n_cols / 2)
    gain = (1 - 0.15 * u**2) * np.clip(1 + 0.05 * rng.standard_normal(n_cols), 0.5, 1.5)
    shadow = np.flatnonzero(np.abs(np.arange(n_cols) - center_px) < 0.38 * n_cols)
    picked = rng.choice(shadow, size=5, replace=False)
    gain_proj = gain.copy()
    gain_proj[picked[:4]] *= 1 + 0.03 * rng.choice([-1, 1], size=4)
    gain[picked[4]] = gain_proj[picked[4]] = 0.0  # a dead column
    dark = DARK_COUNTS * (1 + 0.02 * rng.standard_normal(n_cols))
    kw = {"i0_counts": I0_COUNTS, "dark": dark, "read_noise_counts": READ_NOISE, "rng": rng}
    data = detector_counts(trans, gain=gain_proj, **kw)
    del trans
    for a, r, c in zip(rng.integers(0, n_angles, 50), rng.integers(0, band_rows, 50),
                       rng.integers(0, n_cols, 50)):
        data[a, r, c] = 65000
    flats = detector_counts(np.ones((N_FLATS, band_rows, n_cols), np.float32), gain=gain, **kw)
    darks = detector_counts(np.zeros((N_DARKS, band_rows, n_cols), np.float32), gain=gain, **kw)
    return {"data": data, "flats": flats, "darks": darks, "theta_deg": theta_deg,
            "center_px": center_px, "seconds": {"microstructure": t1 - t0,
                                                "projection": t2 - t1,
                                                "detector": time.perf_counter() - t2}}


def write_full_scan(path: Path, band: dict, *, n_rows: int, band_start: int) -> None:
    """Write a DXchange file of `n_rows` detector rows; row r holds band row (r - start) mod."""
    n_angles, band_rows, n_cols = band["data"].shape
    tmp = path.with_suffix(".tmp.h5")
    with h5py.File(tmp, "w") as f:
        ex = f.create_group("exchange")
        for name, block in (("data", band["data"]), ("data_white", band["flats"]),
                            ("data_dark", band["darks"])):
            ds = ex.create_dataset(name, shape=(block.shape[0], n_rows, n_cols), dtype=np.uint16)
            ds.attrs["axes"] = "theta:y:x"
            for r0 in range(0, n_rows, band_rows):
                r1 = min(r0 + band_rows, n_rows)
                ds[:, r0:r1, :] = block[:, (np.arange(r0, r1) - band_start) % band_rows, :]
        theta = ex.create_dataset("theta", data=band["theta_deg"])
        theta.attrs["units"] = "degrees"
        res = f.create_dataset(PIXEL_SIZE_PATH, data=PIXEL_SIZE_UM)
        res.attrs["units"] = "um"
    tmp.rename(path)


class DiskPoller(threading.Thread):
    """Largest total size of the files under a folder, and of its ``flatfield`` folders (the
    temp float32 sinograms), polled every `interval_s`."""

    def __init__(self, folder: Path, interval_s: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.folder, self.interval_s = folder, interval_s
        self.peak_bytes = self.peak_sinogram_bytes = 0
        self._halt = threading.Event()

    def poll(self) -> None:
        total = sinograms = 0
        for root, _, files in os.walk(self.folder):
            for name in files:
                try:
                    size = os.stat(os.path.join(root, name)).st_size
                except FileNotFoundError:  # a temp file removed while we walked
                    continue
                total += size
                if os.path.basename(root) == "flatfield":
                    sinograms += size
        self.peak_bytes = max(self.peak_bytes, total)
        self.peak_sinogram_bytes = max(self.peak_sinogram_bytes, sinograms)

    def run(self) -> None:
        while not self._halt.is_set():
            self.poll()
            self._halt.wait(self.interval_s)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.poll()


def run_workflow(work: Path, name: str, raw: Path, recon_rows: str, targets: list[str], *,
                 roi_px: int) -> dict:
    """One workflow run on its own results folder; wall time, peak disk, per-job records."""
    results = work / f"results_{name}"
    shutil.rmtree(results, ignore_errors=True)
    sheet = work / f"samples_{name}.tsv"
    sheet.write_text("scan_id\tsample\tpressure_mpa\traw\tformat\trecon_rows\n"
                     f"{SCAN_ID}\tbenchmark_cell\t{PRESSURE_MPA:g}\t{raw}\tdxchange\t{recon_rows}\n")
    config = validate_config({"samples": str(sheet), "results": str(results),
                              "synthetic": {"raw_dir": str(work / "synthetic")},
                              "crop": {"roi_size_px": roi_px}})
    config_path = work / f"config_{name}.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=True))
    cmd = [sys.executable, "-m", "snakemake", "--workflow-profile", "profiles/default",
           "--configfile", str(config_path), "--cores", str(os.cpu_count() or 1),
           *[str(results / t) for t in targets]]
    results.mkdir(parents=True)
    poller = DiskPoller(results)
    poller.start()
    t0 = time.perf_counter()
    log_path = work / f"snakemake_{name}.log"
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    poller.stop()
    if proc.returncode != 0:
        raise SystemExit(f"snakemake failed ({name}); see {log_path}")
    return {"wall_s": wall, "peak_disk_bytes": poller.peak_bytes,
            "peak_temp_sinogram_bytes": poller.peak_sinogram_bytes,
            "final_disk_bytes": sum(
                p.stat().st_size for p in results.rglob("*") if p.is_file()),
            "jobs": benchmark_records(results)}


def benchmark_records(results: Path) -> list[dict]:
    """One record per job from ``{results}/benchmarks/<rule>/**.tsv``."""
    jobs = []
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        rule = tsv.relative_to(results / "benchmarks").parts[0]
        with open(tsv) as fh:
            row = next(csv.DictReader(fh, delimiter="\t"))
        rss = row.get("max_rss", "NA")
        jobs.append({"rule": rule, "job": str(tsv.relative_to(results / "benchmarks")),
                     "seconds": float(row["s"]),
                     "max_rss_gb": float(rss) / 1024 if rss not in ("NA", "-", "") else None})
    return jobs


def stage_table(jobs: list[dict]) -> list[dict]:
    """Per rule: jobs, summed and longest job seconds, largest peak RSS."""
    stages: dict[str, dict] = {}
    for job in jobs:
        s = stages.setdefault(job["rule"], {"rule": job["rule"], "jobs": 0, "job_seconds": 0.0,
                                             "longest_job_s": 0.0, "max_rss_gb": 0.0})
        s["jobs"] += 1
        s["job_seconds"] += job["seconds"]
        s["longest_job_s"] = max(s["longest_job_s"], job["seconds"])
        s["max_rss_gb"] = max(s["max_rss_gb"], job["max_rss_gb"] or 0.0)
    return list(stages.values())


def print_table(title: str, run: dict, target: dict) -> None:
    print(f"\n{title}: {run['wall_s'] / 60:.1f} min wall (target {target['minutes']:g}), "
          f"results folder peak {run['peak_disk_bytes'] / 1e9:.1f} GB, of which temp "
          f"sinograms {run['peak_temp_sinogram_bytes'] / 1e9:.1f} GB; "
          f"{run['final_disk_bytes'] / 1e9:.1f} GB at the end")
    print(f"{'rule':<22}{'jobs':>5}{'sum s':>9}{'longest s':>11}{'max RSS GB':>12}")
    for s in run["stages"]:
        print(f"{s['rule']:<22}{s['jobs']:>5}{s['job_seconds']:>9.1f}{s['longest_job_s']:>11.1f}"
              f"{s['max_rss_gb']:>12.2f}")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=REPO / ".bench-full")
    ap.add_argument("--n-angles", type=int, default=1800)
    ap.add_argument("--n-rows", type=int, default=2048)
    ap.add_argument("--n-cols", type=int, default=2048)
    ap.add_argument("--band-rows", type=int, default=128)
    ap.add_argument("--roi-px", type=int, default=1024, help="crop side (the paper's 1024)")
    ap.add_argument("--skip-full", action="store_true", help="only the band run")
    ap.add_argument("--keep", action="store_true", help="keep the raw file and results")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    raw = work / f"{SCAN_ID}.h5"
    band_start = (args.n_rows - args.band_rows) // 2
    report: dict = {"cpu_count": os.cpu_count(), "machine": platform.platform(),
                    "python": platform.python_version(),
                    "shape": [args.n_angles, args.n_rows, args.n_cols],
                    "band_rows": [band_start, band_start + args.band_rows]}
    t0 = time.perf_counter()
    band = simulate_band(args.n_angles, args.band_rows, args.n_cols)
    report["simulate_seconds"] = band.pop("seconds")
    t1 = time.perf_counter()
    write_full_scan(raw, band, n_rows=args.n_rows, band_start=band_start)
    del band
    report["write_seconds"] = time.perf_counter() - t1
    report["raw_gb"] = raw.stat().st_size / 1e9
    print(f"wrote {raw} ({report['raw_gb']:.1f} GB) in {time.perf_counter() - t0:.0f} s",
          flush=True)

    runs = {"band": (f"{band_start}:{band_start + args.band_rows}",
                     [f"{SCAN_ID}/metrics/composite.json", f"{SCAN_ID}/metrics/separator.json",
                      f"{SCAN_ID}/segment/contact_probe.json"])}
    if not args.skip_full:
        runs["full"] = (f"0:{args.n_rows}", [f"{SCAN_ID}/volume.h5"])
    for name, (rows, targets) in runs.items():
        run = run_workflow(work, name, raw, rows, targets, roi_px=args.roi_px)
        run["stages"] = stage_table(run["jobs"])
        print_table(name, run, TARGETS[name])
        report[name] = run
        if not args.keep:
            shutil.rmtree(work / f"results_{name}", ignore_errors=True)
    if not args.keep:
        raw.unlink()

    band_run = report["band"]
    summary = {
        "band_minutes": band_run["wall_s"] / 60,
        "band_max_rss_gb": max(j["max_rss_gb"] or 0.0 for j in band_run["jobs"]),
        "peak_intermediate_disk_gb": max(r["peak_disk_bytes"] for r in
                                         (report[n] for n in runs)) / 1e9,
        "peak_temp_sinogram_disk_gb": max(r["peak_temp_sinogram_bytes"] for r in
                                          (report[n] for n in runs)) / 1e9,
        "cpu_count": os.cpu_count(),
    }
    if "full" in report:
        summary["full_recon_minutes"] = report["full"]["wall_s"] / 60
        summary["full_max_rss_gb"] = max(j["max_rss_gb"] or 0.0 for j in report["full"]["jobs"])
    summary["targets"] = TARGETS
    report = {**summary, **report}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return report


if __name__ == "__main__":
    main()
