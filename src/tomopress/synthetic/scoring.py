"""Score a pipeline's metrics against simulated truth: the targets of issue 13.

Truth comes from two simulators, read into one flat form ``{layer: {column: value}}`` keyed by
the column names of ``metrics.parquet`` (``porosity``, ``volume_fraction_se``,
``contact_area_fraction``, ``contact_anisotropy_R``, ...):

- tomopress's own synthetic beamtime (`tomopress.synthetic.beamtime.simulate_scan`): the
  ``<stem>.truth.json`` layers, measured on the fine labels (``fine_factor`` times finer than
  the voxels) inside the truth ROI and rows (:func:`tomopress_truth`);
- the independent phantom generator of ``../shared/data/independent_phantoms``: the physical
  values of ``layers.*.fine_grid`` (a grid 4x finer than the voxels, the whole layer inside the
  sample cylinder), and the layer's ``interior_z_range`` (:func:`independent_truth`).

A measured row is scored column by column (:func:`score_layers`): the best estimate in
``<column>``, and where the table carries them its uncertainty ``<column>_uncertainty`` (one
standard uncertainty) and the hard-label value ``<column>_labels``. Pressure trends compare
the change between two pressures with the truth's change (:func:`pressure_trend`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage, optimize

from tomopress.types import LAYERS, OUTSIDE, PHASES, LabelVolume

__all__ = [
    "TARGETS",
    "TREND_QUANTITIES",
    "TRUTH_COLUMNS",
    "Target",
    "effective_blur_sigma_px",
    "independent_truth",
    "phase_dice",
    "pressure_trend",
    "score_layers",
    "score_target",
    "summarize_scores",
    "tomopress_truth",
]

#: metrics-table columns that a truth file provides (per layer; None where undefined)
TRUTH_COLUMNS = (
    "porosity", "volume_fraction_void", "volume_fraction_se", "volume_fraction_am",
    "contact_area_fraction", "contact_fraction_x", "contact_fraction_y", "contact_fraction_z",
    "contact_fraction_xy", "contact_anisotropy_R",
)


@dataclass(frozen=True)
class Target:
    """One accuracy target: a column of one layer within a tolerance of the truth.

    Attributes
    ----------
    layer : str
        ``composite`` or ``separator``.
    column : str
        Column of ``metrics.parquet`` (best estimate).
    tolerance : float
        Largest allowed ``|measured - truth|`` (in the column's unit), or ``|measured / truth -
        1|`` when `relative`.
    relative : bool
        Whether the error is relative to the truth.
    points : bool
        Whether the column is a volume or area fraction (errors are also given in points, 1
        point = 0.01).
    """

    layer: str
    column: str
    tolerance: float
    relative: bool = False
    points: bool = True

    @property
    def name(self) -> str:
        """``<layer>_<column>``, the key of the target in scores."""
        return f"{self.layer}_{self.column}"


#: issue 13's targets, on every cell of the matrix and on scans from other simulators
TARGETS: tuple[Target, ...] = (
    Target("composite", "porosity", 0.01),
    Target("separator", "porosity", 0.005),
    Target("composite", "volume_fraction_se", 0.015),
    Target("composite", "volume_fraction_am", 0.015),
    Target("composite", "contact_area_fraction", 0.02),
    Target("composite", "contact_anisotropy_R", 0.05, points=False),
    Target("composite", "tau_factor", 0.05, relative=True, points=False),
)

#: targets whose change between pressures must keep the sign and size of the truth's
TREND_QUANTITIES: tuple[str, ...] = (
    "composite_porosity", "separator_porosity", "composite_contact_area_fraction",
    "composite_contact_anisotropy_R", "composite_tau_factor",
)


def _number(value: Any) -> float | None:
    """A finite float, or None for missing, null, NaN and inf."""
    if value is None or isinstance(value, (str, bytes)):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def tomopress_truth(truth: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-layer truth of a tomopress synthetic scan (its ``<stem>.truth.json`` as a dict).

    Parameters
    ----------
    truth : mapping
        The dict `tomopress.synthetic.beamtime.simulate_scan` returns and writes.

    Returns
    -------
    dict
        ``{layer: {column: value}}`` for the columns of :data:`TRUTH_COLUMNS` (None where
        undefined: no contact in a layer without AM), plus ``z_rows`` [z0, z1) and ``roi_xy``
        [y0, y1, x0, x1] of the region the truth was measured on.

    Raises
    ------
    KeyError
        If a layer or its ``volume_fraction`` is missing.

    Examples
    --------
    >>> t = {"layers": {k: {"z_range_rows": [0, 4], "roi_xy_px": [0, 8, 0, 8],
    ...      "volume_fraction": {"void": 0.1, "se": 0.5, "am": 0.4}} for k in LAYERS}}
    >>> tomopress_truth(t)["composite"]["volume_fraction_se"]
    0.5
    """
    out: dict[str, dict[str, Any]] = {}
    for layer in LAYERS:
        t = truth["layers"][layer]
        vf = t["volume_fraction"]
        has_am = (_number(vf.get("am")) or 0.0) > 0
        row: dict[str, Any] = {
            "porosity": _number(vf["void"]),
            **{f"volume_fraction_{p}": _number(vf[p]) for p in PHASES},
            "z_rows": [int(v) for v in t["z_range_rows"]],
            "roi_xy": [int(v) for v in t["roi_xy_px"]],
        }
        for col in TRUTH_COLUMNS[4:]:
            row[col] = _number(t.get(col)) if has_am else None
        out[layer] = row
    return out


_INDEPENDENT_KEYS = {
    "contact_area_fraction": "contact_fraction_fc", "contact_fraction_x": "f_x",
    "contact_fraction_y": "f_y", "contact_fraction_z": "f_z", "contact_fraction_xy": "f_xy",
    "contact_anisotropy_R": "R_fz_over_fxy",
}


def independent_truth(truth: Mapping[str, Any], *,
                      grid: str = "fine_grid") -> dict[str, dict[str, Any]]:
    """Per-layer truth of an independent phantom (its ``scan_<id>.truth.json`` as a dict).

    Parameters
    ----------
    truth : mapping
        The phantom's truth file: ``layers.{separator,composite}`` with ``interior_z_range``
        and the statistics under `grid`.
    grid : {"fine_grid", "majority_labels_0p5um"}
        ``fine_grid``: the physical values (4x finer grid); ``majority_labels_0p5um``: the
        same measured on the voxel-size majority labels.

    Returns
    -------
    dict
        ``{layer: {column: value}}`` for :data:`TRUTH_COLUMNS` (None where undefined), plus
        ``z_rows`` (the layer's interior rows, [z0, z1)) and ``roi_xy`` None (the truth covers
        the whole layer inside the sample cylinder; a crop samples the same structure).

    Examples
    --------
    >>> layer = {"interior_z_range": [6, 26], "fine_grid": {"porosity": 0.02,
    ...          "volume_fractions": {"void": 0.02, "SE": 0.98, "AM": 0.0},
    ...          "contact_fraction_fc": None}}
    >>> t = independent_truth({"layers": {"separator": layer, "composite": layer}})
    >>> t["separator"]["volume_fraction_se"], t["separator"]["contact_area_fraction"]
    (0.98, None)
    """
    out: dict[str, dict[str, Any]] = {}
    for layer in LAYERS:
        t = truth["layers"][layer]
        g = t[grid]
        vf = g["volume_fractions"]
        row: dict[str, Any] = {
            "porosity": _number(g.get("porosity", vf["void"])),
            "volume_fraction_void": _number(vf["void"]),
            "volume_fraction_se": _number(vf["SE"]),
            "volume_fraction_am": _number(vf["AM"]),
            "z_rows": [int(v) for v in t.get("interior_z_range", t.get("z_range"))],
            "roi_xy": None,
        }
        row.update({col: _number(g.get(key)) for col, key in _INDEPENDENT_KEYS.items()})
        out[layer] = row
    return out


def score_target(target: Target, measured: Mapping[str, Any],
                 truth: Mapping[str, Any]) -> dict[str, Any]:
    """Error of one layer's measured row against its truth, for one target.

    Parameters
    ----------
    target : Target
    measured : mapping
        One row of the metrics table (column -> value) for ``target.layer``.
    truth : mapping
        The truth of that layer (column -> value).

    Returns
    -------
    dict
        ``measured``, ``truth``, ``error`` (measured - truth, or measured / truth - 1 when the
        target is relative; None when either is missing), ``error_points`` (100 x error, for
        fractions), ``tolerance``, ``relative``, ``passed`` (True / False; None when there is
        no truth), ``note`` (why it is None or failed without a number); and when the table has
        them ``uncertainty`` with ``error_over_uncertainty``, and ``labels_value`` with
        ``labels_error`` (the hard-label value's error).

    Examples
    --------
    >>> s = score_target(TARGETS[0], {"porosity": 0.205}, {"porosity": 0.2})
    >>> round(s["error_points"], 6), s["passed"]
    (0.5, True)
    >>> score_target(TARGETS[0], {"porosity": float("nan")}, {"porosity": 0.2})["passed"]
    False
    """
    col = target.column

    def err(m: float | None, t: float | None) -> float | None:
        if m is None or t is None:
            return None
        if target.relative:
            return m / t - 1.0 if t != 0 else None
        return m - t

    m, t = _number(measured.get(col)), _number(truth.get(col))
    e = err(m, t)
    out: dict[str, Any] = {
        "layer": target.layer, "column": col, "measured": m, "truth": t, "error": e,
        "tolerance": target.tolerance, "relative": target.relative,
    }
    if target.points:
        out["error_points"] = None if e is None else 100.0 * e
        out["tolerance_points"] = 100.0 * target.tolerance
    if t is None:
        out.update(passed=None, note="no truth for this quantity")
    elif m is None:
        out.update(passed=False, note="not measured (missing, null or not finite)")
    else:
        out["passed"] = bool(abs(e) <= target.tolerance + 1e-12) if e is not None else False
    u = _number(measured.get(f"{col}_uncertainty"))
    if f"{col}_uncertainty" in measured:
        out["uncertainty"] = u
        abs_err = None if m is None or t is None else m - t
        out["error_over_uncertainty"] = (abs_err / u if abs_err is not None and u else None)
    if f"{col}_labels" in measured:
        lv = _number(measured.get(f"{col}_labels"))
        out["labels_value"] = lv
        out["labels_error"] = err(lv, t)
    return out


def score_layers(measured: Mapping[str, Mapping[str, Any]],
                 truth: Mapping[str, Mapping[str, Any]],
                 targets: Sequence[Target] = TARGETS) -> dict[str, dict[str, Any]]:
    """:func:`score_target` for every target, keyed by ``Target.name``.

    `measured` and `truth` map each layer to its row (a missing layer scores as not measured).
    """
    return {tg.name: score_target(tg, measured.get(tg.layer, {}), truth.get(tg.layer, {}))
            for tg in targets}


def phase_dice(labels: LabelVolume, truth_labels: LabelVolume, phase: int) -> float:
    """Dice coefficient of one phase between two label volumes of the same region.

    Voxels that either volume labels 255 (outside) are not counted.

    Parameters
    ----------
    labels, truth_labels : ndarray of uint8, shape (Z, Y, X)
        Labels 0 void, 1 SE, 2 AM, 255 outside, on the same voxel grid.
    phase : int
        The phase label.

    Returns
    -------
    float
        ``2 |A ∩ B| / (|A| + |B|)``; NaN when neither volume holds the phase.

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> a = np.array([[[0, 0, 1, 1]]], np.uint8); b = np.array([[[0, 1, 1, 255]]], np.uint8)
    >>> phase_dice(a, b, 0)  # a has 2 void voxels, b 1, they share 1
    0.6666666666666666
    """
    a, b = np.asarray(labels), np.asarray(truth_labels)
    if a.shape != b.shape:
        raise ValueError(f"label volumes differ in shape: {a.shape} vs truth {b.shape}")
    counted = (a != OUTSIDE) & (b != OUTSIDE)
    in_a, in_b = (a == phase) & counted, (b == phase) & counted
    n = int(np.count_nonzero(in_a)) + int(np.count_nonzero(in_b))
    return 2.0 * int(np.count_nonzero(in_a & in_b)) / n if n else math.nan


def effective_blur_sigma_px(recon: np.ndarray, sharp: np.ndarray, *, margin_px: int,
                            max_sigma_px: float = 4.0) -> dict[str, float]:
    """Blur the reconstruction actually has: the Gaussian that maps the truth onto it.

    The in-scan blur estimates (the sample's edge against air, AM edges) are validated against
    this reference: the isotropic Gaussian σ for which ``a + b G_σ * sharp`` fits `recon` best
    in least squares (gain and offset free, so a calibration error does not move σ). `sharp` is
    the truth's voxel-averaged attenuation (``Σ µ_k φ_k`` of the fine-grid phase fractions), so
    the voxel's own box average is not counted as blur; what remains is the detector's blur
    and the reconstruction's.

    Parameters
    ----------
    recon : ndarray, shape (Z, Y, X)
        Reconstructed grey levels of a region.
    sharp : ndarray, shape (Z + 2m, Y + 2m, X + 2m)
        The truth's attenuation on the same voxel grid with `margin_px` = m more voxels on
        every side (the blur reaches in from outside the region).
    margin_px : int
        m, at least 3 σ (>= 1): the blur is applied in Fourier space, and what wraps around
        from the far side must stay in the margin.
    max_sigma_px : float
        Upper end of the search (voxels).

    Returns
    -------
    dict
        ``sigma_px``; ``gain`` and ``offset`` (b, a); ``residual_rms`` (grey units: the noise
        and whatever a Gaussian does not explain).

    Raises
    ------
    ValueError
        If the shapes do not differ by 2 `margin_px` on every axis.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> truth = ndimage.zoom(rng.integers(0, 3, (12, 12, 12)), 4, order=0).astype(float) * 20
    >>> recon = ndimage.gaussian_filter(truth, 1.2)[6:-6, 6:-6, 6:-6]
    >>> round(effective_blur_sigma_px(recon, truth, margin_px=6)["sigma_px"], 1)
    1.2
    """
    recon = np.asarray(recon, np.float64)
    sharp = np.asarray(sharp, np.float64)
    m = int(margin_px)
    if m < 1 or sharp.shape != tuple(n + 2 * m for n in recon.shape):
        raise ValueError(f"sharp {sharp.shape} must be recon {recon.shape} plus {margin_px} "
                         "voxels (>= 1) on every side")
    inner = (slice(m, -m),) * 3
    target = recon.ravel()
    spectrum = np.fft.rfftn(sharp)

    def fit(sigma: float) -> tuple[np.ndarray, float]:
        # the continuous Gaussian's transfer function: a sampled kernel is too narrow below
        # a voxel (0.45 reads 0.52); the wrap-around stays in the margin while m >= 3 σ
        blurred = np.fft.irfftn(ndimage.fourier_gaussian(spectrum, sigma, n=sharp.shape[-1]),
                                s=sharp.shape, axes=(0, 1, 2))[inner].ravel()
        design = np.stack([np.ones_like(blurred), blurred], axis=1)
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        return coef, float(np.mean((design @ coef - target) ** 2))

    best = optimize.minimize_scalar(lambda s: fit(s)[1], bounds=(0.02, max_sigma_px),
                                    method="bounded", options={"xatol": 1e-3})
    coef, mse = fit(float(best.x))
    return {"sigma_px": float(best.x), "gain": float(coef[1]), "offset": float(coef[0]),
            "residual_rms": float(np.sqrt(mse))}


def pressure_trend(target: Target, low: Mapping[str, Any],
                   high: Mapping[str, Any]) -> dict[str, Any]:
    """Change of one quantity between two pressures, measured and true.

    Parameters
    ----------
    target : Target
        The quantity and its tolerance.
    low, high : mapping
        :func:`score_target` results at the lower and the higher pressure.

    Returns
    -------
    dict
        ``measured_change`` and ``true_change`` (high - low; relative to the low value when
        the target is relative), ``change_error`` (their difference), ``sign_agrees``
        (np.sign of both equal), ``passed``: the sign agrees and ``|change_error|`` is within
        the target's tolerance (None when a value is missing).

    Examples
    --------
    >>> lo = {"measured": 0.33, "truth": 0.35}; hi = {"measured": 0.24, "truth": 0.23}
    >>> t = pressure_trend(TARGETS[0], lo, hi)
    >>> round(t["measured_change"], 6), round(t["true_change"], 6), t["passed"]
    (-0.09, -0.12, False)
    """
    vals = [_number(d.get(k)) for d in (low, high) for k in ("measured", "truth")]
    m_lo, t_lo, m_hi, t_hi = vals
    out: dict[str, Any] = {"measured_change": None, "true_change": None, "change_error": None,
                           "sign_agrees": None, "passed": None, "tolerance": target.tolerance}
    if None in vals:
        return out
    if target.relative:
        if m_lo == 0 or t_lo == 0:
            return out
        dm, dt = m_hi / m_lo - 1.0, t_hi / t_lo - 1.0
    else:
        dm, dt = m_hi - m_lo, t_hi - t_lo
    agrees = bool(np.sign(dm) == np.sign(dt))
    out.update(measured_change=dm, true_change=dt, change_error=dm - dt, sign_agrees=agrees,
               passed=bool(agrees and abs(dm - dt) <= target.tolerance + 1e-12))
    return out


def summarize_scores(scores: Sequence[Mapping[str, Mapping[str, Any]]],
                     targets: Sequence[Target] = TARGETS) -> dict[str, dict[str, Any]]:
    """Per target over many cells: how many were scored and passed, bias and worst error.

    Parameters
    ----------
    scores : sequence of dict
        :func:`score_layers` results, one per cell.

    Returns
    -------
    dict
        Per ``Target.name``: ``n_scored`` (cells with a truth), ``n_passed``, ``n_failed``,
        ``mean_error`` (the bias), ``max_abs_error`` (None when nothing was measured),
        ``tolerance``, and ``n_with_uncertainty`` with ``n_within_2_uncertainties`` (cells whose
        error is at most twice their stated standard uncertainty: is the error bar honest?).

    Examples
    --------
    >>> s = [score_layers({"composite": {"porosity": p}}, {"composite": {"porosity": 0.3}})
    ...      for p in (0.305, 0.28)]
    >>> d = summarize_scores(s)["composite_porosity"]
    >>> d["n_scored"], d["n_passed"], round(d["max_abs_error"], 6)
    (2, 1, 0.02)
    >>> s = [score_layers({"composite": {"porosity": p, "porosity_uncertainty": 0.008}},
    ...                   {"composite": {"porosity": 0.3}}) for p in (0.305, 0.28)]
    >>> d = summarize_scores(s)["composite_porosity"]
    >>> d["n_with_uncertainty"], d["n_within_2_uncertainties"]
    (2, 1)
    """
    out: dict[str, dict[str, Any]] = {}
    for tg in targets:
        cells = [s[tg.name] for s in scores if tg.name in s and s[tg.name]["passed"] is not None]
        errors = [c["error"] for c in cells if c["error"] is not None]
        ratios = [abs(c["error_over_uncertainty"]) for c in cells
                  if c.get("error_over_uncertainty") is not None]
        out[tg.name] = {
            "n_scored": len(cells),
            "n_passed": sum(bool(c["passed"]) for c in cells),
            "n_failed": sum(not c["passed"] for c in cells),
            "mean_error": float(np.mean(errors)) if errors else None,
            "max_abs_error": float(np.max(np.abs(errors))) if errors else None,
            "tolerance": tg.tolerance,
            "relative": tg.relative,
            "n_with_uncertainty": len(ratios),
            "n_within_2_uncertainties": sum(r <= 2 for r in ratios),
        }
    return out
