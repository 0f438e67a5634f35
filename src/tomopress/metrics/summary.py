"""Scalar metrics of any labelled volume, by family, for ``tomopress metrics``.

Each family returns a flat dict with units in its keys. A family whose phases are missing from
the volume returns its keys as None plus ``<family>_null_reason``, instead of failing, so a
volume exported from another tool (Dragonfly, ilastik) always yields a complete record.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tomopress.metrics._checks import checked_voxel_size_um
from tomopress.metrics.anisotropy import directional_contact_fractions
from tomopress.metrics.connectivity import se_connectivity
from tomopress.metrics.contact import contact_metrics
from tomopress.metrics.diffusion import tortuosity_factor
from tomopress.metrics.fractions import volume_fractions
from tomopress.metrics.particles import am_particle_sizes, local_thickness_summary
from tomopress.metrics.tortuosity import geometric_tortuosity, tiled_geometric_tortuosity
from tomopress.types import AM, SE, VOID, LabelVolume

__all__ = ["FAMILIES", "DETAIL_KEYS", "summary_metrics"]

Family = Callable[[LabelVolume, float], dict[str, Any]]


def _fractions(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    result = volume_fractions(labels)
    result["region_volume_um3"] = result["n_voxels"] * voxel_size_um**3
    return result


def _contact(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    return contact_metrics(labels, voxel_size_um=voxel_size_um)


def _anisotropy(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    return directional_contact_fractions(labels)


#: x-y side (voxels) of the paper's tortuosity sub-crops (36 x 36 µm at 0.5 µm)
TORTUOSITY_TILE_XY = 72
#: largest x-y side solved whole by the geometric and diffusion estimators; larger crops use
#: their centred sub-crop of this side (a whole 1024² crop needs ~30 GB and ~1 h, see
#: tomopress.metrics.tortuosity and .diffusion)
WHOLE_CROP_MAX_XY = 256


def _centred_xy(labels: LabelVolume, side: int) -> LabelVolume:
    _, ny, nx = labels.shape
    y0, x0 = max(0, (ny - side) // 2), max(0, (nx - side) // 2)
    return labels[:, y0 : y0 + side, x0 : x0 + side]


def _tortuosity(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    sub = _centred_xy(labels, WHOLE_CROP_MAX_XY)
    geometric = geometric_tortuosity(sub, voxel_size_um=voxel_size_um)
    tiled = tiled_geometric_tortuosity(labels, voxel_size_um=voxel_size_um, tile_xy=TORTUOSITY_TILE_XY)
    _, ny, nx = labels.shape
    origin = (max(0, (ny - sub.shape[1]) // 2), max(0, (nx - sub.shape[2]) // 2))
    paths = [
        {
            "tile_y0_vox": origin[0],
            "tile_x0_vox": origin[1],
            "outlet_y_vox": int(y),
            "outlet_x_vox": int(x),
            "tau_geo": float(tau) if np.isfinite(tau) else None,
            "tau_geo_lattice": float(lattice),
            "path_length_um": float(geometric.path_length_um),
        }
        for (y, x), tau, lattice in zip(geometric.outlet_yx, geometric.tau, geometric.tau_lattice)
    ]
    return {
        **geometric.summary(),
        "tortuosity_xy_um": sub.shape[1] * voxel_size_um,
        **{k: v for k, v in tiled.items() if np.ndim(v) == 0 and not isinstance(v, str)},
        "tortuosity_paths": paths,
    }


def _diffusion(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    sub = _centred_xy(labels, WHOLE_CROP_MAX_XY)
    result = tortuosity_factor(sub)
    scalars = {k: v for k, v in result.items() if np.ndim(v) == 0 and k != "solve_s"}
    return {**scalars, "diffusion_xy_um": sub.shape[1] * voxel_size_um}


def _connectivity(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    return se_connectivity(labels)


def _particle_rows(particles: np.ndarray, kept: np.ndarray, voxel_size_um: float) -> list[dict]:
    """One row per kept (not crop-cut) particle: volume, equivalent diameter, centroid."""
    from scipy import ndimage

    ones = np.ones(particles.shape, dtype=np.float64)
    volumes = ndimage.sum_labels(ones, particles, kept) * voxel_size_um**3
    centroids = ndimage.center_of_mass(ones, particles, kept) if kept.size else []
    return [
        {
            "particle_id": int(pid),
            "volume_um3": float(volume),
            "equivalent_diameter_um": float((6.0 * volume / np.pi) ** (1.0 / 3.0)),
            "centroid_z_um": float((cz + 0.5) * voxel_size_um),
            "centroid_y_um": float((cy + 0.5) * voxel_size_um),
            "centroid_x_um": float((cx + 0.5) * voxel_size_um),
            "surface_area_um2": None,
            "contact_area_fraction": None,
            "ionically_isolated": None,
        }
        for pid, volume, (cz, cy, cx) in zip(kept, volumes, centroids)
    ]


def _particles(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    sizes = am_particle_sizes(labels, voxel_size_um=voxel_size_um)
    scalars = {k: v for k, v in sizes.items() if np.ndim(v) == 0}
    rows = _particle_rows(sizes["particles"], sizes["particle_ids"], voxel_size_um)
    return {**scalars, "particles": rows}


def _thickness(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    return local_thickness_summary(labels, voxel_size_um=voxel_size_um)


#: per-item lists a family may return beside its scalars (the tortuosity and particles tables)
DETAIL_KEYS = frozenset({"tortuosity_paths", "particles"})

#: family name -> (function, phases it needs)
FAMILIES: dict[str, tuple[Family, tuple[int, ...]]] = {
    "fractions": (_fractions, ()),
    "contact": (_contact, (AM, SE)),
    "anisotropy": (_anisotropy, (AM, SE)),
    "connectivity": (_connectivity, (SE,)),
    "tortuosity": (_tortuosity, (SE,)),
    "diffusion": (_diffusion, (SE,)),
    "particles": (_particles, (AM,)),
    "thickness": (_thickness, ()),
}

_PHASE_NAMES = {VOID: "void", SE: "se", AM: "am"}


def _null_family(name: str, voxel_size_um: float, reason: str) -> dict[str, Any]:
    """The family's keys (from a run on a tiny volume holding every phase) set to None."""
    probe = np.full((4, 4, 4), SE, dtype=np.uint8)
    probe[:, :, 0] = VOID
    probe[:, 1:3, 1:3] = AM
    probe[:, 0, 1] = AM
    keys = FAMILIES[name][0](probe, voxel_size_um)
    return {**{k: None for k in keys}, f"{name}_null_reason": reason}


