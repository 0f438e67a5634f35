"""Paganin phase retrieval (tomopress.prep.phase) against forward-propagated projections."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from tomopress.io.base import beam_facts
from tomopress.prep.phase import (
    halo_rows,
    paganin_filter,
    resolve_phase_settings,
)
from tomopress.synthetic.propagation import exit_wave, fresnel_propagate, intensity, wavelength_m

LAM = wavelength_m(20.0)
PX = 0.5e-6
DELTA, BETA = 1.03e-6, 9.6e-9  # LGPS at 20 keV (xraydb)
MU_PER_M = 4 * np.pi * BETA / LAM
MATERIALS = {"se": {"formula": "Li10GeP2S12", "density_g_cm3": 2.04},
             "am": {"formula": "LiNi0.333Mn0.333Co0.333O2", "density_g_cm3": 4.7}}


def _sphere_thickness_m(n: int = 96, radius_px: float = 20.0, sub: int = 4) -> np.ndarray:
    """Projected thickness of a sphere, averaged over `sub` x `sub` sub-pixels (metres)."""
    offs = (np.arange(sub) + 0.5) / sub - 0.5
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2 + 0.3
    t = np.zeros((n, n))
    for dy in offs:
        for dx in offs:
            t += 2 * np.sqrt(np.clip(radius_px**2 - (xx + dx) ** 2 - (yy + dy) ** 2, 0, None))
    return t / sub**2 * PX


def _measured(thickness_m: np.ndarray, distance_m: float) -> np.ndarray:
    wave = exit_wave(MU_PER_M * thickness_m, DELTA * thickness_m, wavelength_m=LAM)
    return intensity(fresnel_propagate(wave, distance_m=distance_m, wavelength_m=LAM,
                                       pixel_size_m=PX))


def test_paganin_recovers_the_projected_attenuation_of_one_material():
    """A sphere of one material, 10 mm behind: raw -ln(T) is off by the fringes; Paganin
    with the material's δ/β gives μt back within 3 % of its maximum (rms 1 %)."""
    t = _sphere_thickness_m()
    truth = MU_PER_M * t
    measured = _measured(t, 0.01)
    raw_err = np.abs(-np.log(measured) - truth).max() / truth.max()
    got = -np.log(paganin_filter(measured, delta_over_beta=DELTA / BETA, distance_m=0.01,
                                 wavelength_m=LAM, pixel_size_m=PX))
    err = got - truth
    assert raw_err > 0.2  # the fringes are strong before retrieval
    assert np.abs(err).max() < 0.03 * truth.max()
    assert np.sqrt(np.mean(err**2)) < 0.01 * truth.max()


def test_a_slab_with_its_halo_rows_equals_the_whole_frame():
    t = _sphere_thickness_m(n=96)
    frame = _measured(t, 0.01)[None]
    kw = {"delta_over_beta": DELTA / BETA, "distance_m": 0.01, "wavelength_m": LAM,
          "pixel_size_m": PX}
    whole = paganin_filter(frame, **kw)
    h = halo_rows(**kw)
    r0, r1 = 40, 56
    part = paganin_filter(frame[:, r0 - h:r1 + h], **kw)[:, h:h + r1 - r0]
    np.testing.assert_allclose(part, whole[:, r0:r1], atol=2e-3)


def test_settings_come_from_the_file_first_then_the_config(tmp_path):
    path = tmp_path / "scan.h5"
    with h5py.File(path, "w") as f:
        e = f.create_dataset("/measurement/instrument/monochromator/energy", data=20000.0)
        e.attrs["units"] = "eV"
        d = f.create_dataset("/measurement/instrument/camera_motor_stack/setup/camera_distance",
                             data=0.005)
        d.attrs["units"] = "m"
    assert beam_facts(str(path)) == {"energy_kev": 20.0, "propagation_distance_mm": 5.0}
    cfg = {"method": "paganin", "delta_over_beta": None, "material": "se", "energy_kev": 30.0,
           "propagation_distance_mm": 50.0, "materials": MATERIALS}
    got = resolve_phase_settings(cfg, raw_path=str(path), pixel_size_um=0.5)
    assert (got["energy_kev"], got["energy_source"]) == (20.0, "raw file")
    assert (got["propagation_distance_mm"], got["distance_source"]) == (5.0, "raw file")
    assert got["delta_over_beta"] == pytest.approx(107, abs=2)
    assert got["delta_over_beta_source"] == "xraydb (se)"
    json.dumps(got)  # recorded as a JSON attribute


def test_missing_distance_names_the_config_key(tmp_path):
    path = tmp_path / "bare.h5"
    h5py.File(path, "w").close()
    cfg = {"method": "paganin", "delta_over_beta": 100.0, "energy_kev": 20.0,
           "propagation_distance_mm": None, "materials": MATERIALS}
    with pytest.raises(ValueError, match="phase.propagation_distance_mm"):
        resolve_phase_settings(cfg, raw_path=str(path), pixel_size_um=0.5)
    assert resolve_phase_settings({"method": "none"}, raw_path=str(path),
                                  pixel_size_um=0.5) == {"method": "none", "halo_rows": 0}


def test_flatfield_slabs_with_paganin_equal_the_whole_detector_and_record_it(tmp_path):
    """Two slabs, each reading its halo rows, give the same line integrals as one slab of
    every row; the slab file records what was applied."""
    import dataclasses

    from tomopress.io.h5store import read_array_h5
    from tomopress.prep.flatfield import flatfield_slab_file
    from tomopress.synthetic.beamtime import SyntheticParams, simulate_scan

    params = SyntheticParams(realistic_cell=True, n_rows=40, n_cols=48, n_angles=16,
                             separator_rows=8, transition_rows=1, roi_size_px=24,
                             center_offset_px=1.3, n_flats=3, n_darks=3, n_ring_columns=0,
                             n_dead_columns=0, n_zingers=0, cell_top_rod_rows=4,
                             cell_foil_rows=4, cell_bottom_gap_rows=2, cell_bottom_rod_rows=4,
                             particle_median_diameter_um=5.0)
    params = dataclasses.replace(params, noise=False)
    raw = tmp_path / "cell.h5"
    simulate_scan(raw, pressure_mpa=25.0, params=params, seed=0)
    cfg = {"method": "paganin", "delta_over_beta": None, "material": "am_in_se",
           "energy_kev": None, "propagation_distance_mm": None, "materials": MATERIALS}
    kw = {"format": "dxchange", "reader_options": {}, "average": "mean",
          "min_transmission": 1e-4, "pixel_size_um": None, "phase": cfg}
    flatfield_slab_file(str(raw), str(tmp_path / "all.h5"), rows=(0, 40), **kw)
    flatfield_slab_file(str(raw), str(tmp_path / "a.h5"), rows=(0, 22), **kw)
    flatfield_slab_file(str(raw), str(tmp_path / "b.h5"), rows=(22, 40), **kw)
    whole, attrs = read_array_h5(str(tmp_path / "all.h5"), "sinogram")
    parts = [read_array_h5(str(tmp_path / n), "sinogram")[0] for n in ("a.h5", "b.h5")]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, atol=1e-4)
    applied = json.loads(attrs["phase_retrieval"])
    assert applied["method"] == "paganin" and applied["distance_source"] == "raw file"
    assert applied["propagation_distance_mm"] == params.propagation_distance_mm
    assert applied["delta_over_beta"] == pytest.approx(47, abs=2)  # Beltran's AM|SE pair
    assert applied["halo_rows"] > 10
