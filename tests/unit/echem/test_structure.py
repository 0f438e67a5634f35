"""Structure -> electrochemistry predictions against hand-computed values."""

from __future__ import annotations

import math

import pytest

from tomopress.echem.structure import cell_geometry, compare, layer_sigma_eff, predict_cell

SIGMA_SE = 0.012
COMPOSITE = {"volume_fraction_se": 0.3, "tau_factor": 3.0, "specific_contact_area_per_um": 0.1}
SEPARATOR = {"volume_fraction_se": 0.9, "tau_factor": 1.2}


def _geometry(**over):
    args = dict(area_cm2=None, default_area_cm2=0.01, separator_thickness_um=None,
                composite_thickness_um=None, separator_crop_um=10.0, composite_crop_um=20.0)
    return cell_geometry(**{**args, **over})


def test_series_resistance_and_apparent_conductivity():
    p = predict_cell(COMPOSITE, SEPARATOR, geometry=_geometry(), sigma_se_s_per_cm=SIGMA_SE)
    s_sep, s_comp = SIGMA_SE * 0.9 / 1.2, SIGMA_SE * 0.3 / 3.0
    assert p["sigma_eff_separator_s_per_cm"] == pytest.approx(s_sep)
    assert p["sigma_eff_composite_s_per_cm"] == pytest.approx(s_comp)
    r = 10e-4 / (s_sep * 0.01) + 20e-4 / (s_comp * 0.01)
    assert p["r_series_pred_ohm"] == pytest.approx(r)
    assert p["sigma_pred_s_per_cm"] == pytest.approx(30e-4 / (r * 0.01))
    # harmonic thickness-weighted mean of the layer conductivities
    assert p["sigma_pred_s_per_cm"] == pytest.approx(30 / (10 / s_sep + 20 / s_comp))
    assert p["contact_area_cm2"] == pytest.approx(0.1 * 1e4 * 20e-4 * 0.01)
    assert p["r_series_pred_ohm_uncertainty"] == 0.0  # no uncertainty columns, none in config


def test_uncertainty_columns_are_propagated_when_present():
    comp = {**COMPOSITE, "volume_fraction_se_uncertainty": 0.03, "tau_factor_uncertainty": 0.3}
    sigma, err = layer_sigma_eff(comp, sigma_se_s_per_cm=SIGMA_SE,
                                 sigma_se_uncertainty_s_per_cm=0.0012)
    assert err / sigma == pytest.approx(math.sqrt(3 * 0.1**2))
    # σ_SE is common to both layers: a 10 % bulk error is a 10 % error of the series resistance
    p = predict_cell(COMPOSITE, SEPARATOR, geometry=_geometry(), sigma_se_s_per_cm=SIGMA_SE,
                     sigma_se_uncertainty_s_per_cm=0.0012)
    assert p["r_series_pred_ohm_uncertainty"] / p["r_series_pred_ohm"] == pytest.approx(0.1)


def test_null_tortuosity_gives_no_prediction():
    p = predict_cell({**COMPOSITE, "tau_factor": float("nan")}, SEPARATOR, geometry=_geometry(),
                     sigma_se_s_per_cm=SIGMA_SE)
    assert p["sigma_eff_composite_s_per_cm"] is None and p["sigma_pred_s_per_cm"] is None


def test_sheet_geometry_wins_over_crop_and_config():
    g = _geometry(area_cm2=0.02, separator_thickness_um=500.0, composite_thickness_um=60.0)
    assert (g["cell_area_cm2"], g["area_source"]) == (0.02, "sheet")
    assert (g["thickness_um"], g["thickness_source"]) == (560.0, "sheet")
    assert _geometry()["thickness_source"] == "crop"


def test_ratio_and_contact_normalised_charge_transfer():
    pred = {"sigma_pred_s_per_cm": 2e-3, "sigma_pred_s_per_cm_uncertainty": 2e-5,
            "contact_area_cm2": 0.02, "specific_contact_area_per_um": 0.1,
            "specific_contact_area_per_um_uncertainty": 0.002}
    meas = {"sigma_app_s_per_cm": 1e-3, "sigma_app_s_per_cm_uncertainty": 1e-5,
            "r_ct_ohm": 1000.0, "r_ct_ohm_uncertainty": 10.0}
    out = compare(pred, meas)
    assert out["sigma_ratio"] == pytest.approx(0.5)
    assert out["sigma_ratio_uncertainty"] == pytest.approx(0.5 * math.hypot(0.01, 0.01))
    assert out["r_ct_contact_ohm_cm2"] == pytest.approx(20.0)
    assert out["r_ct_contact_ohm_cm2_uncertainty"] == pytest.approx(20 * math.hypot(0.01, 0.02))
