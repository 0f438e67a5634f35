"""All scalar metrics of one segmented layer, as one flat record."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from tomopress.metrics.anisotropy import contact_orientation, directional_contact_fractions
from tomopress.metrics.anisotropy import tile_voxels as anisotropy_tile_voxels
from tomopress.metrics.contact import contact_metrics
from tomopress.metrics.fractions import phase_profiles_z
from tomopress.metrics.interfaces import PairCounts, crofton_tile_pair_counts
from tomopress.metrics.partial_volume import pv_fractions, pv_profiles_z
from tomopress.metrics.summary import FAMILIES, _absent_phase_reasons, summary_metrics
from tomopress.types import AM, VOID, LabelVolume

__all__ = [
    "contact_tiles",
    "contact_uncertainty",
    "grey_level_record",
    "layer_metrics",
    "layer_metrics_file",
    "orientation_record",
    "replica_shifts",
]

#: label-based values kept under ``<key>_labels`` when the grey-level estimate takes the key
PV_KEYS = ("volume_fraction_void", "volume_fraction_se", "volume_fraction_am", "porosity",
           "am_solid_ratio")
#: contact keys whose standard error over lateral tiles is reported as ``<key>_uncertainty``
CONTACT_KEYS = ("contact_area_fraction", "contact_fraction_z", "contact_fraction_xy",
                "contact_anisotropy_R")
#: label metrics measured again on the replica scan (:mod:`tomopress.segment.replica`)
REPLICA_KEYS = ("volume_fraction_void", "volume_fraction_se", "volume_fraction_am",
                *CONTACT_KEYS, "tau_factor")


def layer_metrics(
    labels: LabelVolume,
    *,
    voxel_size_um: float,
    details: dict[str, Any] | None = None,
    tortuosity: bool = True,
    diffusion: Mapping[str, Any] | None = None,
    pair_counts: PairCounts | None = None,
) -> dict[str, Any]:
    """Scalar metrics of one layer's label volume, with units in the key names.

    Every family of :data:`tomopress.metrics.summary.FAMILIES`; families whose phase is
    absent come out as None with a ``<family>_null_reason``. Per-item arrays (tortuosity per
    outlet path, particles) go to `details` when given. ``tortuosity=False`` skips the two
    costly transport families (geometric tortuosity and diffusion). `diffusion` holds the
    keywords of :class:`tomopress.metrics.summary.DiffusionOptions` (budget, convention);
    `pair_counts`, the Crofton pair counts of `labels` when already made.

    Examples
    --------
    >>> m = layer_metrics(np.zeros((2, 2, 2), dtype=np.uint8), voxel_size_um=0.5)
    >>> m["porosity"], m["region_volume_um3"]
    (1.0, 1.0)
    """
    skipped = set() if tortuosity else {"tortuosity", "diffusion"}
    record = summary_metrics(
        labels,
        voxel_size_um=voxel_size_um,
        details=details,
        only=[name for name in FAMILIES if name not in skipped],
        diffusion=diffusion,
        pair_counts=pair_counts,
    )
    record.pop("shape_zyx")
    nz, ny, nx = labels.shape
    return {
        **record,
        "region_z_um": nz * voxel_size_um,
        "region_y_um": ny * voxel_size_um,
        "region_x_um": nx * voxel_size_um,
    }


#: voxels of marching-cubes tiles meshed per layer (12 of the 64 tiles of a 1024² x 100 crop);
#: every tile below that, i.e. the whole layer
ORIENTATION_MAX_VOXELS = 12 << 21


def orientation_record(labels: LabelVolume, *, voxel_size_um: float) -> dict[str, Any]:
    """Fabric indices (scalars) and the f_c(u) coverage per |n_z| bin (lists) of one layer.

    Meshes about :data:`ORIENTATION_MAX_VOXELS` voxels in tiles spread over the layer (the
    whole mesh costs ~133 s per 10⁸ voxels); ``sampled_voxel_fraction`` says how much.
    """
    max_tiles = max(1, ORIENTATION_MAX_VOXELS // anisotropy_tile_voxels())
    result = contact_orientation(labels, voxel_size_um=voxel_size_um, max_tiles=max_tiles)
    return {k: (v.tolist() if isinstance(v, np.ndarray) else float(v)) for k, v in result.items()}


def contact_uncertainty(labels: LabelVolume, *, voxel_size_um: float, n_tiles_xy: int = 2,
                        tile_counts: list[PairCounts] | None = None) -> dict[str, float]:
    """Standard errors of f_c, f_z, f_xy and R from ``n_tiles_xy²`` lateral tiles.

    Each tile's value is computed on its own and the standard error of their mean taken
    (NaN with fewer than two tiles holding AM contact). `tile_counts`: the Crofton pair
    counts of the tiles of :func:`contact_tiles` when already made (else one pass counts
    them all).
    """
    tiles = contact_tiles(labels.shape, n_tiles_xy)
    if tile_counts is None:
        tile_counts = crofton_tile_pair_counts(labels, tiles)[1]
    elif len(tile_counts) != len(tiles):
        raise ValueError(f"{len(tile_counts)} tile counts for {len(tiles)} tiles")
    values: dict[str, list[float]] = {k: [] for k in CONTACT_KEYS}
    for (ys, xs), counts in zip(tiles, tile_counts):
        tile = labels[:, ys, xs]
        if not (np.any(tile == AM) and tile.shape[1] > 2 and tile.shape[2] > 2):
            continue
        rec = {**contact_metrics(tile, voxel_size_um=voxel_size_um, pair_counts=counts),
               **directional_contact_fractions(tile, pair_counts=counts)}
        for k in CONTACT_KEYS:
            if rec.get(k) is not None and np.isfinite(rec[k]):
                values[k].append(float(rec[k]))
    return {f"{k}_uncertainty": (float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1
                                 else float("nan")) for k, v in values.items()}


def contact_tiles(shape: tuple[int, ...], n_tiles_xy: int = 2) -> list[tuple[slice, slice]]:
    """(y, x) slices of the ``n_tiles_xy²`` lateral tiles of :func:`contact_uncertainty`.

    Examples
    --------
    >>> contact_tiles((4, 5, 4))
    [(slice(0, 3, None), slice(0, 2, None)), (slice(0, 3, None), slice(2, 4, None)), \
(slice(3, 5, None), slice(0, 2, None)), (slice(3, 5, None), slice(2, 4, None))]
    """
    ys = np.array_split(np.arange(shape[1]), n_tiles_xy)
    xs = np.array_split(np.arange(shape[2]), n_tiles_xy)
    return [(slice(int(y[0]), int(y[-1]) + 1), slice(int(x[0]), int(x[-1]) + 1))
            for y in ys for x in xs]


def grey_level_record(grey: np.ndarray, am_occupancy: np.ndarray, labels: LabelVolume, *,
                      calibration: dict[str, Any],
                      am_share_uncertainty: float = 0.0) -> dict[str, Any]:
    """Partial-volume fractions (the best estimates) and the resolution warning of one layer.

    ``voids_below_resolution`` is True when the labels resolve less than half of the void the
    grey levels hold (and that void is above 0.5 %): the hard-label topology of the void
    (connectivity, thickness) then misses most of it. `am_share_uncertainty`: a standard
    uncertainty of the AM share (the replica's shift) carried into every fraction.
    """
    pv = pv_fractions(grey, am_occupancy, labels, levels=calibration["levels_per_cm"],
                      level_uncertainty=calibration["uncertainty_per_cm"],
                      am_share_uncertainty=am_share_uncertainty)
    labelled_void = float(np.mean(labels == VOID))
    pv["voids_below_resolution"] = bool(pv["porosity"] > 0.005
                                        and labelled_void < 0.5 * pv["porosity"])
    pv["calibration_reference"] = calibration["reference"]
    return pv


def replica_shifts(
    labels: LabelVolume,
    replica: LabelVolume,
    *,
    voxel_size_um: float,
    tortuosity: bool = True,
    diffusion: Mapping[str, Any] | None = None,
) -> dict[str, float | None]:
    """How far a re-simulation of the scan moves each label metric (replica minus labels).

    Parameters
    ----------
    labels, replica : ndarray of uint8, shape (Z, Y, X)
        The layer's labels (or a window of them) and the labels of its replica scan
        (:func:`tomopress.segment.replica.replica_labels`) on the same voxels.
    voxel_size_um : float
    tortuosity : bool
        Also solve the tortuosity factor on both (``diffusion``: its options).

    Returns
    -------
    dict
        ``<key>`` -> value on the replica minus value on the labels, for every key of
        :data:`REPLICA_KEYS` (the tortuosity factor as a ratio minus one); None where either
        is null.
    """
    families = ["fractions", "contact", "anisotropy", *(["diffusion"] if tortuosity else [])]
    ours, theirs = (summary_metrics(v, voxel_size_um=voxel_size_um, only=families,
                                    diffusion=diffusion) for v in (labels, replica))
    out: dict[str, float | None] = {}
    for key in REPLICA_KEYS:
        a, b = ours.get(key), theirs.get(key)
        if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
            out[key] = None
        elif key == "tau_factor":
            out[key] = b / a - 1.0 if a > 0 else None
        else:
            out[key] = b - a
    return out


def _replica_record(labels: LabelVolume, *, voxel_size_um: float, thresholds: dict[str, Any],
                    calibration: dict[str, Any], segment_options: Mapping[str, Any],
                    tortuosity: bool, diffusion: Mapping[str, Any] | None) -> dict[str, Any]:
    """Shifts of the label metrics on a replica of the layer's centred window."""
    from tomopress.segment.replica import replica_labels, replica_window
    from tomopress.segment.stage import relabeller

    window = replica_window(labels.shape)
    ours = labels[window]
    replica = replica_labels(ours, levels=tuple(thresholds["means"]),  # type: ignore[arg-type]
                             blur_sigma_px=float(calibration["blur_sigma_px"]),
                             noise_sigma=float(thresholds["noise_sigma"]),
                             relabel=relabeller(thresholds, calibration, segment_options))
    shifts = replica_shifts(ours, replica, voxel_size_um=voxel_size_um, tortuosity=tortuosity,
                            diffusion=diffusion)
    return {"replica_window_voxels": int(ours.size),
            **{f"replica_shift_{k}": v for k, v in shifts.items()}}


def _with_replica_shift(record: dict[str, Any]) -> None:
    """Add each replica shift in quadrature to its metric's uncertainty (in place)."""
    for key in CONTACT_KEYS:
        shift = record.get(f"replica_shift_{key}")
        if shift is not None and record.get(f"{key}_uncertainty") is not None:
            record[f"{key}_uncertainty"] = float(np.hypot(record[f"{key}_uncertainty"], shift))
    tau, rel = record.get("tau_factor"), record.get("replica_shift_tau_factor")
    if tau is not None and rel is not None and math.isfinite(tau):
        record["tau_factor_uncertainty"] = float(np.hypot(record.get("tau_factor_se") or 0.0,
                                                          tau * rel))


def layer_metrics_file(
    labels_path: str,
    out_path: str,
    *,
    scan_id: str,
    sample: str,
    pressure_mpa: float,
    crop_path: str | None = None,
    calibration_path: str | None = None,
    orientation: bool = True,
    tortuosity: bool = True,
    diffusion: Mapping[str, Any] | None = None,
    thresholds_path: str | None = None,
    segment_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Metrics of one segmented layer file, with the scan's identifiers, written as JSON.

    With `orientation`, the mesh-based orientation analysis (on sampled tiles, see
    :func:`orientation_record`) adds the fabric indices and ``orientation_sampled_fraction`` to
    the record and the binned coverage under the key ``orientation``.

    With the layer's grey-level crop and the scan's calibration (and labels written with the
    sub-voxel AM occupancy), the fractions and the porosity are the partial-volume estimates
    (:func:`grey_level_record`); the label counts stay under ``<key>_labels``. Every headline
    fraction and contact value gets a ``<key>_uncertainty`` (standard uncertainty).

    With the scan's thresholds record and `segment_options` (the config's ``segment`` keys:
    ``labelling``, ``blur_aware`` and the keywords of
    :func:`~tomopress.segment.labelling.segment_volume`) as well, a replica of the layer's
    centred window is rendered from the labels with the scan's levels, blur and noise and
    labelled the same way (:mod:`tomopress.segment.replica`): ``replica_shift_<key>`` is how far
    that moves each label metric (:func:`replica_shifts`), and it is added in quadrature to the
    metric's uncertainty (``tau_factor_uncertainty``: the tile standard error and the shift; the
    AM share's shift goes through the partial-volume fractions).

    `diffusion`: keywords of :class:`tomopress.metrics.summary.DiffusionOptions` (the config's
    ``metrics.diffusion``).
    """
    from tomopress.io.atomic import write_json_atomic
    from tomopress.io.h5store import read_array_h5

    labels, attrs = read_array_h5(labels_path, "labels")
    voxel_size_um = float(attrs["voxel_size_um"])
    details: dict[str, Any] = {}
    # one pass of Crofton pair counts serves the contact and anisotropy families and the
    # contact tiles of the uncertainties
    # (only when those families run: the phases they need are present)
    needed = {*FAMILIES["contact"][1], *FAMILIES["anisotropy"][1]}
    pair_counts = tile_counts = None
    if not needed & set(_absent_phase_reasons(labels)):
        pair_counts, tile_counts = crofton_tile_pair_counts(labels, contact_tiles(labels.shape))
    record = {
        "scan_id": scan_id,
        "sample": sample,
        "pressure_mpa": float(pressure_mpa),
        "layer": attrs["layer"],
        "z_start_row": int(attrs["z_rows"][0]),
        "z_stop_row": int(attrs["z_rows"][1]),
        "threshold_low_per_cm": float(attrs["threshold_low"]),
        "threshold_high_per_cm": float(attrs["threshold_high"]),
        "segmentation_method": attrs["method"],
        **layer_metrics(
            labels,
            voxel_size_um=voxel_size_um,
            details=details,
            tortuosity=tortuosity,
            diffusion=diffusion,
            pair_counts=pair_counts,
        ),
    }
    record.update(details)
    record["profiles"] = phase_profiles_z(labels, voxel_size_um=voxel_size_um)
    if record.get("contact_area_fraction") is not None:
        record.update(contact_uncertainty(labels, voxel_size_um=voxel_size_um,
                                          tile_counts=tile_counts))
    calibration = None
    if calibration_path is not None:
        with open(calibration_path) as fh:
            calibration = json.load(fh)
    if calibration is not None and thresholds_path is not None and segment_options is not None:
        with open(thresholds_path) as fh:
            thresholds = json.load(fh)
        record.update(_replica_record(labels, voxel_size_um=voxel_size_um, thresholds=thresholds,
                                      calibration=calibration, segment_options=segment_options,
                                      tortuosity=tortuosity, diffusion=diffusion))
        _with_replica_shift(record)
    if crop_path is not None and calibration is not None:
        grey = read_array_h5(crop_path, "volume")[0]
        occupancy = _am_occupancy(labels_path, labels)
        for key in PV_KEYS:
            record[f"{key}_labels"] = record.get(key)
        am_shift = record.get("replica_shift_volume_fraction_am")
        record.update(grey_level_record(grey, occupancy, labels, calibration=calibration,
                                        am_share_uncertainty=abs(am_shift or 0.0)))
        profiles = record["profiles"]
        for phase in ("void", "se", "am"):
            profiles[f"volume_fraction_{phase}_labels"] = profiles[f"volume_fraction_{phase}"]
        profiles.update(pv_profiles_z(grey, occupancy, labels,
                                      levels=calibration["levels_per_cm"]))
    if orientation:
        oriented = orientation_record(labels, voxel_size_um=voxel_size_um)
        record.update({k: v for k, v in oriented.items() if k.startswith("fabric_A_z_")})
        record["orientation_sampled_fraction"] = oriented["sampled_voxel_fraction"]
        record["orientation"] = {k: v for k, v in oriented.items() if not k.startswith("fabric_")}
    write_json_atomic(out_path, record)
    return record


def _am_occupancy(labels_path: str, labels: LabelVolume) -> np.ndarray:
    """The sub-voxel AM share written beside the labels, else the AM labels themselves."""
    import h5py

    with h5py.File(labels_path, "r") as fh:
        if "am_occupancy" in fh:
            return fh["am_occupancy"][()].astype(np.float32) / np.float32(255)
    return (labels == AM).astype(np.float32)
