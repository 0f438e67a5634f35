"""Derived quantities: uncertainty propagation, Hsu-Mansfeld capacitance, cycling summary."""

from __future__ import annotations

import numpy as np
import pytest

from tomopress.echem.derived import (
    cycling_summary,
    effective_capacitance_f,
    eis_quantities,
    geometry_quantities,
    propagate,
)
from tomopress.echem.fit import CircuitFit
from tomopress.echem.readers import Cycling


def _fit(values: dict[str, float], cov: np.ndarray) -> CircuitFit:
    return CircuitFit(circuit="R0-p(R1,CPE1)-p(R2,CPE2)", names=tuple(values),
                      units=("",) * len(values), values=np.array(list(values.values())),
                      std=np.sqrt(np.diag(cov)), covariance=cov, conf=np.sqrt(np.diag(cov)),
                      initial_guess=np.ones(len(values)), residual_rms_rel=0.01, n_points=50,
                      weight_by_modulus=True)


def test_sum_of_anticorrelated_resistances_has_the_smaller_variance():
    values = {"R0": 100.0, "R1": 50.0, "CPE1_0": 1e-7, "CPE1_1": 0.9, "R2": 400.0,
              "CPE2_0": 1e-5, "CPE2_1": 1.0}
    cov = np.diag([4.0, 9.0, 1e-18, 1e-6, 16.0, 1e-14, 1e-8])
    cov[0, 1] = cov[1, 0] = -5.0  # var(R0 + R1) = 4 + 9 - 2 * 5 = 3
    q = eis_quantities(_fit(values, cov), r_se_elements=["R0", "R1"], r_ct_element="R2",
                       c_dl_element="CPE2")
    assert q["r_se_ohm"] == pytest.approx(150.0)
    assert q["r_se_ohm_uncertainty"] == pytest.approx(np.sqrt(3.0), rel=1e-4)
    assert q["r_ct_ohm_uncertainty"] == pytest.approx(4.0, rel=1e-4)
    assert q["c_dl_uf"] == pytest.approx(10.0)  # n = 1: the CPE is a capacitor of Q farad
    # with n = 1 and R fixed, C = Q: its sigma is sigma(Q) plus the n term
    assert q["c_dl_uf_uncertainty"] > 1e6 * 1e-7


def test_roles_missing_from_the_circuit_are_none():
    values = {"R0": 10.0, "R1": 5.0}
    q = eis_quantities(_fit(values, np.eye(2)), r_se_elements=["R0"], r_ct_element="R9",
                       c_dl_element="CPE9")
    assert q["r_se_ohm"] == 10.0 and q["r_ct_ohm"] is None and q["c_dl_uf"] is None


def test_hsu_mansfeld_capacitance_of_an_ideal_rc_is_its_c():
    # an R || C arc with R = 100 Ω, C = 1 µF, written as a CPE with n = 1, Q = C
    assert effective_capacitance_f(1e-6, 1.0, 100.0) == pytest.approx(1e-6)
    # the apex of R || CPE is at ω = (R Q)^(-1/n); C = 1 / (ω R) there
    q, n, r = 2e-5, 0.8, 250.0
    omega = (r * q) ** (-1 / n)
    assert effective_capacitance_f(q, n, r) == pytest.approx(1 / (omega * r))


def test_sigma_app_from_geometry():
    q = geometry_quantities({"r_se_ohm": 200.0, "r_se_ohm_uncertainty": 2.0, "r_ct_ohm": 80.0,
                             "r_ct_ohm_uncertainty": 4.0}, area_cm2=0.007854,
                            thickness_um=500.0)
    assert q["sigma_app_s_per_cm"] == pytest.approx(0.05 / (200.0 * 0.007854))
    assert q["sigma_app_s_per_cm_uncertainty"] == pytest.approx(0.01 * q["sigma_app_s_per_cm"])
    assert q["r_ct_ohm_cm2"] == pytest.approx(80.0 * 0.007854)
    none = geometry_quantities({"r_se_ohm": 200.0, "r_ct_ohm": None}, area_cm2=None,
                               thickness_um=None)
    assert none["sigma_app_s_per_cm"] is None and none["r_ct_ohm_cm2"] is None


def test_cycling_summary_of_known_capacities():
    cycle, step, cap = [], [], []
    for c, (q_ch, q_dis) in enumerate([(180.0, 150.0), (152.0, 148.5), (150.0, 135.0)], start=1):
        for kind, q in (("charge", q_ch), ("discharge", q_dis)):
            cycle += [c] * 3
            step += [kind] * 3
            cap += [0.0, q / 2, q]
    record = Cycling(np.array(cycle), np.array(step), np.array(cap), np.ones(len(cap)), "c.csv")
    s = cycling_summary(record)
    assert s["first_discharge_capacity_mah_per_g"] == 150.0
    assert s["coulombic_efficiency_first"] == pytest.approx(150 / 180)
    assert s["capacity_retention"] == pytest.approx(0.9)
    assert (s["n_cycles"], s["retention_cycle"]) == (3, 3)


def test_propagate_matches_the_analytic_variance_of_a_ratio():
    values, cov = np.array([2.0, 4.0]), np.diag([0.01, 0.04])
    value, sigma = propagate(lambda p: p[0] / p[1], values, cov)
    assert value == 0.5
    assert sigma == pytest.approx(0.5 * np.hypot(0.1 / 2, 0.2 / 4), rel=1e-6)
