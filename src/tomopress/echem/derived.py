"""Quantities derived from an impedance fit and a cycling record, with 1-sigma uncertainties.

- R_SE: the sum of the electrolyte elements of the circuit (default bulk R0 + grain-boundary
  R1), its variance from the full parameter covariance (R0 and R1 are anti-correlated).
- σ_app = L / (R_SE · A) in S/cm (L the SE path length, A the cell cross-section).
- R_ct in Ω and, times the geometric area, in Ω·cm².
- Double-layer capacitance of the CPE parallel to R_ct: C = Q^(1/n) R_ct^((1-n)/n)
  (Hsu & Mansfeld 2001, Corrosion 57, 747, DOI 10.5006/1.3280607); an ideal C element as is.
- From cycling: first discharge capacity (mAh/g), first-cycle coulombic efficiency and the
  capacity retention of the last cycle.

Uncertainties of functions of several parameters are propagated linearly through the
covariance (numerical gradient).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tomopress.echem.fit import CircuitFit
from tomopress.echem.readers import Cycling, step_capacities
from tomopress.types import F64Array

__all__ = [
    "cycling_summary",
    "effective_capacitance_f",
    "eis_quantities",
    "geometry_quantities",
    "propagate",
]


def propagate(fn: Callable[[F64Array], float], values: F64Array, covariance: F64Array
              ) -> tuple[float, float]:
    """Value and 1-sigma of ``fn(values)`` by linear propagation through `covariance`.

    Examples
    --------
    >>> value, sigma = propagate(lambda p: p[0] + p[1], np.array([1.0, 2.0]), np.diag([0.09, 0.16]))
    >>> value, round(sigma, 9)
    (3.0, 0.5)
    """
    values = np.asarray(values, float)
    grad = np.zeros(values.size)
    for k in range(values.size):
        h = 1e-6 * max(abs(values[k]), 1e-12)
        up, down = values.copy(), values.copy()
        up[k] += h
        down[k] -= h
        grad[k] = (fn(up) - fn(down)) / (2 * h)
    variance = float(grad @ np.asarray(covariance, float) @ grad)
    return float(fn(values)), math.sqrt(variance) if variance >= 0 else math.nan


def effective_capacitance_f(q: float, n: float, r_ohm: float) -> float:
    """Capacitance (F) of a CPE (Q in Ω⁻¹ sⁿ, exponent n) parallel to a resistor R (Ω).

    Hsu & Mansfeld: C = Q^(1/n) R^((1-n)/n); for n = 1 it is Q.

    Examples
    --------
    >>> effective_capacitance_f(2e-6, 1.0, 100.0)
    2e-06
    >>> round(effective_capacitance_f(1e-5, 0.9, 100.0) * 1e6, 3)  # 10^(-5/0.9) * 100^(0.1/0.9)
    4.642
    """
    return float(q ** (1.0 / n) * r_ohm ** ((1.0 - n) / n))


def _param_fn(fit: CircuitFit, names: Sequence[str]) -> Callable[[F64Array], float]:
    index = [fit.names.index(n) for n in names]
    return lambda p: float(sum(p[i] for i in index))


def eis_quantities(
    fit: CircuitFit, *, r_se_elements: Sequence[str], r_ct_element: str | None,
    c_dl_element: str | None,
) -> dict[str, Any]:
    """R_SE, R_ct and the double-layer capacitance of a fit, each with its 1-sigma.

    Parameters
    ----------
    fit : CircuitFit
    r_se_elements : sequence of str
        Resistors whose sum is the electrolyte resistance (e.g. ``["R0", "R1"]``).
    r_ct_element : str or None
        The charge-transfer resistor (e.g. ``"R2"``).
    c_dl_element : str or None
        The C or CPE element parallel to it (e.g. ``"CPE2"``).

    Returns
    -------
    dict
        ``r_se_ohm``, ``r_ct_ohm``, ``c_dl_uf`` and their ``*_uncertainty`` (1-sigma); None where
        the circuit lacks an element of the role.
    """
    out: dict[str, Any] = {k: None for k in ("r_se_ohm", "r_se_ohm_uncertainty", "r_ct_ohm",
                                             "r_ct_ohm_uncertainty", "c_dl_uf",
                                             "c_dl_uf_uncertainty")}
    cov = fit.covariance
    if r_se_elements and all(n in fit.names for n in r_se_elements):
        out["r_se_ohm"], out["r_se_ohm_uncertainty"] = propagate(
            _param_fn(fit, r_se_elements), fit.values, cov)
    if r_ct_element and r_ct_element in fit.names:
        out["r_ct_ohm"], out["r_ct_ohm_uncertainty"] = propagate(
            _param_fn(fit, [r_ct_element]), fit.values, cov)
        if c_dl_element and c_dl_element in fit.names:  # an ideal capacitor
            i = fit.names.index(c_dl_element)
            out["c_dl_uf"], out["c_dl_uf_uncertainty"] = propagate(
                lambda p: 1e6 * float(p[i]), fit.values, cov)
        elif c_dl_element and f"{c_dl_element}_0" in fit.names:
            iq, i_n = fit.names.index(f"{c_dl_element}_0"), fit.names.index(f"{c_dl_element}_1")
            ir = fit.names.index(r_ct_element)
            out["c_dl_uf"], out["c_dl_uf_uncertainty"] = propagate(
                lambda p: 1e6 * effective_capacitance_f(p[iq], p[i_n], p[ir]), fit.values, cov)
    return out


def geometry_quantities(
    eis: dict[str, Any], *, area_cm2: float | None, thickness_um: float | None,
) -> dict[str, Any]:
    """σ_app = L / (R_SE A) (S/cm) and R_ct·A (Ω·cm²), with 1-sigma from R alone.

    Examples
    --------
    >>> q = geometry_quantities({"r_se_ohm": 100.0, "r_se_ohm_uncertainty": 1.0,
    ...     "r_ct_ohm": 50.0, "r_ct_ohm_uncertainty": 2.0}, area_cm2=0.5, thickness_um=500.0)
    >>> round(q["sigma_app_s_per_cm"], 6), round(q["r_ct_ohm_cm2"], 3)
    (0.001, 25.0)
    """
    out: dict[str, Any] = {k: None for k in ("sigma_app_s_per_cm",
                                             "sigma_app_s_per_cm_uncertainty", "r_ct_ohm_cm2",
                                             "r_ct_ohm_cm2_uncertainty")}
    r_se = eis.get("r_se_ohm")
    if r_se and area_cm2 and thickness_um:
        sigma = thickness_um * 1e-4 / (r_se * area_cm2)
        out["sigma_app_s_per_cm"] = sigma
        out["sigma_app_s_per_cm_uncertainty"] = sigma * (eis["r_se_ohm_uncertainty"] or 0) / r_se
    r_ct = eis.get("r_ct_ohm")
    if r_ct is not None and area_cm2:
        out["r_ct_ohm_cm2"] = r_ct * area_cm2
        out["r_ct_ohm_cm2_uncertainty"] = (eis["r_ct_ohm_uncertainty"] or 0) * area_cm2
    return out


def cycling_summary(cycling: Cycling) -> dict[str, Any]:
    """First discharge capacity, first-cycle coulombic efficiency and retention of a record.

    Returns
    -------
    dict
        ``first_discharge_capacity_mah_per_g`` (the first cycle with a discharge step),
        ``first_charge_capacity_mah_per_g`` (same cycle; None if it has no charge step),
        ``coulombic_efficiency_first`` (discharge / charge), ``capacity_retention`` (last
        cycle's discharge capacity / the first), ``n_cycles`` (cycles with a discharge),
        ``retention_cycle`` (the last of them), and ``discharge_capacity_mah_per_g`` (per cycle).
    """
    discharge = step_capacities(cycling, "discharge")
    charge = step_capacities(cycling, "charge")
    first_cycle = min(discharge)
    last_cycle = max(discharge)
    first = discharge[first_cycle]
    first_charge = charge.get(first_cycle)
    return {
        "first_discharge_capacity_mah_per_g": first,
        "first_charge_capacity_mah_per_g": first_charge,
        "coulombic_efficiency_first": (first / first_charge) if first_charge else None,
        "capacity_retention": discharge[last_cycle] / first if first > 0 else None,
        "n_cycles": len(discharge),
        "retention_cycle": last_cycle,
        "discharge_capacity_mah_per_g": {str(k): v for k, v in discharge.items()},
    }
