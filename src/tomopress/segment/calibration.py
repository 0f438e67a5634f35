"""Phase-level calibration of one scan: the attenuation of AM, SE and void, and the blur.

Every grey-level estimator downstream (partial-volume fractions, blur-aware labels) rests on
the linear mixing of attenuation: over a region, mean µ = Σ φ_k µ_k exactly, because the
reconstruction is linear and blur conserves the mean (METRICS.md, "Partial volume"). A 1 %
error in µ_SE is about one point of porosity, so the levels are measured, checked and
recorded, never set by hand:

* **theory**: µ = ρ (µ/ρ)(E) of each material from its formula, density and the beam energy
  (``xraydb``, Elam tables; NCM111 at 4.77 g/cm³ and 20 keV: 80.2 cm⁻¹, LGPS at 2.04 g/cm³:
  20.8 cm⁻¹);
* **in the scan**: the mean of AM particle cores (AM eroded beyond the blur), of the dense
  separator (SE farther than a few voxels from any void), and of the air around the sample
  where it is in view (the zero);
* **blur**: the edge spread function of the sample's outer edge against air, fitted with an
  error function to a few planes at once with one cylinder axis (the standard deviation of
  the system's Gaussian blur, in voxels, with a jackknife error over the planes).

The levels used downstream are the theory's when the scan's AM cores confirm it within
`max_disagreement` (a quantitative scan), else the scan's own. Dense SE below theory is not
a calibration error but porosity too fine to resolve (or a lower SE density): it is recorded
as such. Every level carries a standard uncertainty.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
from scipy import ndimage, optimize, special

__all__ = [
    "REFERENCES",
    "EdgeFit",
    "Level",
    "am_edge_blur_fit",
    "calibrate_scan",
    "choose_levels",
    "core_level",
    "denoised_blur_sigma_px",
    "dense_level",
    "edge_spread_fit",
    "sample_disc",
    "theory_attenuation_per_cm",
    "tiled_mean",
]

log = logging.getLogger(__name__)

#: how the levels used downstream are chosen (see `choose_levels`)
REFERENCES: Final = ("auto", "theory", "in_scan")


@dataclass(frozen=True)
class Level:
    """A measured grey level: mean, its standard error and the voxels behind it."""

    value: float
    stderr: float
    n_voxels: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def theory_attenuation_per_cm(formula: str, *, density_g_cm3: float, energy_kev: float) -> float:
    """Linear attenuation coefficient of a material from its composition (cm⁻¹).

    ``µ = ρ · (µ/ρ)(E)`` with the total mass attenuation of the Elam tables
    (``xraydb.material_mu``, coherent and incoherent scattering included).

    Parameters
    ----------
    formula : str
        Chemical formula, e.g. ``"Li10GeP2S12"`` or ``"LiNi0.333Mn0.333Co0.333O2"``.
    density_g_cm3 : float
        Density in g/cm³, > 0.
    energy_kev : float
        Photon energy in keV, > 0.

    Raises
    ------
    ValueError
        If the formula cannot be parsed or a number is not positive.

    Examples
    --------
    >>> round(theory_attenuation_per_cm("H2O", density_g_cm3=1.0, energy_kev=20.0), 3)
    0.81
    """
    import xraydb

    if not (density_g_cm3 > 0 and energy_kev > 0):
        raise ValueError(f"density ({density_g_cm3!r} g/cm³) and energy ({energy_kev!r} keV) "
                         "must be > 0")
    try:
        mu = float(xraydb.material_mu(formula, energy_kev * 1e3, density=density_g_cm3))
    except Exception as err:  # xraydb raises bare exceptions on bad formulas
        raise ValueError(f"cannot compute the attenuation of formula {formula!r}: {err}") from err
    if not (math.isfinite(mu) and mu > 0):
        raise ValueError(f"formula {formula!r} gives no attenuation ({mu!r}); check it")
    return mu


def tiled_mean(values: np.ndarray, mask: np.ndarray, *, n_tiles_xy: int = 4) -> Level:
    """Mean of `values` over `mask`, with its standard error from lateral tiles.

    Neighbouring voxels of a reconstruction are correlated (blur, filter), so the error is
    taken from the scatter of the means of ``n_tiles_xy²`` full-height lateral tiles (each
    weighted by its voxel count), not from the voxel scatter.

    Examples
    --------
    >>> v = np.random.default_rng(0).normal(5.0, 1.0, (4, 32, 32))
    >>> lev = tiled_mean(v, np.ones(v.shape, bool))
    >>> abs(lev.value - 5.0) < 3 * lev.stderr, lev.n_voxels
    (True, 4096)
    """
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    if n == 0:
        return Level(float("nan"), float("nan"), 0)
    total = float(np.sum(values, where=mask, dtype=np.float64))
    means, weights = [], []
    for ys in np.array_split(np.arange(values.shape[1]), n_tiles_xy):
        for xs in np.array_split(np.arange(values.shape[2]), n_tiles_xy):
            sub = (slice(None), slice(ys[0], ys[-1] + 1), slice(xs[0], xs[-1] + 1))
            m = mask[sub]
            k = int(m.sum())
            if k:
                means.append(float(np.sum(values[sub], where=m, dtype=np.float64)) / k)
                weights.append(k)
    w = np.asarray(weights, float)
    mean = total / n
    if w.size < 2:
        return Level(mean, float("nan"), n)
    w_eff = w.sum() ** 2 / np.sum(w**2)  # effective number of tiles
    var = np.sum(w * (np.asarray(means) - mean) ** 2) / w.sum()
    return Level(mean, float(np.sqrt(var / max(w_eff - 1, 1))), n)


def core_level(grey: np.ndarray, mask: np.ndarray, *, erosion_px: int) -> Level:
    """Mean grey level of the voxels of `mask` deeper than `erosion_px` inside it.

    For AM particle cores: eroding beyond the blur (about 3 standard deviations) leaves
    voxels whose grey level holds no partial volume of the surroundings.
    """
    core = ndimage.binary_erosion(np.asarray(mask, bool), iterations=int(erosion_px),
                                  border_value=0)
    return tiled_mean(grey, core)


def dense_level(grey: np.ndarray, mask: np.ndarray, *, min_distance_px: float) -> Level:
    """Mean grey level of the voxels of `mask` farther than `min_distance_px` from its outside.

    For the dense separator: SE voxels far from any void voxel that the labels resolve. Voids
    below the resolution stay inside and lower the level (see `choose_levels`).
    """
    dist = ndimage.distance_transform_edt(np.asarray(mask, bool))
    return tiled_mean(grey, dist > min_distance_px)


def sample_disc(plane: np.ndarray, *, threshold: float) -> tuple[float, float, float] | None:
    """Centre ``(y, x)`` and radius (px) of the sample's cross-section in one slice.

    The largest connected region above `threshold` (after a light smoothing), holes filled;
    the radius is that of the disc of the same area, the centre its centroid. None when no
    region is found or it touches the image border (the sample fills the field of view).
    """
    smooth = ndimage.gaussian_filter(np.nan_to_num(np.asarray(plane, np.float32)), 1.5)
    regions, n = ndimage.label(smooth > threshold)
    if n == 0:
        return None
    sizes = np.bincount(regions.ravel())[1:]
    disc = ndimage.binary_fill_holes(regions == 1 + int(np.argmax(sizes)))
    if disc[0].any() or disc[-1].any() or disc[:, 0].any() or disc[:, -1].any():
        return None
    cy, cx = ndimage.center_of_mass(disc)
    return float(cy), float(cx), float(np.sqrt(disc.sum() / np.pi))


@dataclass(frozen=True)
class EdgeFit:
    """Error-function fit of a radial edge profile: ``outside + (inside - outside) Φ((R - r)/σ)``."""

    sigma_px: float
    sigma_stderr_px: float
    outside_level: float
    outside_stderr: float
    inside_level: float
    radius_px: float
    n_pixels: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


#: pixels of the edge band one fit uses at most (every k-th pixel beyond)
_EDGE_FIT_MAX_PIXELS = 120_000


def _cylinder_edge_fit(bands: list[tuple[np.ndarray, np.ndarray, np.ndarray]], start: np.ndarray,
                       half_width_px: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Least-squares fit of one edge-spread model to the rim bands of several planes.

    Parameters ``(cy, cx, σ_total)`` shared, then ``(R, inside, outside)`` per plane; each
    band is ``(y, x, grey)`` of its pixels. Returns the parameters and their covariance
    (None when singular).
    """
    n = len(bands)
    sizes = [b[2].size for b in bands]
    offsets = np.concatenate([[0], np.cumsum(sizes)])

    # the solver works on shifts from the start (centre and radii): its step tolerances are
    # relative to the parameters, and coordinates of ~1000 px would stop it after
    # sub-millipixel steps
    origin = np.asarray(start, np.float64).copy()
    origin[2] = 0.0
    origin[4::3] = 0.0  # the levels: inside ...
    origin[5::3] = 0.0  # ... and outside of every plane

    def parts(q: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
        y, x, g = bands[k]
        p = origin + q
        radius, inside, outside = p[3 + 3 * k:6 + 3 * k]
        rho = np.maximum(np.hypot(y - p[0], x - p[1]), 1e-9)
        u = (rho - radius) / p[2]
        keep = np.abs(rho - radius) <= half_width_px
        return y, x, g, rho, u, keep, inside, outside, p

    def residuals(q: np.ndarray) -> np.ndarray:
        out = []
        for k in range(n):
            _, _, g, _, u, keep, inside, outside, _ = parts(q, k)
            out.append(np.where(keep, outside + (inside - outside) * special.ndtr(-u) - g, 0.0))
        return np.concatenate(out)

    def jacobian(q: np.ndarray) -> np.ndarray:
        # each plane's rows depend on the shared (cy, cx, σ) and on its own three parameters
        jac = np.zeros((int(offsets[-1]), q.size))
        for k in range(n):
            y, x, _, rho, u, keep, inside, outside, p = parts(q, k)
            rows = slice(offsets[k], offsets[k + 1])
            slope = np.where(keep, -(inside - outside) * np.exp(-0.5 * u * u)
                             / math.sqrt(2 * math.pi) / p[2], 0.0)  # d model / d rho
            jac[rows, 0] = slope * -(y - p[0]) / rho
            jac[rows, 1] = slope * -(x - p[1]) / rho
            jac[rows, 2] = slope * -u  # d model / d σ
            jac[rows, 3 + 3 * k] = -slope
            phi = special.ndtr(-u)
            jac[rows, 4 + 3 * k] = np.where(keep, phi, 0.0)
            jac[rows, 5 + 3 * k] = np.where(keep, 1.0 - phi, 0.0)
        return jac

    q0 = np.asarray(start, np.float64) - origin
    lo = np.concatenate([[-3.0, -3.0, 0.05], np.tile([-3.0, -np.inf, -np.inf], n)])
    hi = np.concatenate([[3.0, 3.0, 6.0], np.tile([3.0, np.inf, np.inf], n)])
    fit = optimize.least_squares(residuals, q0, jac=jacobian, bounds=(lo, hi),
                                 x_scale="jac", ftol=1e-10, xtol=1e-10, tr_solver="lsmr")
    fit.x = origin + fit.x
    dof = max(fit.fun.size - fit.x.size, 1)
    try:
        cov = np.linalg.inv(fit.jac.T @ fit.jac) * (2 * fit.cost / dof)
    except np.linalg.LinAlgError:
        cov = None
    return fit.x, cov


def edge_spread_fit(planes: np.ndarray, *, threshold: float, half_width_px: float = 4.0,
                    ) -> EdgeFit | None:
    """Blur of the system from the sample's outer edge against air (edge spread function).

    The sample is a cylinder about one axis: all planes are fitted at once with one centre
    ``(cy, cx)`` and one blur, each plane with its own radius and inside and outside levels,
    ``grey = out_k + (in_k - out_k) Φ((R_k - r) / σ_t)`` for the pixels within `half_width_px`
    of the rim (a disc of radius R blurred with σ ≪ R has this profile to O(σ/R)). Why one
    centre: a centre found per plane from a thresholded disc wanders by 0.3-0.7 px at 2,000
    counts, and every wander widens the radial profile. Why a narrow band: the reconstruction
    rings 1.5-2.5 px outside a sharp rim (about a tenth of the step), which is not Gaussian
    and pulls a wide fit's σ up; where σ_t exceeds a third of the band, the band is widened to
    3 σ_t (at most 8 px) and the fit repeated. On the validation matrix (benchmarks/README.md)
    this reads the crop's own blur to a median 0.10 px (worst 1.24 px at 2,000 counts, within
    two of its standard errors), where fits per plane read 0.34 px off (worst 1.96 px).

    σ is that of the whole edge spread, the pixel's own box (variance 1/12) included. Its
    standard error is the jackknife over planes (each left out once, refitted from the same
    start), which carries the plane-to-plane differences that the fit's own error misses;
    with one or two planes, the fit's error.

    Parameters
    ----------
    planes : ndarray, shape (P, Y, X)
        Reconstructed slices through the sample with air around it.
    threshold : float
        Grey level between air and the sample's outer material (e.g. half the SE level).
    half_width_px : float
        Half-width of the rim band fitted (px).

    Returns
    -------
    EdgeFit or None
        ``sigma_px`` and its jackknife ``sigma_stderr_px``; the median outside (air) level of
        the planes with its standard error; the median inside level and radius; ``n_pixels``
        fitted. None when no plane shows the sample with air all around.
    """
    discs, kept = [], []
    for plane in np.asarray(planes, np.float32):
        disc = sample_disc(plane, threshold=threshold)
        if disc is not None:
            discs.append(disc)
            kept.append(plane)
    if not discs:
        return None
    cy0 = float(np.median([d[0] for d in discs]))
    cx0 = float(np.median([d[1] for d in discs]))
    width = float(half_width_px)
    for _ in range(2):
        bands, start = _rim_bands(kept, discs, cy0, cx0, width)
        x, cov = _cylinder_edge_fit(bands, start, width)
        if x[2] <= width / 3 or width >= 8.0:
            break
        width = min(3 * float(x[2]), 8.0)
    n = len(bands)
    sigma_total = float(x[2])
    if n > 2:
        loo = []
        for k in range(n):
            rest = [b for j, b in enumerate(bands) if j != k]
            sub_start = np.concatenate([start[:3], np.delete(start[3:].reshape(n, 3), k, 0).ravel()])
            loo.append(_cylinder_edge_fit(rest, sub_start, width)[0][2])
        loo_arr = np.asarray(loo)
        stderr_total = float(np.sqrt((n - 1) / n * np.sum((loo_arr - loo_arr.mean()) ** 2)))
    else:
        stderr_total = float(np.sqrt(cov[2, 2])) if cov is not None else float("nan")
    per_plane = x[3:].reshape(n, 3)
    outside = per_plane[:, 2]
    outside_stderr = (float(1.2533 * np.std(outside, ddof=1) / np.sqrt(n)) if n > 2 else
                      float(np.sqrt(cov[5, 5])) if cov is not None else float("nan"))
    return EdgeFit(sigma_px=sigma_total, sigma_stderr_px=stderr_total,
                   outside_level=float(np.median(outside)), outside_stderr=outside_stderr,
                   inside_level=float(np.median(per_plane[:, 1])),
                   radius_px=float(np.median(per_plane[:, 0])),
                   n_pixels=int(sum(b[2].size for b in bands)))


def _rim_bands(planes: list[np.ndarray], discs: list[tuple[float, float, float]], cy: float,
               cx: float, half_width_px: float,
               ) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray]:
    """Pixels within `half_width_px` + 2 of each plane's rim, and the fit's starting point."""
    yy, xx = np.indices(planes[0].shape)
    r_all = np.hypot(yy - cy, xx - cx).ravel()
    near_all = [np.flatnonzero(np.abs(r_all - d[2]) <= half_width_px + 2) for d in discs]
    step = max(1, math.ceil(sum(n.size for n in near_all) / _EDGE_FIT_MAX_PIXELS))
    bands, start = [], [cy, cx, 1.0]
    for plane, (_, _, radius), near in zip(planes, discs, near_all):
        near = near[::step]
        flat = plane.ravel()
        r = r_all - radius
        inside = flat[(r < -3) & (r > -8)]
        bands.append((yy.ravel()[near].astype(np.float64), xx.ravel()[near].astype(np.float64),
                      flat[near].astype(np.float64)))
        start += [radius, float(np.median(inside)) if inside.size else float(plane.max()), 0.0]
    return bands, np.asarray(start)


