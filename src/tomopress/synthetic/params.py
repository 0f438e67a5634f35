"""Parameters of the synthetic beamtime and the pressure model that drives its microstructure."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["SyntheticParams", "pressure_model", "PRESSURE_RANGE_MPA", "MORPHOLOGIES"]

#: pressures between which the pressure model interpolates (log-linear); it saturates outside
PRESSURE_RANGE_MPA = (6.0, 100.0)
# (value at 6 MPa, value at 100 MPa) of every pressure-driven quantity
_MODEL_ENDPOINTS = {
    "composite_porosity": (0.35, 0.23),
    "separator_porosity": (0.15, 0.05),
    "void_flattening": (0.8, 0.4),  # void correlation length along z / along x-y
    "equator_weight": (0.6, 1.2),  # strength of the "voids at particle equators" term
}


def pressure_model(pressure_mpa: float) -> dict[str, float]:
    """Target porosities and void shape of the synthetic cell at one stack pressure.

    Every quantity is log-linear in pressure between 6 MPa and 100 MPa and constant outside.
    Porosities fall with pressure (composite 0.35 -> 0.23, separator 0.15 -> 0.05, the values
    of Sakka et al. 2022, doi:10.1039/d2ta02378d, at 100 MPa); voids flatten along z (the
    pressure axis) and concentrate at the particle equators, so contact turns anisotropic.

    Parameters
    ----------
    pressure_mpa : float
        Stack pressure in MPa, > 0.

    Returns
    -------
    dict
        ``composite_porosity``, ``separator_porosity`` (void volume fractions of the layers),
        ``void_flattening`` (void correlation length along z divided by the one along x-y, <= 1)
        and ``equator_weight`` (weight of the equatorial-void term, in units of the random
        field's standard deviation).

    Raises
    ------
    ValueError
        If `pressure_mpa` is not a finite positive number.

    Examples
    --------
    >>> m = pressure_model(100.0)
    >>> round(m["composite_porosity"], 3), round(m["separator_porosity"], 3)
    (0.23, 0.05)
    >>> pressure_model(6.0)["composite_porosity"] > pressure_model(25.0)["composite_porosity"]
    True
    """
    if not (isinstance(pressure_mpa, (int, float)) and math.isfinite(pressure_mpa)
            and pressure_mpa > 0):
        raise ValueError(f"pressure_mpa must be a finite number > 0, got {pressure_mpa!r}")
    lo, hi = PRESSURE_RANGE_MPA
    t = math.log(pressure_mpa / lo) / math.log(hi / lo)
    t = min(max(t, 0.0), 1.0)
    return {k: a + (b - a) * t for k, (a, b) in _MODEL_ENDPOINTS.items()}


@dataclass(frozen=True)
class SyntheticParams:
    """Everything that defines a synthetic scan except the pressure and the noise seed.

    The defaults are the built-in demo: one scan simulates in a few seconds on one core and
    reconstructs to a segmentable 3-phase image. Lengths are in detector pixels unless the
    name says ``_um``. Rows are detector rows (z, the rotation and pressure axis): the
    separator fills rows ``[0, separator_rows)``, the composite rows ``[separator_rows, n_rows)``.

    Attributes
    ----------
    n_rows, n_cols : int
        Detector shape (rows = z, columns = the projection axis).
    n_angles : int
        Projections evenly spaced over [0, 180) degrees.
    pixel_size_um : float
        Detector pixel edge in µm (also the reconstructed voxel edge).
    fine_factor : int
        The phantom is built on a grid this many times finer than the detector pixel and the
        detector integrates over fine sub-pixels, so partial volume arises by itself.
    separator_rows : int
        Detector rows of the separator (SE) layer, at the top (low row indices).
    transition_rows : int
        Rows on each side of the interface excluded from each layer's analysis range.
    roi_size_px : int
        Side of the centred square analysis region on the reconstructed x-y grid.
    cylinder_diameter_frac : float
        Cell diameter as a fraction of the detector width (air outside, no truncation).
    mu_am_cm, mu_se_cm : float
        Linear attenuation coefficients at 20 keV in cm⁻¹ (NCM, LGPS); void and air are 0.
    i0_counts : float
        Mean flat-field counts per pixel (before the per-column gain).
    dark_counts, read_noise_counts : float
        Mean dark level and Gaussian read-noise standard deviation in counts.
    gain_spread : float
        Relative standard deviation of the per-column gain (present in flats: it cancels).
    n_flats, n_darks : int
        Numbers of flat and dark frames.
    n_ring_columns : int
        Columns whose gain in the projections differs from the flats by ±`ring_gain_error`
        (relative; they make rings). Positions are drawn inside the sample's shadow.
    ring_gain_error : float
        Magnitude of those gain errors (each gets a random sign and 0.5-1x this magnitude).
    n_dead_columns : int
        Columns that record no signal (dark level only) in projections and flats.
    n_zingers : int
        Isolated hot pixels scattered over the projections.
    center_offset_px : float
        Rotation axis minus the detector middle ``(n_cols - 1) / 2``, in pixels.
    blur_sigma_px : float
        Gaussian detector blur (standard deviation, pixels), applied to the transmission.
    noise : bool
        False turns off Poisson and read noise (defects are still governed by their counts).
    particle_median_diameter_um, particle_sigma_ln : float
        Log-normal NCM particle diameters: median and standard deviation of ln(d).
    am_fraction : float
        Target NCM volume fraction of the composite layer.
    max_overlap : float
        Particles may overlap: centre distance >= (1 - max_overlap) * (r_i + r_j).
    void_correlation_um : float
        Correlation length (Gaussian kernel sigma) of the composite's void field in x-y.
    separator_void_correlation_um : float
        The same for the separator's small voids.
    equator_shell_um : float
        Width of the shell around each particle where the equatorial-void term acts.
    equator_weight_scale : float
        Factor on the pressure model's equatorial-void weight (0 turns the term off).
    void_flattening_scale : float
        Factor on the pressure model's void flattening (< 1 flattens voids further along z).
    min_void_distance_um : float
        No void closer than this to an AM particle surface (0: voids may touch AM); a positive
        value gives contact without gaps.
    drift_total : float
        Relative change of the beam intensity over the scan: projection k is scaled by
        ``1 + drift_total * k / (n_angles - 1)``; half the flats are taken before (factor 1)
        and half after (factor ``1 + drift_total``).
    microstructure_seed : int
        Seed of particles and void fields: the same across a pressure series, so only the voids
        change with pressure, as in a real series.
    half_acquisition_overlap_px : int
        0 (default): a half turn on the full detector.  > 0: a full turn (2 `n_angles`
        projections over [0, 360) degrees) on a detector cut on the right, an offset-axis
        (extended field of view) scan whose two half turns overlap on about this many
        columns; see `tomopress.synthetic.acquisition`.
    realistic_cell : bool
        False (default): the plain two-layer cell above. True: the cell of a real scan
        (`tomopress.synthetic.cell`): steel current-collector rods at the top and bottom
        (opaque), an In-Li anode foil above the separator, a glass housing tube around the
        sample, the sample wider than the detector (truncated projections) and
        propagation-based phase contrast. Then `n_rows` is still the detector height and the
        separator and composite fill the rows between the top and bottom ``cell_*_rows``.
    propagation_distance_mm : float
        Sample-detector distance of the realistic cell (Fresnel propagation), mm; 0 = none.
    energy_kev : float
        Photon energy of the realistic cell's optics (δ, β of the extra materials), keV.
    cell_top_rod_rows, cell_foil_rows, cell_bottom_gap_rows, cell_bottom_rod_rows : int
        Realistic cell, detector rows from the top: steel rod, In-Li foil, (separator,
        composite), an air gap, steel rod.
    sample_width_frac, tube_outer_frac : float
        Realistic cell: sample diameter and housing-tube outer diameter as fractions of the
        detector width (> 1: the projections are truncated).
    """

    n_rows: int = 72
    n_cols: int = 160
    n_angles: int = 256
    # the beamline's 0.5 µm pixel (issue 4): at 1.0 µm the 1.4-3 µm thin voids and the
    # detector blur leave no segmentation within the accuracy targets, even without noise
    pixel_size_um: float = 0.5
    fine_factor: int = 2
    separator_rows: int = 20
    transition_rows: int = 4
    roi_size_px: int = 96
    cylinder_diameter_frac: float = 0.9
    # theory at 20 keV (xraydb): NCM111 at 4.77 g/cm³ and LGPS at 2.04 g/cm³, the defaults of
    # the calibration; the scan is then quantitative and the theory check passes
    mu_am_cm: float = 80.18
    mu_se_cm: float = 20.77
    i0_counts: float = 25000.0
    dark_counts: float = 100.0
    read_noise_counts: float = 3.0
    gain_spread: float = 0.05
    n_flats: int = 10
    n_darks: int = 10
    n_ring_columns: int = 4
    ring_gain_error: float = 0.03
    n_dead_columns: int = 1
    n_zingers: int = 12
    center_offset_px: float = 3.4
    blur_sigma_px: float = 0.6
    noise: bool = True
    particle_median_diameter_um: float = 10.0
    particle_sigma_ln: float = 0.2
    am_fraction: float = 0.42
    max_overlap: float = 0.1
    void_correlation_um: float = 3.5
    separator_void_correlation_um: float = 1.5
    equator_shell_um: float = 2.5
    equator_weight_scale: float = 1.0
    void_flattening_scale: float = 1.0
    min_void_distance_um: float = 0.0
    drift_total: float = 0.0
    microstructure_seed: int = 16602
    half_acquisition_overlap_px: int = 0
    realistic_cell: bool = False
    propagation_distance_mm: float = 5.0
    energy_kev: float = 20.0
    cell_top_rod_rows: int = 6
    cell_foil_rows: int = 8
    cell_bottom_gap_rows: int = 2
    cell_bottom_rod_rows: int = 6
    sample_width_frac: float = 1.05
    tube_outer_frac: float = 1.4

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"SyntheticParams.{name}: {why}, got {getattr(self, name)!r}")

        for name in ("n_rows", "n_cols", "n_angles", "fine_factor", "n_flats", "n_darks"):
            if int(getattr(self, name)) < 1:
                raise bad(name, "must be >= 1")
        for name in ("pixel_size_um", "mu_am_cm", "mu_se_cm", "i0_counts",
                     "particle_median_diameter_um", "void_correlation_um",
                     "separator_void_correlation_um", "equator_shell_um"):
            if not getattr(self, name) > 0:
                raise bad(name, "must be > 0")
        for name in ("dark_counts", "read_noise_counts", "gain_spread", "ring_gain_error",
                     "n_ring_columns", "n_dead_columns", "n_zingers", "blur_sigma_px",
                     "particle_sigma_ln", "transition_rows", "max_overlap",
                     "equator_weight_scale", "min_void_distance_um"):
            if getattr(self, name) < 0:
                raise bad(name, "must be >= 0")
        if not 0 < self.separator_rows < self.n_rows:
            raise bad("separator_rows", f"must lie in (0, n_rows={self.n_rows})")
        if not (self.separator_rows > self.transition_rows
                and self.n_rows - self.separator_rows > self.transition_rows):
            raise bad("transition_rows", "must leave rows in both layers")
        if not 0 < self.roi_size_px <= self.n_cols:
            raise bad("roi_size_px", f"must lie in (0, n_cols={self.n_cols}]")
        if not 0 < self.void_flattening_scale <= 2:
            raise bad("void_flattening_scale", "must lie in (0, 2]")
        if not -0.5 < self.drift_total < 0.5:
            raise bad("drift_total", "must lie in (-0.5, 0.5)")
        if self.drift_total and self.n_flats < 2:
            raise bad("n_flats", "must be >= 2 with a beam drift (flats before and after)")
        if not 0 < self.am_fraction < 0.6:
            raise bad("am_fraction", "must lie in (0, 0.6)")
        if not 0 < self.cylinder_diameter_frac < 1:
            raise bad("cylinder_diameter_frac", "must lie in (0, 1)")
        margin = self.n_cols * (1 - self.cylinder_diameter_frac) / 2 - abs(self.center_offset_px)
        if margin < 1 + 2 * self.blur_sigma_px and not self.realistic_cell:
            raise bad("center_offset_px", "puts the sample's shadow off the detector edge")
        if self.i0_counts * (1 + 4 * self.gain_spread) + self.dark_counts > 60000:
            raise bad("i0_counts", "would saturate uint16")
        inside = 1.0 if self.realistic_cell else self.cylinder_diameter_frac
        if self.roi_size_px > inside * self.n_cols / 2**0.5:
            raise bad("roi_size_px", "square ROI must fit inside the cylinder")
        if self.half_acquisition_overlap_px and not (
                4 <= self.half_acquisition_overlap_px
                and self.center_px + self.half_acquisition_overlap_px / 2 < self.n_cols - 1.5):
            raise bad("half_acquisition_overlap_px",
                      "must be 0 (half turn) or >= 4 with the axis plus half of it inside "
                      "the detector")
        if self.realistic_cell:
            from tomopress.synthetic.cell import stack_params  # noqa: PLC0415 (cycle)

            stack_params(self)  # raises on a cell geometry that does not fit

    @property
    def composite_rows(self) -> int:
        """Detector rows of the composite layer (``n_rows - separator_rows``)."""
        return self.n_rows - self.separator_rows

    @property
    def center_px(self) -> float:
        """0-based detector column of the rotation axis."""
        return (self.n_cols - 1) / 2 + self.center_offset_px

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (for JSON and HDF5 attributes)."""
        return dataclasses.asdict(self)


#: microstructure variants of the validation matrix (benchmarks/fidelity.py), as overrides of
#: `SyntheticParams` fields: the demo's voids; voids 1-3 voxels thick hugging the particle
#: equators; separator voids below the resolution; contact without gaps; voids flattened along z
MORPHOLOGIES: dict[str, dict[str, float]] = {
    "reference": {},
    "thin_equatorial": {"equator_shell_um": 0.6, "equator_weight_scale": 3.0},
    "subresolution_separator": {"separator_void_correlation_um": 0.35},
    "gapless_contact": {"min_void_distance_um": 1.0},
    "flattened": {"void_flattening_scale": 0.45},
}
