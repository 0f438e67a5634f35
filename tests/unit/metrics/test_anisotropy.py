import math

import numpy as np
import pytest

from tomopress.metrics import anisotropy
from tomopress.metrics.anisotropy import (
    contact_orientation,
    directional_contact_fractions,
    fabric_index_z,
)
from tomopress.synthetic.phantoms3d import (
    capped_sphere_phantom,
    capped_sphere_truth,
    isotropic_random_three_phase,
)
from tomopress.types import AM, OUTSIDE, SE, VOID

TRUTH = capped_sphere_truth(0.5)  # f_z 0.75, f_x 0.391, R 1.918, A_z ±0.375


def test_directional_fractions_of_capped_sphere():
    """Face-pair fractions carry a voxel bias (METRICS: f_z 0.80 for 0.75 at r = 10): the
    z neighbour of a surface voxel lies nearer the pole; at r = 12 f_z reads 0.78, f_x 0.38."""
    rng = np.random.default_rng(12)
    runs = [directional_contact_fractions(
        capped_sphere_phantom((34, 34, 34), radius_vox=12.0, shell_vox=3.0, c=0.5,
                              centre_offset_vox=rng.uniform(-0.5, 0.5, 3))) for _ in range(8)]
    f_z = np.mean([r["contact_fraction_z"] for r in runs])
    f_x = np.mean([r["contact_fraction_x"] for r in runs])
    f_y = np.mean([r["contact_fraction_y"] for r in runs])
    r_mean = np.mean([r["contact_anisotropy_R"] for r in runs])
    assert TRUTH["contact_fraction_z"] < f_z < TRUTH["contact_fraction_z"] + 0.07
    assert f_x == pytest.approx(TRUTH["contact_fraction_x"], abs=0.04)
    assert f_y == pytest.approx(f_x, abs=0.01)  # x and y are equivalent
    assert r_mean == pytest.approx(TRUTH["contact_anisotropy_R"], abs=0.3)


def test_orientation_resolved_coverage_of_capped_sphere():
    labels = capped_sphere_phantom((34, 34, 34), radius_vox=12.0, shell_vox=3.0, c=0.5,
                                   centre_offset_vox=(0.21, -0.17, 0.33))
    m = contact_orientation(labels, voxel_size_um=0.5)
    centres = 0.5 * (m["u_bin_edges"][1:] + m["u_bin_edges"][:-1])
    far = np.abs(centres - 0.5) > 0.15  # the cap edge is smeared over ±1 bin
    np.testing.assert_allclose(m["coverage"][far], (centres[far] > 0.5).astype(float), atol=0.15)
    f_c = TRUTH["contact_area_fraction"]
    assert m["contact_area_fraction_mesh"] == pytest.approx(f_c, abs=0.02)
    assert m["unclassified_area_fraction"] < 1e-3  # only SE and void lie outside the AM
    area = m["area_um2_per_bin"]
    assert area.sum() == pytest.approx(4 * np.pi * 6.0**2, rel=0.03)
    assert np.sum(area * centres) / area.sum() == pytest.approx(0.5, abs=0.03)  # u uniform
    assert m["fabric_A_z_am_se"] == pytest.approx(TRUTH["fabric_A_z_am_se"], abs=0.04)
    assert m["fabric_A_z_am_void"] == pytest.approx(TRUTH["fabric_A_z_am_void"], abs=0.04)


def test_isotropic_phantom_gives_R_1_and_zero_fabric_index():
    labels = isotropic_random_three_phase((64, 64, 64), rng=np.random.default_rng(4))
    r = directional_contact_fractions(labels)["contact_anisotropy_R"]
    assert r == pytest.approx(1.0, abs=0.1)
    m = contact_orientation(labels, voxel_size_um=0.5)
    for key in ("fabric_A_z_am_se", "fabric_A_z_am_void", "fabric_A_z_se_void"):
        assert abs(m[key]) < 0.05, key
    assert np.ptp(m["coverage"]) < 0.1  # coverage does not depend on orientation


def test_tiles_give_the_whole_volume_result(monkeypatch):
    labels = isotropic_random_three_phase((40, 40, 24), rng=np.random.default_rng(5))
    labels[:5, :7] = OUTSIDE
    whole = contact_orientation(labels, voxel_size_um=1.0)
    # 2 x 3 tiles of 32 planes x 16 rows
    monkeypatch.setattr(anisotropy, "_TILE_VOXELS", 32 * 8 * 24)
    assert len(anisotropy._tiles(labels.shape)) == 6
    tiled = contact_orientation(labels, voxel_size_um=1.0)
    for key, value in whole.items():
        np.testing.assert_allclose(tiled[key], value, rtol=1e-6, err_msg=key)


def test_fabric_index_limits_and_nan_cases():
    assert fabric_index_z([[1, 0, 0]], [2.0]) == 1.0
    assert fabric_index_z([[0, 0, 1], [0, 1, 0]], [1.0, 1.0]) == -0.5
    assert math.isnan(fabric_index_z(np.zeros((0, 3)), np.zeros(0)))
    labels = np.full((4, 4, 4), SE, dtype=np.uint8)  # no AM at all
    d = directional_contact_fractions(labels)
    assert all(math.isnan(v) for v in d.values())
    labels[1:3, 1:3, 1:3] = AM
    labels[0] = VOID  # void above, SE below and around: f_x = 1, f_z = 1/2
    d = directional_contact_fractions(labels)
    assert d["contact_fraction_x"] == 1.0 and d["contact_fraction_z"] == 0.5


def test_bad_inputs_are_refused():
    labels = np.zeros((4, 4, 4), np.uint8)
    with pytest.raises(ValueError, match="n_bins"):
        contact_orientation(labels, voxel_size_um=1.0, n_bins=0)
    with pytest.raises(ValueError, match="sigma_vox"):
        contact_orientation(labels, voxel_size_um=1.0, sigma_vox=0.0)
    with pytest.raises(ValueError, match="voxel_size_um"):
        contact_orientation(labels, voxel_size_um=0.0)
    with pytest.raises(TypeError, match="integer dtype"):
        directional_contact_fractions(labels.astype(float))
    with pytest.raises(ValueError, match="differ in length"):
        fabric_index_z([[1, 0, 0]], [1.0, 2.0])


def test_sampled_tiles_keep_the_isotropic_fabric_near_zero(monkeypatch):
    """A third of the tiles (the `metrics` rule meshes about one in ten of a 1024² crop): the
    isotropic truth A_z = 0 and f_c(u) flat still hold; all tiles give the full result."""
    labels = isotropic_random_three_phase((64, 64, 64), rng=np.random.default_rng(4))
    monkeypatch.setattr(anisotropy, "_TILE_VOXELS", 32 * 16 * 64)  # 2 x 4 tiles
    m = contact_orientation(labels, voxel_size_um=0.5, max_tiles=3)
    assert m["sampled_voxel_fraction"] == pytest.approx(3 / 8)
    for key in ("fabric_A_z_am_se", "fabric_A_z_am_void", "fabric_A_z_se_void"):
        assert abs(m[key]) < 0.05, key
    assert np.ptp(m["coverage"]) < 0.15
    full = contact_orientation(labels, voxel_size_um=0.5)
    every = contact_orientation(labels, voxel_size_um=0.5, max_tiles=8)
    np.testing.assert_allclose(every["coverage"], full["coverage"], rtol=1e-9)
    with pytest.raises(ValueError, match="max_tiles"):
        contact_orientation(labels, voxel_size_um=0.5, max_tiles=0)
