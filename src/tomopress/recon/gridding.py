"""Direct Fourier (gridding) filtered back-projection with the finufft NUFFT.

This is the pip-only reconstruction backend behind :func:`tomopress.recon.reconstruct.reconstruct_slices`.
By the Fourier slice theorem, filtered back-projection of a parallel-beam sinogram is

    f(x, y) = ∫_0^π ∫ H(k) P̂(k, θ) exp(2πi k s(x, y, θ)) dk dθ,   s = x cos θ − y sin θ,

with P̂ the 1-D Fourier transform of the projection at angle θ and H the ramp |k| (times an
apodising window).  Discretised over the measured angles and the DFT frequencies of the
filtered projections, the double sum is one 2-D **type-1** NUFFT from the polar points
(k cos θ, −k sin θ) onto the Cartesian image grid, which finufft evaluates to a requested
precision in O(N² log N + M) time.  The only interpolation of the projections is the
trigonometric one implied by their sampling, so the result is FBP with band-limited (sinc)
interpolation.

Steps per detector row: zero-pad the projections to ``padded_length(n) >= 2n`` and filter in
the frequency domain (linear, not circular, convolution); cut a window of
``window_length(n) >= sqrt(2) n`` columns centred on the axis, which covers every pixel of the
square image; take its DFT, multiply by the phase that puts the (sub-pixel) axis at the image
centre and by the quadrature weights dθ dk; NUFFT type 1; real part.

Geometry (shared with :mod:`tomopress.synthetic.phantoms2d` and with scikit-image ``radon``/``iradon``):
image pixel ``img[i, j]`` has centred coordinates ``x = j − (n−1)/2`` (column) and
``y = i − (n−1)/2`` (row, increasing downward); the projection at angle θ integrates along
the direction (sin θ, cos θ) and lands on detector coordinate ``u = center_px + x cos θ − y sin θ``.

Speed: two real rows are packed into one complex signal (real and imaginary parts), since each
row's reconstruction is real and the transform is linear; several packed signals go through
one single-precision finufft plan (``n_trans``), whose points are set once per call.

References: F. Natterer and F. Wübbeling, *Mathematical Methods in Image Reconstruction*,
SIAM 2001, ch. 5 (doi:10.1137/1.9780898718324); A. H. Barnett, J. Magland and L. af Klinteberg,
SIAM J. Sci. Comput. 41 (2019) C479 (doi:10.1137/18M120885X) for finufft.
"""

from __future__ import annotations

import logging

import finufft
import numpy as np
import scipy.fft

from tomopress.logs import Progress
from tomopress.types import F32Array, F64Array

__all__ = ["NUFFT_EPS", "NUFFT_UPSAMPFAC", "SMOOTH_PAD_FRACTION", "padded_length", "window_length",
           "padding_weights", "extend_projections", "gridding_fbp"]

log = logging.getLogger(__name__)

#: finufft tolerance.  With single precision and upsampfac 1.25 the spreading kernel is capped
#: at 8 points (finufft warns below 2e-5); the transform's relative l2 error is then ~2e-5,
#: two orders of magnitude below the discretisation error of FBP itself
NUFFT_EPS = 2e-5
#: finufft grid oversampling; 1.25 instead of the default 2 is ~2-3x faster here
NUFFT_UPSAMPFAC = 1.25
#: packed complex signals per finufft execution (2 rows each): bounded memory, good threading
_N_TRANS = 2


def padded_length(n_cols: int) -> int:
    """Length of the zero-padded detector used for filtering (>= 2 n_cols, FFT friendly).

    Examples
    --------
    >>> padded_length(128)
    256
    """
    return int(scipy.fft.next_fast_len(2 * int(n_cols), real=False))


#: ``"smooth"`` padding rolls the end value off over this fraction of the detector width
SMOOTH_PAD_FRACTION = 0.125


