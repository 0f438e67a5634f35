"""Synthetic beamtime: a pressure series of DXchange scans of a model ASSB cell, with truth.

Builds a cell cross-section on a grid ``fine_factor`` times finer than the detector pixel (SE
separator in the low detector rows, NCM/LGPS composite with voids below; see
`tomopress.synthetic.microstructure`), projects it at 20 keV in parallel beam, and records it
like a detector would: Beer-Lambert transmission averaged over the fine sub-pixels (partial
volume), Gaussian blur, per-column gain, ``I = Poisson(g I0 e^-p) + dark + read noise``, flats
and darks, ring columns whose gain is not in the flats, dead columns, zingers, and a rotation
axis off the detector middle.

Geometry: ``vol[z, y, x]``; projection at θ (radians) integrates μ along
``x cos θ - y sin θ = s`` with ``x = col - c_img``, ``y = row - c_img``, ``c_img = (n - 1) / 2``
on the ``n_cols x n_cols`` reconstruction grid, and detector column ``u = s + center_px``
(``center_px = (n_cols - 1) / 2 + center_offset_px``). This is the convention of `tomopress.recon.reconstruct` and of
skimage's radon, with the axis at `center_px` (see `tomopress.synthetic.forward`).

Files written by `simulate_scan` (``<stem>`` = the scan path without ``.h5``):

- ``<stem>.h5``: ``/exchange/data``, ``/exchange/data_white``, ``/exchange/data_dark`` (uint16,
  theta:y:x), ``/exchange/theta`` (degrees, [0, 180) evenly spaced), the pixel size at
  ``/measurement/instrument/detection_system/objective/resolution`` (µm) and root attributes
  ``pressure_mpa``, ``seed``, ``simulation_params`` (JSON).
- ``<stem>.truth.h5``: ``labels`` (coarse, majority of each fine block, 255 = air) and
  ``void_fraction``, ``se_fraction``, ``am_fraction`` (coarse partial-volume fractions).
- ``<stem>.truth.json``: the dict `simulate_scan` returns (keys listed there).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt

from tomopress import __version__
from tomopress.io.atomic import atomic_path, write_json_atomic
from tomopress.synthetic.acquisition import (
    acquisition_angles_deg,
    acquisition_truth,
    cut_to_detector,
)
from tomopress.synthetic.forward import (
    blur_projections,
    detector_counts,
    projection_matrix,
    radon_parallel,
)
from tomopress.synthetic.microstructure import Microstructure, build_microstructure
from tomopress.synthetic.params import SyntheticParams, pressure_model
from tomopress.synthetic.truth import coarsen_labels, layer_truth, row_phase_counts
from tomopress.types import AM, OUTSIDE, SE, F32Array

__all__ = ["SyntheticParams", "pressure_model", "SimulatedScan", "simulate_projections",
           "simulate_scan", "fine_transmission", "radon_parallel", "truth_paths"]

log = logging.getLogger(__name__)

ENERGY_KEV = 20.0
PIXEL_SIZE_PATH = "/measurement/instrument/detection_system/objective/resolution"
ENERGY_PATH = "/measurement/instrument/monochromator/energy"
DISTANCE_PATH = "/measurement/instrument/camera_motor_stack/setup/camera_distance"


@dataclass(frozen=True)
class SimulatedScan:
    """In-memory result of `simulate_projections`.

    Attributes
    ----------
    data, flats, darks : ndarray of uint16, shape (A, R, C), (F, R, C), (D, R, C)
    theta_deg : ndarray of float64, shape (A,)
    ideal_line_integrals : ndarray of float32, shape (A, R, C)
        ``-log`` of the noise-free, blur-free, defect-free transmission per detector pixel.
    micro : Microstructure
        The fine label volume and its construction.
    defects : dict
        ``ring_columns``, ``ring_gain_errors``, ``dead_columns``, ``zingers`` ([angle, row, col]).
    """

    data: npt.NDArray[np.uint16]
    flats: npt.NDArray[np.uint16]
    darks: npt.NDArray[np.uint16]
    theta_deg: npt.NDArray[np.float64]
    ideal_line_integrals: F32Array
    micro: Microstructure
    defects: dict[str, Any]


def fine_transmission(micro: Microstructure, params: SyntheticParams,
                      theta_rad: npt.ArrayLike) -> F32Array:
    """Noise-free transmission per detector pixel, averaged over its fine sub-pixels.

    Line integrals are taken through the fine label volume for every fine sub-row and fine
    sub-column of the detector; Beer-Lambert is applied there and the intensities averaged
    (partial volume as a real detector sees it).

    Returns
    -------
    ndarray of float32, shape (A, n_rows, n_cols)
    """
    ff = params.fine_factor
    lut = np.zeros(256, dtype=np.float32)
    vox_um = params.pixel_size_um / ff
    lut[SE] = params.mu_se_cm * 1e-4 * vox_um  # attenuation per fine voxel length
    lut[AM] = params.mu_am_cm * 1e-4 * vox_um
    nz, n, _ = micro.labels.shape
    x = np.ascontiguousarray(lut[micro.labels.reshape(nz, n * n)].T)
    k = np.arange(ff * params.n_cols)
    det_s = ff * ((k + 0.5) / ff - 0.5 - params.center_px)  # fine sub-column rays, fine units
    theta = np.asarray(theta_rad, dtype=np.float64)
    a_mat = projection_matrix(n, theta, det_s, support_radius=micro.cylinder_radius_fine + 1)
    p = np.asarray(a_mat @ x, dtype=np.float32)
    del x
    np.negative(p, out=p)
    np.exp(p, out=p)
    t = p.reshape(len(theta), params.n_cols, ff, params.n_rows, ff).mean(axis=(2, 4))
    return np.ascontiguousarray(t.transpose(0, 2, 1), dtype=np.float32)


def _defects(params: SyntheticParams, rng: np.random.Generator,
             radius_px: float) -> dict[str, Any]:
    c = params.center_px
    shadow = np.flatnonzero(np.abs(np.arange(params.n_cols) - c) < 0.85 * radius_px)
    n_pick = min(params.n_ring_columns + params.n_dead_columns, shadow.size)
    picked = rng.choice(shadow, size=n_pick, replace=False)
    rings = sorted(int(v) for v in picked[:params.n_ring_columns])
    dead = sorted(int(v) for v in picked[params.n_ring_columns:])
    errors = [float(params.ring_gain_error * rng.uniform(0.5, 1.0) * rng.choice([-1, 1]))
              for _ in rings]
    zingers = np.column_stack([rng.integers(0, n, size=params.n_zingers)
                               for n in (params.n_angles, params.n_rows, params.n_cols)])
    return {"ring_columns": rings, "ring_gain_errors": errors, "dead_columns": dead,
            "zingers": zingers.tolist()}


def simulate_projections(params: SyntheticParams, *, pressure_mpa: float,
                         seed: int) -> SimulatedScan:
    """Simulate one scan in memory (see the module docstring for the model).

    Parameters
    ----------
    params : SyntheticParams
        Geometry, detector and microstructure settings.
    pressure_mpa : float
        Stack pressure in MPa (> 0); sets porosities and void shape via `pressure_model`.
    seed : int
        Seed of the detector noise and defect positions (the microstructure uses
        ``params.microstructure_seed``).

    Returns
    -------
    SimulatedScan
    """
    t0 = time.perf_counter()
    theta_deg = acquisition_angles_deg(params)
    if params.realistic_cell:  # rods, foil, tube, truncation, phase contrast (issue 14)
        from tomopress.synthetic.cell import realistic_transmission  # noqa: PLC0415 (cycle)

        micro, trans, _ = realistic_transmission(params, pressure_mpa, np.deg2rad(theta_deg))
        t1 = t0
        shadow_radius_px = params.n_cols / 2  # the sample covers the whole detector
    else:
        micro = build_microstructure(params, pressure_mpa)
        t1 = time.perf_counter()
        trans = fine_transmission(micro, params, np.deg2rad(theta_deg))
        shadow_radius_px = micro.cylinder_radius_fine / params.fine_factor
    t2 = time.perf_counter()
    ideal = -np.log(np.maximum(trans, np.float32(1e-30)))
    blur_projections(trans, params.blur_sigma_px)

    rng = np.random.default_rng(seed)
    defects = _defects(params, rng, shadow_radius_px)
    u = (np.arange(params.n_cols) - (params.n_cols - 1) / 2) / (params.n_cols / 2)
    gain = (1 - 0.15 * u**2) * np.clip(1 + params.gain_spread * rng.standard_normal(u.size),
                                        0.5, 1.5)
    gain[defects["dead_columns"]] = 0.0
    dark = params.dark_counts * (1 + 0.02 * rng.standard_normal(u.size))
    gain_proj = gain.copy()
    gain_proj[defects["ring_columns"]] *= 1 + np.asarray(defects["ring_gain_errors"])
    noise_rng = rng if params.noise else None
    kw = {"i0_counts": params.i0_counts, "dark": dark,
          "read_noise_counts": params.read_noise_counts, "rng": noise_rng}
    if params.drift_total:
        trans *= (1 + params.drift_total * np.linspace(0, 1, theta_deg.size,
                                                        dtype=np.float32))[:, None, None]
    data = detector_counts(trans, gain=gain_proj, **kw)
    del trans
    shape = (params.n_rows, params.n_cols)
    open_beam = np.ones((params.n_flats, *shape), np.float32)
    if params.drift_total:  # the second half of the flats is taken after the projections
        open_beam[params.n_flats // 2:] *= 1 + params.drift_total
    flats = detector_counts(open_beam, gain=gain, **kw)
    darks = detector_counts(np.zeros((params.n_darks, *shape), np.float32), gain=gain, **kw)
    for a, r, c in defects["zingers"]:
        data[a, r, c] = min(65535, int(data[a, r, c]) + int(params.i0_counts * rng.uniform(0.5, 2)))
    log.info("simulated %.1f MPa: microstructure %.1f s, projection %.1f s, total %.1f s",
             pressure_mpa, t1 - t0, t2 - t1, time.perf_counter() - t0)
    return SimulatedScan(data=data, flats=flats, darks=darks, theta_deg=theta_deg,
                         ideal_line_integrals=ideal, micro=micro, defects=defects)


def truth_paths(out_path: str | Path) -> tuple[Path, Path]:
    """``(<stem>.truth.json, <stem>.truth.h5)`` next to the scan file `out_path`."""
    out_path = Path(out_path)
    stem = out_path.with_suffix("") if out_path.suffix in (".h5", ".hdf5", ".hdf") else out_path
    return stem.with_name(stem.name + ".truth.json"), stem.with_name(stem.name + ".truth.h5")


def simulate_scan(out_path: str | Path, *, pressure_mpa: float,
                  params: SyntheticParams | None = None, seed: int) -> dict[str, Any]:
    """Simulate one scan and write it as DXchange HDF5 plus its ground truth.

    Parameters
    ----------
    out_path : str or Path
        The scan file (``.h5``); ``<stem>.truth.json`` and ``<stem>.truth.h5`` go beside it.
        All three are written atomically.
    pressure_mpa : float
        Stack pressure in MPa, > 0.
    params : SyntheticParams, optional
        Defaults to the demo ``SyntheticParams()``.
    seed : int
        Noise and defect seed.

    Returns
    -------
    dict
        The truth, as written to ``<stem>.truth.json``: ``pressure_mpa``, ``seed``,
        ``microstructure_seed``, ``voxel_size_um`` (detector pixel = reconstructed voxel),
        ``fine_voxel_size_um``, ``center_px`` (0-based detector column of the axis),
        ``center_offset_px``, ``detector_shape`` [rows, cols], ``n_angles``, ``theta_deg_range``,
        ``energy_kev``, ``mu_cm`` {void, se, am}, ``targets`` (the pressure model),
        ``interface_row`` (first composite row), ``cylinder_radius_px``, ``n_particles``,
        ``layers`` {composite, separator} each with ``z_range_rows`` [z0, z1) (transition rows
        excluded), ``full_z_range_rows``, ``roi_xy_px`` [y0, y1, x0, x1], ``volume_fraction``
        {void, se, am} and ``porosity`` (fine labels in that ROI and row range),
        ``target_porosity``, ``full_layer_porosity``, ``am_solid_ratio``;
        ``row_phase_counts`` {void, se, am}: fine-voxel counts per detector row in the layers'
        ROI, for the truth over any rows (``tomopress.synthetic.truth.fractions_in_rows``);
        ``defects``
        (ring columns, their gain errors, dead columns, zingers) and ``files``.

    Raises
    ------
    ValueError
        If `pressure_mpa` is not a finite positive number.
    """
    params = SyntheticParams() if params is None else params
    pressure_model(pressure_mpa)  # validates
    out_path = Path(out_path)
    json_path, h5_truth = truth_paths(out_path)
    scan = cut_to_detector(simulate_projections(params, pressure_mpa=pressure_mpa, seed=seed),
                           params)
    micro = scan.micro
    ff = params.fine_factor
    coarse, fractions = coarsen_labels(micro.labels, ff)
    if params.realistic_cell:
        from tomopress.synthetic.cell import realistic_truth  # noqa: PLC0415 (cycle)

        truth_cell, coarse, fractions = realistic_truth(micro, params, coarse, fractions)
    else:
        truth_cell = {"layers": layer_truth(micro, params),
                      "row_phase_counts": row_phase_counts(micro, params)}

    truth: dict[str, Any] = {
        "pressure_mpa": float(pressure_mpa),
        "seed": int(seed),
        "microstructure_seed": int(params.microstructure_seed),
        "voxel_size_um": float(params.pixel_size_um),
        "fine_voxel_size_um": params.pixel_size_um / ff,
        "center_px": float(params.center_px),
        "center_offset_px": float(params.center_offset_px),
        "detector_shape": [params.n_rows, params.n_cols],
        "n_angles": params.n_angles,
        "theta_deg_range": [0.0, 180.0],
        "energy_kev": ENERGY_KEV,
        "mu_cm": {"void": 0.0, "se": params.mu_se_cm, "am": params.mu_am_cm},
        "targets": micro.targets,
        "interface_row": params.separator_rows,
        "cylinder_radius_px": micro.cylinder_radius_fine / ff,
        "n_particles": int(micro.particles.radii.size),
        "layers": truth_cell.pop("layers"),
        "row_phase_counts": truth_cell.pop("row_phase_counts"),
        "defects": scan.defects,
        "files": {"scan": out_path.name, "truth_h5": h5_truth.name},
    }
    truth.update(acquisition_truth(params))
    truth.update(truth_cell)  # the realistic cell's rows, radii and materials
    attrs = {"pressure_mpa": float(pressure_mpa), "voxel_size_um": float(params.pixel_size_um),
             "axes": "z:y:x", "generator": f"tomopress.synthetic.beamtime {__version__}",
             "labels": json.dumps({"void": 0, "se": 1, "am": 2, "outside": OUTSIDE})}
    with atomic_path(h5_truth) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(attrs)
        kw = {"chunks": True, "compression": "gzip", "compression_opts": 1, "shuffle": True}
        f.create_dataset("labels", data=coarse, **kw)
        for name, arr in fractions.items():
            f.create_dataset(f"{name}_fraction", data=arr, **kw)
    write_json_atomic(json_path, truth)
    _write_dxchange(out_path, scan, params, pressure_mpa=pressure_mpa, seed=seed)
    return truth


def _write_dxchange(path: Path, scan: SimulatedScan, params: SyntheticParams, *,
                    pressure_mpa: float, seed: int) -> None:
    n_a, n_r, n_c = scan.data.shape
    rows_per_chunk = min(8, n_r)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["pressure_mpa"] = float(pressure_mpa)
        f.attrs["seed"] = int(seed)
        f.attrs["energy_kev"] = ENERGY_KEV
        f.attrs["generator"] = f"tomopress.synthetic.beamtime {__version__}"
        f.attrs["simulation_params"] = json.dumps(params.as_dict(), sort_keys=True)
        ex = f.create_group("exchange")
        n_before = params.n_flats // 2 if params.drift_total else params.n_flats
        flat_sets = ([("data_white", scan.flats)] if n_before == params.n_flats else
                     [("data_white_pre", scan.flats[:n_before]),
                      ("data_white_post", scan.flats[n_before:])])
        for name, arr in (("data", scan.data), *flat_sets, ("data_dark", scan.darks)):
            ds = ex.create_dataset(name, data=arr, chunks=(arr.shape[0], rows_per_chunk, n_c))
            ds.attrs["axes"] = "theta:y:x"
        th = ex.create_dataset("theta", data=scan.theta_deg.astype(np.float64))
        th.attrs["units"] = "degrees"
        res = f.create_dataset(PIXEL_SIZE_PATH, data=float(params.pixel_size_um))
        res.attrs["units"] = "um"
        if params.realistic_cell:  # what phase retrieval reads (the paths of tomopy-cli)
            energy = f.create_dataset(ENERGY_PATH, data=float(params.energy_kev))
            energy.attrs["units"] = "keV"
            dist = f.create_dataset(DISTANCE_PATH, data=float(params.propagation_distance_mm))
            dist.attrs["units"] = "mm"
