"""Tables, figures and the HTML report of a 2-pressure synthetic beamtime."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from snakemake_runner import planned_jobs, run_snakemake, write_sheet

from tomopress.tables.figures import ALWAYS
from tomopress.tables.schemas import (
    SCHEMAS,
    TABLE_NAMES,
    column_unit,
    dimensionless_columns,
    required_columns,
)

pytestmark = pytest.mark.workflow
PRESSURES_MPA = (6, 100)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("report")
    rows = [(f"p{p:03d}", p, f"results/synthetic/p{p:03d}.h5") for p in PRESSURES_MPA]
    sheet = write_sheet(workdir / "samples.tsv", rows)
    config = {"samples": str(sheet)}
    run_snakemake(workdir, config=config)
    return workdir, config


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_tables_read_back_with_units_dtypes_and_no_missing_required_values(small_run, name):
    workdir, _ = small_run
    path = workdir / "results" / "tables" / f"{name}.parquet"
    frame = pd.read_parquet(path)
    schema = SCHEMAS[name]
    assert pq.read_schema(path).remove_metadata().equals(schema)
    assert list(frame.columns) == schema.names
    dimensionless = set(dimensionless_columns()[name])
    for field in schema:
        if pa.types.is_floating(field.type):
            assert frame[field.name].dtype == np.float64
            assert column_unit(field.name) or field.name in dimensionless, field.name
    assert not frame[required_columns(schema)].isna().any().any()
    assert frame["pressure_mpa"].is_monotonic_increasing
    expected_rows = {"metrics": 2 * len(PRESSURES_MPA), "scans": len(PRESSURES_MPA)}
    if name in expected_rows:
        assert len(frame) == expected_rows[name]
    else:
        assert len(frame) > 0
    meta = pq.read_schema(path).metadata
    assert {b"config_sha256", b"raw_files", b"created_utc", b"tomopress_version"} <= set(meta)


def test_scans_table_has_timings_from_benchmarks(small_run):
    workdir, _ = small_run
    scans = pd.read_parquet(workdir / "results" / "tables" / "scans.parquet")
    assert (scans["time_reconstruct_s"] > 0).all() and (scans["time_total_s"] > 0).all()
    assert scans["raw_header_sha256"].str.len().eq(64).all()


def test_figures_exist_and_are_not_blank(small_run):
    workdir, _ = small_run
    for name in (*ALWAYS, "tortuosity"):  # metrics.tortuosity is on by default
        pixels = matplotlib.image.imread(workdir / "results" / "figures" / f"{name}.png")
        assert float(pixels[..., :3].var()) > 0, name


def test_report_builds_with_every_figure(small_run):
    workdir, config = small_run
    report = workdir / "results" / "report.html"
    run_snakemake(workdir, "--report", str(report), config=config)
    html = report.read_text(errors="replace")
    assert report.stat().st_size > 100_000
    for name in ALWAYS:
        assert f"{name}.png" in html, name
    assert "center.png" in html and "Pressure trends" in html


def test_rerun_is_a_no_op_and_a_new_scan_adds_one_part(small_run):
    workdir, config = small_run
    result = run_snakemake(workdir, "-n", config=config)
    assert "Nothing to be done" in result.stdout + result.stderr
    rows = [(f"p{p:03d}", p, f"results/synthetic/p{p:03d}.h5") for p in (*PRESSURES_MPA, 50)]
    bigger = write_sheet(workdir / "more.tsv", rows)
    jobs = planned_jobs(run_snakemake(workdir, "-n", config={"samples": str(bigger)}).stdout)
    assert jobs["aggregate_scan"] == 1 and jobs["aggregate"] == 1 and jobs["figures"] == 1
