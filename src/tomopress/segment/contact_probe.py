"""How thin a void gap or an SE film at an AM surface the labels of a scan resolve.

Why. The contact-area fraction f_c counts the AM surface that the labels put next to SE. A void
gap between AM and SE that is thinner than the scan resolves is labelled SE, so it reads as
contact; an SE film between AM and a void that is too thin is lost to the void (the watershed
seeds SE only where the grey gradient is low, and a thin film lies inside the AM edge's
gradient), so it reads as a gap. Neither can be seen in the labels afterwards
(:mod:`tomopress.segment.replica` renders the labels, which no longer hold them). What can be
measured is how thin they must be to be lost: render AM spheres wrapped in a void gap (then
SE), and AM spheres wrapped in an SE film (then void), of known thicknesses, through the scan's
own forward model (its class means, measured blur and noise with the spectrum of filtered
back-projection), label them exactly as the scan was labelled, and read on each sphere the
share of its AM faces that the labels put next to SE.

The thickness at which half of a sphere's surface is read right is the contact's resolution on
that scan: ``contact_gap_resolution_um`` (thinner gaps read as contact) and
``contact_film_resolution_um`` (thinner films read as gaps). They depend on the blur, the
noise and the labeller together; the fidelity matrix (benchmarks/fidelity.py) gives them per
cell.

Geometry. Spheres of radius 8 voxels (4 µm at 0.5 µm voxels, a small NCM secondary particle),
one per thickness, each at a random sub-voxel offset, in cells side by side. Every voxel holds
the exact-in-expectation share of each phase: the projection of a voxel on a unit normal is a
sum of three uniform variables of total variance 1/12 whatever the direction, so the share of a
ball of radius R in the voxel at distance r from its centre is ``Φ((R − s²/R − r) / s)`` with
s² = 1/12 (a Gaussian of that variance; ``s²/R`` is the curvature's shift of the half level of a
blurred sphere, which keeps the ball's volume exact to O(s⁴/R²)).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import ndimage, special

from tomopress.metrics.interfaces import AXIS_DIRECTION, PAIR_NAMES, crofton_pair_counts
from tomopress.segment.replica import fbp_noise
from tomopress.types import F32Array, LabelVolume

__all__ = [
    "CONTACT_PROBE_THICKNESSES_PX",
    "contact_probe",
    "contact_probe_file",
    "contact_probe_record",
    "render_and_label",
    "resolution_thickness",
    "shell_phantom",
    "surface_contact_share",
    "with_contact_probe",
]

#: thicknesses of the gaps and films probed (voxels): the blurs met at beamlines are 0.3-1.5 px
CONTACT_PROBE_THICKNESSES_PX = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
#: radius of the probe's AM spheres (voxels)
PROBE_RADIUS_PX = 8.0
_VOXEL_PROJECTION_SD = 1.0 / np.sqrt(12.0)


def _ball_share(distance: np.ndarray, radius: float) -> F32Array:
    """Share of each voxel inside a ball of `radius` whose centre is `distance` away."""
    s = _VOXEL_PROJECTION_SD
    edge = radius - s * s / radius if radius > 0 else 0.0
    return (0.5 * special.erfc((distance - edge) / (s * np.sqrt(2.0)))).astype(np.float32)


def shell_phantom(
    thicknesses_px: Sequence[float],
    *,
    film: bool,
    radius_px: float = PROBE_RADIUS_PX,
    rng: np.random.Generator,
) -> tuple[F32Array, F32Array, int]:
    """AM spheres wrapped in a void gap (then SE) or an SE film (then void).

    Parameters
    ----------
    thicknesses_px : sequence of float
        One sphere per thickness (voxels, ≥ 0), in cells side by side along x.
    film : bool
        False: a void gap of that thickness between the AM and the SE. True: an SE film of that
        thickness between the AM and the void that fills the rest of the cell (at least 3
        voxels beyond the thickest film: wider than the gaps the labels miss).
    radius_px : float
        AM radius (voxels).
    rng : numpy.random.Generator
        Draws each sphere's sub-voxel offset.

    Returns
    -------
    am, void : ndarray of float32, shape (C, C, C * len(thicknesses_px))
        Share of AM and of void in each voxel (SE is the rest).
    cell : int
        C, the side of each sphere's cubic cell (voxels).

    Examples
    --------
    >>> am, void, cell = shell_phantom([0.0, 2.0], film=False, rng=np.random.default_rng(0))
    >>> am.shape == (cell, cell, 2 * cell)
    True
    >>> round(float(am[..., :cell].sum()) / (4 / 3 * np.pi * 8.0**3), 3)
    1.0
    """
    thick = [float(t) for t in thicknesses_px]
    if not thick or min(thick) < 0 or not radius_px > 0:
        raise ValueError(f"need thicknesses >= 0 and a radius > 0, got {thick!r} and {radius_px!r}")
    cell = 2 * int(np.ceil(radius_px + max(thick) + 3.0))
    centre = np.arange(cell, dtype=np.float32) - (cell - 1) / 2.0
    am = np.empty((cell, cell, cell * len(thick)), np.float32)
    void = np.empty_like(am)
    for i, t in enumerate(thick):
        dz, dy, dx = rng.uniform(-0.5, 0.5, 3)
        r = np.sqrt((centre[:, None, None] - dz) ** 2 + (centre[None, :, None] - dy) ** 2
                    + (centre[None, None, :] - dx) ** 2)
        inner = _ball_share(r, radius_px)
        if film:
            shell = 1.0 - _ball_share(r, radius_px + t)
        else:
            shell = _ball_share(r, radius_px + t) - inner
        am[..., i * cell:(i + 1) * cell] = inner
        void[..., i * cell:(i + 1) * cell] = shell
    return am, void, cell


def surface_contact_share(labels: LabelVolume) -> float:
    """Share of the AM voxel faces that touch SE among those that touch SE or void.

    The face-neighbour pairs along z, y and x pooled (the pair counts of
    :func:`tomopress.metrics.interfaces.crofton_pair_counts`); NaN without AM faces.

    Examples
    --------
    >>> lab = np.array([[[2, 1, 0], [2, 0, 0]]], np.uint8)
    >>> surface_contact_share(lab)
    0.5
    """
    faces = list(AXIS_DIRECTION.values())
    counts = crofton_pair_counts(labels, directions=faces).counts[faces].sum(axis=0)
    to_se, to_void = int(counts[PAIR_NAMES.index("am_se")]), int(counts[PAIR_NAMES.index("am_void")])
    return to_se / (to_se + to_void) if to_se + to_void else float("nan")


def render_and_label(
    am: np.ndarray,
    void: np.ndarray,
    *,
    levels: tuple[float, float, float],
    blur_sigma_px: float,
    noise_sigma: float,
    rng: np.random.Generator,
    relabel: Callable[[np.ndarray], LabelVolume],
) -> tuple[np.ndarray, LabelVolume]:
    """Phase shares through the scan's forward model, then its labelling.

    The grey level is the linear mix of the `levels` (void, SE, AM; SE fills what `am` and
    `void` leave), blurred by a Gaussian of `blur_sigma_px` and given noise of `noise_sigma`
    with the spectrum of filtered back-projection (:func:`tomopress.segment.replica.fbp_noise`,
    drawn from `rng`); `relabel` labels it.

    Returns
    -------
    grey : ndarray of float
        The rendered grey levels.
    labels : ndarray of uint8
        Their labels.
    """
    void_level, se_level, am_level = (float(v) for v in levels)
    grey = am_level * am + void_level * void + se_level * (1.0 - am - void)
    if blur_sigma_px > 0:
        grey = ndimage.gaussian_filter(grey, blur_sigma_px, mode="nearest")
    grey += fbp_noise(grey.shape, noise_sigma, rng)
    return grey, np.asarray(relabel(grey))


def resolution_thickness(thicknesses_px: Sequence[float], misread: Sequence[float]) -> float | None:
    """Thinnest thickness from which at most half of the surface is misread, interpolated.

    `misread` is the share read wrong at each thickness (increasing thicknesses). The result is
    where it last falls to 1/2: from there on every probed thickness is read right on at least
    half the surface. 0 when even the thinnest is; None when the thickest is not.

    Examples
    --------
    >>> round(resolution_thickness([0, 1, 2, 3], [1.0, 0.9, 0.3, 0.0]), 6)
    1.666667
    >>> resolution_thickness([0, 1], [0.9, 0.8]) is None
    True
    """
    t = np.asarray(thicknesses_px, float)
    m = np.asarray(misread, float)
    m = np.where(np.isfinite(m), m, 1.0)  # no AM faces at all: nothing was read right
    bad = np.flatnonzero(m > 0.5)
    if bad.size == 0:
        return 0.0
    last = int(bad[-1])
    if last == t.size - 1:
        return None
    return float(t[last] + (m[last] - 0.5) / (m[last] - m[last + 1]) * (t[last + 1] - t[last]))


def contact_probe(
    *,
    levels: tuple[float, float, float],
    blur_sigma_px: float,
    noise_sigma: float,
    relabel: Callable[[np.ndarray], LabelVolume],
    thicknesses_px: Sequence[float] = CONTACT_PROBE_THICKNESSES_PX,
    seed: int = 0,
) -> dict[str, Any]:
    """The labels' contact reading of probed gaps and films, and the contact's resolution.

    Parameters
    ----------
    levels : tuple of float
        Grey levels of void, SE and AM in the units `relabel` expects (the thresholds record's
        class means).
    blur_sigma_px : float
        The scan's measured blur (Gaussian σ, voxels).
    noise_sigma : float
        The scan's noise standard deviation (grey units); the noise has the spectrum of
        filtered back-projection (:func:`tomopress.segment.replica.fbp_noise`).
    relabel : callable
        Grey levels -> labels, the scan's own labelling.
    thicknesses_px : sequence of float
        Gap and film thicknesses probed (voxels, increasing).
    seed : int
        Seed of the offsets and the noise (fixed: reruns give the same result).

    Returns
    -------
    dict
        ``thicknesses_px``; ``gap_contact`` and ``film_contact``, the share of each sphere's
        AM faces read as touching SE; ``gap_resolution_px`` (the thinnest gap read as a gap on
        half the surface and every thicker one too) and ``film_resolution_px`` (the same for
        films read as contact); each None with its reason in ``gap_unresolved`` /
        ``film_unresolved`` where the thickest probed is still misread, or where the
        zero-thickness case already is (AM against SE read as a gap; a void at AM read as
        contact, so a film cannot be told from it).
    """
    if not blur_sigma_px >= 0:
        raise ValueError(f"blur sigma must be >= 0, got {blur_sigma_px!r}")
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"thicknesses_px": [float(t) for t in thicknesses_px]}
    for kind in ("gap", "film"):
        am, void, cell = shell_phantom(thicknesses_px, film=kind == "film", rng=rng)
        _, labels = render_and_label(am, void, levels=levels, blur_sigma_px=blur_sigma_px,
                                     noise_sigma=noise_sigma, rng=rng, relabel=relabel)
        out[f"{kind}_contact"] = [
            surface_contact_share(labels[..., i * cell:(i + 1) * cell])
            for i in range(len(out["thicknesses_px"]))]
    # a thickness is read right once the zero-thickness case is: AM against SE read as
    # contact (gaps), AM against a void read as a gap (films); otherwise nothing is resolved
    for kind, zero_misread, misread, reason in (
            ("gap", not out["gap_contact"][0] >= 0.5, out["gap_contact"],
             "AM against SE reads as a gap"),
            ("film", not out["film_contact"][0] < 0.5, [1.0 - c for c in out["film_contact"]],
             "a void at AM reads as contact")):
        found = None if zero_misread else resolution_thickness(out["thicknesses_px"], misread)
        out[f"{kind}_resolution_px"] = found
        out[f"{kind}_unresolved"] = (reason if zero_misread else
                                     "the thickest probed is misread" if found is None else None)
    return out


def contact_probe_file(thresholds_path: str, calibration_path: str, out_path: str, *,
                       segment_options: Mapping[str, Any]) -> dict[str, Any]:
    """The contact probe of one scan (:func:`contact_probe`), written as JSON.

    The scan's thresholds record gives the levels and the noise, its calibration record the
    blur, and `segment_options` (the config's ``segment`` keys: ``labelling``, ``blur_aware``
    and the keywords of :func:`~tomopress.segment.labelling.segment_volume`) the labelling.
    The record adds ``blur_sigma_px`` and ``noise_sigma`` (what the probe was rendered with).
    """
    import json

    from tomopress.io.atomic import write_json_atomic
    from tomopress.segment.stage import relabeller

    with open(thresholds_path) as fh:
        thresholds = json.load(fh)
    with open(calibration_path) as fh:
        calibration = json.load(fh)
    blur, noise = float(calibration["blur_sigma_px"]), float(thresholds["noise_sigma"])
    probe = contact_probe(levels=tuple(thresholds["means"]),  # type: ignore[arg-type]
                          blur_sigma_px=blur, noise_sigma=noise,
                          relabel=relabeller(thresholds, calibration, segment_options))
    record = {"blur_sigma_px": blur, "noise_sigma": noise, **probe}
    write_json_atomic(out_path, record)
    return record


def contact_probe_record(probe: Mapping[str, Any], *, voxel_size_um: float) -> dict[str, Any]:
    """A contact probe's columns in a layer's metrics record (:func:`contact_probe`).

    ``contact_gap_resolution_um`` and ``contact_film_resolution_um`` (None where the probe
    resolves none), ``contact_probe_max_um`` and ``contact_resolution_note``, the sentence
    that says what the layer's f_c counts as contact.

    Examples
    --------
    >>> probe = {"thicknesses_px": [0.0, 2.0], "gap_resolution_px": 1.5,
    ...          "film_resolution_px": None, "film_unresolved": "the thickest probed is misread"}
    >>> contact_probe_record(probe, voxel_size_um=0.5)["contact_resolution_note"]
    'gaps thinner than 0.75 µm at AM read as contact; SE films up to 1.00 µm (all probed) read as gaps'
    >>> probe["film_unresolved"] = "a void at AM reads as contact"
    >>> contact_probe_record(probe, voxel_size_um=0.5)["contact_resolution_note"]
    'gaps thinner than 0.75 µm at AM read as contact; a void at AM reads as contact, so SE films cannot be told from voids'
    """
    top = max(probe["thicknesses_px"]) * voxel_size_um
    out: dict[str, Any] = {"contact_probe_max_um": top}
    parts = []
    for kind, what, reads in (("gap", "gaps", "contact"), ("film", "SE films", "gaps")):
        px = probe[f"{kind}_resolution_px"]
        um = None if px is None else px * voxel_size_um
        out[f"contact_{kind}_resolution_um"] = um
        where = " at AM" if kind == "gap" else ""
        if um is not None:
            parts.append(f"{what} thinner than {um:.2f} µm{where} read as {reads}")
        elif (probe.get(f"{kind}_unresolved") or "").startswith("the thickest"):
            parts.append(f"{what} up to {top:.2f} µm (all probed){where} read as {reads}")
        else:
            cannot = "gaps cannot be told from contact" if kind == "gap" else \
                "SE films cannot be told from voids"
            parts.append(f"{probe[f'{kind}_unresolved']}, so {cannot}")
    out["contact_resolution_note"] = "; ".join(parts)
    return out


def with_contact_probe(record: Mapping[str, Any], probe: Mapping[str, Any]) -> dict[str, Any]:
    """A layer's metrics record with its scan's contact probe added, where it has an f_c.

    The probe's columns (:func:`contact_probe_record`, in the record's ``voxel_size_um``) are
    added and its sentence is appended to ``contact_area_fraction_note``; a record without a
    contact fraction comes back unchanged.
    """
    out = dict(record)
    if out.get("contact_area_fraction") is None:
        return out
    columns = contact_probe_record(probe, voxel_size_um=float(out["voxel_size_um"]))
    note = columns.pop("contact_resolution_note")
    out.update(columns)
    out["contact_area_fraction_note"] = "; ".join(
        n for n in (out.get("contact_area_fraction_note"), note) if n)
    return out
