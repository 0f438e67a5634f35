"""Tests of the synthetic beamtime (tomopress.synthetic.beamtime and tomopress.synthetic.*)."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest
from skimage.transform import radon

from tomopress.synthetic.beamtime import (
    SyntheticParams,
    pressure_model,
    radon_parallel,
    simulate_projections,
    simulate_scan,
    truth_paths,
)
from tomopress.synthetic.microstructure import build_microstructure
from tomopress.synthetic.truth import coarsen_labels, fractions_in_rows
from tomopress.types import AM, OUTSIDE, VOID

TINY = SyntheticParams(n_rows=16, n_cols=48, n_angles=64, separator_rows=6, transition_rows=1,
                       roi_size_px=24, cylinder_diameter_frac=0.85, center_offset_px=1.3,
                       n_flats=3, n_darks=3, n_ring_columns=2, n_dead_columns=1, n_zingers=4,
                       pixel_size_um=1.0)  # the ideal-projection checks assume 1 µm pixels
CLEAN = dataclasses.replace(TINY, noise=False, blur_sigma_px=0.0, n_zingers=0)


def _disc_image(n: int, centre_xy: tuple[float, float], radius: float, sub: int = 8):
    """Anti-aliased disc on the module's grid (x = col - c, y = row - c)."""
    c = (n - 1) / 2
    offs = (np.arange(sub) + 0.5) / sub - 0.5
    yy, xx = np.mgrid[:n, :n] - c
    img = np.zeros((n, n))
    for dy in offs:
        for dx in offs:
            img += (xx + dx - centre_xy[0]) ** 2 + (yy + dy - centre_xy[1]) ** 2 <= radius**2
    return img / sub**2


# ---------------------------------------------------------------- pressure model, params
def test_pressure_model_trends_and_endpoints():
    m6, m25, m100 = (pressure_model(p) for p in (6.0, 25.0, 100.0))
    assert m6["composite_porosity"] == pytest.approx(0.35)
    assert m100["composite_porosity"] == pytest.approx(0.23)
    assert m6["separator_porosity"] > m25["separator_porosity"] > m100["separator_porosity"]
    assert m6["void_flattening"] > m25["void_flattening"] > m100["void_flattening"]
    with pytest.raises(ValueError, match="pressure_mpa"):
        pressure_model(-1.0)


def test_params_reject_a_shadow_off_the_detector():
    with pytest.raises(ValueError, match="center_offset_px"):
        dataclasses.replace(TINY, center_offset_px=6.0)


# ---------------------------------------------------------------- microstructure
def test_layer_porosity_is_exact_and_falls_with_pressure():
    ff, zi = TINY.fine_factor, TINY.fine_factor * TINY.separator_rows
    composite, am_masks = [], []
    for p_mpa in (6.0, 25.0, 100.0):
        micro = build_microstructure(TINY, p_mpa)
        target = pressure_model(p_mpa)
        for rows, key in ((slice(zi, None), "composite_porosity"),
                          (slice(0, zi), "separator_porosity")):
            lab = micro.labels[rows]
            porosity = np.count_nonzero(lab == VOID) / np.count_nonzero(lab != OUTSIDE)
            assert porosity == pytest.approx(target[key], abs=0.005)
        lab = micro.labels[zi:]
        composite.append(np.count_nonzero(lab == VOID) / np.count_nonzero(lab != OUTSIDE))
        am_masks.append(micro.labels == AM)
        assert micro.labels.shape == (ff * TINY.n_rows, ff * TINY.n_cols, ff * TINY.n_cols)
    assert composite[0] > composite[1] > composite[2]
    # one microstructure seed: the particles do not move between pressures
    assert np.array_equal(am_masks[0], am_masks[2])


def test_coarse_labels_are_block_majorities():
    fine = np.full((4, 4, 4), VOID, np.uint8)
    fine[:2, :2, :2] = AM
    fine[2:, 2:, 2:] = OUTSIDE
    lab, frac = coarsen_labels(fine, 2)
    assert lab[0, 0, 0] == AM and lab[1, 1, 1] == OUTSIDE and lab[0, 1, 0] == VOID
    assert frac["am"][0, 0, 0] == 1 and frac["void"][1, 1, 1] == 0


