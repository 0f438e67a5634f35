"""The realistic cell of the synthetic beamtime (tomopress.synthetic.cell)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tomopress.synthetic.beamtime import SyntheticParams, simulate_projections, simulate_scan
from tomopress.synthetic.cell import (
    cell_geometry,
    cell_materials,
    chord_length_px,
    material_optics,
    realistic_transmission,
)
from tomopress.types import OUTSIDE

CELL = SyntheticParams(realistic_cell=True, n_rows=40, n_cols=48, n_angles=24, separator_rows=6,
                       transition_rows=1, roi_size_px=24, center_offset_px=1.3, n_flats=3,
                       n_darks=3, n_ring_columns=1, n_dead_columns=0, n_zingers=0,
                       cell_top_rod_rows=4, cell_foil_rows=4, cell_bottom_gap_rows=2,
                       cell_bottom_rod_rows=4, sample_width_frac=1.1, tube_outer_frac=1.4,
                       particle_median_diameter_um=5.0)
FLAT = dataclasses.replace(CELL, propagation_distance_mm=0.0)


def test_optics_of_the_papers_materials_at_20_kev():
    """xraydb against the values the project and the paper use: NCM ~80 cm⁻¹, LGPS ~21 cm⁻¹;
    δ/β about 60 (NCM) and 100 (LGPS), the reason one Paganin δ/β cannot suit both."""
    ncm = material_optics("LiNi0.333Mn0.333Co0.333O2", 4.7, 20.0)
    lgps = material_optics("Li10GeP2S12", 2.04, 20.0)
    assert 74 < ncm["mu_per_cm"] < 84 and 19 < lgps["mu_per_cm"] < 23
    assert 50 < ncm["delta_over_beta"] < 75 and 90 < lgps["delta_over_beta"] < 130
    # δ ∝ electron density: NCM (4.7 g/cm³) about 2.3x LGPS (2.04 g/cm³)
    assert ncm["delta"] / lgps["delta"] == pytest.approx(2.27, rel=0.05)


def test_chord_length():
    assert chord_length_px([0.0, 4.0, 5.0, 7.0], 5.0) == pytest.approx([10.0, 6.0, 0.0, 0.0])


@pytest.fixture(scope="module")
def flat_cell():
    theta = np.deg2rad(np.arange(CELL.n_angles) * 180.0 / CELL.n_angles)
    return realistic_transmission(FLAT, 25.0, theta)


def test_rows_of_rods_foil_gap_and_tube_without_propagation(flat_cell):
    """At z = 0: rods opaque, foil and the air gap (tube only) as Beer-Lambert on the analytic
    chords, and every detector column behind the sample (truncated projections)."""
    _, trans, info = flat_cell
    geo = cell_geometry(FLAT)
    mats = cell_materials(FLAT)
    cm_per_px = FLAT.pixel_size_um * 1e-4
    s = np.arange(FLAT.n_cols) - FLAT.center_px
    disc = chord_length_px(s, geo.sample_radius_px)
    tube = chord_length_px(s, geo.tube_outer_radius_px) - disc
    (r0, r1), (b0, _) = geo.rod_rows
    for rod in (trans[:, r0:r1], trans[:, b0:]):  # shortest chords at the detector's ends
        assert np.median(rod) < 1e-4 and rod.max() < 5e-3
    gap = info["geometry"]["gap_rows"][0]
    p_gap = -np.log(trans[:, gap])  # each detector pixel averages 2 fine sub-columns
    np.testing.assert_allclose(p_gap.mean(0), tube * mats["tube"]["mu_per_cm"] * cm_per_px,
                               rtol=0.02, atol=2e-4)
    f0 = geo.foil_rows[0] + 1
    expected = (disc * mats["foil"]["mu_per_cm"] + tube * mats["tube"]["mu_per_cm"]) * cm_per_px
    np.testing.assert_allclose(-np.log(trans[:, f0]).mean(0), expected, rtol=0.02)
    sep_row = geo.stack_rows[0] + 2
    assert -np.log(trans[:, sep_row, [0, -1]]).min() > 0.25 * -np.log(trans[:, sep_row]).max()


def test_propagation_adds_fringes_but_keeps_the_flux(flat_cell):
    theta = np.deg2rad(np.arange(CELL.n_angles) * 180.0 / CELL.n_angles)
    _, near, _ = flat_cell
    _, far, _ = realistic_transmission(CELL, 25.0, theta)
    top, stop = cell_geometry(CELL).stack_rows
    rows = slice(top + 2, stop - 2)  # fringes of the foil and gap edges move flux across rows
    assert far[:, rows, 4:-4].mean() == pytest.approx(near[:, rows, 4:-4].mean(), rel=0.01)
    # edge enhancement: the row-wise roughness grows with distance
    rough = [np.abs(np.diff(t[:, rows], axis=-1)).mean() for t in (near, far)]
    assert rough[1] > 1.3 * rough[0]


def test_realistic_truth_is_in_detector_rows(tmp_path):
    truth = simulate_scan(tmp_path / "cell.h5", pressure_mpa=25.0, params=CELL, seed=1)
    geo = cell_geometry(CELL)
    top, stop = geo.stack_rows
    sep, comp = truth["layers"]["separator"], truth["layers"]["composite"]
    assert sep["full_z_range_rows"] == [top, top + CELL.separator_rows]
    assert comp["full_z_range_rows"] == [top + CELL.separator_rows, stop]
    assert truth["interface_row"] == top + CELL.separator_rows
    counts = truth["row_phase_counts"]
    assert len(counts["se"]) == CELL.n_rows and sum(counts["se"][:top]) == 0
    assert sum(counts["se"][top:top + CELL.separator_rows]) > 0
    import h5py

    with h5py.File(tmp_path / "cell.truth.h5") as f:
        labels = f["labels"][()]
    assert labels.shape == (CELL.n_rows, CELL.n_cols, CELL.n_cols)
    assert np.all(labels[:top] == OUTSIDE) and np.all(labels[stop:] == OUTSIDE)
    # the sample covers the whole reconstruction circle: no outside voxel inside it
    yy, xx = np.mgrid[:CELL.n_cols, :CELL.n_cols] - (CELL.n_cols - 1) / 2
    circle = np.hypot(yy, xx) <= CELL.n_cols / 2
    assert np.count_nonzero(labels[top:stop][:, circle] == OUTSIDE) == 0
    with h5py.File(tmp_path / "cell.h5") as f:
        assert f["/measurement/instrument/camera_motor_stack/setup/camera_distance"][()] == CELL.propagation_distance_mm


def test_plain_cell_is_unchanged_by_the_new_fields():
    plain = SyntheticParams(n_rows=16, n_cols=48, n_angles=16, separator_rows=6,
                            transition_rows=1, roi_size_px=24, noise=False, n_zingers=0,
                            center_offset_px=1.0, cylinder_diameter_frac=0.8)
    a = simulate_projections(plain, pressure_mpa=25.0, seed=0).data
    b = simulate_projections(dataclasses.replace(plain, propagation_distance_mm=3.0,
                                                 sample_width_frac=1.3), pressure_mpa=25.0,
                             seed=0).data
    np.testing.assert_array_equal(a, b)


def test_a_cell_without_room_for_the_layers_is_refused():
    with pytest.raises(ValueError, match="n_rows"):
        dataclasses.replace(CELL, n_rows=18)
