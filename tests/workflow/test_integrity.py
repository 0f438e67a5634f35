"""Raw data are never changed, and a run killed with SIGKILL finishes correctly when rerun.

The raw scans are simulated once, outside the workflow's synthetic folder, so the workflow
treats them as real beamtime inputs (read-only, checksummed before and after).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from snakemake_runner import PROJECT_ROOT, SNAKEMAKE, run_snakemake, write_sheet

from tomopress.intake.integrity import sha256_file
from tomopress.synthetic.beamtime import simulate_scan

pytestmark = pytest.mark.workflow

PRESSURES_MPA = (6, 100)
KILL_WHEN = "results/*/recon/slab_*.h5"  # the first reconstructed slab exists: mid-run
#: provenance columns that differ between two correct runs (wall times, dates, hosts)
VOLATILE = re.compile(r"(utc|time|seconds|_s$|duration|runtime|host|benchmark|created|mtime)")


def _stable(table: pd.DataFrame) -> pd.DataFrame:
    """`table` without its run-dependent provenance columns."""
    return table.drop(columns=[c for c in table.columns if VOLATILE.search(c)])


@pytest.fixture(scope="module")
def beamtime(tmp_path_factory) -> dict[str, Path]:
    """Two demo scans in a read-only beamtime folder (not the synthetic one)."""
    folder = tmp_path_factory.mktemp("beamtime")
    raws = {}
    for pressure in PRESSURES_MPA:
        raw = folder / f"cell_{pressure:03d}mpa.h5"
        simulate_scan(raw, pressure_mpa=pressure, seed=16602 + pressure)
        raw.chmod(0o444)
        raws[f"p{pressure:03d}"] = raw
    return raws


def _sheet(workdir: Path, raws: dict[str, Path]) -> Path:
    rows = [(scan, float(scan[1:]), str(raw)) for scan, raw in raws.items()]
    return write_sheet(workdir / "samples.tsv", rows)


@pytest.fixture(scope="module")
def clean_run(beamtime, tmp_path_factory) -> tuple[Path, dict[str, str], dict[str, str]]:
    """An uninterrupted run, with the raw files' checksums before and after it."""
    workdir = tmp_path_factory.mktemp("clean")
    before = {scan: sha256_file(raw) for scan, raw in beamtime.items()}
    run_snakemake(workdir, config={"samples": str(_sheet(workdir, beamtime))})
    after = {scan: sha256_file(raw) for scan, raw in beamtime.items()}
    return workdir, before, after


def test_raw_files_are_bit_identical_after_a_run(beamtime, clean_run):
    workdir, before, after = clean_run
    assert after == before
    assert all(oct(raw.stat().st_mode & 0o777) == "0o444" for raw in beamtime.values())
    assert (workdir / "results" / "tables" / "metrics.parquet").is_file()
    assert not (workdir / "results" / "synthetic").exists()  # nothing simulated: real inputs
    assert not list((workdir / "results").rglob(".tmp-*"))


def test_run_killed_mid_write_and_rerun_gives_the_same_table(beamtime, clean_run, tmp_path):
    clean_dir, before, _ = clean_run
    sheet = _sheet(tmp_path, beamtime)
    command = [
        str(SNAKEMAKE), "--snakefile", str(PROJECT_ROOT / "Snakefile"), "--directory",
        str(tmp_path), "--configfile", str(PROJECT_ROOT / "config" / "config.yaml"),
        "--cores", "2", "--config", f"samples={sheet}",
    ]
    with open(tmp_path / "killed.log", "w") as log:
        proc = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while not list(tmp_path.glob(KILL_WHEN)) and proc.poll() is None:
                assert time.monotonic() < deadline, "no reconstructed slab after 120 s"
                time.sleep(0.05)
            assert proc.poll() is None, "the run finished before it could be killed"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # snakemake and every job it started
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "results" / "tables" / "metrics.parquet").exists()

    run_snakemake(tmp_path, "--unlock", config={"samples": str(sheet)})
    run_snakemake(tmp_path, "--rerun-incomplete", config={"samples": str(sheet)})

    killed = pd.read_parquet(tmp_path / "results" / "tables" / "metrics.parquet")
    clean = pd.read_parquet(clean_dir / "results" / "tables" / "metrics.parquet")
    assert list(killed.columns) == list(clean.columns) and len(killed) == 2 * len(beamtime)
    pd.testing.assert_frame_equal(_stable(killed), _stable(clean))
    assert not list((tmp_path / "results").rglob(".tmp-*"))
    assert {scan: sha256_file(raw) for scan, raw in beamtime.items()} == before
