import numpy as np
import pytest

from tomopress.metrics.particles import am_particle_sizes, local_thickness, local_thickness_summary
from tomopress.types import AM, OUTSIDE, SE, VOID


def balls(shape, centres, radii, inside=AM, outside=SE):
    grid = np.indices(shape, dtype=np.float64)
    mask = np.zeros(shape, dtype=bool)
    for c, r in zip(centres, radii):
        mask |= sum((g - ci) ** 2 for g, ci in zip(grid, c)) <= r**2
    return np.where(mask, inside, outside).astype(np.uint8)


def test_two_touching_spheres_are_split_into_their_own_sizes():
    """Radii 6 and 9 voxels, centres 14.6 voxels apart (a small neck): truth d = 6 and 9 µm."""
    c1 = np.array([23.3, 19.6, 16.2])
    vol = balls((48, 40, 56), [c1, c1 + [0.4, 0.3, 14.6]], [6.0, 9.0])
    out = am_particle_sizes(vol, voxel_size_um=0.5)
    assert out["n_particles"] == 2 and out["n_particles_cut"] == 0
    np.testing.assert_allclose(np.sort(out["diameters_um"]), [6.0, 9.0], rtol=0.05)
    assert out["particle_d90_um"] > out["particle_d50_um"] > out["particle_d10_um"]
    assert out["particle_d50_volume_weighted_um"] == pytest.approx(9.0, rel=0.05)


def test_particles_cut_by_a_crop_face_or_outside_voxels_are_dropped():
    vol = balls((40, 40, 40), [(20.2, 20.1, 20.3), (3.0, 20.0, 20.0)], [7.0, 6.0])
    out = am_particle_sizes(vol, voxel_size_um=1.0)
    assert out["n_particles"] == 1 and out["n_particles_cut"] == 1
    assert out["diameters_um"][0] == pytest.approx(14.0, rel=0.03)
    vol[:, :, :8] = OUTSIDE  # the region ends at x = 8; the ball at x = 20 - 7 = 13 stays
    vol[:, 20:26, 8] = AM  # a sliver glued to the region border is dropped
    out = am_particle_sizes(vol, voxel_size_um=1.0)
    assert out["n_particles"] == 1


def test_no_particle_gives_nan_summary():
    out = am_particle_sizes(np.full((8, 8, 8), SE, np.uint8), voxel_size_um=0.5)
    assert out["n_particles"] == 0 and np.isnan(out["particle_d50_um"])


@pytest.mark.parametrize("thickness_vox", [5, 6, 9])
def test_local_thickness_of_a_slab_is_its_thickness_within_one_voxel(thickness_vox):
    mask = np.zeros((24, 16, 16), dtype=bool)
    mask[4 : 4 + thickness_vox] = True
    lt = local_thickness(mask, voxel_size_um=0.5)
    assert np.all(lt[~mask] == 0)
    assert np.all(np.abs(lt[mask] - thickness_vox * 0.5) <= 0.5)  # within one voxel (0.5 µm)


@pytest.mark.parametrize("radius_vox", [6.0, 10.3, 15.0])
def test_local_thickness_of_a_ball_is_2r_at_the_centre(radius_vox):
    shape = (64, 64, 64)
    mask = balls(shape, [(31.7, 31.6, 31.8)], [radius_vox]) == AM
    lt = local_thickness(mask, voxel_size_um=1.0)
    assert lt[32, 32, 32] == pytest.approx(2 * radius_vox, abs=1.25)  # bias -0.5 to -1.25 voxel
    assert lt[mask].max() == lt[32, 32, 32]


def test_local_thickness_summary_for_se_and_void():
    vol = np.full((30, 12, 12), AM, dtype=np.uint8)
    vol[2:8] = SE  # 6 voxels thick
    vol[12:16] = VOID  # 4 voxels thick
    out = local_thickness_summary(vol, voxel_size_um=0.5)
    assert out["local_thickness_se_median_um"] == pytest.approx(3.0)
    assert out["local_thickness_void_median_um"] == pytest.approx(2.0)
    assert out["local_thickness_se_mean_um"] <= 3.0
    no_void = local_thickness_summary(np.full((4, 4, 4), SE, np.uint8), voxel_size_um=0.5)
    assert np.isnan(no_void["local_thickness_void_mean_um"])


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="3-D"):
        local_thickness(np.zeros((3, 3), bool), voxel_size_um=1.0)
    with pytest.raises(ValueError, match="voxel_size_um"):
        local_thickness(np.zeros((3, 3, 3), bool), voxel_size_um=-1.0)
    with pytest.raises(ValueError, match="max_levels"):
        local_thickness(np.zeros((3, 3, 3), bool), voxel_size_um=1.0, max_levels=1)
    with pytest.raises(ValueError, match="min_distance_vox"):
        am_particle_sizes(np.zeros((3, 3, 3), np.uint8), voxel_size_um=1.0, min_distance_vox=0)
    assert VOID == 0


def test_local_thickness_matches_the_definition_by_brute_force():
    """Largest ball B(c, ρ(c)) inside the phase that contains the voxel, by direct search over
    every centre (ρ = distance to the nearest non-phase voxel centre, crop faces open)."""
    from scipy import ndimage

    rng = np.random.default_rng(7)
    field = ndimage.gaussian_filter(rng.standard_normal((14, 16, 15)), 1.5)
    mask = field > 0
    lt = local_thickness(mask, voxel_size_um=1.0, max_levels=1000)  # no level rounding
    outside = np.argwhere(~mask)
    centres = np.argwhere(mask)
    rho = np.sqrt(((centres[:, None, :] - outside[None, :, :]) ** 2).sum(-1).min(axis=1))
    truth = np.zeros(mask.shape)
    for c, r in zip(centres, rho):
        d2 = ((centres - c) ** 2).sum(axis=1)
        hit = centres[d2 <= r**2 + 1e-9]
        cur = truth[tuple(hit.T)]
        truth[tuple(hit.T)] = np.maximum(cur, 2 * r)
    np.testing.assert_allclose(lt, truth, atol=1e-5)
