"""`open_scan`: name the format of a raw scan from its content and open it with its reader.

The dispatcher sits above the readers: it imports them, and they import only
:mod:`tomopress.io.base`, so the package has no import circle.
"""

from __future__ import annotations

from pathlib import Path

import h5py

from tomopress.errors import RawDataError
from tomopress.io.base import LinkGuard, Scan, get_dataset, open_hdf5
from tomopress.io.dxchange import DXchangeScan
from tomopress.io.nxtomo import NXtomoPaths, NXtomoScan, looks_like_nxtomo
from tomopress.io.tiffstack import TiffLayout, TiffStackScan

__all__ = ["FORMATS", "detect_format", "open_scan"]

#: format names accepted by `open_scan` besides ``"auto"``
FORMATS = ("dxchange", "nxtomo", "tiff")


def open_scan(
    path: str | Path,
    format: str = "auto",
    *,
    nxtomo_paths: NXtomoPaths | None = None,
    tiff_layout: TiffLayout | None = None,
    allow_external_links_outside: bool = False,
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
    allow_external_links_outside : bool
        Follow HDF5 external links whose target file lies outside the scan file's folder
        (default False: such links are refused with a `RawDataError`).

    Returns
    -------
    Scan
        An open scan; close it, or use it in a ``with`` block.

    Raises
    ------
    RawDataError
        If the path is missing, of an unknown format, or inconsistent; the message has one
        line per problem found in the header.

    Examples
    --------
    >>> with open_scan("tooth.h5") as scan:  # doctest: +SKIP
    ...     sino = scan.read_projections(rows=slice(0, 1))
    """
    path = Path(path)
    if not path.exists():
        raise RawDataError(path, "file", "does not exist")
    if format != "auto" and format not in FORMATS:
        raise RawDataError(path, "format", f"unknown format {format!r}; expected auto, "
                           + ", ".join(FORMATS))
    outside = allow_external_links_outside
    kind = (detect_format(path, nxtomo_paths=nxtomo_paths, allow_external_links_outside=outside)
            if format == "auto" else format)
    if kind == "dxchange":
        return DXchangeScan(path, allow_external_links_outside=outside)
    if kind == "nxtomo":
        return NXtomoScan(path, paths=nxtomo_paths, allow_external_links_outside=outside)
    return TiffStackScan(path, layout=tiff_layout)


def detect_format(
    path: Path, *, nxtomo_paths: NXtomoPaths | None = None,
    allow_external_links_outside: bool = False,
) -> str:
    """Name the raw format of `path` from its content (see `open_scan`)."""
    if path.is_dir():
        return "tiff"
    if not path.is_file() or not h5py.is_hdf5(path):
        raise RawDataError(path, "format", "not a recognised raw scan: neither an HDF5 file "
                           "(DXchange, NXtomo) nor a TIFF-stack folder")
    guard = LinkGuard.for_scan(path, allow_outside=allow_external_links_outside)
    with open_hdf5(path) as h5:
        if get_dataset(h5, "/exchange/data", guard=guard) is not None:
            return "dxchange"
        if looks_like_nxtomo(h5, nxtomo_paths, guard=guard):
            return "nxtomo"
    raise RawDataError(path, "format", "HDF5 file is neither DXchange (no /exchange/data) nor "
                       "NXtomo (no NXtomo entry or image_key dataset)")
