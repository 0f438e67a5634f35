"""Phase grey levels and thresholds: histogram modes, multi-Otsu, a partial-volume mixture.

Every method returns the class means (void, SE, AM) and the two thresholds placed midway
between neighbouring means.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage, optimize
from skimage.filters import threshold_multiotsu

__all__ = [
    "PhaseLevels",
    "histogram_mode",
    "multiotsu_thresholds",
    "phase_mode_thresholds",
    "fit_partial_volume_mixture",
]

_N_PV_STEPS = 17  # samples of the mixing fraction in a partial-volume component


@dataclass(frozen=True)
class PhaseLevels:
    """Grey levels of void, SE and AM and the thresholds between them (grey units).

    Attributes
    ----------
    means : tuple of float
        Class means (void, SE, AM).
    sigmas : tuple of float or None
        Class standard deviations, where the method gives them.
    weights : dict or None
        Mixture weights of the pure classes and of the partial-volume components.
    thresholds : tuple of float or None
        Thresholds found by the method itself (multi-Otsu); None puts them midway.
    low, high : float
        Thresholds void|SE and SE|AM: `thresholds` when given, else midway between
        neighbouring means.
    """

    means: tuple[float, float, float]
    sigmas: tuple[float, float, float] | None = None
    weights: dict[str, float] | None = None
    thresholds: tuple[float, float] | None = None

    @property
    def low(self) -> float:
        if self.thresholds is not None:
            return float(self.thresholds[0])
        return 0.5 * (self.means[0] + self.means[1])

    @property
    def high(self) -> float:
        if self.thresholds is not None:
            return float(self.thresholds[1])
        return 0.5 * (self.means[1] + self.means[2])

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "low": self.low, "high": self.high}


def _finite(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32).ravel()
    return v[np.isfinite(v)]


def histogram_mode(values: np.ndarray, *, above: float = -np.inf, n_bins: int = 256) -> float:
    """Most frequent grey level of `values` above `above` (histogram smoothed over 2 bins).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> v = np.r_[rng.normal(20, 3, 50000), rng.normal(80, 5, 30000)]
    >>> round(histogram_mode(v)), round(histogram_mode(v, above=50))
    (20, 80)
    """
    values = _finite(values)
    values = values[values > above]
    if values.size == 0:
        raise ValueError(f"no grey level above {above:g}: cannot find a histogram mode")
    low, high = np.percentile(values, [0.1, 99.9])
    counts, edges = np.histogram(values, bins=n_bins, range=(low, high))
    smooth = ndimage.gaussian_filter1d(counts.astype(np.float64), 2.0)
    peak = int(np.argmax(smooth))
    return float(0.5 * (edges[peak] + edges[peak + 1]))


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
    values = _finite(volume)
    if np.unique(values[: min(values.size, 100_000)]).size < 3:
        raise ValueError("the volume has fewer than 3 distinct grey levels: nothing to segment")
    low, high = threshold_multiotsu(values, classes=3, nbins=n_bins)
    return float(low), float(high)


def phase_mode_thresholds(
    composite: np.ndarray, separator: np.ndarray, *, void_level: float, am_se_min_ratio: float = 1.5
) -> tuple[tuple[float, float], tuple[float, float, float]]:
    """Thresholds midway between the grey levels of void, SE and AM.

    The SE level is the mode of the separator layer (mostly SE); the AM level is the mode of
    the composite above `am_se_min_ratio` times the SE level (NCM/LGPS attenuation ratio is
    about 3.8 at 20 keV); the void level is given (0 cm⁻¹ for empty pores in a calibrated
    reconstruction). Modes, unlike multi-Otsu classes or free Gaussian-mixture means, do not
    move with the phase fractions or the partial-volume plateau between phases.

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


