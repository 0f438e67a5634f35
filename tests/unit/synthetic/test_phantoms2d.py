"""Exact line integrals of the analytic phantoms, checked independently."""

import numpy as np
import pytest
from scipy.integrate import quad

from tomopress.synthetic import phantoms2d as ph


def test_disc_line_integral_is_chord_length_times_value():
    rng = np.random.default_rng(16602)
    r, cx, cy = 17.5, 3.2, -8.1
    objs = [ph.disc(2.5, cx, cy, r)]
    angles = rng.uniform(0, np.pi, 5)
    s = np.linspace(-40, 40, 161)
    got = ph.line_integrals(objs, angles, s)
    for a, row in zip(angles, got):
        t = s - (cx * np.cos(a) - cy * np.sin(a))  # offset from the disc centre's projection
        want = 2.5 * 2 * np.sqrt(np.clip(r * r - t * t, 0, None))
        np.testing.assert_allclose(row, want, atol=1e-12)


@pytest.mark.parametrize("smoothness", [0.0, 2.0, 3.5])
@pytest.mark.parametrize("theta", [0.0, 0.4, np.pi / 2, 2.2])
def test_ellipse_line_integral_matches_quadrature_of_density(smoothness, theta):
    e = ph.Ellipse(1.7, 4.0, -2.0, 20.0, 9.0, 0.6, smoothness)
    direction = np.array([np.sin(theta), np.cos(theta)])  # ray direction in (x, y)
    normal = np.array([np.cos(theta), -np.sin(theta)])  # s = normal . (x, y)
    for s in (-15.0, -3.3, 0.0, 7.7, 19.0):
        def f(t, s=s):
            p = s * normal + t * direction
            return float(ph.density([e], np.array(p[0]), np.array(p[1])))

        want, _ = quad(f, -40, 40, points=None, limit=400, epsabs=1e-10)
        got = ph.line_integrals([e], np.array([theta]), np.array([s]))[0, 0]
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6)


def test_pixel_image_sums_match_sinogram_orientation():
    """Sums of the supersampled image along columns (θ = 0) and rows (θ = π/2) equal the
    exact projections averaged over the detector pixel: this pins the geometry
    s = x cos θ − y sin θ with x the column and y the row offset."""
    n = 64
    objs = [ph.Ellipse(1.0, 6.0, -10.0, 14.0, 6.0, 0.3, 2.0), ph.disc(0.5, -12.0, 9.0, 7.0,
                                                                         smoothness=2.0)]
    img = ph.pixel_image(objs, n, supersample=8)
    c = (n - 1) / 2
    sino = ph.sinogram(objs, np.array([0.0, np.pi / 2]), n_cols=n, center_px=c,
                       detector_supersample=8)
    np.testing.assert_allclose(img.sum(axis=0), sino[0], atol=2e-3 * sino.max())
    # θ = π/2: s = −y, so detector column j sees image row n − 1 − j
    np.testing.assert_allclose(img.sum(axis=1)[::-1], sino[1], atol=2e-3 * sino.max())


def test_sinogram_integrates_along_an_oblique_line_of_the_image():
    """Bilinear line integral through a finely supersampled image at 30°."""
    from scipy.ndimage import map_coordinates

    n, up = 48, 8
    objs = [ph.disc(1.0, 5.0, -4.0, 9.0, smoothness=3.0)]
    fine_objs = [ph.disc(1.0, 5.0 * up, -4.0 * up, 9.0 * up, smoothness=3.0)]
    fine = ph.pixel_image(fine_objs, n * up, supersample=2)  # same object, pixels of 1/up
    theta = np.deg2rad(30.0)
    s = 2.5
    t = np.linspace(-30, 30, 3001)
    x = s * np.cos(theta) + t * np.sin(theta)
    y = -s * np.sin(theta) + t * np.cos(theta)
    cf = (n * up - 1) / 2
    vals = map_coordinates(fine, [y * up + cf, x * up + cf], order=1)
    numeric = np.trapezoid(vals, t)
    exact = ph.line_integrals(objs, np.array([theta]), np.array([s]))[0, 0]
    assert numeric == pytest.approx(exact, rel=2e-3)


def test_shepp_logan_and_validation():
    objs = ph.shepp_logan(128, value=2.0)
    assert len(objs) == 10 and objs[0].value == 2.0
    assert objs[0].semi_b_px == pytest.approx(0.92 * 0.45 * 128)
    with pytest.raises(ValueError, match="semi-axes"):
        ph.Ellipse(1.0, 0, 0, 0.0, 1.0)
    with pytest.raises(ValueError, match="smoothness"):
        ph.disc(1.0, 0, 0, 1.0, smoothness=-1)
