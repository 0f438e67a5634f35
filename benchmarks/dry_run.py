"""Dry-run time of a large beamtime: ``snakemake -n`` on a sheet of many (tiny) raw scans.

The dry run reads every raw header (no pixels), validates config and sheet and builds the
whole DAG; the target is at most 30 s for 500 scans on 2 cores (issue 7).

    .venv/bin/python benchmarks/dry_run.py [--n-scans 500] [--out benchmarks/results/dry_run.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def write_tiny_dxchange(path: Path, rng: np.random.Generator) -> None:
    """A valid DXchange header over tiny arrays: 16 angles over 180°, 4 x 16 detector."""
    with h5py.File(path, "w") as fh:
        fh["/exchange/data"] = rng.integers(1000, 2000, size=(16, 4, 16), dtype=np.uint16)
        fh["/exchange/data_white"] = np.full((2, 4, 16), 4000, dtype=np.uint16)
        fh["/exchange/data_dark"] = np.full((2, 4, 16), 100, dtype=np.uint16)
        theta = fh.create_dataset("/exchange/theta", data=np.linspace(0, 180, 16, endpoint=False))
        theta.attrs["units"] = "degrees"
        pixel = fh.create_dataset(
            "/measurement/instrument/detection_system/objective/resolution", data=0.5
        )
        pixel.attrs["units"] = "um"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-scans", type=int, default=500)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "dry_run.json"))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        lines = ["scan_id\tsample\tpressure_mpa\traw\tformat"]
        for i in range(args.n_scans):
            raw = work / "raw" / f"scan{i:04d}.h5"
            raw.parent.mkdir(exist_ok=True)
            write_tiny_dxchange(raw, rng)
            lines.append(f"s{i:04d}\tcell{i % 10}\t{5 + i % 96}\t{raw}\tdxchange")
        sheet = work / "samples.tsv"
        sheet.write_text("\n".join(lines) + "\n")
        command = [
            str(Path(sys.executable).with_name("snakemake")), "-n", "--quiet", "rules",
            "--snakefile", str(ROOT / "Snakefile"), "--directory", str(work),
            "--configfile", str(ROOT / "config" / "config.yaml"),
            "--config", f"samples={sheet}", "results=results",
        ]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=work)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"dry run failed:\n{done.stderr[-3000:]}")
    total = re.search(r"^total\s+(\d+)", done.stdout + done.stderr, re.MULTILINE)
    result = {
        "cpu_count": os.cpu_count(),
        "n_scans": args.n_scans,
        "n_jobs": int(total.group(1)) if total else None,
        "seconds": round(seconds, 2),
        "target_seconds": 30,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'scans':>6} {'jobs':>7} {'seconds':>8}\n{args.n_scans:>6} {result['n_jobs']!s:>7} {seconds:>8.1f}")
    return result


if __name__ == "__main__":
    main()
