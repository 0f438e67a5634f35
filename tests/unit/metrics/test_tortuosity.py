import numpy as np
import pytest
from scipy.spatial import cKDTree

from tomopress.metrics.tortuosity import geometric_tortuosity, tiled_geometric_tortuosity
from tomopress.synthetic.phantoms3d import tilted_slab_phantom
from tomopress.types import AM, OUTSIDE, SE, VOID


def helical_tube(radius_vox, tube_radius_vox, pitch_vox, nz):
    n_xy = 2 * int(radius_vox + tube_radius_vox) + 5
    shape = (nz, n_xy, n_xy)
    s = np.linspace(-1.0, nz + 1.0, 4000)  # ≈ 0.03 voxel apart
    c = (n_xy - 1) / 2
    curve = np.stack([s, c + radius_vox * np.sin(2 * np.pi * s / pitch_vox),
                      c + radius_vox * np.cos(2 * np.pi * s / pitch_vox)], axis=1)  # fmt: skip
    dist, _ = cKDTree(curve).query(
        np.argwhere(np.ones(shape, dtype=bool)), distance_upper_bound=tube_radius_vox + 1
    )
    return np.where((dist <= tube_radius_vox).reshape(shape), SE, VOID).astype(np.uint8)


def test_straight_channels_have_tau_one_and_all_outlets_connected():
    vol = np.full((40, 24, 24), AM, dtype=np.uint8)
    vol[:, 2::5, 3::4] = SE
    vol[:, 10:14, 10:14] = SE
    res = geometric_tortuosity(vol, voxel_size_um=0.5)
    s = res.summary()
    assert s["n_outlets_connected"] == s["n_outlets_se"] == int((vol[-1] == SE).sum())
    assert s["tau_geo_connected_fraction"] == 1.0
    np.testing.assert_array_equal(res.tau, 1.0)
    np.testing.assert_array_equal(res.tau_lattice, 1.0)
    assert s["tau_geo_min"] == s["tau_geo_median"] == s["tau_geo_p90"] == 1.0
    assert res.path_length_um == pytest.approx(39 * 0.5)
    assert res.hist_counts.sum() == res.tau.size


@pytest.mark.parametrize("theta_deg", [22.5, 30.0, 45.0])
def test_tilted_slab_matches_per_outlet_straight_line_truth(theta_deg):
    """Thin slab: the shortest path from each outlet voxel runs straight to the nearest top voxel.

    Per outlet at lateral offset δ beyond the last inlet voxel, D = √(H² + δ²); over the outlets
    τ runs from the finite-width value √(1 + (tanθ − w/(H cosθ))²) up to 1/cosθ (METRICS.md).
    """
    shape, height, width = (64, 3, 84), 63, 4.0
    vol = tilted_slab_phantom(shape, theta_deg=theta_deg, width_vox=width)
    res = geometric_tortuosity(vol, voxel_size_um=1.0)
    top_x = np.flatnonzero(vol[0, 1] == SE).max()
    offset = np.maximum(0, res.outlet_yx[:, 1] - top_x)
    truth = np.hypot(height, offset) / height
    np.testing.assert_allclose(res.tau, truth, rtol=0.01)  # corrected: within 1 %
    tan = np.tan(np.radians(theta_deg))
    assert res.stats["tau_geo_max"] == pytest.approx(1 / np.cos(np.radians(theta_deg)), rel=0.02)
    cos = np.cos(np.radians(theta_deg))
    finite_width = np.sqrt(1 + max(0.0, tan - width / (height * cos)) ** 2)
    assert res.stats["tau_geo_min"] == pytest.approx(finite_width, rel=0.02)
    if theta_deg != 45.0:  # the 26-neighbour lattice overestimates oblique paths (not at 45°)
        assert np.max(res.tau_lattice / truth - 1) > 0.05


def test_helix_tau_lies_between_inner_wall_and_centre_line():
    radius, tube, pitch = 10.0, 3.0, 48.0
    vol = helical_tube(radius, tube, pitch, nz=65)
    res = geometric_tortuosity(vol, voxel_size_um=1.0)
    centre = np.hypot(2 * np.pi * radius, pitch) / pitch  # 1.647
    inner = np.hypot(2 * np.pi * (radius - tube), pitch) / pitch  # 1.356
    s = res.summary()
    assert s["n_outlets_connected"] > 0
    assert inner < s["tau_geo_min"] <= s["tau_geo_mean"] < centre
    assert s["tau_geo_lattice_mean"] > s["tau_geo_mean"]


