"""Reader for Data Exchange (DXchange) HDF5 scans, as written at APS and by tomopy/dxchange.

Layout read (all frame stacks are ``theta:y:x``)::

    /exchange/data              projections (required)
    /exchange/data_white        flats taken before the scan    } at least one of the three
    /exchange/data_white_pre    flats taken before the scan    }
    /exchange/data_white_post   flats taken after the scan     }
    /exchange/data_dark         darks                          } at least one of the three
    /exchange/data_dark_pre     darks taken before the scan    }
    /exchange/data_dark_post    darks taken after the scan     }
    /exchange/theta             projection angles, degrees unless a ``units`` attribute says rad

The pixel size comes from ``/measurement/instrument/detection_system/objective/resolution``
(the effective pixel size at the sample) or else from
``/measurement/instrument/detector/pixel_size_x`` divided by
``/measurement/instrument/detection_system/objective/magnification`` when that is recorded; a
``units`` attribute is honoured and µm is assumed without one.
"""

from __future__ import annotations

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
    check_frame_shape,
    forward_slice,
    get_dataset,
    length_to_um,
    open_hdf5,
    read_frames,
)

__all__ = ["DXchangeScan"]

log = logging.getLogger(__name__)

DATA = "/exchange/data"
THETA = "/exchange/theta"
#: flat datasets and whether they were taken after the projections
FLATS = (
    ("/exchange/data_white", False),
    ("/exchange/data_white_pre", False),
    ("/exchange/data_white_post", True),
)
DARKS = ("/exchange/data_dark", "/exchange/data_dark_pre", "/exchange/data_dark_post")
RESOLUTION = "/measurement/instrument/detection_system/objective/resolution"
MAGNIFICATION = "/measurement/instrument/detection_system/objective/magnification"
PIXEL_SIZE_X = "/measurement/instrument/detector/pixel_size_x"


