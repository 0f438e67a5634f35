"""Rotation-centre finding: Vo's Fourier metric (default) and the sinogram's centre of mass.

Geometry is the one of :mod:`tomopress.recon.reconstruct`: the projection at angle θ lands on detector
column coordinate ``u = c + x cos θ − y sin θ`` (column j centred at j, 0-based), so the
projection at θ + π is the one at θ mirrored about the axis column c:
``p(θ + π, u) = p(θ, 2c − u)``.

Vo's method (Vo, Atwood & Drakopoulos, Opt. Express 22, 19078 (2014),
doi:10.1364/OE.22.019078) extends a half-turn sinogram to a full turn with its copy mirrored
about a candidate centre.  For the right centre the extended sinogram is the sinogram of an
object of radius R, whose 2-D Fourier transform (angular harmonic m, detector frequency ω in
cycles per pixel) is negligible in the double wedge ``|m| > 2π R |ω|``; a wrong centre leaves
seams at θ = 0 and θ = π whose energy falls in that wedge.  We use the wedge *energy* (sum of
squared magnitudes; Vo's paper averages magnitudes).  With energy the metric is a trigonometric
polynomial in the mirror shift: one FFT per detector row gives it for every candidate centre at
once, and the minimum is refined to 0.01 px on the exact (Fourier-interpolated) curve.

The centre-of-mass method fits the sinusoid ``u(θ) = x_c cos θ + y_c sin θ + c`` traced by the
centroid of every projection (Helgason–Ludwig consistency, zeroth and first moments).  It needs
an object that stays inside the field of view and flat-fielded line integrals (air = 0).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np
import scipy.fft

from tomopress.types import F32Array, F64Array

__all__ = [
    "CenterEstimate",
    "METHODS",
    "DEFAULT_MIN_CONFIDENCE",
    "find_center",
    "vo_center",
    "center_of_mass_center",
    "center_qc_png",
    "default_rows",
    "measure_center",
    "center_file",
]

log = logging.getLogger(__name__)

#: centre-finding methods accepted by :func:`find_center`
METHODS: Final = ("vo", "com")
#: :func:`center_file` refuses automatic centres whose confidence is below this
DEFAULT_MIN_CONFIDENCE: Final = 0.3
_NOISE_Z: Final = 5.0  # contrast must exceed this many noise standard deviations to count
_CURVE_STEP_PX: Final = 0.25
_FINE_STEP_PX: Final = 0.01


@dataclass(frozen=True)
class CenterEstimate:
    """A rotation centre, how far to trust it, and the metric curve behind it (for QC)."""

    center_px: float  #: 0-based detector column of the rotation axis (column j's centre is j)
    residual_px: float  #: com: rms misfit of the centroid sinusoid (px); vo: 0
    confidence: float  #: in [0, 1]; see :func:`vo_center` and :func:`center_of_mass_center`
    method: str  #: "vo", "com" or "sample_sheet"
    candidates_px: tuple[float, ...] = ()  #: candidate centres of the metric curve
    metric: tuple[float, ...] = ()  #: metric at each candidate (lower is better)


def _check(sinograms: np.ndarray, angles_rad: np.ndarray) -> None:
    if sinograms.ndim != 3 or angles_rad.ndim != 1 or sinograms.shape[0] != angles_rad.shape[0]:
        raise ValueError(
            f"sinograms {sinograms.shape} must be (n_angles, rows, cols) with n_angles = "
            f"{angles_rad.shape[0] if angles_rad.ndim == 1 else angles_rad.shape}"
        )
    if sinograms.shape[0] < 4 or sinograms.shape[2] < 8:
        raise ValueError(f"need at least 4 angles and 8 columns, got shape {sinograms.shape}")
    if not (np.all(np.isfinite(angles_rad)) and np.all(np.isfinite(sinograms))):
        raise ValueError("sinograms and angles_rad must be finite (no NaN or inf)")


def _search_range(n_cols: int, search_px: tuple[float, float] | None) -> tuple[float, float]:
    mid = (n_cols - 1) / 2
    lo, hi = (mid - n_cols / 4, mid + n_cols / 4) if search_px is None else search_px
    lo, hi = max(0.0, float(lo)), min(n_cols - 1.0, float(hi))
    if not hi - lo >= 1.0:
        raise ValueError(f"search range {search_px} must span >= 1 px inside [0, {n_cols - 1}]")
    return lo, hi


def _candidates(lo: float, hi: float) -> F64Array:
    """Candidate centres on a grid of `_CURVE_STEP_PX` inside [lo, hi]."""
    step = _CURVE_STEP_PX
    return np.arange(np.ceil(lo / step), np.floor(hi / step) + 1) * step


def _uniform_half_turn(sinograms: np.ndarray, angles_rad: np.ndarray) -> F32Array:
    """The sinogram on ``n`` uniform angles over [θ0, θ0 + π) (linear interpolation in θ)."""
    order = np.argsort(angles_rad, kind="stable")
    theta = angles_rad[order] - angles_rad[order[0]]
    keep = theta < np.pi - 1e-9
    theta, order = theta[keep], order[keep]
    if theta[-1] < 0.75 * np.pi:
        raise ValueError(
            f"angles span {np.degrees(theta[-1]):.1f} degrees: Vo's method needs a half turn"
        )
    n = theta.size
    grid = np.arange(n) * (np.pi / n)
    sino = np.asarray(sinograms, dtype=np.float32)
    if np.allclose(theta, grid, atol=1e-3 * np.pi / n, rtol=0):
        return sino[order]
    upper = np.clip(np.searchsorted(theta, grid, side="right"), 1, n - 1)
    lower = upper - 1
    frac = np.clip((grid - theta[lower]) / np.maximum(theta[upper] - theta[lower], 1e-12), 0, 1)
    frac = frac.astype(np.float32)[:, None, None]
    return (1 - frac) * sino[order[lower]] + frac * sino[order[upper]]


def vo_center(
    sinograms: np.ndarray,
    angles_rad: np.ndarray,
    *,
    search_px: tuple[float, float] | None = None,
    object_fraction: float = 1.0,
    smoothing_px: float = 2.0,
) -> CenterEstimate:
    """Rotation centre by Vo's double-wedge Fourier metric, to 0.01 px.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, rows, cols)
        Flat-fielded line integrals of a few detector rows over a half turn; the rows' metrics
        add up.  Angles need not be uniform or sorted (they are resampled to a uniform grid).
    angles_rad : ndarray of float, shape (n_angles,)
        Projection angles in radians spanning at least 135 degrees; angles at or beyond
        θ_min + π are not used.
    search_px : (float, float), optional
        Candidate centres, in detector columns; default: the middle ± a quarter of the width.
    object_fraction : float
        Object diameter as a fraction of the detector width, in (0, 1]; it sets the wedge
        ``|m| > π · object_fraction · n_cols · |ω|``.  Default 1: the sample fills the field
        of view, as the pressed cells do (algotom's ``ratio``, default 0.5 there).
    smoothing_px : float
        Gaussian smoothing (standard deviation) along columns, and along angles for up to 900
        angles (proportionally more beyond), that suppresses noise in the wedge.

    Returns
    -------
    CenterEstimate
        ``metric`` is the wedge energy normalised by the energy the two half turns would give
        if they were unrelated, ``M``: about 1 away from the centre, near 0 at the centre of
        noise-free consistent data.  ``confidence = clip((C − 5σ) / (1 − 5σ), 0, 1)`` with the
        contrast ``C = (median M − min M) / median M`` and ``σ = sqrt(2 / N_eff)`` the standard
        deviation of M for pure white noise (N_eff: effective number of independent wedge
        coefficients, over all rows).  It is 0 for noise and for a featureless sinogram and
        near 1 for a well-defined minimum.

    Raises
    ------
    ValueError
        On bad shapes, non-finite values, too short an angular span, or a bad search range.

    Examples
    --------
    >>> from tomopress.synthetic.phantoms2d import disc, sinogram
    >>> theta = np.linspace(0, np.pi, 90, endpoint=False)
    >>> sino = sinogram([disc(1.0, 8.0, -5.0, 6.0)], theta, n_cols=64, center_px=30.4)
    >>> est = vo_center(sino[:, None, :], theta)
    >>> round(est.center_px, 1), est.confidence > 0.9
    (30.4, True)
    """
    sinograms = np.asarray(sinograms)
    angles_rad = np.asarray(angles_rad, dtype=np.float64)
    _check(sinograms, angles_rad)
    if not 0 < object_fraction <= 1 or not smoothing_px >= 0:
        raise ValueError(f"need 0 < object_fraction <= 1 and smoothing_px >= 0, got "
                         f"{object_fraction}, {smoothing_px}")
    n_cols = sinograms.shape[2]
    lo, hi = _search_range(n_cols, search_px)
    sino = _uniform_half_turn(sinograms, angles_rad)
    n_ang = sino.shape[0]
    # pad with edge values so that the mirrored copy never wraps onto the data
    pad = int(np.ceil(max(abs(2 * lo - (n_cols - 1)), abs(2 * hi - (n_cols - 1))))) + 2
    width = scipy.fft.next_fast_len(n_cols + 2 * pad, real=True)
    left = (width - n_cols) // 2
    m = np.abs(scipy.fft.fftfreq(2 * n_ang, 1.0 / (2 * n_ang)))[:, None]  # harmonics of 2π
    k = np.arange(width // 2 + 1)[None, :]
    radius = 0.5 * object_fraction * n_cols
    wedge = (m > 2 * np.pi * radius * k / width) & (m > min(20, int(0.1 * n_ang)))
    wedge &= k > width // n_cols  # drop the detector's zero frequency
    sigma_t = smoothing_px * max(1.0, n_ang / 900)
    gain = np.exp(-4 * np.pi**2 * (sigma_t**2 * (m / (2 * n_ang)) ** 2
                                   + smoothing_px**2 * (k / width) ** 2))
    weight = np.where(wedge, gain, 0.0).astype(np.float32)
    # the wedge narrows to nothing at |m| = n_ang: detector frequencies past its last column
    # add only zeros, so they are neither transformed along the angles nor summed (about
    # half of the columns for a sample filling the field of view)
    n_k = int(np.flatnonzero(weight.any(axis=0))[-1]) + 1 if weight.any() else 1
    alt = np.where(np.arange(2 * n_ang) % 2 == 0, 1.0, -1.0).astype(np.float32)[:, None]
    weight_alt = weight[:, :n_k] * alt
    flip_m = (-np.arange(2 * n_ang)) % (2 * n_ang)
    cross = np.zeros(k.shape[1], dtype=np.complex128)
    energy = raw_energy = 0.0
    for r in range(sino.shape[1]):
        raw_energy += float(np.sum(np.square(sino[:, r, :], dtype=np.float64)))
        row = sino[:, r, :] - sino[:, r, :].mean()
        padded = np.pad(row, ((0, 0), (left, width - n_cols - left)), mode="edge")
        # P: the half turn zero-padded to a full turn; the mirrored half turn's transform is
        # Q[m, k] = (-1)^m e^{2πik/W} conj(P[-m, k]) (real data), so one FFT serves both
        spec = scipy.fft.fft(scipy.fft.rfft(padded, axis=1)[:, :n_k], n=2 * n_ang, axis=0)
        cross[:n_k] += np.sum(weight_alt * np.conj(spec * spec[flip_m]), axis=0,
                              dtype=np.complex128)
        energy += 2.0 * float(np.sum(weight[:, :n_k] * np.abs(spec) ** 2, dtype=np.float64))
    cross *= np.exp(2j * np.pi * k[0] / width)
    centres = _candidates(lo, hi)
    if not energy > 1e-12 * 2 * n_ang * width * raw_energy:  # Parseval scale of the data
        log.warning("Vo centre: no energy in the double wedge (featureless sinogram)")
        return CenterEstimate((lo + hi) / 2, 0.0, 0.0, "vo", tuple(centres.tolist()),
                              tuple(np.ones(centres.size).tolist()))

    def metric_at(candidates: np.ndarray) -> F64Array:
        # mirrored copy shifted by s = 2(c + left) - (W - 1) columns within the padded row
        shift = 2 * (candidates + left) - (width - 1)
        phase = np.exp(-2j * np.pi * np.outer(shift, k[0, :n_k]) / width)
        return 1.0 + 2.0 * np.real(phase @ cross[:n_k]) / energy  # the rest of cross is 0

    curve = np.concatenate([metric_at(c) for c in np.array_split(centres, 1 + centres.size // 512)])
    fine = np.clip(centres[int(np.argmin(curve))] + np.arange(-25, 26) * _FINE_STEP_PX, lo, hi)
    best = float(fine[int(np.argmin(metric_at(fine)))])
    median = float(np.median(curve))
    contrast = (median - float(curve.min())) / median if median > 0 else 0.0
    w64 = weight.astype(np.float64)
    n_eff = sino.shape[1] * w64.sum() ** 2 / max(float(np.sum(w64**2)), 1e-300)
    noise = _NOISE_Z * np.sqrt(2.0 / n_eff)
    confidence = float(np.clip((contrast - noise) / (1 - noise), 0, 1)) if noise < 1 else 0.0
    log.info("Vo centre %.2f px, contrast %.3f, noise level %.3f, confidence %.3f",
             best, contrast, noise / _NOISE_Z, confidence)
    return CenterEstimate(best, 0.0, confidence, "vo", tuple(centres.tolist()),
                          tuple(curve.tolist()))


def center_of_mass_center(
    sinograms: np.ndarray,
    angles_rad: np.ndarray,
    *,
    search_px: tuple[float, float] | None = None,
) -> CenterEstimate:
    """Rotation centre from the centre-of-mass sinusoid of one or more rows.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, rows, cols)
        Line integrals (flat-fielded, -log), projections order.
    angles_rad : ndarray, shape (n_angles,)
        Projection angles in radians; they must span more than a few degrees.
    search_px : (float, float), optional
        Range of the QC curve (rms misfit with the centre held at each candidate).

    Returns
    -------
    CenterEstimate
        ``confidence = 1 / (1 + residual_px)``: 1 for a perfect fit, falls with the misfit.

    Raises
    ------
    ValueError
        If the shapes disagree, or no projection carries positive mass.

    Examples
    --------
    >>> theta = np.linspace(0, np.pi, 90, endpoint=False)
    >>> sino = np.zeros((90, 1, 64))
    >>> cols = np.rint(40.0 + 10 * np.cos(theta)).astype(int)  # a point 10 px off-axis
    >>> sino[np.arange(90), 0, cols] = 1.0
    >>> round(center_of_mass_center(sino, theta).center_px, 1)
    40.0
    """
    sinograms = np.asarray(sinograms, dtype=np.float64)
    angles_rad = np.asarray(angles_rad, dtype=np.float64)
    _check(sinograms, angles_rad)
    profile = sinograms.sum(axis=1)  # (n_angles, cols): rows add up, the axis is common
    mass = profile.sum(axis=1)
    usable = mass > 0.05 * np.max(mass, initial=0.0)
    if np.count_nonzero(usable) < 3:
        raise ValueError("no projection carries positive mass: is the sinogram flat-fielded?")
    columns = np.arange(profile.shape[1], dtype=np.float64)
    centroid = (profile[usable] @ columns) / mass[usable]
    theta = angles_rad[usable]
    design = np.column_stack([np.cos(theta), np.sin(theta), np.ones_like(theta)])
    coef, *_ = np.linalg.lstsq(design, centroid, rcond=None)
    residual = float(np.sqrt(np.mean((design @ coef - centroid) ** 2)))
    centres = _candidates(*_search_range(profile.shape[1], search_px))
    sine = design[:, :2]
    fit = sine @ np.linalg.pinv(sine)  # projector onto the sinusoid with the centre held
    misfit = centroid[:, None] - centres[None, :]
    curve = np.sqrt(np.mean((misfit - fit @ misfit) ** 2, axis=0))
    return CenterEstimate(
        center_px=float(coef[2]),
        residual_px=residual,
        confidence=1.0 / (1.0 + residual),
        method="com",
        candidates_px=tuple(centres.tolist()),
        metric=tuple(curve.tolist()),
    )


def find_center(
    sinograms: np.ndarray,
    angles_rad: np.ndarray,
    *,
    method: str = "vo",
    search_px: tuple[float, float] | None = None,
) -> CenterEstimate:
    """Rotation centre of a few flat-fielded detector rows, with a confidence and a QC curve.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, rows, cols)
        Line integrals (-log of flat-fielded transmission).
    angles_rad : ndarray, shape (n_angles,)
        Projection angles in radians (a half turn for ``"vo"``).
    method : {"vo", "com"}
        ``"vo"``: :func:`vo_center` (Vo et al. 2014, doi:10.1364/OE.22.019078), robust to
        truncation and noise; for a full turn it is
        :func:`tomopress.prep.halfacq.find_center_360` instead (the two half turns compared
        directly; finds an axis anywhere on the detector, also an offset one, and ignores
        `search_px`); ``"com"``: :func:`center_of_mass_center`.
    search_px : (float, float), optional
        Candidate centres in columns; default the detector middle ± a quarter of its width.

    Returns
    -------
    CenterEstimate
        ``center_px`` is the 0-based column coordinate of the axis (column j centred at j).

    Raises
    ------
    ValueError
        On an unknown method or bad input (see the methods).

    Examples
    --------
    >>> from tomopress.synthetic.phantoms2d import disc, sinogram
    >>> theta = np.linspace(0, np.pi, 90, endpoint=False)
    >>> sino = sinogram([disc(1.0, 8.0, -5.0, 6.0)], theta, n_cols=64, center_px=33.7)
    >>> round(find_center(sino[:, None, :], theta).center_px, 1)
    33.7
    """
    if method == "vo":
        from tomopress.prep.halfacq import find_center_360, is_full_turn

        if is_full_turn(np.asarray(angles_rad)):
            return find_center_360(sinograms, angles_rad)
        return vo_center(sinograms, angles_rad, search_px=search_px)
    if method == "com":
        return center_of_mass_center(sinograms, angles_rad, search_px=search_px)
    raise ValueError(f"unknown centre method {method!r}; valid choices are {', '.join(METHODS)}")


def center_qc_png(
    sinograms: np.ndarray,
    angles_rad: np.ndarray,
    estimate: CenterEstimate,
    out_path: str | Path,
    *,
    pixel_size_um: float,
    offset_px: float = 2.0,
    title: str = "",
) -> None:
    """Write a QC figure: the metric curve, and the middle row reconstructed at three centres.

    Panel 1 plots ``estimate.metric`` against ``estimate.candidates_px`` with the chosen centre
    marked; panels 2-4 show the middle row reconstructed (gridding backend, ramp filter) at the
    centre and at centre ∓ `offset_px`, on a common grey scale.  Wrong centres show arcs.
    The PNG is written atomically.

    Raises
    ------
    ValueError
        On bad shapes or a non-positive pixel size (from the reconstruction).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from tomopress.io.atomic import atomic_path
    from tomopress.prep.halfacq import is_full_turn, stitch_half_acquisition
    from tomopress.recon.reconstruct import reconstruct_slices

    sinograms = np.asarray(sinograms, dtype=np.float32)
    n_cols = sinograms.shape[2]
    row = sinograms[:, sinograms.shape[1] // 2 : sinograms.shape[1] // 2 + 1, :]
    centres = [float(np.clip(estimate.center_px + d, 0, n_cols - 1))
               for d in (-offset_px, 0.0, offset_px)]

    def slice_at(c: float) -> F32Array:
        sino, theta = row, angles_rad
        if is_full_turn(angles_rad):  # a full turn is stitched first, as in reconstruction
            sino, theta, c = stitch_half_acquisition(row, angles_rad, center_px=c)
        return reconstruct_slices(sino, theta, center_px=c, pixel_size_um=pixel_size_um,
                                  backend="gridding")[0]

    slices = [slice_at(c) for c in centres]
    if slices[0].shape != slices[1].shape or slices[2].shape != slices[1].shape:
        side = min(s.shape[0] for s in slices)  # stitched widths may differ by a column
        slices = [s[(s.shape[0] - side) // 2:][:side, (s.shape[1] - side) // 2:][:, :side]
                  for s in slices]
    vmin, vmax = np.percentile(slices[1], [1, 99.5])
    if not vmax > vmin:
        vmin, vmax = float(slices[1].min()), float(slices[1].max()) + 1e-6
    fig = Figure(figsize=(16, 4.2), dpi=90)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 4)
    if estimate.candidates_px:
        axes[0].plot(estimate.candidates_px, estimate.metric, lw=1)
    axes[0].axvline(estimate.center_px, color="r", ls="--", lw=1)
    axes[0].set_xlabel("candidate centre (px)")
    axes[0].set_ylabel("metric (lower is better)")
    axes[0].set_title(f"{estimate.method}: {estimate.center_px:.2f} px, "
                      f"confidence {estimate.confidence:.2f}")
    for ax, centre, image, label in zip(axes[1:], centres, slices, ("−", "best", "+")):
        ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax)
        ax.set_title(f"centre {centre:.2f} px ({label})")
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format="png")


