"""Structure -> electrochemistry: what the CT metrics predict, beside what was measured.

Per layer, the effective ionic conductivity of the SE network is σ_eff = σ_SE · φ_SE / τ_f
(σ_SE the bulk conductivity from the config, φ_SE the SE volume fraction, τ_f the flux-based
tortuosity factor, METRICS.md). Separator and composite in series give the predicted SE
resistance R_pred = L_sep / (σ_sep A) + L_comp / (σ_comp A) and the predicted apparent
conductivity σ_pred = (L_sep + L_comp) / (R_pred A), the quantity the measured
σ_app = (L_sep + L_comp) / (R_SE A) is compared with (ratio σ_app / σ_pred = R_pred / R_SE).

The composite's specific contact area a_c (AM|SE area per volume) gives the true contact area
A_c = a_c · L_comp · A; R_ct · A_c is the charge-transfer resistance per unit of real
interface, which stays constant with pressure if R_ct ∝ 1/a_c.

Uncertainties (1-sigma) come from the metrics' ``<column>_uncertainty`` columns where the
metrics table has them (0 where it does not), the bulk-conductivity uncertainty from the
config, and the fit; they are combined as independent relative errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["cell_geometry", "compare", "layer_sigma_eff", "predict_cell", "uncertainty_of"]


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def uncertainty_of(row: Mapping[str, Any], column: str) -> float:
    """The metrics row's ``<column>_uncertainty`` (1-sigma), 0 when absent or null.

    Examples
    --------
    >>> uncertainty_of({"tau_factor": 2.0, "tau_factor_uncertainty": 0.1}, "tau_factor")
    0.1
    >>> uncertainty_of({"tau_factor": 2.0}, "tau_factor")
    0.0
    """
    return _finite(row.get(f"{column}_uncertainty")) or 0.0


def _rel(*pairs: tuple[float, float]) -> float:
    """Combined relative 1-sigma of a product/quotient of independent (value, sigma) pairs."""
    return math.sqrt(sum((s / v) ** 2 for v, s in pairs if v))


def layer_sigma_eff(
    row: Mapping[str, Any], *, sigma_se_s_per_cm: float, sigma_se_uncertainty_s_per_cm: float = 0.0,
) -> tuple[float | None, float | None]:
    """σ_eff = σ_SE φ_SE / τ_f of one layer (S/cm) and its 1-sigma; None if φ_SE or τ_f is null.

    Examples
    --------
    >>> layer_sigma_eff({"volume_fraction_se": 0.5, "tau_factor": 2.0}, sigma_se_s_per_cm=0.01)
    (0.0025, 0.0)
    """
    phi, tau = _finite(row.get("volume_fraction_se")), _finite(row.get("tau_factor"))
    if phi is None or tau is None or tau <= 0:
        return None, None
    sigma = sigma_se_s_per_cm * phi / tau
    rel = _rel((sigma_se_s_per_cm, sigma_se_uncertainty_s_per_cm),
               (phi, uncertainty_of(row, "volume_fraction_se")),
               (tau, uncertainty_of(row, "tau_factor")))
    return sigma, sigma * rel


def cell_geometry(
    *, area_cm2: float | None, default_area_cm2: float, separator_thickness_um: float | None,
    composite_thickness_um: float | None, separator_crop_um: float | None,
    composite_crop_um: float | None,
) -> dict[str, Any]:
    """Cross-section and layer thicknesses: the sheet's values, else the config area and the
    crop's z extent (``region_z_um``; a lower bound, the crop leaves out transition rows).

    Examples
    --------
    >>> g = cell_geometry(area_cm2=None, default_area_cm2=0.00785, separator_thickness_um=500.0,
    ...     composite_thickness_um=None, separator_crop_um=8.5, composite_crop_um=18.5)
    >>> g["cell_area_cm2"], g["area_source"], g["composite_thickness_um"], g["thickness_source"]
    (0.00785, 'config', 18.5, 'sheet+crop')
    """
    sep = separator_thickness_um if separator_thickness_um else separator_crop_um
    comp = composite_thickness_um if composite_thickness_um else composite_crop_um
    sources = {bool(separator_thickness_um), bool(composite_thickness_um)}
    source = "sheet" if sources == {True} else "crop" if sources == {False} else "sheet+crop"
    return {
        "cell_area_cm2": area_cm2 if area_cm2 else default_area_cm2,
        "area_source": "sheet" if area_cm2 else "config",
        "separator_thickness_um": sep,
        "composite_thickness_um": comp,
        "thickness_um": (sep or 0.0) + (comp or 0.0) if sep or comp else None,
        "thickness_source": source,
    }


def predict_cell(
    composite: Mapping[str, Any], separator: Mapping[str, Any], *, geometry: Mapping[str, Any],
    sigma_se_s_per_cm: float, sigma_se_uncertainty_s_per_cm: float = 0.0,
) -> dict[str, Any]:
    """Predicted layer conductivities, series resistance and apparent conductivity of a cell.

    Parameters
    ----------
    composite, separator : mapping
        The layers' metrics rows (``volume_fraction_se``, ``tau_factor``,
        ``specific_contact_area_per_um`` and optional ``*_uncertainty`` columns).
    geometry : mapping
        From :func:`cell_geometry`.
    sigma_se_s_per_cm, sigma_se_uncertainty_s_per_cm : float
        Bulk SE conductivity and its 1-sigma (S/cm).

    Returns
    -------
    dict
        ``sigma_eff_{separator,composite}_s_per_cm``, ``r_{separator,composite,series}_pred_ohm``,
        ``sigma_pred_s_per_cm`` (each with ``*_uncertainty``), ``specific_contact_area_per_um``
        (+ uncertainty) and ``contact_area_cm2`` (None where an input is null).
    """
    area = geometry["cell_area_cm2"]
    out: dict[str, Any] = {}
    r_parts: list[tuple[float, float]] = []
    for name, row, thickness in (("separator", separator, geometry["separator_thickness_um"]),
                                 ("composite", composite, geometry["composite_thickness_um"])):
        sigma, s_sigma = layer_sigma_eff(row, sigma_se_s_per_cm=sigma_se_s_per_cm,
                                         sigma_se_uncertainty_s_per_cm=sigma_se_uncertainty_s_per_cm)
        out[f"volume_fraction_se_{name}"] = _finite(row.get("volume_fraction_se"))
        out[f"tau_factor_{name}"] = _finite(row.get("tau_factor"))
        out[f"sigma_eff_{name}_s_per_cm"] = sigma
        out[f"sigma_eff_{name}_s_per_cm_uncertainty"] = s_sigma
        r = s_r = None
        if sigma and thickness and area:
            r = thickness * 1e-4 / (sigma * area)
            s_r = r * (s_sigma or 0.0) / sigma
            r_parts.append((r, s_r))
        out[f"r_{name}_pred_ohm"], out[f"r_{name}_pred_ohm_uncertainty"] = r, s_r
    out["r_series_pred_ohm"] = out["r_series_pred_ohm_uncertainty"] = None
    out["sigma_pred_s_per_cm"] = out["sigma_pred_s_per_cm_uncertainty"] = None
    if len(r_parts) == 2:
        r_series = sum(r for r, _ in r_parts)
        # σ_SE is common to both layers: its share of the error adds linearly, the rest in
        # quadrature
        rel_bulk = sigma_se_uncertainty_s_per_cm / sigma_se_s_per_cm if sigma_se_s_per_cm else 0.0
        own = [math.sqrt(max(s**2 - (r * rel_bulk) ** 2, 0.0)) for r, s in r_parts]
        s_series = math.sqrt(sum(o**2 for o in own) + (r_series * rel_bulk) ** 2)
        out["r_series_pred_ohm"], out["r_series_pred_ohm_uncertainty"] = r_series, s_series
        sigma_pred = geometry["thickness_um"] * 1e-4 / (r_series * area)
        out["sigma_pred_s_per_cm"] = sigma_pred
        out["sigma_pred_s_per_cm_uncertainty"] = sigma_pred * s_series / r_series
    a_c = _finite(composite.get("specific_contact_area_per_um"))
    out["specific_contact_area_per_um"] = a_c
    out["specific_contact_area_per_um_uncertainty"] = (
        uncertainty_of(composite, "specific_contact_area_per_um") if a_c is not None else None)
    thickness = geometry["composite_thickness_um"]
    out["contact_area_cm2"] = (a_c * 1e4 * thickness * 1e-4 * area
                               if a_c and thickness and area else None)
    return out


def compare(predicted: Mapping[str, Any], measured: Mapping[str, Any]) -> dict[str, Any]:
    """Measured beside predicted: σ_app / σ_pred and R_ct per unit of real contact area.

    Returns
    -------
    dict
        ``sigma_ratio`` (σ_app / σ_pred) and ``sigma_ratio_uncertainty``; ``r_ct_contact_ohm_cm2``
        (R_ct · A_c) and its uncertainty (R_ct and a_c errors); None where an input is missing.

    Examples
    --------
    >>> compare({"sigma_pred_s_per_cm": 2e-3, "sigma_pred_s_per_cm_uncertainty": 0.0,
    ...          "contact_area_cm2": None}, {"sigma_app_s_per_cm": 1e-3,
    ...          "sigma_app_s_per_cm_uncertainty": 1e-5, "r_ct_ohm": None})["sigma_ratio"]
    0.5
    """
    out: dict[str, Any] = {"sigma_ratio": None, "sigma_ratio_uncertainty": None,
                           "r_ct_contact_ohm_cm2": None, "r_ct_contact_ohm_cm2_uncertainty": None}
    app, pred = measured.get("sigma_app_s_per_cm"), predicted.get("sigma_pred_s_per_cm")
    if app and pred:
        ratio = app / pred
        out["sigma_ratio"] = ratio
        out["sigma_ratio_uncertainty"] = ratio * _rel(
            (app, measured.get("sigma_app_s_per_cm_uncertainty") or 0.0),
            (pred, predicted.get("sigma_pred_s_per_cm_uncertainty") or 0.0))
    r_ct, contact = measured.get("r_ct_ohm"), predicted.get("contact_area_cm2")
    if r_ct and contact:
        value = r_ct * contact
        out["r_ct_contact_ohm_cm2"] = value
        out["r_ct_contact_ohm_cm2_uncertainty"] = value * _rel(
            (r_ct, measured.get("r_ct_ohm_uncertainty") or 0.0),
            (predicted["specific_contact_area_per_um"],
             predicted.get("specific_contact_area_per_um_uncertainty") or 0.0))
    return out
