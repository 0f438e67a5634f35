"""Fine label volume of the synthetic cell: SE separator over an NCM/LGPS composite with voids.

The cell is a cylinder about the rotation axis (air, labelled OUTSIDE, around it). Rows are z,
the pressure axis: the separator (SE with a few % small voids) fills the low rows, the
composite (polydisperse NCM spheres in LGPS with voids) the rows below. Voids are the top
quantile of an anisotropic Gaussian random field, flattened along z, plus a term that favours
the equators of particles, taken over each layer's non-AM voxels, so each layer's porosity is
exactly the target of the pressure model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.fft

from tomopress.synthetic.params import SyntheticParams, pressure_model
from tomopress.types import AM, OUTSIDE, SE, VOID, F32Array, F64Array, LabelVolume

__all__ = ["Particles", "Microstructure", "place_particles", "build_microstructure",
           "gaussian_random_field"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Particles:
    """Sphere centres ``(z, y, x)`` and radii, in fine voxels (array indices)."""

    centres: F64Array
    radii: F64Array


@dataclass(frozen=True)
class Microstructure:
    """A fine label volume and what built it.

    Attributes
    ----------
    labels : ndarray of uint8, shape (Z_f, N, N)
        VOID, SE, AM inside the cylinder, OUTSIDE (air) around it; fine voxels.
    particles : Particles
    interface_row_fine : int
        First fine row of the composite.
    cylinder_radius_fine : float
        Cell radius in fine voxels, centred at ``(N - 1) / 2``.
    targets : dict
        The pressure model's values used (porosities, flattening, equator weight).
    """

    labels: LabelVolume
    particles: Particles
    interface_row_fine: int
    cylinder_radius_fine: float
    targets: dict[str, float]


def gaussian_random_field(shape: tuple[int, int, int], sigma_vox: tuple[float, float, float],
                          *, white: F32Array | None = None,
                          rng: np.random.Generator | None = None) -> F32Array:
    """Zero-mean, unit-variance Gaussian field: white noise smoothed by a Gaussian kernel.

    Parameters
    ----------
    shape : tuple of int
        Field shape ``(Z, Y, X)`` (periodic boundaries).
    sigma_vox : tuple of float
        Kernel standard deviation along each axis, in voxels (anisotropic if they differ).
    white : ndarray of float32, optional
        The white noise to smooth (same shape); drawn from `rng` when absent.
    rng : numpy.random.Generator, optional
        Needed when `white` is absent.

    Returns
    -------
    ndarray of float32, shape `shape`

    Examples
    --------
    >>> f = gaussian_random_field((8, 16, 16), (1.0, 2.0, 2.0), rng=np.random.default_rng(0))
    >>> f.shape, abs(float(f.mean())) < 1e-5, round(float(f.std()), 3)
    ((8, 16, 16), True, 1.0)
    """
    if white is None:
        if rng is None:
            raise ValueError("give either white noise or an rng")
        white = rng.standard_normal(shape, dtype=np.float32)
    spec = scipy.fft.rfftn(white, workers=1)
    kern = np.ones((1, 1, 1), dtype=np.float32)
    for ax, (n, sig) in enumerate(zip(shape, sigma_vox)):
        k = scipy.fft.rfftfreq(n) if ax == 2 else scipy.fft.fftfreq(n)
        g = np.exp(-0.5 * (2 * np.pi * sig * k) ** 2).astype(np.float32)
        kern = kern * g.reshape([-1 if a == ax else 1 for a in range(3)])
    spec *= kern
    field = scipy.fft.irfftn(spec, s=shape, workers=1).astype(np.float32, copy=False)
    field -= field.mean()
    field /= max(float(field.std()), 1e-30)
    return field


def place_particles(params: SyntheticParams, rng: np.random.Generator, *,
                    z_range_fine: tuple[int, int], radius_fine: float,
                    n_max: int) -> Particles:
    """Random sequential addition of log-normal spheres with limited overlap.

    Centres lie inside the cylinder (radius `radius_fine`) and in `z_range_fine`, half a radius
    below its top; returns `n_max` candidates in placement order (the caller paints until the
    AM target is met).
    """
    f = params.fine_factor / params.pixel_size_um  # fine voxels per µm
    med_r = 0.5 * params.particle_median_diameter_um * f
    n_side = params.fine_factor * params.n_cols
    c = (n_side - 1) / 2
    z0, z1 = z_range_fine
    keep = 1.0 - params.max_overlap
    centres = np.empty((n_max, 3))
    radii = np.empty(n_max)
    n = 0
    for _ in range(n_max):
        r = med_r * float(np.exp(params.particle_sigma_ln * rng.standard_normal()))
        for _attempt in range(60):
            rho = radius_fine * np.sqrt(rng.uniform())
            phi = rng.uniform(0, 2 * np.pi)
            cand = np.array([rng.uniform(z0 + 0.5 * r, z1 + 0.5 * r),
                             c + rho * np.sin(phi), c + rho * np.cos(phi)])
            if n == 0:
                break
            d2 = ((centres[:n] - cand) ** 2).sum(axis=1)
            if np.all(d2 >= (keep * (radii[:n] + r)) ** 2):
                break
        else:
            continue  # crowded: skip this particle
        centres[n], radii[n] = cand, r
        n += 1
    return Particles(centres=centres[:n], radii=radii[:n])


def _ball_box(centre: F64Array, r: float, shape: tuple[int, ...], pad: float = 0.0):
    lo = np.maximum(np.floor(centre - r - pad).astype(int), 0)
    hi = np.minimum(np.ceil(centre + r + pad).astype(int) + 1, shape)
    if np.any(hi <= lo):
        return None
    grids = np.ogrid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    d2 = sum((g - c) ** 2 for g, c in zip(grids, centre))
    return tuple(slice(a, b) for a, b in zip(lo, hi)), grids, d2


def build_microstructure(params: SyntheticParams, pressure_mpa: float) -> Microstructure:
    """Build the fine label volume of the cell at one pressure.

    Particles and the random fields' white noise come from ``params.microstructure_seed``
    only, so a pressure series shares its particles and only the voids change.

    Parameters
    ----------
    params : SyntheticParams
    pressure_mpa : float
        Stack pressure in MPa (> 0), fed to `pressure_model`.

    Returns
    -------
    Microstructure
    """
    targets = pressure_model(pressure_mpa)
    ff = params.fine_factor
    n_side = ff * params.n_cols
    nz = ff * params.n_rows
    zi = ff * params.separator_rows
    vox_um = params.pixel_size_um / ff
    radius = 0.5 * params.cylinder_diameter_frac * n_side
    rng = np.random.default_rng(params.microstructure_seed)

    c = (n_side - 1) / 2
    yy, xx = np.ogrid[:n_side, :n_side]
    in_cyl = (yy - c) ** 2 + (xx - c) ** 2 <= radius**2
    labels = np.full((nz, n_side, n_side), OUTSIDE, dtype=np.uint8)
    labels[:, in_cyl] = SE

    # particles: paint until the composite's AM fraction reaches the target
    layer_vox = int(in_cyl.sum()) * (nz - zi)
    mean_vol = 4 / 3 * np.pi * (0.5 * params.particle_median_diameter_um / vox_um) ** 3 * np.exp(
        4.5 * params.particle_sigma_ln**2)
    n_max = int(3 * params.am_fraction * layer_vox / mean_vol) + 10
    cand = place_particles(params, rng, z_range_fine=(zi, nz), radius_fine=radius, n_max=n_max)
    target_am = params.am_fraction * layer_vox
    n_am = 0
    n_used = 0
    for centre, r in zip(cand.centres, cand.radii):
        if n_am >= target_am:
            break
        box = _ball_box(centre, r, labels.shape)
        n_used += 1
        if box is None:
            continue
        sl, _grids, d2 = box
        sub = labels[sl]
        ball = (d2 <= r * r) & (sub != OUTSIDE)
        # count what is new inside the composite rows only
        rows = np.arange(sl[0].start, sl[0].stop)[:, None, None] >= zi
        n_am += int(np.count_nonzero(ball & (sub != AM) & rows))
        sub[ball] = AM
    particles = Particles(cand.centres[:n_used], cand.radii[:n_used])
    if n_am < 0.97 * target_am:
        log.warning("AM fraction %.3f below target %.3f (packing too dense)",
                    n_am / layer_vox, params.am_fraction)

    # the random fields' white noise, drawn before anything pressure-dependent
    white_comp = rng.standard_normal((nz - zi, n_side, n_side), dtype=np.float32)
    white_sep = rng.standard_normal((zi, n_side, n_side), dtype=np.float32)
    flat = targets["void_flattening"] * params.void_flattening_scale

    # composite: anisotropic field + voids at particle equators
    s_xy = params.void_correlation_um / vox_um
    field = gaussian_random_field(white_comp.shape, (flat * s_xy, s_xy, s_xy), white=white_comp)
    del white_comp
    shell = params.equator_shell_um / vox_um
    w_eq = np.float32(targets["equator_weight"] * params.equator_weight_scale)
    keep_out = params.min_void_distance_um / vox_um
    for centre, r in zip(particles.centres, particles.radii):
        box = _ball_box(centre - (zi, 0, 0), r, field.shape, pad=max(2 * shell, keep_out + 1))
        if box is None:
            continue
        sl, grids, d2 = box
        rho = np.sqrt(d2).astype(np.float32)
        nz2 = ((grids[0] - (centre[0] - zi)) ** 2 / np.maximum(d2, 1e-9)).astype(np.float32)
        g = np.exp(-(((rho - r) / shell) ** 2)) * (rho > r)
        field[sl] += w_eq * g * (1 - 2 * nz2)
        if keep_out > 0:  # voids never within keep_out of the surface: gapless contact
            field[sl][rho <= r + keep_out] = -np.inf
    _threshold_voids(labels[zi:], field, targets["composite_porosity"])
    del field

    # separator: small, slightly flattened voids
    s_sep = params.separator_void_correlation_um / vox_um
    field = gaussian_random_field(white_sep.shape, (flat * s_sep, s_sep, s_sep), white=white_sep)
    _threshold_voids(labels[:zi], field, targets["separator_porosity"])
    return Microstructure(labels=labels, particles=particles, interface_row_fine=zi,
                          cylinder_radius_fine=float(radius), targets=targets)


def _threshold_voids(labels: LabelVolume, field: F32Array, porosity: float) -> None:
    """Turn the `porosity` share of the counted voxels into VOID: the highest-field non-AM ones."""
    counted = labels != OUTSIDE
    n_void = int(round(porosity * np.count_nonzero(counted)))
    cand = np.flatnonzero(counted & (labels != AM))
    if n_void > cand.size:
        raise ValueError(f"porosity {porosity:.3f} exceeds the non-AM fraction of the layer")
    if n_void == 0:
        return
    vals = field.ravel()[cand]
    top = np.argpartition(vals, cand.size - n_void)[cand.size - n_void:]
    labels.reshape(-1)[cand[top]] = VOID
