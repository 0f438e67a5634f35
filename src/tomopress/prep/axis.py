"""Rotation-axis geometry of a scan: tilt (centre varying with the row) and what a slab needs.

A rotation axis that is not parallel to the detector columns puts the centre at a different
column in every detector row: ``c(r) = c_ref + slope · (r − r_ref)``.  The `center` rule measures
the centre on bands of rows spread over the reconstructed rows, from the top through the middle
to the bottom (up to nine, :func:`tilt_bands`); :func:`fit_tilt` fits that line and decides
whether it matters (the spread ``|slope| · (rows − 1)`` over the reconstructed rows exceeds a
fraction of a pixel, and the slope stands out of the scatter of the band centres), and
:func:`half_turn_slab` gives each row its own centre by shifting it so that its axis lands on
``c_ref`` (a per-row sub-pixel shift, exact by Fourier interpolation), then, for a full-turn
scan, stitches it into a half-turn sinogram (:mod:`tomopress.prep.halfacq`).  Every slab of a
scan ends with the same width and axis, so the reconstructed slabs stack into one volume.

An in-plane tilt (the axis leaning along the beam) would need a 3-D correction; it is not
handled here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np

from tomopress.prep.halfacq import shift_rows, stitch_half_acquisition
from tomopress.types import F32Array, F64Array

__all__ = ["DEFAULT_MIN_SPREAD_PX", "TiltFit", "tilt_bands", "fit_tilt", "row_centers",
           "half_turn_slab", "axis_columns", "scan_axis"]

log = logging.getLogger(__name__)

#: correct the tilt when the centre moves by more than this over the reconstructed rows (px)
DEFAULT_MIN_SPREAD_PX: Final = 0.25


@dataclass(frozen=True)
class TiltFit:
    """The centre as a linear function of the detector row, and whether it is applied."""

    reference_row: float  #: detector row where the centre is `center_px`
    center_px: float  #: centre at the reference row (fitted when applied, else measured)
    slope_px_per_row: float  #: d(centre)/d(row), columns per row
    slope_se_px_per_row: float | None  #: standard error of the slope (None: not fitted)
    spread_px: float  #: |slope| times (reconstructed rows − 1)
    applied: bool  #: True when each row gets its own centre
    reason: str  #: why it is (not) applied
    band_rows: tuple[float, ...] = ()  #: centre row of every band measured
    band_centers_px: tuple[float, ...] = ()  #: centre measured in every band
    band_confidences: tuple[float, ...] = ()  #: confidence of every band's centre

    def as_record(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def tilt_bands(rows: tuple[int, int], n_rows: int, *, max_bands: int = 9) -> list[tuple[int, int]]:
    """Bands of `n_rows` rows spread evenly over ``rows``, top and bottom included.

    An odd number of bands (at most `max_bands`, as many as fit without overlapping), whose
    middle one is the middle band of :func:`tomopress.prep.center.default_rows`; only that one
    when fewer than three bands fit.

    Examples
    --------
    >>> tilt_bands((0, 72), 8)
    [(0, 8), (8, 16), (16, 24), (24, 32), (32, 40), (40, 48), (48, 56), (56, 64), (64, 72)]
    >>> tilt_bands((0, 32), 8)
    [(0, 8), (12, 20), (24, 32)]
    >>> tilt_bands((10, 30), 8)
    [(16, 24)]
    """
    lo, hi = rows
    start = max(lo, (lo + hi) // 2 - n_rows // 2)
    middle = (start, min(hi, start + n_rows))
    k = min(max_bands, (hi - lo) // max(n_rows, 1))
    k -= 1 - k % 2  # odd, so that the middle band is one of them
    if k < 3:
        return [middle]
    starts = np.rint(np.linspace(lo, hi - n_rows, k)).astype(int)
    bands = [(int(a), int(a) + n_rows) for a in starts]
    bands[k // 2] = middle
    return bands


def fit_tilt(
    band_rows: np.ndarray,
    band_centers_px: np.ndarray,
    band_confidences: np.ndarray,
    *,
    middle_index: int,
    recon_rows: tuple[int, int],
    min_confidence: float,
    min_spread_px: float = DEFAULT_MIN_SPREAD_PX,
    significance: float = 0.99,
) -> TiltFit:
    """Fit ``centre(row)`` through the band centres and decide whether to correct the tilt.

    Bands whose confidence is below `min_confidence` are left out, then those farther from a
    robust (Theil-Sen) line than ``max(4 σ, 0.1 px)`` (σ: 1.4826 times the median absolute
    residual), and the line is fitted to the rest by least squares.  The tilt is applied when at least three bands
    remain, the spread ``|slope| · (rows − 1)`` over `recon_rows` exceeds `min_spread_px`, and
    the slope differs from 0 at the `significance` level (Student's t with the residuals' n − 2
    degrees of freedom): single centres scatter by 0.1 to 0.4 px on noisy scans, so a line
    through two or three of them would often "find" a tilt that is not there.  The reference
    row is the middle band's centre row; when not applied the centre there is the middle
    band's measurement, unchanged.

    Parameters
    ----------
    band_rows : ndarray of float, shape (n,)
        Centre row of every band (detector rows; band ``[a, b)`` has centre ``(a + b − 1) / 2``).
    band_centers_px, band_confidences : ndarray of float, shape (n,)
        Measured centre (columns) and its confidence in [0, 1], per band.
    middle_index : int
        Which band is the middle one (the scan's reference centre).
    recon_rows : (int, int)
        Reconstructed detector rows ``[start, stop)``.
    min_confidence : float
        Bands below it are not used.
    min_spread_px : float
        Least spread (px) that is corrected, >= 0.
    significance : float
        Confidence level of the test that the slope is not 0, in (0, 1).

    Returns
    -------
    TiltFit

    Examples
    --------
    >>> rows = np.array([3.5, 19.5, 35.5, 51.5, 67.5])
    >>> f = fit_tilt(rows, 80.4 + 0.0125 * (rows - 35.5) + [0.01, -0.02, 0, 0.02, -0.01],
    ...              np.ones(5), middle_index=2, recon_rows=(0, 72), min_confidence=0.3)
    >>> round(f.slope_px_per_row, 4), round(f.spread_px, 2), f.applied
    (0.0125, 0.89, True)
    """
    import scipy.stats

    rows = np.asarray(band_rows, dtype=np.float64)
    centers = np.asarray(band_centers_px, dtype=np.float64)
    conf = np.asarray(band_confidences, dtype=np.float64)
    if not min_spread_px >= 0:
        raise ValueError(f"min_spread_px must be >= 0, got {min_spread_px!r}")
    ref_row, ref_center = float(rows[middle_index]), float(centers[middle_index])
    bands = {"band_rows": tuple(rows.tolist()), "band_centers_px": tuple(centers.tolist()),
             "band_confidences": tuple(conf.tolist())}
    usable = conf >= min_confidence
    if np.count_nonzero(usable) >= 3:
        slope = scipy.stats.theilslopes(centers[usable], rows[usable])[0]
        residual = centers - slope * rows
        residual -= np.median(residual[usable])
        sigma = 1.4826 * float(np.median(np.abs(residual[usable])))
        usable &= np.abs(residual) <= max(4 * sigma, 0.1)
    if np.count_nonzero(usable) < 3:
        why = ("fewer than three bands of rows to reconstruct" if rows.size < 3
               else f"fewer than three consistent bands with confidence >= {min_confidence:g}")
        return TiltFit(ref_row, ref_center, 0.0, None, 0.0, False, why, **bands)
    x, y = rows[usable], centers[usable]
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    dof = x.size - 2
    slope_se = float(np.sqrt(np.sum(residual**2) / dof / np.sum((x - x.mean()) ** 2))) \
        if dof > 0 else 0.0
    t_crit = float(scipy.stats.t.ppf(0.5 + significance / 2, dof)) if dof > 0 else np.inf
    spread = float(abs(slope) * (recon_rows[1] - recon_rows[0] - 1))
    significant = abs(slope) > t_crit * slope_se
    if spread <= min_spread_px:
        applied, why = False, f"spread {spread:.2f} px <= {min_spread_px:g} px"
    elif not significant:
        applied, why = False, (f"spread {spread:.2f} px but the slope {slope:.5f} ± {slope_se:.5f} "
                               f"px/row is not significant at {significance:g} "
                               f"({x.size} bands)")
    else:
        applied, why = True, f"spread {spread:.2f} px > {min_spread_px:g} px ({x.size} bands)"
    center = float(slope * ref_row + intercept) if applied else ref_center
    log.info("axis tilt: slope %.5f ± %.5f px/row, spread %.2f px over rows %d:%d; %s",
             slope, slope_se, spread, *recon_rows,
             "corrected" if applied else "not corrected: " + why)
    return TiltFit(ref_row, center, float(slope), slope_se, spread, applied, why, **bands)


def row_centers(center: Mapping[str, Any], rows: tuple[int, int]) -> F64Array:
    """Centre of every detector row in ``rows`` from a center.json record.

    ``center_px + slope · (row − reference_row)`` when the record's tilt is applied, else
    ``center_px`` for every row (also for records written before tilt was measured).

    Examples
    --------
    >>> rec = {"center_px": 80.0, "tilt": {"applied": True, "slope_px_per_row": 0.01,
    ...                                     "reference_row": 10.0}}
    >>> row_centers(rec, (9, 12)).tolist()
    [79.99, 80.0, 80.01]
    """
    c = float(center["center_px"])
    r = np.arange(*rows, dtype=np.float64)
    tilt = center.get("tilt") or {}
    if not tilt.get("applied"):
        return np.full(r.size, c)
    return c + float(tilt["slope_px_per_row"]) * (r - float(tilt["reference_row"]))


def half_turn_slab(
    sinogram: np.ndarray,
    angles_rad: np.ndarray,
    *,
    row_start: int,
    center: Mapping[str, Any],
) -> tuple[F32Array, F64Array, float]:
    """A slab's sinogram ready for a half-turn reconstruction with one centre.

    Rows get their own centre (tilt, :func:`row_centers`) by a shift onto the record's
    ``center_px``; a full-turn scan (``scan_type`` ``"360_centred"`` or ``"360_offset"``) is
    then stitched (:func:`tomopress.prep.halfacq.stitch_half_acquisition`).  A half-turn scan
    without tilt comes back unchanged.

    Parameters
    ----------
    sinogram : ndarray of float32, shape (n_angles, rows, cols)
        Line integrals of detector rows ``row_start .. row_start + rows − 1``.
    angles_rad : ndarray, shape (n_angles,)
    row_start : int
        Detector row of the slab's first row.
    center : mapping
        The center.json record (``center_px``, optional ``tilt`` and ``scan_type``).

    Returns
    -------
    sinogram : ndarray of float32
        Shape (n_angles, rows, cols), or (n_angles / 2, rows, stitched_cols) for a full turn.
    angles_rad : ndarray of float64
    center_px : float
        The centre to reconstruct with.
    """
    sino = np.asarray(sinogram, dtype=np.float32)
    angles = np.asarray(angles_rad, dtype=np.float64)
    c = float(center["center_px"])
    centers = row_centers(center, (row_start, row_start + sino.shape[1]))
    if np.any(centers != c):
        sino = shift_rows(sino, centers - c)
        log.info("tilt: rows %d:%d shifted by %.3f to %.3f px onto the axis at %.2f px",
                 row_start, row_start + sino.shape[1], float(centers[0] - c),
                 float(centers[-1] - c), c)
    if str(center.get("scan_type", "180")).startswith("360"):
        sino, angles, c = stitch_half_acquisition(sino, angles, center_px=c)
    return sino, angles, c


def axis_columns(center: Mapping[str, Any]) -> dict[str, Any]:
    """The scans-table columns about the axis, from a center.json record.

    ``scan_type`` (``"180"`` for records without one), ``axis_overlap_px`` (full turns, else
    None), ``axis_tilt_deg`` (``atan`` of the fitted slope, in degrees; None when the tilt was
    not measured), ``center_spread_px`` and ``center_tilt_corrected``.

    Examples
    --------
    >>> rec = {"center_px": 80.0, "tilt": {"applied": True, "slope_px_per_row": 0.01,
    ...                                     "spread_px": 0.71}}
    >>> cols = axis_columns(rec)
    >>> cols["scan_type"], round(cols["axis_tilt_deg"], 3), cols["center_tilt_corrected"]
    ('180', 0.573, True)
    """
    tilt = center.get("tilt") or {}
    slope = tilt.get("slope_px_per_row")
    return {
        "scan_type": str(center.get("scan_type", "180")),
        "axis_overlap_px": center.get("overlap_px"),
        "axis_tilt_deg": None if slope is None else float(np.degrees(np.arctan(slope))),
        "center_spread_px": tilt.get("spread_px"),
        "center_tilt_corrected": bool(tilt.get("applied", False)),
    }


def scan_axis(raw_path: str, *, format: str = "auto", reader_options: dict | None = None,
              n_rows: int = 8) -> dict[str, Any]:
    """The scan type of a raw scan and, for a full turn, where its axis lies.

    A half turn is recognised from the angles alone (``{"scan_type": "180"}``).  For a full
    turn the centre is measured on `n_rows` middle rows
    (:func:`tomopress.prep.halfacq.find_center_360`) and the result holds ``scan_type``
    (``"360_centred"`` or ``"360_offset"``), ``axis_center_px``, ``axis_confidence``,
    ``axis_side`` (``"left"``, ``"right"`` or ``"centre"``), ``overlap_px`` and
    ``stitched_cols``.

    Raises
    ------
    RawDataError
        If the scan cannot be opened.
    """
    from tomopress.io import open_scan
    from tomopress.prep.center import measure_center
    from tomopress.prep.halfacq import axis_geometry, is_full_turn

    with open_scan(raw_path, format, **(reader_options or {})) as scan:
        full = is_full_turn(scan.angles_rad)
    if not full:
        return {"scan_type": "180"}
    estimate, _, n_cols = measure_center(raw_path, format=format, reader_options=reader_options,
                                         n_rows=n_rows)
    geo = axis_geometry(estimate.center_px, n_cols)
    return {"scan_type": geo.scan_type, "axis_center_px": round(estimate.center_px, 3),
            "axis_confidence": round(estimate.confidence, 3), "axis_side": geo.side,
            "overlap_px": geo.overlap_px, "stitched_cols": geo.stitched_cols}
