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


# --- boundary and porosity conventions (porespy / taufactor), lateral periodicity, owned tiles


@pytest.mark.parametrize("solver", ["cg", "amg"])
def test_layers_in_series_with_outer_face_planes_give_the_plain_harmonic_mean(solver):
    """taufactor convention: planes half a voxel outside, each layer counts h: D = Z / Σ 1/D_k."""
    d_layer = np.array([1.0, 4.0, 0.5, 2.0])
    layer = np.repeat(np.arange(4), [4, 3, 3, 3])  # 13 planes
    field = np.broadcast_to(d_layer[layer][:, None, None], (13, 3, 4)).copy()
    out = effective_diffusivity(field, boundary="faces", solver=solver)
    assert out["d_eff"] == pytest.approx(13 / np.sum(1 / d_layer[layer]), rel=1e-6)
    assert out["transport_length_vox"] == 13
    assert out["n_unknowns"] == field.size  # no voxel is held fixed


def test_outer_face_planes_give_maxwell_on_an_exact_periodic_cell():
    """Spheres centred half a voxel off the grid so that the outer faces are symmetry planes."""
    a, f = 24, 0.1
    radius = (3 * f * a**3 / (4 * np.pi)) ** (1 / 3)
    z, y, x = np.indices((2 * a, a, a), dtype=np.float64)
    c = (a - 1) / 2
    dz = (z - c + a / 2) % a - a / 2
    vol = np.where(dz**2 + (y - c) ** 2 + (x - c) ** 2 <= radius**2, AM, SE).astype(np.uint8)
    out = tortuosity_factor(vol, boundary="faces")
    eps = out["epsilon_se"]
    assert eps == pytest.approx(0.9, abs=0.005)
    assert out["tau_factor"] == pytest.approx((3 - eps) / 2, rel=0.03)


def test_percolating_porosity_divides_by_the_through_cluster_only():
    vol = np.zeros((12, 8, 8), dtype=np.uint8)
    vol[:, 1, 1] = SE  # through channel
    vol[:6, 5, 5] = SE  # dead end
    vol[4:8, 3, 6] = SE  # isolated
    out = tortuosity_factor(vol, porosity="percolating")
    assert out["epsilon_se_percolating"] == pytest.approx(12 / 768)
    assert out["tau_factor"] == pytest.approx(1.0, rel=1e-9)  # a straight channel
    assert out["macmullin"] == pytest.approx(64, rel=1e-9)  # does not depend on ε


def test_periodic_sides_join_paths_across_the_seam():
    """A path that crosses from column 0 to column X-1 only across the periodic seam: nine unit
    links in series, J = 1/9, D = J L / (Y X) = (1/9) 8 / 6; with walls it does not percolate."""
    field = np.zeros((9, 1, 6))
    field[:4, 0, 0] = 1.0
    field[3:, 0, 5] = 1.0
    assert effective_diffusivity(field)["d_eff"] == 0.0
    out = effective_diffusivity(field, lateral="periodic")
    assert out["d_eff"] == pytest.approx(8 / 54, rel=1e-9)
    rng = np.random.default_rng(5)  # z-uniform: the seam carries no flux, any columns
    uniform = rng.uniform(0.5, 2.0, (1, 5, 7)) * np.ones((6, 1, 1))
    assert effective_diffusivity(uniform, lateral="periodic")["d_eff"] == pytest.approx(
        uniform[0].mean(), rel=1e-9)  # fmt: skip


def test_owned_columns_report_their_own_flux_and_fraction():
    """Straight channels in one half, none in the other: the owned half reads its own ε and D."""
    vol = np.full((10, 8, 16), AM, dtype=np.uint8)
    vol[:, ::2, :8:2] = SE  # left half: ε = 1/4; right half: no SE
    left = tortuosity_factor(vol, owned_yx=(slice(None), slice(0, 8)))
    assert left["epsilon_se"] == pytest.approx(0.25) and left["d_eff_rel"] == pytest.approx(0.25)
    assert left["tau_factor"] == pytest.approx(1.0, rel=1e-9)
    right = tortuosity_factor(vol, owned_yx=(slice(None), slice(8, 16)))
    assert right["epsilon_se"] == 0.0 and right["d_eff_rel"] == pytest.approx(0.0, abs=1e-12)


def test_unknown_conventions_are_refused():
    vol = np.full((4, 3, 3), SE, dtype=np.uint8)
    with pytest.raises(ValueError, match="boundary"):
        tortuosity_factor(vol, boundary="middle")
    with pytest.raises(ValueError, match="porosity"):
        tortuosity_factor(vol, porosity="open")
    with pytest.raises(ValueError, match="lateral"):
        tortuosity_factor(vol, lateral="mirror")


def test_porespy_on_its_own_lattice_of_spheres():
    """porespy's test case (lattice_spheres 200², r 8, spacing 26, axis 1: τ = 1.35995 in its own
    tests), as a 3-plane stack; porespy's convention (Dirichlet on the first and last layers, ε of
    the through cluster). Skips without porespy (benchmarks/requirements.txt)."""
    ps = pytest.importorskip("porespy", reason="porespy is a benchmark-only peer "
                             "(pip install -r benchmarks/requirements.txt)")  # fmt: skip
    pytest.importorskip("openpnm", reason="porespy.simulations.tortuosity_fd needs openpnm")
    im = ps.generators.lattice_spheres(shape=[200, 200], r=8, spacing=26)
    peer = ps.simulations.tortuosity_fd(im=im, axis=1)
    vol = np.moveaxis(np.where(np.repeat(im[:, :, None], 3, axis=2), SE, AM), 1, 0)
    ours = tortuosity_factor(vol.astype(np.uint8), boundary="layers", porosity="percolating")
    assert ours["tau_factor"] == pytest.approx(float(peer.tortuosity), rel=1e-3)
    assert ours["epsilon_se_percolating"] == pytest.approx(float(peer.effective_porosity))
