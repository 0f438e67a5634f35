"""Axis tilt: the centre measured at the top, middle and bottom of the rows, fitted, applied.

Truth: a scan written from closed-form sinograms (`tomopress.synthetic.phantoms2d`) whose axis
column moves linearly with the detector row, and the phantom's own pixel image.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from tomopress.prep.axis import (
    axis_columns,
    fit_tilt,
    half_turn_slab,
    row_centers,
    scan_axis,
    tilt_bands,
)
from tomopress.prep.center import center_file
from tomopress.prep.flatfield import flatfield_slab_file
from tomopress.recon.reconstruct import reconstruct_slab_file
from tomopress.synthetic.phantoms2d import disc, pixel_image, sinogram

N_ROWS, N_COLS, N_ANGLES = 48, 64, 180
OBJECTS = [disc(0.02, 0, 0, 26), disc(0.03, 8, -6, 7), disc(-0.015, -10, 5, 5),
           disc(0.04, -4, -14, 4), disc(0.02, 12, 10, 3)]  # per pixel (1 µm): 150-400 cm⁻¹


def _write_scan(path, centers_px, *, theta, n_cols=N_COLS, i0=30000.0, seed=5):
    """A DXchange scan of OBJECTS in every row, row r with its axis at centers_px[r]."""
    rng = np.random.default_rng(seed)
    p = np.stack([sinogram(OBJECTS, theta, n_cols=n_cols, center_px=c) for c in centers_px],
                 axis=1)
    with h5py.File(path, "w") as h5:
        h5["/exchange/data"] = rng.poisson(i0 * np.exp(-p)).astype(np.uint16)
        h5["/exchange/data_white"] = rng.poisson(i0, (5, len(centers_px), n_cols)).astype(np.uint16)
        h5["/exchange/data_dark"] = np.zeros((3, len(centers_px), n_cols), np.uint16)
        h5["/exchange/theta"] = np.rad2deg(theta)
        h5["/exchange/theta"].attrs["units"] = "degrees"
        h5["/measurement/instrument/detection_system/objective/resolution"] = 1.0
    return path


def test_bands_reach_from_top_to_bottom_around_the_middle():
    assert tilt_bands((0, 48), 8) == [(0, 8), (10, 18), (20, 28), (30, 38), (40, 48)]
    assert tilt_bands((0, 2048), 8)[::4] == [(0, 8), (1020, 1028), (2040, 2048)]
    assert len(tilt_bands((0, 2048), 8)) == 9
    assert tilt_bands((100, 120), 8) == [(106, 114)]


ROWS = np.array([3.5, 13.5, 23.5, 33.5, 43.5])
SCATTER = np.array([0.01, -0.02, 0.0, 0.02, -0.01])  # px, as good band centres scatter


def test_fit_recovers_a_line_and_decides_by_the_spread():
    line = 40.0 + 0.01 * (ROWS - 23.5) + SCATTER
    fit = fit_tilt(ROWS, line, np.ones(5), middle_index=2, recon_rows=(0, 48),
                   min_confidence=0.3, min_spread_px=0.25)
    assert fit.slope_px_per_row == pytest.approx(0.01, abs=0.001)
    assert fit.spread_px == pytest.approx(0.47, abs=0.05) and fit.applied
    assert fit.slope_se_px_per_row < 0.001
    small = fit_tilt(ROWS, line, np.ones(5), middle_index=2, recon_rows=(0, 48),
                     min_confidence=0.3, min_spread_px=0.5)
    assert not small.applied and small.center_px == line[2] and "px <= 0.5" in small.reason


def test_fit_needs_a_significant_slope_from_three_consistent_bands():
    # band centres scattering by 0.3 px, as on a noisy scan: a 0.4 px "spread" is not a tilt
    noisy = 40.0 + np.array([-0.3, 0.2, -0.2, 0.3, 0.1])  # slope 0.009 ± 0.008 px/row
    fit = fit_tilt(ROWS, noisy, np.ones(5), middle_index=2, recon_rows=(0, 48),
                   min_confidence=0.3)
    assert fit.spread_px > 0.25 and not fit.applied and "not significant" in fit.reason
    # of seven bands an unsure one and an outlier are left out; the five others give the line
    rows = np.arange(3.5, 70, 11.0)
    line = 40.0 + 0.02 * (rows - 36.5) + np.array([0.01, -0.02, 0.0, 0.02, -0.01, 0.0, 0.01])
    spoiled = line + np.array([3.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0])
    fit = fit_tilt(rows, spoiled, np.array([0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]),
                   middle_index=3, recon_rows=(0, 74), min_confidence=0.3)
    assert fit.applied and fit.slope_px_per_row == pytest.approx(0.02, abs=0.001)
    assert fit.center_px == pytest.approx(40.0, abs=0.02)  # the line's, not the outlier's
    few = fit_tilt(ROWS, 40.0 + 0.02 * (ROWS - 23.5), np.array([0.1, 0.9, 0.9, 0.2, 0.1]),
                   middle_index=2, recon_rows=(0, 48), min_confidence=0.3)
    assert not few.applied and "fewer than three" in few.reason


def test_row_centres_and_table_columns_of_a_record():
    record = {"center_px": 40.0, "scan_type": "180",
              "tilt": {"applied": True, "slope_px_per_row": -0.02, "reference_row": 23.5,
                       "spread_px": 0.94}}
    assert row_centers(record, (0, 2)).tolist() == pytest.approx([40.47, 40.45])
    assert row_centers({"center_px": 40.0}, (0, 2)).tolist() == [40.0, 40.0]
    cols = axis_columns(record)
    assert cols["axis_tilt_deg"] == pytest.approx(-np.degrees(np.arctan(0.02)))
    assert cols["center_tilt_corrected"] and cols["axis_overlap_px"] is None
    assert axis_columns({"center_px": 1.0})["axis_tilt_deg"] is None


def test_slab_rows_are_shifted_onto_the_reference_axis():
    theta = np.linspace(0, np.pi, 90, endpoint=False)
    smooth = [disc(o.value, o.center_x_px, o.center_y_px, o.semi_a_px, smoothness=2.0)
              for o in OBJECTS]
    centres = [30.0, 31.5, 29.3]
    sino = np.stack([sinogram(smooth, theta, n_cols=N_COLS, center_px=c) for c in centres], 1)
    record = {"center_px": 30.0, "tilt": {"applied": True, "slope_px_per_row": 1.5,
                                          "reference_row": 10.0}}
    sino[:, 2] = sinogram(smooth, theta, n_cols=N_COLS, center_px=33.0)  # row 12: 30 + 2 x 1.5
    out, angles, c = half_turn_slab(sino, theta, row_start=10, center=record)
    assert c == 30.0 and angles is not None
    target = sinogram(smooth, theta, n_cols=N_COLS, center_px=30.0)
    inner = slice(8, N_COLS - 8)  # the bridge beyond the edge is not data
    for row in range(3):
        np.testing.assert_allclose(out[:, row, inner], target[:, inner], atol=3e-3 * target.max())
    # a half-turn record without tilt leaves the slab as it is
    same, _, c = half_turn_slab(sino, theta, row_start=10, center={"center_px": 30.0})
    assert c == 30.0 and np.array_equal(same, sino.astype(np.float32))


def test_tilted_axis_is_measured_and_corrected(tmp_path):
    """Axis moving by 2 px over 48 rows (0.043 px per row, 2.4° tilt): the slope is found within
    0.002 px per row, and the correction brings the error of the end rows down to that of
    the middle (rms against the phantom image, cm⁻¹; contrast up to 400 cm⁻¹)."""
    theta = np.linspace(0, np.pi, N_ANGLES, endpoint=False)
    slope, middle = 2.0 / (N_ROWS - 1), (N_COLS - 1) / 2 + 1.3
    centres = middle + slope * (np.arange(N_ROWS) - (N_ROWS - 1) / 2)
    raw = _write_scan(tmp_path / "tilt.h5", centres, theta=theta)
    sino = tmp_path / "slab.h5"
    flatfield_slab_file(str(raw), str(sino), format="dxchange", reader_options={},
                        rows=(0, N_ROWS), average="mean", min_transmission=1e-4,
                        pixel_size_um=None)
    truth = pixel_image(OBJECTS, N_COLS) * 1e4  # per pixel of 1 µm -> per cm
    y, x = np.mgrid[:N_COLS, :N_COLS] - (N_COLS - 1) / 2
    inside = np.hypot(x, y) < 28
    errors = {}
    for spread_px in (0.25, 100.0):
        record_path = tmp_path / f"center_{spread_px}.json"
        center_file(str(raw), str(record_path), format="dxchange", reader_options={},
                    rows=(0, N_ROWS), n_rows=8, average="mean", min_transmission=1e-4,
                    override_px=None, tilt_min_spread_px=spread_px)
        record = json.loads(record_path.read_text())
        assert record["tilt"]["slope_px_per_row"] == pytest.approx(slope, abs=0.002)
        assert record["tilt"]["applied"] == (spread_px < 1)
        recon = tmp_path / f"recon_{spread_px}.h5"
        reconstruct_slab_file(str(sino), str(record_path), str(recon), backend="gridding",
                              filter_name="ramp", n_threads=1)
        with h5py.File(recon) as h5:
            volume = h5["volume"][()]
        errors[spread_px] = np.sqrt(np.mean((volume - truth)[:, inside] ** 2, axis=1))
    corrected, plain = errors[0.25], errors[100.0]
    ends = [0, N_ROWS - 1]
    # measured: corrected 16.4 / 16.3 / 16.2 cm⁻¹ (top, middle, bottom; noise and sampling),
    # uncorrected 69.6 / 16.3 / 68.4
    assert corrected[ends].max() < 1.15 * corrected[N_ROWS // 2]
    assert plain[ends].min() > 3 * corrected[ends].max()


def test_bands_measured_two_at_a_time_give_the_same_record(tmp_path):
    theta = np.linspace(0, np.pi, N_ANGLES, endpoint=False)
    centres = (N_COLS - 1) / 2 + 0.5 + 0.02 * (np.arange(N_ROWS) - (N_ROWS - 1) / 2)
    raw = _write_scan(tmp_path / "tilt.h5", centres, theta=theta)
    records = []
    for n_threads in (1, 2):
        path = tmp_path / f"center_{n_threads}.json"
        center_file(str(raw), str(path), format="dxchange", reader_options={}, rows=(0, N_ROWS),
                    n_rows=8, average="mean", min_transmission=1e-4, override_px=None,
                    tilt_min_spread_px=0.25, n_threads=n_threads)
        records.append(json.loads(path.read_text()))
    assert len(records[0]["tilt"]["band_rows"]) == 5 and records[0] == records[1]


def test_scan_axis_reports_the_scan_type(tmp_path):
    half = _write_scan(tmp_path / "half.h5", [32.0] * 4,
                       theta=np.linspace(0, np.pi, 90, endpoint=False))
    assert scan_axis(str(half)) == {"scan_type": "180"}
    # a 48-column detector with the axis 8.75 px from its right edge: the object (radius 26)
    # is wider than the detector; the half turns overlap on columns 30..47
    full = _write_scan(tmp_path / "full.h5", [38.25] * 4, n_cols=48,
                       theta=np.linspace(0, 2 * np.pi, 360, endpoint=False))
    info = scan_axis(str(full), n_rows=4)
    assert (info["scan_type"], info["axis_side"], info["overlap_px"]) == ("360_offset", "right",
                                                                          18)
    assert info["axis_center_px"] == pytest.approx(38.25, abs=0.05)
    # with the axis 4.5 px from the edge the overlap (8 columns) is below min_overlap_px (16):
    # the search range ends before the axis, and the confidence says so
    narrow = _write_scan(tmp_path / "narrow.h5", [35.5] * 4, n_cols=40,
                         theta=np.linspace(0, 2 * np.pi, 360, endpoint=False))
    assert scan_axis(str(narrow), n_rows=4)["axis_confidence"] == 0.0