def default_rows(n_detector_rows: int, rows: tuple[int, int] | None = None,
                 n_rows: int = 8) -> tuple[int, int]:
    """Up to `n_rows` rows around the middle of `rows` (default: the whole detector).

    Examples
    --------
    >>> default_rows(2048), default_rows(2), default_rows(100, (10, 20), 4)
    ((1020, 1028), (0, 2), (13, 17))
    """
    lo, hi = (0, n_detector_rows) if rows is None else rows
    if not 0 <= lo < hi <= n_detector_rows:
        raise ValueError(f"rows {lo}:{hi} outside the detector's {n_detector_rows} rows")
    start = max(lo, (lo + hi) // 2 - n_rows // 2)
    return start, min(hi, start + n_rows)


@dataclass(frozen=True)
class _Rows:
    sinograms: F32Array  # (n_angles, rows, cols) line integrals
    angles_rad: F64Array
    used: tuple[int, int]
    n_cols: int
    pixel_size_um: float | None


def _load_rows(raw_path: str | Path, format: str, reader_options: dict | None,
               rows: tuple[int, int] | None, n_rows: int, average: str,
               min_transmission: float, *, read_pixels: bool = True) -> _Rows:
    """Flat-field up to `n_rows` detector rows around the middle of `rows` of a raw scan."""
    from tomopress.io import open_scan
    from tomopress.prep.flatfield import average_frames, flatfield_correct

    with open_scan(raw_path, format, **(reader_options or {})) as scan:
        n_det_rows, n_cols = scan.detector_shape
        used = default_rows(n_det_rows, rows, n_rows)
        sino = np.zeros((0, 0, 0), np.float32)
        if read_pixels:
            sl = slice(*used)
            sino, _ = flatfield_correct(
                scan.read_projections(sl),
                average_frames(scan.read_flats(sl), method=average),
                average_frames(scan.read_darks(sl), method=average),
                min_transmission=min_transmission,
            )
        return _Rows(sino, scan.angles_rad, used, n_cols, scan.pixel_size_um)


def measure_center(
    raw_path: str | Path,
    *,
    format: str = "auto",
    reader_options: dict | None = None,
    rows: tuple[int, int] | None = None,
    n_rows: int = 8,
    method: str = "vo",
    average: str = "mean",
    min_transmission: float = 1e-4,
    qc_png: str | Path | None = None,
    pixel_size_um: float | None = None,
) -> tuple[CenterEstimate, tuple[int, int], int]:
    """Find the rotation centre of a raw scan on up to `n_rows` rows around the middle of `rows`.

    Reads and flat-fields only those rows (`rows` default: the whole detector, so the rows
    used are the detector's middle ones).  Returns the estimate, the rows used and the number
    of detector columns; writes the QC PNG when `qc_png` is given (pixel size: the argument,
    else the file's, else 1 µm: it only scales the grey values).

    Raises
    ------
    RawDataError
        If the file cannot be opened or is inconsistent.
    ValueError
        On rows outside the detector or an unusable sinogram.
    """
    data = _load_rows(raw_path, format, reader_options, rows, n_rows, average, min_transmission)
    estimate = find_center(data.sinograms, data.angles_rad, method=method)
    if qc_png is not None:
        center_qc_png(data.sinograms, data.angles_rad, estimate, qc_png,
                      pixel_size_um=pixel_size_um or data.pixel_size_um or 1.0,
                      title=f"{Path(raw_path).name}, rows {data.used[0]}:{data.used[1]}")
    return estimate, data.used, data.n_cols


def center_file(
    raw_path: str,
    out_path: str,
    *,
    format: str,
    reader_options: dict,
    rows: tuple[int, int],
    n_rows: int,
    average: str,
    min_transmission: float,
    override_px: float | None,
    method: str = "vo",
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    qc_png: str | None = None,
    tilt_min_spread_px: float | None = None,
    n_threads: int = 1,
) -> CenterEstimate:
    """Find the rotation centre of a raw scan (or take the sheet's) and write it as JSON.

    The centre is measured on `n_rows` detector rows around the middle of ``rows`` (the rows
    that will be reconstructed).  The JSON has ``center_px``, ``confidence``, ``method``,
    ``residual_px``, the metric curve (``candidates_px``, ``metric``), the rows used and the
    number of columns.  With `qc_png` a QC figure is written too, also before a low-confidence
    error (with a sheet override it shows the measured curve and marks the sheet's centre).

    The scan type is recorded as ``scan_type``: ``"180"``, or for a full turn (the centre is
    then found by :func:`tomopress.prep.halfacq.find_center_360`) ``"360_centred"`` or
    ``"360_offset"``, with ``axis_side``, ``overlap_px`` and ``stitched_cols``
    (:func:`tomopress.prep.halfacq.axis_geometry`).

    With `tilt_min_spread_px` (and no sheet override) the centre is also measured on bands of
    `n_rows` rows spread over ``rows`` from top to bottom (:func:`tomopress.prep.axis.tilt_bands`)
    and a line ``centre(row)`` fitted (:func:`tomopress.prep.axis.fit_tilt`); when its spread
    over ``rows`` exceeds `tilt_min_spread_px` and its slope is significant, each row gets its
    own centre in reconstruction.  ``tilt`` records the
    fit (``slope_px_per_row``, ``spread_px``, ``applied``, ``reason``, the band centres) and
    ``center_px`` is then the fitted centre at the middle band.  The bands are measured
    `n_threads` at a time (each on its own, so the record does not depend on it).

    Raises
    ------
    ValueError
        If there is no sheet override and the confidence is below `min_confidence`, or the
        centre lies outside the detector.
    """
    from tomopress.io.atomic import write_json_atomic
    from tomopress.prep.axis import fit_tilt, tilt_bands
    from tomopress.prep.halfacq import axis_geometry, is_full_turn

    measure = override_px is None or qc_png is not None
    data = _load_rows(raw_path, format, reader_options, rows, n_rows, average,
                      min_transmission, read_pixels=measure)
    full_turn = is_full_turn(data.angles_rad)
    if measure:
        estimate = find_center(data.sinograms, data.angles_rad, method=method)
    else:
        estimate = CenterEstimate(float(override_px), 0.0, 1.0, "sample_sheet")
    measured = estimate
    if override_px is not None:
        estimate = replace(estimate, center_px=float(override_px), residual_px=0.0,
                           confidence=1.0, method="sample_sheet")
    if qc_png is not None:
        center_qc_png(data.sinograms, data.angles_rad, estimate, qc_png,
                      pixel_size_um=data.pixel_size_um or 1.0,
                      title=f"{Path(raw_path).name}, rows {data.used[0]}:{data.used[1]}")
    used, n_cols = data.used, data.n_cols
    if override_px is None and not estimate.confidence >= min_confidence:
        raise ValueError(
            f"{raw_path}: automatic rotation centre ({method}) is unreliable: confidence "
            f"{estimate.confidence:.2f} < min_confidence {min_confidence:.2f} (best guess "
            f"{estimate.center_px:.2f} px on rows {used[0]}:{used[1]}); set center_px for "
            "this scan in the sample sheet"
        )
    if not 0 <= estimate.center_px <= n_cols - 1:
        raise ValueError(
            f"{raw_path}: rotation centre {estimate.center_px:.2f} px lies outside the detector "
            f"(0..{n_cols - 1}); set center_px in the sample sheet"
        )
    record: dict = {**asdict(estimate), "rows": list(used), "n_columns": n_cols,
                    "scan_type": "180"}
    if tilt_min_spread_px is not None and override_px is None:
        bands = tilt_bands(rows, n_rows)
        middle = bands.index(used) if used in bands else len(bands) // 2

        def band_center(band: tuple[int, int]) -> CenterEstimate:
            if band == used:
                return measured
            return find_center(_load_rows(raw_path, format, reader_options, band, n_rows,
                                          average, min_transmission).sinograms,
                               data.angles_rad, method=method)

        if n_threads > 1:  # the FFTs and array arithmetic release the GIL
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=n_threads) as pool:
                found = list(pool.map(band_center, bands))
        else:
            found = [band_center(band) for band in bands]
        tilt = fit_tilt(np.array([(a + b - 1) / 2 for a, b in bands]),
                        np.array([e.center_px for e in found]),
                        np.array([e.confidence for e in found]), middle_index=middle,
                        recon_rows=rows, min_confidence=min_confidence,
                        min_spread_px=tilt_min_spread_px)
        record.update(center_px=tilt.center_px, tilt=tilt.as_record())
    elif override_px is not None:
        record["tilt"] = {"applied": False, "reason": "centre from the sample sheet"}
    if full_turn:
        geometry = axis_geometry(record["center_px"], n_cols)
        record.update(scan_type=geometry.scan_type, axis_side=geometry.side,
                      overlap_px=geometry.overlap_px, stitched_cols=geometry.stitched_cols)
        log.info("%s: full turn, %s axis at %.2f px (%s side, %d columns overlap): stitched "
                 "to %d columns", raw_path, geometry.scan_type, record["center_px"],
                 geometry.side, geometry.overlap_px, geometry.stitched_cols)
    write_json_atomic(out_path, record)
    return estimate
