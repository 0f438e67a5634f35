"""Run the real Snakefile in a scratch working directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def run_snakemake(workdir: Path, *args: str, config: dict[str, str] | None = None,
                  check: bool = True) -> subprocess.CompletedProcess:
    """``snakemake`` on the project's Snakefile and config, in `workdir`, with ``--config``."""
    if not SNAKEMAKE.exists():
        pytest.skip(f"snakemake is not installed beside {sys.executable}")
    command = [
        str(SNAKEMAKE), "--snakefile", str(PROJECT_ROOT / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(PROJECT_ROOT / "config" / "config.yaml"),
        "--cores", "2", *args,
    ]
    if config:
        command += ["--config", *(f"{k}={v}" for k, v in config.items())]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


def write_sheet(path: Path, rows: list[tuple[str, float, str]]) -> Path:
    """A sample sheet of (scan_id, pressure_mpa, raw) rows, format dxchange, one sample."""
    lines = ["scan_id\tsample\tpressure_mpa\traw\tformat"]
    lines += [f"{scan}\tcell\t{pressure:g}\t{raw}\tdxchange" for scan, pressure, raw in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def planned_jobs(dry_run_output: str) -> dict[str, int]:
    """Job counts per rule from the 'Job stats' table of a dry run."""
    counts: dict[str, int] = {}
    lines = dry_run_output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Job stats:"):
            for row in lines[i + 3 :]:
                parts = row.split()
                if len(parts) != 2 or not parts[1].isdigit():
                    break
                if parts[0] != "total":
                    counts[parts[0]] = int(parts[1])
            break
    return counts