def _plain(value: Any) -> Any:
    """JSON-ready: non-finite floats become None (with the family's reason beside them)."""
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def summary_metrics(
    labels: LabelVolume,
    *,
    voxel_size_um: float,
    only: Iterable[str] | None = None,
    present_phases: Iterable[int] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every requested metric family of `labels`, as one flat JSON-ready dict.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        0 void, 1 SE, 2 AM, 255 outside; z (axis 0) is the transport axis.
    voxel_size_um : float
        Voxel edge in µm, > 0.
    only : iterable of str, optional
        Family names (keys of :data:`FAMILIES`); default all.
    present_phases : iterable of int, optional
        Phases the volume was declared to contain (from ``--labels``); a family that needs an
        undeclared phase comes out as nulls with a reason. Default: the phases found.
    details : dict, optional
        Receives the per-item arrays (``tortuosity_paths``: τ per outlet path,
        ``particles``) as lists of row dicts; the returned record holds scalars only.

    Raises
    ------
    ValueError
        On unknown family names or a non-positive voxel size.
    """
    checked_voxel_size_um(voxel_size_um)
    names = list(FAMILIES) if only is None else list(only)
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown metric families {unknown}; choose from {sorted(FAMILIES)}")
    present = set(present_phases) if present_phases is not None else {
        int(v) for v in np.unique(labels) if v in _PHASE_NAMES
    }
    record: dict[str, Any] = {"voxel_size_um": float(voxel_size_um), "shape_zyx": list(labels.shape)}
    for name in names:
        function, needs = FAMILIES[name]
        missing = [_PHASE_NAMES[p] for p in needs if p not in present]
        if missing:
            record.update(_null_family(name, voxel_size_um, f"no {', '.join(missing)} phase"))
            continue
        for key, value in function(labels, voxel_size_um).items():
            if key in DETAIL_KEYS:
                if details is not None:
                    details[key] = value
            else:
                record[key] = value
    return {k: _plain(v) for k, v in record.items()}
