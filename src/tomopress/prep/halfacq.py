"""360° scans: full-turn detection, the offset rotation axis (half acquisition) and stitching.

A full turn measures every line twice: with the geometry of :mod:`tomopress.recon.reconstruct`
the projection at θ + π is the one at θ mirrored about the axis column c,
``p(θ + π, u) = p(θ, 2c − u)``.  Beamlines use this to widen the field of view (extended field
of view, "half acquisition"): the axis sits near one edge of the detector, each projection sees
a little more than half the sample, and the mirrored projection at θ + π supplies the other
half.  The two overlap on ``2 (W − 1 − c) + 1`` columns (axis on the right) or ``2c + 1``
columns (axis on the left) of a W-column detector.

- :func:`find_center_360` finds c by comparing every projection of the first half turn with the
  mirrored projection half a turn later over their overlap (normalised squared difference,
  integer shifts by FFT, then a bounded sub-pixel search with Fourier-shifted rows).
- :func:`axis_geometry` turns c into the scan type (``"360_centred"`` or ``"360_offset"``),
  the axis side, the overlap and the stitched width.
- :func:`stitch_half_acquisition` joins each pair into one projection of a half-turn sinogram
  about ``2c + 1`` columns wide, with a cosine blend over the overlap (the plain mean for a
  centred axis, where the overlap is the whole detector); the result reconstructs like a
  180° scan with the axis at the returned column.

Everything works on a slab of detector rows, like the rest of the pipeline.

References: algotom's ``find_center_360`` and ``convert_sinogram_360_to_180``
(N. T. Vo et al., Opt. Express 29 (2021) 17849, doi:10.1364/OE.418448) use the same
overlap geometry; nothing is copied from them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import numpy as np
import scipy.fft
import scipy.optimize

from tomopress.prep.center import CenterEstimate
from tomopress.types import F32Array, F64Array

__all__ = [
    "SCAN_TYPES",
    "CENTRED_TOLERANCE",
    "AxisGeometry",
    "is_full_turn",
    "pair_half_turns",
    "shift_rows",
    "find_center_360",
    "axis_geometry",
    "stitch_half_acquisition",
]

log = logging.getLogger(__name__)

#: scan types recorded in center.json and the scans table
SCAN_TYPES: Final = ("180", "360_centred", "360_offset")
#: a full-turn scan whose axis lies within this fraction of the detector width of its middle is
#: "360_centred": its halves are averaged; farther out it is an offset-axis (half) acquisition
CENTRED_TOLERANCE: Final = 0.05
_NOISE_Z: Final = 5.0


def is_full_turn(angles_rad: np.ndarray) -> bool:
    """True when the angles cover a full turn (more than 270° including one mean step).

    Examples
    --------
    >>> is_full_turn(np.deg2rad(np.arange(0, 360, 1.0))), is_full_turn(np.deg2rad(np.arange(180)))
    (True, False)
    """
    theta = np.asarray(angles_rad, dtype=np.float64)
    if theta.size < 2:
        return False
    covered = np.ptp(theta) * theta.size / (theta.size - 1)
    return bool(covered > 1.5 * np.pi)


def pair_half_turns(sinograms: np.ndarray, angles_rad: np.ndarray
                    ) -> tuple[F32Array, F32Array, F64Array]:
    """Split a full-turn sinogram into the first half turn and the projections π later.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, rows, cols)
        Line integrals over a full turn, any angle order.
    angles_rad : ndarray, shape (n_angles,)
        Angles in radians.

    Returns
    -------
    first : ndarray of float32, shape (n1, rows, cols)
        Projections at the angles in [θ_min, θ_min + π), sorted.
    later : ndarray of float32, shape (n1, rows, cols)
        The projection at θ + π for every θ of `first`: measured where the scan has that angle
        (within 10⁻⁶ rad), else interpolated linearly in angle between the two nearest (the
        first projection standing in for itself one turn later).
    theta : ndarray of float64, shape (n1,)
        The angles of `first`.

    Raises
    ------
    ValueError
        If the angles do not cover a full turn or the shapes disagree.

    Examples
    --------
    >>> th = np.deg2rad(np.arange(0, 360, 90.0))
    >>> sino = np.arange(4, dtype=np.float32).reshape(4, 1, 1)
    >>> a, b, t = pair_half_turns(sino, th)
    >>> a.ravel().tolist(), b.ravel().tolist(), np.rad2deg(t).tolist()
    ([0.0, 1.0], [2.0, 3.0], [0.0, 90.0])
    """
    sinograms = np.asarray(sinograms)
    theta = np.asarray(angles_rad, dtype=np.float64)
    if sinograms.ndim != 3 or theta.shape != (sinograms.shape[0],):
        raise ValueError(f"sinograms {sinograms.shape} must be (n_angles, rows, cols) with "
                         f"one angle each, got angles of shape {theta.shape}")
    if not is_full_turn(theta):
        raise ValueError(f"angles cover {np.degrees(np.ptp(theta)):.1f} degrees: not a full turn")
    order = np.argsort(theta, kind="stable")
    ts = theta[order] - theta[order[0]]
    n1 = int(np.count_nonzero(ts < np.pi - 1e-9))
    # the first projection again one turn later closes the gap after the last one
    first_idx, later_idx = order[:n1], np.append(order[n1:], order[0])
    t_later = np.append(ts[n1:], 2 * np.pi)
    target = ts[:n1] + np.pi
    upper = np.clip(np.searchsorted(t_later, target), 0, t_later.size - 1)
    lower = np.clip(upper - 1, 0, t_later.size - 1)
    exact_up = np.abs(t_later[upper] - target) <= 1e-6
    exact_lo = np.abs(t_later[lower] - target) <= 1e-6
    first = np.ascontiguousarray(sinograms[first_idx], dtype=np.float32)
    if np.all(exact_up | exact_lo):
        pick = np.where(exact_up, upper, lower)
        later = np.ascontiguousarray(sinograms[later_idx[pick]], dtype=np.float32)
    else:
        span = np.maximum(t_later[upper] - t_later[lower], 1e-12)
        frac = np.clip((target - t_later[lower]) / span, 0.0, 1.0).astype(np.float32)
        later = np.empty_like(first)
        for i in range(n1):
            a = np.asarray(sinograms[later_idx[lower[i]]], dtype=np.float32)
            b = np.asarray(sinograms[later_idx[upper[i]]], dtype=np.float32)
            later[i] = (1 - frac[i]) * a + frac[i] * b
        log.info("360 pairing: %d of %d projections at θ + π interpolated in angle",
                 int(np.count_nonzero(~(exact_up | exact_lo))), n1)
    return first, later, theta[first_idx]


def shift_rows(sinograms: np.ndarray, shifts_px: np.ndarray | float) -> F32Array:
    """Evaluate every detector row at ``u + shift`` (Fourier interpolation, sub-pixel exact).

    ``out[a, r, u] = sino[a, r, u + shifts_px[r]]``: a row whose rotation axis sits at column
    ``c_r`` gets its axis at ``c_r − shift``.  The row is extended periodically through a
    raised-cosine bridge from its last value back to its first (no jump, so no ringing), and
    columns shifted in from beyond the detector take values from that bridge.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, rows, cols)
    shifts_px : float or ndarray of float, shape (rows,)
        Shift of every row in columns (any size; |shift| ≪ cols for a meaningful result).

    Returns
    -------
    ndarray of float32, shape (n_angles, rows, cols)

    Examples
    --------
    >>> u = np.arange(32, dtype=np.float32)
    >>> sino = np.exp(-0.5 * ((u - 15.0) / 2.0) ** 2)[None, None, :]
    >>> out = shift_rows(sino, np.array([0.5]))
    >>> round(float(out[0, 0, 14]), 4) == round(float(np.exp(-0.5 * (0.5 / 2) ** 2)), 4)
    True
    """
    sino = np.asarray(sinograms, dtype=np.float32)
    n_angles, n_rows, n_cols = sino.shape
    shifts = np.broadcast_to(np.asarray(shifts_px, dtype=np.float64), (n_rows,))
    out = np.empty(sino.shape, dtype=np.float32)
    bridge = 16 + int(np.ceil(np.max(np.abs(shifts), initial=0.0)))
    length = scipy.fft.next_fast_len(n_cols + 2 * bridge, real=True)
    p = length - n_cols
    ramp = (0.5 * (1 - np.cos(np.pi * np.arange(1, p + 1) / (p + 1)))).astype(np.float32)
    k = np.fft.rfftfreq(length)
    padded = np.empty((n_angles, length), dtype=np.float32)
    for r in range(n_rows):
        if shifts[r] == 0:
            out[:, r, :] = sino[:, r, :]
            continue
        row = sino[:, r, :]
        padded[:, :n_cols] = row
        padded[:, n_cols:] = row[:, -1:] + (row[:, :1] - row[:, -1:]) * ramp
        spec = scipy.fft.rfft(padded, axis=1)
        spec *= np.exp(2j * np.pi * k * shifts[r]).astype(np.complex64)
        out[:, r, :] = scipy.fft.irfft(spec, n=length, axis=1)[:, :n_cols]
    return out


def _integer_metric(first: F32Array, flipped: F32Array, min_overlap: int
                    ) -> tuple[np.ndarray, F64Array, np.ndarray]:
    """Normalised squared difference of ``flipped(u)`` and ``first(u + d)`` for integer d."""
    n_cols = first.shape[2]
    a_all = first.reshape(-1, n_cols)
    f_all = flipped.reshape(-1, n_cols)
    length = scipy.fft.next_fast_len(2 * n_cols, real=True)
    col_a2 = np.zeros(n_cols)
    col_f2 = np.zeros(n_cols)
    spec = np.zeros(length // 2 + 1, dtype=np.complex128)
    for i in range(0, a_all.shape[0], 1024):  # bounded memory: 1024 detector lines at a time
        a = a_all[i : i + 1024].astype(np.float64)
        f = f_all[i : i + 1024].astype(np.float64)
        col_a2 += np.sum(a * a, axis=0)
        col_f2 += np.sum(f * f, axis=0)
        # corr[d] = sum_u f(u) a(u + d), over every row and angle
        spec += np.sum(np.conj(scipy.fft.rfft(f, n=length, axis=1))
                       * scipy.fft.rfft(a, n=length, axis=1), axis=0)
    a2 = np.concatenate([[0.0], np.cumsum(col_a2)])
    f2 = np.concatenate([[0.0], np.cumsum(col_f2)])
    corr = scipy.fft.irfft(spec, n=length)
    shifts = np.arange(-(n_cols - min_overlap), n_cols - min_overlap + 1)
    lo = np.maximum(0, -shifts)  # overlap u in [lo, hi)
    hi = np.minimum(n_cols, n_cols - shifts)
    sum_f2 = f2[hi] - f2[lo]
    sum_a2 = a2[hi + shifts] - a2[lo + shifts]
    cross = corr[np.mod(shifts, length)]
    ssd = np.maximum(sum_f2 + sum_a2 - 2 * cross, 0.0)
    energy = sum_f2 + sum_a2
    floor = 1e-6 * np.max(energy, initial=0.0)
    metric = np.where(energy > floor, ssd / np.maximum(energy, 1e-300), 1.0)
    return shifts, metric, hi - lo


def find_center_360(
    sinograms: np.ndarray,
    angles_rad: np.ndarray,
    *,
    min_overlap_px: int = 16,
) -> CenterEstimate:
    """Rotation axis of a full-turn scan, anywhere on the detector (offset or centred).

    Compares the first half turn ``A(θ, u)`` with the mirrored second half
    ``F(θ, u) = p(θ + π, W − 1 − u)``; for the true axis c, ``F(u) = A(u + d)`` with
    ``d = 2c − (W − 1)``.  The metric ``M(d) = Σ (F(u) − A(u + d))² / Σ (F² + A²)`` over the
    overlap (at least `min_overlap_px` columns) is evaluated for every integer d at once by
    FFT, then minimised to 0.005 px in ``[d* − 1, d* + 1]`` with Fourier-shifted rows.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, rows, cols)
        Flat-fielded line integrals of a few detector rows over a full turn.
    angles_rad : ndarray, shape (n_angles,)
        Angles in radians covering a full turn.
    min_overlap_px : int
        Fewest overlapping columns a candidate may have (>= 4; capped at half the width).

    Returns
    -------
    CenterEstimate
        ``method = "360_pairs"``; ``candidates_px`` / ``metric`` is the integer-shift curve
        (candidate centres in steps of 0.5 px).  ``confidence = clip((C − 5σ) / (1 − 5σ), 0, 1)``
        with the contrast ``C = (median M − min M) / median M`` and ``σ = sqrt(2 / N)``, N the
        number of compared values at the minimum: 0 for noise or a featureless scan, near 1
        for a sharp minimum; 0 too when the best match lies at the end of the search range and
        narrower overlaps would match better (the true overlap is below `min_overlap_px`).  ``residual_px`` is the rms of ``F − A`` at the optimum relative
        to their rms (0 for noise-free consistent data).

    Raises
    ------
    ValueError
        On bad shapes, non-finite values or angles that are not a full turn.

    Examples
    --------
    >>> from tomopress.synthetic.phantoms2d import disc, sinogram
    >>> theta = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    >>> sino = sinogram([disc(1.0, 20.0, -5.0, 8.0), disc(0.5, -9.0, 3.0, 12.0)], theta,
    ...                 n_cols=40, center_px=33.3)  # axis 6.2 px from the right edge
    >>> est = find_center_360(sino[:, None, :], theta, min_overlap_px=8)
    >>> round(est.center_px, 2), est.confidence > 0.5
    (33.3, True)
    """
    sinograms = np.asarray(sinograms)
    angles_rad = np.asarray(angles_rad, dtype=np.float64)
    if sinograms.ndim != 3 or angles_rad.shape != (sinograms.shape[0],):
        raise ValueError(f"sinograms {sinograms.shape} must be (n_angles, rows, cols) with one "
                         f"angle each, got angles of shape {angles_rad.shape}")
    if not (np.all(np.isfinite(sinograms)) and np.all(np.isfinite(angles_rad))):
        raise ValueError("sinograms and angles_rad must be finite (no NaN or inf)")
    n_cols = sinograms.shape[2]
    if n_cols < 8:
        raise ValueError(f"need at least 8 columns, got {n_cols}")
    min_overlap = int(np.clip(min_overlap_px, 4, n_cols // 2))
    first, later, _ = pair_half_turns(sinograms, angles_rad)
    flipped = np.ascontiguousarray(later[:, :, ::-1])
    # the curve runs a little beyond the allowed overlaps, to tell a minimum at the end of the
    # allowed range from a match that would continue to narrower overlaps
    shifts, metric, overlap = _integer_metric(first, flipped, max(2, min_overlap - 2))
    allowed = overlap >= min_overlap
    shifts, metric, overlap, beyond = (shifts[allowed], metric[allowed], overlap[allowed],
                                       metric[~allowed])
    best = int(np.argmin(metric))
    d_int = int(shifts[best])
    at_end = best in (0, shifts.size - 1) and beyond.size and beyond.min() < metric[best]

    # sub-pixel: A evaluated at u + d by Fourier shift, compared on the columns that overlap
    # for every d in [d* - 1, d* + 1]
    lo = max(0, -d_int + 1) + 1
    hi = min(n_cols, n_cols - d_int - 1) - 1
    rows = first.shape[1]

    def ssd(d: float) -> float:
        moved = shift_rows(first, np.full(rows, d))
        diff = flipped[:, :, lo:hi] - moved[:, :, lo:hi]
        den = float(np.sum(flipped[:, :, lo:hi] ** 2, dtype=np.float64)
                    + np.sum(moved[:, :, lo:hi] ** 2, dtype=np.float64))
        return float(np.sum(diff.astype(np.float64) ** 2)) / max(den, 1e-300)

    if hi - lo >= 4:
        fit = scipy.optimize.minimize_scalar(ssd, bounds=(d_int - 1.0, d_int + 1.0),
                                             method="bounded", options={"xatol": 0.01})
        d_best = float(fit.x)
        rel_rms = float(np.sqrt(max(fit.fun, 0.0) * 2))
    else:
        d_best, rel_rms = float(d_int), float(np.sqrt(metric[best] * 2))
    center = (d_best + n_cols - 1) / 2
    median = float(np.median(metric))
    contrast = (median - float(metric[best])) / median if median > 0 else 0.0
    n_values = first.shape[0] * rows * int(overlap[best])
    noise = _NOISE_Z * np.sqrt(2.0 / max(n_values, 1))
    confidence = float(np.clip((contrast - noise) / (1 - noise), 0, 1)) if noise < 1 else 0.0
    if at_end:
        log.warning("360 centre: the match improves beyond the search range (overlaps below "
                    "min_overlap_px = %d columns): not a minimum; confidence set to 0",
                    min_overlap)
        confidence = 0.0
    log.info("360 centre %.2f px (overlap %d columns), contrast %.3f, confidence %.3f",
             center, int(overlap[best]), contrast, confidence)
    return CenterEstimate(
        center_px=center, residual_px=rel_rms, confidence=confidence, method="360_pairs",
        candidates_px=tuple(((shifts + n_cols - 1) / 2).tolist()),
        metric=tuple(metric.tolist()),
    )


@dataclass(frozen=True)
class AxisGeometry:
    """What a full-turn scan's axis position means for stitching (see :func:`axis_geometry`)."""

    scan_type: str  #: "360_centred" or "360_offset"
    side: str  #: "left", "right" or "centre": where the axis lies on the detector
    overlap_px: int  #: detector columns seen in both half turns
    stitched_cols: int  #: width of the stitched half-turn sinogram
    center_px: float  #: the axis column in the stitched sinogram
    first_col: int  #: stitched column of detector column 0 of the first half turn


