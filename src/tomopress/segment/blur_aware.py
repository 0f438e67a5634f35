"""Blur-aware labels: SE and void decided after the blur of AM is taken out, AM at sub-voxel.

Why. Next to an AM particle the blurred AM edge (80 cm⁻¹ against 21 for SE and 0 for void)
lifts the first voxel outside by a quarter of the AM level or more: a void gap one to three
voxels thick reads as SE, and hand-set rim rules that fight this transfer badly between
scanners (METRICS.md, "Partial volume, calibration and resolution"). With the calibrated
levels and the measured blur the AM contribution can be predicted and subtracted:

1. a sub-voxel AM occupancy ``a = clip(1/2 - (d - δ), 0, 1)`` from the signed distance d to
   the AM boundary (probit of the Gaussian-smoothed AM mask, exact for a planar edge) shifted
   outward by a single offset δ;
2. the residual ``r = g - µ_void - (µ_AM - µ_void) G_σ * a`` of the denoised grey levels g,
   with σ the measured blur of the denoised image: what the SE and void around AM show;
3. SE where ``r`` exceeds half the SE step (scaled by the non-AM share of the voxel), void
   elsewhere; AM where ``a >= 1/2``;
4. the labels must hold exactly the attenuation the crop holds:
   ``mean(µ_void + (µ_AM - µ_void) a + (µ_SE - µ_void) [SE](1 - a)) = mean(raw grey)`` (the mean
   of a reconstruction is unbiased whatever the blur, which conserves it). This balance is
   used twice. First with δ = 0, where the first labels put the AM boundary (the watershed
   follows the gradient maximum, the edge of an isolated step): the σ that closes it is the
   blur of the AM edges, measured in the crop itself. The denoiser's own smoothing of an AM
   edge at the scan's noise is then added (measured on a synthetic edge,
   :func:`tomopress.segment.calibration.denoised_blur_sigma_px`), and the balance is closed a
   second time for δ, the one degree of freedom blurred data leave open between the AM edge
   and the composition just outside it.

Nothing here is tuned on truth: the levels, the blur and δ come from the scan. The result is
sensitive to the blur (on the validation scans f_c moves by about one point per 0.01 voxel of
σ), which is why σ is measured where the labels are made rather than taken from elsewhere.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from scipy import ndimage, optimize, special

from tomopress.types import AM, SE, VOID, F32Array, LabelVolume

__all__ = ["subvoxel_distance", "am_occupancy", "classify_around_am", "blur_aware_labels"]

log = logging.getLogger(__name__)

#: smoothing of the AM mask for the sub-voxel distance (voxels); the probit of a planar
#: edge blurred with this σ is exactly the distance, up to |d| ≈ 2.5 σ
_DISTANCE_SIGMA_PX = 1.0
#: below this AM share of a layer (a separator) there is no AM blur to take out
MIN_AM_SHARE = 0.005
#: voxels in the sample on which δ is solved (whole crop below this)
_BALANCE_SAMPLE_VOXELS = 8_000_000


def subvoxel_distance(am_mask: np.ndarray) -> F32Array:
    """Signed distance (voxels, positive outside) to the boundary of `am_mask`, at sub-voxel.

    ``d = -s' Φ⁻¹(G_s * mask)`` with s = 1 voxel and s' the scale at which the sampled kernel's
    response to a voxelised planar edge matches Φ at the first voxel (0.96 s): exact for an
    axis-aligned boundary between voxel centres, within about ±3 voxels (beyond, the sign is
    all that matters downstream).

    Examples
    --------
    >>> m = np.zeros((1, 1, 12), bool); m[..., :6] = True
    >>> np.round(subvoxel_distance(m)[0, 0, 4:8], 2)
    array([-1.5, -0.5,  0.5,  1.5], dtype=float32)
    """
    s = _DISTANCE_SIGMA_PX
    smooth = ndimage.gaussian_filter(np.asarray(am_mask, np.float32), s, mode="nearest")
    np.clip(smooth, 1e-4, 1 - 1e-4, out=smooth)
    return (-_probit_scale(s) * special.ndtri(smooth)).astype(np.float32)


def _probit_scale(s: float) -> float:
    step = np.zeros(64, np.float32)
    step[:32] = 1
    inside = ndimage.gaussian_filter1d(step, s, mode="nearest")[31]  # 0.5 voxel inside
    return float(0.5 / special.ndtri(inside))


def am_occupancy(distance: np.ndarray, delta: float) -> F32Array:
    """Sub-voxel AM share of each voxel: ``clip(1/2 - (d - δ), 0, 1)``."""
    return np.clip(0.5 - (np.asarray(distance, np.float32) - np.float32(delta)), 0, 1)


def classify_around_am(
    denoised: np.ndarray,
    occupancy: np.ndarray,
    *,
    levels: tuple[float, float, float],
    blur_sigma_px: float,
) -> tuple[LabelVolume, float]:
    """Labels from AM occupancy and the AM-blur-corrected residual, and their mean attenuation.

    Returns
    -------
    labels : ndarray of uint8
        0 void, 1 SE, 2 AM.
    mean_attenuation : float
        ``mean(µ_void + (µ_AM - µ_void) a + (µ_SE - µ_void) [SE] (1 - a))``, the attenuation
        the labels (with sub-voxel AM) account for.
    """
    m_void, m_se, m_am = levels
    a = np.asarray(occupancy, np.float32)
    residual = ndimage.gaussian_filter(a, blur_sigma_px, mode="nearest")  # the AM blur ...
    residual *= np.float32(-(m_am - m_void))
    residual += np.asarray(denoised, np.float32)  # ... taken out of the grey levels
    residual -= np.float32(m_void)
    rest = np.subtract(np.float32(1), a)
    se = residual > rest * np.float32(0.5 * (m_se - m_void))
    del residual
    se &= a < 0.5
    labels = np.full(a.shape, VOID, dtype=np.uint8)
    labels[se] = SE
    labels[a >= 0.5] = AM
    mean = (m_void + (m_am - m_void) * float(a.mean(dtype=np.float64))
            + (m_se - m_void) * float(np.sum(rest, where=se, dtype=np.float64)) / a.size)
    return labels, mean


def _balance_sample(shape: tuple[int, ...], halo: int) -> list[tuple[slice, ...]]:
    """Full-height lateral windows (with `halo`) on which δ is solved, or the whole crop."""
    n = math.prod(shape)
    if n <= _BALANCE_SAMPLE_VOXELS:
        return [tuple(slice(0, k) for k in shape)]
    side = int(math.sqrt(_BALANCE_SAMPLE_VOXELS / 4 / shape[0]))
    out = []
    for fy in (0.25, 0.75):
        for fx in (0.25, 0.75):
            y0 = int(fy * shape[1] - side / 2)
            x0 = int(fx * shape[2] - side / 2)
            out.append((slice(None), slice(max(y0 - halo, 0), y0 + side + halo),
                        slice(max(x0 - halo, 0), x0 + side + halo)))
    return out


def _balanced_root(mismatch, lo: float, hi: float, xtol: float) -> float | None:
    f_lo, f_hi = mismatch(lo), mismatch(hi)
    if not f_lo * f_hi <= 0:
        return None
    return float(optimize.brentq(mismatch, lo, hi, xtol=xtol))


def blur_aware_labels(
    denoised: np.ndarray,
    am_mask: np.ndarray,
    *,
    levels: tuple[float, float, float],
    mean_grey: float,
    noise_sigma: float,
    denoise_options: dict[str, Any],
    fallback_blur_sigma_px: float,
) -> tuple[LabelVolume, F32Array, dict[str, Any]]:
    """Labels of a layer with SE and void decided against the predicted blur of AM.

    See the module docstring for the method.

    Parameters
    ----------
    denoised : ndarray, shape (Z, Y, X)
        Denoised grey levels (cm⁻¹).
    am_mask : ndarray of bool, shape (Z, Y, X)
        AM voxels of a first, gradient-based segmentation (the shape of the AM boundary).
    levels : tuple of float
        Calibrated (void, SE, AM) levels, cm⁻¹.
    mean_grey : float
        Mean of the raw (not denoised) grey levels of the same crop.
    noise_sigma : float
        Noise standard deviation of the raw grey levels.
    denoise_options : dict
        The denoiser settings `denoised` was made with (``method``, ...).
    fallback_blur_sigma_px : float
        Blur of the denoised image used when the crop's own AM edges cannot give one (the
        calibration's, from the sample's outer edge), > 0.

    Returns
    -------
    labels : ndarray of uint8
    occupancy : ndarray of float32
        Sub-voxel AM share of every voxel (for partial-volume fractions).
    info : dict
        ``am_edge_blur_sigma_px`` (σ of the AM edges, from the balance at δ = 0; NaN when it
        has no root), ``blur_sigma_px`` (the σ applied: that plus the denoiser's smoothing, or
        the fallback), ``am_offset_px`` (δ), ``balanced`` (False when no δ in [-1, 1] voxels
        closes the balance; δ is then 0, the first labels' boundary) and
        ``attenuation_mismatch_per_cm``.

    Raises
    ------
    ValueError
        If shapes differ, the fallback blur is not positive or the levels are not ordered.
    """
    from tomopress.segment.calibration import denoised_blur_sigma_px

    if np.shape(denoised) != np.shape(am_mask) or np.ndim(denoised) != 3:
        raise ValueError(f"denoised {np.shape(denoised)} and am_mask {np.shape(am_mask)} "
                         "must be 3-D arrays of one shape")
    if not fallback_blur_sigma_px > 0:
        raise ValueError(f"fallback_blur_sigma_px must be > 0, got {fallback_blur_sigma_px!r}")
    if not levels[0] < levels[1] < levels[2]:
        raise ValueError(f"levels must be ordered void < SE < AM, got {levels!r}")
    distance = subvoxel_distance(am_mask)
    windows = _balance_sample(distance.shape, halo=16)

    def mismatch(delta: float, sigma: float, distance: np.ndarray = distance) -> float:
        total = weight = 0.0
        for w in windows:
            _, mean = classify_around_am(denoised[w], am_occupancy(distance[w], delta),
                                         levels=levels, blur_sigma_px=sigma)
            n = math.prod(distance[w].shape)
            total += mean * n
            weight += n
        return total / weight - mean_grey

    edge_sigma = _balanced_root(lambda s: mismatch(0.0, s), 0.2, 4.0, 0.01)
    if edge_sigma is not None:
        sigma = denoised_blur_sigma_px(edge_sigma, noise_sigma,
                                       contrast=levels[2] - levels[1],
                                       denoise_options=denoise_options)
    else:
        sigma = fallback_blur_sigma_px
        log.warning("blur-aware labels: the AM edges give no blur (no σ in [0.2, 4] closes the "
                    "attenuation balance); using the calibration's %.2f voxel", sigma)
    delta = _balanced_root(lambda x: mismatch(x, sigma), -1.0, 1.0, 0.005)
    balanced = delta is not None
    if delta is None:
        delta = 0.0
        log.warning("blur-aware labels: no AM offset in [-1, 1] voxels matches the crop's "
                    "attenuation (levels off?); keeping the first labels' AM boundary")
    occupancy = am_occupancy(distance, delta)
    del distance
    labels, mean = classify_around_am(denoised, occupancy, levels=levels, blur_sigma_px=sigma)
    info = {"am_edge_blur_sigma_px": float("nan") if edge_sigma is None else edge_sigma,
            "blur_sigma_px": sigma, "am_offset_px": delta, "balanced": balanced,
            "attenuation_mismatch_per_cm": mean - mean_grey}
    log.info("blur-aware labels: AM edge blur %s voxel, applied %.3f, AM offset %.3f voxel, "
             "attenuation mismatch %.3g cm-1", "n/a" if edge_sigma is None else
             f"{edge_sigma:.3f}", sigma, delta, mean - mean_grey)
    return labels, occupancy, info
