"""The synthetic electrochemistry: closed-form circuit against impedance.py, and the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tomopress.echem.fit import predict_impedance
from tomopress.echem.readers import read_cycling, read_eis
from tomopress.synthetic.echem import (
    DEFAULT_CIRCUIT,
    EchemModel,
    default_circuit_impedance,
    write_synthetic_echem,
)

PARAMS = {"R0": 50.0, "R1": 30.0, "CPE1_0": 2e-8, "CPE1_1": 0.92, "R2": 400.0,
          "CPE2_0": 3e-6, "CPE2_1": 0.8, "Wo1_0": 120.0, "Wo1_1": 4.0}


def test_closed_form_default_circuit_equals_impedance_py():
    f = np.logspace(7, -2, 46)
    np.testing.assert_allclose(default_circuit_impedance(f, PARAMS),
                               predict_impedance(DEFAULT_CIRCUIT, list(PARAMS.values()), f),
                               rtol=1e-12)


def _metrics(tmp_path):
    comp = {"volume_fraction_se": 0.3, "tau_factor": 3.0, "specific_contact_area_per_um": 0.1,
            "contact_area_fraction": 0.49, "am_fraction_ionically_isolated": 0.02,
            "region_z_um": 20.0}
    sep = {"volume_fraction_se": 0.9, "tau_factor": 1.2, "region_z_um": 10.0}
    paths = {}
    for name, record in (("composite", comp), ("separator", sep)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(record))
    return paths


def test_model_puts_r_se_from_structure_and_r_ct_on_contact_area(tmp_path):
    model = EchemModel(n_cycles=3)
    truth = write_synthetic_echem(
        _metrics(tmp_path), eis_path=str(tmp_path / "a.eis.csv"),
        cycling_path=str(tmp_path / "a.cycling.csv"), truth_path=str(tmp_path / "a.json"),
        area_cm2=None, default_area_cm2=0.01, separator_thickness_um=None,
        composite_thickness_um=None, sigma_se_s_per_cm=0.012, model=model, seed=1)
    r_bulk = 10e-4 / (0.012 * 0.9 / 1.2 * 0.01) + 20e-4 / (0.012 * 0.3 / 3.0 * 0.01)
    assert truth["params"]["R0"] == pytest.approx(r_bulk)
    assert truth["r_se_ohm"] == pytest.approx(1.5 * r_bulk)  # grain boundary: 0.5 x bulk
    contact_cm2 = 0.1 * 1e4 * 20e-4 * 0.01
    assert truth["r_ct_ohm"] * contact_cm2 == pytest.approx(model.ct_resistance_ohm_cm2)
    assert truth["first_discharge_capacity_mah_per_g"] == pytest.approx(160 * 0.98 * 0.7)
    spectrum = read_eis(tmp_path / "a.eis.csv")  # the files read back through the readers
    # 10 per decade from 7 MHz to 10 mHz: log10(7e8) = 8.85 decades -> 89 points
    assert spectrum.frequency_hz.size == len(model.frequencies_hz()) == 89
    z_true = default_circuit_impedance(spectrum.frequency_hz, truth["params"])
    noise = (spectrum.z_ohm - z_true) / np.abs(z_true)
    assert np.std(np.concatenate([noise.real, noise.imag])) == pytest.approx(0.01, rel=0.2)
    cycling = read_cycling(tmp_path / "a.cycling.csv")
    assert set(cycling.cycle) == {1, 2, 3}