def axis_geometry(center_px: float, n_cols: int, *,
                  centred_tolerance: float = CENTRED_TOLERANCE) -> AxisGeometry:
    """Scan type, axis side, overlap and stitched width of a full-turn scan with axis `center_px`.

    The mirrored half turn covers detector coordinates ``[2c − (W − 1), 2c]``; the stitched
    sinogram spans the union with ``[0, W − 1]`` on integer columns.

    Raises
    ------
    ValueError
        If the axis lies outside the detector (the halves would not overlap).

    Examples
    --------
    >>> g = axis_geometry(150.2, 160)
    >>> g.scan_type, g.side, g.overlap_px, g.stitched_cols, g.center_px
    ('360_offset', 'right', 18, 301, 150.2)
    >>> axis_geometry(80.5, 160).scan_type
    '360_centred'
    """
    c = float(center_px)
    if not (np.isfinite(c) and 0 <= c <= n_cols - 1):
        raise ValueError(f"axis {center_px!r} outside the detector (0..{n_cols - 1}): the two "
                         "half turns of a full-turn scan would not overlap")
    u_lo = int(np.ceil(2 * c - (n_cols - 1) - 1e-6))
    u_hi = int(np.floor(2 * c + 1e-6))
    u_min, u_max = min(0, u_lo), max(n_cols - 1, u_hi)
    overlap = min(n_cols - 1, u_hi) - max(0, u_lo) + 1
    offset = c - (n_cols - 1) / 2
    centred = abs(offset) <= centred_tolerance * n_cols
    side = "centre" if centred else ("right" if offset > 0 else "left")
    return AxisGeometry("360_centred" if centred else "360_offset", side, int(overlap),
                        int(u_max - u_min + 1), c - u_min, -u_min)


