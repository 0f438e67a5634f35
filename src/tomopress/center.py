"""Rotation-centre finding from the sinogram's centre of mass.

For a parallel beam the centre of mass of every projection of a slice traces
``u(θ) = x_c cos θ + y_c sin θ + c``, where ``(x_c, y_c)`` is the slice's centre of mass and
``c`` the detector column of the rotation axis (Helgason–Ludwig consistency, zeroth and first
moments). A least-squares fit of that sinusoid gives ``c`` without reconstructing. It needs an
object that stays inside the field of view and flat-fielded line integrals (air = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CenterEstimate", "center_of_mass_center", "center_file"]


@dataclass(frozen=True)
class CenterEstimate:
    """A rotation centre and how far to trust it."""

    center_px: float  #: 0-based detector column of the rotation axis (column j's centre is j)
    residual_px: float  #: rms misfit of the centre-of-mass sinusoid, in pixels
    confidence: float  #: 1 / (1 + residual_px): 1 for a perfect fit, falls with misfit
    method: str


def center_of_mass_center(sinograms: np.ndarray, angles_rad: np.ndarray) -> CenterEstimate:
    """Rotation centre from the centre-of-mass sinusoid of one or more rows.

    Parameters
    ----------
    sinograms : ndarray, shape (n_angles, rows, cols)
        Line integrals (flat-fielded, -log), projections order.
    angles_rad : ndarray, shape (n_angles,)
        Projection angles in radians; they must span more than a few degrees.

    Returns
    -------
    CenterEstimate

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
    if sinograms.ndim != 3 or sinograms.shape[0] != angles_rad.shape[0]:
        raise ValueError(
            f"sinograms {sinograms.shape} must be (n_angles, rows, cols) with n_angles = {angles_rad.shape[0]}"
        )
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
    return CenterEstimate(
        center_px=float(coef[2]),
        residual_px=residual,
        confidence=1.0 / (1.0 + residual),
        method="center_of_mass",
    )


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
) -> CenterEstimate:
    """Find the rotation centre of a raw scan (or take the sheet's) and write it as JSON.

    The centre is measured on `n_rows` detector rows around the middle of ``rows`` (the rows
    that will be reconstructed). The JSON has ``center_px``, ``confidence``, ``residual_px``,
    ``method`` and the rows used.
    """
    from tomopress.files import write_json_atomic
    from tomopress.flatfield import average_frames, flatfield_correct
    from tomopress.io import open_scan

    middle = (rows[0] + rows[1]) // 2
    used = (max(rows[0], middle - n_rows // 2), min(rows[1], middle - n_rows // 2 + n_rows))
    with open_scan(raw_path, format, **reader_options) as scan:
        n_cols = scan.detector_shape[1]
        if override_px is not None:
            estimate = CenterEstimate(float(override_px), 0.0, 1.0, "sample_sheet")
        else:
            sl = slice(*used)
            sino, _ = flatfield_correct(
                scan.read_projections(sl),
                average_frames(scan.read_flats(sl), method=average),
                average_frames(scan.read_darks(sl), method=average),
                min_transmission=min_transmission,
            )
            estimate = center_of_mass_center(sino, scan.angles_rad)
    if not 0 <= estimate.center_px <= n_cols - 1:
        raise ValueError(
            f"{raw_path}: rotation centre {estimate.center_px:.2f} px lies outside the detector "
            f"(0..{n_cols - 1}); set center_px in the sample sheet"
        )
    write_json_atomic(
        out_path,
        {**estimate.__dict__, "rows": list(used), "n_columns": n_cols},
    )
    return estimate
