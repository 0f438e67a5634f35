import numpy as np
import pytest

from tomopress.crop import centred_roi, layer_rows_from_profile, roi_fits


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
