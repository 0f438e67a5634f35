"""The format-independent view of one raw tomography scan, and `open_scan` to get one.

Every reader (DXchange, NXtomo, TIFF stack) subclasses `Scan`. A `Scan` exposes the header
(projection count, detector shape, on-disk dtype, angles in radians, flat/dark counts) as plain
attributes that are filled when the scan is opened, and reads pixels only on request and only
for the detector rows asked for, so a 15 GB scan can be processed slab by slab.

Angles are radians inside tomopress. DXchange and NXtomo files store degrees by convention:
a ``units`` attribute on the angle dataset is honoured when present (``deg``, ``degree``,
``degrees`` or ``rad``, ``radian``, ``radians``); when it is absent, degrees are assumed.
Any other unit is rejected.
"""

from __future__ import annotations

import abc
import logging
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import h5py
import numpy as np
import numpy.typing as npt

from tomopress.errors import RawDataError
from tomopress.types import F64Array

if TYPE_CHECKING:
    from tomopress.io.nxtomo import NXtomoPaths
    from tomopress.io.tiffstack import TiffLayout

__all__ = ["FORMATS", "Scan", "detect_format", "open_scan"]

log = logging.getLogger(__name__)

#: format names accepted by `open_scan` besides ``"auto"``
FORMATS = ("dxchange", "nxtomo", "tiff")

_DEG_UNITS = frozenset({"deg", "degree", "degrees", "°"})
_RAD_UNITS = frozenset({"rad", "radian", "radians"})
#: length unit -> factor to µm
_UM_PER_UNIT = {
    "um": 1.0, "µm": 1.0, "μm": 1.0, "micron": 1.0, "microns": 1.0, "micrometer": 1.0,
    "micrometre": 1.0, "micrometers": 1.0, "micrometres": 1.0,
    "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6,
}