# ---------------------------------------------------------------- projector
def test_projector_matches_skimage_radon():
    # same convention as skimage (and tomopress.recon.reconstruct); axis at the centre
    n = 65
    img = _disc_image(n, (10.0, -6.0), 5.0) + 0.5 * _disc_image(n, (-4.0, 12.0), 3.0)
    theta_deg = np.linspace(0, 180, 37, endpoint=False)
    ours = radon_parallel(img, np.deg2rad(theta_deg), center_px=(n - 1) / 2, n_det=n)
    peer = radon(img, theta=theta_deg, circle=True).T
    assert np.sqrt(np.mean((ours - peer) ** 2)) < 0.005 * peer.max()
    assert np.abs(ours - peer).max() < 0.05 * peer.max()


def test_projector_gives_the_chord_of_a_disc():
    n, r, (cx, cy) = 65, 20.3, (3.2, -1.7)
    img = _disc_image(n, (cx, cy), r)
    theta = np.linspace(0, np.pi, 90, endpoint=False)
    p = radon_parallel(img, theta, center_px=(n - 1) / 2, n_det=n)
    s = np.arange(n) - (n - 1) / 2 - (cx * np.cos(theta) - cy * np.sin(theta))[:, None]
    chord = 2 * np.sqrt(np.clip(r * r - s**2, 0, None))
    interior = np.abs(s) < r - 2
    assert np.abs(p - chord)[interior].max() < 0.5  # pixel-scale edge error only
    np.testing.assert_allclose(p.sum(axis=1), np.pi * r * r, rtol=1e-3)  # mass per angle


def test_projection_at_180_degrees_mirrors_0_about_the_axis():
    n, center = 41, 22.5  # 49 detector columns: axis 1.5 px left of their middle
    img = _disc_image(n, (6.0, 3.0), 2.5)
    p0, p180 = radon_parallel(img, [0.0, np.pi], center_px=center, n_det=n + 8)
    u = np.arange(n + 8)
    mirrored = np.interp(2 * center - u, u, p0, left=0.0, right=0.0)
    np.testing.assert_allclose(p180, mirrored, atol=1e-3 * p0.max())
    assert (u * p0).sum() / p0.sum() == pytest.approx(center + 6.0, abs=0.02)


# ---------------------------------------------------------------- forward model
@pytest.fixture(scope="module")
def clean_scan():
    return simulate_projections(CLEAN, pressure_mpa=25.0, seed=3)


def test_sinogram_centroid_traces_the_axis(clean_scan):
    p = clean_scan.ideal_line_integrals.astype(np.float64)  # (angle, row, col)
    u = np.arange(CLEAN.n_cols)
    centroid = (p * u).sum(axis=2) / p.sum(axis=2)  # (angle, row)
    th = np.deg2rad(clean_scan.theta_deg)
    design = np.column_stack([np.ones_like(th), np.cos(th), np.sin(th)])
    coef, *_ = np.linalg.lstsq(design, centroid, rcond=None)  # c + x̄ cos θ + ȳ sin θ
    np.testing.assert_allclose(coef[0], CLEAN.center_px, atol=0.05)


def test_flat_corrected_log_is_the_line_integral_and_rings_are_not_in_flats(clean_scan):
    s = clean_scan
    dark = s.darks.mean(axis=0, dtype=np.float64)
    flat = s.flats.mean(axis=0, dtype=np.float64) - dark
    good = np.ones(CLEAN.n_cols, bool)
    good[s.defects["ring_columns"] + s.defects["dead_columns"]] = False
    ratio = (s.data[:, :, good] - dark[:, good]) / flat[:, good]
    ideal = s.ideal_line_integrals[:, :, good]
    assert ideal.max() > 0.2
    np.testing.assert_allclose(-np.log(ratio), ideal, rtol=0.01, atol=2e-4)
    # ring columns: the projections' gain differs from the flats' by the recorded error
    for col, err in zip(s.defects["ring_columns"], s.defects["ring_gain_errors"]):
        t = (s.data[:, :, col] - dark[:, col]) / flat[:, col]
        measured = np.median(t / np.exp(-s.ideal_line_integrals[:, :, col])) - 1
        assert measured == pytest.approx(err, abs=1e-3) and abs(err) > 0.01
    # dead columns see nothing, not even in the flats
    for col in s.defects["dead_columns"]:
        assert np.all(s.flats[:, :, col] == s.darks[:, :, col])