def test_disconnected_network_gives_nan_summary_with_reason():
    vol = np.full((20, 10, 10), SE, dtype=np.uint8)
    vol[9] = VOID
    res = geometric_tortuosity(vol, voxel_size_um=0.5)
    s = res.summary()
    assert s["n_outlets_connected"] == 0 and s["n_outlets_se"] == 100
    assert s["tau_geo_connected_fraction"] == 0.0
    assert np.isnan(s["tau_geo_mean"]) and np.isnan(s["tau_geo_mode"])
    assert "is 6-connected to the inlet" in s["tau_geo_reason"]
    empty = geometric_tortuosity(np.full((5, 4, 4), AM, np.uint8), voxel_size_um=0.5)
    assert empty.stats["tau_geo_reason"] == "no SE voxel in the outlet plane"


def test_moves_do_not_cut_corners_and_edge_contacts_do_not_connect():
    """A one-voxel channel with two right-angle bends: D = 5 + 5 + 5 (15 / 10 = 1.5).

    Cutting the corners would give 4 + √2 + 3 + √2 + 4 = 13.83. A column that touches the
    channel only along an edge (diagonal neighbour) is not part of the 6-connected network.
    """
    vol = np.zeros((11, 3, 9), dtype=np.uint8)
    vol[0:6, 1, 0] = SE
    vol[5, 1, 0:6] = SE
    vol[5:11, 1, 5] = SE
    vol[7:11, 1, 7] = SE  # outlet column, not 6-connected
    vol[6, 1, 6] = SE  # edge-contact with (5, 1, 5) and (7, 1, 7) only
    res = geometric_tortuosity(vol, voxel_size_um=1.0)
    assert res.stats["n_outlets_se"] == 2 and res.stats["n_outlets_connected"] == 1
    assert res.tau_lattice[0] == pytest.approx(1.5)
    assert res.tau[0] == pytest.approx(1.5)


def test_guard_band_drops_outlets_near_lateral_faces():
    vol = np.full((10, 12, 12), SE, dtype=np.uint8)
    res = geometric_tortuosity(vol, voxel_size_um=1.0, guard_band_vox=3)
    assert res.stats["n_outlets_se"] == 36
    assert res.outlet_yx.min() == 3 and res.outlet_yx.max() == 8


def test_subset_pulling_leaves_nan_for_unpulled_outlets():
    vol = np.full((12, 10, 10), SE, dtype=np.uint8)
    res = geometric_tortuosity(vol, voxel_size_um=1.0, max_pulled_outlets=7)
    assert res.stats["n_outlets_pulled"] == 7 and np.isfinite(res.tau).sum() == 7
    assert np.all(np.isfinite(res.tau_lattice))


def test_tiles_report_mean_and_std_across_tiles():
    vol = np.full((16, 20, 10), SE, dtype=np.uint8)
    vol[:, 10:, :] = VOID
    vol[:, 10:, 4] = SE  # second tile: one straight channel
    vol[8, :10, :] = VOID
    vol[8, 2, 2] = SE  # first tile: all paths through one hole
    out = tiled_geometric_tortuosity(vol, voxel_size_um=1.0, tile_xy=10)
    assert out["n_tiles"] == 2 and out["n_tiles_connected"] == 2
    means = [t["tau_geo_mean"] for t in out["tiles"]]
    assert means[1] == 1.0 and means[0] > 1.05
    assert out["tau_geo_mean_tile_mean"] == pytest.approx(np.mean(means))
    assert out["tau_geo_mean_tile_std"] == pytest.approx(np.std(means))


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="3-D"):
        geometric_tortuosity(np.zeros((4, 4), np.uint8), voxel_size_um=1.0)
    with pytest.raises(ValueError, match="at least 2 z planes"):
        geometric_tortuosity(np.zeros((1, 4, 4), np.uint8), voxel_size_um=1.0)
    with pytest.raises(ValueError, match="found \\[7\\]"):
        geometric_tortuosity(np.full((3, 4, 4), 7, np.uint8), voxel_size_um=1.0)
    with pytest.raises(ValueError, match="voxel_size_um"):
        geometric_tortuosity(np.zeros((3, 4, 4), np.uint8), voxel_size_um=0.0)
    with pytest.raises(ValueError, match="guard_band_vox"):
        geometric_tortuosity(np.zeros((3, 4, 4), np.uint8), voxel_size_um=1.0, guard_band_vox=2)
    with pytest.raises(ValueError, match="tile_xy"):
        tiled_geometric_tortuosity(np.zeros((3, 4, 4), np.uint8), voxel_size_um=1.0, tile_xy=2)
    assert OUTSIDE == 255  # 255 voxels are simply not SE