def denoised_blur_sigma_px(blur_sigma_px: float, noise_sigma: float, *, contrast: float,
                           denoise_options: Mapping[str, Any], seed: int = 0) -> float:
    """Blur of the denoised image: the measured blur plus what the denoiser adds at edges.

    A planar edge of height `contrast` with the scan's own blur and noise level is denoised
    with the scan's own settings and its edge spread function fitted; the denoiser's
    effective smoothing depends on the noise and the contrast, so it is measured, not assumed.
    """
    from tomopress.segment.denoise import denoise

    n = 24
    x = np.arange(2 * n, dtype=np.float32) - n + 0.5
    step = contrast * special.ndtr(-x / max(blur_sigma_px, 1e-3)).astype(np.float32)
    rng = np.random.default_rng(seed)
    vol = np.broadcast_to(step, (16, 32, 2 * n)) + rng.normal(0, noise_sigma, (16, 32, 2 * n))
    den = denoise(vol.astype(np.float32), **dict(denoise_options, noise_sigma=noise_sigma))
    profile = den[4:-4, 4:-4].mean(axis=(0, 1))

    def resid(p: np.ndarray) -> np.ndarray:
        return p[1] * special.ndtr(-(x - p[0]) / p[2]) - profile

    fit = optimize.least_squares(resid, [0.0, contrast, max(blur_sigma_px, 0.3)],
                                 bounds=([-3, 0, 0.05], [3, np.inf, 6]))
    return float(fit.x[2])


