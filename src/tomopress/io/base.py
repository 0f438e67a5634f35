"""The format-independent view of one raw tomography scan, and helpers shared by the readers.

`tomopress.io.formats.open_scan` picks the reader; the readers import this module, never that one.

Every reader (DXchange, NXtomo, TIFF stack) subclasses `Scan`. A `Scan` exposes the header
(projection count, detector shape, on-disk dtype, angles in radians, flat/dark counts) as plain
attributes that are filled when the scan is opened, and reads pixels only on request and only
for the detector rows asked for, so a 15 GB scan can be processed slab by slab.

Angles are radians inside tomopress. DXchange and NXtomo files store degrees by convention:
a ``units`` attribute on the angle dataset is honoured when present (``deg``, ``degree``,
``degrees`` or ``rad``, ``radian``, ``radians``); when it is absent, degrees are assumed.
Any other unit is rejected.

Header checks collect every problem they find and raise one `RawDataError` with a line per
problem (see `Problems`). Angles must be strictly monotonic, without repeats, and cover about
a half turn (180 degrees) or a full turn (360 degrees); see `angle_problems`.

HDF5 external links are followed only when their target file lies inside the scan file's own
folder (or a subfolder of it), unless ``allow_external_links_outside=True``; see `LinkGuard`.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import h5py
import numpy as np
import numpy.typing as npt

from tomopress.errors import RawDataError
from tomopress.types import F64Array

__all__ = ["LinkGuard", "Problems", "Scan", "angle_problems", "beam_facts"]

T = TypeVar("T")

log = logging.getLogger(__name__)

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
    fields : dict of str to str
        Where the scan keeps ``"projections"``, ``"flats"``, ``"darks"`` and ``"angles"`` (a
        dataset path, a glob or a file name), for messages that name the field at fault.

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
    fields: dict[str, str]

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


# ---- helpers shared by the readers (not part of the public API) ----------------------------


class Problems:
    """Collects ``(path, field, problem)`` triples so a header check reports all of them.

    Examples
    --------
    >>> found = Problems("scan.h5")
    >>> found.add("/exchange/theta", "dataset missing")
    >>> found.run(lambda: angles_to_rad(Path("scan.h5"), "t", [0.0, "x"], None)) is None
    True
    >>> len(found.items)
    2
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.items: list[tuple[str, str, str]] = []

    def add(self, field: str, problem: str, *, path: str | Path | None = None) -> None:
        """Note one problem of `field` (in `path`, default the scan's path)."""
        self.items.append((str(self.path if path is None else path), field, problem))

    def run(self, func: Callable[[], T]) -> T | None:
        """Call `func`; note the problems of a `RawDataError` it raises and return None."""
        try:
            return func()
        except RawDataError as err:
            self.items.extend(err.problems)
            return None

    def raise_if_any(self) -> None:
        """Raise one `RawDataError` listing every problem noted, if there is one."""
        if self.items:
            raise RawDataError.collect(self.items)


