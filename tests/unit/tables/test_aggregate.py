import json
import math

import h5py
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tomopress.metrics import interface_area_um2, layer_metrics
from tomopress.metrics.fractions import phase_profiles_z
from tomopress.tables.aggregate import (
    HEADER_BYTES,
    benchmark_timings,
    concat_tables,
    config_sha256,
    layer_rows,
    metrics_table,
    raw_identity,
    write_scan_tables,
)
from tomopress.tables.schemas import METRICS_SCHEMA, SCAN_TABLE_NAMES, SCHEMAS, required_columns
from tomopress.types import AM, SE, VOID

LABELS = np.zeros((4, 4, 4), dtype=np.uint8)
LABELS[:, :, 1:] = SE
LABELS[:, :2, 2:] = AM
ORIENTATION = {"u_bin_edges": [0.0, 0.5, 1.0], "coverage": [0.25, float("nan")],
               "area_um2_per_bin": [8.0, 0.0], "contact_area_fraction_mesh": 0.25,
               "unclassified_area_fraction": 0.0}


def _record(scan, pressure, layer, **extra):
    return {"scan_id": scan, "sample": "c", "pressure_mpa": pressure, "layer": layer,
            "z_start_row": 10, "z_stop_row": 14, "threshold_low_per_cm": 5.0,
            "threshold_high_per_cm": 50.0, "segmentation_method": "modes",
            **layer_metrics(LABELS, voxel_size_um=0.5),
            "profiles": phase_profiles_z(LABELS, voxel_size_um=0.5),
            "orientation": ORIENTATION, **extra}


PROBE = {"thicknesses_px": [0.0, 1.0, 2.0, 4.0], "gap_resolution_px": 1.6,
         "film_resolution_px": 3.2, "gap_unresolved": None, "film_unresolved": None}


def _scan_inputs(root, scan, pressure, probe=None, **extra):
    """The files the aggregate_scan rule reads, for one small fake scan."""
    d = root / scan
    d.mkdir()
    if probe is not None:
        (d / "contact_probe.json").write_text(json.dumps(probe))
    metric_paths = []
    for layer in ("composite", "separator"):
        path = d / f"{layer}.json"
        path.write_text(json.dumps(_record(scan, pressure, layer, **extra)))
        metric_paths.append(str(path))
    files = {
        "inspect_path": {"detector_shape": [72, 160], "n_projections": 256, "n_flats": 10,
                         "n_darks": 10, "pixel_size_um": 1.0, "angle_min_deg": 0.0,
                         "angle_max_deg": 179.3},
        "center_path": {"center_px": 82.5, "confidence": 0.9, "method": "vo", "residual_px": 0.0},
        "layers_path": {"layers": {"composite": [25, 72], "separator": [0, 17]},
                        "roi_xy": [32, 128, 32, 128]},
        "thresholds_path": {"high": 49.0, "low": 10.0, "method": "modes",
                            "phase_levels": [0.0, 20.0, 78.0]},
    }
    paths = {}
    for key, obj in files.items():
        paths[key] = str(d / f"{key}.json")
        (d / f"{key}.json").write_text(json.dumps(obj))
    with h5py.File(d / "volume.h5", "w") as fh:
        fh.attrs.update({"backend": "gridding", "filter": "ramp"})
    raw = d / "raw.h5"
    raw.write_bytes(b"\x89HDF" + bytes(1000))
    bench = root / "benchmarks" / "reconstruct" / scan
    bench.mkdir(parents=True)
    for slab, seconds in enumerate((1.0, 2.5)):
        (bench / f"{slab}.tsv").write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:01\t{100 + slab}\n")
    outs = {name: str(d / "tables" / f"{name}.parquet") for name in SCAN_TABLE_NAMES}
    counts = write_scan_tables(
        metric_paths, outs, scan_id=scan, sample="c", pressure_mpa=pressure, raw_path=str(raw),
        raw_format="dxchange", volume_path=str(d / "volume.h5"),
        flatfield={"average": "mean", "ring_method": "sorting", "ring_size": 5,
                   "zinger_threshold": 0.3}, benchmarks_dir=str(root / "benchmarks"),
        contact_probe_path=str(d / "contact_probe.json") if probe is not None else None, **paths)
    return outs, counts


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    root = tmp_path_factory.mktemp("agg")
    path = {"tau_geo": 1.1, "tau_geo_lattice": 1.2, "tile_y0_vox": 0, "tile_x0_vox": 0,
            "outlet_y_vox": 3, "outlet_x_vox": 4, "path_length_um": 1.5}
    hi, counts = _scan_inputs(root, "hi", 100.0, probe=PROBE, tortuosity_paths=[path, path])
    lo, _ = _scan_inputs(root, "lo", 6.0)
    outs = {name: str(root / "tables" / f"{name}.parquet") for name in SCAN_TABLE_NAMES}
    config = {"slab_rows": 24, "samples": "s.tsv"}
    final = concat_tables({n: [hi[n], lo[n]] for n in SCAN_TABLE_NAMES}, outs, config=config)
    return outs, counts, final, config


