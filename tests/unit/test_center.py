import numpy as np
import pytest

from tomopress.center import center_of_mass_center


def _disc_sinogram(center_px, n_cols=128, n_angles=180, discs=((20.0, -10.0, 9.0), (-25, 15, 6))):
    """Exact parallel-beam sinogram of uniform discs (x, y, radius): chord 2 sqrt(r² - d²)."""
    theta = np.linspace(0, np.pi, n_angles, endpoint=False)
    u = np.arange(n_cols, dtype=np.float64)
    sino = np.zeros((n_angles, 1, n_cols))
    for x, y, r in discs:
        d = u[None, :] - center_px - (x * np.cos(theta) + y * np.sin(theta))[:, None]
        sino[:, 0, :] += 2 * np.sqrt(np.clip(r**2 - d**2, 0, None))
    return sino, theta


@pytest.mark.parametrize("true_center", [63.5, 60.3, 67.85])
def test_centre_of_known_offset_within_a_tenth_of_a_pixel(true_center):
    sino, theta = _disc_sinogram(true_center)
    estimate = center_of_mass_center(sino, theta)
    assert estimate.center_px == pytest.approx(true_center, abs=0.1)
    assert estimate.confidence > 0.9


def test_noise_and_few_rows_still_within_a_quarter_pixel():
    rng = np.random.default_rng(7)
    sino, theta = _disc_sinogram(61.7)
    sino = np.repeat(sino, 4, axis=1) + rng.normal(0, 0.5, size=(180, 4, 128))
    assert center_of_mass_center(sino, theta).center_px == pytest.approx(61.7, abs=0.25)


def test_empty_sinogram_is_refused():
    with pytest.raises(ValueError, match="no projection carries positive mass"):
        center_of_mass_center(np.zeros((10, 1, 16)), np.linspace(0, np.pi, 10))
