"""The realistic cell of a real scan: rods, anode foil, housing tube, truncation, phase contrast.

Selected by ``SyntheticParams(realistic_cell=True)``. Detector rows from the top (z = 0):

====================  ==================================================================
``cell_top_rod_rows``  steel current-collector rod (opaque at 20 keV, as through 1 mm)
``cell_foil_rows``     In-Li anode foil
``separator_rows``     LGPS separator with voids  (the microstructure of the plain cell)
the rest               NCM/LGPS composite with voids
``cell_bottom_gap``    air (the composite does not quite reach the rod)
``cell_bottom_rod``    steel rod
====================  ==================================================================

Every row lies inside a glass housing tube (inner radius = sample radius, outer radius
``tube_outer_frac * n_cols / 2``), and the sample is ``sample_width_frac`` times wider than the
detector, so every projection is truncated on both sides: the detector sees the sample's middle
only. The separator and composite are the plain cell's fine label volume
(`tomopress.synthetic.microstructure`), built on a wider grid; rods, foil and tube are
analytic (chord lengths through discs and an annulus).

Optics: each material has μ (cm⁻¹) and the refractive decrement δ. NCM and LGPS keep the
simulator's μ (``mu_am_cm``, ``mu_se_cm``) and take δ from their composition and density
(`xraydb`); foil, tube and rods take both from `xraydb`. The rods are as opaque as the real
cell's 1 mm rods: their μ and δ are scaled by 1 mm over the simulated sample diameter. The exit
wave ``exp(-P_μ/2 - i k P_δ)`` is computed per fine sub-pixel, Fresnel-propagated over
``propagation_distance_mm`` (`tomopress.synthetic.propagation`), and its intensity averaged over
each detector pixel; detector blur, gain, noise and defects follow as for the plain cell.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tomopress.synthetic.forward import projection_matrix
from tomopress.synthetic.microstructure import Microstructure, build_microstructure
from tomopress.synthetic.params import SyntheticParams
from tomopress.synthetic.propagation import (
    exit_wave,
    fresnel_propagate,
    intensity,
    wavelength_m,
)
from tomopress.types import AM, SE, F32Array, F64Array

__all__ = ["Material", "MATERIALS", "material_optics", "cell_materials", "stack_params",
           "CellGeometry", "cell_geometry", "realistic_transmission", "chord_length_px",
           "REAL_CELL_DIAMETER_UM", "realistic_truth"]

log = logging.getLogger(__name__)

#: diameter of the paper's cell (Sakka et al. 2022): what the rods' opacity is scaled to
REAL_CELL_DIAMETER_UM = 1000.0
_ANGLE_CHUNK = 32  # angles per sparse projector (bounds its memory)
_EXTRA_COLS = 16  # detector columns simulated beyond each edge (fringes from outside)


@dataclass(frozen=True)
class Material:
    """A material by composition and density (for `xraydb`)."""

    name: str
    formula: str
    density_g_cm3: float


#: the cell's materials (formula, density): NCM111, LGPS, In-Li foil, 316-type steel, glass
MATERIALS: dict[str, Material] = {
    "am": Material("NCM111", "LiNi0.333Mn0.333Co0.333O2", 4.7),
    "se": Material("LGPS", "Li10GeP2S12", 2.04),
    "foil": Material("In-Li", "In0.9Li0.1", 7.0),
    "rod": Material("steel", "Fe0.68Cr0.18Ni0.12Mo0.02", 7.9),
    "tube": Material("glass", "SiO2", 2.2),
}


@functools.lru_cache(maxsize=64)
def material_optics(formula: str, density_g_cm3: float, energy_kev: float) -> dict[str, float]:
    """δ, β and μ of a material from its composition and density (`xraydb`).

    Parameters
    ----------
    formula : str
        Chemical formula (fractional stoichiometry allowed, e.g. ``"In0.9Li0.1"``).
    density_g_cm3 : float
        Density in g/cm³, > 0.
    energy_kev : float
        Photon energy in keV, > 0.

    Returns
    -------
    dict
        ``delta``, ``beta`` (dimensionless), ``mu_per_cm`` (= 4πβ/λ, cm⁻¹) and
        ``delta_over_beta``.

    Examples
    --------
    >>> o = material_optics("Li10GeP2S12", 2.04, 20.0)
    >>> 19 < o["mu_per_cm"] < 23, 80 < o["delta_over_beta"] < 140
    (True, True)
    """
    import xraydb  # noqa: PLC0415 (only the realistic cell and phase retrieval need it)

    if not (density_g_cm3 > 0 and energy_kev > 0):
        raise ValueError(f"density and energy must be > 0, got {density_g_cm3!r}, {energy_kev!r}")
    delta, beta, atlen_cm = xraydb.xray_delta_beta(formula, float(density_g_cm3),
                                                   1000.0 * float(energy_kev))
    return {"delta": float(delta), "beta": float(beta), "mu_per_cm": 1.0 / float(atlen_cm),
            "delta_over_beta": float(delta) / float(beta)}


def cell_materials(params: SyntheticParams) -> dict[str, dict[str, Any]]:
    """μ (cm⁻¹) and δ of every material of the realistic cell, and where they come from.

    NCM and LGPS keep the simulator's μ and take δ from `xraydb`; the rods' μ and δ are
    scaled by ``REAL_CELL_DIAMETER_UM`` over the simulated sample diameter (see the module
    docstring). Void and air are 0.
    """
    diameter_um = params.sample_width_frac * params.n_cols * params.pixel_size_um
    out: dict[str, dict[str, Any]] = {}
    for key, mat in MATERIALS.items():
        o = material_optics(mat.formula, mat.density_g_cm3, params.energy_kev)
        mu, delta, scale = o["mu_per_cm"], o["delta"], 1.0
        if key == "am":
            mu = params.mu_am_cm
        elif key == "se":
            mu = params.mu_se_cm
        elif key == "rod":
            scale = REAL_CELL_DIAMETER_UM / diameter_um
        out[key] = {"name": mat.name, "formula": mat.formula,
                    "density_g_cm3": mat.density_g_cm3, "mu_per_cm": mu * scale,
                    "delta": delta * scale, "xraydb_mu_per_cm": o["mu_per_cm"],
                    "xraydb_delta_over_beta": o["delta_over_beta"], "scale": scale}
    return out


@dataclass(frozen=True)
class CellGeometry:
    """Rows and radii of the realistic cell (detector pixels; rows from the top)."""

    top_rows: int  #: rod + foil rows above the separator
    stack_rows: tuple[int, int]  #: [start, stop) of separator + composite
    rod_rows: tuple[tuple[int, int], tuple[int, int]]  #: top and bottom rod rows
    foil_rows: tuple[int, int]
    sample_radius_px: float
    tube_outer_radius_px: float
    object_cols: int  #: side of the fine-structure grid (coarse px), centred on the axis


def cell_geometry(params: SyntheticParams) -> CellGeometry:
    """Row layout and radii of the realistic cell (see the module docstring)."""
    top = params.cell_top_rod_rows + params.cell_foil_rows
    bottom = params.cell_bottom_gap_rows + params.cell_bottom_rod_rows
    radius = 0.5 * params.sample_width_frac * params.n_cols
    margin = int(np.ceil(abs(params.center_offset_px) + 2 + 2 * params.blur_sigma_px))
    side = int(np.ceil(2 * radius)) + 2 * margin
    side += (side - params.n_cols) % 2  # same parity: centred ROIs coincide
    return CellGeometry(
        top_rows=top,
        stack_rows=(top, params.n_rows - bottom),
        rod_rows=((0, params.cell_top_rod_rows),
                  (params.n_rows - params.cell_bottom_rod_rows, params.n_rows)),
        foil_rows=(params.cell_top_rod_rows, top),
        sample_radius_px=radius,
        tube_outer_radius_px=0.5 * params.tube_outer_frac * params.n_cols,
        object_cols=side,
    )


def stack_params(params: SyntheticParams) -> SyntheticParams:
    """The plain-cell parameters of the realistic cell's separator + composite stack.

    Same physics, with ``n_rows`` the stack's rows and ``n_cols`` the side of the wider grid
    that holds the whole sample disc (`CellGeometry.object_cols`).

    Raises
    ------
    ValueError
        If the cell's rows leave no room for the stack, the sample is not wider than the
        detector, or the tube is not wider than the sample.
    """
    for name in ("cell_top_rod_rows", "cell_foil_rows", "cell_bottom_gap_rows",
                 "cell_bottom_rod_rows"):
        if getattr(params, name) < 0:
            raise ValueError(f"SyntheticParams.{name}: must be >= 0, got {getattr(params, name)}")
    if not params.sample_width_frac > 1:
        raise ValueError("SyntheticParams.sample_width_frac: the realistic cell's sample is wider "
                         f"than the detector (> 1), got {params.sample_width_frac!r}")
    if not params.tube_outer_frac > params.sample_width_frac:
        raise ValueError("SyntheticParams.tube_outer_frac: must exceed sample_width_frac, got "
                         f"{params.tube_outer_frac!r}")
    if not (params.propagation_distance_mm >= 0 and params.energy_kev > 0):
        raise ValueError("SyntheticParams.propagation_distance_mm must be >= 0 and energy_kev > 0")
    geo = cell_geometry(params)
    n_stack = geo.stack_rows[1] - geo.stack_rows[0]
    if n_stack <= params.separator_rows:
        raise ValueError(
            f"SyntheticParams.n_rows: {params.n_rows} detector rows leave {n_stack} rows between "
            f"the rods and foil, not more than separator_rows={params.separator_rows}")
    frac = 2 * geo.sample_radius_px / geo.object_cols
    return dataclasses.replace(params, realistic_cell=False, n_rows=n_stack,
                               n_cols=geo.object_cols, cylinder_diameter_frac=frac)


def chord_length_px(s_px: npt.ArrayLike, radius_px: float) -> F64Array:
    """Length of the chord at distance `s_px` from the centre of a disc of `radius_px`.

    Examples
    --------
    >>> chord_length_px([0.0, 3.0, 6.0], 5.0).tolist()
    [10.0, 8.0, 0.0]
    """
    s = np.asarray(s_px, dtype=np.float64)
    return 2.0 * np.sqrt(np.clip(radius_px**2 - s**2, 0.0, None))


def _row_profiles(params: SyntheticParams, geo: CellGeometry, s_px: F64Array,
                  mats: dict[str, dict[str, Any]]) -> tuple[F64Array, F64Array]:
    """Analytic ∫μ (dimensionless) and ∫δ (m) of rods, foil, tube per fine row and fine column."""
    ff = params.fine_factor
    um = params.pixel_size_um
    disc = chord_length_px(s_px, geo.sample_radius_px)
    tube = chord_length_px(s_px, geo.tube_outer_radius_px) - disc
    p_mu = np.zeros((ff * params.n_rows, s_px.size))
    p_delta = np.zeros_like(p_mu)
    p_mu += tube * mats["tube"]["mu_per_cm"] * um * 1e-4
    p_delta += tube * mats["tube"]["delta"] * um * 1e-6
    bands = [(mats["rod"], r) for r in geo.rod_rows] + [(mats["foil"], geo.foil_rows)]
    for mat, (r0, r1) in bands:
        p_mu[ff * r0:ff * r1] += disc * mat["mu_per_cm"] * um * 1e-4
        p_delta[ff * r0:ff * r1] += disc * mat["delta"] * um * 1e-6
    return p_mu, p_delta


def _stack_projections(micro: Microstructure, params: SyntheticParams, geo: CellGeometry,
                       theta_rad: F64Array, s_fine: F64Array,
                       mats: dict[str, dict[str, Any]]) -> tuple[F32Array, F32Array]:
    """∫μ and ∫δ through the fine label volume of the stack: (A, fine rows, fine columns)."""
    ff = params.fine_factor
    vox_um = params.pixel_size_um / ff
    lut_mu = np.zeros(256, dtype=np.float32)
    lut_delta = np.zeros(256, dtype=np.float32)
    lut_mu[SE], lut_mu[AM] = mats["se"]["mu_per_cm"] * 1e-4 * vox_um, mats["am"]["mu_per_cm"] * 1e-4 * vox_um
    # δ line integral in µm (scaled to m below, keeping float32 well inside its range)
    lut_delta[SE], lut_delta[AM] = mats["se"]["delta"] * vox_um, mats["am"]["delta"] * vox_um
    nz, n, _ = micro.labels.shape
    flat = micro.labels.reshape(nz, n * n)
    x = np.ascontiguousarray(np.concatenate([lut_mu[flat], lut_delta[flat]]).T)  # (n², 2 nz)
    out_mu = np.empty((theta_rad.size, nz, s_fine.size), dtype=np.float32)
    out_delta = np.empty_like(out_mu)
    for a0 in range(0, theta_rad.size, _ANGLE_CHUNK):
        th = theta_rad[a0:a0 + _ANGLE_CHUNK]
        a_mat = projection_matrix(n, th, s_fine, support_radius=micro.cylinder_radius_fine + 1)
        p = np.asarray(a_mat @ x, dtype=np.float32).reshape(th.size, s_fine.size, 2 * nz)
        out_mu[a0:a0 + th.size] = p[:, :, :nz].transpose(0, 2, 1)
        out_delta[a0:a0 + th.size] = p[:, :, nz:].transpose(0, 2, 1)
    out_delta *= np.float32(1e-6)
    return out_mu, out_delta


def realistic_transmission(params: SyntheticParams, pressure_mpa: float,
                           theta_rad: npt.ArrayLike) -> tuple[Microstructure, F32Array, dict]:
    """Noise-free detector intensity (flat = 1) of the realistic cell, before blur.

    Parameters
    ----------
    params : SyntheticParams
        With ``realistic_cell=True``.
    pressure_mpa : float
        Stack pressure (MPa) for the microstructure.
    theta_rad : array_like of float, shape (A,)

    Returns
    -------
    micro : Microstructure
        The stack's fine labels on the wider grid (`stack_params`).
    transmission : ndarray of float32, shape (A, n_rows, n_cols)
        ``|ψ_z|²`` averaged over each detector pixel's fine sub-pixels.
    info : dict
        ``materials`` (`cell_materials`), ``geometry`` (rows, radii) and the optics
        (energy, wavelength, distance), for the truth file.
    """
    if not params.realistic_cell:
        raise ValueError("realistic_transmission needs SyntheticParams(realistic_cell=True)")
    sp = stack_params(params)
    geo, mats, _ = _cell_info(params)
    micro = build_microstructure(sp, pressure_mpa)
    theta = np.asarray(theta_rad, dtype=np.float64)
    ff = params.fine_factor
    n_ext = params.n_cols + 2 * _EXTRA_COLS
    k = np.arange(ff * n_ext)
    s_px = (k + 0.5) / ff - 0.5 - _EXTRA_COLS - params.center_px  # coarse px from the axis
    p_mu_rows, p_delta_rows = _row_profiles(params, geo, s_px, mats)
    st_mu, st_delta = _stack_projections(micro, sp, geo, theta, ff * s_px, mats)
    lam = wavelength_m(params.energy_kev)
    z_m = params.propagation_distance_mm * 1e-3
    px_m = params.pixel_size_um * 1e-6 / ff
    r0, r1 = ff * geo.stack_rows[0], ff * geo.stack_rows[1]
    out = np.empty((theta.size, params.n_rows, params.n_cols), dtype=np.float32)
    for a in range(theta.size):
        p_mu = p_mu_rows.copy()
        p_delta = p_delta_rows.copy()
        p_mu[r0:r1] += st_mu[a]
        p_delta[r0:r1] += st_delta[a]
        wave = fresnel_propagate(exit_wave(p_mu, p_delta, wavelength_m=lam), distance_m=z_m,
                                 wavelength_m=lam, pixel_size_m=px_m)
        inten = intensity(wave)[:, ff * _EXTRA_COLS:ff * (_EXTRA_COLS + params.n_cols)]
        out[a] = inten.reshape(params.n_rows, ff, params.n_cols, ff).mean(axis=(1, 3))
    _, _, info = _cell_info(params)
    return micro, out, info


def realistic_truth(micro: Microstructure, params: SyntheticParams, coarse: npt.NDArray[np.uint8],
                    fractions: dict[str, F32Array]) -> tuple[dict[str, Any], Any, dict]:
    """Truth of a realistic-cell scan in detector rows and reconstruction-grid pixels.

    The stack's truth (`tomopress.synthetic.truth`, on its own wider grid and rows) is moved to
    the detector: layer rows shifted by the rows above the separator, ROIs and the coarse label
    and fraction volumes cut to the ``n_cols x n_cols`` reconstruction grid, rods, foil and gap
    rows added as OUTSIDE (no phase counted there).

    Returns
    -------
    truth : dict
        ``layers``, ``row_phase_counts``, ``interface_row``, ``cylinder_radius_px``,
        ``energy_kev`` and ``cell`` (materials, geometry, optics: see
        :func:`realistic_transmission`), to update the plain truth with.
    coarse : ndarray of uint8, shape (n_rows, n_cols, n_cols)
    fractions : dict of str to ndarray of float32, shape (n_rows, n_cols, n_cols)
    """
    from tomopress.synthetic.truth import layer_truth, row_phase_counts  # noqa: PLC0415
    from tomopress.types import OUTSIDE  # noqa: PLC0415

    sp = stack_params(params)
    geo = cell_geometry(params)
    top = geo.stack_rows[0]
    cut = (geo.object_cols - params.n_cols) // 2
    layers = layer_truth(micro, sp)
    for t in layers.values():
        t["z_range_rows"] = [v + top for v in t["z_range_rows"]]
        t["full_z_range_rows"] = [v + top for v in t["full_z_range_rows"]]
        t["roi_xy_px"] = [v - cut for v in t["roi_xy_px"]]
    counts = row_phase_counts(micro, sp)
    below = params.n_rows - geo.stack_rows[1]
    counts = {k: [0] * top + v + [0] * below for k, v in counts.items()}
    grid = (slice(None), slice(cut, cut + params.n_cols), slice(cut, cut + params.n_cols))
    pad = ((top, below), (0, 0), (0, 0))
    coarse = np.pad(coarse[grid], pad, constant_values=OUTSIDE)
    fractions = {k: np.pad(v[grid], pad) for k, v in fractions.items()}
    _, _, info = _cell_info(params)
    truth = {"layers": layers, "row_phase_counts": counts,
             "interface_row": top + params.separator_rows,
             "cylinder_radius_px": geo.sample_radius_px, "energy_kev": params.energy_kev,
             "cell": info}
    return truth, coarse, fractions


def _cell_info(params: SyntheticParams) -> tuple[CellGeometry, dict, dict[str, Any]]:
    geo = cell_geometry(params)
    mats = cell_materials(params)
    info = {
        "materials": mats,
        "geometry": {"rod_rows": [list(r) for r in geo.rod_rows],
                     "foil_rows": list(geo.foil_rows), "stack_rows": list(geo.stack_rows),
                     "gap_rows": [geo.stack_rows[1], geo.rod_rows[1][0]],
                     "sample_radius_px": geo.sample_radius_px,
                     "tube_outer_radius_px": geo.tube_outer_radius_px,
                     "object_cols": geo.object_cols},
        "energy_kev": params.energy_kev, "wavelength_m": wavelength_m(params.energy_kev),
        "propagation_distance_mm": params.propagation_distance_mm,
    }
    return geo, mats, info
