"""Peak memory and time of the slab jobs that reconstruct one band of detector rows.

A full BL20XU scan is 1800 x 2048 x 2048 uint16 (15 GB); the workflow never loads it, but
flat-fields and reconstructs it a slab of ``slab_rows`` detector rows at a time, one cluster
job per slab.  This benchmark writes the band of rows such jobs touch (default
1800 x 128 x 2048 uint16, about 0.9 GB, chunked (1800, 8, 2048) by rows) as a DXchange HDF5
scan in a scratch folder, then runs the library path of each slab job exactly as the workflow's
scripts do, each step in its own Python subprocess:

1. ``tomopress.prep.flatfield.flatfield_slab_file(...)`` (rule ``flatfield``), then
2. ``tomopress.recon.reconstruct.reconstruct_slab_file(..., backend="gridding",
   filter_name="ramp", n_threads=2)`` (rule ``reconstruct``),

and records each subprocess's peak resident set size (``os.wait4`` rusage ``ru_maxrss``, which
is per child, in KiB on Linux) and wall time.  A job's peak is the larger of its two steps
(they are separate rules, so never resident together).  Scratch files are deleted at the end.

Target: every job below 4 GB peak RSS.

Run: ``python benchmarks/band_memory.py [--n-angles 1800 --n-rows 128 --n-cols 2048
--slab-rows 64 --out benchmarks/results/band_memory.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from tomopress.synthetic import phantoms2d

PIXEL_SIZE_UM = 0.5
MU_CM = 40.0  #: attenuation of the phantom discs, cm⁻¹
FLAT_COUNTS = 20000.0
DARK_COUNTS = 100.0
TARGET_GB = 4.0
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "band_memory.json"

_FLATFIELD_CODE = """
import json, sys, time
from tomopress.prep.flatfield import flatfield_slab_file
raw, out, r0, r1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0 = time.perf_counter()
flatfield_slab_file(raw_path=raw, out_path=out, format="dxchange", reader_options={},
                    rows=(r0, r1), average="mean", min_transmission=1e-4, pixel_size_um=None)
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""

_RECONSTRUCT_CODE = """
import json, sys, time
from tomopress.recon.reconstruct import reconstruct_slab_file
sino, center, out, n_threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t0 = time.perf_counter()
reconstruct_slab_file(sino_path=sino, center_path=center, out_path=out, backend="gridding",
                      filter_name="ramp", n_threads=n_threads)
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def write_band_scan(path: Path, *, n_angles: int, n_rows: int, n_cols: int,
                    chunk_rows: int = 8, seed: int = 16602) -> float:
    """Write a DXchange scan of a few discs (uint16 counts); returns the rotation centre."""
    rng = np.random.default_rng(seed)
    center = (n_cols - 1) / 2.0 + 0.5
    angles = np.linspace(0.0, np.pi, n_angles, endpoint=False)
    mu_px = MU_CM * PIXEL_SIZE_UM * 1e-4
    objects = [phantoms2d.disc(mu_px, 0.0, 0.0, 0.4 * n_cols, smoothness=1.0),
               phantoms2d.disc(mu_px, 0.15 * n_cols, -0.1 * n_cols, 0.08 * n_cols),
               phantoms2d.disc(-0.5 * mu_px, -0.12 * n_cols, 0.05 * n_cols, 0.1 * n_cols)]
    line = phantoms2d.sinogram(objects, angles, n_cols=n_cols, center_px=center)  # (angles, cols)
    transmission = np.exp(-line).astype(np.float32)
    chunk_rows = min(chunk_rows, n_rows)
    with h5py.File(path, "w") as fh:
        data = fh.create_dataset("/exchange/data", shape=(n_angles, n_rows, n_cols),
                                 dtype=np.uint16, chunks=(n_angles, chunk_rows, n_cols))
        for r0 in range(0, n_rows, chunk_rows):
            r1 = min(r0 + chunk_rows, n_rows)
            # each row a slightly different intensity, so rows differ; Poisson-free for speed
            gain = (1.0 + 0.01 * rng.standard_normal(r1 - r0)).astype(np.float32)
            counts = (FLAT_COUNTS - DARK_COUNTS) * transmission[:, None, :] * gain[None, :, None]
            data[:, r0:r1, :] = np.rint(counts + DARK_COUNTS).astype(np.uint16)
        fh.create_dataset("/exchange/data_white",
                          data=np.full((4, n_rows, n_cols), FLAT_COUNTS, np.uint16),
                          chunks=(4, chunk_rows, n_cols))
        fh.create_dataset("/exchange/data_dark",
                          data=np.full((4, n_rows, n_cols), DARK_COUNTS, np.uint16),
                          chunks=(4, chunk_rows, n_cols))
        theta = fh.create_dataset("/exchange/theta", data=np.rad2deg(angles))
        theta.attrs["units"] = "degrees"
        res = fh.create_dataset(
            "/measurement/instrument/detection_system/objective/resolution", data=PIXEL_SIZE_UM)
        res.attrs["units"] = "um"
    return center


def _run_measured(code: str, args: list[str]) -> tuple[float, float, float]:
    """Run ``python -c code args`` and return (peak RSS GB, wall s, library s)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"slab step failed (exit {proc.returncode}):\n{err[-4000:]}")
    library_s = json.loads(out.strip().splitlines()[-1])["seconds"]
    return usage.ru_maxrss * 1024 / 1e9, wall, library_s  # ru_maxrss is KiB on Linux