#: standard errors of the AM core level by which it must miss the theory before ``auto``
#: calibrates on the scan instead of the composition
SIGNIFICANCE = 3.0


def choose_levels(
    *,
    theory: Mapping[str, float] | None,
    am_core: Level,
    se_dense: Level,
    air: Level | None,
    reference: str = "auto",
    max_disagreement: float = 0.05,
) -> dict[str, Any]:
    """The levels (void, SE, AM) used downstream, their uncertainties, and warnings.

    ``"theory"`` takes µ_AM and µ_SE from composition; ``"in_scan"`` the AM cores and the dense
    separator; ``"auto"`` the theory unless the AM cores disagree with it by more than
    `max_disagreement` (relative) *and* by more than :data:`SIGNIFICANCE` standard errors of
    the core level: a few hundred noisy core voxels (small or strongly compressed particles)
    are weaker evidence than the composition, and switching on them cost ten points of
    porosity on a validation scan (AM cores 5.2 % low at 2.2 standard errors). The void level
    is 0; the air around the sample, when in view, is a check of that zero (a warning when it
    reads more than `max_disagreement` of µ_SE away from it). Uncertainties: for theory levels,
    the relative AM disagreement (the scan's own evidence of how quantitative it is, at least
    0.5 %); for in-scan levels, their standard errors (at least 0.5 %).

    Returns
    -------
    dict
        ``levels_per_cm`` {void, se, am}, ``uncertainty_per_cm`` {void, se, am},
        ``reference`` (the one applied), ``am_theory_ratio``, ``se_theory_ratio``,
        ``se_subresolution_porosity`` (1 - dense SE / expected SE; NaN without theory) and
        ``warnings`` (list of str).

    Raises
    ------
    ValueError
        On an unknown reference, or ``"theory"`` without theory levels.
    """
    if reference not in REFERENCES:
        raise ValueError(f"unknown calibration reference {reference!r}; valid: "
                         + ", ".join(REFERENCES))
    if reference == "theory" and not theory:
        raise ValueError("calibration reference 'theory' needs the materials' formulas, "
                         "densities and the beam energy")
    warnings: list[str] = []
    # air next to the sample reads above 0 in the halo of the blur (the sample's own
    # attenuation spread outward), so it is a check of the zero, not an offset to apply
    zero, zero_u = 0.0, 0.0
    if air is not None and air.n_voxels > 0 and theory and abs(air.value) > max_disagreement * theory["se"]:
        warnings.append(f"air around the sample reads {air.value:+.3g} cm-1 (expected 0): "
                        "check flats, darks and the reconstruction offset")
    am_ratio = se_ratio = sub = float("nan")
    significant = True
    if theory:
        am_ratio = (am_core.value - zero) / theory["am"]
        se_ratio = (se_dense.value - zero) / theory["se"]
        sub = 1.0 - (se_dense.value - zero) / (am_ratio * theory["se"]) if am_ratio > 0 else sub
        significant = abs(am_core.value - zero - theory["am"]) > SIGNIFICANCE * am_core.stderr
        if not abs(am_ratio - 1) <= max_disagreement:
            warnings.append(f"AM cores read {100 * (am_ratio - 1):+.1f} % from theory "
                            f"(margin {100 * max_disagreement:.0f} %"
                            + ("" if significant else
                               f"; not significant: {am_core.n_voxels} core voxels, standard "
                               f"error {100 * am_core.stderr / theory['am']:.1f} %")
                            + "): check energy, flats, AM formula and density")
        if se_ratio < 1 - max_disagreement:
            warnings.append(f"dense separator SE reads {100 * (se_ratio - 1):+.1f} % from "
                            "theory: porosity below the resolution, or a lower SE density")
        elif se_ratio > 1 + max_disagreement:
            warnings.append(f"dense separator SE reads {100 * (se_ratio - 1):+.1f} % above "
                            "theory: check the SE formula and density")
    use_theory = bool(theory) and (reference == "theory" or (
        reference == "auto" and (abs(am_ratio - 1) <= max_disagreement or not significant)))
    if use_theory:
        rel = max(abs(am_ratio - 1), 0.005)
        levels = {"void": zero, "se": theory["se"] + zero, "am": theory["am"] + zero}
        unc = {"void": zero_u, "se": rel * theory["se"], "am": rel * theory["am"]}
        applied = "theory"
    else:
        levels = {"void": zero, "se": se_dense.value, "am": am_core.value}
        unc = {"void": zero_u,
               "se": max(se_dense.stderr, 0.005 * abs(se_dense.value - zero)),
               "am": max(am_core.stderr, 0.005 * abs(am_core.value - zero))}
        applied = "in_scan"
        if reference == "auto" and theory:
            warnings.append("levels from the scan itself (theory disagrees)")
    return {"levels_per_cm": levels, "uncertainty_per_cm": unc, "reference": applied,
            "am_theory_ratio": am_ratio, "se_theory_ratio": se_ratio,
            "se_subresolution_porosity": sub, "warnings": warnings}


