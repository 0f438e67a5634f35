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


def test_contact_signal_normals_profiles_and_separation_match_analytic_values():
    import numpy as np
    from scipy.special import ndtr

    bench = _load("contact_signal")
    # a ball of radius 9 in SE: the elements' normals point away from its centre
    grid = np.indices((32, 32, 32)).astype(float) - 15.5
    radius = np.sqrt((grid ** 2).sum(0))
    labels = np.where(radius < 9.0, bench.AM, bench.SE).astype(np.uint8)
    idx, normal, signed = bench.surface_elements(labels)
    radial = (idx - 15.5) / np.linalg.norm(idx - 15.5, axis=1, keepdims=True)
    assert np.median(np.sum(normal * radial, axis=1)) > 0.995
    assert np.all(np.abs(signed - 0.5) < 1.0)
    # a planar AM|SE edge between voxels 15 and 16 blurred by 1 voxel: the samples fall midway
    # between voxel centres, so trilinear sampling gives the mean of the error function half a
    # voxel either side of each offset
    x = np.arange(32) - 15.5
    grey = np.broadcast_to(80.0 - 60.0 * ndtr(x / 1.0), (16, 16, 32)).copy()
    edge = np.broadcast_to(np.where(x < 0, bench.AM, bench.SE), (16, 16, 32)).astype(np.uint8)
    idx, normal, signed = bench.surface_elements(edge)
    prof = bench.normal_profiles(grey, idx, normal, signed, bench.OFFSETS)
    middle = np.all((idx[:, :2] > 3) & (idx[:, :2] < 12), axis=1)
    expected = 80.0 - 30.0 * (ndtr(bench.OFFSETS - 0.5) + ndtr(bench.OFFSETS + 0.5))
    assert np.abs(prof[middle] - expected).max() < 1e-6
    # Fisher's d' of two Gaussian clouds 1.5 apart along one of 8 unit-variance axes
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 8))
    b = rng.normal(size=(20000, 8)) + np.eye(8)[2] * 1.5
    sep = bench.fisher_separation(a, b)
    assert abs(sep["d_prime"] - 1.5) < 0.05
    assert abs(sep["gaps_found_at_5pct_false_alarms"] - ndtr(1.5 - 1.6449)) < 0.02
    # a mean profile that is the other shifted by 0.4 voxel: the shift explains it all
    offsets = bench.FINE_OFFSETS
    shifted = bench.shift_explained(ndtr(-offsets), ndtr(-(offsets - 0.4)), offsets)
    assert abs(shifted["best_shift_voxels"] + 0.4) < 0.05
    assert shifted["difference_energy_explained"] > 0.98
