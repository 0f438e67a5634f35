"""Analytic 2-D phantoms (discs and ellipses) with exact parallel-beam line integrals.

Every object is an ellipse whose density is ``value * (1 - q**2) ** smoothness`` inside it,
where q is the normalised elliptic radius (q = 1 on the boundary); ``smoothness = 0`` gives a
sharp-edged uniform ellipse, larger values a smoothly bounded one.  Overlapping objects add.
Their line integrals are closed-form (an affine map of the unit-disc result
``C_k (1 - r**2) ** (k + 1/2)`` with ``C_k = sqrt(pi) Γ(k+1) / Γ(k+3/2)``), so sinograms made
here are free of any discrete projector and test reconstructions without the "inverse crime".

Geometry is the one of :mod:`tomopress.recon.reconstruct` (scikit-image compatible): lengths are in
pixels, image pixel ``img[i, j]`` is centred at ``x = j - (n-1)/2``, ``y = i - (n-1)/2``; the
projection at angle θ integrates along (sin θ, cos θ) and is recorded at detector coordinate
``s = x cos θ - y sin θ`` (detector column ``center_px + s``).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gamma, pi, sqrt

import numpy as np

from tomopress.types import F64Array

__all__ = [
    "Ellipse",
    "disc",
    "density",
    "line_integrals",
    "sinogram",
    "pixel_image",
    "shepp_logan",
]


@dataclass(frozen=True)
class Ellipse:
    """One elliptic object; lengths in pixels, angles in radians.

    Attributes
    ----------
    value : float
        Density at the centre (for ``smoothness = 0``, everywhere inside).
    center_x_px, center_y_px : float
        Centre in centred image coordinates (x along columns, y along rows).
    semi_a_px, semi_b_px : float
        Semi-axes, > 0; a lies along direction ``(cos phi, sin phi)``.
    phi_rad : float
        Orientation of the a axis, from +x toward +y.
    smoothness : float
        Exponent k >= 0 of the profile ``(1 - q**2) ** k``.
    """

    value: float
    center_x_px: float
    center_y_px: float
    semi_a_px: float
    semi_b_px: float
    phi_rad: float = 0.0
    smoothness: float = 0.0

    def __post_init__(self) -> None:
        if not (self.semi_a_px > 0 and self.semi_b_px > 0):
            raise ValueError(f"semi-axes must be > 0, got {self.semi_a_px}, {self.semi_b_px}")
        if not self.smoothness >= 0:
            raise ValueError(f"smoothness must be >= 0, got {self.smoothness}")


def disc(value: float, center_x_px: float, center_y_px: float, radius_px: float, *,
         smoothness: float = 0.0) -> Ellipse:
    """A disc, i.e. an ellipse with equal semi-axes.

    Examples
    --------
    >>> disc(1.0, 0.0, 0.0, 10.0).semi_b_px
    10.0
    """
    return Ellipse(value, center_x_px, center_y_px, radius_px, radius_px, 0.0, smoothness)


def _unit_disc_constant(k: float) -> float:
    # ∫_{-1}^{1} (1 - u^2)^k du
    return sqrt(pi) * gamma(k + 1.0) / gamma(k + 1.5)


def density(objects: list[Ellipse], x_px: np.ndarray, y_px: np.ndarray) -> F64Array:
    """Point values of the phantom at centred coordinates (x, y) in pixels.

    Examples
    --------
    >>> density([disc(2.0, 0, 0, 1.0)], np.array([0.0, 2.0]), np.array([0.0, 0.0]))
    array([2., 0.])
    """
    x = np.asarray(x_px, dtype=np.float64)
    y = np.asarray(y_px, dtype=np.float64)
    out = np.zeros(np.broadcast(x, y).shape)
    for e in objects:
        c, s = np.cos(e.phi_rad), np.sin(e.phi_rad)
        dx, dy = x - e.center_x_px, y - e.center_y_px
        q2 = ((dx * c + dy * s) / e.semi_a_px) ** 2 + ((-dx * s + dy * c) / e.semi_b_px) ** 2
        inside = q2 < 1.0
        if e.smoothness == 0:
            out += np.where(inside, e.value, 0.0)
        else:
            out += np.where(inside, e.value * np.clip(1.0 - q2, 0.0, None) ** e.smoothness, 0.0)
    return out


def line_integrals(objects: list[Ellipse], angles_rad: np.ndarray, s_px: np.ndarray) -> F64Array:
    """Exact line integrals for every angle and detector offset from the axis.

    Parameters
    ----------
    objects : list of Ellipse
    angles_rad : ndarray, shape (n_angles,)
    s_px : ndarray, shape (n_s,)
        Signed detector coordinate s = x cos θ − y sin θ, in pixels.

    Returns
    -------
    ndarray of float64, shape (n_angles, n_s)
        ∫ density dl, in density units times pixels.

    Examples
    --------
    >>> p = line_integrals([disc(1.0, 0, 0, 5.0)], np.array([0.3]), np.array([0.0, 3.0]))
    >>> np.allclose(p, [[10.0, 8.0]])
    True
    """
    theta = np.asarray(angles_rad, dtype=np.float64)[:, None]
    s = np.asarray(s_px, dtype=np.float64)[None, :]
    nx, ny = np.cos(theta), -np.sin(theta)  # unit normal of the lines: s = n · (x, y)
    out = np.zeros((theta.shape[0], s.shape[1]))
    for e in objects:
        c, sn = np.cos(e.phi_rad), np.sin(e.phi_rad)
        d2 = (e.semi_a_px * (nx * c + ny * sn)) ** 2 + (e.semi_b_px * (-nx * sn + ny * c)) ** 2
        t = s - (e.center_x_px * nx + e.center_y_px * ny)
        u = np.clip(1.0 - t * t / d2, 0.0, None)
        k = e.smoothness
        scale = e.value * _unit_disc_constant(k) * e.semi_a_px * e.semi_b_px / np.sqrt(d2)
        out += scale * u ** (k + 0.5)
    return out


def sinogram(objects: list[Ellipse], angles_rad: np.ndarray, *, n_cols: int, center_px: float,
             detector_supersample: int = 1) -> F64Array:
    """Exact sinogram on a detector of `n_cols` columns with the axis at `center_px`.

    Column j records the line integral at s = j − center_px, averaged over the pixel width
    with `detector_supersample` midpoint samples (1 = point sampling at the column centre).

    Returns
    -------
    ndarray of float64, shape (n_angles, n_cols)

    Examples
    --------
    >>> sinogram([disc(1.0, 0, 0, 2.0)], np.zeros(1), n_cols=5, center_px=2.0)
    array([[0.        , 3.46410162, 4.        , 3.46410162, 0.        ]])
    """
    m = int(detector_supersample)
    offsets = (np.arange(m) + 0.5) / m - 0.5
    s = (np.arange(n_cols) - center_px)[:, None] + offsets[None, :]
    p = line_integrals(objects, angles_rad, s.ravel())
    return p.reshape(len(np.atleast_1d(angles_rad)), n_cols, m).mean(axis=2)


def pixel_image(objects: list[Ellipse], n_px: int, *, supersample: int = 8) -> F64Array:
    """Pixel-area averages of the phantom on an n_px × n_px grid (midpoint supersampling).

    Returns
    -------
    ndarray of float64, shape (n_px, n_px)
        ``img[i, j]`` = mean density over the pixel centred at (x, y) = (j, i) − (n_px−1)/2.

    Examples
    --------
    >>> img = pixel_image([disc(1.0, 0, 0, 100.0)], 4, supersample=2)
    >>> float(img.min())
    1.0
    """
    m = int(supersample)
    centres = np.arange(n_px) - (n_px - 1) / 2.0
    offsets = (np.arange(m) + 0.5) / m - 0.5
    img = np.zeros((n_px, n_px))
    for oy in offsets:
        for ox in offsets:
            img += density(objects, (centres + ox)[None, :], (centres + oy)[:, None])
    return img / (m * m)


# Modified Shepp-Logan (Toft 1996): value, a, b, x0, y0, phi_deg in the unit square, y up.
_SHEPP_LOGAN = (
    (1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
    (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
    (-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
    (-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
    (0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
    (0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
    (0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
    (0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
    (0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
    (0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
)


def shepp_logan(n_px: int, *, value: float = 1.0, smoothness: float = 0.0,
                fill: float = 0.45) -> list[Ellipse]:
    """Modified Shepp-Logan phantom (P. Toft, PhD thesis, DTU 1996) scaled to an image.

    The unit of the classic definition becomes ``fill * n_px`` pixels (0.45: inside the
    reconstruction disc), the head's "up" is toward row 0, and densities are multiplied by
    `value`.  `smoothness` is applied to every ellipse.

    Examples
    --------
    >>> len(shepp_logan(64))
    10
    """
    r = fill * n_px
    return [
        Ellipse(value * v, x0 * r, -y0 * r, a * r, b * r, -np.deg2rad(phi), smoothness)
        for v, a, b, x0, y0, phi in _SHEPP_LOGAN
    ]