def test_per_scan_parts_have_the_expected_rows(tables):
    _, counts, final, _ = tables
    assert counts == {"metrics": 2, "orientation": 8, "profiles": 8, "scans": 1,
                      "tortuosity": 4, "particles": 0}
    assert final == {"metrics": 4, "orientation": 16, "profiles": 16, "scans": 2,
                     "tortuosity": 4, "particles": 0}


@pytest.mark.parametrize("name", SCAN_TABLE_NAMES)
def test_tables_read_back_typed_sorted_and_complete(tables, name):
    outs, *_ = tables
    frame = pd.read_parquet(outs[name])
    schema = SCHEMAS[name]
    assert list(frame.columns) == schema.names
    assert pq.read_schema(outs[name]).remove_metadata().equals(schema)
    for field in schema:
        if pa.types.is_floating(field.type):
            assert frame[field.name].dtype == np.float64, field.name
        elif pa.types.is_integer(field.type) and frame[field.name].notna().all():
            assert frame[field.name].dtype == np.int64, field.name  # with nulls pandas gives float
    assert not frame[required_columns(schema)].isna().any().any()
    assert frame["pressure_mpa"].is_monotonic_increasing


def test_schema_metadata_carries_provenance(tables):
    outs, _, _, config = tables
    meta = pq.read_schema(outs["scans"]).metadata
    assert meta[b"config_sha256"].decode() == config_sha256(config)
    assert meta[b"table"] == b"scans" and meta[b"tomopress_version"]
    raw = json.loads(meta[b"raw_files"])
    assert set(raw) == {"hi", "lo"}
    assert raw["lo"]["size_bytes"] == 1004 and len(raw["lo"]["header_sha256"]) == 64
    assert b"created_utc" in meta


def test_scans_table_holds_reconstruction_facts_and_timings(tables):
    outs, *_ = tables
    scans = pd.read_parquet(outs["scans"]).set_index("scan_id")
    assert scans.loc["lo", "center_offset_px"] == pytest.approx(82.5 - 79.5)
    assert scans.loc["lo", "recon_backend"] == "gridding"
    assert scans.loc["lo", "level_am_per_cm"] == 78.0
    assert scans.loc["lo", "time_reconstruct_s"] == 3.5  # two slab jobs summed
    assert math.isnan(scans.loc["lo", "time_center_s"])  # no benchmark file: null
    assert scans.loc["lo", "max_rss_mb"] == 101.0


def test_orientation_rows_split_coverage_by_interface(tables):
    outs, *_ = tables
    o = pd.read_parquet(outs["orientation"])
    first = o[(o["scan_id"] == "lo") & (o["layer"] == "composite") & (o["u_bin"] == 0)]
    cov = first.set_index("interface")["coverage"]
    assert cov["am_se"] == 0.25 and cov["am_void"] == 0.75
    assert first["interface_area_um2"].sum() == pytest.approx(8.0)
    assert o.loc[o["u_bin"] == 1, "coverage"].isna().all()  # empty bin is null


def test_profile_rows_are_absolute_rows():
    rows = layer_rows(_record("a", 6.0, "composite"))["profiles"]
    assert [r["z_row"] for r in rows] == [10, 11, 12, 13]
    assert rows[0]["volume_fraction_void"] == 0.25 and rows[0]["volume_fraction_am"] == 0.25


