"""Integrity checks: a cheap pixel sample of a raw scan, checksums, and writable outputs.

`pixel_problems` reads a small, fixed sample of an open scan, never the whole file:

- projections: at most `SAMPLE_MAX_FRAMES` frames (all rows, all columns), every k-th frame
  from frame 0 with ``k = ceil(n_projections / n_sampled)``, and fewer frames when that many
  would exceed `SAMPLE_MAX_BYTES` (at least one frame is always read);
- flats and darks: every frame, on every m-th detector row, with ``m`` chosen so that flats
  plus darks stay within `SAMPLE_MAX_BYTES` / 4.

A 1800 x 2048 x 2048 uint16 scan (8 MB per frame) is sampled on 8 projections (every 225th)
plus the flats and darks on every few rows: about 80 MB read, against 15 GB for the file.
Files chunked across many frames may make HDF5 decode more than that.

What it reports (each as ``(file, field, problem)``, with frame indices):

- NaN or infinite pixels (float data) in projections, flats or darks;
- all-zero projections (beam off, shutter closed, detector dropped out);
- saturated projections or flats: more than `SATURATED_FRACTION` of a frame at the largest
  value of its integer dtype (65535 for uint16);
- flats not above darks: the mean flat is not above the mean dark, or more than
  `FLAT_NOT_ABOVE_DARK_FRACTION` of the sampled pixels have mean flat <= mean dark;
- frames that cannot be read (truncated or corrupt file).
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from tomopress.errors import OutputWriteError, RawDataError
from tomopress.io import Scan

__all__ = [
    "FLAT_NOT_ABOVE_DARK_FRACTION",
    "SAMPLE_MAX_BYTES",
    "SAMPLE_MAX_FRAMES",
    "SATURATED_FRACTION",
    "check_writable",
    "pixel_problems",
    "sample_frames",
    "sha256_file",
    "sha256_tree",
]

#: most projection frames read by `pixel_problems`
SAMPLE_MAX_FRAMES = 16
#: most bytes of projections read by `pixel_problems` (flats + darks get a quarter of it)
SAMPLE_MAX_BYTES = 64 * 2**20
#: a frame with more than this fraction of pixels at the dtype maximum is saturated
SATURATED_FRACTION = 0.05
#: more than this fraction of pixels with mean flat <= mean dark is refused
FLAT_NOT_ABOVE_DARK_FRACTION = 0.01

Problem = tuple[str, str, str]


def sample_frames(n_projections: int, frame_bytes: int) -> slice:
    """The projections `pixel_problems` reads: every k-th frame from 0, within the limits.

    Examples
    --------
    >>> sample_frames(1800, 2048 * 2048 * 2)
    slice(0, 1800, 225)
    >>> sample_frames(10, 100)
    slice(0, 10, 1)
    """
    by_bytes = max(1, SAMPLE_MAX_BYTES // max(1, frame_bytes))
    n_sampled = max(1, min(SAMPLE_MAX_FRAMES, by_bytes, n_projections))
    return slice(0, n_projections, max(1, math.ceil(n_projections / n_sampled)))


def _frames_text(indices: Iterable[int], limit: int = 8) -> str:
    items = list(indices)
    shown = ", ".join(str(i) for i in items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}]"


def _read(scan: Scan, field: str, read: object, what: str,
          found: list[Problem]) -> np.ndarray | None:
    try:
        return read()  # type: ignore[operator]
    except RawDataError as err:
        found.extend(err.problems)
    except (OSError, ValueError) as err:
        found.append((str(scan.path), field, f"cannot read {what}: file truncated or corrupt "
                      f"({err})"))
    return None


def pixel_problems(scan: Scan) -> list[Problem]:
    """Problems found in a small pixel sample of `scan` (see the module docstring).

    Parameters
    ----------
    scan : Scan
        An open scan.

    Returns
    -------
    list of (str, str, str)
        ``(file, field, problem)`` triples; empty when the sample looks sound.
    """
    found: list[Problem] = []
    path = str(scan.path)
    fields = getattr(scan, "fields", {})
    proj_field = fields.get("projections", "projections")
    rows, cols = scan.detector_shape
    itemsize = np.dtype(scan.dtype).itemsize
    frames = sample_frames(scan.n_projections, rows * cols * itemsize)
    indices = np.arange(scan.n_projections)[frames]
    how = (f"{indices.size} of {scan.n_projections} frames sampled, every {frames.step}th "
           "from 0" if frames.step > 1 else f"all {indices.size} frames checked")
    proj = _read(scan, proj_field, lambda: scan.read_projections(slice(None), frames),
                 f"projection frames {_frames_text(indices)}", found)
    if proj is not None:
        flat_view = proj.reshape(proj.shape[0], -1)
        if np.issubdtype(proj.dtype, np.floating):
            bad = ~np.isfinite(flat_view).all(axis=1)
            if bad.any():
                found.append((path, proj_field, f"projections {_frames_text(indices[bad])} "
                              f"have NaN or infinite pixels ({how})"))
        zero = ~flat_view.any(axis=1)
        if zero.any():
            found.append((path, proj_field, f"projections {_frames_text(indices[zero])} are "
                          f"all zero: beam off or detector dropout? ({how})"))
        found += _saturation(path, proj_field, "projections", flat_view, indices, how)
        del proj, flat_view
    found += _flat_dark_problems(scan, fields)
    return found


def _saturation(path: str, field: str, what: str, frames: np.ndarray, indices: np.ndarray,
                how: str) -> list[Problem]:
    if not np.issubdtype(frames.dtype, np.integer) or frames.shape[1] == 0:
        return []
    top = np.iinfo(frames.dtype).max
    fraction = np.count_nonzero(frames == top, axis=1) / frames.shape[1]
    bad = fraction > SATURATED_FRACTION
    if not bad.any():
        return []
    return [(path, field, f"{what} {_frames_text(indices[bad])} are saturated: up to "
             f"{100 * fraction.max():.0f} % of their pixels at {top}, the {frames.dtype} "
             f"maximum (limit {100 * SATURATED_FRACTION:.0f} %; {how})")]


def _flat_dark_problems(scan: Scan, fields: dict[str, str]) -> list[Problem]:
    found: list[Problem] = []
    path = str(scan.path)
    flat_field = fields.get("flats", "flats")
    dark_field = fields.get("darks", "darks")
    rows, cols = scan.detector_shape
    row_bytes = (scan.n_flats + scan.n_darks) * cols * np.dtype(scan.dtype).itemsize
    row_step = max(1, math.ceil(rows * row_bytes / (SAMPLE_MAX_BYTES / 4)))
    sel = slice(0, rows, row_step)
    how = f"every {row_step}th detector row" if row_step > 1 else "all rows"
    flats = _read(scan, flat_field, lambda: scan.read_flats(sel), "flat frames", found)
    darks = _read(scan, dark_field, lambda: scan.read_darks(sel), "dark frames", found)
    means = []
    for field, what, stack in ((flat_field, "flats", flats), (dark_field, "darks", darks)):
        if stack is None:
            continue
        view = stack.reshape(stack.shape[0], -1)
        numbers = np.arange(stack.shape[0])
        if np.issubdtype(stack.dtype, np.floating):
            bad = ~np.isfinite(view).all(axis=1)
            if bad.any():
                found.append((path, field, f"{what} {_frames_text(numbers[bad])} have NaN or "
                              f"infinite pixels ({how})"))
                continue
        if what == "flats":
            found += _saturation(path, field, what, view, numbers, how)
        means.append(view.mean(axis=0, dtype=np.float64))
    if flats is not None and darks is not None and len(means) == 2:
        flat_mean, dark_mean = means
        below = flat_mean <= dark_mean
        fraction = float(np.mean(below)) if below.size else 0.0
        if flat_mean.mean() <= dark_mean.mean() or fraction > FLAT_NOT_ABOVE_DARK_FRACTION:
            found.append((path, flat_field, f"flats are not above darks ({dark_field}): mean "
                          f"flat {flat_mean.mean():.6g}, mean dark {dark_mean.mean():.6g}, "
                          f"{100 * fraction:.1f} % of pixels with flat <= dark (limit "
                          f"{100 * FLAT_NOT_ABOVE_DARK_FRACTION:.0f} %; {how}); flats and "
                          "darks swapped?"))
    return found


def sha256_file(path: str | Path, *, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of one file, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(path: str | Path) -> dict[str, str]:
    """SHA-256 of a file, or of every file below a folder, keyed by path relative to `path`."""
    path = Path(path)
    if path.is_file():
        return {path.name: sha256_file(path)}
    return {str(p.relative_to(path)): sha256_file(p)
            for p in sorted(path.rglob("*")) if p.is_file()}


def check_writable(folder: str | Path) -> Path:
    """Make sure outputs can be written below `folder` (created if missing); return it.

    Creates and removes one temporary file there.

    Raises
    ------
    OutputWriteError
        Naming the folder and the operating system's reason (read-only file system,
        permission denied, a file in the way, disk full).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tmp-writable-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        reason = err.strerror or str(err)
        if err.errno == errno.EEXIST or (folder.exists() and not folder.is_dir()):
            reason = "a file of that name is in the way"
        raise OutputWriteError(folder, "folder", f"results folder is not writable: {reason}",
                               errno=err.errno) from None
    return folder