# ---------------------------------------------------------------- files
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim") / "scan_025MPa.h5"
    truth = simulate_scan(path, pressure_mpa=25.0, params=TINY, seed=7)
    return path, truth


def test_scan_file_is_dxchange(written):
    path, truth = written
    a, r, c = TINY.n_angles, TINY.n_rows, TINY.n_cols
    with h5py.File(path, "r") as f:
        data = f["/exchange/data"]
        assert data.shape == (a, r, c) and data.dtype == np.uint16
        assert data.chunks[1] < r  # a few rows can be read without the whole stack
        assert f["/exchange/data_white"].shape == (TINY.n_flats, r, c)
        assert f["/exchange/data_dark"].shape == (TINY.n_darks, r, c)
        assert f["/exchange/data_white"].dtype == f["/exchange/data_dark"].dtype == np.uint16
        theta = f["/exchange/theta"]
        assert theta.attrs["units"] == "degrees"
        np.testing.assert_allclose(theta[:], np.arange(a) * 180.0 / a)
        res = f["/measurement/instrument/detection_system/objective/resolution"]
        assert res[()] == TINY.pixel_size_um and res.attrs["units"] == "um"
        assert f.attrs["pressure_mpa"] == 25.0
        assert json.loads(f.attrs["simulation_params"])["n_cols"] == c
        # zingers are hot pixels well above the flat level
        zinger_vals = [int(data[ia, ir, ic]) for ia, ir, ic in truth["defects"]["zingers"]]
        assert min(zinger_vals) > 1.2 * TINY.i0_counts * 0.5
    assert truth["center_px"] == pytest.approx((c - 1) / 2 + TINY.center_offset_px)


def test_truth_files_agree_with_the_scan(written):
    path, truth = written
    json_path, h5_path = truth_paths(path)
    assert json.loads(json_path.read_text()) == json.loads(json.dumps(truth))
    for key in ("pressure_mpa", "voxel_size_um", "center_px", "detector_shape", "n_angles",
                "mu_cm", "layers"):
        assert key in truth
    for layer in ("composite", "separator"):
        t = truth["layers"][layer]
        assert sum(t["volume_fraction"].values()) == pytest.approx(1.0)
        assert t["full_layer_porosity"] == pytest.approx(t["target_porosity"], abs=0.005)
        z0, z1 = t["z_range_rows"]
        assert 0 <= z0 < z1 <= TINY.n_rows
        y0, y1, x0, x1 = t["roi_xy_px"]
        assert y1 - y0 == x1 - x0 == TINY.roi_size_px
    assert truth["layers"]["separator"]["z_range_rows"][1] <= truth["interface_row"]
    assert truth["layers"]["composite"]["z_range_rows"][0] >= truth["interface_row"]
    with h5py.File(h5_path, "r") as f:
        labels = f["labels"][:]
        assert labels.shape == (TINY.n_rows, TINY.n_cols, TINY.n_cols)
        assert set(np.unique(labels)) <= {0, 1, 2, OUTSIDE}
        total = f["void_fraction"][:] + f["se_fraction"][:] + f["am_fraction"][:]
        assert total.max() == pytest.approx(1.0) and total.min() == 0.0


def test_row_counts_give_the_layer_truth_over_any_rows(written):
    """Summed per-row counts reproduce the layer fractions that layer_truth measures directly
    on the fine labels, so the truth of a crop's own rows can be taken from them."""
    _, truth = written
    counts = truth["row_phase_counts"]
    assert all(len(counts[k]) == TINY.n_rows for k in ("void", "se", "am"))
    for layer in ("composite", "separator"):
        t = truth["layers"][layer]
        got = fractions_in_rows(counts, *t["z_range_rows"])
        assert got == pytest.approx(t["volume_fraction"], abs=1e-12)
    z0, z1 = truth["layers"]["composite"]["z_range_rows"]
    assert fractions_in_rows(counts, z0 + 1, z1)["void"] != pytest.approx(
        truth["layers"]["composite"]["porosity"], abs=1e-12)  # the rows matter
    with pytest.raises(ValueError, match="range"):
        fractions_in_rows(counts, z1, z1)
