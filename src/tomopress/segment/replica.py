"""A replica of a layer scan made from its own labels: how far the segmentation moves a metric.

Why. The labels of a scan are not its structure: the blur joins thin necks and closes thin
voids, the noise breaks necks, and metrics that depend on topology (the tortuosity factor of a
23 % SE network, the contact fraction) move with them by far more than their tile scatter
says. Where the truth is unknown, the size of that shift can be measured by a parametric
bootstrap: render the labels as a scan with the scan's own measured levels, blur and noise,
label the replica exactly as the scan was labelled, and compare the metrics of the two label
volumes. The difference is the segmentation's bias on a structure like ours at this
resolution; it goes into each metric's uncertainty (:mod:`tomopress.metrics.layer`).

What it cannot see: structure the labels have already lost (a void thinner than the blur that
was labelled SE is not in the rendering either), so the shift is a lower bound of the
segmentation's error where voids are far below the resolution (the contact fraction of
equatorial gaps): the matrix of benchmarks/fidelity.py reports how often it covers the error.

The forward model, each part measured on the scan:

- levels: the class means of the thresholds record (the grey units the labels were made in);
- blur: the calibration's isotropic Gaussian σ (the edge fit of the sample against air);
- noise: the thresholds record's noise σ with the spectrum of filtered back-projection, a ramp
  ``|k|`` in each plane up to the Nyquist circle ``|k| = 1/2`` and nothing beyond (the
  reconstruction is band-limited to it), independent between planes (parallel beam: detector
  rows are independent; the residual's plane-to-plane correlation is 0.03-0.15 on the matrix).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from tomopress.types import AM, OUTSIDE, F32Array, LabelVolume

__all__ = ["fbp_noise", "render_labels", "replica_labels", "replica_window"]

#: x-y side of the window the replica is made on (voxels): the validation matrix's crops are
#: 96 voxels wide, and the shift is an intensive quantity
REPLICA_WINDOW_XY = 128


def fbp_noise(shape: tuple[int, int, int], sigma: float, rng: np.random.Generator) -> F32Array:
    """Noise with the spectrum of filtered back-projection: ramp in each plane, band-limited.

    Parameters
    ----------
    shape : tuple of int
        (Z, Y, X); each z plane gets its own realisation.
    sigma : float
        Standard deviation of the result (≥ 0).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of float32
        Zero-mean noise whose in-plane power spectrum is ``∝ |k|`` for ``|k| ≤ 1/2``
        (cycles per voxel) and zero beyond, scaled to standard deviation `sigma`.

    Examples
    --------
    >>> n = fbp_noise((4, 64, 64), 3.0, np.random.default_rng(1))
    >>> round(float(n.std()), 6)
    3.0
    """
    if not sigma >= 0:
        raise ValueError(f"noise sigma must be >= 0, got {sigma!r}")
    white = rng.standard_normal(shape)
    ky = np.fft.fftfreq(shape[1])[:, None]
    kx = np.fft.fftfreq(shape[2])[None, :]
    k = np.hypot(ky, kx)
    amplitude = np.sqrt(k) * (k <= 0.5)
    noise = np.fft.ifft2(np.fft.fft2(white, axes=(1, 2)) * amplitude, axes=(1, 2)).real
    sd = float(noise.std())
    return (noise * (sigma / sd if sd > 0 else 0.0)).astype(np.float32)


def render_labels(labels: LabelVolume, levels: tuple[float, float, float],
                  blur_sigma_px: float) -> F32Array:
    """Grey levels of a label volume (void, SE, AM levels) blurred by an isotropic Gaussian.

    Outside voxels (255) are rendered at the void level.

    Examples
    --------
    >>> lab = np.zeros((1, 1, 6), np.uint8); lab[..., 3:] = 2
    >>> render_labels(lab, (0.0, 20.0, 80.0), 0.0)[0, 0].tolist()
    [0.0, 0.0, 0.0, 80.0, 80.0, 80.0]
    """
    lut = np.full(256, levels[0], np.float32)
    lut[: AM + 1] = np.asarray(levels, np.float32)
    grey = lut[np.asarray(labels)]
    if blur_sigma_px > 0:
        grey = ndimage.gaussian_filter(grey, blur_sigma_px, mode="nearest")
    return grey


def replica_window(shape: tuple[int, ...], side: int = REPLICA_WINDOW_XY) -> tuple[slice, ...]:
    """The centred full-height window of at most `side` x `side` voxels the replica covers.

    Examples
    --------
    >>> replica_window((10, 300, 100), 128)
    (slice(0, 10, None), slice(86, 214, None), slice(0, 100, None))
    """
    _, ny, nx = shape
    sy, sx = min(side, ny), min(side, nx)
    y0, x0 = (ny - sy) // 2, (nx - sx) // 2
    return (slice(0, shape[0]), slice(y0, y0 + sy), slice(x0, x0 + sx))


def replica_labels(
    labels: LabelVolume,
    *,
    levels: tuple[float, float, float],
    blur_sigma_px: float,
    noise_sigma: float,
    relabel: Callable[[np.ndarray], LabelVolume],
    seed: int = 0,
) -> LabelVolume:
    """Labels of a replica scan rendered from `labels` with the scan's levels, blur and noise.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        The labels of (a window of) the layer: 0 void, 1 SE, 2 AM, 255 outside.
    levels : tuple of float
        Grey levels of void, SE and AM in the units `relabel` expects.
    blur_sigma_px : float
        The scan's measured blur (Gaussian σ, voxels).
    noise_sigma : float
        The scan's noise standard deviation (grey units).
    relabel : callable
        Grey levels -> labels, the scan's own labelling (same denoiser, levels and options).
    seed : int
        Seed of the noise realisation (fixed: reruns give the same replica).

    Returns
    -------
    ndarray of uint8
        The replica's labels, outside voxels kept at 255.
    """
    lab = np.asarray(labels)
    grey = render_labels(lab, levels, blur_sigma_px)
    grey += fbp_noise(lab.shape, noise_sigma, np.random.default_rng(seed))
    out = np.asarray(relabel(grey), dtype=np.uint8)
    if out.shape != lab.shape:
        raise ValueError(f"relabel returned shape {out.shape} for a replica of {lab.shape}")
    out[lab == OUTSIDE] = OUTSIDE
    return out
