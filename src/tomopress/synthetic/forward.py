"""Parallel-beam forward model: ray-driven line integrals, detector response, noise and defects.

Geometry (the convention shared with the reconstruction)
--------------------------------------------------------
``vol[z, y, x]``; z is the detector row and the rotation axis. On an ``n x n`` x-y image the
coordinates are measured from the rotation axis, ``x = col - c_img`` and ``y = row - c_img``
with ``c_img = (n - 1) / 2``. The projection at angle θ (radians) is

    p(θ, s) = ∫ μ(x, y) dl  along the line  x cos θ - y sin θ = s,

and detector column u sees ``s = u - center_px``. This is the convention of
``tomopress.recon.reconstruct`` and of ``skimage.transform.radon`` (which measures y upwards, i.e.
towards lower row indices) with its axis moved from the image centre to `center_px`; the unit
tests check it against radon on an off-centre disc.

The projector is ray-driven (Joseph 1982, doi:10.1109/TMI.1982.4307572): along each ray it
steps one pixel along the axis closer to the ray direction and interpolates linearly along the
other, i.e. rotate-and-sum with bilinear interpolation. It is a sparse matrix, built once per
geometry, applied to all z planes in one sparse-dense product; it is not the adjoint of any
Fourier-gridding reconstruction.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import scipy.ndimage as ndi
import scipy.sparse as sp

from tomopress.types import F32Array, F64Array

__all__ = ["projection_matrix", "radon_parallel", "detector_counts"]


def projection_matrix(
    n_img: int,
    theta_rad: npt.ArrayLike,
    det_s: npt.ArrayLike,
    *,
    support_radius: float | None = None,
) -> sp.csr_matrix:
    """Sparse ray-driven projector of an ``n_img x n_img`` image (unit pixels).

    Parameters
    ----------
    n_img : int
        Image side in pixels; the rotation axis is at ``(n_img - 1) / 2`` in both directions.
    theta_rad : array_like of float, shape (A,)
        Projection angles in radians.
    det_s : array_like of float, shape (D,)
        Signed distance s of each detector bin's ray from the axis, in image pixels.
    support_radius : float, optional
        Pixels farther than this (pixels) from the axis are taken as zero (faster).

    Returns
    -------
    scipy.sparse.csr_matrix of float32, shape (A * D, n_img**2)
        Row ``a * D + d`` integrates the C-ordered flattened image along ray (θ_a, s_d),
        in pixel lengths.

    Raises
    ------
    ValueError
        If `n_img` < 1 or the angle or detector arrays are not 1-D.

    Examples
    --------
    >>> A = projection_matrix(5, [0.0], np.arange(5) - 2.0)
    >>> (A @ np.ones(25, np.float32)).tolist()  # columns of five ones
    [5.0, 5.0, 5.0, 5.0, 5.0]
    """
    theta = np.asarray(theta_rad, dtype=np.float64)
    s = np.asarray(det_s, dtype=np.float64)
    if n_img < 1 or theta.ndim != 1 or s.ndim != 1:
        raise ValueError("n_img must be >= 1 and theta_rad, det_s 1-D arrays")
    return _projection_matrix(int(n_img), theta.tobytes(), s.tobytes(), support_radius)


@functools.lru_cache(maxsize=4)
def _projection_matrix(n: int, theta_b: bytes, s_b: bytes,
                       support_radius: float | None) -> sp.csr_matrix:
    theta = np.frombuffer(theta_b)
    s = np.frombuffer(s_b)
    c = (n - 1) / 2
    coord = np.arange(n) - c
    inside = np.ones(n * n + 2 * n + 2, dtype=bool)  # padded so p1 never indexes past the end
    if support_radius is not None:
        inside[: n * n] = (coord[:, None] ** 2 + coord[None, :] ** 2 <= support_radius**2).ravel()
    idx = np.arange(n, dtype=np.int64)
    cols, vals, counts = [], [], []
    for ang in theta:
        # the line is x cos θ - y sin θ = s (y = row index, growing downwards): see module doc
        ca, sa = np.cos(ang), -np.sin(ang)
        if abs(ca) >= abs(sa):  # step along y (rows), interpolate along x
            t = (s[:, None] - coord[None, :] * sa) / ca + c
            step, major_stride, minor_stride = 1 / abs(ca), n, 1
        else:  # step along x (columns), interpolate along y
            t = (s[:, None] - coord[None, :] * ca) / sa + c
            step, major_stride, minor_stride = 1 / abs(sa), 1, n
        i0 = np.floor(t).astype(np.int64)
        frac = (t - i0).astype(np.float32)
        base = idx[None, :] * major_stride + i0 * minor_stride
        p = np.stack([base, base + minor_stride], axis=-1)
        w = np.stack([(1 - frac) * step, frac * step], axis=-1).astype(np.float32)
        ok = np.stack([(i0 >= 0) & (i0 < n), (i0 >= -1) & (i0 < n - 1)], axis=-1) & (w > 0)
        ok &= inside[np.where(ok, p, 0)]
        cols.append(p[ok].astype(np.int32))
        vals.append(w[ok])
        counts.append(ok.reshape(len(s), -1).sum(axis=1))
    indptr = np.zeros(len(theta) * len(s) + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=indptr[1:])
    return sp.csr_matrix((np.concatenate(vals), np.concatenate(cols), indptr),
                         shape=(len(theta) * len(s), n * n))


def radon_parallel(
    images: npt.ArrayLike,
    theta_rad: npt.ArrayLike,
    *,
    center_px: float,
    n_det: int,
    support_radius: float | None = None,
) -> F32Array:
    """Line integrals (pixel units) of one image or a stack of z planes, in the module's geometry.

    Parameters
    ----------
    images : array_like of float, shape (n, n) or (Z, n, n)
        Attenuation per pixel length, ``[y, x]`` or ``[z, y, x]``.
    theta_rad : array_like of float, shape (A,)
        Angles in radians.
    center_px : float
        Detector column of the rotation axis (0-based); column u sees ``s = u - center_px``.
    n_det : int
        Number of detector columns.
    support_radius : float, optional
        Treat pixels farther than this from the axis as zero.

    Returns
    -------
    ndarray of float32, shape (A, n_det) or (A, Z, n_det)
        The sinogram ``p[angle, (z,) column]``.

    Raises
    ------
    ValueError
        If the images are not square 2-D or 3-D arrays.

    Examples
    --------
    >>> img = np.zeros((5, 5)); img[2, 4] = 1.0  # one pixel at x = +2, y = 0
    >>> p = radon_parallel(img, [0.0, np.pi / 2], center_px=2.0, n_det=5)
    >>> p.argmax(axis=1).tolist()  # at 0 it sits at s = +2, at 90 degrees at s = 0
    [4, 2]
    """
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim not in (2, 3) or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"images must be (n, n) or (Z, n, n), got shape {arr.shape}")
    stack = arr[None] if arr.ndim == 2 else arr
    n = stack.shape[-1]
    theta = np.atleast_1d(np.asarray(theta_rad, dtype=np.float64))
    det_s = np.arange(n_det) - float(center_px)
    a_mat = projection_matrix(n, theta, det_s, support_radius=support_radius)
    x = np.ascontiguousarray(stack.reshape(stack.shape[0], n * n).T)
    y = np.asarray(a_mat @ x, dtype=np.float32).reshape(len(theta), n_det, stack.shape[0])
    y = y.transpose(0, 2, 1)
    return np.ascontiguousarray(y[:, 0] if arr.ndim == 2 else y)


def detector_counts(
    transmission: F32Array,
    *,
    i0_counts: float,
    gain: F64Array,
    dark: F64Array,
    read_noise_counts: float,
    rng: np.random.Generator | None,
) -> npt.NDArray[np.uint16]:
    """Counts of frames with transmission `transmission[frame, row, col]` (1 = open beam).

    ``I = Poisson(gain * I0 * T) + dark + N(0, read_noise)``, rounded and clipped to uint16;
    `gain` and `dark` broadcast against the frames (typically per column). With ``rng=None``
    the expectation is returned without noise.
    """
    expected = transmission * (np.asarray(gain, dtype=np.float32) * np.float32(i0_counts))
    if rng is None:
        out = expected + np.asarray(dark, dtype=np.float32)
    else:
        out = rng.poisson(expected).astype(np.float32)
        out += np.asarray(dark, dtype=np.float32)
        out += rng.normal(0.0, read_noise_counts, size=out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 65535).astype(np.uint16)


def blur_projections(proj: F32Array, sigma_px: float) -> F32Array:
    """Gaussian detector blur of every frame ``proj[frame, row, col]`` (in place if possible)."""
    if sigma_px <= 0:
        return proj
    return ndi.gaussian_filter(proj, sigma=(0.0, sigma_px, sigma_px), mode="nearest", output=proj)
