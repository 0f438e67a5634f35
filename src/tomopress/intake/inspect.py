"""Check of a raw scan: what its header holds, and whether a small pixel sample is sound.

The result is a small JSON-ready dict that the workflow records per scan. Every header-level
problem (missing datasets, shapes, angle counts and values, unreadable or truncated file) is
collected and reported at once, one line per problem naming the file and the field; a sound
header is then followed by a cheap pixel sample (`tomopress.intake.integrity.pixel_problems`: at
most 16 projection frames or 64 MB, plus flats and darks on a subset of rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tomopress.errors import RawDataError
from tomopress.intake.integrity import pixel_problems
from tomopress.io import NXtomoPaths, TiffLayout, open_scan

__all__ = ["INSPECT_KEYS", "inspect_problems", "inspect_raw"]

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
    allow_external_links_outside: bool = False,
    check_pixels: bool = True,
) -> dict[str, Any]:
    """Describe a raw scan from its header, after checking a small pixel sample.

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
    allow_external_links_outside : bool
        Follow HDF5 external links to files outside the scan's folder (default: refuse).
    check_pixels : bool
        Also read the small pixel sample of `tomopress.intake.integrity.pixel_problems` (NaN or
        infinite pixels, all-zero or saturated frames, flats not above darks, unreadable
        frames). False reads the header only.

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
        If the scan is missing, of an unknown format, or inconsistent, or (with
        `check_pixels`) its pixel sample is not sound. The message has one
        ``<file>: <field>: <problem>`` line per problem; ``err.problems`` lists them.

    Examples
    --------
    >>> inspect_raw("tooth.h5")["detector_shape"]  # doctest: +SKIP
    [2, 640]
    """
    with open_scan(path, format, nxtomo_paths=nxtomo_paths, tiff_layout=tiff_layout,
                   allow_external_links_outside=allow_external_links_outside) as scan:
        if check_pixels:
            problems = pixel_problems(scan)
            if problems:
                raise RawDataError.collect(problems)
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


def inspect_problems(
    path: str | Path,
    format: str = "auto",
    *,
    nxtomo_paths: NXtomoPaths | None = None,
    tiff_layout: TiffLayout | None = None,
    allow_external_links_outside: bool = False,
    check_pixels: bool = False,
) -> list[str]:
    """Every problem of a raw scan, one ``<file>: <field>: <problem>`` line each.

    Takes the arguments of `inspect_raw`; by default only the header is checked.

    Returns
    -------
    list of str
        Empty when the scan is sound.

    Examples
    --------
    >>> inspect_problems("absent.h5")
    ['absent.h5: file: does not exist']
    """
    try:
        inspect_raw(path, format, nxtomo_paths=nxtomo_paths, tiff_layout=tiff_layout,
                    allow_external_links_outside=allow_external_links_outside,
                    check_pixels=check_pixels)
    except RawDataError as err:
        return err.lines()
    return []
