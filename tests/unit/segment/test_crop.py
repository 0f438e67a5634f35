import numpy as np
import pytest

from tomopress.segment.crop import centred_roi, layer_rows_from_profile, roi_fits


def test_centred_roi_and_circle_check():
    assert centred_roi((160, 160), 96) == (32, 128, 32, 128)
    assert roi_fits((32, 128, 32, 128), (160, 160))
    # 120 px square has half-diagonal 84 px > the 80 px radius of the reconstruction circle
    with pytest.raises(ValueError, match="at most 113"):
        centred_roi((160, 160), 120)


def test_layers_found_on_a_two_level_profile():
    rng = np.random.default_rng(3)
    profile = np.r_[np.full(20, 19.0), np.full(50, 41.0)] + rng.normal(0, 0.5, 70)
    layers = layer_rows_from_profile(profile, z_offset_rows=100, transition_rows=3)
    assert layers == {"separator": (100, 117), "composite": (123, 170)}


def test_profile_with_two_interfaces_asks_for_the_sheet():
    profile = np.r_[np.full(10, 19.0), np.full(10, 41.0), np.full(10, 19.0)]
    with pytest.raises(ValueError, match="found 2.*composite_rows"):
        layer_rows_from_profile(profile, z_offset_rows=0, transition_rows=2)


def _layered_volume(rng, *, slope_x=0.0, nz=40, n=64, interface=18):
    """Separator (SE 21 + voids) above a composite of AM 'particles' in SE, interface tilted."""
    from scipy import ndimage

    zz, yy, xx = np.mgrid[:nz, :n, :n].astype(np.float32)
    level = interface + slope_x * (xx - (n - 1) / 2)
    grey = np.full(zz.shape, 21.0, np.float32)
    field = ndimage.gaussian_filter(rng.normal(size=zz.shape), 2.0)
    blobs = field > -0.25 * field.std()  # about 60 % AM in the composite
    grey[(zz >= level) & blobs] = 80.0
    return grey + rng.normal(0, 4, zz.shape).astype(np.float32)


def test_layers_from_the_am_envelope_with_band_recorded():
    from tomopress.segment.crop import layer_rows_from_volume

    rng = np.random.default_rng(1)
    vol = _layered_volume(rng)
    r = layer_rows_from_volume(vol, (0, 64, 0, 64), z_offset_rows=100, transition_rows=2,
                               closing_radius_px=4)
    assert r["interface_row"] == pytest.approx(118, abs=1)
    b0, b1 = r["transition_band_rows"]
    assert r["layers"] == {"separator": (100, b0), "composite": (b1, 140)}
    assert 114 <= b0 <= 116 and 120 <= b1 <= 122


def test_tilted_interface_plane_is_fitted_and_flattened():
    from tomopress.segment.crop import am_envelope_profile, interface_plane, layer_rows_from_volume

    rng = np.random.default_rng(2)
    slope = np.tan(np.radians(5.0))  # 5 degrees about y: 5.5 rows across 63 px
    vol = _layered_volume(rng, slope_x=slope)
    env, _, _ = am_envelope_profile(vol, closing_radius_px=4)
    plane = interface_plane(env)
    assert plane["tilt_deg"] == pytest.approx(5.0, abs=0.7)
    assert plane["slope_y"] == pytest.approx(0.0, abs=0.02)
    flat = layer_rows_from_volume(vol, (0, 64, 0, 64), z_offset_rows=0, transition_rows=1,
                                  closing_radius_px=4, fit_tilt=True)
    tilted = layer_rows_from_volume(vol, (0, 64, 0, 64), z_offset_rows=0, transition_rows=1,
                                    closing_radius_px=4)
    width = lambda r: r["transition_band_rows"][1] - r["transition_band_rows"][0]  # noqa: E731
    assert width(flat) <= width(tilted) - 2 and flat["plane"]["n_tiles_used"] >= 12