def _mixture_pdf(x: np.ndarray, means: np.ndarray, sigmas: np.ndarray,
                 weights: np.ndarray) -> np.ndarray:
    """Density of 3 Gaussians plus 3 partial-volume components (pairs 01, 12, 02) at `x`."""
    def gauss(m: np.ndarray | float, s: float) -> np.ndarray:
        return np.exp(-0.5 * ((x[:, None] - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))

    t = np.linspace(0.0, 1.0, _N_PV_STEPS)
    pdf = np.zeros_like(x)
    for k in range(3):
        pdf += weights[k] * gauss(means[k], sigmas[k])[:, 0]
    for j, (a, b) in enumerate(((0, 1), (1, 2), (0, 2))):
        path = means[a] + t * (means[b] - means[a])
        s = 0.5 * (sigmas[a] + sigmas[b])
        pdf += weights[3 + j] * gauss(path, s).mean(axis=1)
    return pdf


def fit_partial_volume_mixture(
    values: np.ndarray,
    *,
    initial_means: tuple[float, float, float],
    max_shift: float = 0.25,
    fixed_void: bool = False,
    n_bins: int = 256,
) -> PhaseLevels:
    """Fit void, SE and AM classes with partial-volume components to a grey-level histogram.

    The model is three Gaussians (pure phases) plus, for each pair of phases, a
    "mixel" component: a Gaussian whose mean runs uniformly along the segment between the two
    class means (Santago & Gage 1993, doi:10.1109/42.241885). Without those components a free
    3-class Gaussian mixture puts a class on the partial-volume plateau between SE and AM.
    Means start at `initial_means` (e.g. void level and SE / AM modes) and may move at most
    `max_shift` times the gap to the nearest neighbouring mean; the negative log-likelihood of
    the histogram is minimised with L-BFGS-B.

    Parameters
    ----------
    values : ndarray
        Grey levels (any shape; non-finite values ignored).
    initial_means : tuple of float
        Starting means (void, SE, AM), strictly increasing.
    max_shift : float
        Bound on how far each mean may move, as a fraction of its smaller neighbour gap.
    fixed_void : bool
        Keep the void mean at its initial value (the physical 0 cm⁻¹ when small pores never
        reach it).
    n_bins : int
        Histogram bins between the 0.1 and 99.9 percentiles.

    Returns
    -------
    PhaseLevels

    Raises
    ------
    ValueError
        If `initial_means` is not strictly increasing or `values` has too few finite values.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> t = rng.uniform(size=20000)  # AM|void edges: values all along 0..80
    >>> v = np.r_[rng.normal(0, 4, 30000), rng.normal(21, 4, 30000), rng.normal(80, 4, 40000),
    ...           80 * t + rng.normal(0, 4, t.size)]
    >>> lv = fit_partial_volume_mixture(v, initial_means=(2.0, 19.0, 76.0))
    >>> [round(m) for m in lv.means]
    [0, 21, 80]
    """
    m0 = np.asarray(initial_means, dtype=np.float64)
    if m0.shape != (3,) or not np.all(np.diff(m0) > 0):
        raise ValueError(f"initial_means must be 3 increasing levels, got {initial_means!r}")
    v = _finite(values)
    if v.size < 100:
        raise ValueError(f"need at least 100 finite grey levels, got {v.size}")
    lo, hi = np.percentile(v, [0.1, 99.9])
    lo, hi = min(lo, m0[0]), max(hi, m0[2])
    counts, edges = np.histogram(v, bins=n_bins, range=(lo, hi))
    x = 0.5 * (edges[:-1] + edges[1:])
    width = edges[1] - edges[0]
    gaps = np.diff(m0)
    slack = max_shift * np.array([gaps[0], min(gaps), gaps[1]])
    sig0 = max(gaps[0] / 4, 2 * width)

    def unpack(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        means = p[:3]
        sigmas = np.exp(p[3:6])
        w = np.exp(p[6:] - p[6:].max())
        return means, sigmas, w / w.sum()

    def nll(p: np.ndarray) -> float:
        means, sigmas, w = unpack(p)
        pdf = _mixture_pdf(x, means, sigmas, w) * width
        return float(-(counts * np.log(pdf + 1e-300)).sum())

    p0 = np.r_[m0, np.log([sig0] * 3), np.zeros(6)]
    bounds = [(m - s, m + s) for m, s in zip(m0, slack)]
    if fixed_void:
        bounds[0] = (m0[0], m0[0])
    bounds += [(np.log(width / 2), np.log(gaps.max()))] * 3 + [(-12.0, 12.0)] * 6
    res = optimize.minimize(nll, p0, method="L-BFGS-B", bounds=bounds)
    means, sigmas, w = unpack(res.x)
    names = ("void", "se", "am", "pv_void_se", "pv_se_am", "pv_void_am")
    return PhaseLevels(
        means=tuple(float(m) for m in means),  # type: ignore[arg-type]
        sigmas=tuple(float(s) for s in sigmas),  # type: ignore[arg-type]
        weights={n: float(wi) for n, wi in zip(names, w)},
    )
