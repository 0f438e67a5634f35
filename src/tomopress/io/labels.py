"""Labelled volumes written by other tools (Dragonfly, ilastik, Avizo...): read and map labels.

A labelled volume is a 3-D integer image whose values name phases. tomopress works on
``0 void, 1 SE, 2 AM, 255 outside``; `parse_label_mapping` and `map_labels` translate.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from tomopress.errors import RawDataError
from tomopress.types import OUTSIDE, PHASES, LabelVolume

__all__ = ["parse_label_mapping", "read_label_volume", "map_labels", "transport_axis_first"]

_TARGETS = {**PHASES, "outside": OUTSIDE}


def parse_label_mapping(text: str) -> dict[str, list[int]]:
    """Parse ``"void=0,se=1,am=2"`` (several values per phase with ``+``: ``outside=170+200``).

    Raises
    ------
    ValueError
        On unknown phase names, non-integer values, or a value given to two phases.

    Examples
    --------
    >>> parse_label_mapping("void=0,am=85,outside=170+171")
    {'void': [0], 'am': [85], 'outside': [170, 171]}
    """
    mapping: dict[str, list[int]] = {}
    seen: dict[int, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, values = item.partition("=")
        name = name.strip().lower()
        if not sep or name not in _TARGETS:
            raise ValueError(f"--labels: expected NAME=VALUE with NAME in {sorted(_TARGETS)}, got {item!r}")
        try:
            numbers = [int(v) for v in values.split("+")]
        except ValueError:
            raise ValueError(f"--labels: {name}: expected integer label values, got {values!r}") from None
        for number in numbers:
            if number in seen:
                raise ValueError(f"--labels: value {number} given to both {seen[number]} and {name}")
            seen[number] = name
        mapping[name] = numbers
    if not set(mapping) & set(PHASES):
        raise ValueError("--labels: name at least one phase (void, se, am)")
    return mapping


def read_label_volume(path: str | Path, *, dataset: str | None = None) -> np.ndarray:
    """Read a 3-D integer volume from a (multi-page) TIFF or an HDF5 file.

    For HDF5, `dataset` names the dataset; without it the file must hold exactly one 3-D
    integer dataset. The file is opened read-only.

    Raises
    ------
    RawDataError
        Naming the file and what is wrong (missing, not TIFF/HDF5, not 3-D, not integer).
    """
    import tifffile

    path = Path(path)
    if not path.is_file():
        raise RawDataError(path, "file", "does not exist")
    if h5py.is_hdf5(path):
        with h5py.File(path, "r") as fh:
            if dataset is None:
                found: list[str] = []
                fh.visititems(
                    lambda name, obj: found.append(name)
                    if isinstance(obj, h5py.Dataset) and obj.ndim == 3
                    else None
                )
                if len(found) != 1:
                    raise RawDataError(path, "dataset", f"expected one 3-D dataset, found {found}; name it")
                dataset = found[0]
            if dataset not in fh:
                raise RawDataError(path, dataset, "dataset missing")
            volume = fh[dataset][()]
    else:
        try:
            volume = tifffile.imread(path)
        except Exception as exc:  # tifffile raises several types for non-TIFF input
            raise RawDataError(path, "format", f"neither HDF5 nor a readable TIFF ({exc})") from None
    if volume.ndim != 3:
        raise RawDataError(path, "shape", f"expected a 3-D volume, got shape {volume.shape}")
    if not np.issubdtype(volume.dtype, np.integer):
        raise RawDataError(path, "dtype", f"expected integer labels, got {volume.dtype}")
    return volume


def map_labels(volume: np.ndarray, mapping: dict[str, list[int]], *, source: str = "volume") -> LabelVolume:
    """Translate label values to tomopress labels; every value present must be mapped.

    Raises
    ------
    ValueError
        Listing the values present in `volume` that `mapping` does not name.
    """
    values = np.unique(volume)
    named = {v for numbers in mapping.values() for v in numbers}
    unmapped = [int(v) for v in values if int(v) not in named]
    if unmapped:
        raise ValueError(
            f"{source}: label value(s) {unmapped[:10]} not mapped; add them to --labels "
            "(e.g. outside=V to leave them out of every metric)"
        )
    lut = np.full(int(values.max()) + 1 if values.size else 1, OUTSIDE, dtype=np.uint8)
    for name, numbers in mapping.items():
        for number in numbers:
            if 0 <= number < lut.size:
                lut[number] = _TARGETS[name]
    if values.size and values.min() < 0:
        raise ValueError(f"{source}: negative label values are not supported")
    return lut[volume]


def transport_axis_first(volume: np.ndarray, axis: int) -> np.ndarray:
    """View of `volume` with the transport axis moved to axis 0 (z)."""
    if axis not in (0, 1, 2):
        raise ValueError(f"--axis must be 0, 1 or 2, got {axis}")
    return np.moveaxis(volume, axis, 0)
