"""Reader for NeXus NXtomo scans: one frame stack split by ``image_key``.

``image_key`` per frame: 0 projection, 1 flat field, 2 dark field, 3 invalid (skipped).
Beamlines store the stack, the keys and the angles at different paths, often behind HDF5
external links (which h5py follows, resolving them next to the ``.nxs`` file), so the paths
are configurable through `NXtomoPaths`. Each path left at its default also falls back to the
standard NXtomo locations (``/entry/data/data``, ``/entry/instrument/detector/image_key``,
``/entry/sample/rotation_angle``, and the same under any top-level entry whose ``definition``
is ``NXtomo``). The rotation angle is in degrees unless a ``units`` attribute says radians.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import h5py
import numpy as np

from tomopress.errors import RawDataError
from tomopress.io.base import (
    LinkGuard,
    Problems,
    Scan,
    angle_problems,
    angles_to_rad,
    attr_str,
    forward_slice,
    get_dataset,
    index_runs,
    length_to_um,
    open_hdf5,
    read_frames,
)

__all__ = ["NXtomoPaths", "NXtomoScan", "looks_like_nxtomo"]

log = logging.getLogger(__name__)

PROJECTION, FLAT, DARK, INVALID = 0, 1, 2, 3

#: field -> standard NXtomo path below an entry, tried when the configured default is absent
_STANDARD = {
    "data": ("data/data", "instrument/detector/data"),
    "image_key": ("instrument/detector/image_key", "data/image_key"),
    "rotation_angle": ("sample/rotation_angle", "data/rotation_angle"),
    "x_pixel_size": ("instrument/detector/x_pixel_size",),
}


@dataclasses.dataclass(frozen=True)
class NXtomoPaths:
    """Where an NXtomo file keeps its frame stack, image keys, angles and pixel size.

    The defaults fit Diamond's DIAD (k11) files; a field left at its default also falls back
    to the standard NXtomo locations when the default path is absent.

    Parameters
    ----------
    data : str
        Frame stack, shape (frames, rows, columns).
    image_key : str
        Per-frame key, shape (frames,): 0 projection, 1 flat, 2 dark, 3 invalid.
    rotation_angle : str
        Per-frame (or per-projection) rotation angle, degrees unless ``units`` says otherwise.
    x_pixel_size : str
        Detector pixel size; used only when it carries a ``units`` attribute.
    """

    data: str = "/entry/imaging/data"
    image_key: str = "/entry/instrument/imaging/image_key"
    rotation_angle: str = "/entry/imaging_sum/gts_theta_value"
    x_pixel_size: str = "/entry/instrument/detector/x_pixel_size"


_DEFAULTS = NXtomoPaths()


def _is_nxtomo_entry(h5: h5py.File, name: str, guard: LinkGuard | None) -> bool:
    """True for a top-level group whose ``definition`` dataset reads NXtomo.

    A group behind an external link that `guard` refuses is not looked into.
    """
    if guard is not None:
        try:
            guard.check(h5, name)
        except RawDataError:
            return False
    try:
        obj = h5.get(name)
    except (KeyError, OSError, ValueError):
        return False
    if not isinstance(obj, h5py.Group):
        return False
    definition = get_dataset(obj, "definition")
    try:
        return definition is not None and _as_str(definition[()]).lower() == "nxtomo"
    except (OSError, TypeError, ValueError):
        return False


def _entries(h5: h5py.File, guard: LinkGuard | None) -> list[str]:
    """``entry`` plus every other top-level group whose ``definition`` is NXtomo."""
    return ["entry"] + [name for name in h5
                        if name != "entry" and _is_nxtomo_entry(h5, name, guard)]


def _as_str(value: object) -> str:
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else ""
    if isinstance(value, bytes | np.bytes_):
        value = value.decode("utf-8", errors="replace")
    return str(value).strip()


def _candidates(h5: h5py.File, paths: NXtomoPaths, field: str,
                guard: LinkGuard | None) -> list[str]:
    """Paths to try for `field`: the configured one, then standard ones if it is the default."""
    configured = getattr(paths, field)
    if configured != getattr(_DEFAULTS, field):
        return [configured]
    return [configured] + [f"/{e}/{rel}" for e in _entries(h5, guard)
                           for rel in _STANDARD[field]]


def _find(h5: h5py.File, paths: NXtomoPaths, field: str,
          guard: LinkGuard | None = None) -> tuple[str, h5py.Dataset | None]:
    """First existing dataset among the candidates of `field`, with its path.

    Raises
    ------
    RawDataError
        If `guard` refuses an external link on the way to a candidate.
    """
    tried = _candidates(h5, paths, field, guard)
    for name in tried:
        ds = get_dataset(h5, name, guard=guard)
        if ds is not None:
            return name, ds
    return " or ".join(tried), None


def looks_like_nxtomo(h5: h5py.File, paths: NXtomoPaths | None = None, *,
                      guard: LinkGuard | None = None) -> bool:
    """True when `h5` has an image_key dataset or a top-level NXtomo entry.

    A refused external link on the way to the image keys counts as NXtomo, so that the
    reader reports the refusal.
    """
    try:
        if _find(h5, paths or _DEFAULTS, "image_key", guard)[1] is not None:
            return True
    except RawDataError:
        return True
    return any(_is_nxtomo_entry(h5, name, guard) for name in h5)


class NXtomoScan(Scan):
    """An NXtomo scan, opened read-only; frames are selected through ``image_key``.

    Parameters
    ----------
    path : str or Path
        The ``.nxs``/``.h5`` file; external links resolve relative to its folder.
    paths : NXtomoPaths, optional
        Dataset paths (default `NXtomoPaths()`).
    allow_external_links_outside : bool
        Follow external links to files outside the scan file's folder (default: refuse;
        links into the folder or its subfolders, as Diamond writes them, are always followed).

    Raises
    ------
    RawDataError
        If a dataset is missing or dangling, there are no projections, flats or darks,
        shapes, key and angle counts disagree, or the angles are not a monotonic half or full
        turn; one line per problem found.
    """

    def __init__(self, path: str | Path, *, paths: NXtomoPaths | None = None,
                 allow_external_links_outside: bool = False) -> None:
        self.path = Path(path)
        self.format = "nxtomo"
        self.paths = paths or NXtomoPaths()
        self._guard = LinkGuard.for_scan(self.path, allow_outside=allow_external_links_outside)
        self._h5: h5py.File | None = open_hdf5(self.path)
        try:
            self._read_header(self._h5)
        except BaseException:
            self.close()
            raise

    def _find(self, h5: h5py.File, field: str,
              found: Problems) -> tuple[str | None, h5py.Dataset | None]:
        """`_find` with a refused link noted in `found` (name None then)."""
        result = found.run(lambda: _find(h5, self.paths, field, self._guard))
        return (None, None) if result is None else result

    def _read_header(self, h5: h5py.File) -> None:
        found = Problems(self.path)
        name, data = self._find(h5, "data", found)
        if name is not None and data is None:
            found.add(name, "dataset missing or dangling external link (frame stack is "
                      "required)")
        elif data is not None and (data.ndim != 3 or data.shape[0] == 0):
            found.add(name, f"frame stack must be 3-D (frame, row, column) with frames, got "
                      f"{data.shape}")
            data = None
        n_frames = None if data is None else int(data.shape[0])
        key_name, key = self._read_image_key(h5, n_frames, found)
        if key is not None:
            self._proj_idx = np.flatnonzero(key == PROJECTION)
            self._flat_idx = np.flatnonzero(key == FLAT)
            self._dark_idx = np.flatnonzero(key == DARK)
        angle_name, angles = self._read_angles(h5, n_frames, key, found)
        pixel_size = found.run(lambda: self._read_pixel_size(h5))
        found.raise_if_any()
        assert data is not None and key is not None and angles is not None
        self._data = data
        self.detector_shape = (int(data.shape[1]), int(data.shape[2]))
        self.dtype = data.dtype
        self.n_projections = int(self._proj_idx.size)
        self.n_flats = int(self._flat_idx.size)
        self.n_darks = int(self._dark_idx.size)
        self.flat_projection_index = np.searchsorted(self._proj_idx, self._flat_idx).astype(
            np.int64)
        self.angles_rad = angles
        self.pixel_size_um = pixel_size
        key_field = f"{key_name} = {{}}"
        self.fields = {"projections": f"{name} ({key_field.format(PROJECTION)})",
                       "flats": f"{name} ({key_field.format(FLAT)})",
                       "darks": f"{name} ({key_field.format(DARK)})",
                       "angles": str(angle_name)}

    def _read_image_key(self, h5: h5py.File, n_frames: int | None,
                        found: Problems) -> tuple[str | None, np.ndarray | None]:
        name, ds = self._find(h5, "image_key", found)
        if name is None:
            return None, None
        if ds is None:
            found.add(name, "dataset missing (image_key is required)")
            return name, None
        try:
            key = np.asarray(ds[()]).ravel()
        except OSError as err:
            found.add(name, f"cannot read (truncated or corrupt file? {err})")
            return name, None
        n_before = len(found.items)
        if n_frames is not None and key.size != n_frames:
            found.add(name, f"{key.size} keys for {n_frames} frames")
        if not np.issubdtype(key.dtype, np.number):
            found.add(name, f"keys must be integers, got {key.dtype}")
            return name, None
        bad = ~np.isin(key, (PROJECTION, FLAT, DARK, INVALID))
        if bad.any():
            found.add(name, f"unknown key {key[bad][0]}; expected 0 projection, 1 flat, "
                      "2 dark or 3 invalid")
        for value, what in ((PROJECTION, "projection"), (FLAT, "flat"), (DARK, "dark")):
            if not np.any(key == value):
                found.add(name, f"no {what} frames (image_key {value}); {what} frames are "
                          "required")
        return name, (key if len(found.items) == n_before else None)

    def _read_angles(self, h5: h5py.File, n_frames: int | None, key: np.ndarray | None,
                     found: Problems) -> tuple[str | None, np.ndarray | None]:
        name, ds = self._find(h5, "rotation_angle", found)
        if name is None:
            return None, None
        if ds is None:
            found.add(name, "dataset missing (rotation angles are required)")
            return name, None
        try:
            values = np.asarray(ds[()]).ravel()
        except OSError as err:
            found.add(name, f"cannot read (truncated or corrupt file? {err})")
            return name, None
        if n_frames is None or key is None:
            return name, None
        n_projections = int(self._proj_idx.size)
        if values.size == n_frames:
            values = values[self._proj_idx]
        elif values.size != n_projections:
            found.add(name, f"{values.size} angles for {n_frames} frames "
                      f"({n_projections} projections)")
            return name, None
        angles = found.run(lambda: angles_to_rad(self.path, name, values,
                                                 attr_str(ds, "units")))
        if angles is not None:
            for problem in angle_problems(angles):
                found.add(name, problem)
        return name, angles

    def _read_pixel_size(self, h5: h5py.File) -> float | None:
        name, ds = _find(h5, self.paths, "x_pixel_size", self._guard)
        if ds is None:
            return None
        unit = attr_str(ds, "units")
        if unit is None:
            log.warning("%s: %s has no units attribute; pixel size ignored", self.path, name)
            return None
        return length_to_um(self.path, name, ds[()], unit)

    def _file(self) -> h5py.File:
        if self._h5 is None:
            raise ValueError(f"scan {self.path} is closed")
        return self._h5

    def _read(self, indices: np.ndarray, rows: slice) -> np.ndarray:
        self._file()
        return read_frames(self._data, index_runs(indices), rows)

    def read_projections(self, rows: slice, angles: slice = slice(None)) -> np.ndarray:
        """Read detector rows `rows` of projections `angles` (by projection index).

        Consecutive (or evenly strided) frames are read as one hyperslab each.

        Returns
        -------
        ndarray, shape (n_angles_sel, n_rows_sel, columns)
            Pixels in the on-disk dtype.
        """
        fwd, reverse, _ = forward_slice(angles, self.n_projections)
        out = self._read(self._proj_idx[fwd], rows)
        return np.ascontiguousarray(out[::-1]) if reverse else out

    def read_flats(self, rows: slice) -> np.ndarray:
        """Read detector rows `rows` of every flat frame, in file order."""
        return self._read(self._flat_idx, rows)

    def read_darks(self, rows: slice) -> np.ndarray:
        """Read detector rows `rows` of every dark frame, in file order."""
        return self._read(self._dark_idx, rows)

    def close(self) -> None:
        """Close the HDF5 file; safe to call twice."""
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None
