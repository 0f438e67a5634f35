"""Incremental re-runs on new beamtime data: a dry run after a completed run lists only the jobs
that a change makes stale (issue 7).

One completed 2-scan run serves every case; each case only dry-runs a changed sheet or config,
which leaves the run's files and Snakemake metadata as they were.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from snakemake_runner import PROJECT_ROOT, run_snakemake, write_sheet

from tomopress.intake.sheet import read_sample_sheet

pytestmark = pytest.mark.workflow

PRESSURES_MPA = (6, 100)
#: per-scan rules from reconstruction on (flatfield is temp(): a re-run reconstruction makes
#: its slabs again, see test_changed_centre_reruns_only_that_scan_from_centre_on)
RECON_ON = {"center", "flatfield", "reconstruct", "volume", "crop_layers", "crop",
            "segment_thresholds", "calibrate", "segment", "metrics", "contact_probe",
            "aggregate_scan"}
SEGMENT_ON = {"segment_thresholds", "calibrate", "segment", "metrics", "contact_probe",
              "aggregate_scan"}


def _rows(pressures):
    return [(f"p{p:03d}", p, f"results/synthetic/p{p:03d}.h5") for p in pressures]


def planned(dry_run_output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job a dry run plans, in the order printed."""
    jobs: list[tuple[str, dict[str, str]]] = []
    for line in dry_run_output.splitlines():
        head = re.match(r"^(?:local)?rule (\w+):$", line)
        if head:
            jobs.append((head.group(1), {}))
        elif jobs and line.startswith("    wildcards: "):
            pairs = line.split(": ", 1)[1].split(", ")
            jobs[-1][1].update(p.split("=", 1) for p in pairs)
    return jobs


def _scan_of(wildcards: dict[str, str]) -> str | None:
    return wildcards.get("scan") or wildcards.get("name")  # simulate is keyed by file name


def _only_aggregation(rules: set[str]) -> None:
    """Jobs without a scan are the across-scan tail: aggregate, figures, all."""
    assert "aggregate" in rules and not rules & (RECON_ON | {"simulate", "inspect"}), rules


def _by_scan(jobs) -> dict[str | None, set[str]]:
    grouped: dict[str | None, set[str]] = {}
    for rule, wildcards in jobs:
        grouped.setdefault(_scan_of(wildcards), set()).add(rule)
    return grouped


#: config of the shared completed run: one slab per scan (72 detector rows) saves jobs, above
#: all on the cluster (test_slurm.py); the demo's runs keep several slabs per scan
RUN_CONFIG = {"slab_rows": "72"}


def two_scan_run(tmp_path_factory) -> tuple[Path, Path]:
    """A completed local run of the 2-scan demo, made once per pytest session.

    test_slurm.py compares its cluster run with this one; the tests here only dry-run in it,
    which changes none of its files.
    """
    workdir = tmp_path_factory.getbasetemp() / "two_scan_run"
    sheet = workdir / "samples.tsv"
    done = workdir / "COMPLETED"
    if not done.exists():
        workdir.mkdir(exist_ok=True)
        write_sheet(sheet, _rows(PRESSURES_MPA))
        run_snakemake(workdir, config={"samples": str(sheet), **RUN_CONFIG})
        done.write_text("")
    return workdir, sheet


@pytest.fixture(scope="module")
def completed(tmp_path_factory):
    return two_scan_run(tmp_path_factory)


def _dry_run(workdir, sheet, overrides: dict | None = None) -> str:
    """`snakemake -n` with the sheet, and nested config `overrides` merged into config.yaml.

    Nested values cannot go through ``--config``: Snakemake parses ``key={a: 1}`` with YAML's
    BaseLoader, so ``a`` arrives as the string '1' and fails the schema. They go in a second
    config file instead (the last ``--configfile`` wins, so it holds the merged config).
    """
    args: list[str] = ["-n"]
    if overrides:
        merged = yaml.safe_load((PROJECT_ROOT / "config" / "config.yaml").read_text())
        for key, value in overrides.items():
            merged[key] = {**merged.get(key, {}), **value}
        path = workdir.parent / f"config-{'-'.join(sorted(overrides))}.yaml"
        path.write_text(yaml.safe_dump(merged, sort_keys=False))  # params compare dict order
        args += ["--configfile", str(path)]
    result = run_snakemake(workdir, *args, config={"samples": str(sheet), **RUN_CONFIG})
    return result.stdout + result.stderr


def test_unchanged_inputs_plan_nothing(completed):
    workdir, sheet = completed
    assert "Nothing to be done" in _dry_run(workdir, sheet)


def test_new_scan_runs_only_its_jobs_and_the_aggregation(completed):
    workdir, _ = completed
    bigger = write_sheet(workdir / "more.tsv", _rows((*PRESSURES_MPA, 50)))
    by_scan = _by_scan(planned(_dry_run(workdir, bigger)))
    assert set(by_scan) == {"p050", None}, by_scan
    assert {"simulate", "inspect", "flatfield", "reconstruct", "metrics"} <= by_scan["p050"]
    _only_aggregation(by_scan[None])


def test_changed_centre_reruns_only_that_scan_from_centre_on(completed):
    workdir, sheet = completed
    text = sheet.read_text().splitlines()
    header, rows = text[0] + "\tcenter_px", [line + "\t" for line in text[1:]]
    rows[0] += "80.5"  # p006: a centre override; p100 keeps its measured centre
    changed = workdir / "centre.tsv"
    changed.write_text("\n".join([header, *rows]) + "\n")
    value = read_sample_sheet(changed, synthetic_dir=workdir / "results" / "synthetic",
                              check_files=False).loc["p006", "center_px"]
    assert type(value) is float  # params must be plain Python: numpy scalars never compare changed
    jobs = planned(_dry_run(workdir, changed))
    by_scan = _by_scan(jobs)
    assert set(by_scan) == {"p006", None}, by_scan
    # flatfield slabs are temp() and were deleted: the re-run reconstruction makes them again
    assert by_scan["p006"] == RECON_ON, by_scan["p006"]
    assert not {"simulate", "inspect"} & by_scan["p006"]
    _only_aggregation(by_scan[None])


def test_changed_segmentation_reruns_segmentation_on_but_no_reconstruction(completed):
    workdir, sheet = completed
    jobs = planned(_dry_run(workdir, sheet, {"segment": {"median_size_px": 1, "method": "modes"}}))
    by_scan = _by_scan(jobs)
    assert set(by_scan) == {"p006", "p100", None}, by_scan
    for scan in ("p006", "p100"):
        assert by_scan[scan] == SEGMENT_ON, (scan, by_scan[scan])
    _only_aggregation(by_scan[None])


def test_resource_factors_rerun_nothing(completed):
    workdir, sheet = completed
    out = _dry_run(workdir, sheet, {"resources": {"mem_factor": 2.0, "runtime_factor": 3.0}})
    assert "Nothing to be done" in out
