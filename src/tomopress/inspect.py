"""Header check of a raw scan: what the file holds, without reading any pixel data.

The result is a small JSON-ready dict that the workflow records per scan and uses at
DAG-build time (for example the number of detector rows, to lay out slabs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tomopress.io import NXtomoPaths, TiffLayout, open_scan

__all__ = ["INSPECT_KEYS", "inspect_raw"]

#: keys of the dict returned by `inspect_raw`, in order
INSPECT_KEYS = (
    "path",
    "format",
    "n_projections",
    "n_flats",
    "n_darks",
    "detector_shape",
    "angle_min_deg",
    "angle_max_deg",
    "dtype",
    "pixel_size_um",
)


def inspect_raw(
    path: str | Path,
    format: str = "auto",
    *,
    nxtomo_paths: NXtomoPaths | None = None,
    tiff_layout: TiffLayout | None = None,
) -> dict[str, Any]:
    """Describe a raw scan from its header; no pixel data is read.

    Parameters
    ----------
    path : str or Path
        Raw scan: DXchange or NXtomo HDF5 file, or TIFF-stack folder.
    format : {"auto", "dxchange", "nxtomo", "tiff"}
        Raw format; ``"auto"`` decides by content (see `tomopress.io.open_scan`).
    nxtomo_paths : NXtomoPaths, optional
        Dataset paths for NXtomo files.
    tiff_layout : TiffLayout, optional
        File names for TIFF stacks.

    Returns
    -------
    dict
        Plain, JSON-serialisable values under the keys `INSPECT_KEYS`: ``path`` (str),
        ``format`` (str), ``n_projections``, ``n_flats``, ``n_darks`` (int),
        ``detector_shape`` ([rows, columns], list of int), ``angle_min_deg`` and
        ``angle_max_deg`` (float, degrees), ``dtype`` (on-disk projection dtype name, e.g.
        ``"uint16"``) and ``pixel_size_um`` (float in µm, or None when the file has none).

    Raises
    ------
    RawDataError
        If the scan is missing, of an unknown format, or inconsistent.

    Examples
    --------
    >>> inspect_raw("tooth.h5")["detector_shape"]  # doctest: +SKIP
    [2, 640]
    """
    with open_scan(path, format, nxtomo_paths=nxtomo_paths, tiff_layout=tiff_layout) as scan:
        angles_deg = np.rad2deg(scan.angles_rad)
        return {
            "path": str(scan.path),
            "format": scan.format,
            "n_projections": int(scan.n_projections),
            "n_flats": int(scan.n_flats),
            "n_darks": int(scan.n_darks),
            "detector_shape": [int(n) for n in scan.detector_shape],
            "angle_min_deg": float(angles_deg.min()),
            "angle_max_deg": float(angles_deg.max()),
            "dtype": np.dtype(scan.dtype).name,
            "pixel_size_um": None if scan.pixel_size_um is None else float(scan.pixel_size_um),
        }