def padding_weights(n_pad_px: int, n_cols: int, mode: str) -> F64Array:
    """Weights of a projection's end value in the padding beyond it (1 = first padded column).

    A projection truncated by a sample wider than the detector ends at a high value; padding
    with zeros makes a step there that the ramp filter turns into a bright rim and a cupped,
    offset image. ``"edge"`` repeats the end value (weight 1), which overshoots when the
    sample reaches only a little beyond the detector; ``"smooth"`` rolls it off as
    ``cos²(π t / 2L)`` over ``L = SMOOTH_PAD_FRACTION * n_cols`` columns, a tail about as long
    as a cell's overhang (measured in ``tests/unit/recon/test_truncation.py``); ``"zero"``
    gives zeros.

    Examples
    --------
    >>> padding_weights(4, 16, "smooth").round(3).tolist()
    [0.5, 0.0, 0.0, 0.0]
    >>> padding_weights(3, 16, "edge").tolist()
    [1.0, 1.0, 1.0]
    """
    t = np.arange(1, int(n_pad_px) + 1, dtype=np.float64)
    if mode == "edge":
        return np.ones_like(t)
    if mode == "zero":
        return np.zeros_like(t)
    if mode == "smooth":
        length = max(SMOOTH_PAD_FRACTION * n_cols, 1.0)
        return np.where(t < length, np.cos(0.5 * np.pi * t / length) ** 2, 0.0)
    raise ValueError(f"unknown padding {mode!r}; valid choices are smooth, edge, zero")


def extend_projections(sinograms: F32Array, pad_px: int, mode: str) -> F32Array:
    """Projections widened by `pad_px` columns on each side, filled as :func:`padding_weights`.

    Examples
    --------
    >>> extend_projections(np.array([[[2.0, 4.0]]], np.float32), 2, "edge").tolist()
    [[[2.0, 2.0, 2.0, 4.0, 4.0, 4.0]]]
    """
    n_cols = sinograms.shape[-1]
    w = padding_weights(pad_px, n_cols, mode).astype(np.float32)
    left = sinograms[..., :1] * w[::-1]
    right = sinograms[..., -1:] * w
    return np.concatenate([left, sinograms, right], axis=-1)


def window_length(n_cols: int) -> int:
    """Number of filtered-projection columns around the axis that become the radial samples.

    It covers every image pixel's detector coordinate, |s| <= n_cols/√2 (the half-diagonal
    of the square image), plus a margin of a few pixels; it is even and FFT friendly.

    Examples
    --------
    >>> window_length(128)
    192
    """
    need = int(np.ceil(np.sqrt(2.0) * n_cols)) + 8
    length = int(scipy.fft.next_fast_len(need + need % 2, real=False))
    while length % 2:
        length = int(scipy.fft.next_fast_len(length + 1, real=False))
    return length


