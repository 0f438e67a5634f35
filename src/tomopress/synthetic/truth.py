"""Ground truth of a synthetic scan: coarse labels, partial-volume fractions, layer statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from tomopress.metrics.anisotropy import directional_contact_fractions
from tomopress.metrics.contact import contact_metrics
from tomopress.synthetic.microstructure import Microstructure
from tomopress.synthetic.params import SyntheticParams
from tomopress.types import AM, OUTSIDE, SE, VOID, F32Array, LabelVolume

__all__ = ["coarsen_labels", "layer_truth", "row_phase_counts", "fractions_in_rows"]

_ORDER = (VOID, SE, AM, OUTSIDE)  # tie-break order of the majority vote


def coarsen_labels(fine: LabelVolume, factor: int) -> tuple[LabelVolume, dict[str, F32Array]]:
    """Majority label and phase fractions of every ``factor**3`` block of a fine label volume.

    Parameters
    ----------
    fine : ndarray of uint8, shape (Z*f, Y*f, X*f)
        Fine labels (VOID, SE, AM, OUTSIDE).
    factor : int
        Block edge f in fine voxels; the shape must be divisible by it.

    Returns
    -------
    labels : ndarray of uint8, shape (Z, Y, X)
        The most frequent label of each block; ties go to the first of void, SE, AM, outside.
    fractions : dict of str to ndarray of float32, shape (Z, Y, X)
        ``void``, ``se``, ``am``: each phase's share of the block (air counts in none).

    Examples
    --------
    >>> f = np.zeros((2, 2, 2), np.uint8); f[0] = AM; f[1, 0] = SE; f[1, 1, 1] = AM
    >>> lab, fr = coarsen_labels(f, 2)
    >>> int(lab[0, 0, 0]), float(fr["am"][0, 0, 0]), float(fr["void"][0, 0, 0])
    (2, 0.625, 0.125)
    """
    if fine.ndim != 3 or any(n % factor for n in fine.shape):
        raise ValueError(f"shape {fine.shape} is not 3-D and divisible by {factor}")
    z, y, x = (n // factor for n in fine.shape)
    counts = np.stack([
        np.count_nonzero((fine == v).reshape(z, factor, y, factor, x, factor), axis=(1, 3, 5))
        for v in _ORDER]).astype(np.uint16)
    labels = np.asarray(_ORDER, dtype=np.uint8)[counts.argmax(axis=0)]
    scale = np.float32(1.0 / factor**3)
    fractions = {name: counts[i].astype(np.float32) * scale
                 for i, name in enumerate(("void", "se", "am"))}
    return labels, fractions


def layer_truth(micro: Microstructure, params: SyntheticParams) -> dict[str, dict[str, Any]]:
    """Row ranges, ROI, fine-grid phase fractions and contact metrics of both layers.

    The ROI is the centred ``roi_size_px`` square of the ``n_cols x n_cols`` reconstruction grid;
    each layer's analysis rows leave out ``transition_rows`` rows next to the interface.
    Contact metrics are measured on the fine labels of that region (voxel edge
    ``pixel_size_um / fine_factor``): ``contact_area_fraction`` (Crofton areas,
    :func:`tomopress.metrics.contact_metrics`), ``specific_contact_area_per_um``, the areas
    ``area_am_se_um2`` / ``area_am_void_um2`` / ``area_se_void_um2`` and the directional
    fractions ``contact_fraction_{x,y,z,xy}`` and ``contact_anisotropy_R``
    (:func:`tomopress.metrics.directional_contact_fractions`); None (JSON null) where the
    layer has no AM.
    """
    ff = params.fine_factor
    n = params.n_cols
    y0 = (n - params.roi_size_px) // 2
    roi = [y0, y0 + params.roi_size_px, y0, y0 + params.roi_size_px]
    sep, t = params.separator_rows, params.transition_rows
    ranges = {"composite": (sep + t, params.n_rows), "separator": (0, sep - t)}
    full = {"composite": (sep, params.n_rows), "separator": (0, sep)}
    target = {"composite": micro.targets["composite_porosity"],
              "separator": micro.targets["separator_porosity"]}
    out: dict[str, dict[str, Any]] = {}
    for layer, (z0, z1) in ranges.items():
        block = micro.labels[ff * z0:ff * z1, ff * roi[0]:ff * roi[1], ff * roi[2]:ff * roi[3]]
        counted = np.count_nonzero(block != OUTSIDE)
        vf = {name: np.count_nonzero(block == v) / counted
              for name, v in (("void", VOID), ("se", SE), ("am", AM))}
        f0, f1 = full[layer]
        whole = micro.labels[ff * f0:ff * f1]
        whole_porosity = np.count_nonzero(whole == VOID) / np.count_nonzero(whole != OUTSIDE)
        contact = contact_metrics(block, voxel_size_um=params.pixel_size_um / ff)
        directional = directional_contact_fractions(block)
        out[layer] = {
            "z_range_rows": [z0, z1],
            "full_z_range_rows": [f0, f1],
            "roi_xy_px": roi,
            "volume_fraction": vf,
            "porosity": vf["void"],
            "target_porosity": target[layer],
            "full_layer_porosity": whole_porosity,
            "am_solid_ratio": vf["am"] / (vf["am"] + vf["se"]),
            "contact_voxel_size_um": params.pixel_size_um / ff,
            **{k: _finite_or_none(contact[k]) for k in (
                "contact_area_fraction", "specific_contact_area_per_um", "area_am_se_um2",
                "area_am_void_um2", "area_se_void_um2")},
            **{k: _finite_or_none(v) for k, v in directional.items()},
        }
    return out


def row_phase_counts(micro: Microstructure, params: SyntheticParams) -> dict[str, list[int]]:
    """Fine-voxel counts of void, SE and AM per detector row, inside the truth ROI.

    Row r holds the ``fine_factor`` fine rows of detector row r, in the centred
    ``roi_size_px`` square that :func:`layer_truth` uses, so phase fractions over any row
    range (e.g. a crop found from the reconstruction) follow by summing
    (:func:`fractions_in_rows`).

    Returns
    -------
    dict of str to list of int
        ``void``, ``se``, ``am``: one count per detector row (``n_rows`` each).
    """
    ff = params.fine_factor
    y0 = (params.n_cols - params.roi_size_px) // 2
    y1 = y0 + params.roi_size_px
    block = micro.labels[:ff * params.n_rows, ff * y0:ff * y1, ff * y0:ff * y1]
    per_fine_row = {name: np.count_nonzero(block == v, axis=(1, 2))
                    for name, v in (("void", VOID), ("se", SE), ("am", AM))}
    return {name: [int(c) for c in counts.reshape(params.n_rows, ff).sum(axis=1)]
            for name, counts in per_fine_row.items()}


def fractions_in_rows(row_counts: dict[str, list[int]], z0: int, z1: int) -> dict[str, float]:
    """Phase volume fractions over detector rows ``[z0, z1)`` from :func:`row_phase_counts`.

    Air (outside the cell) counts in no phase, as in :func:`layer_truth`.

    Raises
    ------
    ValueError
        If the row range is empty, out of bounds or holds no phase voxel.

    Examples
    --------
    >>> counts = {"void": [4, 0, 2], "se": [4, 6, 2], "am": [0, 2, 4]}
    >>> fractions_in_rows(counts, 1, 3)
    {'void': 0.125, 'se': 0.5, 'am': 0.375}
    """
    n = len(row_counts["void"])
    if not 0 <= z0 < z1 <= n:
        raise ValueError(f"rows [{z0}, {z1}) are not a non-empty range inside [0, {n})")
    sums = {k: float(np.sum(row_counts[k][z0:z1])) for k in ("void", "se", "am")}
    total = sum(sums.values())
    if total == 0:
        raise ValueError(f"rows [{z0}, {z1}) hold no phase voxel")
    return {k: v / total for k, v in sums.items()}


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