def run_benchmark(*, n_angles: int, n_rows: int, n_cols: int, slab_rows: int, n_threads: int,
                  scratch: Path | None = None) -> dict:
    """Write the band, run every slab job in subprocesses, delete the scratch files."""
    tmp = Path(tempfile.mkdtemp(prefix="tomopress_band_", dir=scratch))
    try:
        raw = tmp / "band.h5"
        t0 = time.perf_counter()
        center = write_band_scan(raw, n_angles=n_angles, n_rows=n_rows, n_cols=n_cols)
        write_s = time.perf_counter() - t0
        raw_gb = raw.stat().st_size / 1e9
        print(f"wrote {raw} ({raw_gb:.2f} GB) in {write_s:.1f} s", flush=True)
        center_path = tmp / "center.json"
        center_path.write_text(json.dumps({"center_px": center}))
        jobs = []
        for r0 in range(0, n_rows, slab_rows):
            r1 = min(r0 + slab_rows, n_rows)
            sino, vol = tmp / f"sino_{r0}.h5", tmp / f"vol_{r0}.h5"
            ff_gb, ff_wall, ff_s = _run_measured(_FLATFIELD_CODE, [str(raw), str(sino),
                                                                   str(r0), str(r1)])
            rc_gb, rc_wall, rc_s = _run_measured(_RECONSTRUCT_CODE, [
                str(sino), str(center_path), str(vol), str(n_threads)])
            with h5py.File(vol, "r") as fh:
                shape = fh["volume"].shape
            if shape != (r1 - r0, n_cols, n_cols):
                raise RuntimeError(f"volume slab has shape {shape}")
            job = {"rows": [r0, r1],
                   "flatfield_peak_rss_gb": ff_gb, "flatfield_seconds": ff_wall,
                   "flatfield_library_seconds": ff_s,
                   "reconstruct_peak_rss_gb": rc_gb, "reconstruct_seconds": rc_wall,
                   "reconstruct_library_seconds": rc_s,
                   "job_peak_rss_gb": max(ff_gb, rc_gb), "job_seconds": ff_wall + rc_wall}
            jobs.append(job)
            print(f"  rows {r0}:{r1}: flatfield {ff_gb:.2f} GB {ff_wall:.1f} s, "
                  f"reconstruct {rc_gb:.2f} GB {rc_wall:.1f} s", flush=True)
            sino.unlink()
            vol.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    peak = max(j["job_peak_rss_gb"] for j in jobs)
    return {
        "cpu_count": os.cpu_count(),
        "n_angles": n_angles, "n_rows": n_rows, "n_columns": n_cols, "slab_rows": slab_rows,
        "n_threads": n_threads, "raw_band_gb": raw_gb, "raw_write_seconds": write_s,
        "jobs": jobs,
        "max_job_peak_rss_gb": peak,
        "total_seconds": sum(j["job_seconds"] for j in jobs),
        "target_gb": TARGET_GB,
        "meets_target": bool(peak < TARGET_GB),
    }


def format_table(result: dict) -> str:
    """Plain-text table of the jobs and the band total."""
    lines = [f"{'rows':>10s} {'flatfield GB':>13s} {'s':>7s} {'reconstruct GB':>15s} {'s':>7s} "
             f"{'job peak GB':>12s}", "-" * 70]
    for j in result["jobs"]:
        rows = f"{j['rows'][0]}:{j['rows'][1]}"
        lines.append(f"{rows:>10s} {j['flatfield_peak_rss_gb']:13.2f} {j['flatfield_seconds']:7.1f} "
                     f"{j['reconstruct_peak_rss_gb']:15.2f} {j['reconstruct_seconds']:7.1f} "
                     f"{j['job_peak_rss_gb']:12.2f}")
    lines.append(f"band of {result['n_rows']} rows: {result['total_seconds']:.1f} s in "
                 f"{len(result['jobs'])} jobs, max peak {result['max_job_peak_rss_gb']:.2f} GB "
                 f"(target < {result['target_gb']:.0f} GB: "
                 f"{'met' if result['meets_target'] else 'NOT met'})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the result written to ``--out``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-angles", type=int, default=1800)
    p.add_argument("--n-rows", type=int, default=128)
    p.add_argument("--n-cols", type=int, default=2048)
    p.add_argument("--slab-rows", type=int, default=64)
    p.add_argument("--n-threads", type=int, default=2)
    p.add_argument("--scratch", type=Path, default=None, help="folder for the scratch files")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    result = run_benchmark(n_angles=args.n_angles, n_rows=args.n_rows, n_cols=args.n_cols,
                           slab_rows=args.slab_rows, n_threads=args.n_threads,
                           scratch=args.scratch)
    print(format_table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