def am_edge_blur_fit(grey: np.ndarray, am_mask: np.ndarray, *, half_width_px: float = 5.0,
                     ) -> EdgeFit | None:
    """Fallback blur estimate from the edges of AM particles (no air in view).

    The grey levels near the AM boundary are binned by their signed distance to it (Euclidean
    distance transforms, ±0.5 voxel at the boundary) and an error function fitted. The label
    boundary jitters by a fraction of a voxel around the true edge, so the fitted σ is an
    upper bound of the blur.
    """
    am = np.asarray(am_mask, bool)
    if am.sum() < 100 or (~am).sum() < 100:
        return None
    d = np.where(am, -(ndimage.distance_transform_edt(am) - 0.5),
                 ndimage.distance_transform_edt(~am) - 0.5)
    near = np.abs(d) <= half_width_px
    r, g = d[near].astype(np.float64), np.asarray(grey)[near].astype(np.float64)
    vals, inv = np.unique(np.round(r, 3), return_inverse=True)
    cnt = np.bincount(inv)
    gm = np.bincount(inv, weights=g) / cnt
    ok = cnt > 20
    rm, gm, w = vals[ok], gm[ok], np.sqrt(cnt[ok])

    def resid(p: np.ndarray) -> np.ndarray:
        return (p[0] + (p[1] - p[0]) * special.ndtr((p[2] - rm) / p[3]) - gm) * w

    fit = optimize.least_squares(resid, [float(gm[-1]), float(gm[0]), 0.0, 1.0],
                                 bounds=([-np.inf, -np.inf, -2, 0.05], [np.inf, np.inf, 2, 6]))
    return EdgeFit(sigma_px=float(fit.x[3]), sigma_stderr_px=float("nan"),
                   outside_level=float(fit.x[0]), outside_stderr=float("nan"),
                   inside_level=float(fit.x[1]), radius_px=float("nan"), n_pixels=int(r.size))


