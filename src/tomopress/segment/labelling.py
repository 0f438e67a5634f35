"""Labelling: plain thresholds, or marker-controlled watershed on the gradient magnitude.

Why the watershed: at an AM|void edge the blurred grey values pass through the SE range, so
thresholds paint a one-voxel SE rim on every AM surface facing a void (METRICS.md,
"Contact-area fraction"). Here only voxels that are confidently one phase and, for SE, lie
off any edge become markers; the watershed of the gradient magnitude floods the uncertain
band from them, so the AM|void boundary lands on the gradient ridge (mid-edge) and no SE
marker exists there to grow a rim. SE can still flood along an AM|void edge from SE next to
it; :func:`remove_false_rim` takes back the SE voxels on AM whose grey profile runs on down
to void, and :func:`split_se_void_by_midpoint` re-splits SE|void away from AM at the
volume-preserving midpoint.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import ndimage

from tomopress.logs import Progress
from tomopress.segment.denoise import denoise
from tomopress.types import AM, SE, VOID, F32Array, LabelVolume

__all__ = [
    "SEGMENTERS",
    "apply_thresholds",
    "phase_markers",
    "marker_watershed",
    "remove_false_rim",
    "split_se_void_by_midpoint",
    "remove_small_objects_3phase",
    "segment_volume",
]

log = logging.getLogger(__name__)

_SIX = ndimage.generate_binary_structure(3, 1)  # the watershed's default connectivity

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
    labels = _flood_unlabelled(gradient, markers)
    del markers, gradient
    return labels


def _flood_unlabelled(gradient: np.ndarray, markers: np.ndarray) -> LabelVolume:
    """Watershed of `gradient` from `markers`, seeding only the markers that touch a gap.

    skimage puts every marker voxel on its priority queue, and with confident markers on
    ~85 % of the voxels that heap dominates the cost. A marker whose 6 neighbours are all
    markers floods nothing, so only the marker shell around the unlabelled voxels is seeded
    and flooded (masked to gaps + shell); same result, several times faster.
    """
    from skimage.segmentation import watershed

    gap = markers == 0
    labels = (markers - 1).astype(np.uint8)  # gaps wrap to 255, all overwritten below
    if not gap.any():
        return labels
    shell = ndimage.binary_dilation(gap, structure=_SIX) & ~gap
    region = gap | shell
    seeds = np.where(shell, markers, 0)
    flooded = watershed(gradient, seeds, mask=region)
    labels[gap] = (flooded[gap] - 1).astype(np.uint8)
    return labels


def remove_false_rim(
    labels: LabelVolume,
    denoised: np.ndarray,
    *,
    means: tuple[float, float, float],
    distance_px: float = 2.0,
    far_level: float = 0.32,
    direction_sigma_px: float = 1.0,
) -> LabelVolume:
    """Relabel SE voxels that sit on an AM|void grey ramp (the false SE rim) to void or AM.

    On the void side of an AM|void edge the blur lifts grey values into the SE range, and
    where the watershed floods that band from SE next to it, a one-voxel SE skin grows over
    AM facing void (METRICS.md, "Contact-area fraction"). Such a voxel is a partial-volume
    mix of AM and void: looking from it away from the AM, down the grey-level gradient, the
    profile continues to the void level, whereas beyond SE touching AM it levels off at the
    SE level. So every SE voxel 6-adjacent to AM is tested at `distance_px` voxels down the
    gradient (direction from the Gaussian-smoothed grey levels, trilinear sampling): below
    ``m_void + far_level (m_SE - m_void)`` it takes void or AM, whichever of their means is
    nearer its own grey level.

    The rule only sees grey levels, and at 0.5 µm voxels the false-rim voxels and real SE
    films one voxel thick between AM and void read the same: the defaults (2 voxels, 0.32)
    balance the two errors on synthetic scans of several microstructures, noise seeds and
    pressures (benchmarks/segmentation.py); ``distance_px = 0`` turns the step off.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        0 void, 1 SE, 2 AM.
    denoised : ndarray, shape (Z, Y, X)
        The denoised grey levels the labels came from.
    means : tuple of float
        Class means (void, SE, AM).
    distance_px, far_level, direction_sigma_px : float
        Look-out distance (voxels), the void-side level as a fraction of the void|SE gap,
        and the smoothing scale of the gradient direction.

    Returns
    -------
    ndarray of uint8
        A new label volume.

    Examples
    --------
    >>> z = np.zeros((3, 3, 12), np.float32); z[..., 6:] = 80  # void | AM, blurred
    >>> grey = ndimage.gaussian_filter(z, 1.0)
    >>> lab = np.zeros(z.shape, np.uint8); lab[..., 5] = SE; lab[..., 6:] = AM  # an SE rim
    >>> sorted(set(remove_false_rim(lab, grey, means=(0.0, 21.0, 80.0))[1, 1].tolist()))
    [0, 2]
    """
    labels = np.array(labels, dtype=np.uint8, copy=True)
    if distance_px <= 0:
        return labels
    m0, m1, m2 = means
    cand = (labels == SE) & ndimage.binary_dilation(labels == AM, structure=_SIX)
    idx = np.nonzero(cand)
    if idx[0].size == 0:
        return labels
    d = np.asarray(denoised, dtype=np.float32)
    smooth = ndimage.gaussian_filter(d, direction_sigma_px, mode="nearest")
    grad = np.empty((3, idx[0].size), dtype=np.float32)
    for axis in range(3):  # central differences at the candidates only
        up = list(idx)
        down = list(idx)
        up[axis] = np.minimum(idx[axis] + 1, d.shape[axis] - 1)
        down[axis] = np.maximum(idx[axis] - 1, 0)
        grad[axis] = smooth[tuple(up)] - smooth[tuple(down)]
    grad /= np.maximum(np.linalg.norm(grad, axis=0), 1e-6)
    far = ndimage.map_coordinates(d, np.stack(idx) - distance_px * grad, order=1, mode="nearest")
    rim = far < m0 + far_level * (m1 - m0)
    sel = tuple(i[rim] for i in idx)
    labels[sel] = np.where(d[sel] < 0.5 * (m0 + m2), VOID, AM).astype(np.uint8)
    return labels


def split_se_void_by_midpoint(
    labels: LabelVolume,
    denoised: np.ndarray,
    *,
    means: tuple[float, float, float],
    away_from_am_px: int = 2,
) -> LabelVolume:
    """Re-split SE and void farther than `away_from_am_px` 6-steps from AM at their midpoint.

    Away from AM only two phases meet, and for a two-phase partial-volume voxel the midpoint
    ``(m_void + m_SE) / 2`` is the threshold that keeps each phase's volume (the voxel is
    more than half SE exactly when its grey level is above it). The watershed ridge moves off
    that point where the blur of thin SE films and small pores is asymmetric, which on the
    synthetic scans over-counts void by about 1 point; near AM the watershed decides, since
    there the blur of AM lifts void into the SE range. 0 turns the step off.

    Returns
    -------
    ndarray of uint8
        A new label volume.

    Examples
    --------
    >>> grey = np.array([[[2.0, 9.0, 12.0, 20.0]]], np.float32)
    >>> lab = np.array([[[0, 0, 0, 1]]], np.uint8)
    >>> split_se_void_by_midpoint(lab, grey, means=(0.0, 21.0, 80.0)).tolist()
    [[[0, 0, 1, 1]]]
    """
    labels = np.array(labels, dtype=np.uint8, copy=True)
    if away_from_am_px <= 0:
        return labels
    m0, m1, _ = means
    am = labels == AM
    near_am = ndimage.binary_dilation(am, structure=_SIX, iterations=away_from_am_px) if am.any() \
        else am
    sel = ~near_am
    labels[sel] = np.where(np.asarray(denoised)[sel] >= 0.5 * (m0 + m1), SE, VOID)
    return labels


def remove_small_objects_3phase(labels: LabelVolume, *, min_voxels: int) -> LabelVolume:
    """Give every 6-connected phase cluster smaller than `min_voxels` its nearest other label.

    Isolated specks (noise that survived denoising) are removed without biasing any phase:
    each removed voxel takes the label of a nearest voxel (in 6-steps) outside the removed
    set. Returns a new array; ``min_voxels <= 1`` returns a copy.

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
        _fill_from_neighbours(labels, small)
    return labels


