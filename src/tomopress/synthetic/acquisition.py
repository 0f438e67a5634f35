"""Acquisition geometry of a synthetic scan: a half turn, or a full-turn half acquisition.

By default (``SyntheticParams.half_acquisition_overlap_px = 0``) a synthetic scan is a half
turn (``n_angles`` projections over [0°, 180°)) on the full ``n_cols``-column detector.

With ``half_acquisition_overlap_px = o > 0`` it is a full turn (``2 n_angles`` projections over
[0°, 360°)) on a detector that is cut on the right: it keeps the ``W = round(c + o / 2)``
columns of the full detector left of the axis ``c = center_px`` plus about ``o / 2`` columns beyond
it, so that the projections at θ and θ + 180° overlap on about ``o`` columns around the axis
(extended field of view: the axis near the detector's right edge).  The sample, the
microstructure and the reconstruction grid are the ones of the half-turn scan, and the
simulated projections are those of the full detector, cut to the first W columns after the
detector response (a detector's pixels are independent, so this is the same as a narrower
detector).  The stitched half-turn sinogram is ``floor(2c) + 1`` columns wide, so the two
acquisitions of one cell reconstruct to the same image on grids that differ by a few
columns around the same axis.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tomopress.synthetic.params import SyntheticParams
from tomopress.types import F64Array

__all__ = ["is_half_acquisition", "acquisition_angles_deg", "detector_columns",
           "detector_shape", "cut_to_detector", "acquisition_truth"]


def is_half_acquisition(params: SyntheticParams) -> bool:
    """True for a full-turn half acquisition (``half_acquisition_overlap_px > 0``)."""
    return int(getattr(params, "half_acquisition_overlap_px", 0)) > 0


def acquisition_angles_deg(params: SyntheticParams) -> F64Array:
    """Projection angles in degrees: [0, 180) in n_angles steps, or [0, 360) in 2 n_angles.

    Examples
    --------
    >>> acquisition_angles_deg(SyntheticParams(n_angles=4)).tolist()
    [0.0, 45.0, 90.0, 135.0]
    >>> acquisition_angles_deg(SyntheticParams(n_angles=2, half_acquisition_overlap_px=8)).tolist()
    [0.0, 90.0, 180.0, 270.0]
    """
    if is_half_acquisition(params):
        return np.arange(2 * params.n_angles) * (360.0 / (2 * params.n_angles))
    return np.arange(params.n_angles) * (180.0 / params.n_angles)


def detector_columns(params: SyntheticParams) -> int:
    """Columns the detector keeps, counted from the full detector's left edge.

    Raises
    ------
    ValueError
        If the overlap does not fit: fewer than 4 columns, or the cut detector would not reach
        past the sample's shadow on the left or would keep more than the full detector.

    Examples
    --------
    >>> detector_columns(SyntheticParams()), detector_columns(SyntheticParams(half_acquisition_overlap_px=20))
    (160, 93)
    """
    overlap = int(getattr(params, "half_acquisition_overlap_px", 0))
    if overlap <= 0:
        return params.n_cols
    width = round(params.center_px + overlap / 2)
    if overlap < 4 or width > params.n_cols - 1:
        raise ValueError(
            f"SyntheticParams.half_acquisition_overlap_px: {overlap} columns must be >= 4 and "
            f"leave the axis ({params.center_px:.1f} px) inside the {params.n_cols}-column "
            "detector with the overlap")
    return width


def detector_shape(params: SyntheticParams) -> dict[str, int]:
    """``n_projections``, ``n_rows`` and ``n_cols`` of the recorded scan.

    Examples
    --------
    >>> detector_shape(SyntheticParams(half_acquisition_overlap_px=20))
    {'n_projections': 512, 'n_rows': 72, 'n_cols': 93}
    """
    return {"n_projections": int(acquisition_angles_deg(params).size),
            "n_rows": params.n_rows, "n_cols": detector_columns(params)}


def cut_to_detector(scan: Any, params: SyntheticParams) -> Any:
    """A `tomopress.synthetic.beamtime.SimulatedScan` cut to the detector's columns.

    Projections, flats, darks and ideal line integrals keep the columns ``[0, W)``; defects in
    the columns cut away are dropped from the record.  A half-turn scan comes back as it is.
    """
    if not is_half_acquisition(params):
        return scan
    width = detector_columns(params)
    defects = dict(scan.defects)
    ring_pairs = [(c, e) for c, e in zip(defects["ring_columns"], defects["ring_gain_errors"])
                  if c < width]
    defects["ring_columns"] = [c for c, _ in ring_pairs]
    defects["ring_gain_errors"] = [e for _, e in ring_pairs]
    defects["dead_columns"] = [c for c in defects["dead_columns"] if c < width]
    defects["zingers"] = [z for z in defects["zingers"] if z[2] < width]
    return dataclasses.replace(
        scan,
        data=np.ascontiguousarray(scan.data[:, :, :width]),
        flats=np.ascontiguousarray(scan.flats[:, :, :width]),
        darks=np.ascontiguousarray(scan.darks[:, :, :width]),
        ideal_line_integrals=np.ascontiguousarray(scan.ideal_line_integrals[:, :, :width]),
        defects=defects,
    )


def acquisition_truth(params: SyntheticParams) -> dict[str, Any]:
    """Truth-record entries of a half acquisition: detector shape, angles, scan type, overlap
    and stitched width (empty for a half turn, whose record already has them).

    Examples
    --------
    >>> t = acquisition_truth(SyntheticParams(half_acquisition_overlap_px=20))
    >>> t["scan_type"], t["theta_deg_range"], t["overlap_px"], t["stitched_cols"]
    ('360_offset', [0.0, 360.0], 19, 166)
    """
    if not is_half_acquisition(params):
        return {}
    shape = detector_shape(params)
    record: dict[str, Any] = {
        "detector_shape": [shape["n_rows"], shape["n_cols"]],
        "n_angles": shape["n_projections"],
        "theta_deg_range": [0.0, 360.0],
        "scan_type": "360_offset",
    }
    c, width = params.center_px, shape["n_cols"]
    record["overlap_px"] = int(width - 1 - int(np.ceil(2 * c - (width - 1) - 1e-6)) + 1)
    record["stitched_cols"] = int(np.floor(2 * c + 1e-6)) + 1
    return record
