"""Gather reconstructed slabs into one volume file."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import h5py
import numpy as np

from tomopress.files import atomic_path
from tomopress.h5store import provenance, read_attrs_h5

__all__ = ["gather_slabs"]

log = logging.getLogger(__name__)

_KEPT_ATTRS = ("voxel_size_um", "units", "center_px", "backend", "filter")


def gather_slabs(slab_paths: Sequence[str], out_path: str) -> tuple[int, int, int]:
    """Concatenate slab files (each ``volume`` of shape (rows, ny, nx)) along z, in row order.

    Slabs must be contiguous and agree in x-y shape, voxel size, centre and backend. Copies
    one slab at a time, so memory stays at one slab. The output's ``volume`` dataset carries
    ``z_offset_rows`` (detector row of plane 0) besides the slab attributes.

    Returns
    -------
    tuple of int
        The gathered volume's shape (Z, Y, X).

    Raises
    ------
    ValueError
        If the slabs overlap, leave a gap, or disagree.
    """
    if not slab_paths:
        raise ValueError("no slab to gather")
    headers = sorted(((read_attrs_h5(p), p) for p in slab_paths), key=lambda h: h[0]["row_start"])
    first = headers[0][0]
    for (prev, prev_path), (cur, cur_path) in zip(headers, headers[1:]):
        if cur["row_start"] != prev["row_stop"]:
            raise ValueError(
                f"{cur_path}: row_start {cur['row_start']} does not follow {prev_path} "
                f"(row_stop {prev['row_stop']})"
            )
        for key in _KEPT_ATTRS:
            if cur.get(key) != first.get(key):
                raise ValueError(f"{cur_path}: {key} {cur.get(key)!r} differs from {first.get(key)!r}")
    with h5py.File(headers[0][1], "r") as fh:
        _, ny, nx = fh["volume"].shape
    z0, z1 = first["row_start"], headers[-1][0]["row_stop"]
    shape = (z1 - z0, ny, nx)
    with atomic_path(out_path) as tmp, h5py.File(tmp, "w") as out:
        dset = out.create_dataset(
            "volume", shape=shape, dtype=np.float32, chunks=(1, ny, nx),
            compression="gzip", compression_opts=1, shuffle=True,
        )
        for attrs, path in headers:
            with h5py.File(path, "r") as fh:
                dset[attrs["row_start"] - z0 : attrs["row_stop"] - z0] = fh["volume"][()]
        for key in _KEPT_ATTRS:
            out.attrs[key] = first[key]
        out.attrs["z_offset_rows"] = z0
        for key, value in provenance(slabs=",".join(slab_paths)).items():
            out.attrs[key] = value
    log.info("gathered %d slabs into %s, shape %s", len(headers), out_path, shape)
    return shape
