"""The result tables: pyarrow schemas declared once, the unit rule, and their documentation.

Every table is long and tidy, one documented schema each (DESIGN.md §2). A column is declared
by one line, ``_col(name, type, description)``: its unit comes from the suffix of its name
(:data:`UNIT_SUFFIXES`), and a float column without a unit suffix must say ``unit="1"`` on the
same line, which puts it on the explicit list of dimensionless quantities
(:func:`dimensionless_columns`). ``docs/tables.md`` is generated from these schemas by
:func:`tables_markdown` (a test keeps the two equal).

A column without ``nullable=False`` may hold nulls (NaN in pandas): metrics that are undefined
for a layer (no AM in the separator, an empty |n_z| bin) are null, never a made-up number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

__all__ = [
    "IDENTIFIERS",
    "METRICS_SCHEMA",
    "ORIENTATION_SCHEMA",
    "PARTICLES_SCHEMA",
    "PROFILES_SCHEMA",
    "SCANS_SCHEMA",
    "SCHEMAS",
    "SORT_KEYS",
    "TABLE_NAMES",
    "TORTUOSITY_SCHEMA",
    "ELECTROCHEMISTRY_SCHEMA",
    "SCAN_TABLE_NAMES",
    "UNCERTAINTY_SUFFIX",
    "UNIT_SUFFIXES",
    "column_unit",
    "dimensionless_columns",
    "metadata_json",
    "required_columns",
    "table_from_records",
    "tables_markdown",
    "update_tables_doc",
]

#: column-name suffix -> unit; the longest matching suffix wins
UNIT_SUFFIXES: dict[str, str] = {
    "_um": "µm",
    "_um2": "µm²",
    "_um3": "µm³",
    "_per_um": "µm⁻¹",
    "_per_cm": "cm⁻¹",
    "_mpa": "MPa",
    "_kev": "keV",
    "_px": "detector pixels",
    "_vox": "voxels",
    "_row": "detector rows",
    "_deg": "degrees",
    "_s": "s",
    "_mb": "MB",
    "_bytes": "bytes",
    "_utc": "ISO 8601 time, UTC",
    "_ohm": "Ω",
    "_ohm_cm2": "Ω·cm²",
    "_s_per_cm": "S/cm",
    "_cm2": "cm²",
    "_hz": "Hz",
    "_uf": "µF",
    "_mah_per_g": "mAh/g",
    "_mm": "mm",
}
#: a column ``<name>_uncertainty`` (1-sigma) carries the unit of ``<name>``
UNCERTAINTY_SUFFIX = "_uncertainty"

_DESCRIPTION = b"description"
_UNIT = b"unit"


def column_unit(name: str) -> str | None:
    """Unit implied by the suffix of a column name, or None if it has no unit suffix.

    Examples
    --------
    >>> column_unit("area_am_se_um2"), column_unit("specific_contact_area_per_um")
    ('µm²', 'µm⁻¹')
    >>> column_unit("porosity") is None
    True
    >>> column_unit("r_se_ohm_uncertainty")
    'Ω'
    """
    if name.endswith(UNCERTAINTY_SUFFIX):
        name = name[: -len(UNCERTAINTY_SUFFIX)]
    hits = [s for s in UNIT_SUFFIXES if name.endswith(s)]
    return UNIT_SUFFIXES[max(hits, key=len)] if hits else None


def _col(
    name: str, type_: pa.DataType, description: str, *, nullable: bool = True, unit: str = ""
) -> pa.Field:
    """One declared column; `unit` only for quantities whose name carries no unit ("1")."""
    meta = {_DESCRIPTION: description.encode()}
    if unit:
        meta[_UNIT] = unit.encode()
    return pa.field(name, type_, nullable=nullable, metadata=meta)


_F, _I, _S = pa.float64(), pa.int64(), pa.string()

#: identifier columns that lead every per-layer table
IDENTIFIERS: list[pa.Field] = [
    _col("scan_id", _S, "scan identifier (sample sheet)", nullable=False),
    _col("sample", _S, "sample (cell) name (sample sheet)", nullable=False),
    _col("pressure_mpa", _F, "stack pressure during the scan", nullable=False),
    _col("layer", _S, "analysed region: composite or separator", nullable=False),
]

#: one row per scan and layer; every scalar of the layer's metric record
METRICS_SCHEMA = pa.schema(
    [
        *IDENTIFIERS,
        _col("voxel_size_um", _F, "voxel edge length", nullable=False),
        _col("z_start_row", _I, "first reconstructed row of the layer", nullable=False),
        _col("z_stop_row", _I, "row after the last row of the layer", nullable=False),
        _col("region_z_um", _F, "region extent along z (pressure axis)", nullable=False),
        _col("region_y_um", _F, "region extent along y", nullable=False),
        _col("region_x_um", _F, "region extent along x", nullable=False),
        _col("region_volume_um3", _F, "volume of the counted voxels", nullable=False),
        _col("n_voxels", _I, "counted voxels (label 255 excluded)", nullable=False),
        _col("volume_fraction_void", _F, "void fraction: partial-volume estimate where calibrated, else labels", nullable=False, unit="1"),
        _col("volume_fraction_se", _F, "solid-electrolyte fraction (as volume_fraction_void)", nullable=False, unit="1"),
        _col("volume_fraction_am", _F, "active-material fraction (sub-voxel AM where calibrated)", nullable=False, unit="1"),
        _col("porosity", _F, "porosity (= volume_fraction_void)", nullable=False, unit="1"),
        _col("am_solid_ratio", _F, "φ_AM / (φ_AM + φ_SE); drifts if segmentation biases", unit="1"),
        *(_col(f"{k}_uncertainty", _F, f"standard uncertainty of {k} (tiles, calibration and the AM share's replica shift)", unit="1")
          for k in ("volume_fraction_void", "volume_fraction_se", "volume_fraction_am", "porosity",
                    "am_solid_ratio")),
        *(_col(f"{k}_labels", _F, f"{k} counted on the labels", unit="1")
          for k in ("volume_fraction_void", "volume_fraction_se", "volume_fraction_am", "porosity",
                    "am_solid_ratio")),
        _col("replica_window_voxels", _I, "voxels of the centred window re-simulated from the labels (metrics.replica)"),
        *(_col(f"replica_shift_{k}", _F, f"{k} of the replica minus {k} of the labels, same window: the segmentation's bias at the scan's blur and noise, added to the uncertainty", unit="1")
          for k in ("volume_fraction_void", "volume_fraction_se", "volume_fraction_am",
                    "contact_area_fraction", "contact_fraction_z", "contact_fraction_xy",
                    "contact_anisotropy_R")),
        _col("replica_shift_tau_factor", _F, "tau_factor of the replica over that of the labels, minus 1 (same window)", unit="1"),
        _col("voids_below_resolution", pa.bool_(), "the labels resolve less than half of the void the grey levels hold"),
        _col("calibration_reference", _S, "grey levels used: theory (composition, unless the AM cores refute it beyond 3 standard errors) or in_scan"),
        _col("pv_n_tiles", _I, "lateral tiles behind the partial-volume standard errors"),
        _col("area_am_se_um2", _F, "AM|SE interface area (Crofton)"),
        _col("area_am_void_um2", _F, "AM|void interface area (Crofton)"),
        _col("area_se_void_um2", _F, "SE|void interface area (Crofton)"),
        _col("specific_surface_am_per_um", _F, "AM surface per region volume"),
        _col("specific_surface_se_per_um", _F, "SE surface per region volume"),
        _col("specific_surface_void_per_um", _F, "void surface per region volume"),
        _col("contact_area_fraction", _F, "f_c = A(AM|SE) / (A(AM|SE) + A(AM|void))", unit="1"),
        _col("contact_area_fraction_note", _S, "note on f_c: why it is null, or what it counts as contact (the contact probe's resolutions)"),
        _col("contact_gap_resolution_um", _F, "thinnest void gap between AM and SE that the labels read as a gap on half the surface (contact probe; thinner gaps count as contact; null: none resolved, contact_area_fraction_note says why)"),
        _col("contact_film_resolution_um", _F, "thinnest SE film between AM and a void that the labels read as contact on half the surface (contact probe; thinner films count as gaps; null: none resolved, contact_area_fraction_note says why)"),
        _col("contact_probe_max_um", _F, "thickest gap and film the contact probe renders"),
        _col("specific_contact_area_per_um", _F, "a_c = A(AM|SE) / region volume"),
        _col("contact_fraction_x", _F, "AM|SE share of AM face pairs along x", unit="1"),
        _col("contact_fraction_y", _F, "AM|SE share of AM face pairs along y", unit="1"),
        _col("contact_fraction_z", _F, "AM|SE share of AM face pairs along z", unit="1"),
        _col("contact_fraction_xy", _F, "AM|SE share of AM face pairs along x and y", unit="1"),
        _col("contact_anisotropy_R", _F, "R = f_z / f_xy (1 for isotropic contact)", unit="1"),
        *(_col(f"{k}_uncertainty", _F, f"standard uncertainty of {k}: standard error over 2 x 2 lateral tiles and the replica's shift, in quadrature", unit="1")
          for k in ("contact_area_fraction", "contact_fraction_z", "contact_fraction_xy",
                    "contact_anisotropy_R")),
        _col("fabric_A_z_am_se", _F, "fabric index N_zz − ½(N_xx+N_yy), AM|SE", unit="1"),
        _col("fabric_A_z_am_void", _F, "fabric index N_zz − ½(N_xx+N_yy), AM|void", unit="1"),
        _col("fabric_A_z_se_void", _F, "fabric index N_zz − ½(N_xx+N_yy), SE|void", unit="1"),
        _col("contact_null_reason", _S, "why the contact metrics are null (a phase is missing)"),
        _col("anisotropy_null_reason", _S, "why the anisotropy metrics are null (a phase is missing)"),
        _col("connectivity_null_reason", _S, "why the connectivity metrics are null (a phase is missing)"),
        _col("tortuosity_null_reason", _S, "why the tortuosity metrics are null (a phase is missing)"),
        _col("diffusion_null_reason", _S, "why the diffusion metrics are null (a phase is missing)"),
        _col("particles_null_reason", _S, "why the particles metrics are null (a phase is missing)"),
        _col("thickness_null_reason", _S, "why the thickness metrics are null (a phase is missing)"),
        _col("se_fraction_through", _F, "share of SE volume in clusters touching inlet and outlet", unit="1"),
        _col("n_se_clusters_through", _I, "SE clusters (6-connected) touching inlet and outlet"),
        _col("se_fraction_dead_end", _F, "share of SE volume in clusters touching one end plane", unit="1"),
        _col("n_se_clusters_dead_end", _I, "SE clusters (6-connected) touching one end plane"),
        _col("se_fraction_side_only", _F, "share of SE volume in clusters touching only side faces", unit="1"),
        _col("n_se_clusters_side_only", _I, "SE clusters (6-connected) touching only side faces"),
        _col("se_fraction_isolated", _F, "share of SE volume in clusters touching no face", unit="1"),
        _col("n_se_clusters_isolated", _I, "SE clusters (6-connected) touching no face"),
        _col("n_se_clusters", _I, "SE clusters (6-connected)"),
        _col("volume_fraction_se_through", _F, "through-connected SE per region volume", unit="1"),
        _col("am_fraction_ionically_isolated", _F, "share of AM touching no through-connected SE", unit="1"),
        _col("n_am_clusters", _I, "AM clusters (6-connected)"),
        _col("n_am_clusters_isolated", _I, "AM clusters touching no through-connected SE"),
        _col("n_outlets_se", _I, "SE voxels of the outlet plane (geometric tortuosity)"),
        _col("n_outlets_connected", _I, "outlet SE voxels connected to the inlet"),
        _col("n_outlets_pulled", _I, "outlets whose path was string-pulled (bias-corrected)"),
        _col("tau_geo_connected_fraction", _F, "connected share of outlet SE voxels", unit="1"),
        _col("tau_geo_mode", _F, "geometric tortuosity, mode over outlet paths", unit="1"),
        _col("tau_geo_min", _F, "geometric tortuosity, min over outlet paths", unit="1"),
        _col("tau_geo_mean", _F, "geometric tortuosity, mean over outlet paths", unit="1"),
        _col("tau_geo_median", _F, "geometric tortuosity, median over outlet paths", unit="1"),
        _col("tau_geo_p10", _F, "geometric tortuosity, p10 over outlet paths", unit="1"),
        _col("tau_geo_p90", _F, "geometric tortuosity, p90 over outlet paths", unit="1"),
        _col("tau_geo_max", _F, "geometric tortuosity, max over outlet paths", unit="1"),
        _col("tau_geo_reason", _S, "why the geometric tortuosity is null"),
        _col("tau_geo_lattice_mean", _F, "mean 26-neighbour lattice tortuosity, uncorrected", unit="1"),
        _col("tortuosity_xy_um", _F, "x-y side of the centred sub-crop for whole-crop tortuosity"),
        _col("n_tiles", _I, "72 x 72 voxel tiles (paper size) analysed for tiled tortuosity (spread over the crop)"),
        _col("n_tiles_total", _I, "72 x 72 voxel tiles that fit in the crop"),
        _col("n_tiles_connected", _I, "tiles with a connected SE path"),
        _col("tau_geo_mode_tile_mean", _F, "tiled geometric tortuosity mode: mean over tiles", unit="1"),
        _col("tau_geo_mode_tile_std", _F, "tiled geometric tortuosity mode: s.d. over tiles", unit="1"),
        _col("tau_geo_min_tile_mean", _F, "tiled geometric tortuosity min: mean over tiles", unit="1"),
        _col("tau_geo_min_tile_std", _F, "tiled geometric tortuosity min: s.d. over tiles", unit="1"),
        _col("tau_geo_mean_tile_mean", _F, "tiled geometric tortuosity mean: mean over tiles", unit="1"),
        _col("tau_geo_mean_tile_std", _F, "tiled geometric tortuosity mean: s.d. over tiles", unit="1"),
        _col("tau_geo_median_tile_mean", _F, "tiled geometric tortuosity median: mean over tiles", unit="1"),
        _col("tau_geo_median_tile_std", _F, "tiled geometric tortuosity median: s.d. over tiles", unit="1"),
        _col("tau_geo_p10_tile_mean", _F, "tiled geometric tortuosity p10: mean over tiles", unit="1"),
        _col("tau_geo_p10_tile_std", _F, "tiled geometric tortuosity p10: s.d. over tiles", unit="1"),
        _col("tau_geo_p90_tile_mean", _F, "tiled geometric tortuosity p90: mean over tiles", unit="1"),
        _col("tau_geo_p90_tile_std", _F, "tiled geometric tortuosity p90: s.d. over tiles", unit="1"),
        _col("tau_geo_connected_fraction_tile_mean", _F, "tiled geometric tortuosity connected_fraction: mean over tiles", unit="1"),
        _col("tau_geo_connected_fraction_tile_std", _F, "tiled geometric tortuosity connected_fraction: s.d. over tiles", unit="1"),
        _col("d_eff_rel", _F, "D_eff / D_SE from steady-state diffusion", unit="1"),
        _col("epsilon_se", _F, "SE volume fraction of the diffusion region", unit="1"),
        _col("epsilon_se_percolating", _F, "volume fraction of the through-connected SE (porespy's effective porosity)", unit="1"),
        _col("tau_factor", _F, "tortuosity factor τ_f = ε D / D_eff, convention in tau_factor_boundary/_porosity; whole crop or ratio of tile means (diffusion_method)", unit="1"),
        _col("tau_factor_se", _F, "tortuosity factor: standard error from the tile scatter (0 when solved whole)", unit="1"),
        _col("tau_factor_uncertainty", _F, "standard uncertainty of tau_factor: tau_factor_se and the replica's shift in quadrature (null without a replica)", unit="1"),
        _col("tau_factor_wall_factor", _F, "factor taking the D_eff of periodic tiles to the crop's no-flux sides (1 when solved whole)", unit="1"),
        _col("tau_factor_tile_std", _F, "tortuosity factor: s.d. over diffusion tiles (null when solved whole or a tile does not percolate)", unit="1"),
        _col("tau_factor_boundary", _S, "Dirichlet planes: layers (first/last voxel centres, porespy) or faces (half a voxel outside, taufactor)"),
        _col("tau_factor_porosity", _S, "ε of τ_f: phase (all SE, taufactor) or percolating (through-connected SE, porespy)"),
        _col("sigma_eff_rel", _F, "σ_eff / σ_SE = D_eff / D", unit="1"),
        _col("macmullin", _F, "MacMullin number D / D_eff (= τ_f / ε)", unit="1"),
        _col("se_percolating_fraction", _F, "share of SE in the spanning cluster", unit="1"),
        _col("flux_imbalance", _F, "relative inlet-outlet flux mismatch (solver check)", unit="1"),
        _col("n_unknowns", _I, "unknowns of the diffusion systems, summed over tiles"),
        _col("n_iterations", _I, "AMG-preconditioned conjugate-gradient iterations, most over tiles"),
        _col("diffusion_method", _S, "whole (the crop solved at once) or tiles_periodic / tiles_walls (sampled grid cells)"),
        _col("diffusion_xy_um", _F, "x-y side of one diffusion tile (the crop's shorter side when solved whole)"),
        _col("n_diffusion_tiles", _I, "tiles the diffusion was solved on (1 when whole; spread over the crop)"),
        _col("diffusion_sampled_fraction", _F, "share of the crop's x-y area the diffusion tiles cover", unit="1"),
        _col("n_particles", _I, "AM particles not cut by the crop, in the sampled tiles"),
        _col("n_particles_cut", _I, "AM particles cut by the crop (dropped), in the sampled tiles"),
        _col("particles_sampled_fraction", _F, "share of the crop's x-y area the particle tiles cover", unit="1"),
        _col("particle_diameter_mean_um", _F, "AM particle equivalent diameter, mean"),
        _col("particle_diameter_median_um", _F, "AM particle equivalent diameter, median"),
        _col("particle_d10_um", _F, "AM particle equivalent diameter, D10"),
        _col("particle_d50_um", _F, "AM particle equivalent diameter, D50"),
        _col("particle_d90_um", _F, "AM particle equivalent diameter, D90"),
        _col("particle_d50_volume_weighted_um", _F, "AM particle equivalent diameter, volume-weighted D50"),
        _col("local_thickness_se_mean_um", _F, "local thickness of SE, mean"),
        _col("local_thickness_se_median_um", _F, "local thickness of SE, median"),
        _col("local_thickness_void_mean_um", _F, "local thickness of void, mean"),
        _col("local_thickness_void_median_um", _F, "local thickness of void, median"),
        _col("thickness_sampled_fraction", _F, "share of the crop's x-y area the local-thickness tiles cover", unit="1"),
        _col("orientation_sampled_fraction", _F, "share of the crop the orientation (mesh) tiles cover", unit="1"),
        _col("threshold_low_per_cm", _F, "void|SE grey-level threshold"),
        _col("threshold_high_per_cm", _F, "SE|AM grey-level threshold"),
        _col("segmentation_method", _S, "threshold placement method"),
    ]
)

#: orientation-resolved coverage f_c(u), u = |n_z|, per bin and AM interface
ORIENTATION_SCHEMA = pa.schema(
    [
        *IDENTIFIERS,
        _col("interface", _S, "am_se or am_void: the phase beside the AM surface", nullable=False),
        _col("u_bin", _I, "bin index, 0 = surface normal in the x-y plane", nullable=False),
        _col("u_low", _F, "lower edge of the |n_z| bin", nullable=False, unit="1"),
        _col("u_high", _F, "upper edge of the |n_z| bin", nullable=False, unit="1"),
        _col("coverage", _F, "share of the bin's classified AM area on this interface", unit="1"),
        _col("interface_area_um2", _F, "AM area of the bin on this interface (mesh)"),
        _col("am_area_um2", _F, "classified AM surface area of the bin (mesh)", nullable=False),
    ]
)

#: phase fractions of every z plane of a layer
PROFILES_SCHEMA = pa.schema(
    [
        *IDENTIFIERS,
        _col("plane", _I, "plane index within the layer, 0 = top (separator side)", nullable=False),
        _col("z_row", _I, "reconstructed row of the plane", nullable=False),
        _col("z_um", _F, "plane centre from the top of the layer", nullable=False),
        _col("volume_fraction_void", _F, "void fraction of the plane (partial volume where calibrated)", unit="1"),
        _col("volume_fraction_se", _F, "SE fraction of the plane (partial volume where calibrated)", unit="1"),
        _col("volume_fraction_am", _F, "AM fraction of the plane (sub-voxel where calibrated)", unit="1"),
        _col("volume_fraction_void_labels", _F, "void share of the plane's labels", unit="1"),
        _col("volume_fraction_se_labels", _F, "SE share of the plane's labels", unit="1"),
        _col("volume_fraction_am_labels", _F, "AM share of the plane's labels", unit="1"),
    ]
)

#: one row per outlet voxel path of the geometric tortuosity (record key ``tortuosity_paths``)
TORTUOSITY_SCHEMA = pa.schema(
    [
        *IDENTIFIERS,
        _col("tile_y0_vox", _I, "tile origin along y (0 without tiling)", nullable=False),
        _col("tile_x0_vox", _I, "tile origin along x (0 without tiling)", nullable=False),
        _col("outlet_y_vox", _I, "outlet voxel along y, within the tile", nullable=False),
        _col("outlet_x_vox", _I, "outlet voxel along x, within the tile", nullable=False),
        _col("tau_geo", _F, "string-pulled τ = D / L (null: not pulled)", unit="1"),
        _col("tau_geo_lattice", _F, "26-neighbour lattice τ, uncorrected", nullable=False, unit="1"),
        _col("path_length_um", _F, "straight inlet-outlet distance L = (N_z − 1) h", nullable=False),
    ]
)

#: one row per AM particle not cut by the crop (record key ``particles``)
PARTICLES_SCHEMA = pa.schema(
    [
        *IDENTIFIERS,
        _col("particle_id", _I, "particle label within the layer", nullable=False),
        _col("volume_um3", _F, "particle volume", nullable=False),
        _col("equivalent_diameter_um", _F, "diameter of the sphere of equal volume", nullable=False),
        _col("centroid_z_um", _F, "centroid along z from the top of the layer", nullable=False),
        _col("centroid_y_um", _F, "centroid along y", nullable=False),
        _col("centroid_x_um", _F, "centroid along x", nullable=False),
        _col("surface_area_um2", _F, "particle surface area"),
        _col("contact_area_fraction", _F, "AM|SE share of the particle's surface", unit="1"),
        _col("ionically_isolated", pa.bool_(), "touches no through-connected SE"),
    ]
)

_TIMED_RULES = ("flatfield", "center", "reconstruct", "volume", "segment", "metrics")

#: one row per scan: raw file, reconstruction and segmentation facts, timings
SCANS_SCHEMA = pa.schema(
    [
        _col("scan_id", _S, "scan identifier (sample sheet)", nullable=False),
        _col("sample", _S, "sample (cell) name (sample sheet)", nullable=False),
        _col("pressure_mpa", _F, "stack pressure during the scan", nullable=False),
        _col("raw_path", _S, "raw file or folder as given in the sheet", nullable=False),
        _col("raw_format", _S, "dxchange, nxtomo or tiff", nullable=False),
        _col("raw_size_bytes", _I, "size of the raw file (folder: sum of its files)", nullable=False),
        _col("raw_mtime_utc", _S, "modification time of the raw file (folder: newest)", nullable=False),
        _col("raw_header_sha256", _S, "sha256 of the first 64 KiB (docs/tables.md)", nullable=False),
        _col("n_projections", _I, "projections in the scan", nullable=False),
        _col("n_flats", _I, "flat-field frames", nullable=False),
        _col("n_darks", _I, "dark frames", nullable=False),
        _col("detector_rows_px", _I, "detector rows", nullable=False),
        _col("detector_cols_px", _I, "detector columns", nullable=False),
        _col("pixel_size_um", _F, "detector pixel size (file, else sheet)"),
        _col("angle_min_deg", _F, "first projection angle", nullable=False),
        _col("angle_max_deg", _F, "last projection angle", nullable=False),
        _col("center_px", _F, "rotation centre, detector column", nullable=False),
        _col("center_offset_px", _F, "centre minus detector middle", nullable=False),
        _col("center_confidence", _F, "confidence of the centre search, 0 to 1", unit="1"),
        _col("center_method", _S, "centre search method (or override)", nullable=False),
        _col("center_residual_px", _F, "spread of the per-row centres"),
        _col("scan_type", _S, "180, 360_centred or 360_offset (full turn, stitched to 180)"),
        _col("axis_overlap_px", _I, "full turn: detector columns seen in both half turns"),
        _col("axis_tilt_deg", _F, "axis tilt in the detector plane, from the centre's slope"),
        _col("center_spread_px", _F, "change of the fitted centre over the reconstructed rows"),
        _col("center_tilt_corrected", pa.bool_(), "each row reconstructed with its own centre"),
        _col("recon_backend", _S, "reconstruction backend that ran", nullable=False),
        _col("recon_filter", _S, "reconstruction filter", nullable=False),
        _col("recon_padding", _S, "projection padding before filtering (smooth, edge, zero)"),
        _col("phase_method", _S, "phase retrieval applied (none, paganin)"),
        _col("phase_delta_over_beta", _F, "Paganin delta/beta used", unit="1"),
        _col("phase_delta_over_beta_source", _S, "where delta/beta came from (config, xraydb)"),
        _col("phase_propagation_distance_mm", _F, "sample-detector distance used by Paganin"),
        _col("phase_energy_kev", _F, "photon energy used by Paganin"),
        _col("flatfield_average", _S, "flat/dark averaging"),
        _col("zinger_threshold", _F, "zinger threshold on -log data (null: off)", unit="1"),
        _col("ring_method", _S, "stripe/ring removal method"),
        _col("ring_size_px", _I, "ring-removal median window"),
        _col("ring_large_size_px", _I, "large-stripe window"),
        _col("ring_snr", _F, "large-stripe detection ratio", unit="1"),
        _col("roi_y0_px", _I, "crop ROI, first row in the slice", nullable=False),
        _col("roi_y1_px", _I, "crop ROI, row after the last", nullable=False),
        _col("roi_x0_px", _I, "crop ROI, first column", nullable=False),
        _col("roi_x1_px", _I, "crop ROI, column after the last", nullable=False),
        _col("composite_start_row", _I, "composite layer, first row", nullable=False),
        _col("composite_stop_row", _I, "composite layer, row after the last", nullable=False),
        _col("separator_start_row", _I, "separator layer, first row", nullable=False),
        _col("separator_stop_row", _I, "separator layer, row after the last", nullable=False),
        _col("segmentation_method", _S, "threshold placement method", nullable=False),
        _col("threshold_low_per_cm", _F, "void|SE threshold", nullable=False),
        _col("threshold_high_per_cm", _F, "SE|AM threshold", nullable=False),
        _col("level_void_per_cm", _F, "void grey level"),
        _col("level_se_per_cm", _F, "SE grey level"),
        _col("level_am_per_cm", _F, "AM grey level"),
        _col("calibration_reference", _S, "levels applied: theory (composition, unless the AM cores refute it beyond 3 standard errors) or in_scan"),
        _col("mu_void_per_cm", _F, "void level applied (the air around the sample where in view, else 0)"),
        _col("mu_se_per_cm", _F, "SE level applied"),
        _col("mu_am_per_cm", _F, "AM level applied"),
        _col("mu_se_uncertainty_per_cm", _F, "standard uncertainty of the SE level"),
        _col("mu_am_uncertainty_per_cm", _F, "standard uncertainty of the AM level"),
        _col("mu_se_theory_per_cm", _F, "SE attenuation from formula, density and energy (xraydb)"),
        _col("mu_am_theory_per_cm", _F, "AM attenuation from formula, density and energy (xraydb)"),
        _col("mu_am_core_per_cm", _F, "mean of AM particle cores (AM eroded beyond the blur)"),
        _col("mu_se_dense_per_cm", _F, "mean of the dense separator (SE far from resolved voids)"),
        _col("mu_air_per_cm", _F, "air around the sample (null: not in view)"),
        _col("am_theory_ratio", _F, "AM cores over theory (1: a quantitative scan)", unit="1"),
        _col("se_theory_ratio", _F, "dense separator over theory (< 1: porosity below the resolution)", unit="1"),
        _col("se_subresolution_porosity", _F, "1 − dense SE / expected SE (voids the blur hides in the separator)", unit="1"),
        _col("energy_kev", _F, "beam energy used for the theory (config, else raw file)"),
        _col("blur_sigma_um", _F, "measured Gaussian blur of the reconstruction (standard deviation)"),
        _col("blur_sigma_uncertainty_um", _F, "standard error of the blur (jackknife over the edge planes; null: no fit)"),
        _col("blur_method", _S, "air_edge (sample edge against air) or am_edges (upper bound)"),
        _col("calibration_warnings", _S, "calibration warnings, '; '-separated (null: none)"),
        *(_col(f"time_{r}_s", _F, f"wall time of rule {r} (all its jobs)") for r in _TIMED_RULES),
        _col("time_total_s", _F, "sum of the timed rules"),
        _col("max_rss_mb", _F, "largest resident memory of any timed job"),
    ]
)

def _with_uncertainty(name: str, description: str, *, unit: str = "") -> list[pa.Field]:
    """A quantity and its 1-sigma column ``<name>_uncertainty``."""
    return [_col(name, _F, description, unit=unit),
            _col(name + UNCERTAINTY_SUFFIX, _F, f"1-sigma uncertainty of {name}", unit=unit)]


#: one row per scan: impedance fit, cycling, and the structure's prediction beside them
ELECTROCHEMISTRY_SCHEMA = pa.schema(
    [
        _col("scan_id", _S, "scan identifier (sample sheet)", nullable=False),
        _col("sample", _S, "sample (cell) name (sample sheet)", nullable=False),
        _col("pressure_mpa", _F, "stack pressure during the scan", nullable=False),
        _col("eis_path", _S, "impedance spectrum file (sheet column eis)"),
        _col("cycling_path", _S, "cycling file (sheet column cycling)"),
        _col("circuit", _S, "equivalent circuit fitted (impedance.py notation)"),
        _col("cell_area_cm2", _F, "cell cross-section A", nullable=False),
        _col("area_source", _S, "sheet (cell_area_cm2) or config (echem.cell_area_cm2)",
             nullable=False),
        _col("separator_thickness_um", _F, "separator thickness (sheet, else crop z extent)"),
        _col("composite_thickness_um", _F, "composite thickness (sheet, else crop z extent)"),
        _col("thickness_um", _F, "SE path length L = separator + composite"),
        _col("thickness_source", _S, "sheet, crop (region_z_um, a lower bound) or sheet+crop",
             nullable=False),
        _col("n_points", _I, "points of the spectrum"),
        _col("frequency_min_hz", _F, "lowest frequency of the spectrum"),
        _col("frequency_max_hz", _F, "highest frequency of the spectrum"),
        _col("fit_status", _S, "ok, or why the fit failed"),
        _col("fit_residual_rms", _F, "RMS of (Z − Z_fit)/|Z|, real and imaginary parts", unit="1"),
        _col("fit_parameters_json", _S, "every fitted parameter: {name: {value, std, unit}} "
             "(impedance.py names, e.g. R0, CPE1_0)"),
        _col("kk_n_rc", _I, "RC elements of the lin-KK test"),
        _col("kk_mu", _F, "lin-KK over-fitting measure μ", unit="1"),
        _col("kk_residual_rms", _F, "lin-KK residual RMS relative to |Z|", unit="1"),
        _col("kk_residual_max", _F, "lin-KK largest residual relative to |Z|", unit="1"),
        _col("kk_valid", pa.bool_(), "Kramers-Kronig residual RMS within echem.kk_max_residual_rms"),
        *_with_uncertainty("r_se_ohm", "electrolyte resistance R_SE (sum of echem.r_se_elements)"),
        *_with_uncertainty("sigma_app_s_per_cm", "apparent conductivity σ_app = L / (R_SE A)"),
        *_with_uncertainty("r_ct_ohm", "charge-transfer resistance R_ct"),
        *_with_uncertainty("r_ct_ohm_cm2", "R_ct times the cell cross-section A"),
        *_with_uncertainty("c_dl_uf", "double-layer capacitance (CPE: Q^(1/n) R_ct^((1-n)/n))"),
        _col("first_discharge_capacity_mah_per_g", _F, "discharge capacity of the first cycle"),
        _col("first_charge_capacity_mah_per_g", _F, "charge capacity of that cycle"),
        _col("coulombic_efficiency_first", _F, "first discharge / first charge", unit="1"),
        _col("capacity_retention", _F, "discharge capacity of retention_cycle / the first",
             unit="1"),
        _col("n_cycles", _I, "cycles with a discharge step"),
        _col("retention_cycle", _I, "the last cycle with a discharge step"),
        *_with_uncertainty("sigma_se_bulk_s_per_cm", "bulk SE conductivity σ_SE (config)"),
        _col("volume_fraction_se_separator", _F, "φ_SE of the separator (metrics)", unit="1"),
        _col("volume_fraction_se_composite", _F, "φ_SE of the composite (metrics)", unit="1"),
        _col("tau_factor_separator", _F, "tortuosity factor τ_f of the separator", unit="1"),
        _col("tau_factor_composite", _F, "tortuosity factor τ_f of the composite", unit="1"),
        *_with_uncertainty("sigma_eff_separator_s_per_cm", "σ_SE φ_SE / τ_f, separator"),
        *_with_uncertainty("sigma_eff_composite_s_per_cm", "σ_SE φ_SE / τ_f, composite"),
        *_with_uncertainty("r_separator_pred_ohm", "predicted separator resistance L / (σ_eff A)"),
        *_with_uncertainty("r_composite_pred_ohm", "predicted composite resistance L / (σ_eff A)"),
        *_with_uncertainty("r_series_pred_ohm", "predicted R_SE: separator + composite in series"),
        *_with_uncertainty("sigma_pred_s_per_cm", "predicted apparent conductivity L / (R_pred A)"),
        *_with_uncertainty("sigma_ratio", "σ_app / σ_pred = R_pred / R_SE", unit="1"),
        *_with_uncertainty("specific_contact_area_per_um", "a_c of the composite (metrics)"),
        _col("contact_area_cm2", _F, "true AM|SE contact area a_c · L_comp · A"),
        *_with_uncertainty("r_ct_contact_ohm_cm2", "R_ct times the true contact area"),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "metrics": METRICS_SCHEMA,
    "orientation": ORIENTATION_SCHEMA,
    "profiles": PROFILES_SCHEMA,
    "scans": SCANS_SCHEMA,
    "tortuosity": TORTUOSITY_SCHEMA,
    "particles": PARTICLES_SCHEMA,
    "electrochemistry": ELECTROCHEMISTRY_SCHEMA,
}
TABLE_NAMES: tuple[str, ...] = tuple(SCHEMAS)
#: the tables ``aggregate_scan`` and ``aggregate`` build from the scans' records
#: (``electrochemistry`` is joined from ``metrics`` by rule ``echem_table``)
SCAN_TABLE_NAMES: tuple[str, ...] = tuple(n for n in SCHEMAS if n != "electrochemistry")

#: row order of each table (pressure first)
SORT_KEYS: dict[str, list[str]] = {
    "metrics": ["pressure_mpa", "scan_id", "layer"],
    "orientation": ["pressure_mpa", "scan_id", "layer", "interface", "u_bin"],
    "profiles": ["pressure_mpa", "scan_id", "layer", "plane"],
    "scans": ["pressure_mpa", "scan_id"],
    "tortuosity": ["pressure_mpa", "scan_id", "layer", "tile_y0_vox", "tile_x0_vox",
                   "outlet_y_vox", "outlet_x_vox"],
    "particles": ["pressure_mpa", "scan_id", "layer", "particle_id"],
    "electrochemistry": ["pressure_mpa", "scan_id"],
}

_PURPOSE = {
    "metrics": "one row per scan and layer: every scalar metric of the layer",
    "orientation": "coverage f_c(u) per |n_z| bin and AM interface, per scan and layer",
    "profiles": "phase fractions of every z plane, per scan and layer",
    "scans": "one row per scan: raw-file identity, reconstruction, segmentation, timings",
    "tortuosity": "one row per outlet path of the geometric tortuosity",
    "particles": "one row per AM particle",
    "electrochemistry": "one row per scan: impedance fit and cycling beside what the structure "
                        "predicts (σ_eff = σ_SE φ_SE / τ_f per layer, series resistance, a_c)",
}


def _field_meta(field: pa.Field, key: bytes) -> str:
    return (field.metadata or {}).get(key, b"").decode()


def dimensionless_columns() -> dict[str, list[str]]:
    """The float columns declared dimensionless (``unit="1"``), per table.

    Examples
    --------
    >>> "porosity" in dimensionless_columns()["metrics"]
    True
    """
    return {
        name: [f.name for f in schema if _field_meta(f, _UNIT) == "1"]
        for name, schema in SCHEMAS.items()
    }


def required_columns(schema: pa.Schema) -> list[str]:
    """Columns that may not hold nulls."""
    return [f.name for f in schema if not f.nullable]


def table_from_records(
    records: Sequence[Mapping[str, Any]], schema: pa.Schema, *, where: str = "records"
) -> pa.Table:
    """Typed Arrow table of `records`, with exactly `schema`'s columns, NaN stored as null.

    Keys outside the schema are ignored (the caller may log them); a missing key gives a null,
    which a required column refuses.

    Raises
    ------
    ValueError
        If a required column is missing or null in any record (the message names it).

    Examples
    --------
    >>> t = table_from_records([{"scan_id": "a", "sample": "s", "pressure_mpa": 6,
    ...     "layer": "composite", "interface": "am_se", "u_bin": 0, "u_low": 0.0,
    ...     "u_high": 0.1, "coverage": float("nan"), "am_area_um2": 0.0}], ORIENTATION_SCHEMA)
    >>> t.num_rows, t.column("coverage").null_count
    (1, 1)
    """
    frame = pd.DataFrame.from_records(list(records), columns=schema.names)
    bad = [c for c in required_columns(schema) if frame[c].isna().any()]
    if bad:
        raise ValueError(f"{where}: required column(s) missing or null: {', '.join(bad)}")
    # pandas turns a missing int, bool or string into NaN; Arrow wants None and exact types
    for field in schema:
        cast = _PY_TYPES.get(str(field.type))
        if cast is not None:
            frame[field.name] = pd.Series(
                [None if _is_missing(v) else cast(v) for v in frame[field.name]], dtype=object
            )
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


_PY_TYPES: dict[str, Any] = {"int64": int, "bool": bool, "string": str}


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def tables_markdown() -> str:
    """The column reference of every table, as Markdown (the body of ``docs/tables.md``)."""
    lines: list[str] = []
    for name, schema in SCHEMAS.items():
        lines += [f"### `{name}.parquet`", "", _PURPOSE[name] + ".", ""]
        lines += [f"Sorted by {', '.join(f'`{k}`' for k in SORT_KEYS[name])}.", ""]
        lines += ["| column | type | unit | required | description |", "|---|---|---|---|---|"]
        for f in schema:
            unit = _field_meta(f, _UNIT) or column_unit(f.name) or ""
            lines.append(
                f"| `{f.name}` | {f.type} | {unit} | {'' if f.nullable else 'yes'} "
                f"| {_field_meta(f, _DESCRIPTION)} |"
            )
        lines.append("")
    lines += ["### Dimensionless columns", ""]
    lines += ["Every float column ends in a unit suffix or is on this list:", ""]
    for name, columns in dimensionless_columns().items():
        lines.append(f"- `{name}`: " + (", ".join(f"`{c}`" for c in columns) or "none"))
    lines += ["", "Unit suffixes: " + ", ".join(f"`{s}` {u}" for s, u in UNIT_SUFFIXES.items())]
    return "\n".join(lines) + "\n"


DOC_BEGIN = "<!-- BEGIN generated by tomopress.tables.schemas.tables_markdown; do not edit -->"
DOC_END = "<!-- END generated -->"


def update_tables_doc(path: str | Path) -> bool:
    """Replace the generated block of ``docs/tables.md`` by :func:`tables_markdown`.

    Returns True if the file changed. Run ``python -m tomopress.tables.schemas docs/tables.md``.

    Raises
    ------
    ValueError
        If the file lacks the begin/end markers.
    """
    path = Path(path)
    text = path.read_text()
    head, sep, rest = text.partition(DOC_BEGIN)
    _, sep2, tail = rest.partition(DOC_END)
    if not (sep and sep2):
        raise ValueError(f"{path}: generated-block markers not found")
    new = f"{head}{DOC_BEGIN}\n\n{tables_markdown()}\n{DOC_END}{tail}"
    if new != text:
        path.write_text(new)
    return new != text


def metadata_json(value: Any) -> bytes:
    """Compact, key-sorted JSON bytes for Parquet schema metadata."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode()


if __name__ == "__main__":  # python -m tomopress.tables.schemas docs/tables.md
    import sys

    for doc in sys.argv[1:]:
        print(f"{doc}: {'updated' if update_tables_doc(doc) else 'up to date'}")