def _fill_from_neighbours(labels: LabelVolume, todo: np.ndarray) -> None:
    """Give each `todo` voxel the label of a nearest non-`todo` voxel (6-steps), in place.

    Works ring by ring on the `todo` voxels only: a distance transform with indices of the
    whole block costs more than all the rest of the speck removal, and specks are a few voxels.
    """
    todo = todo.copy()
    idx = np.stack(np.nonzero(todo))
    while idx.shape[1]:
        done = np.zeros(idx.shape[1], dtype=bool)
        for axis in range(3):
            for step in (-1, 1):
                nb = idx.copy()
                nb[axis] = np.clip(nb[axis] + step, 0, labels.shape[axis] - 1)
                ok = ~done & ~todo[tuple(nb)]
                labels[tuple(idx[:, ok])] = labels[tuple(nb[:, ok])]
                done |= ok
        if not done.any():  # cannot happen while some voxel is not todo; guards the loop
            break
        todo[tuple(idx[:, done])] = False
        idx = idx[:, ~done]


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
    rim_distance_px: float,
    rim_far_level: float,
    midpoint_away_from_am_px: int,
    min_object_voxels: int,
) -> tuple[LabelVolume, F32Array]:
    d = denoise(block, method=denoiser, noise_sigma=noise_sigma, median_size_px=median_size_px,
                nlm_h_factor=nlm_h_factor, nlm_patch_distance_px=nlm_patch_distance_px)
    if method == "watershed":
        labels = marker_watershed(d, means=means, gradient_sigma_px=gradient_sigma_px,
                                  marker_fraction=marker_fraction, se_max_gradient=se_max_gradient)
        labels = remove_false_rim(labels, d, means=means, distance_px=rim_distance_px,
                                  far_level=rim_far_level)
        labels = split_se_void_by_midpoint(labels, d, means=means,
                                           away_from_am_px=midpoint_away_from_am_px)
    else:
        labels = apply_thresholds(d, low=0.5 * (means[0] + means[1]),
                                  high=0.5 * (means[1] + means[2]))
    return remove_small_objects_3phase(labels, min_voxels=min_object_voxels), d