@dataclasses.dataclass(frozen=True)
class LinkGuard:
    """Refuses HDF5 external links whose target file lies outside `scan_dir`.

    Parameters
    ----------
    scan_dir : Path
        Folder of the scan file, symlinks resolved; targets inside it or below it are allowed.
    allow_outside : bool
        Allow every target (the check becomes a no-op).
    """

    scan_dir: Path
    allow_outside: bool = False

    @classmethod
    def for_scan(cls, path: Path, *, allow_outside: bool = False) -> LinkGuard:
        """The guard for the scan file `path`."""
        return cls(Path(path).absolute().parent.resolve(), allow_outside)

    def check(self, h5: h5py.Group, name: str) -> None:
        """Raise `RawDataError` if following `name` from `h5` crosses a refused external link.

        Every component of `name` is looked at before it is followed (soft links are
        resolved, external links are judged by their target file as HDF5 would first try it:
        relative names next to the file holding the link).
        """
        if not self.allow_outside:
            self._walk(h5, name, name, depth=0)

    def _walk(self, group: h5py.Group, name: str, field: str, *, depth: int) -> None:
        if depth > 16:  # a soft-link loop: h5py will report the dataset missing
            return
        if name.startswith("/"):
            group = group.file["/"]
        parts = [p for p in name.split("/") if p]
        for i, part in enumerate(parts):
            try:
                link = group.get(part, getlink=True)
            except (KeyError, OSError, ValueError):
                return
            if isinstance(link, h5py.SoftLink):
                rest = "/".join(parts[i + 1:])
                target = link.path if not rest else f"{link.path.rstrip('/')}/{rest}"
                self._walk(group, target, field, depth=depth + 1)
                return
            if isinstance(link, h5py.ExternalLink):
                self._refuse_outside(group, link, field)
            try:
                group = group.get(part)
            except (KeyError, OSError, ValueError):
                return
            if not isinstance(group, h5py.Group):
                return

    def _refuse_outside(self, group: h5py.Group, link: h5py.ExternalLink, field: str) -> None:
        holder = Path(group.file.filename).absolute()
        target = Path(link.filename)
        if not target.is_absolute():
            target = holder.parent / target
        target = target.resolve()
        if target == self.scan_dir or self.scan_dir in target.parents:
            return
        raise RawDataError(holder, field, f"external link to {link.filename!r} "
                           f"(resolves to {target}) points outside the scan's folder "
                           f"{self.scan_dir}; refused (allow_external_links_outside=True "
                           "follows it)")


def open_hdf5(path: Path) -> h5py.File:
    """Open an HDF5 file read-only, turning failures into `RawDataError`."""
    if not path.is_file():
        raise RawDataError(path, "file", "does not exist" if not path.exists() else "not a file")
    if not h5py.is_hdf5(path):
        raise RawDataError(path, "file", "not an HDF5 file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise RawDataError(path, "file", f"cannot open as HDF5, truncated or corrupt? ({err})"
                           ) from err


def get_dataset(
    h5: h5py.Group, name: str, *, guard: LinkGuard | None = None
) -> h5py.Dataset | None:
    """Return the dataset at `name`, or None when it is absent or a dangling link.

    Raises
    ------
    RawDataError
        If `guard` refuses an external link on the way to `name`.
    """
    if guard is not None:
        guard.check(h5, name)
    try:
        obj = h5.get(name)
    except (KeyError, OSError, ValueError):
        return None
    return obj if isinstance(obj, h5py.Dataset) else None


def angle_problems(angles_rad: F64Array) -> list[str]:
    """What is wrong with a set of projection angles, one sentence per problem (or none).

    Angles must be strictly monotonic (increasing or decreasing), without repeats, and cover
    about a half turn or a full turn: the covered range (first to last plus one mean step)
    must be within ``max(2 steps, 1 degree)`` of 180 or 360 degrees.

    Examples
    --------
    >>> angle_problems(np.deg2rad(np.arange(0, 180, 1.0)))
    []
    >>> angle_problems(np.deg2rad([0.0, 45.0, 45.0, 90.0]))[0]
    'angle repeated at projections [1, 2] (45 degrees); angles must be strictly monotonic'
    """
    deg = np.rad2deg(np.asarray(angles_rad, dtype=np.float64).ravel())
    if deg.size < 2:
        return [f"{deg.size} projection angle(s); a scan needs a half or full turn"]
    problems = []
    step = np.diff(deg)
    repeated = np.flatnonzero(np.abs(step) <= 1e-6)
    if repeated.size:
        i = int(repeated[0])
        more = f" and {repeated.size - 1} more" if repeated.size > 1 else ""
        problems.append(f"angle repeated at projections [{i}, {i + 1}] ({deg[i]:.6g} "
                        f"degrees){more}; angles must be strictly monotonic")
    moving = step[np.abs(step) > 1e-6]
    direction = np.sign(np.median(moving)) if moving.size else 1.0
    backwards = np.flatnonzero(np.sign(step) == -direction)
    if backwards.size:
        i = int(backwards[0])
        more = f" and {backwards.size - 1} more place(s)" if backwards.size > 1 else ""
        problems.append(f"angles not monotonic: projection {i + 1} goes back from "
                        f"{deg[i]:.6g} to {deg[i + 1]:.6g} degrees{more}")
    if not problems:
        mean_step = abs(deg[-1] - deg[0]) / (deg.size - 1)
        covered = abs(deg[-1] - deg[0]) + mean_step
        tolerance = max(2 * mean_step, 1.0)
        if min(abs(covered - 180.0), abs(covered - 360.0)) > tolerance:
            problems.append(f"angles cover {covered:.4g} degrees ({deg[0]:.6g} to "
                            f"{deg[-1]:.6g} in {deg.size} steps of {mean_step:.4g}); expected "
                            "about 180 (half turn) or 360 (full turn)")
    return problems


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
    try:
        angles = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as err:
        raise RawDataError(path, field, f"angles are not numbers ({err})") from None
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
    try:
        parts = [ds[f, fwd_rows, :] for f in frames if len(range(ds.shape[0])[f])]
    except OSError as err:
        raise RawDataError(ds.file.filename, ds.name, f"cannot read frames {frames} rows "
                           f"{rows.start}:{rows.stop}: file truncated or corrupt ({err})"
                           ) from None
    out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
    return np.ascontiguousarray(out[:, ::-1]) if reverse else out


