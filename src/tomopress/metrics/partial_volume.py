"""Phase fractions from the linear mixing of attenuation (METRICS.md, "Partial volume").

A reconstruction is linear and the blur conserves the mean, so over any region
``mean µ = µ_void + Σ_k φ_k (µ_k - µ_void)`` exactly, whatever the resolution: voids far below
the blur still lower the mean by their volume. With the calibrated levels
(:mod:`tomopress.segment.calibration`) and the AM share taken at sub-voxel precision from
its boundary (the occupancy of :mod:`tomopress.segment.blur_aware`), the SE fraction follows
from the mean and the void fraction from the rest. In the separator (no AM) this is the
porosity with no segmentation at all.

Uncertainty of each fraction: the standard error over lateral tiles (the microstructure and
the noise), combined in quadrature with the effect of the calibration uncertainty of each
level. The estimate is unbiased where the levels are right; a 1 % error in µ_SE is about one
point of porosity, which the calibration uncertainty carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tomopress.types import OUTSIDE, F64Array, LabelVolume

__all__ = ["mixing_fractions", "pv_fractions", "pv_profiles_z"]


def mixing_fractions(mean_grey: float, am_fraction: float, *,
                     levels: Mapping[str, float]) -> tuple[float, float, float]:
    """(void, SE, AM) fractions of a region from its mean grey level and its AM fraction.

    Examples
    --------
    >>> f = mixing_fractions(0.3 * 21 + 0.4 * 80, 0.4, levels={"void": 0, "se": 21, "am": 80})
    >>> [round(x, 6) for x in f]
    [0.3, 0.3, 0.4]
    """
    v, s, a = levels["void"], levels["se"], levels["am"]
    se = (mean_grey - v - am_fraction * (a - v)) / (s - v)
    return 1.0 - am_fraction - se, se, am_fraction


def _tiles(shape: tuple[int, ...], n: int) -> list[tuple[slice, ...]]:
    ys = np.array_split(np.arange(shape[1]), n)
    xs = np.array_split(np.arange(shape[2]), n)
    return [(slice(None), slice(y[0], y[-1] + 1), slice(x[0], x[-1] + 1))
            for y in ys if y.size for x in xs if x.size]


def pv_fractions(
    grey: np.ndarray,
    am_occupancy: np.ndarray,
    labels: LabelVolume,
    *,
    levels: Mapping[str, float],
    level_uncertainty: Mapping[str, float],
    n_tiles_xy: int = 4,
    am_share_uncertainty: float = 0.0,
) -> dict[str, Any]:
    """Partial-volume phase fractions of one layer crop, with uncertainties.

    Parameters
    ----------
    grey : ndarray, shape (Z, Y, X)
        Raw reconstructed grey levels (cm⁻¹), not denoised.
    am_occupancy : ndarray, shape (Z, Y, X)
        Sub-voxel AM share of each voxel in [0, 1].
    labels : ndarray of uint8, shape (Z, Y, X)
        Labels of the crop; voxels labelled 255 (outside) are not counted.
    levels, level_uncertainty : mapping
        ``void``, ``se``, ``am`` levels and their standard uncertainties (cm⁻¹).
    n_tiles_xy : int
        The crop is cut into ``n_tiles_xy²`` lateral tiles for the standard errors.
    am_share_uncertainty : float
        Standard uncertainty of the mean AM share (from the segmentation, e.g. the replica's
        shift), carried through the mixing equation into every fraction.

    Returns
    -------
    dict
        ``volume_fraction_{void,se,am}``, ``porosity`` and ``am_solid_ratio`` with
        ``<key>_uncertainty`` each (standard uncertainty: tiles and calibration), and
        ``pv_n_tiles``.

    Raises
    ------
    ValueError
        If the shapes differ or the levels are not ordered void < SE < AM.

    Examples
    --------
    >>> lab = np.ones((2, 8, 8), np.uint8)
    >>> g = np.full(lab.shape, 0.9 * 21, np.float32)   # 10 % void below the resolution
    >>> r = pv_fractions(g, np.zeros(lab.shape), lab, levels={"void": 0, "se": 21, "am": 80},
    ...                  level_uncertainty={"void": 0, "se": 0.21, "am": 0.8})
    >>> round(r["porosity"], 3), round(r["porosity_uncertainty"], 3)
    (0.1, 0.009)
    """
    if not (np.shape(grey) == np.shape(am_occupancy) == np.shape(labels)) or np.ndim(grey) != 3:
        raise ValueError("grey, am_occupancy and labels must be 3-D arrays of one shape")
    if not levels["void"] < levels["se"] < levels["am"]:
        raise ValueError(f"levels must be ordered void < SE < AM, got {dict(levels)!r}")
    counted = np.asarray(labels) != OUTSIDE

    def means(sub: tuple[slice, ...]) -> tuple[float, float] | None:
        """Mean grey level and mean AM share of the counted voxels of `sub`."""
        m = counted[sub]
        n = int(m.sum())
        if n == 0:
            return None
        return (float(np.sum(grey[sub], where=m, dtype=np.float64)) / n,
                float(np.sum(am_occupancy[sub], where=m, dtype=np.float64)) / n)

    def fractions(mean_am: tuple[float, float], lev: Mapping[str, float]) -> F64Array:
        return np.asarray(mixing_fractions(*mean_am, levels=lev))

    whole_means = means((slice(None),) * 3)  # once: the calibration shifts reuse it
    if whole_means is None:
        raise ValueError("the crop holds no counted voxel")
    whole = fractions(whole_means, levels)
    per_tile = [fractions(mt, levels) for mt in map(means, _tiles(np.shape(grey), n_tiles_xy))
                if mt is not None]
    tile_se = (np.std(per_tile, axis=0, ddof=1) / np.sqrt(len(per_tile))
               if len(per_tile) > 1 else np.zeros(3))
    cal_var = np.zeros(3)
    for key in ("void", "se", "am"):
        u = float(level_uncertainty.get(key, 0.0))
        if u > 0:
            shifted = fractions(whole_means, {**levels, key: levels[key] + u})
            cal_var += (shifted - whole) ** 2
    if am_share_uncertainty > 0:
        moved = (whole_means[0], whole_means[1] + float(am_share_uncertainty))
        cal_var += (fractions(moved, levels) - whole) ** 2
    unc = np.sqrt(tile_se**2 + cal_var)
    void, se, am = (float(x) for x in whole)
    ratio = am / (am + se) if am + se > 0 else float("nan")
    ratio_unc = (float(np.hypot(se * unc[2], am * unc[1]) / (am + se) ** 2)
                 if am + se > 0 else float("nan"))
    return {
        "volume_fraction_void": void, "volume_fraction_void_uncertainty": float(unc[0]),
        "volume_fraction_se": se, "volume_fraction_se_uncertainty": float(unc[1]),
        "volume_fraction_am": am, "volume_fraction_am_uncertainty": float(unc[2]),
        "porosity": void, "porosity_uncertainty": float(unc[0]),
        "am_solid_ratio": ratio, "am_solid_ratio_uncertainty": ratio_unc,
        "pv_n_tiles": len(per_tile),
    }


def pv_profiles_z(grey: np.ndarray, am_occupancy: np.ndarray, labels: LabelVolume, *,
                  levels: Mapping[str, float]) -> dict[str, list[float]]:
    """Partial-volume fractions of every z plane (NaN where a plane holds no counted voxel).

    Returns
    -------
    dict of str to list of float
        ``volume_fraction_void``, ``volume_fraction_se``, ``volume_fraction_am``: one value
        per plane.
    """
    counted = np.asarray(labels) != OUTSIDE
    n = counted.sum(axis=(1, 2)).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.sum(grey, axis=(1, 2), where=counted, dtype=np.float64) / n
        am = np.sum(am_occupancy, axis=(1, 2), where=counted, dtype=np.float64) / n
    void, se, am = mixing_fractions(mean, am, levels=levels)  # type: ignore[arg-type]
    return {"volume_fraction_void": np.asarray(void).tolist(),
            "volume_fraction_se": np.asarray(se).tolist(),
            "volume_fraction_am": np.asarray(am).tolist()}
