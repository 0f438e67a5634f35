"""Blur-aware labels against an analytic phantom: an AM ball with a void belt at its equator.

The ball (radius 10 voxels) sits in SE; a void belt of thickness t hugs its surface where
|cos θ| < c, so the true contact-area fraction is 1 - c (METRICS.md, capped sphere). The
phantom is built on a 4x finer grid, averaged to voxels (partial volume), blurred and noised;
plain midpoint thresholds read the thin belt as contact (the false-rim problem).
"""

import numpy as np
import pytest
from scipy import ndimage

from tomopress.metrics.contact import contact_metrics
from tomopress.segment.blur_aware import am_occupancy, blur_aware_labels, subvoxel_distance
from tomopress.segment.labelling import segment_volume
from tomopress.types import AM

LEVELS = (0.0, 20.77, 80.18)
BLUR = float(np.hypot(0.7, 0.29))  # the phantom's Gaussian with the voxel integration (1/12)


def _belt_phantom(belt_vox: float, *, c: float = 0.5, sigma_px: float = 0.7, noise: float = 2.0):
    ff, n, r = 4, 36, 10.0
    grid = (np.indices((n * ff,) * 3) + 0.5) / ff - n / 2
    z, y, x = (g - o for g, o in zip(grid, (0.3, -0.2, 0.1)))
    rho = np.sqrt(z**2 + y**2 + x**2)
    fine = np.ones(rho.shape, np.uint8)
    fine[(rho > r) & (rho <= r + belt_vox) & (np.abs(z) < c * rho)] = 0
    fine[rho <= r] = AM
    grey = np.asarray(LEVELS, np.float32)[fine].reshape(n, ff, n, ff, n, ff).mean(axis=(1, 3, 5))
    grey = ndimage.gaussian_filter(grey, sigma_px)
    grey += np.random.default_rng(7).normal(0, noise, grey.shape).astype(np.float32)
    return grey, fine


def _first_am(grey):
    """AM of the first, gradient-based labels, as the pipeline makes them."""
    return segment_volume(grey, means=LEVELS, denoiser="none") == AM


def _labels(grey, first_am):
    return blur_aware_labels(grey, first_am, levels=LEVELS, mean_grey=float(grey.mean()),
                             noise_sigma=2.0, denoise_options={"method": "none"},
                             fallback_blur_sigma_px=BLUR)


def _contact(labels):
    return contact_metrics(labels, voxel_size_um=1.0)["contact_area_fraction"]


@pytest.mark.parametrize("belt_vox", [2.0, 3.0])
def test_void_belt_is_seen_where_thresholds_read_contact(belt_vox):
    grey, fine = _belt_phantom(belt_vox)
    labels, occupancy, info = _labels(grey, _first_am(grey))
    thresholds = np.where(grey > 50.5, 2, np.where(grey > 10.4, 1, 0)).astype(np.uint8)
    assert info["balanced"]
    # one ball: its gradient-placed boundary sits inside by the curvature, no blur closes the
    # balance at δ = 0, and the calibration's blur is applied
    assert np.isnan(info["am_edge_blur_sigma_px"]) and info["blur_sigma_px"] == BLUR
    assert _contact(thresholds) > 0.95  # the problem: the belt reads as contact
    assert _contact(labels) == pytest.approx(0.5, abs=0.1)  # truth 1 - c
    assert occupancy.mean() == pytest.approx(np.mean(fine == AM), rel=0.02)


def test_gapless_contact_stays_contact():
    grey, fine = _belt_phantom(0.0)
    labels, occupancy, _ = _labels(grey, _first_am(grey))
    assert _contact(labels) > 0.95
    assert np.mean(labels == 0) < 0.002


def test_occupancy_of_a_tilted_plane_holds_its_volume():
    # plane z = 0.3 x + 11.37 given as a voxel staircase: the AM share summed over a column
    # follows the plane's height (the staircase itself errs by up to ±0.5); the probit of the
    # sampled kernel leaves -0.02 voxel on this oblique plane, which the AM offset absorbs
    z, _, x = np.indices((24, 4, 24)).astype(float)
    height = 0.3 * x + 11.37
    mask = z + 0.5 <= height  # voxel centres below the plane
    occ = am_occupancy(subvoxel_distance(mask), 0.0)
    err = occ.sum(axis=0)[:, 2:22] - height[0, :, 2:22]  # two periods of the staircase
    assert abs(err.mean()) < 0.03 and np.abs(err).max() < 0.2
    assert np.abs(mask.sum(axis=0)[:, 4:20] - height[0, :, 4:20]).max() > 0.4


def test_bad_input_is_refused():
    kw = dict(mean_grey=0.0, noise_sigma=1.0, denoise_options={"method": "none"})
    with pytest.raises(ValueError, match="ordered"):
        blur_aware_labels(np.zeros((4, 4, 4)), np.zeros((4, 4, 4), bool), levels=(0, 80, 20),
                          fallback_blur_sigma_px=1.0, **kw)
    with pytest.raises(ValueError, match="fallback_blur_sigma_px"):
        blur_aware_labels(np.zeros((4, 4, 4)), np.zeros((4, 4, 4), bool), levels=LEVELS,
                          fallback_blur_sigma_px=0.0, **kw)
