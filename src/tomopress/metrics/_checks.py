"""Input checks shared by the metric modules."""

from __future__ import annotations

import numbers

from typing import Any

import numpy as np

from tomopress.types import AM, OUTSIDE, SE, VOID, LabelVolume

__all__ = ["checked_voxel_size_um", "checked_labels"]

_VALID_LABELS = (VOID, SE, AM, OUTSIDE)


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


def checked_labels(labels: Any, *, min_z: int = 1) -> LabelVolume:
    """`labels` as a uint8 volume, after checking it is one: 3-D, an integer (or bool) dtype,
    values 0 void, 1 SE, 2 AM, 255 outside only, and at least `min_z` planes along z.

    Raises
    ------
    ValueError
        On a wrong shape, too few planes or other values (the first few are named).
    TypeError
        On a non-integer dtype.

    Examples
    --------
    >>> checked_labels(np.ones((2, 2, 2), dtype=np.int64)).dtype
    dtype('uint8')
    """
    arr = np.asarray(labels)
    if arr.ndim != 3:
        raise ValueError(f"labels must be a 3-D label volume (z, y, x), got shape {arr.shape}")
    if arr.dtype != bool and arr.dtype.kind not in "ui":
        raise TypeError(f"labels must have an integer dtype (uint8: 0 void, 1 SE, 2 AM, "
                        f"255 outside), got {arr.dtype}")
    if arr.shape[0] < min_z or min(arr.shape) < 1:
        raise ValueError(f"labels must have at least {min_z} z planes, got shape {arr.shape}")
    if arr.dtype == np.uint8 and arr.max(initial=0) <= AM:
        # every metric function checks its input, ~20 times per layer: a crop without
        # outside voxels costs one max() over the array
        return arr
    if arr.dtype == np.uint8:
        stray = (arr > AM) & (arr != OUTSIDE)
    else:
        stray = np.ones(arr.shape, dtype=bool)
        for value in _VALID_LABELS:
            stray &= arr != value
    bad = np.unique(arr[stray]) if stray.any() else np.empty(0, dtype=arr.dtype)
    if bad.size:
        raise ValueError(f"labels must be 0, 1, 2 or 255; found {bad[:5].tolist()}")
    return arr.astype(np.uint8, copy=False)
