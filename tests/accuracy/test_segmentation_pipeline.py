"""Segmentation accuracy on synthetic scans passed through the pipeline (issue 4 targets).

Each scan is simulated at the demo's noise level (the demo's detector, counts, angles, blur,
rings, zingers, dead column; a smaller cell so the test runs in seconds), flat-fielded,
ring-filtered, reconstructed, cropped by the automatic layer finder and segmented with the
workflow's defaults. Truth: the coarse majority labels (Dice) and the fine labels (volume
fractions; contact-area fraction by Crofton at the fine voxel size) in the same rows and ROI.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tomopress.metrics import contact_metrics, volume_fractions
from tomopress.prep.flatfield import average_frames, flatfield_correct
from tomopress.prep.rings import remove_rings
from tomopress.recon.reconstruct import reconstruct_slices
from tomopress.segment.crop import centred_roi, layer_rows_from_volume
from tomopress.segment.labelling import segment_volume
from tomopress.segment.stage import levels_from_crops
from tomopress.synthetic.beamtime import SyntheticParams, simulate_projections
from tomopress.synthetic.truth import coarsen_labels
from tomopress.types import AM, SE, VOID

# the demo's physics (SyntheticParams defaults) on a smaller cell
PARAMS = dataclasses.replace(SyntheticParams(), n_rows=40, n_cols=112, separator_rows=12,
                             transition_rows=3, roi_size_px=68, center_offset_px=2.4)


def _pipeline(pressure_mpa: float, *, levels: str, labelling: str, denoiser: str) -> dict:
    p = PARAMS
    scan = simulate_projections(p, pressure_mpa=pressure_mpa, seed=7)
    sino, _ = flatfield_correct(scan.data, average_frames(scan.flats), average_frames(scan.darks),
                                zinger_threshold=0.3)
    sino = remove_rings(sino, method="sorting", size=5)
    vol = reconstruct_slices(sino, np.deg2rad(scan.theta_deg), center_px=p.center_px,
                             pixel_size_um=p.pixel_size_um, backend="gridding")
    y0, y1, x0, x1 = centred_roi(vol.shape[1:], p.roi_size_px)
    rows = layer_rows_from_volume(vol, (y0, y1, x0, x1), z_offset_rows=0,
                                  transition_rows=p.transition_rows)
    crops = {k: vol[a:b, y0:y1, x0:x1] for k, (a, b) in rows["layers"].items()}
    lv, sigma = levels_from_crops(crops["composite"], crops["separator"], method=levels,
                                  void_level=0.0, denoiser=denoiser)
    means = lv.means if labelling == "watershed" else (
        2 * lv.low - (lv.low + lv.high) / 2, (lv.low + lv.high) / 2,
        2 * lv.high - (lv.low + lv.high) / 2)
    labels = segment_volume(crops["composite"], means=means, method=labelling, denoiser=denoiser,
                            noise_sigma=sigma)
    z0, z1 = rows["layers"]["composite"]
    ff = p.fine_factor
    fine = scan.micro.labels[ff * z0:ff * z1, ff * y0:ff * y1, ff * x0:ff * x1]
    coarse, _ = coarsen_labels(fine, ff)
    return {"labels": labels, "coarse": coarse, "fine": fine, "rows": rows}


def _scores(r: dict) -> dict:
    labels, coarse, fine = r["labels"], r["coarse"], r["fine"]
    dice = {}
    for name, v in (("am", AM), ("se", SE), ("void", VOID)):
        a, b = labels == v, coarse == v
        dice[name] = 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))
    got, true = volume_fractions(labels), volume_fractions(fine)
    frac_err = max(abs(got[f"volume_fraction_{k}"] - true[f"volume_fraction_{k}"])
                   for k in ("void", "se", "am"))
    vox = PARAMS.pixel_size_um
    fc = contact_metrics(labels, voxel_size_um=vox)["contact_area_fraction"]
    fc_true = contact_metrics(fine, voxel_size_um=vox / PARAMS.fine_factor)["contact_area_fraction"]
    return {"dice": dice, "fraction_error_points": 100 * frac_err,
            "contact_error_points": 100 * (fc - fc_true), "fc": fc, "fc_true": fc_true}


@pytest.fixture(scope="module", params=[6.0, 100.0], ids=["6MPa", "100MPa"])
def refined(request):
    r = _pipeline(request.param, levels="gmm", labelling="watershed", denoiser="nl_means")
    return r, _scores(r)


def test_layers_are_found_where_simulated(refined):
    """The band between the layers holds the simulated interface and the sparse first
    particles (centres start half a radius below it), and the separator crop holds no AM."""
    r, _ = refined
    sep = PARAMS.separator_rows
    (c0, c1), (s0, s1) = r["rows"]["layers"]["composite"], r["rows"]["layers"]["separator"]
    b0, b1 = r["rows"]["transition_band_rows"]
    assert (s0, s1, c1) == (0, b0, PARAMS.n_rows) and c0 == b1
    assert s1 <= sep - PARAMS.transition_rows and c0 - s1 <= 2 * PARAMS.transition_rows + 10
    assert b0 <= sep < b1


def test_dice_per_class_meets_the_targets(refined):
    _, s = refined
    assert s["dice"]["am"] >= 0.95 and s["dice"]["se"] >= 0.90 and s["dice"]["void"] >= 0.85, s


def test_volume_fractions_within_1p5_points(refined):
    _, s = refined
    assert s["fraction_error_points"] <= 1.5, s


def test_contact_fraction_within_2_points_no_false_se_rim(refined):
    _, s = refined
    assert abs(s["contact_error_points"]) <= 2.0, s


def test_naive_thresholds_show_the_se_rim():
    """Control: multi-Otsu thresholds on the median-filtered crop inflate f_c by > 10 points."""
    r = _pipeline(6.0, levels="multiotsu", labelling="thresholds", denoiser="median")
    assert _scores(r)["contact_error_points"] > 10
