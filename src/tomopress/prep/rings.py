"""Ring (stripe) artifact removal on sinograms, after Vo, Atwood & Drakopoulos (2018).

A detector pixel whose response differs from what the flat field recorded adds a constant (full
stripe) or intermittent (partial stripe) offset to one column of every sinogram row it sits in,
which back-projects to a ring around the rotation axis. The methods here follow

    N. T. Vo, R. C. Atwood and M. Drakopoulos, "Superior techniques for eliminating ring
    artifacts in X-ray micro-tomography", Opt. Express 26, 28396 (2018),
    doi:10.1364/OE.26.028396

and the argument conventions of their reference implementation in algotom
(``algotom.prep.removal``), which is not a dependency: it pulls numba and llvmlite
(about 65 MB of wheels) for functions that need only numpy and scipy.

- :func:`remove_stripe_based_sorting` (algorithm 3): sort every column along the angle axis,
  median-filter the sorted sinogram across columns, unsort. Removes small and medium, full and
  partial stripes.
- :func:`remove_large_stripe` (algorithm 5): the same sorting and smoothing, but only the
  columns that :func:`detect_stripe` (algorithm 4) flags are replaced, after a per-column gain
  normalisation. For stripes wider than the sorting filter can handle.
- :func:`remove_dead_stripe` (algorithm 6): columns whose values fluctuate far more than their
  neighbours' (dead or unresponsive pixels) are replaced by linear interpolation across columns.

Sinograms are ``sino[angle, column]`` for one detector row; :func:`remove_rings` applies a
method to every row of a slab ``proj[angle, row, column]``.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import bottleneck as bn
import numpy as np
import scipy.ndimage as ndi

from tomopress.types import F32Array

__all__ = [
    "RING_METHODS",
    "detect_stripe",
    "remove_stripe_based_sorting",
    "remove_large_stripe",
    "remove_dead_stripe",
    "remove_all_stripe",
    "remove_rings",
]

log = logging.getLogger(__name__)

#: methods accepted by :func:`remove_rings`
RING_METHODS: Final = ("none", "sorting", "large", "dead", "all")
#: smallest noise level :func:`detect_stripe` uses (algotom raises on noise-free data instead)
_MIN_NOISE_LEVEL: Final = 1e-5
#: columns whose smoothed mean is below this fraction of the largest get no gain ratio
_MIN_RELATIVE_MEAN: Final = 0.01


def _check_sinogram(sinogram: np.ndarray) -> F32Array:
    sino = np.asarray(sinogram, dtype=np.float32)
    if sino.ndim != 2 or sino.shape[0] < 2 or sino.shape[1] < 3:
        raise ValueError(f"sinogram must be (n_angles >= 2, n_cols >= 3), got {sino.shape}")
    if not np.all(np.isfinite(sino)):
        raise ValueError("sinogram holds non-finite values")
    return sino


def _check_size(size: int, name: str = "size") -> int:
    if int(size) != size or size < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {size!r}")
    return int(size)


def _sort_columns(sino_t: F32Array) -> tuple[F32Array, np.ndarray]:
    """Sort every row of the transposed sinogram ``(n_cols, n_angles)``; return values, order."""
    order = np.argsort(sino_t, axis=1)
    return np.take_along_axis(sino_t, order, axis=1), order


def _median_across_columns(sorted_t: F32Array, size: int) -> F32Array:
    """``ndimage.median_filter(sorted_t, size=(size, 1), mode="reflect")``, several times faster.

    A full-size sinogram row (2048 columns x 1800 angles) takes about 1 s in scipy's generic
    rank filter; bottleneck's running median (a double heap) gives the same values in a
    fraction of that. Even windows, where scipy takes the upper of the two middle values and
    bottleneck their mean, stay with scipy.
    """
    if size % 2 == 0 or size == 1:
        return ndi.median_filter(sorted_t, size=(size, 1), mode="reflect")
    half = size // 2
    padded = np.pad(sorted_t, ((half, half), (0, 0)), mode="symmetric")  # scipy's "reflect"
    return np.ascontiguousarray(bn.move_median(padded, size, axis=0)[size - 1 :], dtype=np.float32)


def _unsort_columns(sorted_t: F32Array, order: np.ndarray) -> F32Array:
    out = np.empty_like(sorted_t)
    np.put_along_axis(out, order, sorted_t, axis=1)
    return out


def detect_stripe(values: np.ndarray, *, snr: float) -> np.ndarray:
    """Columns that stand out of a normalised column profile (algorithm 4 of Vo et al. 2018).

    The profile is sorted; a straight line fitted to its middle half gives the noise level (the
    line's rise over the whole profile) and the expected extremes. Values further than
    ``snr / 2`` noise levels beyond the line's ends are stripes.

    Parameters
    ----------
    values : ndarray, shape (n_cols,)
        Normalised per-column statistic, about 1 (or 0-offset) where there is no stripe.
    snr : float
        Detection ratio, > 1; larger is less sensitive.

    Returns
    -------
    ndarray of bool, shape (n_cols,)
        True at stripe columns.

    Raises
    ------
    ValueError
        If `values` is not 1-D with at least 8 entries or `snr` is not > 1.

    Examples
    --------
    >>> v = 1 + 0.01 * np.sin(np.arange(64.0))
    >>> v[20] = 1.5
    >>> np.flatnonzero(detect_stripe(v, snr=3.0)).tolist()
    [20]
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size < 8:
        raise ValueError(f"values must be 1-D with >= 8 entries, got shape {values.shape}")
    if not snr > 1:
        raise ValueError(f"snr must be > 1, got {snr!r}")
    n = values.size
    ordered = np.sort(values)
    x = np.arange(n, dtype=np.float64)
    drop = int(0.25 * n)
    slope, intercept = np.polyfit(x[drop:n - drop - 1], ordered[drop:n - drop - 1], 1)
    y_end = intercept + slope * (n - 1)
    noise = max(abs(y_end - intercept), _MIN_NOISE_LEVEL)
    mask = np.zeros(n, dtype=bool)
    if abs(ordered[-1] - y_end) / noise >= snr:
        mask |= values > y_end + 0.5 * snr * noise
    if abs(intercept - ordered[0]) / noise >= snr:
        mask |= values <= intercept - 0.5 * snr * noise
    return mask


def remove_stripe_based_sorting(sinogram: np.ndarray, *, size: int = 21,
                                dim: int = 1) -> F32Array:
    """Remove full and partial stripes by sorting (algorithm 3 of Vo et al. 2018).

    Each column is sorted along the angle axis, turning a partial stripe into a full one and
    the sample's structure into a smooth ramp; a median filter of `size` columns (times `size`
    angles when ``dim=2``) across the sorted sinogram removes the stripes, and the values are
    put back in their original angular order.

    Parameters
    ----------
    sinogram : ndarray, shape (n_angles, n_cols)
        Line integrals of one detector row (any real dtype; computed in float32).
    size : int
        Median window across columns (odd, a few times the widest stripe), >= 1.
    dim : {1, 2}
        1: window ``(1, size)`` (across columns only); 2: ``(size, size)``.

    Returns
    -------
    ndarray of float32, shape (n_angles, n_cols)

    Raises
    ------
    ValueError
        On a bad shape, non-finite values, or a bad `size` or `dim`.

    References
    ----------
    doi:10.1364/OE.26.028396; algotom ``remove_stripe_based_sorting``.

    Examples
    --------
    >>> angle_profile = np.linspace(0.0, 1.0, 16, dtype=np.float32)
    >>> sino = np.tile(angle_profile[:, None], (1, 32))
    >>> sino[:, 10] += 0.2
    >>> out = remove_stripe_based_sorting(sino, size=5)
    >>> bool(np.abs(out[:, 10] - angle_profile).max() < 1e-6)
    True
    """
    sino = _check_sinogram(sinogram)
    size = _check_size(size)
    if dim not in (1, 2):
        raise ValueError(f"dim must be 1 or 2, got {dim!r}")
    sorted_t, order = _sort_columns(np.ascontiguousarray(sino.T))
    if dim == 1:
        smooth_t = _median_across_columns(sorted_t, size)
    else:  # transposed: (columns, angles)
        smooth_t = ndi.median_filter(sorted_t, size=(size, size), mode="reflect")
    return np.ascontiguousarray(_unsort_columns(smooth_t, order).T)


def remove_large_stripe(sinogram: np.ndarray, *, snr: float = 3.0, size: int = 51,
                        drop_ratio: float = 0.1, norm: bool = True) -> F32Array:
    """Remove large (wide) stripes (algorithm 5 of Vo et al. 2018).

    The sinogram is sorted along angles and median-filtered across `size` columns, as in
    :func:`remove_stripe_based_sorting`. The ratio of the column means of the sorted and the
    smoothed sinogram (dropping the `drop_ratio` extreme angles) is each column's relative gain;
    with `norm` every column is divided by it, and the columns :func:`detect_stripe` flags
    (plus one neighbour each side) are replaced by the smoothed, unsorted values.

    Parameters
    ----------
    sinogram : ndarray, shape (n_angles, n_cols)
        Line integrals of one detector row.
    snr : float
        Detection ratio for :func:`detect_stripe`, > 1.
    size : int
        Median window across columns, >= 1; wider than the widest stripe.
    drop_ratio : float
        Fraction of sorted values (half at each end) left out of the column means, in [0, 0.8].
    norm : bool
        Divide every column by its relative gain.

    Returns
    -------
    ndarray of float32, shape (n_angles, n_cols)

    Raises
    ------
    ValueError
        On a bad shape, non-finite values, or a bad parameter.

    References
    ----------
    doi:10.1364/OE.26.028396; algotom ``remove_large_stripe``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sino = (1.0 + 0.01 * rng.standard_normal((64, 64))).astype(np.float32)
    >>> sino[:, 30:36] *= 1.3
    >>> out = remove_large_stripe(sino, size=31)
    >>> bool(abs(out[:, 30:36].mean() - 1.0) < 0.01)
    True
    """
    sino = _check_sinogram(sinogram).copy()
    size = _check_size(size)
    if not 0 <= drop_ratio <= 0.8:
        raise ValueError(f"drop_ratio must be in [0, 0.8], got {drop_ratio!r}")
    n_angles = sino.shape[0]
    n_drop = int(0.5 * drop_ratio * n_angles)
    sorted_t, order = _sort_columns(np.ascontiguousarray(sino.T))
    smooth_t = _median_across_columns(sorted_t, size)
    kept = slice(n_drop, n_angles - n_drop)
    mean_sorted = sorted_t[:, kept].mean(axis=1, dtype=np.float64)
    mean_smooth = smooth_t[:, kept].mean(axis=1, dtype=np.float64)
    # columns whose mean is ~0 (air in a line-integral sinogram) have no meaningful gain ratio
    reliable = np.abs(mean_smooth) > _MIN_RELATIVE_MEAN * np.abs(mean_smooth).max()
    fact = np.divide(mean_sorted, mean_smooth, out=np.ones_like(mean_sorted), where=reliable)
    fact[~(fact > 0)] = 1.0
    reliable &= fact != 1.0
    stripes = np.zeros(fact.shape, dtype=bool)
    if np.count_nonzero(reliable) >= 8:  # air columns would make the noise level look ~0
        stripes[reliable] = detect_stripe(fact[reliable], snr=snr)
    stripes = ndi.binary_dilation(stripes, iterations=1)
    if norm:
        sino /= fact.astype(np.float32)
    if stripes.any():
        cols = np.flatnonzero(stripes)
        sino[:, cols] = _unsort_columns(smooth_t[cols], order[cols]).T
    return sino


def remove_dead_stripe(sinogram: np.ndarray, *, snr: float = 3.0, size: int = 51,
                       residual: bool = True, smooth_strength: int = 10) -> F32Array:
    """Remove unresponsive and fluctuating stripes (algorithm 6 of Vo et al. 2018).

    A column's roughness along angles (sum of absolute differences from a `smooth_strength`
    moving average) is divided by its median over `size` columns; columns that
    :func:`detect_stripe` flags (plus one neighbour each side, never the two outermost) are
    replaced by linear interpolation from the nearest good columns. With `residual`,
    :func:`remove_large_stripe` then cleans what is left.

    Parameters
    ----------
    sinogram : ndarray, shape (n_angles, n_cols)
        Line integrals of one detector row.
    snr : float
        Detection ratio, > 1.
    size : int
        Median window across columns, >= 1.
    residual : bool
        Follow with :func:`remove_large_stripe`.
    smooth_strength : int
        Moving-average window along angles, >= 1.

    Returns
    -------
    ndarray of float32, shape (n_angles, n_cols)

    Raises
    ------
    ValueError
        On a bad shape, non-finite values, or a bad parameter.

    References
    ----------
    doi:10.1364/OE.26.028396; algotom ``remove_dead_stripe``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sino = np.tile(np.linspace(1.0, 2.0, 48, dtype=np.float32), (64, 1))
    >>> sino += 0.01 * rng.standard_normal(sino.shape).astype(np.float32)
    >>> sino[:, 20] = rng.uniform(0, 5, 64)
    >>> out = remove_dead_stripe(sino, residual=False)
    >>> bool(abs(out[:, 20].mean() - (1 + 20 / 47)) < 0.02)
    True
    """
    sino = _check_sinogram(sinogram).copy()
    size = _check_size(size)
    smooth_strength = _check_size(smooth_strength, "smooth_strength")
    n_cols = sino.shape[1]
    smooth = ndi.uniform_filter1d(sino, smooth_strength, axis=0, mode="reflect")
    diff = np.abs(sino - smooth).sum(axis=0, dtype=np.float64)
    background = ndi.median_filter(diff, size, mode="reflect")
    background[background == 0.0] = np.mean(np.abs(background))
    fact = np.divide(diff, background, out=np.ones_like(diff), where=background != 0)
    dead = ndi.binary_dilation(detect_stripe(fact, snr=snr), iterations=1)
    dead[:2] = False
    dead[-2:] = False
    n_dead = int(np.count_nonzero(dead))
    if 0 < n_dead < n_cols // 3:
        good = np.flatnonzero(~dead)
        bad = np.flatnonzero(dead)
        right = np.searchsorted(good, bad)  # dead[:2] and dead[-2:] are good: 0 < right < len
        left_col, right_col = good[right - 1], good[right]
        w = ((bad - left_col) / (right_col - left_col)).astype(np.float32)
        sino[:, bad] = (1 - w) * sino[:, left_col] + w * sino[:, right_col]
    if residual:
        sino = remove_large_stripe(sino, snr=snr, size=size)
    return sino


def remove_all_stripe(sinogram: np.ndarray, *, snr: float = 3.0, large_size: int = 51,
                      size: int = 21, drop_ratio: float = 0.1, dim: int = 1) -> F32Array:
    """Dead, then large, then sorting-based stripe removal (algorithms 6, 5, 3 of Vo et al.).

    Parameters are those of :func:`remove_dead_stripe` and :func:`remove_large_stripe`
    (`snr`, `large_size` as their `size`, `drop_ratio`) and of
    :func:`remove_stripe_based_sorting` (`size`, `dim`).

    Returns
    -------
    ndarray of float32, shape (n_angles, n_cols)

    References
    ----------
    doi:10.1364/OE.26.028396; algotom ``remove_all_stripe``.

    Examples
    --------
    >>> remove_all_stripe(np.ones((16, 32)), large_size=11, size=5).shape
    (16, 32)
    """
    sino = remove_dead_stripe(sinogram, snr=snr, size=large_size, residual=False)
    sino = remove_large_stripe(sino, snr=snr, size=large_size, drop_ratio=drop_ratio)
    return remove_stripe_based_sorting(sino, size=size, dim=dim)


def remove_rings(
    sinograms: np.ndarray,
    *,
    method: str = "sorting",
    size: int = 21,
    large_size: int = 51,
    snr: float = 3.0,
    drop_ratio: float = 0.1,
    out: np.ndarray | None = None,
    n_threads: int = 1,
) -> F32Array:
    """Remove ring (stripe) artifacts from every detector row of a slab.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, n_rows, n_cols)
        Flat-fielded line integrals, ``proj[angle, row, column]``.
    method : str
        ``"none"`` (copy), ``"sorting"`` (:func:`remove_stripe_based_sorting` with `size`),
        ``"large"`` (:func:`remove_large_stripe` with `large_size`, `snr`, `drop_ratio`),
        ``"dead"`` (:func:`remove_dead_stripe` with `large_size`, `snr`, residual large-stripe
        pass) or ``"all"`` (:func:`remove_all_stripe`).
    size : int
        Median window (columns) of the sorting method, >= 1.
    large_size : int
        Median window (columns) of the large- and dead-stripe methods, >= 1.
    snr : float
        Stripe detection ratio of the large- and dead-stripe methods, > 1.
    drop_ratio : float
        Fraction of extreme sorted values left out by the large-stripe method, in [0, 0.8].
    out : ndarray of float32, shape (n_angles, n_rows, n_cols), optional
        Where to write the result; may be `sinograms` itself (in-place).
    n_threads : int
        Rows cleaned at once.

    Returns
    -------
    ndarray of float32, shape (n_angles, n_rows, n_cols)
        `out` when given. Extra memory is a few copies of one sinogram row per thread.

    Raises
    ------
    ValueError
        On an unknown method, a bad shape or parameter, or non-finite values.

    References
    ----------
    N. T. Vo, R. C. Atwood, M. Drakopoulos, Opt. Express 26, 28396 (2018),
    doi:10.1364/OE.26.028396.

    Examples
    --------
    >>> angle_profile = np.linspace(0.0, 1.0, 16, dtype=np.float32)
    >>> sino = np.tile(angle_profile[:, None, None], (1, 2, 32))
    >>> sino[:, :, 7] += 0.3
    >>> clean = remove_rings(sino, method="sorting", size=5)
    >>> bool(np.abs(clean[:, :, 7] - angle_profile[:, None]).max() < 1e-6)
    True
    """
    if method not in RING_METHODS:
        raise ValueError(f"unknown ring method {method!r}; valid choices are "
                         f"{', '.join(RING_METHODS)}")
    sinograms = np.asarray(sinograms)
    if sinograms.ndim != 3:
        raise ValueError(f"sinograms must be (n_angles, n_rows, n_cols), got {sinograms.shape}")
    _check_size(size)
    _check_size(large_size, "large_size")
    if not snr > 1:
        raise ValueError(f"snr must be > 1, got {snr!r}")
    if out is None:
        out = np.empty(sinograms.shape, dtype=np.float32)
    elif out.shape != sinograms.shape or out.dtype != np.float32:
        raise ValueError(f"out must be float32 of shape {sinograms.shape}, got "
                         f"{out.dtype} {out.shape}")
    def clean_row(row: int) -> None:
        sino = sinograms[:, row, :]
        if method == "none":
            out[:, row, :] = sino
        elif method == "sorting":
            out[:, row, :] = remove_stripe_based_sorting(sino, size=size)
        elif method == "large":
            out[:, row, :] = remove_large_stripe(sino, snr=snr, size=large_size,
                                                 drop_ratio=drop_ratio)
        elif method == "dead":
            out[:, row, :] = remove_dead_stripe(sino, snr=snr, size=large_size)
        else:
            out[:, row, :] = remove_all_stripe(sino, snr=snr, large_size=large_size, size=size,
                                               drop_ratio=drop_ratio)

    # rows are independent, and numpy's sort and bottleneck's running median release the GIL
    with ThreadPoolExecutor(max_workers=max(1, int(n_threads))) as pool:
        list(pool.map(clean_row, range(sinograms.shape[1])))
    log.info("ring removal (%s) on %d sinogram rows", method, sinograms.shape[1])
    return out