class Scan(abc.ABC):
    """One raw scan: header attributes plus row-restricted pixel reads.

    Attributes
    ----------
    path : Path
        The file (HDF5) or folder (TIFF stack) the scan was opened from.
    format : str
        ``"dxchange"``, ``"nxtomo"`` or ``"tiff"``.
    n_projections : int
        Number of projection frames.
    detector_shape : tuple of int
        ``(rows, columns)``; rows run along the rotation axis (z).
    dtype : numpy.dtype
        On-disk dtype of the projection pixels.
    angles_rad : ndarray of float64, shape (n_projections,)
        Rotation angle of every projection in radians.
    pixel_size_um : float or None
        Detector pixel size in µm when the file records it, else None.
    n_flats, n_darks : int
        Number of flat-field and dark-field frames (both > 0).
    flat_projection_index : ndarray of int64, shape (n_flats,)
        For each flat frame the projection index it was taken next to: 0 for flats taken
        before the scan, ``n_projections`` for flats taken after it. Lets callers
        interpolate between before and after flats.

    Notes
    -----
    Use as a context manager, or call `close`, to release the file handle.
    """

    path: Path
    format: str
    n_projections: int
    detector_shape: tuple[int, int]
    dtype: np.dtype
    angles_rad: F64Array
    pixel_size_um: float | None
    n_flats: int
    n_darks: int
    flat_projection_index: npt.NDArray[np.int64]

    @abc.abstractmethod
    def read_projections(self, rows: slice, angles: slice = slice(None)) -> np.ndarray:
        """Read the given detector rows of the given projections.

        Parameters
        ----------
        rows : slice
            Detector rows to read (positive or negative step).
        angles : slice, optional
            Projections to read, by projection index (default all).

        Returns
        -------
        ndarray, shape (n_angles_sel, n_rows_sel, columns)
            Pixels in the on-disk dtype `dtype`.
        """

    @abc.abstractmethod
    def read_flats(self, rows: slice) -> np.ndarray:
        """Read the given detector rows of every flat frame.

        Returns
        -------
        ndarray, shape (n_flats, n_rows_sel, columns)
            Pixels in the on-disk dtype of the flat frames.
        """

    @abc.abstractmethod
    def read_darks(self, rows: slice) -> np.ndarray:
        """Read the given detector rows of every dark frame.

        Returns
        -------
        ndarray, shape (n_darks, n_rows_sel, columns)
            Pixels in the on-disk dtype of the dark frames.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release any open file handle; safe to call twice."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.path)!r}, n_projections={self.n_projections}, "
            f"detector_shape={self.detector_shape}, dtype={self.dtype}, "
            f"n_flats={self.n_flats}, n_darks={self.n_darks})"
        )


def open_scan(
    path: str | Path,
    format: str = "auto",
    *,
    nxtomo_paths: NXtomoPaths | None = None,
    tiff_layout: TiffLayout | None = None,
) -> Scan:
    """Open a raw scan file or folder, reading its header only.

    Parameters
    ----------
    path : str or Path
        An HDF5 file (DXchange or NeXus NXtomo) or a TIFF-stack folder.
    format : {"auto", "dxchange", "nxtomo", "tiff"}
        ``"auto"`` decides by content: HDF5 with ``/exchange/data`` is DXchange, HDF5 with an
        NXtomo entry or an ``image_key`` dataset is NXtomo, a folder is a TIFF stack.
    nxtomo_paths : NXtomoPaths, optional
        Dataset paths for NXtomo files (default `NXtomoPaths()`).
    tiff_layout : TiffLayout, optional
        File names for TIFF stacks (default `TiffLayout()`).

    Returns
    -------
    Scan
        An open scan; close it, or use it in a ``with`` block.

    Raises
    ------
    RawDataError
        If the path is missing, of an unknown format, or inconsistent.

    Examples
    --------
    >>> with open_scan("tooth.h5") as scan:  # doctest: +SKIP
    ...     sino = scan.read_projections(rows=slice(0, 1))
    """
    from tomopress.io.dxchange import DXchangeScan
    from tomopress.io.nxtomo import NXtomoScan
    from tomopress.io.tiffstack import TiffStackScan

    path = Path(path)
    if not path.exists():
        raise RawDataError(path, "file", "does not exist")
    kind = detect_format(path, nxtomo_paths=nxtomo_paths) if format == "auto" else format
    if kind == "dxchange":
        return DXchangeScan(path)
    if kind == "nxtomo":
        return NXtomoScan(path, paths=nxtomo_paths)
    if kind == "tiff":
        return TiffStackScan(path, layout=tiff_layout)
    raise RawDataError(path, "format", f"unknown format {format!r}; expected auto, "
                       + ", ".join(FORMATS))


def detect_format(path: Path, *, nxtomo_paths: NXtomoPaths | None = None) -> str:
    """Name the raw format of `path` from its content (see `open_scan`)."""
    from tomopress.io.nxtomo import looks_like_nxtomo

    if path.is_dir():
        return "tiff"
    if not h5py.is_hdf5(path):
        raise RawDataError(path, "format", "not a recognised raw scan: neither an HDF5 file "
                           "(DXchange, NXtomo) nor a TIFF-stack folder")
    with open_hdf5(path) as h5:
        if "/exchange/data" in h5:
            return "dxchange"
        if looks_like_nxtomo(h5, nxtomo_paths):
            return "nxtomo"
    raise RawDataError(path, "format", "HDF5 file is neither DXchange (no /exchange/data) nor "
                       "NXtomo (no NXtomo entry or image_key dataset)")


# ---- helpers shared by the readers (not part of the public API) ----------------------------


def open_hdf5(path: Path) -> h5py.File:
    """Open an HDF5 file read-only, turning failures into `RawDataError`."""
    if not path.is_file():
        raise RawDataError(path, "file", "does not exist" if not path.exists() else "not a file")
    if not h5py.is_hdf5(path):
        raise RawDataError(path, "file", "not an HDF5 file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise RawDataError(path, "file", f"cannot open as HDF5 ({err})") from err


def get_dataset(h5: h5py.File, name: str) -> h5py.Dataset | None:
    """Return the dataset at `name`, or None when it is absent or a dangling link."""
    try:
        obj = h5.get(name)
    except (KeyError, OSError):
        return None
    return obj if isinstance(obj, h5py.Dataset) else None


def attr_str(obj: h5py.HLObject, name: str) -> str | None:
    """Return attribute `name` of `obj` as a stripped str, or None when absent."""
    if name not in obj.attrs:
        return None
    value: Any = obj.attrs[name]
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else ""
    if isinstance(value, bytes | np.bytes_):
        value = value.decode("utf-8", errors="replace")
    return str(value).strip()


def angles_to_rad(path: Path, field: str, values: npt.ArrayLike, unit: str | None) -> F64Array:
    """Convert an angle array to float64 radians, given its unit (None means degrees).

    Raises
    ------
    RawDataError
        If the unit is not a degree or radian spelling, or an angle is not finite.
    """
    angles = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(angles)):
        raise RawDataError(path, field, "angles contain NaN or infinite values")
    unit_key = "deg" if unit is None else unit.strip().lower()
    if unit_key in _DEG_UNITS:
        return np.deg2rad(angles)
    if unit_key in _RAD_UNITS:
        return angles
    raise RawDataError(path, field, f"cannot decide the angle unit {unit!r}; "
                       "expected deg/degree/degrees or rad/radian/radians")


def length_to_um(path: Path, field: str, value: Any, unit: str | None) -> float:
    """Convert a scalar length to µm, given its unit (None means µm).

    Raises
    ------
    RawDataError
        If the value is not a positive number or the unit is not a length unit.
    """
    try:
        number = float(np.asarray(value, dtype=np.float64).ravel()[0])
    except (TypeError, ValueError, IndexError) as err:
        raise RawDataError(path, field, f"pixel size is not a number ({value!r})") from err
    unit_key = "um" if unit is None else unit.strip()
    factor = _UM_PER_UNIT.get(unit_key, _UM_PER_UNIT.get(unit_key.lower()))
    if factor is None:
        raise RawDataError(path, field, f"unknown length unit {unit!r}")
    if not (np.isfinite(number) and number > 0):
        raise RawDataError(path, field, f"pixel size must be > 0, got {number!r}")
    return number * factor


def check_frame_shape(
    path: Path, field: str, shape: tuple[int, ...], detector_shape: tuple[int, int], what: str
) -> None:
    """Raise `RawDataError` unless `shape` is (n, rows, columns) matching `detector_shape`."""
    if len(shape) != 3:
        raise RawDataError(path, field, f"{what} must be 3-D (frame, row, column), got {shape}")
    if tuple(shape[1:]) != tuple(detector_shape):
        raise RawDataError(path, field, f"{what} frames are {shape[1]} x {shape[2]} but "
                           f"projections are {detector_shape[0]} x {detector_shape[1]}")


def forward_slice(sl: slice, n: int) -> tuple[slice, bool, int]:
    """Rewrite `sl` over ``range(n)`` as a positive-step slice h5py accepts.

    Returns
    -------
    forward : slice
        Slice with explicit start/stop and step > 0 selecting the same items.
    reverse : bool
        True when the result of `forward` must be reversed to honour `sl`.
    count : int
        Number of items selected.

    Examples
    --------
    >>> forward_slice(slice(None, None, -2), 5)
    (slice(0, 5, 2), True, 3)
    """
    if not isinstance(sl, slice):
        raise TypeError(f"expected a slice, got {type(sl).__name__}")
    idx = range(n)[sl]
    count = len(idx)
    if count == 0:
        return slice(0, 0, 1), False, 0
    if idx.step > 0:
        return slice(idx.start, idx[-1] + 1, idx.step), False, count
    return slice(idx[-1], idx.start + 1, -idx.step), True, count


def index_runs(indices: npt.NDArray[np.integer]) -> list[slice]:
    """Split increasing indices into the fewest slices of constant positive step (greedy).

    Examples
    --------
    >>> index_runs(np.array([0, 1, 2, 10, 12, 14, 15]))
    [slice(0, 3, 1), slice(10, 15, 2), slice(15, 16, 1)]
    """
    runs: list[slice] = []
    i, n = 0, len(indices)
    while i < n:
        start = int(indices[i])
        if i + 1 == n:
            runs.append(slice(start, start + 1, 1))
            break
        step = int(indices[i + 1]) - start
        j = i + 1
        while j + 1 < n and int(indices[j + 1]) - int(indices[j]) == step:
            j += 1
        runs.append(slice(start, int(indices[j]) + 1, step))
        i = j + 1
    return runs


def read_frames(ds: h5py.Dataset, frames: list[slice], rows: slice) -> np.ndarray:
    """Read ``ds[f, rows, :]`` for every frame slice `f` in `frames` (steps > 0) and stack them.

    Only the hyperslabs asked for are read from disk; `rows` may have any step.
    """
    fwd_rows, reverse, n_rows = forward_slice(rows, ds.shape[1])
    n_frames = sum(len(range(ds.shape[0])[f]) for f in frames)
    if n_rows == 0 or n_frames == 0:
        return np.empty((n_frames, n_rows, ds.shape[2]), dtype=ds.dtype)
    parts = [ds[f, fwd_rows, :] for f in frames if len(range(ds.shape[0])[f])]
    out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
    return np.ascontiguousarray(out[:, ::-1]) if reverse else out
