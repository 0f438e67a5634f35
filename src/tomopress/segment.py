"""Three-phase segmentation (void / SE / AM) of a reconstructed layer."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_multiotsu

from tomopress.types import AM, SE, VOID, F32Array, LabelVolume

__all__ = [
    "denoise_median",
    "multiotsu_thresholds",
    "histogram_mode",
    "phase_mode_thresholds",
    "apply_thresholds",
    "thresholds_file",
    "segment_layer_file",
]


def denoise_median(volume: np.ndarray, *, size_px: int) -> F32Array:
    """3-D median filter of side `size_px` (1 returns a float32 copy)."""
    if size_px < 1:
        raise ValueError(f"size_px must be >= 1, got {size_px}")
    volume = np.asarray(volume, dtype=np.float32)
    if size_px == 1:
        return volume.copy()
    return ndimage.median_filter(volume, size=size_px, mode="nearest")


def multiotsu_thresholds(volume: np.ndarray, *, n_bins: int = 256) -> tuple[float, float]:
    """The two multi-Otsu thresholds splitting `volume` into void, SE and AM grey levels.

    Raises
    ------
    ValueError
        If the volume has fewer than three distinct grey levels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> v = np.concatenate([rng.normal(m, 1, 1000) for m in (0, 20, 60)])
    >>> low, high = multiotsu_thresholds(v)
    >>> bool(2 < low < 18 and 22 < high < 58)
    True
    """
    values = np.asarray(volume, dtype=np.float32).ravel()
    values = values[np.isfinite(values)]
    if np.unique(values[: min(values.size, 100_000)]).size < 3:
        raise ValueError("the volume has fewer than 3 distinct grey levels: nothing to segment")
    low, high = threshold_multiotsu(values, classes=3, nbins=n_bins)
    return float(low), float(high)


def histogram_mode(values: np.ndarray, *, above: float = -np.inf, n_bins: int = 256) -> float:
    """Most frequent grey level of `values` above `above` (histogram smoothed over 2 bins).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> v = np.r_[rng.normal(20, 3, 50000), rng.normal(80, 5, 30000)]
    >>> round(histogram_mode(v)), round(histogram_mode(v, above=50))
    (20, 80)
    """
    values = np.asarray(values, dtype=np.float32).ravel()
    values = values[np.isfinite(values) & (values > above)]
    if values.size == 0:
        raise ValueError(f"no grey level above {above:g}: cannot find a histogram mode")
    low, high = np.percentile(values, [0.1, 99.9])
    counts, edges = np.histogram(values, bins=n_bins, range=(low, high))
    smooth = ndimage.gaussian_filter1d(counts.astype(np.float64), 2.0)
    peak = int(np.argmax(smooth))
    return float(0.5 * (edges[peak] + edges[peak + 1]))


def phase_mode_thresholds(
    composite: np.ndarray, separator: np.ndarray, *, void_level: float, am_se_min_ratio: float = 1.5
) -> tuple[tuple[float, float], tuple[float, float, float]]:
    """Thresholds midway between the grey levels of void, SE and AM.

    The SE level is the mode of the separator layer (mostly SE); the AM level is the mode of
    the composite above `am_se_min_ratio` times the SE level (NCM/LGPS attenuation ratio is
    about 3.8 at 20 keV); the void level is given (0 cm⁻¹ for empty pores in a calibrated
    reconstruction). Modes, unlike multi-Otsu classes or free Gaussian-mixture means, do not
    move with the phase fractions or the partial-volume plateau between phases, so the same
    physics gives the same thresholds at every pressure.

    Returns
    -------
    thresholds : tuple of float
        ``(low, high)``: void|SE and SE|AM.
    levels : tuple of float
        The grey levels (void, SE, AM) used.

    Raises
    ------
    ValueError
        If the levels are not ordered void < SE < AM.
    """
    se_level = histogram_mode(separator)
    am_level = histogram_mode(composite, above=am_se_min_ratio * se_level)
    if not void_level < se_level < am_level:
        raise ValueError(
            f"grey levels not ordered void < SE < AM: {void_level:.3g}, {se_level:.3g}, {am_level:.3g}"
        )
    return ((void_level + se_level) / 2, (se_level + am_level) / 2), (void_level, se_level, am_level)


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


def thresholds_file(
    composite_path: str,
    separator_path: str,
    out_path: str,
    *,
    median_size_px: int,
    method: str,
    void_level: float,
) -> dict:
    """Thresholds shared by both layers of a scan, from their median-filtered crops, as JSON.

    ``method`` is ``"modes"`` (:func:`phase_mode_thresholds`) or ``"multiotsu"`` (on the
    composite, which holds all three phases).
    """
    from tomopress.files import write_json_atomic
    from tomopress.h5store import read_array_h5

    composite, attrs = read_array_h5(composite_path, "volume")
    composite = denoise_median(composite, size_px=median_size_px)
    levels: tuple[float, ...] | None = None
    if method == "modes":
        separator = denoise_median(read_array_h5(separator_path, "volume")[0], size_px=median_size_px)
        (low, high), levels = phase_mode_thresholds(composite, separator, void_level=void_level)
    elif method == "multiotsu":
        low, high = multiotsu_thresholds(composite)
    else:
        raise ValueError(f"method must be 'modes' or 'multiotsu', got {method!r}")
    result = {
        "method": method,
        "low": low,
        "high": high,
        "phase_levels": list(levels) if levels else None,
        "units": attrs.get("units", "1/cm"),
        "median_size_px": median_size_px,
    }
    write_json_atomic(out_path, result)
    return result


def segment_layer_file(
    crop_path: str, thresholds_path: str, out_path: str, *, median_size_px: int
) -> dict[str, float]:
    """Label one layer crop with the scan's thresholds; write ``labels`` (uint8) to HDF5."""
    import json

    from tomopress.h5store import provenance, read_array_h5, write_array_h5

    volume, attrs = read_array_h5(crop_path, "volume")
    with open(thresholds_path) as fh:
        thresholds = json.load(fh)
    labels = apply_thresholds(
        denoise_median(volume, size_px=median_size_px),
        low=thresholds["low"],
        high=thresholds["high"],
    )
    write_array_h5(
        out_path,
        {"labels": labels},
        attrs={
            **{k: attrs[k] for k in ("voxel_size_um", "layer", "z_rows", "roi_xy")},
            "label_meaning": "0 void, 1 SE, 2 AM, 255 outside",
            "threshold_low": thresholds["low"],
            "threshold_high": thresholds["high"],
            "method": thresholds["method"],
            **provenance(crop=crop_path),
        },
    )
    return thresholds
