"""Reader for a TIFF-stack scan: a folder of projection TIFFs plus flat and dark TIFFs and a
text file of angles.

Projections are either many single-page files (sorted in natural order, so ``raw_2`` comes
before ``raw_10``) or one multi-page file. Flats and darks may be any number of files, each with
any number of pages; all flats count as taken before the scan (``flat_projection_index`` 0).
The angle file holds one angle per line (``#`` comments allowed) in `TiffLayout.angles_unit`.

Rows are read without decoding whole pages when a page is stored uncompressed and contiguously
(the usual case for beamline TIFFs): only the bytes of the requested rows are read. Other pages
are decoded whole and sliced.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import tifffile

from tomopress.errors import RawDataError
from tomopress.io.base import Problems, Scan, angle_problems, angles_to_rad, forward_slice

__all__ = ["TiffLayout", "TiffStackScan"]

Frame = tuple[Path, int]  # (file, page index)


@dataclasses.dataclass(frozen=True)
class TiffLayout:
    """File names inside a TIFF-stack folder.

    Parameters
    ----------
    projections_glob : str
        Glob (relative to the folder) of the projection files.
    flats_glob, darks_glob : str
        Globs of the flat-field and dark-field files (at least one frame of each required).
    angles_file : str
        Text file with one angle per line.
    angles_unit : {"deg", "rad"}
        Unit of the angles in `angles_file`.
    angle_slice : tuple of int, optional
        ``(start, stop)``: the projection angles are ``angles[start:stop]`` of the file, for
        files that also list the angles of flat and dark frames. Without it the file must hold
        exactly one angle per projection.
    """

    projections_glob: str = "tiffs/*.tif*"
    flats_glob: str = "flat*.tif*"
    darks_glob: str = "dark*.tif*"
    angles_file: str = "angles.txt"
    angles_unit: str = "deg"
    angle_slice: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.angle_slice is not None:
            if len(self.angle_slice) != 2:
                raise ValueError(f"angle_slice must be (start, stop), got {self.angle_slice!r}")
            # config files give lists; store a hashable tuple of ints
            object.__setattr__(self, "angle_slice", tuple(int(i) for i in self.angle_slice))


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


class TiffStackScan(Scan):
    """A scan stored as a folder of TIFF files (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The folder.
    layout : TiffLayout, optional
        File names inside the folder (default `TiffLayout()`).

    Raises
    ------
    RawDataError
        If the folder, projections, flats, darks or angles are missing, or if frame shapes or
        the angle count disagree with the projections.
    """

    def __init__(self, path: str | Path, *, layout: TiffLayout | None = None) -> None:
        self.path = Path(path)
        self.format = "tiff"
        self.layout = layout or TiffLayout()
        if not self.path.is_dir():
            raise RawDataError(self.path, "folder", "a TIFF stack must be a folder")
        found = Problems(self.path)
        self.detector_shape = None  # type: ignore[assignment]
        proj = found.run(self._projection_frames)
        if proj is not None:
            checked = found.run(lambda: self._check_frames(
                proj, self.layout.projections_glob, "projection", first_last_only=True))
            if checked is not None:
                self.detector_shape, self.dtype = checked
                self._proj_frames = proj
                self.n_projections = len(proj)
        flats = found.run(lambda: self._aux_frames(self.layout.flats_glob, "flat"))
        darks = found.run(lambda: self._aux_frames(self.layout.darks_glob, "dark"))
        angles = found.run(self._read_angles)
        found.raise_if_any()
        assert flats is not None and darks is not None and angles is not None
        self._flat_frames, self._flat_dtype = flats
        self._dark_frames, self._dark_dtype = darks
        self.n_flats = len(self._flat_frames)
        self.n_darks = len(self._dark_frames)
        self.flat_projection_index = np.zeros(self.n_flats, dtype=np.int64)
        self.angles_rad = angles
        self.pixel_size_um = None
        self.fields = {"projections": self.layout.projections_glob,
                       "flats": self.layout.flats_glob, "darks": self.layout.darks_glob,
                       "angles": self.layout.angles_file}

    def _glob(self, pattern: str, what: str) -> list[Path]:
        files = sorted((p for p in self.path.glob(pattern) if p.is_file()), key=_natural_key)
        if not files:
            raise RawDataError(self.path, pattern, f"no files match ({what} are required)")
        return files

    def _projection_frames(self) -> list[Frame]:
        files = self._glob(self.layout.projections_glob, "projections")
        if len(files) > 1:
            return [(f, 0) for f in files]
        return [(files[0], i) for i in range(_n_pages(files[0]))]

    def _aux_frames(self, pattern: str, what: str) -> tuple[list[Frame], np.dtype]:
        frames = [(f, i) for f in self._glob(pattern, f"{what} fields")
                  for i in range(_n_pages(f))]
        shape, dtype = self._check_frames(frames, pattern, what, first_last_only=False)
        if self.detector_shape is not None and shape != self.detector_shape:
            raise RawDataError(self.path, pattern, f"{what} frames are {shape[0]} x {shape[1]} "
                               f"but projections are {self.detector_shape[0]} x "
                               f"{self.detector_shape[1]}")
        return frames, dtype

    def _check_frames(
        self, frames: list[Frame], field: str, what: str, *, first_last_only: bool
    ) -> tuple[tuple[int, int], np.dtype]:
        """Shape and dtype shared by `frames` (all, or the first and last, are opened)."""
        if not frames:
            raise RawDataError(self.path, field, f"no {what} frames")
        to_check = [frames[0], frames[-1]] if first_last_only else frames
        seen = {_page_info(path, index) for path, index in to_check}
        if len(seen) > 1:
            raise RawDataError(self.path, field, f"{what} frames differ in shape or dtype: "
                               + ", ".join(f"{s[0]}x{s[1]} {d}" for s, d in sorted(seen, key=str)))
        shape, dtype = seen.pop()
        return shape, np.dtype(dtype)

    def _read_angles(self) -> np.ndarray:
        angles_path = self.path / self.layout.angles_file
        if not angles_path.is_file():
            raise RawDataError(angles_path, "angles", "file missing (projection angles are "
                               "required)")
        try:
            values = np.loadtxt(angles_path, dtype=np.float64, ndmin=1)
        except ValueError as err:
            raise RawDataError(angles_path, "angles", f"not a list of numbers ({err})") from err
        if values.ndim != 1:
            raise RawDataError(angles_path, "angles", f"expected one angle per line, got a "
                               f"{values.shape[0]} x {values.shape[1]} table")
        if self.layout.angle_slice is not None:
            start, stop = self.layout.angle_slice
            values = values[start:stop]
            where = f"angles[{start}:{stop}] of the file"
        else:
            where = "angles in the file (set TiffLayout.angle_slice if the file also lists " \
                    "flat/dark angles)"
        if self.detector_shape is None:  # projections unusable: counts cannot be compared
            return angles_to_rad(angles_path, "angles", values, self.layout.angles_unit)
        if values.size != self.n_projections:
            raise RawDataError(angles_path, "angles", f"{values.size} {where} for "
                               f"{self.n_projections} projections")
        angles = angles_to_rad(angles_path, "angles", values, self.layout.angles_unit)
        problems = angle_problems(angles)
        if problems:
            raise RawDataError.collect([(angles_path, "angles", p) for p in problems])
        return angles

    def _read(self, frames: list[Frame], rows: slice, dtype: np.dtype) -> np.ndarray:
        fwd, reverse, n_rows = forward_slice(rows, self.detector_shape[0])
        out = np.empty((len(frames), n_rows, self.detector_shape[1]), dtype=dtype)
        if n_rows == 0:
            return out
        tif: tifffile.TiffFile | None = None
        current: Path | None = None
        try:
            for k, (path, index) in enumerate(frames):
                if path != current:
                    if tif is not None:
                        tif.close()
                    tif, current = _open_tiff(path), path
                out[k] = self._page_rows(tif, path, index, fwd, dtype)
        finally:
            if tif is not None:
                tif.close()
        return np.ascontiguousarray(out[:, ::-1]) if reverse else out

    def _page_rows(
        self, tif: tifffile.TiffFile, path: Path, index: int, rows: slice, dtype: np.dtype
    ) -> np.ndarray:
        if index >= len(tif.pages):
            raise RawDataError(path, f"page {index}", "page missing")
        page = tif.pages[index]
        if tuple(page.shape) != self.detector_shape:
            raise RawDataError(path, f"page {index}", f"frame is {page.shape}, expected "
                               f"{self.detector_shape} like the first projection")
        if np.dtype(page.dtype).newbyteorder("=") != dtype:
            raise RawDataError(path, f"page {index}", f"pixels are {page.dtype}, expected "
                               f"{dtype} like the other frames")
        return _read_page_rows(tif, page, rows)

    def read_projections(self, rows: slice, angles: slice = slice(None)) -> np.ndarray:
        """Read detector rows `rows` of projections `angles`, one page at a time.

        Returns
        -------
        ndarray, shape (n_angles_sel, n_rows_sel, columns)
            Pixels in the dtype of the projection files.
        """
        fwd, reverse, _ = forward_slice(angles, self.n_projections)
        out = self._read(self._proj_frames[fwd], rows, self.dtype)
        return np.ascontiguousarray(out[::-1]) if reverse else out

    def read_flats(self, rows: slice) -> np.ndarray:
        """Read detector rows `rows` of every flat frame, in the flat files' dtype."""
        return self._read(self._flat_frames, rows, self._flat_dtype)

    def read_darks(self, rows: slice) -> np.ndarray:
        """Read detector rows `rows` of every dark frame, in the dark files' dtype."""
        return self._read(self._dark_frames, rows, self._dark_dtype)

    def close(self) -> None:
        """Nothing to release: TIFF files are opened per read."""


def _open_tiff(path: Path) -> tifffile.TiffFile:
    try:
        return tifffile.TiffFile(path)
    except (OSError, tifffile.TiffFileError, ValueError) as err:
        raise RawDataError(path, "file", f"cannot read as TIFF ({err})") from err


def _n_pages(path: Path) -> int:
    with _open_tiff(path) as tif:
        return len(tif.pages)


def _page_info(path: Path, index: int) -> tuple[tuple[int, int], str]:
    """(rows, columns) and dtype name of one page, from its header."""
    with _open_tiff(path) as tif:
        page = tif.pages[index]
        if len(page.shape) != 2:
            raise RawDataError(path, f"page {index}", f"expected a 2-D grey image, got shape "
                               f"{page.shape}")
        return (int(page.shape[0]), int(page.shape[1])), str(page.dtype)


def _read_page_rows(tif: tifffile.TiffFile, page: tifffile.TiffPage, rows: slice) -> np.ndarray:
    """Rows `rows` (step > 0) of a 2-D page; reads only those bytes when the page is raw."""
    dtype = np.dtype(page.dtype)
    raw = (bool(page.is_contiguous) and page.compression == 1 and page.predictor == 1
           and page.fillorder == 1 and page.samplesperpixel == 1 and not page.is_tiled
           and page.bitspersample == 8 * dtype.itemsize)
    if not raw:
        try:
            return page.asarray()[rows]
        except (OSError, ValueError, tifffile.TiffFileError) as err:
            raise RawDataError(tif.filehandle.path, f"page {page.index}",
                               f"cannot decode: file truncated or corrupt ({err})") from None
    n_cols = page.shape[1]
    row_bytes = n_cols * dtype.itemsize
    start, stop = rows.start, rows.stop
    fh = tif.filehandle
    fh.seek(page.dataoffsets[0] + start * row_bytes)
    buf = fh.read((stop - start) * row_bytes)
    if len(buf) != (stop - start) * row_bytes:
        raise RawDataError(fh.path, f"page {page.index}", f"rows {start}:{stop} end after "
                           f"{len(buf)} of {(stop - start) * row_bytes} bytes: file truncated")
    disk = dtype.newbyteorder(tif.byteorder)
    block = np.frombuffer(buf, dtype=disk).reshape(stop - start, n_cols)[::rows.step]
    return block.astype(dtype.newbyteorder("="), copy=True)
