"""Input checks shared by the metric modules."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["checked_voxel_size_um"]


def checked_voxel_size_um(voxel_size_um: float) -> float:
    """`voxel_size_um` as a float, after checking it is a finite real number > 0.

    Examples
    --------
    >>> checked_voxel_size_um(0.5)
    0.5
    """
    if not (
        isinstance(voxel_size_um, numbers.Real)
        and np.isfinite(voxel_size_um)
        and voxel_size_um > 0
    ):
        raise ValueError(f"voxel_size_um must be a finite number > 0, got {voxel_size_um!r}")
    return float(voxel_size_um)
