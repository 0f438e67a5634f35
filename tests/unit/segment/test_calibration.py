"""Calibration of a scan: theory against NIST, the blur of a disc edge, cores, the choice rule."""

import numpy as np
import pytest
from scipy import ndimage

from tomopress.segment.calibration import (
    Level,
    choose_levels,
    core_level,
    denoised_blur_sigma_px,
    edge_spread_fit,
    theory_attenuation_per_cm,
    tiled_mean,
)


def test_water_attenuation_matches_nist_xcom():
    # NIST XCOM, water at 20 keV: total attenuation with coherent scattering 0.8096 cm²/g
    assert theory_attenuation_per_cm("H2O", density_g_cm3=1.0, energy_kev=20.0) == pytest.approx(
        0.8096, rel=0.01)


def test_paper_materials_are_near_the_design_values():
    # DESIGN.md: NCM111 about 80 cm⁻¹, LGPS about 21 cm⁻¹ at 20 keV
    ncm = theory_attenuation_per_cm("LiNi0.333Mn0.333Co0.333O2", density_g_cm3=4.77, energy_kev=20)
    lgps = theory_attenuation_per_cm("Li10GeP2S12", density_g_cm3=2.04, energy_kev=20)
    assert ncm == pytest.approx(80, rel=0.02) and lgps == pytest.approx(21, rel=0.02)


def test_bad_formula_is_a_clear_error():
    with pytest.raises(ValueError, match="Xx9"):
        theory_attenuation_per_cm("Xx9", density_g_cm3=1.0, energy_kev=20)


def _blurred_disc(sigma_px: float, noise: float, seed: int = 0) -> np.ndarray:
    ff, n = 4, 96
    yy, xx = (np.indices((n * ff, n * ff)) + 0.5) / ff
    disc = np.hypot(yy - 47.3, xx - 48.1) <= 35.0
    # blurred on a grid 4x finer (a sampled kernel is exact there), then integrated over pixels
    fine = ndimage.gaussian_filter(20.0 * disc, sigma_px * ff)
    planes = np.stack([fine.reshape(n, ff, n, ff).mean(axis=(1, 3))] * 3)
    return planes + np.random.default_rng(seed).normal(0, noise, planes.shape)


@pytest.mark.parametrize("sigma_px", [0.6, 1.2])
def test_edge_spread_fit_measures_the_blur_of_a_disc(sigma_px):
    fit = edge_spread_fit(_blurred_disc(sigma_px, noise=1.0), threshold=10.0)
    # pixel integration adds a box of width 1 (variance 1/12) to the Gaussian
    expected = np.sqrt(sigma_px**2 + 1 / 12)
    assert fit.sigma_px == pytest.approx(expected, rel=0.05)
    assert abs(fit.sigma_px - expected) <= 3 * fit.sigma_stderr_px + 0.01
    assert abs(fit.outside_level) < 0.1 and fit.inside_level == pytest.approx(20.0, rel=0.01)


def test_edge_spread_fit_is_not_pulled_by_ringing_outside_the_rim():
    # a reconstruction's ringing: a ring a tenth of the step high, 1.5-2.5 px outside the rim
    planes = _blurred_disc(0.4, noise=0.5)
    yy, xx = np.indices(planes.shape[1:]) + 0.5
    r = np.hypot(yy - 47.3, xx - 48.1) - 35.0
    planes = planes + 2.0 * ((r > 1.5) & (r < 2.5))
    fit = edge_spread_fit(planes, threshold=10.0)
    assert fit.sigma_px == pytest.approx(np.sqrt(0.4**2 + 1 / 12), abs=0.08)


def test_edge_spread_fit_shares_one_centre_over_noisy_planes():
    # at 2,000 counts a plane's thresholded disc puts its centre off by tenths of a pixel;
    # six noisy planes of one cylinder still give its blur
    planes = np.concatenate([_blurred_disc(0.8, noise=12.0, seed=s) for s in range(2)])
    fit = edge_spread_fit(planes, threshold=10.0)
    expected = np.sqrt(0.8**2 + 1 / 12)
    assert fit.sigma_px == pytest.approx(expected, abs=max(2 * fit.sigma_stderr_px, 0.1))
    assert fit.sigma_stderr_px < 0.2


