"""Tiny-size runs of the benchmark scripts: their JSON structure and tomopress's accuracy.

The full-size runs (2048 columns, 1800 angles; a 1800 x 128 x 2048 band) are in
benchmarks/README.md; these only check that the scripts work end to end.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reconstruct_benchmark_writes_cases_and_tomopress_is_accurate(tmp_path):
    bench = _load("reconstruct")
    out = tmp_path / "reconstruct.json"
    result = bench.main(["--n-cols", "64", "--n-angles", "96", "--repeats", "1",
                         "--methods", "tomopress,skimage_iradon", "--out", str(out)])
    assert json.loads(out.read_text()) == result
    assert set(result) == {"cpu_count", "cases"}
    assert isinstance(result["cpu_count"], int) and result["cpu_count"] >= 1
    methods = [c["method"] for c in result["cases"]]
    assert methods == ["tomopress_gridding", "tomopress_gridding_single_row", "skimage_iradon"]
    for case in result["cases"]:
        assert {"method", "seconds_per_slice", "rms_error", "n_angles", "n_columns"} <= set(case)
        assert isinstance(case["method"], str)
        assert case["seconds_per_slice"] > 0 and case["rms_error"] > 0
        assert (case["n_angles"], case["n_columns"]) == (96, 64)
    by_method = {c["method"]: c["rms_error"] for c in result["cases"]}
    # smooth Shepp-Logan at 64 px: the error is resolution-limited (~1-2 %), not a bug
    assert by_method["tomopress_gridding"] < 0.03
    assert by_method["tomopress_gridding_single_row"] < 0.03
    # the peer sees the same input and geometry: a comparable error, not a misregistered one
    assert by_method["skimage_iradon"] < 0.05


def test_band_memory_benchmark_runs_each_slab_job_and_cleans_up(tmp_path):
    bench = _load("band_memory")
    out = tmp_path / "band.json"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = bench.main(["--n-angles", "48", "--n-rows", "8", "--n-cols", "32",
                         "--slab-rows", "8", "--n-threads", "1", "--scratch", str(scratch),
                         "--out", str(out)])
    assert json.loads(out.read_text()) == result
    assert [job["rows"] for job in result["jobs"]] == [[0, 8]]
    job = result["jobs"][0]
    for key in ("flatfield_peak_rss_gb", "reconstruct_peak_rss_gb", "job_peak_rss_gb"):
        assert 0 < job[key] < result["target_gb"]
    assert job["job_seconds"] > 0
    assert result["meets_target"] is True
    assert list(scratch.iterdir()) == []  # scratch files removed


def test_dry_run_benchmark_plans_every_scan(tmp_path):
    out = tmp_path / "dry_run.json"
    result = _load("dry_run").main(["--n-scans", "3", "--out", str(out)])
    assert json.loads(out.read_text()) == result
    # per scan: inspect, center, volume, crop_layers, 2 crop, segment_thresholds, 2 segment,
    # 2 metrics, aggregate_scan, and one flatfield + reconstruct per 24-row slab (4 rows: 1)
    assert result["n_jobs"] >= 3 * 14


def test_full_scan_benchmark_runs_both_workflows_and_cleans_up(tmp_path):
    out = tmp_path / "full_scan.json"
    work = tmp_path / "work"
    result = _load("full_scan").main([
        "--work", str(work), "--n-angles", "900", "--n-rows", "192", "--n-cols", "256",
        "--band-rows", "96", "--roi-px", "128", "--out", str(out)])
    assert json.loads(out.read_text()) == result
    for key in ("band_minutes", "band_max_rss_gb", "full_recon_minutes", "full_max_rss_gb",
                "peak_intermediate_disk_gb"):
        assert result[key] > 0, key
    assert result["cpu_count"] >= 1
    band_rules = {job["rule"] for job in result["band"]["jobs"]}
    assert {"flatfield", "center", "reconstruct", "volume", "crop", "segment",
            "metrics"} <= band_rules
    full_slabs = [j for j in result["full"]["jobs"] if j["rule"] == "reconstruct"]
    assert len(full_slabs) == 3  # 192 rows in 64-row slabs, every row reconstructed
    assert not (work / "fullsize.h5").exists() and not (work / "results_full").exists()


def test_metrics_benchmark_times_every_family_and_validates_the_phantoms(tmp_path):
    out = tmp_path / "metrics.json"
    result = _load("metrics").main(["--size", "64", "--planes", "20", "--skip-peers",
                                    "--out", str(out)])
    assert json.loads(out.read_text())["validation"] == result["validation"]
    phantoms = [v for v in result["validation"] if not v["phantom"].startswith("isotropic crop")]
    assert len(phantoms) >= 8
    for check in phantoms:  # analytic truths: these hold at any crop size
        assert check["pass"], check
    families = {row["family"] for row in result["timing"]["families"]}
    assert {"fractions", "contact", "tortuosity", "diffusion", "connectivity"} <= families
    assert all(row["seconds"] >= 0 for row in result["timing"]["families"])
    assert 0 < result["timing"]["child_peak_rss_gb"] < 4
