"""Parallel-beam filtered back-projection of flat-fielded slabs, with a choice of backend.

Geometry (used by every backend, by :mod:`tomopress.synthetic.phantoms2d` and by the simulators)
-------------------------------------------------------------------------------------
This is the scikit-image ``radon``/``iradon`` convention, which is also tomopy's
(``tomopy.project`` / ``gridrec``); angles are in radians.

- Image pixel ``vol[z, i, j]`` has centred coordinates ``x = j − (n−1)/2`` (column) and
  ``y = i − (n−1)/2`` (row, growing with the row index), where ``n = n_cols``; the rotation
  axis passes through the image centre ``((n−1)/2, (n−1)/2)``.
- The projection at angle θ integrates along the direction ``(sin θ, cos θ)`` in (x, y) and
  records the line integral on detector column coordinate ``u = center_px + s`` with
  ``s = x cos θ − y sin θ``.  At θ = 0 a detector column therefore sums an image column
  (``proj[0, z, j] = Σ_i vol[z, i, j]`` for a centred axis); at θ = π/2 it sums the image row
  ``i = (n−1)/2 − s`` (so increasing detector column goes toward decreasing row index).
- Column ``j`` of the detector is centred at coordinate ``j`` (0-based), so a perfectly centred
  axis is ``center_px = (n_cols − 1)/2``.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Final

import numpy as np
import scipy.fft

from tomopress.recon.gridding import extend_projections, gridding_fbp, padded_length
from tomopress.types import F32Array, F64Array

__all__ = [
    "FILTERS",
    "BACKENDS",
    "PADDINGS",
    "available_backends",
    "resolve_backend",
    "angular_weights",
    "filter_response",
    "reconstruct_slices",
    "reconstruct_slab_file",
]

log = logging.getLogger(__name__)

#: filter names accepted by :func:`reconstruct_slices` -> tomopy gridrec filter names
FILTERS: Final = {
    "ramp": "ramlak",
    "shepp": "shepp",
    "cosine": "cosine",
    "hann": "hann",
    "hamming": "hamming",
    "parzen": "parzen",
}
#: every backend name :func:`resolve_backend` knows
BACKENDS: Final = ("auto", "gridding", "tomopy")
#: how the detector is extended before filtering (see :func:`reconstruct_slices`)
PADDINGS: Final = ("smooth", "edge", "zero")


def _tomopy_importable() -> bool:
    return importlib.util.find_spec("tomopy") is not None


def available_backends() -> list[str]:
    """Concrete backends usable in this Python environment, preferred first.

    Examples
    --------
    >>> "gridding" in available_backends()
    True
    """
    return (["tomopy"] if _tomopy_importable() else []) + ["gridding"]


def resolve_backend(name: str) -> str:
    """Turn a backend name (``"auto"``, ``"gridding"`` or ``"tomopy"``) into a usable one.

    ``"auto"`` is tomopy gridrec when ``import tomopy`` works, else the built-in gridding.

    Raises
    ------
    ValueError
        If `name` is unknown, or is ``"tomopy"`` while tomopy cannot be imported.

    Examples
    --------
    >>> resolve_backend("gridding")
    'gridding'
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid choices are {', '.join(BACKENDS)}")
    if name == "auto":
        return available_backends()[0]
    if name == "tomopy" and not _tomopy_importable():
        raise ValueError(
            "backend 'tomopy' was requested but tomopy is not importable in this environment "
            "(it is on conda-forge only: use envs/recon.yaml), or choose backend 'gridding'"
        )
    return name


def angular_weights(angles_rad: F64Array) -> F64Array:
    """Quadrature weight dθ of every projection for a scan covering a half turn.

    Angles are folded modulo π (a projection at θ + π is the mirror image of the one at θ);
    each gets half the folded gap to its two neighbours, so uniform sets get π / n_angles and
    the weights always sum to π.  Repeated angles share their weight.

    Examples
    --------
    >>> angular_weights(np.array([0.0, np.pi / 2]))
    array([1.57079633, 1.57079633])
    """
    theta = np.mod(np.asarray(angles_rad, dtype=np.float64), np.pi)
    n = theta.size
    if n == 1:
        return np.array([np.pi])
    order = np.argsort(theta, kind="stable")
    ts = theta[order]
    gaps = np.diff(np.concatenate([ts, [ts[0] + np.pi]]))  # gap to the next (wrapping)
    w_sorted = 0.5 * (gaps + np.roll(gaps, 1))
    # equal angles: spread the weight of the group evenly among its members
    _, inverse, counts = np.unique(ts, return_inverse=True, return_counts=True)
    w_group = np.bincount(inverse, weights=w_sorted)
    w_sorted = w_group[inverse] / counts[inverse]
    weights = np.empty(n)
    weights[order] = w_sorted
    return weights


