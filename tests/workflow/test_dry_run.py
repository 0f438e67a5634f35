"""`snakemake -n` validates config and sheet before anything runs."""

from snakemake_runner import PROJECT_ROOT, planned_jobs, run_snakemake, write_sheet


def test_default_config_plans_the_whole_demo(tmp_path):
    result = run_snakemake(tmp_path, "-n", config={"samples": str(PROJECT_ROOT / "config" / "samples.tsv")})
    jobs = planned_jobs(result.stdout)
    n_scans = 5
    assert jobs["simulate"] == n_scans and jobs["aggregate"] == 1
    # 72 demo rows in slabs of at most 24 rows: 3 flat-field and 3 reconstruction jobs per scan
    assert jobs["flatfield"] == jobs["reconstruct"] == 3 * n_scans
    assert jobs["segment"] == jobs["metrics"] == 2 * n_scans
    assert not (tmp_path / "results").exists()  # a dry run writes nothing


def test_bad_sheet_fails_the_dry_run_with_every_problem(tmp_path):
    sheet = write_sheet(tmp_path / "bad.tsv", [("a", 6, "missing.h5"), ("a", -1, "synthetic/a.h5")])
    result = run_snakemake(tmp_path, "-n", config={"samples": str(sheet)}, check=False)
    assert result.returncode != 0
    err = result.stdout + result.stderr
    assert "bad.tsv" in err
    assert "line 2: raw: file not found: missing.h5" in err
    assert "line 3: pressure_mpa" in err
    assert "duplicate id 'a' on lines [2, 3]" in err


def test_bad_config_value_is_named(tmp_path):
    result = run_snakemake(tmp_path, "-n", config={"samples": str(PROJECT_ROOT / "config" / "samples.tsv"),
                                                    "slab_rows": "0"}, check=False)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "slab_rows" in out and "minimum" in out


def test_lint_is_clean(tmp_path):
    result = run_snakemake(tmp_path, "--lint", config={"samples": str(PROJECT_ROOT / "config" / "samples.tsv")})
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_realistic_cell_config_plans_its_scans(tmp_path):
    """config/realistic_cell.yaml on top of the defaults: 3 simulated realistic-cell scans of
    100 rows (5 slabs of 24), Paganin in the flat field."""
    configs = [str(PROJECT_ROOT / "config" / n) for n in ("config.yaml", "realistic_cell.yaml")]
    result = run_snakemake(tmp_path, "-n", "--configfile", *configs, config={
        "samples": str(PROJECT_ROOT / "config" / "samples_realistic_cell.tsv")})
    jobs = planned_jobs(result.stdout)
    assert jobs["simulate"] == 3 and jobs["flatfield"] == jobs["reconstruct"] == 3 * 5
    assert jobs["crop_layers"] == 3

