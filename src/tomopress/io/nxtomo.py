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
from tomopress.io.scan import (
    Scan,
    angles_to_rad,
    attr_str,
    check_frame_shape,
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


def _is_nxtomo_entry(obj: object) -> bool:
    """True for a group whose ``definition`` dataset reads NXtomo."""
    if not isinstance(obj, h5py.Group):
        return False
    definition = get_dataset(obj, "definition")
    return definition is not None and _as_str(definition[()]).lower() == "nxtomo"


def _entries(h5: h5py.File) -> list[str]:
    """``entry`` plus every other top-level group whose ``definition`` is NXtomo."""
    return ["entry"] + [name for name in h5
                        if name != "entry" and _is_nxtomo_entry(h5.get(name))]


def _as_str(value: object) -> str:
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else ""
    if isinstance(value, bytes | np.bytes_):
        value = value.decode("utf-8", errors="replace")
    return str(value).strip()


def _candidates(h5: h5py.File, paths: NXtomoPaths, field: str) -> list[str]:
    """Paths to try for `field`: the configured one, then standard ones if it is the default."""
    configured = getattr(paths, field)
    if configured != getattr(_DEFAULTS, field):
        return [configured]
    return [configured] + [f"/{e}/{rel}" for e in _entries(h5) for rel in _STANDARD[field]]


def _find(h5: h5py.File, paths: NXtomoPaths, field: str) -> tuple[str, h5py.Dataset | None]:
    """First existing dataset among the candidates of `field`, with its path."""
    tried = _candidates(h5, paths, field)
    for name in tried:
        ds = get_dataset(h5, name)
        if ds is not None:
            return name, ds
    return " or ".join(tried), None


def looks_like_nxtomo(h5: h5py.File, paths: NXtomoPaths | None = None) -> bool:
    """True when `h5` has an image_key dataset or a top-level NXtomo entry."""
    if _find(h5, paths or _DEFAULTS, "image_key")[1] is not None:
        return True
    return any(_is_nxtomo_entry(h5.get(name)) for name in h5)


class NXtomoScan(Scan):
    """An NXtomo scan, opened read-only; frames are selected through ``image_key``.

    Parameters
    ----------
    path : str or Path
        The ``.nxs``/``.h5`` file; external links resolve relative to its folder.
    paths : NXtomoPaths, optional
        Dataset paths (default `NXtomoPaths()`).

    Raises
    ------
    RawDataError
        If a dataset is missing or dangling, there are no projections, flats or darks, or
        shapes, key and angle counts disagree.
    """

    def __init__(self, path: str | Path, *, paths: NXtomoPaths | None = None) -> None:
        self.path = Path(path)
        self.format = "nxtomo"
        self.paths = paths or NXtomoPaths()
        self._h5: h5py.File | None = open_hdf5(self.path)
        try:
            self._read_header(self._h5)
        except BaseException:
            self.close()
            raise

    def _read_header(self, h5: h5py.File) -> None:
        name, data = _find(h5, self.paths, "data")
        if data is None:
            raise RawDataError(self.path, name, "dataset missing or dangling external link "
                               "(frame stack is required)")
        check_frame_shape(self.path, name, data.shape, tuple(data.shape[1:3]), "frame stack")
        self._data = data
        self.detector_shape = (int(data.shape[1]), int(data.shape[2]))
        self.dtype = data.dtype
        key = self._read_image_key(h5, int(data.shape[0]))
        self._proj_idx = np.flatnonzero(key == PROJECTION)
        self._flat_idx = np.flatnonzero(key == FLAT)
        self._dark_idx = np.flatnonzero(key == DARK)
        self.n_projections = int(self._proj_idx.size)
        self.n_flats = int(self._flat_idx.size)
        self.n_darks = int(self._dark_idx.size)
        self.flat_projection_index = np.searchsorted(self._proj_idx, self._flat_idx).astype(
            np.int64)
        self.angles_rad = self._read_angles(h5, int(data.shape[0]))
        self.pixel_size_um = self._read_pixel_size(h5)

    def _read_image_key(self, h5: h5py.File, n_frames: int) -> np.ndarray:
        name, ds = _find(h5, self.paths, "image_key")
        if ds is None:
            raise RawDataError(self.path, name, "dataset missing (image_key is required)")
        key = np.asarray(ds[()]).ravel()
        if key.size != n_frames:
            raise RawDataError(self.path, name, f"{key.size} keys for {n_frames} frames")
        bad = ~np.isin(key, (PROJECTION, FLAT, DARK, INVALID))
        if bad.any():
            raise RawDataError(self.path, name, f"unknown key {int(key[bad][0])}; expected "
                               "0 projection, 1 flat, 2 dark or 3 invalid")
        for value, what in ((PROJECTION, "projection"), (FLAT, "flat"), (DARK, "dark")):
            if not np.any(key == value):
                raise RawDataError(self.path, name, f"no {what} frames (image_key {value}); "
                                   f"{what} frames are required")
        return key

    def _read_angles(self, h5: h5py.File, n_frames: int) -> np.ndarray:
        name, ds = _find(h5, self.paths, "rotation_angle")
        if ds is None:
            raise RawDataError(self.path, name, "dataset missing (rotation angles are required)")
        values = np.asarray(ds[()]).ravel()
        if values.size == n_frames:
            values = values[self._proj_idx]
        elif values.size != self.n_projections:
            raise RawDataError(self.path, name, f"{values.size} angles for {n_frames} frames "
                               f"({self.n_projections} projections)")
        return angles_to_rad(self.path, name, values, attr_str(ds, "units"))

    def _read_pixel_size(self, h5: h5py.File) -> float | None:
        name, ds = _find(h5, self.paths, "x_pixel_size")
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
