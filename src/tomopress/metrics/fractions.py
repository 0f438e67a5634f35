"""Volume fractions and porosity (METRICS.md, "Volume fractions and porosity")."""

from __future__ import annotations

import numpy as np

from tomopress.metrics._checks import checked_labels, checked_voxel_size_um
from tomopress.types import AM, OUTSIDE, PHASES, SE, VOID, F64Array, LabelVolume

__all__ = ["phase_counts", "volume_fractions", "porosity_profile_z", "phase_profiles_z"]


def phase_counts(labels: LabelVolume) -> dict[int, int]:
    """Voxels of each phase (VOID, SE, AM) of a checked label volume; 255 is not counted.

    One comparison pass per phase: ~30x faster than ``np.bincount`` over 10^8 uint8 voxels.

    Examples
    --------
    >>> phase_counts(np.array([[[0, 1, 2, 2, 255]]], dtype=np.uint8))
    {0: 1, 1: 1, 2: 2}
    """
    return {int(value): int(np.count_nonzero(labels == value)) for value in (VOID, SE, AM)}


def volume_fractions(labels: LabelVolume) -> dict[str, float]:
    """Phase fractions of a label volume, the porosity and the solid-normalised AM ratio.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        Phase labels (0 void, 1 SE, 2 AM); voxels labelled 255 are not counted.

    Returns
    -------
    dict
        ``volume_fraction_void``, ``volume_fraction_se``, ``volume_fraction_am``, ``porosity``
        (= void fraction), ``am_solid_ratio`` = AM / (AM + SE) (NaN without solid) and
        ``n_voxels`` counted.

    Raises
    ------
    ValueError
        If `labels` is not 3-D, has no counted voxel, or holds labels other than 0, 1, 2, 255.

    Examples
    --------
    >>> vol = np.array([[[0, 1], [2, 2]]], dtype=np.uint8)
    >>> volume_fractions(vol)["am_solid_ratio"]
    0.6666666666666666
    """
    counts = phase_counts(checked_labels(labels))
    n = counts[VOID] + counts[SE] + counts[AM]
    if n == 0:
        raise ValueError("the label volume has no counted voxel (all 255)")
    fractions = {f"volume_fraction_{name}": counts[value] / n for name, value in PHASES.items()}
    solid = counts[AM] + counts[SE]
    return {
        **{k: float(v) for k, v in fractions.items()},
        "porosity": float(counts[VOID] / n),
        "am_solid_ratio": float(counts[AM] / solid) if solid else float("nan"),
        "n_voxels": n,
    }


def porosity_profile_z(labels: LabelVolume, *, voxel_size_um: float) -> tuple[F64Array, F64Array]:
    """Void fraction of every z plane (z is the pressure axis).

    Returns
    -------
    z_um : ndarray of float64, shape (Z,)
        Plane centres in µm from the first plane's top edge.
    porosity : ndarray of float64, shape (Z,)
        Void fraction per plane; NaN where a plane has no counted voxel.

    Examples
    --------
    >>> vol = np.zeros((2, 3, 3), dtype=np.uint8)
    >>> vol[1] = AM
    >>> porosity_profile_z(vol, voxel_size_um=0.5)
    (array([0.25, 0.75]), array([1., 0.]))
    """
    labels = checked_labels(labels)
    checked_voxel_size_um(voxel_size_um)
    counted = labels != OUTSIDE
    n_void = np.count_nonzero((labels == VOID) & counted, axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        porosity = n_void / np.count_nonzero(counted, axis=(1, 2))
    return (np.arange(labels.shape[0]) + 0.5) * voxel_size_um, porosity


def phase_profiles_z(labels: LabelVolume, *, voxel_size_um: float) -> dict[str, list[float]]:
    """Per-plane fractions of every phase along z, as plain lists (for the profiles table).

    Returns
    -------
    dict
        ``z_um`` (plane centres) and ``volume_fraction_void``, ``volume_fraction_se``,
        ``volume_fraction_am`` per plane (NaN where a plane has no counted voxel).

    Examples
    --------
    >>> vol = np.zeros((2, 2, 2), dtype=np.uint8)
    >>> vol[1] = AM
    >>> phase_profiles_z(vol, voxel_size_um=1.0)["volume_fraction_am"]
    [0.0, 1.0]
    """
    labels = checked_labels(labels)
    checked_voxel_size_um(voxel_size_um)
    counted = np.count_nonzero(labels != OUTSIDE, axis=(1, 2))
    profiles: dict[str, list[float]] = {
        "z_um": ((np.arange(labels.shape[0]) + 0.5) * voxel_size_um).tolist()
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, value in PHASES.items():
            share = np.count_nonzero(labels == value, axis=(1, 2)) / counted
            profiles[f"volume_fraction_{name}"] = share.tolist()
    return profiles
