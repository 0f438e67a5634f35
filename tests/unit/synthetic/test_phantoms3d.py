import math

import numpy as np
import pytest

from tomopress.synthetic.phantoms3d import (
    ball_phantom,
    capped_sphere_phantom,
    capped_sphere_truth,
    isotropic_random_three_phase,
    plane_phantom,
)
from tomopress.types import AM, OUTSIDE, SE, VOID


def test_ball_volume_is_4_3_pi_r3_at_a_sub_voxel_centre():
    rng = np.random.default_rng(8)
    labels = ball_phantom((32, 32, 32), radius_vox=10.0,
                          centre_offset_vox=rng.uniform(-0.5, 0.5, 3),
                          inside=VOID, outside=SE)
    assert labels.dtype == np.uint8 and set(np.unique(labels)) == {VOID, SE}
    assert np.count_nonzero(labels == VOID) == pytest.approx(4 / 3 * np.pi * 10**3, rel=0.01)


def test_plane_phantom_splits_the_box_through_its_centre():
    labels = plane_phantom((16, 16, 16), (1, 1, 1), offset_vox=0.25, inside=AM, outside=VOID)
    assert np.count_nonzero(labels == AM) == pytest.approx(16**3 / 2, rel=0.05)
    assert labels[0, 0, 0] == AM and labels[-1, -1, -1] == VOID
    np.testing.assert_array_equal(plane_phantom((4, 2, 2), (1, 0, 0))[:, 0, 0], [AM, AM, SE, SE])


def test_capped_sphere_layout():
    labels = capped_sphere_phantom((31, 31, 31), radius_vox=10.0, shell_vox=3.0, c=0.5)
    assert labels[15, 15, 15] == AM and labels[0, 0, 0] == OUTSIDE
    assert labels[3, 15, 15] == SE and labels[27, 15, 15] == SE  # both poles (|cos θ| = 1)
    assert labels[15, 15, 3] == VOID  # equator
    am = labels == AM
    for axis in range(3):  # every face neighbour of AM is AM, SE or void, never outside
        for shift in (1, -1):
            assert not np.any(am & (np.roll(labels, shift, axis=axis) == OUTSIDE))


def test_capped_sphere_truth_limits():
    assert capped_sphere_truth(0.0)["contact_area_fraction"] == 1.0
    assert capped_sphere_truth(0.0)["contact_fraction_x"] == pytest.approx(1.0)
    one = capped_sphere_truth(1.0)
    assert one["contact_fraction_z"] == 0.0 and one["contact_fraction_x"] == pytest.approx(0.0)
    assert math.isnan(one["contact_anisotropy_R"])
    assert capped_sphere_truth(0.5)["contact_fraction_x"] == pytest.approx(0.3910, abs=1e-4)


def test_isotropic_random_phantom_has_exact_fractions_and_is_seeded():
    a = isotropic_random_three_phase((20, 20, 20), rng=np.random.default_rng(9),
                                     volume_fraction_am=0.3, volume_fraction_void=0.25)
    b = isotropic_random_three_phase((20, 20, 20), rng=np.random.default_rng(9),
                                     volume_fraction_am=0.3, volume_fraction_void=0.25)
    np.testing.assert_array_equal(a, b)
    assert np.mean(a == AM) == pytest.approx(0.3, abs=0.002)
    assert np.mean(a == VOID) == pytest.approx(0.25, abs=0.002)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="shape"):
        ball_phantom((4, 4), radius_vox=1.0)
    with pytest.raises(ValueError, match="radius_vox"):
        ball_phantom((4, 4, 4), radius_vox=0.0)
    with pytest.raises(ValueError, match="inside"):
        ball_phantom((4, 4, 4), radius_vox=1.0, inside=9)
    with pytest.raises(ValueError, match="normal"):
        plane_phantom((4, 4, 4), (0, 0, 0))
    with pytest.raises(ValueError, match="do not fit"):
        capped_sphere_phantom((20, 20, 20), radius_vox=10.0, shell_vox=2.0, c=0.5)
    with pytest.raises(ValueError, match=r"c must be in \[0, 1\]"):
        capped_sphere_phantom((40, 40, 40), radius_vox=10.0, shell_vox=2.0, c=1.5)
    with pytest.raises(ValueError, match="sum < 1"):
        isotropic_random_three_phase((8, 8, 8), rng=np.random.default_rng(0),
                                     volume_fraction_am=0.6, volume_fraction_void=0.5)
    with pytest.raises(ValueError, match="correlation_vox"):
        isotropic_random_three_phase((8, 8, 8), rng=np.random.default_rng(0), correlation_vox=0.0)