def gridding_fbp(
    sinograms: F32Array,
    angles_rad: F64Array,
    *,
    center_px: float,
    filter_response: F64Array,
    angle_weights: F64Array,
    n_threads: int = 1,
    padding: str = "smooth",
) -> F32Array:
    """Filtered back-projection of every detector row by Fourier gridding (finufft type 1).

    Private workhorse of :func:`tomopress.recon.reconstruct.reconstruct_slices`; inputs are trusted.

    Parameters
    ----------
    sinograms : ndarray of float32, shape (n_angles, n_rows, n_cols)
        Line integrals per pixel, projections order.
    angles_rad : ndarray of float64, shape (n_angles,)
        Projection angles in radians.
    center_px : float
        Column coordinate of the rotation axis (column j is centred at j).
    filter_response : ndarray of float64, shape (n_pad,)
        Filter H(k) in FFT order for k = fftfreq(n_pad) cycles/pixel, n_pad >= 2 n_cols
        (see :func:`padded_length`).
    angle_weights : ndarray of float64, shape (n_angles,)
        Quadrature weight dθ of every angle (they sum to π for a half turn).
    n_threads : int
        Threads for finufft and the FFTs.
    padding : str
        What fills the padded detector before filtering, half on each side
        (:func:`padding_weights`): ``"smooth"`` (each projection's end value rolled off to 0),
        ``"edge"`` (the end value repeated, as nabu and tomopy-cli) or ``"zero"``.

    Returns
    -------
    ndarray of float32, shape (n_rows, n_cols, n_cols)
        Attenuation per pixel, ``vol[z, y, x]``, axis at ((n_cols−1)/2, (n_cols−1)/2).
    """
    n_angles, n_rows, n_cols = sinograms.shape
    n_pad = filter_response.shape[0]
    n_win = min(window_length(n_cols), n_pad)
    out = np.empty((n_rows, n_cols, n_cols), dtype=np.float32)
    if n_rows == 0:
        return out

    k = np.fft.fftfreq(n_win)  # radial frequencies of the window, cycles per pixel
    theta = np.asarray(angles_rad, dtype=np.float64)
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    # finufft output index i is mode i - n//2; the pixel there sits at x = mode + delta.
    delta = n_cols // 2 - (n_cols - 1) / 2.0
    # First window column (integer), so that the window is centred on the axis.
    j0 = int(np.floor(center_px)) - n_win // 2 + 1
    # Phase exp(2πi k (c - j0)) moves the axis to the origin and exp(2πi (kx + ky) delta),
    # with (kx, ky) = k (cos θ, -sin θ), the half-pixel grid offset; then the quadrature
    # weights dθ dk with dk = 1/n_win.
    shift = (center_px - j0) + delta * (cos_t - sin_t)  # (n_angles,), pixels
    radians = np.mod(np.outer(shift, k), 1.0).astype(np.float32)  # phase in turns, reduced
    radians *= np.float32(2 * np.pi)
    phase = np.empty(radians.shape, dtype=np.complex64)
    np.cos(radians, out=phase.real)  # float32 cos/sin: much faster than complex exp
    np.sin(radians, out=phase.imag)
    phase *= (np.asarray(angle_weights, dtype=np.float64) / n_win).astype(np.float32)[:, None]
    # The Nyquist bin is its own mirror: a non-real phase there breaks the Hermitian symmetry
    # that keeps two rows packed as real + imaginary parts apart (7 % crosstalk at 64 columns).
    phase[:, n_win // 2] = 0
    del radians

    taper = None if padding == "zero" else padding_weights(n_pad - n_cols, n_cols, padding)
    n_trans = min(_N_TRANS, (n_rows + 1) // 2)
    plan = finufft.Plan(
        1,
        (n_cols, n_cols),
        n_trans=n_trans,
        eps=NUFFT_EPS,
        isign=1,
        dtype="complex64",
        nthreads=int(n_threads),
        upsampfac=NUFFT_UPSAMPFAC,
    )
    # First coordinate <-> first output axis (rows, y); second <-> columns (x).
    k32 = (2 * np.pi * k).astype(np.float32)
    plan.setpts(
        np.outer(-sin_t.astype(np.float32), k32).ravel(),
        np.outer(cos_t.astype(np.float32), k32).ravel(),
    )

    # The filter also shifts the signal left by j0 columns (periodic in n_pad), so that the
    # window is the plain slice [0, n_win) of the filtered signal.
    kp = np.fft.fftfreq(n_pad)
    filt = (filter_response * np.exp(2j * np.pi * kp * j0)).astype(np.complex64)
    rows_per_batch = 2 * n_trans
    # Work buffers reused across batches (fresh arrays would cost page faults every time).
    work = np.zeros((n_trans, n_angles, n_pad), dtype=np.complex64)
    win = np.empty((n_trans, n_angles, n_win), dtype=np.complex64)
    img = np.empty((n_trans, n_cols, n_cols), dtype=np.complex64)
    progress = Progress(log, "gridding: rows", n_rows)
    for r0 in range(0, n_rows, rows_per_batch):
        r1 = min(r0 + rows_per_batch, n_rows)
        n_re = (r1 - r0 + 1) // 2
        n_im = (r1 - r0) // 2
        work[:, :, n_cols:] = 0
        if r1 - r0 < rows_per_batch:
            work[:, :, :n_cols] = 0
        work.real[:n_re, :, :n_cols] = sinograms[:, r0:r1:2, :].transpose(1, 0, 2)
        work.imag[:n_im, :, :n_cols] = sinograms[:, r0 + 1 : r1 : 2, :].transpose(1, 0, 2)
        if taper is not None:  # right half after the data, left half wraps to the end
            n_right = (n_pad - n_cols) // 2
            work[:, :, n_cols : n_cols + n_right] = work[:, :, n_cols - 1 : n_cols] * taper[:n_right]
            n_left = n_pad - n_cols - n_right
            work[:, :, n_cols + n_right :] = work[:, :, 0:1] * taper[:n_left][::-1]
        spec = scipy.fft.fft(work, axis=-1, workers=n_threads, overwrite_x=True)
        spec *= filt
        filtered = scipy.fft.ifft(spec, axis=-1, workers=n_threads, overwrite_x=True)
        win[...] = filtered[:, :, :n_win]
        strengths = scipy.fft.fft(win, axis=-1, workers=n_threads, overwrite_x=True)
        strengths *= phase
        plan.execute(strengths.reshape(n_trans, n_angles * n_win), out=img)
        out[r0:r1:2] = img.real[:n_re]
        out[r0 + 1 : r1 : 2] = img.imag[:n_im]
        progress.step(n=r1 - r0)
    return out