def segment_volume(
    volume: np.ndarray,
    *,
    means: tuple[float, float, float],
    method: str = "watershed",
    denoiser: str = "nl_means",
    noise_sigma: float | None = None,
    median_size_px: int = 3,
    nlm_h_factor: float = 0.8,
    nlm_patch_distance_px: int = 1,
    gradient_sigma_px: float = 0.7,
    marker_fraction: float = 0.5,
    se_max_gradient: float = 0.25,
    rim_distance_px: float = 2.0,
    rim_far_level: float = 0.32,
    midpoint_away_from_am_px: int = 2,
    min_object_voxels: int = 4,
    slab_planes: int = 32,
    tile_px: int = 512,
    overlap_planes: int = 3,
    n_threads: int = 1,
    denoised_out: np.ndarray | None = None,
) -> LabelVolume:
    """Denoise and label a layer crop, one block at a time (bounded memory).

    The crop is cut into blocks of `slab_planes` planes by `tile_px` x `tile_px` voxels,
    each processed with `overlap_planes` extra voxels of context on every side (discarded
    afterwards), so denoising (reach 2 voxels for the default non-local means), gradients
    (3) and the watershed see nearly the same neighbourhood as in one piece. Peak memory is
    about 40 bytes per voxel of one padded block per thread, plus the input and the labels.
    Blocks run on `n_threads` threads (the denoisers and the watershed release the GIL for
    most of their work). Tiling x-y as well as z keeps the padding overhead small (about
    20 % at 32 planes and 512 px) for a given memory.

    Parameters
    ----------
    volume : ndarray, shape (Z, Y, X)
        Reconstructed grey levels of one layer.
    means : tuple of float
        Class means (void, SE, AM) in the grey units of `volume`.
    method : str
        ``"watershed"`` (:func:`marker_watershed`) or ``"thresholds"`` (midway thresholds).
    denoiser, noise_sigma, median_size_px, nlm_h_factor, nlm_patch_distance_px
        See :func:`tomopress.segment.denoise.denoise`.
    gradient_sigma_px, marker_fraction, se_max_gradient
        See :func:`marker_watershed`.
    rim_distance_px, rim_far_level
        See :func:`remove_false_rim` (`distance_px`, `far_level`; watershed only).
    midpoint_away_from_am_px : int
        See :func:`split_se_void_by_midpoint` (`away_from_am_px`; watershed only).
    min_object_voxels : int
        Clusters smaller than this are merged into their surroundings
        (:func:`remove_small_objects_3phase`; per slab, so a cluster cut by a slab border is
        judged by its part inside the padded slab).
    slab_planes, tile_px, overlap_planes, n_threads : int
        Block size (planes; x-y edge, 0 = the whole plane), context on each side and
        parallelism.
    denoised_out : ndarray of float32, shape (Z, Y, X), optional
        Filled with the denoised grey levels, block by block (for a later blur-aware step).

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
    if slab_planes < 1 or tile_px < 0 or overlap_planes < 0 or n_threads < 1:
        raise ValueError("slab_planes and n_threads must be >= 1, tile_px and overlap_planes >= 0")
    shape = volume.shape
    out = np.empty(shape, dtype=np.uint8)
    kw = dict(means=means, method=method, denoiser=denoiser, noise_sigma=noise_sigma,
              median_size_px=median_size_px, nlm_h_factor=nlm_h_factor,
              nlm_patch_distance_px=nlm_patch_distance_px, gradient_sigma_px=gradient_sigma_px,
              marker_fraction=marker_fraction, se_max_gradient=se_max_gradient,
              rim_distance_px=rim_distance_px, rim_far_level=rim_far_level,
              midpoint_away_from_am_px=midpoint_away_from_am_px,
              min_object_voxels=min_object_voxels)
    sizes = (slab_planes, tile_px or shape[1], tile_px or shape[2])
    starts = [(z, y, x) for z in range(0, shape[0], sizes[0])
              for y in range(0, shape[1], sizes[1]) for x in range(0, shape[2], sizes[2])]

    def one(start: tuple[int, int, int]) -> None:
        inner, padded, local = [], [], []
        for s0, size, n in zip(start, sizes, shape):
            s1 = min(s0 + size, n)
            a, b = max(s0 - overlap_planes, 0), min(s1 + overlap_planes, n)
            inner.append(slice(s0, s1))
            padded.append(slice(a, b))
            local.append(slice(s0 - a, s1 - a))
        block: F32Array = np.asarray(volume[tuple(padded)], dtype=np.float32)
        labels, denoised = _segment_block(block, **kw)  # type: ignore[arg-type]
        out[tuple(inner)] = labels[tuple(local)]
        if denoised_out is not None:
            denoised_out[tuple(inner)] = denoised[tuple(local)]
        progress.step(f"last done: planes {inner[0].start}:{inner[0].stop}, y {inner[1].start}:"
                      f"{inner[1].stop}, x {inner[2].start}:{inner[2].stop}")

    progress = Progress(log, "segment: block", len(starts))
    if n_threads == 1 or len(starts) == 1:
        for start in starts:
            one(start)
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            list(pool.map(one, starts))
    log.info("segmented %s voxels (%s, %s denoising) in %d blocks", volume.shape, method,
             denoiser, len(starts))
    return out