def test_no_air_around_the_sample_gives_no_edge_fit():
    full = np.full((2, 32, 32), 20.0)
    assert edge_spread_fit(full, threshold=10.0) is None


def test_core_level_of_a_blurred_ball_is_its_attenuation():
    z, y, x = np.indices((40, 40, 40)) - 19.5
    ball = np.sqrt(z**2 + y**2 + x**2) <= 12
    grey = ndimage.gaussian_filter(np.where(ball, 80.0, 20.0), 1.0)
    grey += np.random.default_rng(1).normal(0, 5, grey.shape)
    lev = core_level(grey, grey > 50, erosion_px=4)
    assert lev.value == pytest.approx(80.0, abs=max(3 * lev.stderr, 0.2))


def test_tiled_mean_error_covers_the_truth():
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(40):
        v = rng.normal(5.0, 1.0, (4, 32, 32))
        lev = tiled_mean(v, np.ones(v.shape, bool))
        hits += abs(lev.value - 5.0) < 2 * lev.stderr
    assert hits >= 32  # ~95 % coverage of a 2-sigma interval


def test_denoised_blur_without_denoising_is_the_blur():
    sigma = denoised_blur_sigma_px(0.9, 2.0, contrast=20.0, denoise_options={"method": "none"})
    assert sigma == pytest.approx(0.9, rel=0.05)


def test_levels_follow_theory_when_the_scan_confirms_it():
    theory = {"am": 80.0, "se": 20.8}
    out = choose_levels(theory=theory, am_core=Level(79.6, 0.05, 1000),
                        se_dense=Level(20.6, 0.05, 1000), air=Level(0.1, 0.01, 500))
    assert out["reference"] == "theory" and out["warnings"] == []
    assert out["levels_per_cm"] == {"void": 0.0, "se": 20.8, "am": 80.0}
    assert out["uncertainty_per_cm"]["se"] == pytest.approx(20.8 * (1 - 79.6 / 80))


def test_air_far_from_zero_is_reported():
    out = choose_levels(theory={"am": 80.0, "se": 20.8}, am_core=Level(79.6, 0.05, 1000),
                        se_dense=Level(20.6, 0.05, 1000), air=Level(2.0, 0.01, 500))
    assert any("air around the sample reads +2" in w for w in out["warnings"])


def test_levels_fall_back_to_the_scan_when_theory_disagrees():
    out = choose_levels(theory={"am": 80.0, "se": 20.8}, am_core=Level(70.0, 0.1, 1000),
                        se_dense=Level(18.0, 0.1, 1000), air=None)
    assert out["reference"] == "in_scan"
    assert out["levels_per_cm"] == {"void": 0.0, "se": 18.0, "am": 70.0}
    assert any("AM cores read -12.5 %" in w for w in out["warnings"])


def test_an_insignificant_core_disagreement_keeps_the_theory():
    # 5.2 % low but at 2.2 standard errors (323 noisy core voxels): weaker than the composition
    weak = Level(80.0 * 0.948, 1.91, 323)
    out = choose_levels(theory={"am": 80.0, "se": 20.8}, am_core=weak,
                        se_dense=Level(20.8, 0.1, 1000), air=None)
    assert out["reference"] == "theory"
    assert out["levels_per_cm"] == {"void": 0.0, "se": 20.8, "am": 80.0}
    assert out["uncertainty_per_cm"]["am"] == pytest.approx(0.052 * 80.0)
    assert any("AM cores read -5.2 %" in w and "not significant: 323 core voxels" in w
               for w in out["warnings"])
    # the same disagreement at 12 standard errors is evidence: the scan's levels are used
    strong = Level(80.0 * 0.948, 0.35, 5000)
    out = choose_levels(theory={"am": 80.0, "se": 20.8}, am_core=strong,
                        se_dense=Level(20.8, 0.1, 1000), air=None)
    assert out["reference"] == "in_scan" and out["levels_per_cm"]["am"] == pytest.approx(75.84)


def test_subresolution_separator_porosity_is_reported():
    out = choose_levels(theory={"am": 80.0, "se": 20.0}, am_core=Level(80.0, 0.1, 1000),
                        se_dense=Level(18.0, 0.1, 1000), air=None)
    assert out["se_subresolution_porosity"] == pytest.approx(0.1)
    assert any("below the resolution" in w for w in out["warnings"])
