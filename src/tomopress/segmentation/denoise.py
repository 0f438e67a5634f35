"""Denoising before segmentation: non-local means, median, or none."""

from __future__ import annotations

from typing import Final

import numpy as np
from scipy import ndimage

from tomopress.types import F32Array

__all__ = ["DENOISERS", "denoise", "estimate_noise_sigma"]

#: denoiser names accepted by :func:`denoise`
DENOISERS: Final = ("nl_means", "median", "none")


def estimate_noise_sigma(values: np.ndarray, *, n_bins: int = 256) -> float:
    """Noise standard deviation from the width of the dominant histogram peak.

    Half the full width at half maximum of the tallest (smoothed) peak divided by
    ``sqrt(2 ln 2)``. On the separator crop the tallest peak is pure SE, so this is the
    reconstruction noise at the SE grey level; unlike wavelet estimators (which see the
    high-pass-filtered FBP noise as white and underestimate it about 2x), it measures the
    spread that the thresholds actually face.

    Raises
    ------
    ValueError
        If `values` holds fewer than 100 finite values.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(estimate_noise_sigma(rng.normal(20, 5, 200_000)), 1)
    5.0
    """
    v = np.asarray(values, dtype=np.float32).ravel()
    v = v[np.isfinite(v)]
    if v.size < 100:
        raise ValueError(f"need at least 100 finite values to estimate the noise, got {v.size}")
    lo, hi = np.percentile(v, [0.1, 99.9])
    counts, edges = np.histogram(v, bins=n_bins, range=(lo, hi))
    smooth = ndimage.gaussian_filter1d(counts.astype(np.float64), 1.0)
    peak = int(np.argmax(smooth))
    half = smooth[peak] / 2
    left = peak
    while left > 0 and smooth[left] > half:
        left -= 1
    right = peak
    while right < n_bins - 1 and smooth[right] > half:
        right += 1
    # sub-bin half-maximum crossings by linear interpolation
    left_x = left + (half - smooth[left]) / max(smooth[left + 1] - smooth[left], 1e-12)
    right_x = right - (half - smooth[right]) / max(smooth[right - 1] - smooth[right], 1e-12)
    width = edges[1] - edges[0]
    hwhm = 0.5 * (right_x - left_x) * width
    return float(max(hwhm, width) / np.sqrt(2 * np.log(2)))


def denoise(
    volume: np.ndarray,
    *,
    method: str,
    noise_sigma: float | None = None,
    median_size_px: int = 3,
    nlm_h_factor: float = 0.8,
    nlm_patch_size_px: int = 3,
    nlm_patch_distance_px: int = 2,
) -> F32Array:
    """Denoise a 3-D volume; returns float32.

    Parameters
    ----------
    volume : ndarray, shape (Z, Y, X)
    method : str
        ``"nl_means"`` (skimage's fast non-local means, Buades et al. 2005,
        doi:10.1109/CVPR.2005.38, with filter strength ``h = nlm_h_factor * noise_sigma``),
        ``"median"`` (cube of side `median_size_px`) or ``"none"`` (float32 copy).
    noise_sigma : float, optional
        Noise standard deviation in grey units, > 0; required by ``"nl_means"``.
    median_size_px, nlm_h_factor, nlm_patch_size_px, nlm_patch_distance_px
        Filter settings. The non-local-means cost grows as ``(2 d + 1)^3`` with the patch
        distance d: d = 2 segments 10⁸ voxels in minutes on 2 cores, d = 5 takes ~13x longer.

    Raises
    ------
    ValueError
        On an unknown method, a non-3-D volume or a missing/invalid `noise_sigma`.

    Examples
    --------
    >>> v = np.zeros((3, 3, 3), np.float32); v[1, 1, 1] = 100
    >>> float(denoise(v, method="median")[1, 1, 1])
    0.0
    """
    if method not in DENOISERS:
        raise ValueError(f"unknown denoiser {method!r}; valid choices are {', '.join(DENOISERS)}")
    volume = np.asarray(volume, dtype=np.float32)
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3-D (z, y, x), got shape {volume.shape}")
    if method == "none":
        return volume.copy()
    if method == "median":
        if median_size_px < 1:
            raise ValueError(f"median_size_px must be >= 1, got {median_size_px}")
        if median_size_px == 1:
            return volume.copy()
        return ndimage.median_filter(volume, size=median_size_px, mode="nearest")
    if noise_sigma is None or not noise_sigma > 0:
        raise ValueError(f"nl_means needs noise_sigma > 0, got {noise_sigma!r}")
    from skimage.restoration import denoise_nl_means

    out = denoise_nl_means(
        volume,
        patch_size=nlm_patch_size_px,
        patch_distance=nlm_patch_distance_px,
        h=nlm_h_factor * noise_sigma,
        sigma=noise_sigma,
        fast_mode=True,
        preserve_range=True,
    )
    return np.asarray(out, dtype=np.float32)
