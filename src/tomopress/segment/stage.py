"""Three-phase segmentation (void / SE / AM) of the layer crops of a scan: the stage module.

Two steps, one rule each:

1. :func:`thresholds_file` (per scan): noise level from the separator crop, denoising of a
   spread-out sample of both crops (a few 10⁶ voxels, so the crops are not denoised twice at
   full size), the class means (void, SE, AM) and thresholds midway between them, recorded
   as JSON together
   with a grey-level normalisation (``(grey - offset) / scale`` puts void at 0 and AM at 1),
   so the same physics gives the same normalised thresholds at every pressure.
2. :func:`segment_layer_file` (per layer): denoise, label (marker watershed on the gradient
   magnitude by default, then false-SE-rim removal, see
   :mod:`tomopress.segment.labelling`), remove specks, write
   the labels to HDF5 and a QC overlay PNG (:mod:`tomopress.tables.qc`).

The algorithms live in :mod:`tomopress.segment.denoise`, :mod:`tomopress.segment.levels` and
:mod:`tomopress.segment.labelling`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np

from tomopress.segment.blur_aware import MIN_AM_SHARE, blur_aware_labels
from tomopress.segment.calibration import calibrate_scan, theory_attenuation_per_cm
from tomopress.segment.denoise import denoise, denoised_sample, estimate_noise_sigma, sample_blocks
from tomopress.segment.labelling import SEGMENTERS, segment_volume
from tomopress.segment.levels import (
    PhaseLevels,
    fit_partial_volume_mixture,
    multiotsu_thresholds,
    phase_mode_thresholds,
)
from tomopress.types import AM, SE, VOID, F32Array, LabelVolume

__all__ = [
    "LEVEL_METHODS",
    "denoise_median",
    "scan_levels",
    "levels_from_crops",
    "thresholds_file",
    "theory_levels",
    "calibrate_file",
    "label_crop",
    "relabeller",
    "segment_layer_file",
]

log = logging.getLogger(__name__)

#: how the class means are found (see :func:`scan_levels`)
LEVEL_METHODS: Final = ("gmm", "modes", "multiotsu")


def denoise_median(volume: np.ndarray, *, size_px: int) -> F32Array:
    """3-D median filter of side `size_px` (1 returns a float32 copy)."""
    if size_px < 1:
        raise ValueError(f"size_px must be >= 1, got {size_px}")
    return denoise(volume, method="median", median_size_px=size_px)


def scan_levels(
    composite: np.ndarray,
    separator: np.ndarray,
    *,
    method: str,
    void_level: float,
    am_se_min_ratio: float = 1.5,
) -> PhaseLevels:
    """Class means (void, SE, AM) of a scan from its denoised layer crops.

    ``"gmm"``: partial-volume mixture (:func:`fit_partial_volume_mixture`) on the composite,
    started at `void_level` and the SE / AM modes of :func:`phase_mode_thresholds`, each mean
    allowed to move a quarter of its gap. ``"modes"``: those modes and `void_level` as they
    are. ``"multiotsu"``: the grey-level means of the three multi-Otsu classes of the
    composite (thresholds are then the multi-Otsu ones, not the midpoints).

    Raises
    ------
    ValueError
        On an unknown method or grey levels not ordered void < SE < AM.
    """
    if method not in LEVEL_METHODS:
        raise ValueError(f"unknown method {method!r}; valid choices are {', '.join(LEVEL_METHODS)}")
    if method == "multiotsu":
        low, high = multiotsu_thresholds(composite)
        v = composite[np.isfinite(composite)]
        means = tuple(float(v[m].mean()) for m in (v < low, (v >= low) & (v < high), v >= high))
        return PhaseLevels(means=means, thresholds=(low, high))  # type: ignore[arg-type]
    _, modes = phase_mode_thresholds(composite, separator, void_level=void_level,
                                     am_se_min_ratio=am_se_min_ratio)
    if method == "modes":
        return PhaseLevels(means=modes)
    return fit_partial_volume_mixture(composite, initial_means=modes)


def levels_from_crops(
    composite: np.ndarray,
    separator: np.ndarray,
    *,
    method: str,
    void_level: float,
    denoiser: str = "nl_means",
    median_size_px: int = 3,
    nlm_h_factor: float = 0.8,
    nlm_patch_distance_px: int = 1,
    max_sample_voxels: int = 2_000_000,
) -> tuple[PhaseLevels, float]:
    """Noise level and class means of a scan from its raw layer crops.

    The noise standard deviation comes from the raw separator (:func:`estimate_noise_sigma`,
    the SE peak width); the levels (:func:`scan_levels`) from the denoised grey levels of a
    sample of at most `max_sample_voxels` voxels of each crop (:func:`denoised_sample`,
    whole crops when they are smaller), denoised exactly as the labelling will denoise them.

    Returns
    -------
    levels : PhaseLevels
    noise_sigma : float
        Grey units.
    """
    sep_blocks = sample_blocks(separator.shape, max_voxels=max_sample_voxels)
    sigma = estimate_noise_sigma(np.concatenate([separator[b].ravel() for b in sep_blocks]))
    kw = dict(method=denoiser, noise_sigma=sigma, median_size_px=median_size_px,
              nlm_h_factor=nlm_h_factor, nlm_patch_distance_px=nlm_patch_distance_px,
              margin_px=max(median_size_px // 2, 1 + nlm_patch_distance_px))
    levels = scan_levels(denoised_sample(composite, max_voxels=max_sample_voxels, **kw),
                         denoised_sample(separator, max_voxels=max_sample_voxels, **kw),
                         method=method, void_level=void_level)
    return levels, sigma


def thresholds_file(
    composite_path: str,
    separator_path: str,
    out_path: str,
    *,
    method: str,
    void_level: float,
    denoiser: str = "median",
    median_size_px: int = 3,
    nlm_h_factor: float = 0.8,
    nlm_patch_distance_px: int = 1,
    max_sample_voxels: int = 2_000_000,
) -> dict[str, Any]:
    """Class means and thresholds shared by both layers of a scan, written as JSON.

    See :func:`levels_from_crops`: the noise level from the raw separator crop and the
    levels from a denoised sample of at most `max_sample_voxels` voxels of each crop.

    Returns
    -------
    dict
        As written: ``method``, ``denoiser``, ``noise_sigma``, ``means`` [void, SE, AM],
        ``sigmas``, ``weights``, ``low``, ``high`` (grey units, ``units``), ``normalisation``
        {offset, scale} and ``normalised`` {means, low, high}, ``phase_levels`` (= means),
        ``median_size_px``, ``nlm_h_factor``, ``nlm_patch_distance_px``,
        ``level_sample_voxels``.
    """
    from tomopress.io.atomic import write_json_atomic
    from tomopress.io.h5store import read_array_h5

    composite, attrs = read_array_h5(composite_path, "volume")
    separator = read_array_h5(separator_path, "volume")[0]
    levels, sigma = levels_from_crops(
        composite, separator, method=method, void_level=void_level, denoiser=denoiser,
        median_size_px=median_size_px, nlm_h_factor=nlm_h_factor,
        nlm_patch_distance_px=nlm_patch_distance_px, max_sample_voxels=max_sample_voxels)
    offset = float(void_level)
    scale = float(levels.means[2] - offset)
    result = {
        "method": method,
        "denoiser": denoiser,
        "noise_sigma": sigma,
        "means": list(levels.means),
        "phase_levels": list(levels.means),
        "sigmas": list(levels.sigmas) if levels.sigmas else None,
        "weights": levels.weights,
        "low": levels.low,
        "high": levels.high,
        "units": attrs.get("units", "1/cm"),
        "normalisation": {"offset": offset, "scale": scale,
                          "meaning": "normalised = (grey - offset) / scale: void 0, AM 1"},
        "normalised": {
            "means": [(m - offset) / scale for m in levels.means],
            "low": (levels.low - offset) / scale,
            "high": (levels.high - offset) / scale,
        },
        "median_size_px": median_size_px,
        "nlm_h_factor": nlm_h_factor,
        "nlm_patch_distance_px": nlm_patch_distance_px,
        "level_sample_voxels": max_sample_voxels,
    }
    log.info("levels (%s): means %s, thresholds %.3g / %.3g, noise sigma %.3g", method,
             [round(m, 3) for m in levels.means], levels.low, levels.high, sigma)
    write_json_atomic(out_path, result)
    return result


def theory_levels(materials: dict[str, Any] | None, energy_kev: float | None
                  ) -> dict[str, float] | None:
    """Theoretical AM and SE attenuation (cm⁻¹) from the config's materials, or None.

    `materials` maps ``am`` and ``se`` to ``{"formula": ..., "density_g_cm3": ...}``.
    """
    if not materials or energy_kev is None:
        return None
    return {phase: theory_attenuation_per_cm(materials[phase]["formula"],
                                             density_g_cm3=materials[phase]["density_g_cm3"],
                                             energy_kev=energy_kev)
            for phase in ("am", "se")}


def calibrate_file(
    volume_path: str,
    layers_path: str,
    composite_path: str,
    separator_path: str,
    thresholds_path: str,
    out_path: str,
    *,
    materials: dict[str, Any] | None,
    energy_kev: float | None,
    raw_path: str | None = None,
    reference: str = "auto",
    max_disagreement: float = 0.05,
    n_edge_planes: int = 6,
) -> dict[str, Any]:
    """The scan's calibration record (:func:`tomopress.segment.calibration.calibrate_scan`).

    Up to `n_edge_planes` whole slices spread over the separator rows are read from the volume
    for the air level and the blur (the sample's outer edge). The beam energy is the one the raw
    file records (:func:`tomopress.io.base.beam_facts`), else `energy_kev` (the config); with
    neither the theory is left out, with a warning in the record.
    """
    from tomopress.io.atomic import write_json_atomic
    from tomopress.io.base import beam_facts
    from tomopress.io.h5store import read_array_h5
    from tomopress.recon.volume import open_volume

    composite = read_array_h5(composite_path, "volume")[0]
    separator = read_array_h5(separator_path, "volume")[0]
    with open(thresholds_path) as fh:
        th = json.load(fh)
    with open(layers_path) as fh:
        z0, z1 = json.load(fh)["layers"]["separator"]
    with open_volume(volume_path) as fh:
        offset = int(fh.attrs["z_offset_rows"])
        margin = (z1 - z0) // 5  # away from the ends of the layer and of the reconstructed rows
        rows = np.unique(np.linspace(z0 + margin, z1 - 1 - margin,
                                     min(n_edge_planes, z1 - z0)).round().astype(int))
        edge_planes = np.stack([fh["volume"][r - offset] for r in rows])
    recorded = beam_facts(raw_path)["energy_kev"] if raw_path is not None else None
    energy_source = "raw file" if recorded is not None else "config"
    energy_kev = recorded if recorded is not None else energy_kev
    theory = theory_levels(materials, energy_kev)
    record = calibrate_scan(
        composite, separator, edge_planes, means=tuple(th["means"]),  # type: ignore[arg-type]
        noise_sigma=th["noise_sigma"],
        denoise_options={"method": th["denoiser"], "median_size_px": th["median_size_px"],
                         "nlm_h_factor": th["nlm_h_factor"],
                         "nlm_patch_distance_px": th["nlm_patch_distance_px"]},
        theory=theory, reference=reference, max_disagreement=max_disagreement)
    if theory is None:
        record["warnings"].append("no theory: the config names no materials or the beam "
                                  "energy is unknown (calibration.energy_kev)")
    record.update({"energy_kev": energy_kev, "energy_source": energy_source,
                   "materials": materials,
                   "edge_plane_rows": rows.tolist()})
    write_json_atomic(out_path, record)
    return record


def _check_labelling(labelling: str) -> None:
    if labelling not in SEGMENTERS:
        raise ValueError(f"unknown labelling {labelling!r}; valid choices are {', '.join(SEGMENTERS)}")


def relabeller(thresholds: dict[str, Any], calibration: dict[str, Any] | None,
               segment_options: Mapping[str, Any]) -> Callable[[np.ndarray], LabelVolume]:
    """Grey levels -> labels, exactly as the scan's layers were labelled.

    `segment_options` are the config's ``segment`` keys the workflow passes on (``labelling``,
    ``blur_aware`` and the keywords of :func:`~tomopress.segment.labelling.segment_volume`);
    `calibration` is needed only with ``blur_aware``. Used by the replica and the contact probe,
    which must label their renderings the way the layers were.
    """
    options = dict(segment_options)
    labelling = options.pop("labelling", "watershed")
    blur_aware = bool(options.pop("blur_aware", False))
    if blur_aware and calibration is None:
        raise ValueError("blur-aware labels need the scan's calibration record")

    def relabel(grey: np.ndarray) -> LabelVolume:
        return label_crop(grey, thresholds, labelling=labelling,
                          calibration=calibration if blur_aware else None, **options)[0]

    return relabel


def label_crop(
    volume: np.ndarray,
    thresholds: dict[str, Any],
    *,
    labelling: str = "watershed",
    calibration: dict[str, Any] | None = None,
    **labelling_options: Any,
) -> tuple[LabelVolume, dict[str, np.ndarray], dict[str, Any], str]:
    """Labels of one layer's grey levels, as :func:`segment_layer_file` makes them.

    Parameters
    ----------
    volume : ndarray, shape (Z, Y, X)
        Grey levels of the crop (cm⁻¹).
    thresholds : dict
        The scan's thresholds record (:func:`thresholds_file`).
    labelling : str
        ``"watershed"`` or ``"thresholds"``.
    calibration : dict, optional
        The scan's calibration record: SE and void are then decided against the predicted
        blur of AM (:func:`tomopress.segment.blur_aware.blur_aware_labels`).
    **labelling_options
        Keywords of :func:`~tomopress.segment.labelling.segment_volume`.

    Returns
    -------
    labels : ndarray of uint8
    extra : dict
        Datasets written beside the labels (``am_occupancy`` with blur-aware labels).
    blur_attrs : dict
        The blur-aware step's record (empty without it).
    method : str
        ``<level method>+<labelling>[+blur_aware]``.
    """
    _check_labelling(labelling)
    th = thresholds
    means = tuple(th["means"])
    if labelling == "thresholds":
        # midway thresholds of the record (multi-Otsu's own for method multiotsu)
        low, high = th["low"], th["high"]
        mid = 0.5 * (low + high)
        means = (2 * low - mid, mid, 2 * high - mid)
    denoised = np.empty(volume.shape, np.float32) if calibration is not None else None
    labels = segment_volume(
        volume,
        means=means,  # type: ignore[arg-type]
        method=labelling,
        denoiser=th["denoiser"],
        noise_sigma=th["noise_sigma"],
        median_size_px=th["median_size_px"],
        nlm_h_factor=th["nlm_h_factor"],
        nlm_patch_distance_px=th["nlm_patch_distance_px"],
        denoised_out=denoised,
        **labelling_options,
    )
    method = f"{th['method']}+{labelling}"
    extra: dict[str, np.ndarray] = {}
    blur_attrs: dict[str, Any] = {}
    if calibration is not None and np.mean(labels == AM) < MIN_AM_SHARE:
        log.info("%.2g %% AM, no AM blur to take out: first labels kept",
                 100 * np.mean(labels == AM))
    elif calibration is not None:
        lev = calibration["levels_per_cm"]
        labels, occupancy, info = blur_aware_labels(
            denoised, labels == AM, levels=(lev["void"], lev["se"], lev["am"]),
            mean_grey=float(np.mean(volume, dtype=np.float64)), noise_sigma=th["noise_sigma"],
            denoise_options={"method": th["denoiser"], "median_size_px": th["median_size_px"],
                             "nlm_h_factor": th["nlm_h_factor"],
                             "nlm_patch_distance_px": th["nlm_patch_distance_px"]},
            fallback_blur_sigma_px=calibration["blur_sigma_denoised_px"])
        del denoised
        extra["am_occupancy"] = np.rint(occupancy * 255).astype(np.uint8)
        method += "+blur_aware"
        blur_attrs = {"am_offset_px": info["am_offset_px"],
                      "attenuation_balanced": info["balanced"],
                      "am_edge_blur_sigma_px": info["am_edge_blur_sigma_px"],
                      "blur_sigma_applied_px": info["blur_sigma_px"]}
    return labels, extra, blur_attrs, method


def segment_layer_file(
    crop_path: str,
    thresholds_path: str,
    out_path: str,
    *,
    labelling: str = "watershed",
    calibration_path: str | None = None,
    qc_path: str | None = None,
    **labelling_options: Any,
) -> dict[str, Any]:
    """Label one layer crop with the scan's levels; write ``labels`` (uint8) to HDF5.

    With `calibration_path` (the scan's calibration record, :func:`calibrate_file`) the first
    labels only give the AM shape: SE and void are then decided against the predicted blur of
    AM with the calibrated levels and the measured blur of the denoised image
    (:func:`tomopress.segment.blur_aware.blur_aware_labels`), and the sub-voxel AM share of
    every voxel is written beside the labels (``am_occupancy``, uint8, 255 = all AM).

    Denoising follows the thresholds file (same denoiser and settings as the levels were
    measured with). With ``labelling="thresholds"`` the thresholds are applied as they are;
    ``"watershed"`` uses the class means (:func:`tomopress.segment.labelling.segment_volume`).
    `labelling_options` (``gradient_sigma_px``, ``marker_fraction``, ``se_max_gradient``, the
    rim and midpoint settings, ``min_object_voxels``, the block sizes, ``n_threads``) go to
    :func:`~tomopress.segment.labelling.segment_volume`, whose defaults apply to those left out.
    When `qc_path` is given, the orthogonal-slice overlay (:func:`tomopress.tables.qc.overlay_png`)
    is written there.

    Returns
    -------
    dict
        The thresholds record plus ``labelling`` and the label fractions.
    """
    from tomopress.io.h5store import provenance, read_array_h5, write_array_h5

    _check_labelling(labelling)  # before reading a crop of GBs (label_crop checks again)
    volume, attrs = read_array_h5(crop_path, "volume")
    with open(thresholds_path) as fh:
        th = json.load(fh)
    calibration = None
    if calibration_path is not None:
        with open(calibration_path) as fh:
            calibration = json.load(fh)
    labels, extra, blur_attrs, method = label_crop(volume, th, labelling=labelling,
                                                   calibration=calibration, **labelling_options)
    if calibration is not None and blur_attrs:
        blur_attrs["calibration_reference"] = calibration["reference"]
    write_array_h5(
        out_path,
        {"labels": labels, **extra},
        attrs={
            **blur_attrs,
            **{k: attrs[k] for k in ("voxel_size_um", "layer", "z_rows", "roi_xy")},
            "label_meaning": "0 void, 1 SE, 2 AM, 255 outside",
            "threshold_low": th["low"],
            "threshold_high": th["high"],
            "class_means": list(th["means"]),
            "method": method,
            "denoiser": th["denoiser"],
            **provenance(crop=crop_path, thresholds=thresholds_path,
                         calibration=calibration_path or ""),
        },
    )
    if qc_path is not None:
        from tomopress.tables.qc import overlay_png

        overlay_png(volume, labels, qc_path,
                    title=f"{attrs['layer']} layer, {method} ({th['denoiser']} denoising)",
                    voxel_size_um=float(attrs["voxel_size_um"]))
    n = labels.size
    return {**th, "labelling": labelling,
            "fractions": {name: int(np.count_nonzero(labels == v)) / n
                          for name, v in (("void", VOID), ("se", SE), ("am", AM))}}