def calibrate_scan(
    composite: np.ndarray,
    separator: np.ndarray,
    edge_planes: np.ndarray | None,
    *,
    means: tuple[float, float, float],
    noise_sigma: float,
    denoise_options: Mapping[str, Any],
    theory: Mapping[str, float] | None,
    reference: str = "auto",
    max_disagreement: float = 0.05,
) -> dict[str, Any]:
    """Calibration record of one scan from its layer crops and a few full slices.

    Parameters
    ----------
    composite, separator : ndarray, shape (Z, Y, X)
        Reconstructed grey levels (cm⁻¹) of the two layer crops.
    edge_planes : ndarray, shape (P, Y, X), or None
        Whole reconstructed slices through the separator (sample and the air around it), for
        the air level and the blur; None or no air in view falls back to AM edges.
    means : tuple of float
        Rough class means (void, SE, AM) from the level fit, to find AM and dense SE.
    noise_sigma : float
        Noise standard deviation of the raw grey levels.
    denoise_options : mapping
        The denoiser settings of the segmentation (``method``, ``nlm_h_factor``, ...).
    theory : mapping or None
        Theoretical ``{"am": µ, "se": µ}`` in cm⁻¹, or None.
    reference, max_disagreement
        See `choose_levels`.

    Returns
    -------
    dict
        ``levels_per_cm``, ``uncertainty_per_cm``, ``reference``, ratios and warnings of
        `choose_levels`; ``theory_per_cm``; ``in_scan_per_cm`` {am_core, se_dense, air}
        (each with ``value``, ``stderr``, ``n_voxels``); ``blur_sigma_px`` (raw),
        ``blur_sigma_denoised_px``, ``blur_method`` (``air_edge`` or ``am_edges``) and the
        edge fit; ``noise_sigma``.
    """
    m_void, m_se, m_am = means
    smooth_c = ndimage.gaussian_filter(np.asarray(composite, np.float32), 1.0)
    am_mask = smooth_c > 0.5 * (m_se + m_am)
    edge = None
    if edge_planes is not None and len(edge_planes):
        edge = edge_spread_fit(edge_planes, threshold=0.5 * (m_void + m_se))
    blur_method = "air_edge"
    if edge is None or not 0.1 < edge.sigma_px < 5:
        edge = am_edge_blur_fit(composite, am_mask)
        blur_method = "am_edges"
    sigma = edge.sigma_px if edge is not None else 1.0
    depth = int(math.ceil(3 * sigma)) + 1
    am_core = core_level(composite, am_mask, erosion_px=depth)
    smooth_s = ndimage.gaussian_filter(np.asarray(separator, np.float32), 1.0)
    se_mask = (smooth_s > 0.5 * (m_void + m_se)) & (smooth_s < 0.5 * (m_se + m_am))
    se_dense = dense_level(separator, se_mask, min_distance_px=depth)
    air = None
    if blur_method == "air_edge":
        air = Level(edge.outside_level, edge.outside_stderr, edge.n_pixels // 2)
    chosen = choose_levels(theory=theory, am_core=am_core, se_dense=se_dense, air=air,
                           reference=reference, max_disagreement=max_disagreement)
    if blur_method == "am_edges":
        chosen["warnings"].append("no air around the sample in view: blur from AM edges "
                                  "(an upper bound) and the void level set to 0")
    # the edge whose blur the labels predict is AM's: measure the denoiser at its contrast
    contrast = chosen["levels_per_cm"]["am"] - chosen["levels_per_cm"]["se"]
    sigma_dn = denoised_blur_sigma_px(sigma, noise_sigma, contrast=contrast,
                                      denoise_options=denoise_options)
    for text in chosen["warnings"]:
        log.warning("calibration: %s", text)
    log.info("calibration (%s): void %.3g, SE %.4g, AM %.4g cm-1; blur %.2f px (%s), "
             "denoised %.2f px", chosen["reference"], *chosen["levels_per_cm"].values(),
             sigma, blur_method, sigma_dn)
    return {
        **chosen,
        "theory_per_cm": dict(theory) if theory else None,
        "in_scan_per_cm": {"am_core": am_core.as_dict(), "se_dense": se_dense.as_dict(),
                           "air": air.as_dict() if air else None},
        "core_erosion_px": depth,
        "blur_sigma_px": sigma,
        "blur_sigma_denoised_px": sigma_dn,
        "blur_method": blur_method,
        "edge_fit": edge.as_dict() if edge else None,
        "noise_sigma": float(noise_sigma),
    }
