import numpy as np
import pytest

from tomopress.metrics.diffusion import effective_diffusivity, tortuosity_factor
from tomopress.synthetic.phantoms3d import sphere_array_phantom
from tomopress.types import AM, OUTSIDE, SE


def test_straight_channels_have_tau_factor_one():
    vol = np.full((30, 16, 16), AM, dtype=np.uint8)
    vol[:, 1::4, 2::3] = SE
    out = tortuosity_factor(vol)
    eps = (vol == SE).mean()
    assert out["epsilon_se"] == pytest.approx(eps)
    assert out["tau_factor"] == pytest.approx(1.0, rel=1e-9)
    assert out["d_eff_rel"] == out["sigma_eff_rel"] == pytest.approx(eps, rel=1e-9)
    assert out["macmullin"] == pytest.approx(1 / eps, rel=1e-9)
    assert out["se_percolating_fraction"] == 1.0


@pytest.mark.parametrize("solver", ["cg", "amg"])
def test_layers_in_series_give_harmonic_mean_with_half_end_layers(solver):
    """Dirichlet planes on the first and last voxel centres: those layers count h/2."""
    if solver == "amg":
        pytest.importorskip("pyamg")
    d_layer = np.array([1.0, 4.0, 0.5, 2.0])
    layer = np.repeat(np.arange(4), [4, 3, 3, 3])  # 13 planes
    field = np.broadcast_to(d_layer[layer][:, None, None], (13, 3, 4)).copy()
    ell = np.ones(13)
    ell[[0, -1]] = 0.5
    truth = 12 / np.sum(ell / d_layer[layer])  # H / Σ h_i / D_i with H = (Z - 1) h
    assert effective_diffusivity(field, solver=solver)["d_eff"] == pytest.approx(truth, rel=1e-6)


def test_layers_in_parallel_give_arithmetic_mean():
    field = np.ones((20, 4, 5))
    field[:, :, 1] = 3.0
    field[:, :, 2] = 0.25
    field[:, :, 3] = 0.0  # an insulating column
    truth = np.mean([1.0, 3.0, 0.25, 0.0, 1.0])  # Σ φ_i D_i
    out = effective_diffusivity(field)
    assert out["d_eff"] == pytest.approx(truth, rel=1e-9)
    assert np.isnan(out["concentration"][:, 0, 3]).all()


def test_dilute_cubic_array_of_insulating_spheres_follows_maxwell():
    """f = 0.1 insulating spheres on a cubic lattice of period 24 voxels (two cells along z).

    Side walls and the two Dirichlet planes are symmetry planes of the infinite array, so the
    box is an exact periodic cell. Maxwell: τ_f = (3 − ε)/2; measured +1.0 % (Rayleigh's higher
    order terms and the digitised sphere).
    """
    out = tortuosity_factor(sphere_array_phantom(period_vox=24, volume_fraction=0.1))
    eps = out["epsilon_se"]
    assert eps == pytest.approx(0.9, abs=0.005)
    assert out["tau_factor"] == pytest.approx((3 - eps) / 2, rel=0.03)
    assert out["flux_imbalance"] < 1e-4


def test_dead_ends_and_isolated_clusters_are_excluded_but_counted_in_epsilon():
    vol = np.zeros((12, 8, 8), dtype=np.uint8)
    vol[:, 1, 1] = SE  # through channel, 12 voxels
    vol[:6, 5, 5] = SE  # dead end from the inlet, 6 voxels
    vol[4:8, 3, 6] = SE  # isolated, 4 voxels
    out = tortuosity_factor(vol)
    assert out["d_eff_rel"] == pytest.approx(1 / 64, rel=1e-9)
    assert out["epsilon_se"] == pytest.approx(22 / 768)
    assert out["tau_factor"] == pytest.approx(22 / 12, rel=1e-9)
    assert out["se_percolating_fraction"] == pytest.approx(12 / 22)


def test_outside_voxels_shrink_the_region_not_the_conductance():
    vol = np.full((10, 6, 6), OUTSIDE, dtype=np.uint8)
    vol[:, 1:5, 1:5] = AM
    vol[:, 2, 2:4] = SE
    out = tortuosity_factor(vol)
    assert out["epsilon_se"] == pytest.approx(2 / 16)
    assert out["tau_factor"] == pytest.approx(1.0, rel=1e-9)


def test_no_spanning_se_gives_zero_diffusivity():
    vol = np.full((10, 4, 4), SE, dtype=np.uint8)
    vol[5] = AM
    out = tortuosity_factor(vol)
    assert out["d_eff_rel"] == 0.0 and out["tau_factor"] == np.inf and out["macmullin"] == np.inf


def test_two_planes_need_no_solve():
    out = effective_diffusivity(np.full((2, 3, 3), 2.0))
    assert out["d_eff"] == pytest.approx(2.0) and out["n_unknowns"] == 0


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="Z >= 2"):
        effective_diffusivity(np.ones((1, 3, 3)))
    with pytest.raises(ValueError, match=">= 0"):
        effective_diffusivity(-np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="finite"):
        effective_diffusivity(np.full((3, 3, 3), np.nan))
    with pytest.raises(ValueError, match="solver"):
        effective_diffusivity(np.ones((3, 3, 3)), solver="lu")
    with pytest.raises(ValueError, match="rtol"):
        effective_diffusivity(np.ones((3, 3, 3)), rtol=2.0)
    with pytest.raises(ValueError, match="no counted voxel"):
        tortuosity_factor(np.full((3, 3, 3), OUTSIDE, dtype=np.uint8))
    with pytest.raises(ValueError, match="found \\[9\\]"):
        tortuosity_factor(np.full((3, 3, 3), 9, dtype=np.uint8))
