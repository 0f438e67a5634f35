"""Labelling: plain thresholds, or marker-controlled watershed on the gradient magnitude.

Why the watershed: at an AM|void edge the blurred grey values pass through the SE range, so
thresholds paint a one-voxel SE rim on every AM surface facing a void (METRICS.md,
"Contact-area fraction"). Here only voxels that are confidently one phase and, for SE, lie
off any edge become markers; the watershed of the gradient magnitude floods the uncertain
band from them, so the AM|void boundary lands on the gradient ridge (mid-edge) and no SE
marker exists there to grow a rim.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import ndimage

from tomopress.segmentation.denoise import denoise
from tomopress.types import AM, SE, VOID, F32Array, LabelVolume

__all__ = [
    "SEGMENTERS",
    "apply_thresholds",
    "phase_markers",
    "marker_watershed",
    "remove_small_objects_3phase",
    "segment_volume",
]

log = logging.getLogger(__name__)

#: labelling methods accepted by :func:`segment_volume`
SEGMENTERS = ("watershed", "thresholds")


def apply_thresholds(volume: np.ndarray, *, low: float, high: float) -> LabelVolume:
    """Label grey levels: void below `low`, SE from `low` to `high`, AM from `high` up.

    Examples
    --------
    >>> apply_thresholds(np.array([1.0, 5.0, 9.0]), low=3, high=7).tolist()
    [0, 1, 2]
    """
    if not low < high:
        raise ValueError(f"expected low < high, got {low} and {high}")
    volume = np.asarray(volume)
    labels = np.full(volume.shape, SE, dtype=np.uint8)
    labels[volume < low] = VOID
    labels[volume >= high] = AM
    return labels


def phase_markers(
    denoised: np.ndarray,
    gradient: np.ndarray,
    *,
    means: tuple[float, float, float],
    marker_fraction: float,
    se_max_gradient: float,
) -> np.ndarray:
    """Seeds of the watershed: 1 + label where a voxel is confidently one phase, else 0.

    Void: grey below ``m_void + f (m_SE - m_void)``; AM: above ``m_AM - f (m_AM - m_SE)``;
    SE: within ``f`` times the void|SE gap of ``m_SE`` *and* a gradient magnitude below
    `se_max_gradient` times the void|SE step per voxel (an AM|void edge passes through the SE
    grey range with a steep gradient, a real SE region is flat).
    """
    m0, m1, m2 = means
    gap = m1 - m0
    markers = np.zeros(denoised.shape, dtype=np.int32)
    markers[denoised < m0 + marker_fraction * gap] = 1 + VOID
    se = (np.abs(denoised - m1) < marker_fraction * gap) & (gradient < se_max_gradient * gap)
    markers[se] = 1 + SE
    markers[denoised > m2 - marker_fraction * (m2 - m1)] = 1 + AM
    return markers


def marker_watershed(
    denoised: np.ndarray,
    *,
    means: tuple[float, float, float],
    gradient_sigma_px: float = 0.7,
    marker_fraction: float = 0.5,
    se_max_gradient: float = 0.25,
) -> LabelVolume:
    """Three-phase labels by marker-controlled watershed of the gradient magnitude.

    Parameters
    ----------
    denoised : ndarray, shape (Z, Y, X)
        Denoised grey levels.
    means : tuple of float
        Class means (void, SE, AM), increasing.
    gradient_sigma_px : float
        Gaussian scale of the gradient magnitude, voxels.
    marker_fraction : float
        Marker band half-width as a fraction of the gap to the neighbouring class (0, 0.5].
    se_max_gradient : float
        SE markers need a gradient below this many void|SE steps per voxel.

    Returns
    -------
    ndarray of uint8
        0 void, 1 SE, 2 AM.

    Examples
    --------
    >>> z = np.zeros((4, 4, 12), np.float32); z[..., 6:] = 80  # void | AM edge, blurred
    >>> lab = marker_watershed(ndimage.gaussian_filter(z, 1.0), means=(0.0, 21.0, 80.0))
    >>> sorted(set(lab[0, 0].tolist()))  # no SE rim between them
    [0, 2]
    """
    from skimage.segmentation import watershed

    if not means[0] < means[1] < means[2]:
        raise ValueError(f"means must increase (void < SE < AM), got {means}")
    if not 0 < marker_fraction <= 0.5:
        raise ValueError(f"marker_fraction must lie in (0, 0.5], got {marker_fraction}")
    denoised = np.asarray(denoised, dtype=np.float32)
    gradient = ndimage.gaussian_gradient_magnitude(denoised, gradient_sigma_px, mode="nearest")
    markers = phase_markers(denoised, gradient, means=means, marker_fraction=marker_fraction,
                            se_max_gradient=se_max_gradient)
    if not markers.any():
        raise ValueError("no voxel is confidently any phase: check the class means")
    flooded = watershed(gradient, markers)
    del markers, gradient
    labels = (flooded - 1).astype(np.uint8)
    return labels


def remove_small_objects_3phase(labels: LabelVolume, *, min_voxels: int) -> LabelVolume:
    """Give every 6-connected phase cluster smaller than `min_voxels` its nearest other label.

    Isolated specks (noise that survived denoising) are removed without biasing any phase:
    each removed voxel takes the label of the nearest voxel outside the removed set. Returns
    a new array; ``min_voxels <= 1`` returns a copy.

    Examples
    --------
    >>> lab = np.full((5, 5, 5), 1, np.uint8); lab[2, 2, 2] = 0
    >>> int(remove_small_objects_3phase(lab, min_voxels=2)[2, 2, 2])
    1
    """
    labels = np.array(labels, dtype=np.uint8, copy=True)
    if min_voxels <= 1:
        return labels
    small = np.zeros(labels.shape, dtype=bool)
    for phase in (VOID, SE, AM):
        comp, n = ndimage.label(labels == phase)
        if n == 0:
            continue
        sizes = np.bincount(comp.ravel())
        tiny = sizes < min_voxels
        tiny[0] = False
        small |= tiny[comp]
    if small.any() and not small.all():
        idx = ndimage.distance_transform_edt(small, return_distances=False, return_indices=True)
        labels = labels[tuple(idx)]
    return labels


def _segment_block(
    block: np.ndarray,
    *,
    means: tuple[float, float, float],
    method: str,
    denoiser: str,
    noise_sigma: float | None,
    median_size_px: int,
    nlm_h_factor: float,
    nlm_patch_distance_px: int,
    gradient_sigma_px: float,
    marker_fraction: float,
    se_max_gradient: float,
    min_object_voxels: int,
) -> LabelVolume:
    d = denoise(block, method=denoiser, noise_sigma=noise_sigma, median_size_px=median_size_px,
                nlm_h_factor=nlm_h_factor, nlm_patch_distance_px=nlm_patch_distance_px)
    if method == "watershed":
        labels = marker_watershed(d, means=means, gradient_sigma_px=gradient_sigma_px,
                                  marker_fraction=marker_fraction, se_max_gradient=se_max_gradient)
    else:
        labels = apply_thresholds(d, low=0.5 * (means[0] + means[1]),
                                  high=0.5 * (means[1] + means[2]))
    del d
    return remove_small_objects_3phase(labels, min_voxels=min_object_voxels)


def segment_volume(
    volume: np.ndarray,
    *,
    means: tuple[float, float, float],
    method: str = "watershed",
    denoiser: str = "nl_means",
    noise_sigma: float | None = None,
    median_size_px: int = 3,
    nlm_h_factor: float = 0.8,
    nlm_patch_distance_px: int = 2,
    gradient_sigma_px: float = 0.7,
    marker_fraction: float = 0.5,
    se_max_gradient: float = 0.25,
    min_object_voxels: int = 4,
    slab_planes: int = 8,
    overlap_planes: int = 4,
    n_threads: int = 1,
) -> LabelVolume:
    """Denoise and label a layer crop, one z-slab at a time (bounded memory).

    Each slab of `slab_planes` planes is processed with `overlap_planes` extra planes on each
    side (discarded afterwards), so denoising, gradients and the watershed see the same
    neighbourhood as in one piece; peak memory is about 40 bytes per voxel of one padded slab
    plus the input and the labels. Slabs run on `n_threads` threads (the denoisers and the
    watershed release the GIL for most of their work).

    Parameters
    ----------
    volume : ndarray, shape (Z, Y, X)
        Reconstructed grey levels of one layer.
    means : tuple of float
        Class means (void, SE, AM) in the grey units of `volume`.
    method : str
        ``"watershed"`` (:func:`marker_watershed`) or ``"thresholds"`` (midway thresholds).
    denoiser, noise_sigma, median_size_px, nlm_h_factor, nlm_patch_distance_px
        See :func:`tomopress.segmentation.denoise.denoise`.
    gradient_sigma_px, marker_fraction, se_max_gradient
        See :func:`marker_watershed`.
    min_object_voxels : int
        Clusters smaller than this are merged into their surroundings
        (:func:`remove_small_objects_3phase`; per slab, so a cluster cut by a slab border is
        judged by its part inside the padded slab).
    slab_planes, overlap_planes, n_threads : int
        Slab size, padding and parallelism.

    Returns
    -------
    ndarray of uint8, shape (Z, Y, X)
        0 void, 1 SE, 2 AM.

    Raises
    ------
    ValueError
        On an unknown method, a non-3-D volume or bad slab settings.
    """
    if method not in SEGMENTERS:
        raise ValueError(f"unknown method {method!r}; valid choices are {', '.join(SEGMENTERS)}")
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3-D (z, y, x), got shape {volume.shape}")
    if slab_planes < 1 or overlap_planes < 0 or n_threads < 1:
        raise ValueError("slab_planes and n_threads must be >= 1 and overlap_planes >= 0")
    nz = volume.shape[0]
    out = np.empty(volume.shape, dtype=np.uint8)
    kw = dict(means=means, method=method, denoiser=denoiser, noise_sigma=noise_sigma,
              median_size_px=median_size_px, nlm_h_factor=nlm_h_factor,
              nlm_patch_distance_px=nlm_patch_distance_px, gradient_sigma_px=gradient_sigma_px,
              marker_fraction=marker_fraction, se_max_gradient=se_max_gradient,
              min_object_voxels=min_object_voxels)

    def one(z0: int) -> None:
        z1 = min(z0 + slab_planes, nz)
        a, b = max(z0 - overlap_planes, 0), min(z1 + overlap_planes, nz)
        block: F32Array = np.asarray(volume[a:b], dtype=np.float32)
        labels = _segment_block(block, **kw)  # type: ignore[arg-type]
        out[z0:z1] = labels[z0 - a : z1 - a]

    starts = list(range(0, nz, slab_planes))
    if n_threads == 1 or len(starts) == 1:
        for z0 in starts:
            one(z0)
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            list(pool.map(one, starts))
    log.info("segmented %s voxels (%s, %s denoising) in %d slabs", volume.shape, method,
             denoiser, len(starts))
    return out
