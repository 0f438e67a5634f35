"""Synthetic impedance spectra and cycling curves made from a cell's own structure.

The physical model of the demo (issue 15), per scan, from its layer metrics:

- electrolyte: the bulk resistance is what the structure predicts,
  R0 = Σ_layers L / (σ_SE φ_SE / τ_f · A) (:func:`tomopress.echem.structure.predict_cell`),
  plus a grain-boundary arc R1 = f_gb · R0 (CPE1, apex `gb_apex_hz`): the measured
  σ_app = L / ((R0 + R1) A) is then σ_pred / (1 + f_gb);
- charge transfer: R2 = ρ_ct / A_c and a double layer C_dl = c_dl · A_c on the true AM|SE
  contact area A_c = a_c · L_comp · A, so R_ct ∝ 1/a_c (CPE2 with exponent `ct_cpe_n`
  carrying that capacitance);
- diffusion: an open Warburg element Wo1 (Z0, τ);
- Z = R0 + R1 ∥ CPE1 + R2 ∥ CPE2 + Wo1, evaluated here in closed form (independently of
  impedance.py), plus Gaussian noise of `noise_rel` · |Z| on the real and on the imaginary part;
- cycling: first discharge capacity q_max · (1 − φ_AM,isolated) · f_c^γ (f_c the contact-area
  fraction), times (1 + noise), fading by (1 − δ) per cycle with δ = δ0 · 0.5 / f_c; charge
  capacity of cycle 1 is 1/0.85 of its discharge (first-cycle loss), later cycles 1/0.995.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tomopress.echem.structure import cell_geometry, predict_cell
from tomopress.io.atomic import atomic_path, write_json_atomic
from tomopress.types import F64Array

__all__ = [
    "DEFAULT_CIRCUIT",
    "EchemModel",
    "cell_parameters",
    "cycling_rows",
    "default_circuit_impedance",
    "noisy",
    "write_synthetic_echem",
]

#: the circuit the model builds (impedance.py notation and parameter order)
DEFAULT_CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)-Wo1"


@dataclasses.dataclass(frozen=True)
class EchemModel:
    """Parameters of the synthetic electrochemistry (config ``echem.synthetic``)."""

    noise_rel: float = 0.01
    frequency_max_hz: float = 7.0e6
    frequency_min_hz: float = 0.01
    points_per_decade: int = 10
    gb_resistance_fraction: float = 0.5
    gb_apex_hz: float = 3.0e4
    gb_cpe_n: float = 0.9
    ct_resistance_ohm_cm2: float = 20.0
    dl_capacitance_uf_per_cm2: float = 50.0
    ct_cpe_n: float = 0.85
    warburg_ohm: float = 300.0
    warburg_tau_s: float = 10.0
    capacity_mah_per_g: float = 160.0
    contact_exponent: float = 0.5
    fade_per_cycle: float = 0.01
    n_cycles: int = 10
    points_per_step: int = 25

    def frequencies_hz(self) -> F64Array:
        """Measurement frequencies, highest first, `points_per_decade` per decade."""
        decades = math.log10(self.frequency_max_hz / self.frequency_min_hz)
        n = int(round(decades * self.points_per_decade)) + 1
        return np.logspace(math.log10(self.frequency_max_hz), math.log10(self.frequency_min_hz), n)


def default_circuit_impedance(frequency_hz: F64Array, params: Mapping[str, float]
                              ) -> npt.NDArray[np.complex128]:
    """Z (Ω) of R0-p(R1,CPE1)-p(R2,CPE2)-Wo1 in closed form.

    CPE: Z = 1/(Q (jω)^n); open Warburg: Z = Z0 / (√(jωτ) tanh √(jωτ)) (impedance.py's
    definitions, written out here so the test spectra do not come from the fitting library).

    Examples
    --------
    >>> p = dict(R0=1.0, R1=0.0, CPE1_0=1.0, CPE1_1=1.0, R2=2.0, CPE2_0=1e-30, CPE2_1=1.0,
    ...          Wo1_0=0.0, Wo1_1=1.0)
    >>> z = default_circuit_impedance(np.array([1.0]), p)[0]
    >>> round(float(z.real), 9), round(abs(float(z.imag)), 9)
    (3.0, 0.0)
    """
    jw = 2j * np.pi * np.asarray(frequency_hz, float)
    s = np.sqrt(jw * params["Wo1_1"])

    def rq(r: float, q: float, n: float) -> npt.NDArray[np.complex128]:
        admittance = q * jw ** n
        return r / (1 + r * admittance) if r > 0 else np.zeros_like(jw)

    return (params["R0"] + rq(params["R1"], params["CPE1_0"], params["CPE1_1"])
            + rq(params["R2"], params["CPE2_0"], params["CPE2_1"])
            + params["Wo1_0"] / (s * np.tanh(s)))


def noisy(z: npt.NDArray[np.complex128], noise_rel: float, rng: np.random.Generator
          ) -> npt.NDArray[np.complex128]:
    """`z` plus Gaussian noise of standard deviation `noise_rel` · |z| on each part."""
    scale = noise_rel * np.abs(z)
    return z + scale * (rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size))


def cell_parameters(
    composite: Mapping[str, Any], separator: Mapping[str, Any], *, geometry: Mapping[str, Any],
    sigma_se_s_per_cm: float, model: EchemModel,
) -> dict[str, Any]:
    """True circuit parameters and capacities of a cell from its layer metrics.

    Returns
    -------
    dict
        ``circuit`` parameters by impedance.py name (``R0`` ... ``Wo1_1``), and ``r_se_ohm``,
        ``r_ct_ohm``, ``c_dl_uf``, ``contact_area_cm2``, ``r_series_pred_ohm``,
        ``first_discharge_capacity_mah_per_g``, ``fade_per_cycle`` (the truths the pipeline
        should recover).

    Raises
    ------
    ValueError
        If the metrics lack what the model needs (tortuosity factor, contact area).
    """
    pred = predict_cell(composite, separator, geometry=geometry,
                        sigma_se_s_per_cm=sigma_se_s_per_cm)
    if pred["r_series_pred_ohm"] is None or not pred["contact_area_cm2"]:
        raise ValueError("the synthetic electrochemistry needs volume_fraction_se and tau_factor "
                         "of both layers and the composite's specific_contact_area_per_um")
    r0 = pred["r_series_pred_ohm"]
    r1 = model.gb_resistance_fraction * r0
    q1 = 1.0 / (r1 * (2 * np.pi * model.gb_apex_hz) ** model.gb_cpe_n)
    contact = pred["contact_area_cm2"]
    r2 = model.ct_resistance_ohm_cm2 / contact
    c_dl = model.dl_capacitance_uf_per_cm2 * 1e-6 * contact
    n2 = model.ct_cpe_n
    q2 = c_dl ** n2 * r2 ** (n2 - 1)  # Hsu-Mansfeld inverted: C = Q^(1/n) R^((1-n)/n)
    f_c = float(composite.get("contact_area_fraction") or 0.0)
    isolated = float(composite.get("am_fraction_ionically_isolated") or 0.0)
    q_first = model.capacity_mah_per_g * (1 - isolated) * f_c ** model.contact_exponent
    return {
        "circuit": DEFAULT_CIRCUIT,
        "params": {"R0": r0, "R1": r1, "CPE1_0": q1, "CPE1_1": model.gb_cpe_n, "R2": r2,
                   "CPE2_0": q2, "CPE2_1": n2, "Wo1_0": model.warburg_ohm,
                   "Wo1_1": model.warburg_tau_s},
        "r_se_ohm": r0 + r1, "r_ct_ohm": r2, "c_dl_uf": c_dl * 1e6, "contact_area_cm2": contact,
        "r_series_pred_ohm": r0,
        "first_discharge_capacity_mah_per_g": q_first,
        "fade_per_cycle": model.fade_per_cycle * 0.5 / max(f_c, 1e-3),
    }


def cycling_rows(q_first: float, fade: float, model: EchemModel, rng: np.random.Generator
                 ) -> tuple[list[tuple[int, str, float, float]], float]:
    """(cycle, step, capacity mAh/g, voltage V) rows of `model.n_cycles` charge/discharge cycles
    against In-Li, and the first discharge capacity after noise."""
    rows: list[tuple[int, str, float, float]] = []
    q1 = q_first * (1 + model.noise_rel * rng.standard_normal())
    x = np.linspace(0.0, 1.0, model.points_per_step)
    for cycle in range(1, model.n_cycles + 1):
        q_dis = q1 * (1 - fade) ** (cycle - 1)
        q_ch = q_dis / (0.85 if cycle == 1 else 0.995)
        v_ch = 3.0 + 0.55 * x**0.3 + 0.15 * x**6
        v_dis = 3.65 - 0.35 * x - 0.6 * x**8
        rows += [(cycle, "charge", float(q), float(v)) for q, v in zip(q_ch * x, v_ch, strict=True)]
        rows += [(cycle, "discharge", float(q), float(v))
                 for q, v in zip(q_dis * x, v_dis, strict=True)]
    return rows, q1


def write_synthetic_echem(
    metric_paths: Mapping[str, str], *, eis_path: str, cycling_path: str, truth_path: str,
    area_cm2: float | None, default_area_cm2: float, separator_thickness_um: float | None,
    composite_thickness_um: float | None, sigma_se_s_per_cm: float,
    model: Mapping[str, Any] | EchemModel, seed: int,
) -> dict[str, Any]:
    """Write a scan's synthetic spectrum (CSV), cycling curve (CSV) and their truth (JSON).

    Parameters
    ----------
    metric_paths : mapping
        ``composite`` and ``separator`` metric records (``results/<scan>/metrics/<layer>.json``).
    eis_path, cycling_path, truth_path : str
        Outputs (written atomically).
    area_cm2, separator_thickness_um, composite_thickness_um : float or None
        The sheet's geometry (None: the config area, the crop's thickness), as the analysis
        resolves it (:func:`tomopress.echem.structure.cell_geometry`).
    default_area_cm2, sigma_se_s_per_cm : float
        Config values.
    model : EchemModel or mapping of its fields
    seed : int
        Seed of the noise.

    Returns
    -------
    dict
        The truth record written to `truth_path`.
    """
    if not isinstance(model, EchemModel):
        model = EchemModel(**dict(model))
    layers = {name: json.loads(Path(p).read_text()) for name, p in metric_paths.items()}
    geometry = cell_geometry(
        area_cm2=area_cm2, default_area_cm2=default_area_cm2,
        separator_thickness_um=separator_thickness_um,
        composite_thickness_um=composite_thickness_um,
        separator_crop_um=layers["separator"].get("region_z_um"),
        composite_crop_um=layers["composite"].get("region_z_um"))
    truth = cell_parameters(layers["composite"], layers["separator"], geometry=geometry,
                            sigma_se_s_per_cm=sigma_se_s_per_cm, model=model)
    rng = np.random.default_rng(seed)
    freq = model.frequencies_hz()
    z = noisy(default_circuit_impedance(freq, truth["params"]), model.noise_rel, rng)
    with atomic_path(eis_path) as tmp:
        lines = ["# synthetic spectrum from the structure (tomopress.synthetic.echem)",
                 "frequency (Hz),Z' (Ohm),-Z'' (Ohm)"]
        lines += [f"{f:.6e},{v.real:.6e},{-v.imag:.6e}" for f, v in zip(freq, z, strict=True)]
        tmp.write_text("\n".join(lines) + "\n")
    rows, q1 = cycling_rows(truth["first_discharge_capacity_mah_per_g"], truth["fade_per_cycle"],
                            model, rng)
    with atomic_path(cycling_path) as tmp:
        lines = ["cycle,step,capacity (mAh/g),voltage (V)"]
        lines += [f"{c},{s},{q:.5f},{v:.5f}" for c, s, q, v in rows]
        tmp.write_text("\n".join(lines) + "\n")
    record = {**truth, "geometry": geometry, "sigma_se_s_per_cm": sigma_se_s_per_cm,
              "first_discharge_capacity_noisy_mah_per_g": q1, "seed": seed,
              "model": dataclasses.asdict(model)}
    write_json_atomic(truth_path, record)
    return record