def filter_response(n_pad: int, filter_name: str) -> F64Array:
    """Frequency response H(k) of a band-limited ramp filter times an apodising window.

    The ramp is the DFT of the spatial Ram-Lak kernel (h(0) = 1/4, h(m) = −1/(πm)² for odd m,
    0 for even m; Kak & Slaney, *Principles of Computerized Tomographic Imaging*, ch. 3,
    doi:10.1137/1.9780898719277), which equals |k| away from k = 0 but keeps the correct
    mean (no DC offset or cupping).  Windows, with k in cycles per pixel (|k| ≤ 1/2):
    ``ramp`` 1; ``shepp`` sinc(k); ``cosine`` cos(πk); ``hann`` cos²(πk);
    ``hamming`` 0.54 + 0.46 cos(2πk); ``parzen`` the Parzen (de la Vallée-Poussin) window
    of half-width 1/2.

    Parameters
    ----------
    n_pad : int
        Length of the zero-padded detector (even).
    filter_name : str
        One of :data:`FILTERS`.

    Returns
    -------
    ndarray of float64, shape (n_pad,)
        Response for ``k = numpy.fft.fftfreq(n_pad)``.

    Examples
    --------
    >>> h = filter_response(8, "ramp")
    >>> bool(abs(h[2] - 0.25) < 0.02)
    True
    """
    if filter_name not in FILTERS:
        raise ValueError(f"unknown filter {filter_name!r}; valid choices are {', '.join(FILTERS)}")
    m = np.rint(np.fft.fftfreq(n_pad) * n_pad).astype(np.int64)  # integer lags, FFT order
    h = np.zeros(n_pad)
    h[0] = 0.25
    odd = (m % 2) == 1
    h[odd] = -1.0 / (np.pi * m[odd]) ** 2
    ramp = np.real(scipy.fft.fft(h))
    k = np.fft.fftfreq(n_pad)
    if filter_name == "ramp":
        window = np.ones(n_pad)
    elif filter_name == "shepp":
        window = np.sinc(k)
    elif filter_name == "cosine":
        window = np.cos(np.pi * k)
    elif filter_name == "hann":
        window = np.cos(np.pi * k) ** 2
    elif filter_name == "hamming":
        window = 0.54 + 0.46 * np.cos(2 * np.pi * k)
    else:  # parzen, t = |k| / (1/2)
        t = np.abs(k) * 2.0
        window = np.where(t <= 0.5, 1 - 6 * t**2 + 6 * t**3, 2 * (1 - t) ** 3)
    return ramp * window


def _validate(sinograms: np.ndarray, angles_rad: np.ndarray, center_px: float,
              pixel_size_um: float, n_threads: int) -> None:
    if sinograms.ndim != 3:
        raise ValueError(
            f"sinograms must be 3-D (n_angles, n_rows, n_cols), got shape {sinograms.shape}"
        )
    if angles_rad.ndim != 1 or angles_rad.shape[0] != sinograms.shape[0]:
        raise ValueError(
            f"angles_rad has shape {angles_rad.shape} but sinograms has "
            f"{sinograms.shape[0]} projections (shape {sinograms.shape})"
        )
    if sinograms.shape[0] < 2 or sinograms.shape[2] < 2:
        raise ValueError(f"need at least 2 angles and 2 columns, got shape {sinograms.shape}")
    if not np.all(np.isfinite(angles_rad)):
        raise ValueError("angles_rad contains non-finite values")
    if np.ptp(angles_rad) > 4 * np.pi:
        raise ValueError("angles_rad spans more than 4π: are they in degrees?")
    if not np.all(np.isfinite(sinograms)):
        raise ValueError("sinograms contain non-finite values (NaN or inf)")
    n_cols = sinograms.shape[2]
    if not (np.isfinite(center_px) and 0.0 <= center_px <= n_cols - 1):
        raise ValueError(f"center_px must lie in [0, {n_cols - 1}], got {center_px!r}")
    if not (np.isfinite(pixel_size_um) and pixel_size_um > 0):
        raise ValueError(f"pixel_size_um must be > 0, got {pixel_size_um!r}")
    if int(n_threads) < 1:
        raise ValueError(f"n_threads must be >= 1, got {n_threads!r}")


