"""Flat- and dark-field correction of one slab of detector rows: raw counts to line integrals."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from tomopress.types import F32Array

__all__ = [
    "FlatfieldStats",
    "average_frames",
    "flatfield_correct",
    "dead_pixel_mask",
    "interpolate_dead_columns",
    "resolve_pixel_size_um",
    "flatfield_slab_file",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlatfieldStats:
    """What the correction had to repair, for the log and the scan table."""

    n_clipped: int  #: transmissions below the floor (or non-finite) before -log
    n_bad_flat: int  #: dead detector pixels (open beam below 5 % of the median), interpolated


def average_frames(frames: np.ndarray, *, method: str = "mean") -> F32Array:
    """Average a stack of flat or dark frames, shape (n, rows, cols) -> (rows, cols) float32.

    Examples
    --------
    >>> average_frames(np.array([[[1, 3]], [[3, 5]]]), method="median").tolist()
    [[2.0, 4.0]]
    """
    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[0] == 0:
        raise ValueError(f"expected frames of shape (n>0, rows, cols), got {frames.shape}")
    if method == "mean":
        return frames.mean(axis=0, dtype=np.float64).astype(np.float32)
    if method == "median":
        return np.median(frames, axis=0).astype(np.float32)
    raise ValueError(f"method must be 'mean' or 'median', got {method!r}")


def dead_pixel_mask(flat: np.ndarray, dark: np.ndarray, *, min_open_fraction: float = 0.05) -> np.ndarray:
    """Detector pixels whose open beam (flat - dark) is below `min_open_fraction` of the median.

    Such pixels (dead columns, flat <= dark) carry no transmission information; a tiny positive
    open beam from noise would otherwise turn into absurd line integrals.

    Examples
    --------
    >>> dead_pixel_mask(np.array([[1000.0, 104.0, 990.0]]), np.array([[100.0, 100.0, 100.0]])).tolist()
    [[False, True, False]]
    """
    open_beam = flat.astype(np.float64) - dark
    reference = np.median(open_beam[open_beam > 0]) if np.any(open_beam > 0) else 0.0
    return ~(open_beam > min_open_fraction * reference)


def interpolate_dead_columns(sinogram: np.ndarray, dead: np.ndarray) -> None:
    """Replace dead detector pixels, in place, by linear interpolation along the row.

    Parameters
    ----------
    sinogram : ndarray, shape (n_angles, rows, cols)
        Line integrals; modified in place.
    dead : ndarray of bool, shape (rows, cols)
        Pixels to replace. A row with no good pixel is set to 0.
    """
    n_cols = dead.shape[1]
    columns = np.arange(n_cols)
    for row in np.flatnonzero(dead.any(axis=1)):
        good = np.flatnonzero(~dead[row])
        bad = np.flatnonzero(dead[row])
        if good.size == 0:
            sinogram[:, row, :] = 0.0
            continue
        right_pos = np.clip(np.searchsorted(good, bad), 0, good.size - 1)
        left_pos = np.clip(right_pos - 1, 0, good.size - 1)
        left, right = good[left_pos], good[right_pos]
        # outside the good range both neighbours are the same edge pixel (constant extension)
        left = np.where(left > bad, right, left)
        right = np.where(right < bad, left, right)
        span = np.where(right > left, right - left, 1)
        w_right = np.where(right > left, (columns[bad] - left) / span, 0.0).astype(np.float32)
        sinogram[:, row, bad] = (1 - w_right) * sinogram[:, row, left] + w_right * sinogram[:, row, right]


def flatfield_correct(
    projections: np.ndarray,
    flat: np.ndarray,
    dark: np.ndarray,
    *,
    min_transmission: float = 1e-4,
    chunk_angles: int = 128,
) -> tuple[F32Array, FlatfieldStats]:
    """Line integrals ``p = -ln((I - D) / (F - D))`` of a stack of projections.

    Parameters
    ----------
    projections : ndarray, shape (n_angles, rows, cols)
        Raw counts, any real dtype (uint16 on the beamline).
    flat, dark : ndarray, shape (rows, cols)
        Averaged flat and dark fields.
    min_transmission : float
        Transmissions below this (zero or negative counts after dark subtraction, NaN) are
        clipped to it, so ``p <= -ln(min_transmission)``; they are counted, not hidden.
    chunk_angles : int
        Angles converted to float at a time; bounds the extra memory to one chunk.

    Returns
    -------
    sinogram : ndarray of float32, shape (n_angles, rows, cols)
        Dimensionless line integrals (µ times path length).
    stats : FlatfieldStats
        Counts of clipped values and of dead pixels (open beam below 5 % of the median, see
        :func:`dead_pixel_mask`); dead pixels are interpolated from their row neighbours.

    Examples
    --------
    >>> p, s = flatfield_correct(np.array([[[60.0]]]), np.array([[110.0]]), np.array([[10.0]]))
    >>> round(float(p[0, 0, 0]), 6), s.n_clipped
    (0.510826, 0)
    """
    projections = np.asarray(projections)
    if projections.ndim != 3:
        raise ValueError(f"projections must be (n_angles, rows, cols), got {projections.shape}")
    if flat.shape != projections.shape[1:] or dark.shape != projections.shape[1:]:
        raise ValueError(
            f"flat {flat.shape} and dark {dark.shape} must match the detector {projections.shape[1:]}"
        )
    if not 0 < min_transmission <= 1:
        raise ValueError(f"min_transmission must be in (0, 1], got {min_transmission}")
    dark32 = dark.astype(np.float32)
    open_beam = flat.astype(np.float32) - dark32
    dead = dead_pixel_mask(flat, dark)
    open_beam[dead] = 1.0
    sinogram = np.empty(projections.shape, dtype=np.float32)
    n_clipped = 0
    for a0 in range(0, projections.shape[0], chunk_angles):
        block = sinogram[a0 : a0 + chunk_angles]
        np.subtract(projections[a0 : a0 + chunk_angles], dark32, out=block, dtype=np.float32)
        block /= open_beam
        block[:, dead] = 1.0
        low = ~(block >= min_transmission)  # also catches NaN
        n_clipped += int(np.count_nonzero(low))
        block[low] = min_transmission
        np.log(block, out=block)
        np.negative(block, out=block)
    interpolate_dead_columns(sinogram, dead)
    stats = FlatfieldStats(n_clipped=n_clipped, n_bad_flat=int(np.count_nonzero(dead)))
    if stats.n_clipped or stats.n_bad_flat:
        log.warning(
            "flat-field: %d transmissions clipped at %g, %d dead pixels (open beam < 5 %% of "
            "median) interpolated",
            stats.n_clipped, min_transmission, stats.n_bad_flat,
        )
    return sinogram, stats


def resolve_pixel_size_um(
    override_um: float | None, from_file_um: float | None, *, path: str
) -> float:
    """Pixel size: the sample sheet's override, else the file's, else a clear error."""
    from tomopress.errors import RawDataError

    value = override_um if override_um is not None else from_file_um
    if value is None or not value > 0:
        raise RawDataError(
            path, "pixel size",
            "not recorded in the file and not given: set pixel_size_um in the sample sheet",
        )
    return float(value)


def flatfield_slab_file(
    raw_path: str,
    out_path: str,
    *,
    format: str,
    reader_options: dict,
    rows: tuple[int, int],
    average: str,
    min_transmission: float,
    pixel_size_um: float | None,
) -> FlatfieldStats:
    """Flat-field detector rows ``rows`` of a raw scan into a sinogram slab file.

    Reads only those rows of the projections, flats and darks. The output HDF5 holds
    ``sinogram`` (n_angles, rows, cols) float32 line integrals and ``angles_rad``, with the row
    range, pixel size and correction counts as attributes.
    """
    from tomopress.h5store import provenance, write_array_h5
    from tomopress.io import open_scan

    row_slice = slice(*rows)
    with open_scan(raw_path, format, **reader_options) as scan:
        if not 0 <= rows[0] < rows[1] <= scan.detector_shape[0]:
            raise ValueError(
                f"{raw_path}: rows {rows[0]}:{rows[1]} outside the detector's "
                f"{scan.detector_shape[0]} rows"
            )
        flat = average_frames(scan.read_flats(row_slice), method=average)
        dark = average_frames(scan.read_darks(row_slice), method=average)
        sinogram, stats = flatfield_correct(
            scan.read_projections(row_slice), flat, dark, min_transmission=min_transmission
        )
        angles = scan.angles_rad
        pixel_um = resolve_pixel_size_um(pixel_size_um, scan.pixel_size_um, path=raw_path)
    log.info("flat-fielded rows %d:%d of %s: %s", rows[0], rows[1], raw_path, stats)
    write_array_h5(
        out_path,
        {"sinogram": sinogram, "angles_rad": angles},
        attrs={
            "row_start": rows[0],
            "row_stop": rows[1],
            "pixel_size_um": pixel_um,
            "units": "dimensionless line integral (-ln transmission)",
            "n_clipped": stats.n_clipped,
            "n_bad_flat": stats.n_bad_flat,
            "flat_average": average,
            **provenance(raw=raw_path),
        },
    )
    return stats
