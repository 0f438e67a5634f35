"""Layer finding in a crowded field of view: classify every z-band, pick composite and separator.

A real scan of a pressed cell shows more than the two analysed layers along z: steel
current-collector rods at both ends (opaque: saturated or streaked planes), the In-Li anode
foil above the separator, air gaps, and the housing tube around the sample. Each
reconstructed plane is classified from robust statistics of its (lightly smoothed) grey
levels inside the analysed x-y region and from the active-material (AM) envelope:

================  ================================================================
``metal``         median above ``METAL_FACTOR`` x the sample's reference level (rods,
                  foil; ``metal_saturated`` above ``SATURATED_FACTOR`` x)
``anode_foil``    a metal band touching the chosen separator on its far side
``metal_blur``    sample planes next to metal whose median still falls steeply away from
                  it (blur, streaks, or the low-passed tail after phase retrieval)
``air``           median below ``AIR_FACTOR`` x the reference and nothing in the rim
``housing``       air in the core but material in the outer ring of the field of view
``composite``     sample plane whose AM envelope covers over ``COMPOSITE_LEVEL`` of its plateau
``separator``     sample plane without that envelope (SE with voids)
================  ================================================================

The reference level is the median of the plane medians (the sample's planes outnumber the
rest in a scan meant for them); the AM threshold is Otsu's, on the sample planes only (rods
at hundreds of cm⁻¹ would otherwise take it). Smoothing (Gaussian, 1.5 px) first averages out
the bright/dark edge fringes of phase contrast, which are zero-mean across an edge.

The composite is the thickest composite band; the separator is the separator band next to it.
The composite|separator interface is where the envelope crosses half its plateau, with a
transition band as in :func:`tomopress.segment.crop.layer_rows_from_volume`; every other
boundary of the two layers (metal, foil, air) is moved ``transition_rows`` planes inwards, so
the crops hold no blurred neighbour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

from tomopress.types import F64Array

__all__ = [
    "METAL_FACTOR",
    "SATURATED_FACTOR",
    "AIR_FACTOR",
    "COMPOSITE_LEVEL",
    "PlaneStats",
    "plane_statistics",
    "classify_planes",
    "bands_of",
    "find_layers",
    "profile_only",
    "layers_qc_png",
]

log = logging.getLogger(__name__)

#: a plane whose median exceeds this multiple of the reference level is metal
METAL_FACTOR: Final = 2.5
#: ... and saturated or opaque above this multiple
SATURATED_FACTOR: Final = 6.0
#: a plane whose median is below this multiple of the reference level is air (or a gap)
AIR_FACTOR: Final = 0.3
#: a sample plane is composite when its AM envelope exceeds this fraction of the plateau
COMPOSITE_LEVEL: Final = 0.1
_SMOOTH_PX: Final = 1.5
_NO_AM: Final = 0.01  # envelope (relative to the plateau) below which a plane holds no AM
_FULL: Final = 0.75  # ... and above which the composite is fully developed
_MIN_SAMPLE_BAND: Final = 3


@dataclass(frozen=True)
class PlaneStats:
    """Per-plane statistics along z (each array has one entry per plane)."""

    median: F64Array  #: median of the smoothed core region, cm⁻¹
    p05: F64Array  #: 5th percentile, cm⁻¹
    p95: F64Array  #: 95th percentile, cm⁻¹
    rim_median: F64Array  #: median of the outer ring of the field of view, cm⁻¹


def _smooth(plane: np.ndarray) -> np.ndarray:
    return ndimage.gaussian_filter(np.nan_to_num(plane.astype(np.float32)), _SMOOTH_PX)


def plane_statistics(planes: Any, roi: tuple[int, int, int, int]) -> tuple[PlaneStats, np.ndarray]:
    """Robust statistics of every plane, read one plane at a time.

    Parameters
    ----------
    planes : array-like of float, shape (Z, N, N)
        The reconstructed volume (an h5py dataset is fine: planes are read one by one).
    roi : (y0, y1, x0, x1)
        The analysed x-y region (the "core").

    Returns
    -------
    stats : PlaneStats
    core : ndarray of float32, shape (Z, ceil((y1 - y0) / 2), ceil((x1 - x0) / 2))
        The smoothed core region of every plane, every second pixel (for the AM envelope:
        a quarter of the memory of the region).
    """
    nz, ny, nx = planes.shape
    y0, y1, x0, x1 = roi
    yy, xx = np.mgrid[:ny, :nx]
    r = np.hypot(yy - (ny - 1) / 2, xx - (nx - 1) / 2) / (min(ny, nx) / 2)
    ring = (r > 0.85) & (r < 0.97)
    core = np.empty((nz, (y1 - y0 + 1) // 2, (x1 - x0 + 1) // 2), dtype=np.float32)
    med, p05, p95, rim = (np.empty(nz) for _ in range(4))
    for z in range(nz):
        plane = np.asarray(planes[z], dtype=np.float32)
        core[z] = _smooth(plane[y0:y1, x0:x1])[::2, ::2]
        med[z], p05[z], p95[z] = np.percentile(core[z], [50, 5, 95])
        rim[z] = np.median(plane[ring]) if ring.any() else np.nan
    return PlaneStats(med, p05, p95, rim), core


def classify_planes(stats: PlaneStats, envelope_fraction: F64Array, *,
                    reference: float, sample: np.ndarray | None = None) -> list[str]:
    """Class of every plane (module docstring), before the foil is told from other metal.

    Examples
    --------
    >>> st = PlaneStats(np.array([200., 20, 20, 45, 45, 0]), np.zeros(6), np.zeros(6),
    ...                 np.array([200., 20, 20, 45, 45, 0]))
    >>> classify_planes(st, np.array([0, 0, 0, 0.9, 0.95, 0]), reference=25.0)
    ['metal_saturated', 'separator', 'separator', 'composite', 'composite', 'air']
    """
    counted = envelope_fraction if sample is None else envelope_fraction[sample]
    plateau = float(np.percentile(counted, 95)) if counted.size else 0.0
    out = []
    for z, m in enumerate(stats.median):
        if m > SATURATED_FACTOR * reference:
            out.append("metal_saturated")
        elif m > METAL_FACTOR * reference:
            out.append("metal")
        elif m < AIR_FACTOR * reference:
            rim = stats.rim_median[z]
            out.append("housing" if np.isfinite(rim) and rim > AIR_FACTOR * reference
                       and abs(rim) > abs(m) + 0.2 * reference else "air")
        elif plateau > 0.2 and envelope_fraction[z] > COMPOSITE_LEVEL * plateau:
            out.append("composite")
        else:
            out.append("separator")
    return out


def _mark_metal_blur(classes: list[str], median: F64Array, *, step: int = 3,
                     excess: float = 0.1) -> list[str]:
    """Sample planes next to a metal band whose median still falls steeply away from it
    (more than `excess` above the plane `step` further out) are ``metal_blur``: the metal's
    blur, streaks or, after phase retrieval, its low-passed tail.

    Examples
    --------
    >>> _mark_metal_blur(["metal", "separator", "separator", "separator", "separator",
    ...                   "separator", "separator"], np.array([200., 60, 30, 22, 21, 20, 21]))
    ['metal', 'metal_blur', 'metal_blur', 'separator', 'separator', 'separator', 'separator']
    """
    out = list(classes)
    n = len(out)
    for b in bands_of(classes):
        if not b["class"].startswith("metal"):
            continue
        for z, d in ((b["start"] - 1, -1), (b["stop"], 1)):
            while 0 <= z < n and out[z] in ("composite", "separator"):
                far = min(max(z + step * d, 0), n - 1)
                if not median[z] > (1 + excess) * median[far]:
                    break
                out[z] = "metal_blur"
                z += d
    return out


def bands_of(classes: list[str], *, z_offset_rows: int = 0) -> list[dict[str, Any]]:
    """Runs of equal class: ``[{"class", "start", "stop"}]`` in detector rows (stop excluded).

    Examples
    --------
    >>> bands_of(["air", "air", "separator", "composite"], z_offset_rows=10)
    [{'class': 'air', 'start': 10, 'stop': 12}, {'class': 'separator', 'start': 12, 'stop': 13}, {'class': 'composite', 'start': 13, 'stop': 14}]
    """
    bands: list[dict[str, Any]] = []
    for z, c in enumerate(classes):
        if bands and bands[-1]["class"] == c:
            bands[-1]["stop"] = z + 1 + z_offset_rows
        else:
            bands.append({"class": c, "start": z + z_offset_rows, "stop": z + 1 + z_offset_rows})
    return bands


def _absorb_short_sample_bands(classes: list[str]) -> list[str]:
    """A sample band thinner than ``_MIN_SAMPLE_BAND`` planes next to a sample band of the
    other class takes that class (the thicker neighbour's when both are): one noisy envelope
    plane, or a plane blurred by a metal neighbour, does not make a layer.

    Examples
    --------
    >>> _absorb_short_sample_bands(["metal", "composite", "separator", "separator", "separator"])
    ['metal', 'separator', 'separator', 'separator', 'separator']
    """
    out = list(classes)
    sample = ("composite", "separator")
    changed = True
    while changed:
        changed = False
        bands = bands_of(out)
        for i, b in enumerate(bands):
            if b["class"] not in sample or b["stop"] - b["start"] >= _MIN_SAMPLE_BAND:
                continue
            neighbours = [bands[k] for k in (i - 1, i + 1) if 0 <= k < len(bands)
                          and bands[k]["class"] in sample and bands[k]["class"] != b["class"]]
            if neighbours:
                take = max(neighbours, key=lambda h: h["stop"] - h["start"])["class"]
                out[b["start"]:b["stop"]] = [take] * (b["stop"] - b["start"])
                changed = True
                break
    return out


def _describe(bands: list[dict[str, Any]]) -> str:
    return ", ".join(f"{b['class']} {b['start']}:{b['stop']}" for b in bands)


def find_layers(volume: Any, *, z_offset_rows: int, transition_rows: int,
                roi_size_px: int | None = None, roi: tuple[int, int, int, int] | None = None,
                closing_radius_px: int = 10) -> dict[str, Any]:
    """Composite and separator rows in a crowded field of view (module docstring).

    Parameters
    ----------
    volume : array-like of float, shape (Z, N, N)
        Reconstructed attenuation (cm⁻¹); an h5py dataset is read plane by plane.
    z_offset_rows : int
        Detector row of plane 0.
    transition_rows : int
        Planes left out next to every boundary of the two layers.
    roi_size_px, roi : optional
        The analysed x-y region: a centred square of this side, or ``(y0, y1, x0, x1)``.
    closing_radius_px : int
        Closing radius of the AM envelope (about a particle radius).

    Returns
    -------
    dict
        ``layers`` {composite, separator: (start, stop)}, ``transition_band_rows``,
        ``interface_row``, ``bands`` (every band with its class, in detector rows),
        ``reference_per_cm``, ``am_threshold``, ``envelope_fraction``, ``plane_median_per_cm``
        and ``method`` = ``"z_bands"``.

    Raises
    ------
    ValueError
        When no composite band or no separator next to it is found, or a layer vanishes;
        the message lists the bands seen and says what to set in the sample sheet.
    """
    from tomopress.segment.crop import _crossing, am_envelope_profile, centred_roi

    nz, ny, nx = volume.shape
    if roi is None:
        roi = centred_roi((ny, nx), roi_size_px if roi_size_px else int(min(ny, nx) / 2**0.5) - 2)
    hint = ("set composite_rows and separator_rows (detector rows start:stop) in the sample "
            "sheet")
    if nz < 4:
        raise ValueError(f"cannot locate the layers on {nz} planes; {hint}")
    stats, core = plane_statistics(volume, roi)
    reference = float(np.median(stats.median))
    if np.median(stats.p05) < -reference:  # dark fringes deeper than the sample is bright
        hint = ("the planes carry strong edge fringes (median 5th percentile "
                f"{np.median(stats.p05):.0f} cm⁻¹ against a median level of {reference:.0f} "
                "cm⁻¹): turn on phase retrieval (phase.method: paganin), or " + hint)
    if not reference > 0:
        raise ValueError(f"the planes' median attenuation is {reference:.3g} cm⁻¹ (no sample in "
                         f"the x-y region?); {hint}")
    provisional = _mark_metal_blur(classify_planes(stats, np.zeros(nz), reference=reference),
                                   stats.median)
    sample = np.array([c in ("composite", "separator") for c in provisional])
    if sample.sum() < 4:
        raise ValueError(f"only {int(sample.sum())} planes look like sample (bands: "
                         f"{_describe(bands_of(provisional, z_offset_rows=z_offset_rows))}); "
                         f"{hint}")
    values = core[sample]
    am_threshold = float(threshold_otsu(values[np.isfinite(values)]))
    _, fraction, _ = am_envelope_profile(core, closing_radius_px=max(closing_radius_px // 2, 1),
                                         am_threshold=am_threshold)
    fraction = np.where(sample, fraction, 0.0)
    final = classify_planes(stats, fraction, reference=reference, sample=sample)
    classes = _absorb_short_sample_bands([p if not s_ else f for p, f, s_ in
                                          zip(provisional, final, sample)])
    bands = bands_of(classes)
    comp = [b for b in bands if b["class"] == "composite"]
    if not comp:
        raise ValueError(f"no composite band (AM envelope) along z; bands seen: "
                         f"{_describe(bands_of(classes, z_offset_rows=z_offset_rows))}; {hint}")
    c = max(comp, key=lambda b: b["stop"] - b["start"])
    i = bands.index(c)
    seps = [(j, bands[j]) for j in (i - 1, i + 1)
            if 0 <= j < len(bands) and bands[j]["class"] == "separator"]
    if not seps:
        raise ValueError(f"no separator band next to the composite at rows "
                         f"{c['start'] + z_offset_rows}:{c['stop'] + z_offset_rows}; bands seen: "
                         f"{_describe(bands_of(classes, z_offset_rows=z_offset_rows))}; {hint}")
    j, s = max(seps, key=lambda js: js[1]["stop"] - js[1]["start"])
    above = j < i  # separator at lower row indices than the composite
    # interface: envelope crossing half its plateau between the two bands' middles
    plateau = float(np.percentile(fraction[c["start"]:c["stop"]], 95))
    rel = fraction / plateau if plateau > 0 else fraction
    lo_mid = (s["start"] + s["stop"]) // 2 if above else (c["start"] + c["stop"]) // 2
    hi_mid = (c["start"] + c["stop"]) // 2 if above else (s["start"] + s["stop"]) // 2
    boundary = c["start"] if above else c["stop"]  # first plane of the lower band
    crossing = _crossing(rel[lo_mid:hi_mid + 1], 0.5)
    interface_f = lo_mid + crossing if crossing is not None else boundary - 0.5
    interface = int(np.floor(interface_f))
    # transition band: from the last plane without AM on the separator side to the first at
    # _FULL of the plateau on the composite side, widened by transition_rows
    lo, hi = interface, interface + 1
    sep_side_has_am = (lambda z: rel[z] > _NO_AM) if above else (lambda z: rel[z] < _FULL)
    comp_side_low = (lambda z: rel[z] < _FULL) if above else (lambda z: rel[z] > _NO_AM)
    while lo > lo_mid and sep_side_has_am(lo):
        lo -= 1
    while hi < hi_mid and comp_side_low(hi):
        hi += 1
    band = (max(lo + 1 - transition_rows, 0), min(hi + transition_rows, nz))
    # outer ends: the band edges of the composite and separator, moved inwards unless the
    # neighbour is the end of the reconstructed volume
    def inner(b: dict, side: str) -> int:
        if side == "start":
            return b["start"] + (transition_rows if b["start"] > 0 else 0)
        return b["stop"] - (transition_rows if b["stop"] < nz else 0)

    if above:
        separator = (inner(s, "start"), band[0])
        composite = (band[1], inner(c, "stop"))
    else:
        composite = (inner(c, "start"), band[0])
        separator = (band[1], inner(s, "stop"))
    for name, (a, b) in (("composite", composite), ("separator", separator)):
        if b - a < 2:
            raise ValueError(f"the {name} layer is thinner than 2 planes after trimming "
                             f"{transition_rows} transition rows (bands seen: "
                             f"{_describe(bands_of(classes, z_offset_rows=z_offset_rows))}); "
                             f"lower crop.transition_rows or {hint}")
    # the metal band beyond the separator is the anode foil
    step = -1 if above else 1
    far = j + step
    while 0 <= far < len(bands) and bands[far]["class"] == "metal_blur":
        far += step
    if 0 <= far < len(bands) and bands[far]["class"].startswith("metal"):
        for z in range(bands[far]["start"], bands[far]["stop"]):
            classes[z] = "anode_foil"
    off = z_offset_rows
    result = {
        "layers": {"composite": (composite[0] + off, composite[1] + off),
                   "separator": (separator[0] + off, separator[1] + off)},
        "transition_band_rows": (band[0] + off, band[1] + off),
        "interface_row": float(interface_f + 0.5 + off),
        "bands": bands_of(classes, z_offset_rows=off),
        "reference_per_cm": reference,
        "am_threshold": am_threshold,
        "envelope_fraction": [round(float(f), 4) for f in fraction],
        "plane_median_per_cm": [round(float(v), 3) for v in stats.median],
        "plane_p05_per_cm": [round(float(v), 3) for v in stats.p05],
        "plane_p95_per_cm": [round(float(v), 3) for v in stats.p95],
        "roi_xy": [int(v) for v in roi],
        "method": "z_bands",
    }
    log.info("layer bands: %s; composite %s, separator %s", _describe(result["bands"]),
             result["layers"]["composite"], result["layers"]["separator"])
    return result


def profile_only(volume: Any, roi: tuple[int, int, int, int]) -> dict[str, Any]:
    """The z-profile part of :func:`find_layers`'s result, without bands (for a QC figure
    when the sample sheet gives the rows and the bands cannot be decided)."""
    stats, _ = plane_statistics(volume, roi)
    return {"bands": [], "reference_per_cm": float(max(np.median(stats.median), 1e-3)),
            "envelope_fraction": [0.0] * stats.median.size,
            "plane_median_per_cm": [round(float(v), 3) for v in stats.median],
            "plane_p05_per_cm": [round(float(v), 3) for v in stats.p05],
            "plane_p95_per_cm": [round(float(v), 3) for v in stats.p95]}


_COLOURS = {"metal_saturated": "#555555", "metal": "#888888", "metal_blur": "#bbbbbb", "anode_foil": "#c9a227",
            "air": "#ffffff", "housing": "#9ecae1", "separator": "#a1d99b",
            "composite": "#fdae6b"}


def layers_qc_png(found: dict[str, Any], out_path: str, *, title: str = "",
                  xz_slice: np.ndarray | None = None, z_offset_rows: int = 0) -> None:
    """QC figure: the z-profile (median, 5-95 % range, AM envelope) with the bands and the
    chosen crops, and an x-z slice with the crop rows; written atomically as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from tomopress.io.atomic import atomic_path

    med = np.asarray(found["plane_median_per_cm"])
    z = np.arange(med.size) + z_offset_rows
    fig = Figure(figsize=(12, 5), dpi=90)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2 if xz_slice is not None else 1, squeeze=False)[0]
    ax = axes[0]
    for b in found["bands"]:
        ax.axvspan(b["start"] - 0.5, b["stop"] - 0.5, color=_COLOURS.get(b["class"], "#eeeeee"),
                   alpha=0.5, lw=0)
        ax.text((b["start"] + b["stop"]) / 2 - 0.5, 1.0, b["class"].replace("_", " "),
                rotation=90, va="top", ha="center", fontsize=7, transform=ax.get_xaxis_transform())
    ax.fill_between(z, found["plane_p05_per_cm"], found["plane_p95_per_cm"], color="k",
                    alpha=0.15, lw=0, label="5-95 % (smoothed)")
    ax.plot(z, med, "k-", lw=1.2, label="median")
    ref = found["reference_per_cm"]
    ax.set_ylim(min(-0.5 * ref, float(np.min(found["plane_p05_per_cm"]))), 8 * ref)
    ax.set_xlabel("detector row (z)")
    ax.set_ylabel("attenuation (cm⁻¹)")
    ax2 = ax.twinx()
    ax2.plot(z, found["envelope_fraction"], "C1-", lw=1, label="AM envelope fraction")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("AM envelope fraction")
    for name, style in (("composite", "C3"), ("separator", "C2")):
        a, b = found["layers"][name]
        ax.axvline(a - 0.5, color=style, ls="--")
        ax.axvline(b - 0.5, color=style, ls="--")
        ax.annotate(f"{name} crop", xy=((a + b) / 2, 0.5), xycoords=("data", "axes fraction"),
                    ha="center", color=style, fontsize=9)
    ax.legend(loc="upper left", fontsize=7)
    ax.set_title(title or "z-bands and crops")
    if xz_slice is not None:
        ax3 = axes[1]
        lo, hi = np.percentile(xz_slice, [1, 99])
        ax3.imshow(xz_slice, cmap="gray", vmin=lo, vmax=min(hi, 6 * ref), aspect="auto",
                   extent=(0, xz_slice.shape[1], z[-1] + 0.5, z[0] - 0.5))
        for name, style in (("composite", "C3"), ("separator", "C2")):
            for v in found["layers"][name]:
                ax3.axhline(v - 0.5, color=style, ls="--", lw=1)
        ax3.set_title("x-z slice through the centre")
        ax3.set_xlabel("x (px)")
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format="png")
