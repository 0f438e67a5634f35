"""360° scans: axis finding, stitching and reconstruction against analytic phantoms.

Truth: closed-form sinograms of discs (`tomopress.synthetic.phantoms2d`) recorded by a narrow
detector with the axis near one edge, compared with the same object recorded over a half turn
by a detector wide enough to see all of it.
"""

from __future__ import annotations

import numpy as np
import pytest

from tomopress.prep.halfacq import (
    axis_geometry,
    find_center_360,
    is_full_turn,
    pair_half_turns,
    shift_rows,
    stitch_half_acquisition,
)
from tomopress.recon.reconstruct import reconstruct_slices
from tomopress.synthetic.phantoms2d import disc, sinogram

# an object 2 x 60 px across, wider than the 100-column detector that records it; smooth
# profiles (1 - q²), as a detector's pixel integration and blur would make them
OBJECTS = [disc(v, x, y, r, smoothness=1.0) for v, x, y, r in (
    (1.0, 0.0, 0.0, 60.0), (2.0, 20.0, -10.0, 12.0), (-0.6, -25.0, 15.0, 9.0),
    (1.5, -30.0, -30.0, 6.0), (0.8, 40.0, 20.0, 5.0))]
FULL = np.linspace(0, 2 * np.pi, 400, endpoint=False)


def _scan(n_cols: int, center_px: float, theta=FULL, rows: int = 2) -> np.ndarray:
    sino = sinogram(OBJECTS, theta, n_cols=n_cols, center_px=center_px).astype(np.float32)
    return np.repeat(sino[:, None, :], rows, axis=1)


def test_full_turn_is_told_from_half_turn():
    assert is_full_turn(np.deg2rad(np.arange(0, 360, 0.5)))
    assert is_full_turn(np.deg2rad(np.linspace(0, 360, 721)))  # both ends included
    assert not is_full_turn(np.deg2rad(np.arange(0, 180, 0.5)))
    assert not is_full_turn(np.deg2rad(np.linspace(0, 180, 361)))


def test_pairs_are_measured_or_interpolated_at_theta_plus_pi():
    theta = np.linspace(0, 2 * np.pi, 9, endpoint=False)  # odd: no angle lies at θ + π
    sino = np.cos(theta)[:, None, None] * np.ones((1, 1, 3), np.float32)
    _, later, th = pair_half_turns(sino, theta)
    assert th.tolist() == pytest.approx(theta[:5].tolist())
    # θ + π halfway between two angles 40° apart: their mean, cos(θ + π) cos(20°); the last
    # one (340°) lies between 320° and the first projection again at 360°
    np.testing.assert_allclose(later[:, 0, 0], np.cos(th + np.pi) * np.cos(np.pi / 9),
                               atol=1e-6)
    even = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    _, later, _ = pair_half_turns(np.arange(8.0)[:, None, None], even)
    assert later.ravel().tolist() == [4.0, 5.0, 6.0, 7.0]  # measured: taken as they are


@pytest.mark.parametrize("shift", [0.3, -2.75])
def test_shift_rows_moves_a_smooth_row_exactly(shift):
    u = np.arange(64.0)
    row = np.exp(-0.5 * ((u - 30.0) / 3.0) ** 2)
    out = shift_rows(row[None, None, :], np.array([shift]))[0, 0]
    np.testing.assert_allclose(out, np.exp(-0.5 * ((u + shift - 30.0) / 3.0) ** 2), atol=1e-5)


@pytest.mark.parametrize(("n_cols", "center_px", "side"),
                         [(100, 86.35, "right"), (100, 12.8, "left"), (160, 82.9, "centre")])
def test_axis_is_found_to_a_twentieth_of_a_pixel_anywhere(n_cols, center_px, side):
    rng = np.random.default_rng(16602)
    sino = _scan(n_cols, center_px, rows=4)
    noisy = sino + rng.normal(0, 0.02 * sino.max(), sino.shape).astype(np.float32)
    for data in (sino, noisy):
        estimate = find_center_360(data, FULL)
        assert estimate.center_px == pytest.approx(center_px, abs=0.05)
        assert estimate.confidence > 0.8 and estimate.method == "360_pairs"
    assert axis_geometry(estimate.center_px, n_cols).side == side


def test_confidence_is_zero_for_noise():
    rng = np.random.default_rng(3)
    estimate = find_center_360(rng.normal(0, 1, (200, 4, 96)), FULL[::2])
    assert estimate.confidence < 0.05


def test_geometry_of_a_right_side_axis():
    geo = axis_geometry(86.35, 100)
    # mirrored half covers [2c - 99, 2c] = [73.7, 172.7]: integer columns 74..172
    assert (geo.scan_type, geo.side, geo.overlap_px, geo.stitched_cols) == (
        "360_offset", "right", 26, 173)
    assert geo.center_px == pytest.approx(86.35)
    left = axis_geometry(12.8, 100)
    # mirrored half covers [-73.4, 25.6]: integer columns -73..25, so the detector starts at 73
    assert (left.side, left.overlap_px, left.stitched_cols, left.first_col) == (
        "left", 26, 173, 73)
    assert left.center_px == pytest.approx(12.8 + 73)
    with pytest.raises(ValueError, match="outside the detector"):
        axis_geometry(100.5, 100)


@pytest.mark.parametrize(("n_cols", "center_px"), [(100, 86.35), (100, 12.8), (101, 86.0)])
def test_stitched_sinogram_is_the_wide_detector_half_turn(n_cols, center_px):
    stitched, theta, c_new = stitch_half_acquisition(_scan(n_cols, center_px), FULL,
                                                     center_px=center_px)
    assert stitched.shape == (200, 2, axis_geometry(center_px, n_cols).stitched_cols)
    wide = sinogram(OBJECTS, theta, n_cols=stitched.shape[2], center_px=c_new)
    scale = float(np.abs(wide).max())
    # the mirrored half is moved by a fraction of a pixel (Fourier interpolation): exact up to
    # the aliasing of the point-sampled profiles; no move at all when 2c is an integer
    error = np.abs(stitched - wide[:, None, :]).max() / scale
    assert error < (1e-6 if (2 * center_px) % 1 == 0 else 5e-3)


def test_stitched_reconstruction_equals_the_half_turn_one():
    """Offset axis, 100 columns, 26 overlapping: the reconstruction of the stitched sinogram
    against the half-turn scan of a 173-column detector (rms in the object, relative to the
    smallest contrast 0.6), with the axis found from the data."""
    n_cols, center_px = 100, 86.35
    estimate = find_center_360(_scan(n_cols, center_px), FULL)
    stitched, theta, c_new = stitch_half_acquisition(_scan(n_cols, center_px), FULL,
                                                     center_px=estimate.center_px)
    recon = reconstruct_slices(stitched, theta, center_px=c_new, pixel_size_um=1e4,
                               backend="gridding")[0]
    wide = sinogram(OBJECTS, theta, n_cols=173, center_px=center_px)[:, None, :]
    reference = reconstruct_slices(wide, theta, center_px=center_px, pixel_size_um=1e4,
                                   backend="gridding")[0]
    assert recon.shape == reference.shape == (173, 173)
    y, x = np.mgrid[:173, :173] - 86.0
    inside = np.hypot(x, y) < 58
    rms = float(np.sqrt(np.mean((recon - reference)[inside] ** 2)))
    assert rms / 0.6 < 0.01
