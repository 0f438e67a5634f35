"""Denoising before segmentation: non-local means, median, or none."""

from __future__ import annotations

from typing import Final

import numpy as np
from scipy import ndimage

from tomopress.types import F32Array

__all__ = ["DENOISERS", "denoise", "denoised_sample", "estimate_noise_sigma", "sample_blocks"]

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
    nlm_patch_distance_px: int = 1,
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
        distance d: d = 1 takes about half a second per 10⁶ voxels on one core, d = 2 four times
        that, d = 5 ~50 times. On the synthetic scans d = 1 segments as well as d = 2
        (benchmarks/segmentation.py).

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


def sample_blocks(
    shape: tuple[int, int, int],
    *,
    max_voxels: int,
    block_shape: tuple[int, int, int] = (8, 64, 64),
    seed: int = 0,
) -> list[tuple[slice, slice, slice]]:
    """Non-overlapping blocks of a volume, spread over it, together at most `max_voxels`.

    The volume is tiled by `block_shape` (clipped to `shape`); when the tiles hold more than
    `max_voxels`, a reproducible random subset of ``max_voxels // block size`` tiles is
    kept, so every depth and every part of the field of view is represented. A volume of at
    most `max_voxels` voxels comes back as one block.

    Parameters
    ----------
    shape : tuple of int
        Volume shape (Z, Y, X).
    max_voxels : int
        Budget, >= 1.
    block_shape : tuple of int
        Tile shape; large enough for a 3-D denoiser's patches, small enough to spread.
    seed : int
        Seed of the tile choice.

    Returns
    -------
    list of tuple of slice
        In raster order.

    Examples
    --------
    >>> len(sample_blocks((100, 1024, 1024), max_voxels=2_000_000))
    61
    >>> sample_blocks((4, 8, 8), max_voxels=1000)
    [(slice(0, 4, None), slice(0, 8, None), slice(0, 8, None))]
    """
    if max_voxels < 1:
        raise ValueError(f"max_voxels must be >= 1, got {max_voxels}")
    if int(np.prod(shape)) <= max_voxels:
        return [tuple(slice(0, n) for n in shape)]  # type: ignore[list-item]
    block = [min(b, n) for b, n in zip(block_shape, shape)]
    counts = [n // b for n, b in zip(shape, block)]
    n_tiles = int(np.prod(counts))
    keep = max(1, min(n_tiles, max_voxels // int(np.prod(block))))
    chosen = np.sort(np.random.default_rng(seed).choice(n_tiles, size=keep, replace=False))
    out = []
    for flat in chosen:
        idx = np.unravel_index(flat, counts)
        out.append(tuple(slice(i * b, (i + 1) * b) for i, b in zip(idx, block)))
    return out  # type: ignore[return-value]


def denoised_sample(
    volume: np.ndarray,
    *,
    max_voxels: int,
    margin_px: int = 3,
    **denoise_kw: object,
) -> F32Array:
    """Denoised grey levels of a spread-out sample of `volume` (1-D, at most `max_voxels`).

    Grey-level histograms (noise, modes, the partial-volume mixture) need a few 10⁶ voxels,
    not 10⁸: :func:`sample_blocks` picks tiles, each is denoised with `margin_px` of real
    context on every side (so it matches the full-volume denoising away from the crop's
    faces) and its interior is kept. A volume within the budget is denoised whole.

    Parameters
    ----------
    volume : ndarray, shape (Z, Y, X)
    max_voxels : int
        Sample budget.
    margin_px : int
        Context around each tile; at least the denoiser's reach (patch radius + search
        distance for non-local means, half the median size).
    **denoise_kw
        Passed to :func:`denoise` (``method``, ``noise_sigma``, ...).

    Returns
    -------
    ndarray of float32, shape (N,)
    """
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3-D (z, y, x), got shape {volume.shape}")
    parts = []
    for blk in sample_blocks(volume.shape, max_voxels=max_voxels):
        lo = [max(s.start - margin_px, 0) for s in blk]
        hi = [min(s.stop + margin_px, n) for s, n in zip(blk, volume.shape)]
        padded = volume[tuple(slice(a, b) for a, b in zip(lo, hi))]
        d = denoise(padded, **denoise_kw)  # type: ignore[arg-type]
        inner = tuple(slice(s.start - a, s.stop - a) for s, a in zip(blk, lo))
        parts.append(d[inner].ravel())
    return np.concatenate(parts)
