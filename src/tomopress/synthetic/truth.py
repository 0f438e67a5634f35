"""Ground truth of a synthetic scan: coarse labels, partial-volume fractions, layer statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from tomopress.metrics.anisotropy import directional_contact_fractions
from tomopress.metrics.contact import contact_metrics
from tomopress.synthetic.microstructure import Microstructure
from tomopress.synthetic.params import SyntheticParams
from tomopress.types import AM, OUTSIDE, SE, VOID, F32Array, LabelVolume

__all__ = ["coarsen_labels", "layer_truth"]

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


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
