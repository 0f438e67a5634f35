"""``tomopress eis FILE``: fit one spectrum and report it as a JSON-ready dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tomopress.echem.derived import eis_quantities, geometry_quantities
from tomopress.echem.fit import fit_circuit, kramers_kronig
from tomopress.echem.readers import read_eis

__all__ = ["eis_report"]


def _defaults() -> dict[str, Any]:
    from tomopress.intake.config import validate_config

    return validate_config({})["echem"]


def eis_report(
    path: str | Path, *, circuit: str | None = None, area_cm2: float | None = None,
    thickness_um: float | None = None, r_se_elements: list[str] | None = None,
    r_ct_element: str | None = None, c_dl_element: str | None = None,
    initial_guess: list[float] | None = None, weight_by_modulus: bool = True,
) -> dict[str, Any]:
    """Fit `path` and return the CLI's JSON object.

    Keys: ``path``, ``circuit``, ``n_points``, ``frequency_min_hz``, ``frequency_max_hz``, every
    fitted parameter by its impedance.py name (``R0``, ``CPE1_0``, ...), ``std`` and ``units``
    (per parameter), ``fit_residual_rms``, ``kk`` (lin-KK result), and where they apply
    ``r_se_ohm``, ``r_ct_ohm``, ``c_dl_uf`` (each with ``*_uncertainty``), ``r_ct_ohm_cm2``
    (with an area) and ``sigma_app_s_per_cm`` (with area and thickness).

    Roles default to the config's (``R0,R1``, ``R2``, ``CPE2``) for the config's circuit; for
    another circuit R_SE is ``R0`` alone and R_ct and C_dl are reported only when named.

    Raises
    ------
    RawDataError
        A bad file (every problem listed).
    ValueError
        A bad circuit, role, guess or value, or a fit that does not converge.
    """
    defaults = _defaults()
    circuit = (circuit or defaults["circuit"]).replace(" ", "")
    default_circuit = circuit == defaults["circuit"]
    if r_se_elements is None:
        r_se_elements = list(defaults["r_se_elements"]) if default_circuit else ["R0"]
    if r_ct_element is None and default_circuit:
        r_ct_element = defaults["r_ct_element"]
    if c_dl_element is None and default_circuit:
        c_dl_element = defaults["c_dl_element"]
    for name, value in (("--area-cm2", area_cm2), ("--thickness-um", thickness_um)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")
    spectrum = read_eis(path)
    kk = kramers_kronig(spectrum.frequency_hz, spectrum.z_ohm,
                        max_residual_rms=defaults["kk_max_residual_rms"])
    fit = fit_circuit(spectrum.frequency_hz, spectrum.z_ohm, circuit=circuit,
                      initial_guess=initial_guess, weight_by_modulus=weight_by_modulus,
                      noise_rms=kk["residual_rms"])
    missing = [n for n in [*r_se_elements, r_ct_element] if n and n not in fit.names]
    if missing and not default_circuit:
        raise ValueError(f"{path}: role element(s) {missing} not in circuit {circuit} "
                         f"(parameters {list(fit.names)})")
    report: dict[str, Any] = {
        "path": str(path), "circuit": fit.circuit, "n_points": fit.n_points,
        "frequency_min_hz": float(spectrum.frequency_hz.min()),
        "frequency_max_hz": float(spectrum.frequency_hz.max()),
        **{name: float(v) for name, v in zip(fit.names, fit.values, strict=True)},
        "std": {name: float(s) for name, s in zip(fit.names, fit.std, strict=True)},
        "units": dict(zip(fit.names, fit.units, strict=True)),
        "fit_residual_rms": fit.residual_rms_rel,
        "weight_by_modulus": weight_by_modulus,
        "kk": kk,
    }
    derived = eis_quantities(fit, r_se_elements=r_se_elements, r_ct_element=r_ct_element,
                             c_dl_element=c_dl_element)
    derived.update(geometry_quantities(derived, area_cm2=area_cm2, thickness_um=thickness_um))
    report.update({k: v for k, v in derived.items() if v is not None})
    return report


