"""Partial-volume fractions: exact for the mixing law, blind to blur, honest about their error."""

import numpy as np
import pytest
from scipy import ndimage

from tomopress.metrics.partial_volume import pv_fractions, pv_profiles_z
from tomopress.types import AM, OUTSIDE, SE, VOID

LEVELS = {"void": 0.0, "se": 20.77, "am": 80.18}


def _phantom(seed: int = 0):
    """Random 3-phase structure on a 4x finer grid, averaged to voxels, blurred, noised."""
    rng = np.random.default_rng(seed)
    ff, shape = 4, (16, 32, 32)
    fine_shape = tuple(ff * n for n in shape)
    field = ndimage.gaussian_filter(rng.standard_normal(fine_shape), 3.0)
    am_field = ndimage.gaussian_filter(rng.standard_normal(fine_shape), 6.0)
    fine = np.full(fine_shape, SE, np.uint8)
    fine[field > np.quantile(field, 0.8)] = VOID  # sub-voxel and larger voids
    fine[am_field > np.quantile(am_field, 0.6)] = AM
    mu = np.array([LEVELS["void"], LEVELS["se"], LEVELS["am"]])[fine]
    coarse = lambda a: a.reshape(shape[0], ff, shape[1], ff, shape[2], ff).mean(axis=(1, 3, 5))
    grey = ndimage.gaussian_filter(coarse(mu), 1.0) + rng.normal(0, 6.0, shape)
    return grey.astype(np.float32), coarse((fine == AM).astype(float)), fine


def test_fractions_follow_the_fine_truth_whatever_the_blur():
    grey, am_share, fine = _phantom()
    labels = np.ones(grey.shape, np.uint8)
    out = pv_fractions(grey, am_share, labels, levels=LEVELS,
                       level_uncertainty={"void": 0, "se": 0, "am": 0})
    truth = {k: float(np.mean(fine == v)) for k, v in (("void", VOID), ("se", SE), ("am", AM))}
    for phase in ("void", "se", "am"):
        err = out[f"volume_fraction_{phase}"] - truth[phase]
        assert abs(err) < max(3 * out[f"volume_fraction_{phase}_uncertainty"], 1e-3), phase
    assert out["porosity"] == out["volume_fraction_void"]


def test_calibration_error_is_carried_into_the_uncertainty():
    grey, am_share, _ = _phantom()
    labels = np.ones(grey.shape, np.uint8)
    tight = pv_fractions(grey, am_share, labels, levels=LEVELS,
                         level_uncertainty={"void": 0, "se": 0, "am": 0})
    loose = pv_fractions(grey, am_share, labels, levels=LEVELS,
                         level_uncertainty={"void": 0, "se": 0.2077, "am": 0.8})
    # a 1 % error in µ_SE moves porosity by about phi_SE points (METRICS.md: ~1 point)
    assert loose["porosity_uncertainty"] > tight["porosity_uncertainty"]
    assert loose["porosity_uncertainty"] >= 0.01 * tight["volume_fraction_se"]


def test_outside_voxels_are_not_counted():
    grey, am_share, _ = _phantom()
    labels = np.ones(grey.shape, np.uint8)
    labels[:, :, :4] = OUTSIDE
    grey2 = grey.copy()
    grey2[:, :, :4] = 1000.0  # would spoil the mean if counted
    a = pv_fractions(grey, am_share, np.where(labels == OUTSIDE, OUTSIDE, 1).astype(np.uint8),
                     levels=LEVELS, level_uncertainty={})
    b = pv_fractions(grey2, am_share, labels, levels=LEVELS, level_uncertainty={})
    assert a["porosity"] == pytest.approx(b["porosity"])


def test_profiles_average_to_the_layer_value():
    grey, am_share, _ = _phantom()
    labels = np.ones(grey.shape, np.uint8)
    prof = pv_profiles_z(grey, am_share, labels, levels=LEVELS)
    layer = pv_fractions(grey, am_share, labels, levels=LEVELS, level_uncertainty={})
    assert np.mean(prof["volume_fraction_void"]) == pytest.approx(layer["porosity"])


def test_am_share_uncertainty_goes_through_the_mixing_equation():
    """An uncertainty u of the AM share moves SE by -u (µ_AM - µ_void) / (µ_SE - µ_void) and the
    void by the rest (analytic derivatives of the mixing equation), in quadrature."""
    grey, am_share, _ = _phantom()
    labels = np.ones(grey.shape, np.uint8)
    none = {"void": 0, "se": 0, "am": 0}
    base = pv_fractions(grey, am_share, labels, levels=LEVELS, level_uncertainty=none)
    u = 0.006
    out = pv_fractions(grey, am_share, labels, levels=LEVELS, level_uncertainty=none,
                       am_share_uncertainty=u)
    d_se = u * (LEVELS["am"] - LEVELS["void"]) / (LEVELS["se"] - LEVELS["void"])
    expect = {"volume_fraction_am": u, "volume_fraction_se": d_se, "porosity": d_se - u}
    for key, d in expect.items():
        assert out[f"{key}_uncertainty"] == pytest.approx(
            np.hypot(base[f"{key}_uncertainty"], d), rel=1e-9), key
    assert out["porosity"] == base["porosity"]  # the estimate itself does not move
