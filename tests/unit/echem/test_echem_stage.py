"""The stage functions: records from files, and the electrochemistry table joined to metrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tomopress.echem.figures import ECHEM_FIGURES, write_echem_figures
from tomopress.echem.stage import fit_scan_files, write_electrochemistry_table
from tomopress.errors import RawDataError
from tomopress.synthetic.echem import write_synthetic_echem
from tomopress.tables.schemas import ELECTROCHEMISTRY_SCHEMA, METRICS_SCHEMA

LAYERS = {
    "composite": {"volume_fraction_se": 0.3, "tau_factor": 3.0,
                  "specific_contact_area_per_um": 0.1, "contact_area_fraction": 0.5,
                  "am_fraction_ionically_isolated": 0.0, "region_z_um": 20.0},
    "separator": {"volume_fraction_se": 0.9, "tau_factor": 1.2, "region_z_um": 10.0},
}


@pytest.fixture(scope="module")
def scan_files(tmp_path_factory):
    """A synthetic spectrum and cycling curve of a known cell, and a metrics table."""
    d = tmp_path_factory.mktemp("echem")
    metric_paths = {}
    for layer, record in LAYERS.items():
        metric_paths[layer] = d / f"{layer}.json"
        metric_paths[layer].write_text(json.dumps(record))
    truth = write_synthetic_echem(
        metric_paths, eis_path=str(d / "a.eis.csv"), cycling_path=str(d / "a.cycling.csv"),
        truth_path=str(d / "truth.json"), area_cm2=None, default_area_cm2=0.01,
        separator_thickness_um=None, composite_thickness_um=None, sigma_se_s_per_cm=0.012,
        model={"n_cycles": 4}, seed=3)
    rows = [{**{f.name: None for f in METRICS_SCHEMA}, "scan_id": scan, "sample": "s",
             "pressure_mpa": p, "layer": layer, **LAYERS[layer]}
            for scan, p in (("a", 50.0), ("b", 6.0)) for layer in LAYERS]
    pd.DataFrame(rows).to_parquet(d / "metrics.parquet")
    return d, truth


def test_table_joins_prediction_and_measurement_one_row_per_scan(scan_files):
    d, truth = scan_files
    records = fit_scan_files(
        scans=[{"scan_id": "a", "eis": str(d / "a.eis.csv"), "cycling": str(d / "a.cycling.csv")}],
        out_paths=[str(d / "a.json")], circuit="R0-p(R1,CPE1)-p(R2,CPE2)-Wo1",
        r_se_elements=["R0", "R1"], r_ct_element="R2", c_dl_element="CPE2")
    assert records[0]["eis"]["fit_status"] == "ok"
    sheet = [{"scan_id": "a", "sample": "s", "pressure_mpa": 50.0, "eis": str(d / "a.eis.csv"),
              "cycling": str(d / "a.cycling.csv")},
             {"scan_id": "b", "sample": "s", "pressure_mpa": 6.0}]
    out = d / "electrochemistry.parquet"
    n = write_electrochemistry_table(
        metrics_path=str(d / "metrics.parquet"), scans=sheet, record_paths=[str(d / "a.json")],
        out_path=str(out), default_area_cm2=0.01, sigma_se_s_per_cm=0.012,
        sigma_se_uncertainty_s_per_cm=0.0, config={"echem": {}})
    assert n == 2
    assert pq.read_schema(out).remove_metadata().equals(ELECTROCHEMISTRY_SCHEMA)
    table = pd.read_parquet(out).set_index("scan_id")
    assert list(table.index) == ["b", "a"]  # sorted by pressure
    a, b = table.loc["a"], table.loc["b"]
    # b has no files: the prediction only
    assert np.isnan(b["r_se_ohm"]) and b["sigma_pred_s_per_cm"] > 0
    assert a["r_se_ohm"] == pytest.approx(truth["r_se_ohm"], rel=0.02)
    assert a["r_ct_ohm"] == pytest.approx(truth["r_ct_ohm"], rel=0.02)
    assert a["sigma_ratio"] == pytest.approx(1 / 1.5, rel=0.02)  # grain boundary 0.5 x bulk
    assert a["r_ct_contact_ohm_cm2"] == pytest.approx(20.0, rel=0.02)
    assert a["first_discharge_capacity_mah_per_g"] == pytest.approx(
        truth["first_discharge_capacity_noisy_mah_per_g"], rel=1e-4)
    assert a["capacity_retention"] == pytest.approx((1 - truth["fade_per_cycle"]) ** 3, rel=1e-4)
    assert bool(a["kk_valid"]) and a["thickness_source"] == "crop"
    params = json.loads(a["fit_parameters_json"])
    assert set(params) == {"R0", "R1", "CPE1_0", "CPE1_1", "R2", "CPE2_0", "CPE2_1", "Wo1_0",
                           "Wo1_1"}
    meta = pq.read_schema(out).metadata
    assert b"a:eis" in meta[b"raw_files"] and meta[b"table"] == b"electrochemistry"
    pngs = {name: str(d / f"{name}.png") for name in ("nyquist", "charge_transfer")}
    assert set(pngs) <= set(ECHEM_FIGURES)
    write_echem_figures(table_path=str(out), record_paths=[str(d / "a.json")], out_paths=pngs)
    import matplotlib.image

    for name, path in pngs.items():
        assert float(matplotlib.image.imread(path)[..., :3].var()) > 0, name


def test_bad_files_of_several_scans_are_reported_together(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("f,Z' (Ohm),-Z'' (Ohm)\n1,2,3\n")
    cyc = tmp_path / "c.csv"
    cyc.write_text("cycle,step,capacity (mAh),voltage (V)\n1,discharge,0.1,3.0\n")
    with pytest.raises(RawDataError) as err:
        fit_scan_files(scans=[{"scan_id": "a", "eis": str(bad)},
                              {"scan_id": "b", "cycling": str(cyc)}],
                       out_paths=[str(tmp_path / "a.json"), str(tmp_path / "b.json")],
                       circuit="R0-p(R1,C1)", r_se_elements=["R0"], r_ct_element="R1",
                       c_dl_element="C1")
    text = str(err.value)
    assert "bad.csv: frequency ('f'): no unit" in text and "c.csv: capacity" in text
    assert not (tmp_path / "a.json").exists()