#: HDF5 paths (DXchange / tomopy-cli, NXtomo) where raw files keep the energy, tried in order
ENERGY_PATHS = (
    "/measurement/instrument/monochromator/energy",
    "/measurement/instrument/source/energy",
    "/entry/instrument/monochromator/energy",
    "/entry/instrument/source/energy",
    "/entry/instrument/beam/incident_energy",
    "/entry/beam/incident_energy",
    "/entry1/instrument/source/energy",
)
#: ... and the sample-detector distance
DISTANCE_PATHS = (
    "/measurement/instrument/camera_motor_stack/setup/camera_distance",
    "/measurement/instrument/detection_system/distance",
    "/entry/instrument/detector/distance",
)
_TO_KEV = {"ev": 1e-3, "kev": 1.0, "mev": 1e3}
_TO_MM = {"m": 1e3, "mm": 1.0, "um": 1e-3, "µm": 1e-3, "micron": 1e-3}


def beam_facts(path: str | Path) -> dict[str, float | None]:
    """Energy (keV) and sample-detector distance (mm) recorded in an HDF5 raw file, if any.

    Looks at :data:`ENERGY_PATHS` and :data:`DISTANCE_PATHS` (the DXchange paths tomopy-cli
    reads and their NXtomo counterparts); a ``units`` attribute in eV, keV, MeV or m, mm, µm
    is honoured (keV and mm without one). A root attribute ``energy_kev`` (the synthetic
    beamtime's) is the energy's last resort. Non-HDF5 inputs (TIFF folders) give None for both.

    Examples
    --------
    >>> beam_facts("no/such/file.h5")
    {'energy_kev': None, 'propagation_distance_mm': None}
    """
    out: dict[str, float | None] = {"energy_kev": None, "propagation_distance_mm": None}
    path = Path(path)
    if not (path.is_file() and h5py.is_hdf5(path)):
        return out
    with h5py.File(path, "r") as fh:
        for key, paths, scale in (("energy_kev", ENERGY_PATHS, _TO_KEV),
                                  ("propagation_distance_mm", DISTANCE_PATHS, _TO_MM)):
            for name in paths:
                obj = fh.get(name)
                if not isinstance(obj, h5py.Dataset) or obj.size != 1:
                    continue
                try:
                    value = float(np.asarray(obj[()]).ravel()[0])
                except (TypeError, ValueError):
                    continue
                unit = (attr_str(obj, "units") or "").strip().lower()
                value *= scale.get(unit, 1.0)
                if np.isfinite(value) and value > 0:
                    out[key] = value
                    break
        root = fh.attrs.get("energy_kev")
        if out["energy_kev"] is None and root is not None and float(root) > 0:
            out["energy_kev"] = float(root)
    return out