def reconstruct_slices(
    sinograms: np.ndarray,
    angles_rad: np.ndarray,
    *,
    center_px: float,
    pixel_size_um: float,
    filter_name: str = "ramp",
    backend: str = "auto",
    n_threads: int = 1,
    padding: str = "smooth",
) -> F32Array:
    """Reconstruct every detector row of a slab by filtered back-projection.

    The geometry is the scikit-image/tomopy one described in this module's docstring:
    projection at angle θ integrates along (sin θ, cos θ) and lands on detector column
    ``center_px + x cos θ − y sin θ``, with x the image column and y the image row offset
    from the image centre.

    Parameters
    ----------
    sinograms : ndarray of float32, shape (n_angles, n_rows, n_cols)
        Flat-fielded line integrals −log(I/I0) (dimensionless, i.e. per pixel), projections
        order ``proj[angle, row, column]``.
    angles_rad : ndarray of float64, shape (n_angles,)
        Projection angles in radians covering a half turn; need not be uniform (each angle is
        weighted by its angular spacing, see :func:`angular_weights`).
    center_px : float
        Column coordinate of the rotation axis, 0-based with column j centred at j, in
        [0, n_cols − 1]; sub-pixel values are honoured.
    pixel_size_um : float
        Detector pixel size in µm, > 0 (also the voxel edge of the result).
    filter_name : str
        ``"ramp"``, ``"shepp"``, ``"cosine"``, ``"hann"``, ``"hamming"`` or ``"parzen"``.
    backend : str
        ``"gridding"`` (built-in finufft Fourier gridding), ``"tomopy"`` (tomopy gridrec) or
        ``"auto"`` (tomopy when importable, else gridding).
    n_threads : int
        Threads to use, >= 1.
    padding : str
        How each projection is extended before filtering (the sample of a real cell is often
        wider than the detector): ``"smooth"`` (default) rolls each projection's end value off
        to zero over an eighth of the detector width, ``"edge"`` repeats it (nabu, tomopy-cli),
        ``"zero"`` pads with zeros (a truncated projection then gives a bright rim and a cupped,
        offset image); see :func:`tomopress.recon.gridding.padding_weights`. Gridding pads
        inside its 2x filter length; tomopy gets a sinogram widened by half its width on each
        side and the result is cut back.

    Returns
    -------
    ndarray of float32, shape (n_rows, n_cols, n_cols)
        ``vol[z, y, x]``: linear attenuation coefficient in cm⁻¹ on an n_cols × n_cols grid of
        `pixel_size_um` pixels, rotation axis at the image centre.

    Raises
    ------
    ValueError
        On shape mismatch, non-finite values, a centre outside the detector, a non-positive
        pixel size, an unknown filter or backend, or tomopy requested but missing.

    Examples
    --------
    >>> angles = np.linspace(0, np.pi, 90, endpoint=False)
    >>> sino = np.zeros((90, 1, 32), np.float32)
    >>> reconstruct_slices(sino, angles, center_px=15.5, pixel_size_um=0.5,
    ...                    backend="gridding").shape
    (1, 32, 32)
    """
    sinograms = np.asarray(sinograms)
    angles_rad = np.asarray(angles_rad, dtype=np.float64)
    _validate(sinograms, angles_rad, center_px, pixel_size_um, n_threads)
    if filter_name not in FILTERS:
        raise ValueError(f"unknown filter {filter_name!r}; valid choices are {', '.join(FILTERS)}")
    if padding not in PADDINGS:
        raise ValueError(f"unknown padding {padding!r}; valid choices are {', '.join(PADDINGS)}")
    chosen = resolve_backend(backend)
    sino32 = np.ascontiguousarray(sinograms, dtype=np.float32)
    weights = angular_weights(angles_rad)
    n_angles, n_rows, n_cols = sino32.shape
    log.info("reconstructing %d rows of %d columns from %d angles with %s (%s filter)",
             n_rows, n_cols, n_angles, chosen, filter_name)
    if chosen == "gridding":
        vol = gridding_fbp(
            sino32,
            angles_rad,
            center_px=float(center_px),
            filter_response=filter_response(padded_length(n_cols), filter_name),
            angle_weights=weights,
            n_threads=int(n_threads),
            padding=padding,
        )
    elif padding != "zero":  # as tomopy-cli: widen the sinogram, reconstruct, cut back
        pad = n_cols // 2
        wide = extend_projections(sino32, pad, padding)
        vol = _tomopy_gridrec(wide, angles_rad, weights, float(center_px) + pad, filter_name,
                              int(n_threads))[:, pad:pad + n_cols, pad:pad + n_cols]
        vol = np.ascontiguousarray(vol)
    else:
        vol = _tomopy_gridrec(sino32, angles_rad, weights, float(center_px), filter_name,
                              int(n_threads))
    vol *= np.float32(1.0 / (pixel_size_um * 1e-4))  # per pixel -> per cm
    return vol


