"""The demo workflow on a real single-node SLURM (`--executor slurm`) equals a local run.

`.ci/slurm/start.sh` starts the cluster (installing Debian's slurm + munge when missing, which
needs root and apt); when `.ci/run` already started it, this test reuses it and leaves it up.
Where the cluster cannot be had, the test skips with the script's reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from snakemake_runner import PROJECT_ROOT, run_snakemake, write_sheet
from test_incremental import PRESSURES_MPA, RUN_CONFIG, _rows, two_scan_run

pytestmark = pytest.mark.workflow

SLURM_DIR = Path(os.environ.get("TOMOPRESS_SLURM_DIR", "/tmp/tomopress-slurm"))
START, STOP = PROJECT_ROOT / ".ci" / "slurm" / "start.sh", PROJECT_ROOT / ".ci" / "slurm" / "stop.sh"
EXIT_UNAVAILABLE = 3
#: Every job that finishes waits for the plugin's next squeue poll (1 s after a job ended, 11 s
#: otherwise), so a 14-rule chain costs ~3 min in polls alone; grouping the seconds-long
#: synthetic and analysis rules per scan (one sbatch each) halves that and still sends
#: flatfield, center, reconstruct (one job per slab) and aggregate as jobs of their own. The
#: run stops at the metrics table, the one the test compares.
GROUPS = ("simulate=raw", "inspect=raw", "volume=analysis", "crop_layers=analysis",
          "crop=analysis", "segment_thresholds=analysis", "calibrate=analysis", "segment=analysis",
          "metrics=analysis", "contact_probe=analysis", "aggregate_scan=analysis")
#: segment's blocks are independent, so its labels do not depend on its threads: with one
#: thread each, both scans' analysis groups share the 2-CPU test node instead of queueing
SINGLE_THREADED = ("segment=1",)


@pytest.fixture(scope="module")
def slurm_conf():
    """SLURM_CONF of a running single-node cluster; stops the daemons it started (by pid)."""
    env = {**os.environ, "TOMOPRESS_SLURM_DIR": str(SLURM_DIR)}
    try:
        started = subprocess.run(["bash", str(START)], capture_output=True, text=True, env=env,
                                 timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot start SLURM: {exc}")
    if started.returncode == EXIT_UNAVAILABLE:
        pytest.skip(started.stderr.strip() or "SLURM unavailable on this machine")
    if started.returncode != 0:
        pytest.fail(f"{START} failed ({started.returncode}):\n{started.stdout}\n{started.stderr}")
    reused = "already running" in started.stdout
    try:
        yield SLURM_DIR / "slurm.conf"
    finally:
        if not reused:
            subprocess.run(["bash", str(STOP)], env=env, capture_output=True, timeout=120)


def _profile_without_conda(tmp_path: Path) -> Path:
    """profiles/slurm as shipped, minus `use-conda` (the test machine runs jobs in this venv)."""
    settings = yaml.safe_load((PROJECT_ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    settings.pop("use-conda", None)
    settings["latency-wait"] = 5
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "config.yaml").write_text(yaml.safe_dump(settings))
    return profile


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["scan_id", "layer"]).reset_index(drop=True)


def test_slurm_run_equals_local_run(slurm_conf, tmp_path, tmp_path_factory, monkeypatch):
    local_dir, _ = two_scan_run(tmp_path_factory)  # shared with test_incremental.py
    workdir = tmp_path / "slurm"
    workdir.mkdir()
    sheet = write_sheet(workdir / "samples.tsv", _rows(PRESSURES_MPA))
    monkeypatch.setenv("SLURM_CONF", str(slurm_conf))
    t0 = time.perf_counter()
    result = run_snakemake(
        workdir, "results/tables/metrics.parquet", "--profile",
        str(_profile_without_conda(tmp_path)), "--slurm-no-account", "--groups", *GROUPS,
        "--set-threads", *SINGLE_THREADED, config={"samples": str(sheet), **RUN_CONFIG},
    )
    print(f"SLURM run: {time.perf_counter() - t0:.0f} s")
    log = result.stdout + result.stderr
    submitted = re.findall(r"Job \S+ has been submitted with SLURM jobid (\d+)", log)
    assert len(submitted) >= 10, log[-3000:]  # every job went through sbatch
    local, slurm = (
        _sorted(pd.read_parquet(d / "results" / "tables" / "metrics.parquet"))
        for d in (local_dir, workdir)
    )
    assert len(local) == 2 * len(PRESSURES_MPA)
    pd.testing.assert_frame_equal(slurm, local)