def test_raw_identity_reads_only_the_header(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    head = bytes(range(256)) * (HEADER_BYTES // 256)
    a.write_bytes(head + b"x" * 10)
    b.write_bytes(head + b"y" * 99)
    ia, ib = raw_identity(a), raw_identity(b)
    assert ia["header_sha256"] == ib["header_sha256"]  # the tail is never read
    assert (ia["size_bytes"], ib["size_bytes"]) == (HEADER_BYTES + 10, HEADER_BYTES + 99)
    assert ia["mtime_utc"].endswith("+00:00")


def test_raw_identity_of_a_tiff_folder_covers_its_listing(tmp_path):
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "p0000.tif").write_bytes(b"II*\x00" + bytes(10))
    before = raw_identity(tmp_path / "stack")
    (tmp_path / "stack" / "p0001.tif").write_bytes(b"II*\x00")
    after = raw_identity(tmp_path / "stack")
    assert after["size_bytes"] == 18 and after["header_sha256"] != before["header_sha256"]
    with pytest.raises(FileNotFoundError):
        raw_identity(tmp_path / "missing.h5")


def test_benchmark_timings_without_files_are_nan(tmp_path):
    timings = benchmark_timings(tmp_path, "scan")
    assert all(math.isnan(v) for v in timings.values())


def test_a_part_written_with_another_schema_is_refused(tmp_path):
    bad = tmp_path / "part.parquet"
    pq.write_table(pa.table({"scan_id": ["a"]}), bad)
    with pytest.raises(ValueError, match="schema differs"):
        concat_tables({"scans": [str(bad)]}, {"scans": str(tmp_path / "out.parquet")}, config={})


def test_metric_records_become_a_typed_table_sorted_by_pressure():
    records = [_record(s, p, layer) for s, p in [("hi", 100.0), ("lo", 6.0)]
               for layer in ("composite", "separator")]
    table = metrics_table(records).to_pandas()
    assert list(table["scan_id"]) == ["lo", "lo", "hi", "hi"]
    assert table["porosity"].tolist() == [0.25] * 4
    # the table carries what the metric function computed (accuracy: tests/unit/metrics)
    direct = interface_area_um2(LABELS, SE, VOID, voxel_size_um=0.5)
    assert table["area_se_void_um2"].iloc[0] == pytest.approx(direct) and direct > 0
    assert table["region_volume_um3"].iloc[0] == 64 * 0.125
    assert list(table.columns) == METRICS_SCHEMA.names


def test_calibration_columns_give_the_blur_and_its_fit_error_in_micrometres():
    from tomopress.tables.aggregate import _calibration_columns

    cal = {"reference": "theory", "levels_per_cm": {"void": 0.0, "se": 20.8, "am": 80.2},
           "uncertainty_per_cm": {"void": 0.0, "se": 0.1, "am": 0.4},
           "blur_sigma_px": 1.2, "blur_method": "air_edge",
           "edge_fit": {"sigma_px": 1.2, "sigma_stderr_px": 0.2}}
    cols = _calibration_columns(cal, {"voxel_size_um": 0.5})
    assert cols["blur_sigma_um"] == pytest.approx(0.6)
    assert cols["blur_sigma_uncertainty_um"] == pytest.approx(0.1)
    cols = _calibration_columns({**cal, "edge_fit": None}, {"voxel_size_um": 0.5})
    assert cols["blur_sigma_uncertainty_um"] is None


def test_contact_probe_joins_every_layer_with_a_contact_fraction(tables):
    """The scan's probe (in voxels) reaches each layer row in µm at the layer's voxel size, with
    its sentence in the f_c note; a scan without a probe has nulls and no note."""
    outs, *_ = tables
    metrics = pd.read_parquet(outs["metrics"]).set_index(["scan_id", "layer"])
    for layer in ("composite", "separator"):
        row = metrics.loc[("hi", layer)]
        assert row["contact_gap_resolution_um"] == pytest.approx(0.5 * 1.6)
        assert row["contact_film_resolution_um"] == pytest.approx(0.5 * 3.2)
        assert row["contact_probe_max_um"] == pytest.approx(2.0)
        assert row["contact_area_fraction_note"] == (
            "gaps thinner than 0.80 µm at AM read as contact; "
            "SE films thinner than 1.60 µm read as gaps")
        assert math.isnan(metrics.loc[("lo", layer), "contact_gap_resolution_um"])
        assert not metrics.loc[("lo", layer), "contact_area_fraction_note"]
