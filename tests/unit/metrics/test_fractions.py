import numpy as np
import pytest

from tomopress.metrics.fractions import porosity_profile_z, volume_fractions
from tomopress.types import AM, OUTSIDE, SE, VOID


def test_ball_volume_fraction_matches_4_3_pi_r3():
    """A ball of radius 12 voxels in a 40³ box: voxel count within 1 % of 4/3 π r³."""
    z, y, x = np.mgrid[:40, :40, :40] - 19.3
    labels = np.where(x**2 + y**2 + z**2 <= 12**2, AM, SE).astype(np.uint8)
    fractions = volume_fractions(labels)
    assert fractions["volume_fraction_am"] == pytest.approx(4 / 3 * np.pi * 12**3 / 40**3, rel=0.01)
    assert fractions["porosity"] == 0.0


def test_outside_voxels_are_not_counted():
    labels = np.full((2, 2, 2), OUTSIDE, dtype=np.uint8)
    labels[0, 0, :] = [VOID, SE]
    fractions = volume_fractions(labels)
    assert fractions["n_voxels"] == 2 and fractions["porosity"] == 0.5
    assert np.isnan(volume_fractions(np.zeros((1, 1, 1), np.uint8))["am_solid_ratio"])


def test_stray_labels_and_empty_volumes_are_refused():
    with pytest.raises(ValueError, match="found \\[7\\]"):
        volume_fractions(np.full((1, 1, 2), 7, dtype=np.uint8))
    with pytest.raises(ValueError, match="no counted voxel"):
        volume_fractions(np.full((1, 1, 2), OUTSIDE, dtype=np.uint8))
    with pytest.raises(ValueError, match="3-D"):
        volume_fractions(np.zeros((2, 2), dtype=np.uint8))


def test_porosity_profile():
    vol = np.full((3, 2, 2), SE, dtype=np.uint8)
    vol[0] = VOID
    vol[1, 0, 0] = VOID
    z_um, porosity = porosity_profile_z(vol, voxel_size_um=2.0)
    np.testing.assert_allclose(z_um, [1.0, 3.0, 5.0])
    np.testing.assert_allclose(porosity, [1.0, 0.25, 0.0])