def stitch_half_acquisition(
    sinograms: np.ndarray,
    angles_rad: np.ndarray,
    *,
    center_px: float,
    centred_tolerance: float = CENTRED_TOLERANCE,
) -> tuple[F32Array, F64Array, float]:
    """Turn a full-turn sinogram slab into a half-turn one, wide enough for an offset axis.

    Each projection of the first half turn is joined with the projection π later, mirrored
    about the axis (``m(u) = p(θ + π, 2c − u)``, sub-pixel by Fourier shift), on the integer
    columns of :func:`axis_geometry`.  Over the overlap the two are blended with weights that
    sum to 1: a raised-cosine ramp from the side where the first projection ends to the side
    where the mirrored one ends (offset axis), or the plain mean (centred axis, where it halves
    the noise variance).  Outside the overlap only one of them exists and is taken as is.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, rows, cols)
        Line integrals over a full turn (a slab of detector rows).
    angles_rad : ndarray, shape (n_angles,)
        Angles in radians.
    center_px : float
        Axis column, in [0, cols − 1].
    centred_tolerance : float
        See :func:`axis_geometry`.

    Returns
    -------
    sinogram : ndarray of float32, shape (n1, rows, stitched_cols)
        Half-turn sinogram.
    angles_rad : ndarray of float64, shape (n1,)
        Its angles (the first half turn).
    center_px : float
        The axis column in the stitched sinogram.

    Raises
    ------
    ValueError
        If the angles are not a full turn or the axis lies outside the detector.

    Examples
    --------
    >>> from tomopress.synthetic.phantoms2d import disc, sinogram
    >>> full = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    >>> obj = [disc(1.0, -10.0, 4.0, 9.0)]
    >>> half = sinogram(obj, full, n_cols=36, center_px=30.0)   # axis near the right edge
    >>> st, th, c = stitch_half_acquisition(half[:, None, :], full, center_px=30.0)
    >>> ref = sinogram(obj, th, n_cols=61, center_px=30.0)      # a detector twice as wide
    >>> st.shape, c, bool(np.abs(st[:, 0, :] - ref).max() < 1e-4)
    ((60, 1, 61), 30.0, True)
    """
    first, later, theta = pair_half_turns(sinograms, angles_rad)
    n1, n_rows, n_cols = first.shape
    geo = axis_geometry(center_px, n_cols, centred_tolerance=centred_tolerance)
    c = float(center_px)
    u_hi = int(np.floor(2 * c + 1e-6))
    u_lo = int(np.ceil(2 * c - (n_cols - 1) - 1e-6))
    phi = 2 * c - u_hi  # in [0, 1): m(u_hi - k) = later(phi + k)
    if phi > 1e-6:
        later = shift_rows(later, np.full(n_rows, phi))
    mirrored = later[:, :, : u_hi - u_lo + 1][:, :, ::-1]  # columns u_lo .. u_hi
    u_min = -geo.first_col
    out = np.zeros((n1, n_rows, geo.stitched_cols), dtype=np.float32)
    weight_first = np.zeros(geo.stitched_cols, dtype=np.float32)
    o0, o1 = max(0, u_lo), min(n_cols - 1, u_hi)  # overlap, detector columns
    u = np.arange(u_min, u_min + geo.stitched_cols)
    in_first = (u >= 0) & (u <= n_cols - 1)
    weight_first[in_first] = 1.0
    overlap = (u >= o0) & (u <= o1)
    if geo.scan_type == "360_centred":
        weight_first[overlap] = 0.5
    else:
        t = (u[overlap] - o0 + 1) / (o1 - o0 + 2)  # in (0, 1) across the overlap
        ramp = 0.5 * (1 + np.cos(np.pi * t))  # 1 -> 0
        weight_first[overlap] = ramp if geo.side == "right" else 1 - ramp
    s0 = -u_min
    out[:, :, s0 : s0 + n_cols] = first * weight_first[s0 : s0 + n_cols]
    m0 = u_lo - u_min
    out[:, :, m0 : m0 + mirrored.shape[2]] += mirrored * (1 - weight_first[m0 : m0 + mirrored.shape[2]])
    log.info("stitched %d+%d projections of %d rows (%s axis at %.2f px, %s, overlap %d "
             "columns) into %d columns", n1, n1, n_rows, geo.scan_type, c, geo.side,
             geo.overlap_px, geo.stitched_cols)
    return out, theta, geo.center_px