class DXchangeScan(Scan):
    """A DXchange HDF5 scan, opened read-only (see the module docstring for the layout).

    Parameters
    ----------
    path : str or Path
        The ``.h5`` file.
    allow_external_links_outside : bool
        Follow external links to files outside the scan file's folder (default: refuse).

    Raises
    ------
    RawDataError
        If the file is not HDF5, a required dataset is missing, or shapes, angle counts or
        the angles themselves are inconsistent; one line per problem found.
    """

    def __init__(self, path: str | Path, *, allow_external_links_outside: bool = False) -> None:
        self.path = Path(path)
        self.format = "dxchange"
        self._guard = LinkGuard.for_scan(self.path, allow_outside=allow_external_links_outside)
        self._h5: h5py.File | None = open_hdf5(self.path)
        try:
            self._read_header(self._h5)
        except BaseException:
            self.close()
            raise

    def _get(self, h5: h5py.File, name: str, found: Problems) -> h5py.Dataset | None:
        """The dataset at `name`; a refused link is noted in `found` and gives None."""
        return found.run(lambda: get_dataset(h5, name, guard=self._guard))

    def _read_header(self, h5: h5py.File) -> None:
        found = Problems(self.path)
        # refused links stop here, before any dataset behind them is opened
        for name in (DATA, THETA, *(n for n, _ in FLATS), *DARKS):
            found.run(lambda name=name: self._guard.check(h5, name))
        found.raise_if_any()
        data = self._get(h5, DATA, found)
        detector: tuple[int, int] | None = None
        if data is None:
            found.add(DATA, "dataset missing (projections are required)")
        elif data.ndim != 3:
            found.add(DATA, f"must be 3-D (theta, y, x), got {data.shape}")
        elif data.shape[0] == 0:
            found.add(DATA, "no projection frames")
        else:
            detector = (int(data.shape[1]), int(data.shape[2]))
        n_projections = int(data.shape[0]) if detector is not None and data is not None else None
        flats = self._frame_sets(h5, [name for name, _ in FLATS], "flat", detector, found)
        darks = self._frame_sets(h5, list(DARKS), "dark", detector, found)
        angles = self._read_angles(h5, n_projections, found)
        pixel_size = found.run(lambda: self._read_pixel_size(h5))
        found.raise_if_any()
        assert data is not None and detector is not None and angles is not None
        self._data = data
        self.n_projections = int(data.shape[0])
        self.detector_shape = detector
        self.dtype = data.dtype
        self._flats, self._darks = flats, darks
        self.n_flats = sum(ds.shape[0] for ds in flats)
        self.n_darks = sum(ds.shape[0] for ds in darks)
        after = dict(FLATS)
        self.flat_projection_index = np.concatenate([
            np.full(ds.shape[0], self.n_projections if after[ds.name] else 0, dtype=np.int64)
            for ds in flats
        ])
        self.angles_rad = angles
        self.pixel_size_um = pixel_size
        self.fields = {"projections": DATA, "flats": ", ".join(ds.name for ds in flats),
                       "darks": ", ".join(ds.name for ds in darks), "angles": THETA}

    def _frame_sets(
        self, h5: h5py.File, names: list[str], what: str,
        detector: tuple[int, int] | None, found: Problems,
    ) -> list[h5py.Dataset]:
        sets = [ds for name in names if (ds := self._get(h5, name, found)) is not None]
        if not sets:
            found.add(names[0], f"dataset missing ({what} fields are required); also looked "
                      f"for {', '.join(names[1:])}")
            return sets
        n_before = len(found.items)
        for ds in sets:
            if detector is None:
                if ds.ndim != 3:
                    found.add(ds.name, f"{what} must be 3-D (frame, row, column), got {ds.shape}")
            else:
                found.run(lambda ds=ds: check_frame_shape(self.path, ds.name, ds.shape,
                                                          detector, what))
        if len(found.items) == n_before and sum(ds.shape[0] for ds in sets) == 0:
            found.add(names[0], f"no frames ({what} fields are required)")
        return sets

    def _read_angles(self, h5: h5py.File, n_projections: int | None,
                     found: Problems) -> np.ndarray | None:
        theta = self._get(h5, THETA, found)
        if theta is None:
            found.add(THETA, "dataset missing (projection angles are required)")
            return None
        if n_projections is not None and theta.size != n_projections:
            found.add(THETA, f"{theta.size} angles for {n_projections} projections in {DATA}")
            return None
        angles = found.run(lambda: angles_to_rad(self.path, THETA, theta[()],
                                                 attr_str(theta, "units")))
        if angles is not None:
            for problem in angle_problems(angles):
                found.add(THETA, problem)
        return angles

    def _read_pixel_size(self, h5: h5py.File) -> float | None:
        resolution = get_dataset(h5, RESOLUTION, guard=self._guard)
        if resolution is not None:
            return length_to_um(self.path, RESOLUTION, resolution[()],
                                attr_str(resolution, "units"))
        pixel = get_dataset(h5, PIXEL_SIZE_X, guard=self._guard)
        if pixel is None:
            return None
        size_um = length_to_um(self.path, PIXEL_SIZE_X, pixel[()], attr_str(pixel, "units"))
        magnification = get_dataset(h5, MAGNIFICATION, guard=self._guard)
        if magnification is not None:
            try:
                mag = float(np.asarray(magnification[()], dtype=np.float64).ravel()[0])
            except (TypeError, ValueError, IndexError):
                mag = float("nan")
            if not (np.isfinite(mag) and mag > 0):
                raise RawDataError(self.path, MAGNIFICATION, f"must be > 0, got {mag!r}")
            size_um /= mag
        return size_um

    def _file(self) -> h5py.File:
        if self._h5 is None:
            raise ValueError(f"scan {self.path} is closed")
        return self._h5

    def read_projections(self, rows: slice, angles: slice = slice(None)) -> np.ndarray:
        """Read detector rows `rows` of projections `angles` (one hyperslab read).

        Returns
        -------
        ndarray, shape (n_angles_sel, n_rows_sel, columns)
            Pixels in the on-disk dtype.
        """
        self._file()
        fwd, reverse, _ = forward_slice(angles, self.n_projections)
        out = read_frames(self._data, [fwd], rows)
        return np.ascontiguousarray(out[::-1]) if reverse else out

    def read_flats(self, rows: slice) -> np.ndarray:
        """Read detector rows `rows` of every flat (before-flats first, then after-flats)."""
        self._file()
        return _concat([read_frames(ds, [slice(None)], rows) for ds in self._flats])

    def read_darks(self, rows: slice) -> np.ndarray:
        """Read detector rows `rows` of every dark frame."""
        self._file()
        return _concat([read_frames(ds, [slice(None)], rows) for ds in self._darks])

    def close(self) -> None:
        """Close the HDF5 file; safe to call twice."""
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