def _tomopy_gridrec(sino32: F32Array, angles_rad: F64Array, weights: F64Array,
                    center_px: float, filter_name: str, n_threads: int) -> F32Array:
    """tomopy gridrec with this module's conventions (per-pixel result).

    gridrec's ``center`` is the 0-based detector coordinate shifted to the image origin by a
    phase factor, as ours.  gridrec weights every angle by π / n_angles, so non-uniform sets are
    corrected by scaling each projection by weight · n_angles / π beforehand.  gridrec places
    the axis on pixel n/2 rather than (n−1)/2 for even n, a sub-pixel translation this wrapper
    does not resample away.
    """
    import tomopy  # noqa: PLC0415 (optional dependency)

    n_angles = sino32.shape[0]
    scale = (weights * n_angles / np.pi).astype(np.float32)
    if not np.allclose(scale, 1.0, rtol=1e-3):
        sino32 = sino32 * scale[:, None, None]
    vol = tomopy.recon(
        sino32,
        angles_rad.astype(np.float32),
        center=np.float32(center_px),
        algorithm="gridrec",
        filter_name=FILTERS[filter_name],
        sinogram_order=False,
        ncore=n_threads,
    )
    return np.ascontiguousarray(vol, dtype=np.float32)


def reconstruct_slab_file(
    sino_path: str,
    center_path: str,
    out_path: str,
    *,
    backend: str,
    filter_name: str,
    n_threads: int,
    padding: str = "smooth",
) -> str:
    """Reconstruct one flat-fielded sinogram slab file into a volume slab file.

    Reads ``sinogram``/``angles_rad`` and the pixel size from `sino_path` and the centre
    record (center.json) from `center_path`; rows get their own centre when the record's tilt
    is applied and full-turn scans are stitched into half-turn sinograms first
    (:func:`tomopress.prep.axis.half_turn_slab`).  Writes ``volume`` (rows, n, n) float32 in
    cm⁻¹ (n: the detector width, or the stitched width) with the row range, voxel size, centre,
    scan type, tilt slope, backend and filter as attributes. Returns the backend actually used.
    """
    import json
    import time

    from tomopress.io.h5store import provenance, read_array_h5, write_array_h5
    from tomopress.prep.axis import half_turn_slab

    t0 = time.perf_counter()
    sinogram, attrs = read_array_h5(sino_path, "sinogram")
    angles, _ = read_array_h5(sino_path, "angles_rad")
    with open(center_path) as fh:
        center = json.load(fh)
    used = resolve_backend(backend)
    log.info("read %s: %s sinogram (%.0f MB) in %.1f s", sino_path, sinogram.shape,
             sinogram.nbytes / 1e6, time.perf_counter() - t0)
    t1 = time.perf_counter()
    sinogram, angles, center_px = half_turn_slab(sinogram, angles,
                                                 row_start=int(attrs["row_start"]),
                                                 center=center)
    volume = reconstruct_slices(
        sinogram,
        angles,
        center_px=center_px,
        pixel_size_um=float(attrs["pixel_size_um"]),
        filter_name=filter_name,
        backend=used,
        n_threads=n_threads,
        padding=padding,
    )
    del sinogram
    log.info("reconstructed rows %d:%d into %s in %.1f s (%.1f s elapsed)", attrs["row_start"],
             attrs["row_stop"], volume.shape, time.perf_counter() - t1,
             time.perf_counter() - t0)
    tilt = center.get("tilt") or {}
    write_array_h5(
        out_path,
        {"volume": volume},
        compress=False,
        attrs={
            "row_start": attrs["row_start"],
            "row_stop": attrs["row_stop"],
            "voxel_size_um": attrs["pixel_size_um"],
            "units": "1/cm",
            "center_px": float(center["center_px"]),
            "scan_type": str(center.get("scan_type", "180")),
            "center_slope_px_per_row": float(tilt["slope_px_per_row"]) if tilt.get("applied")
            else 0.0,
            "backend": used,
            "filter": filter_name,
            "padding": padding,
            "phase_retrieval": attrs.get("phase_retrieval", '{"method": "none"}'),
            **provenance(sinogram=sino_path),
        },
    )
    log.info("wrote %s (%.0f MB); slab done in %.1f s", out_path, volume.nbytes / 1e6,
             time.perf_counter() - t0)
    return used
