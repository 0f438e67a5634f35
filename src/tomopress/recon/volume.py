"""The reconstructed volume of a scan: a virtual HDF5 dataset over its reconstructed slabs.

A full-size reconstruction (2048 rows of 2048 x 2048 float32) is 34 GB. Copying the slabs into
one file would need that much again on disk and minutes of I/O, so ``volume.h5`` maps them
instead (an HDF5 virtual dataset whose sources are the slab files, named relative to it: the
results folder can be moved as a whole). Readers go through :func:`open_volume`, which refuses
a volume whose slab files are gone rather than reading HDF5's fill value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import h5py
import numpy as np

from tomopress.io.atomic import atomic_path
from tomopress.io.h5store import provenance, read_attrs_h5

__all__ = ["gather_slabs", "open_volume"]

log = logging.getLogger(__name__)

_KEPT_ATTRS = ("voxel_size_um", "units", "center_px", "backend", "filter")
_OPTIONAL_ATTRS = ("padding", "phase_retrieval")  # kept when the slabs have them (issue 14)


def gather_slabs(slab_paths: Sequence[str], out_path: str) -> tuple[int, int, int]:
    """Map slab files (each ``volume`` of shape (rows, ny, nx)) into one volume along z.

    Slabs must be contiguous and agree in x-y shape, voxel size, centre and backend. The
    output's ``volume`` dataset is virtual: it copies nothing and reads from the slab files,
    which must stay beside it. It carries ``z_offset_rows`` (detector row of plane 0) besides
    the slab attributes.

    Returns
    -------
    tuple of int
        The volume's shape (Z, Y, X).

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
    slab_shapes = []
    for attrs, path in headers:
        with h5py.File(path, "r") as fh:
            slab_shapes.append(fh["volume"].shape)
            if fh["volume"].dtype != np.float32:
                raise ValueError(f"{path}: volume is {fh['volume'].dtype}, expected float32")
    ny, nx = slab_shapes[0][1:]
    for (attrs, path), shape in zip(headers, slab_shapes):
        if shape != (attrs["row_stop"] - attrs["row_start"], ny, nx):
            raise ValueError(f"{path}: volume shape {shape} does not match rows "
                             f"{attrs['row_start']}:{attrs['row_stop']} x {ny} x {nx}")
    z0, z1 = first["row_start"], headers[-1][0]["row_stop"]
    shape = (z1 - z0, ny, nx)
    layout = h5py.VirtualLayout(shape=shape, dtype=np.float32)
    out_dir = os.path.dirname(os.path.abspath(out_path))
    for (attrs, path), slab_shape in zip(headers, slab_shapes):
        source = os.path.relpath(os.path.abspath(path), out_dir)
        layout[attrs["row_start"] - z0 : attrs["row_stop"] - z0] = h5py.VirtualSource(
            source, "volume", shape=slab_shape
        )
    with atomic_path(out_path) as tmp, h5py.File(tmp, "w") as out:
        out.create_virtual_dataset("volume", layout, fillvalue=np.nan)
        for key in _KEPT_ATTRS:
            out.attrs[key] = first[key]
        for key in _OPTIONAL_ATTRS:
            if key in first:
                out.attrs[key] = first[key]
        out.attrs["z_offset_rows"] = z0
        for key, value in provenance(slabs=",".join(slab_paths)).items():
            out.attrs[key] = value
    log.info("mapped %d slabs into %s, shape %s", len(headers), out_path, shape)
    return shape


@contextmanager
def open_volume(path: str) -> Iterator[h5py.File]:
    """Open a volume file read-only, after checking that every slab file it maps exists.

    Raises
    ------
    FileNotFoundError
        Naming the volume and the first missing slab file (HDF5 would read NaN instead).
    """
    with h5py.File(path, "r") as fh:
        dset = fh["volume"]
        if dset.is_virtual:
            base = os.path.dirname(os.path.abspath(path))
            for source in dset.virtual_sources():
                slab = os.path.join(base, source.file_name)
                if not os.path.isfile(slab):
                    raise FileNotFoundError(
                        f"{path}: volume maps slab file {slab}, which is missing; "
                        f"delete {path} and re-run the workflow to reconstruct it"
                    )
        yield fh
