"""Fresnel propagation of exit waves (tomopress.synthetic.propagation)."""

from __future__ import annotations

import numpy as np
import pytest

from tomopress.synthetic.propagation import (
    exit_wave,
    fresnel_propagate,
    intensity,
    wavelength_m,
)

LAM = wavelength_m(20.0)
PX = 0.25e-6


def _gaussian_phase_object(n: int = 128, sigma_px: float = 6.0, delta_path_m: float = 5e-12):
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    p_delta = delta_path_m * np.exp(-(xx**2 + yy**2) / (2 * sigma_px**2))
    return p_delta, xx, yy


def test_wavelength_at_20_kev():
    assert wavelength_m(20.0) == pytest.approx(6.1992e-11, rel=1e-4)  # hc / E


def test_zero_distance_is_beer_lambert():
    p_mu = np.random.default_rng(0).uniform(0, 3, (8, 8))
    wave = exit_wave(p_mu, np.zeros_like(p_mu), wavelength_m=LAM)
    out = fresnel_propagate(wave, distance_m=0.0, wavelength_m=LAM, pixel_size_m=PX)
    np.testing.assert_allclose(intensity(out), np.exp(-p_mu), rtol=1e-5)


def test_weak_phase_object_follows_the_transport_of_intensity_equation():
    """Near field, pure phase: I_z = 1 - (λ z / 2π) ∇²φ with φ = -k ∫δ (Paganin 2006, eq. 2.34)
    for a smooth object; compared with the analytic Laplacian of the Gaussian."""
    p_delta, xx, yy = _gaussian_phase_object()
    z = 0.005
    wave = exit_wave(np.zeros_like(p_delta), p_delta, wavelength_m=LAM)
    got = intensity(fresnel_propagate(wave, distance_m=z, wavelength_m=LAM, pixel_size_m=PX))
    k = 2 * np.pi / LAM
    s2 = (6.0 * PX) ** 2
    r2 = (xx**2 + yy**2) * PX**2
    lap_phi = -k * p_delta * (r2 / s2**2 - 2 / s2)  # ∇² of -k ∫δ, analytic
    expected = 1 - z / k * lap_phi
    contrast = np.ptp(expected)
    assert contrast > 0.02  # a visible fringe, not a trivial check
    assert np.max(np.abs(got - expected)) < 0.05 * contrast


def test_propagation_conserves_flux_and_makes_fringes():
    p_delta, xx, yy = _gaussian_phase_object(sigma_px=2.0, delta_path_m=2e-9)
    p_mu = 0.5 * (np.hypot(xx, yy) < 20)
    wave = exit_wave(p_mu, p_delta, wavelength_m=LAM)
    i0 = intensity(wave)
    iz = intensity(fresnel_propagate(wave, distance_m=0.01, wavelength_m=LAM, pixel_size_m=PX))
    assert iz.sum() == pytest.approx(i0.sum(), rel=2e-3)
    assert iz.max() > 1.1  # edge-enhancement fringes above the open beam


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="distance_m"):
        fresnel_propagate(np.ones((4, 4)), distance_m=-1.0, wavelength_m=LAM, pixel_size_m=PX)
    with pytest.raises(ValueError, match="dimensions"):
        fresnel_propagate(np.ones(4), distance_m=1.0, wavelength_m=LAM, pixel_size_m=PX)
