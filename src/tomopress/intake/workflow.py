"""Helpers the Snakefile calls while it builds the DAG (kept here so tests can reach them).

Everything here reads headers only, never pixel data, so ``snakemake -n`` stays cheap.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import pandas as pd

from tomopress.errors import RawDataError
from tomopress.intake.config import scan_reader_options
from tomopress.intake.ranges import parse_range, plan_slabs
from tomopress.intake.sheet import is_synthetic

__all__ = [
    "recorded_config_json",
    "use_source_tree",
    "synthetic_params",
    "detector_header",
    "detector_headers",
    "recon_rows",
    "slab_ranges",
    "recon_mem_mb",
    "PAGANIN_HALO_ROWS_BOUND",
    "layer_shape",
    "layer_mem_mb",
    "runtime_min",
    "LABELLING_OPTION_KEYS",
    "labelling_options",
    "relabel_options",
]

#: the config's ``segment`` keys that decide how a crop's grey levels become labels
LABELLING_OPTION_KEYS = ("labelling", "gradient_sigma_px", "marker_fraction", "se_max_gradient",
                         "rim_distance_px", "rim_far_level", "midpoint_away_from_am_px",
                         "min_object_voxels", "slab_planes", "tile_px", "overlap_planes")


def recorded_config_json(config: dict[str, Any]) -> str:
    """The analysis settings as key-sorted JSON, without cluster resources.

    Passed to the aggregation rule as one string, so that its params trigger re-runs on
    analysis changes only, not on key order or on memory and runtime tuning.
    """
    import json

    return json.dumps({k: v for k, v in config.items() if k != "resources"}, sort_keys=True)


def use_source_tree(src_dir: str) -> None:
    """Put `src_dir` first on PYTHONPATH, so that every job, in any conda env or on any cluster
    node that inherits the environment, imports tomopress from the same checkout."""
    current = os.environ.get("PYTHONPATH")
    if current and current.split(os.pathsep)[0] == src_dir:
        return
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src_dir, current]))


def synthetic_params(config: dict[str, Any]) -> Any:
    """The simulator's parameters: its demo defaults, overridden by ``config['synthetic']``."""
    from tomopress.synthetic.beamtime import SyntheticParams

    fields = {f.name for f in dataclasses.fields(SyntheticParams)}
    overrides = {k: v for k, v in config.get("synthetic", {}).items() if k in fields}
    return SyntheticParams(**overrides)


def detector_header(row: pd.Series, config: dict[str, Any]) -> dict[str, Any]:
    """Projection count and detector shape of one scan, from its header or the simulator.

    Returns
    -------
    dict
        ``n_projections``, ``n_rows``, ``n_cols``, ``pixel_size_um`` (None when not recorded)
        and ``full_turn`` (angles over 360 degrees: the reconstruction may be up to twice as
        wide, see `tomopress.prep.halfacq`).
    """
    synthetic_dir = config["synthetic"]["raw_dir"]
    if is_synthetic(row["raw"], synthetic_dir):
        from tomopress.synthetic.acquisition import detector_shape, is_half_acquisition

        params = synthetic_params(config)
        return {
            **detector_shape(params),
            "pixel_size_um": params.pixel_size_um,
            "full_turn": is_half_acquisition(params),
        }
    from tomopress.io import open_scan
    from tomopress.prep.halfacq import is_full_turn

    with open_scan(row["raw"], row["format"], **scan_reader_options(config["formats"])) as scan:
        n_rows, n_cols = scan.detector_shape
        return {
            "n_projections": scan.n_projections,
            "n_rows": n_rows,
            "n_cols": n_cols,
            "pixel_size_um": scan.pixel_size_um,
            "full_turn": is_full_turn(scan.angles_rad),
        }


def detector_headers(
    scans: pd.DataFrame, config: dict[str, Any],
    extra_problems: list[tuple[str, str, str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """:func:`detector_header` of every scan; all bad files are reported together.

    `extra_problems` (e.g. the electrochemistry files' header problems) are reported with them.

    Raises
    ------
    RawDataError
        One line per problem of every scan whose header is bad, and each extra problem.
    """
    headers: dict[str, dict[str, Any]] = {}
    errors: list[RawDataError] = []
    for scan_id in scans.index:
        try:
            headers[scan_id] = detector_header(scans.loc[scan_id], config)
        except RawDataError as exc:
            errors.append(exc)
    if len(errors) == 1 and not extra_problems:
        raise errors[0]
    if errors or extra_problems:
        raise RawDataError.collect([triple for exc in errors for triple in exc.problems]
                                   + list(extra_problems or []))
    return headers


def recon_rows(row: pd.Series, n_detector_rows: int) -> tuple[int, int]:
    """Detector rows to reconstruct: the sheet's ``recon_rows``, else every row.

    Raises
    ------
    RawDataError
        If the sheet's range exceeds the detector.
    """
    if not row.get("recon_rows"):
        return 0, n_detector_rows
    start, stop = parse_range(row["recon_rows"])
    if stop > n_detector_rows:
        raise RawDataError(
            row["raw"], "recon_rows",
            f"{start}:{stop} exceeds the detector's {n_detector_rows} rows (scan {row['scan_id']})",
        )
    return start, stop


def slab_ranges(row: pd.Series, header: dict[str, Any], slab_rows: int) -> list[tuple[int, int]]:
    """The detector-row slabs of one scan (one flat-field and one reconstruction job each)."""
    return plan_slabs(*recon_rows(row, header["n_rows"]), slab_rows)


#: rows a flat-field slab may read on each side for Paganin's filter: 8 kernel lengths at
#: 0.5 µm pixels, 50 mm, δ/β 200, 20 keV (``tomopress.prep.phase.halo_rows``) is 114
PAGANIN_HALO_ROWS_BOUND = 120


def recon_mem_mb(header: dict[str, Any], slab_rows: int, *, factor: float = 1.0) -> int:
    """Memory for one flat-field or reconstruction job of a slab, from array shapes.

    Counts the raw slab (uint16), its float32 sinogram (twice, for the filtered copy), the
    float32 slab volume and finufft's 2x-oversampled complex grid (both for a slice twice as
    wide when the scan is a full turn, which may be an offset-axis scan), plus 400 MB for the
    interpreter and libraries.
    """
    n_angles, n_cols = header["n_projections"], header["n_cols"]
    n_out = 2 * n_cols if header.get("full_turn") else n_cols  # stitched offset-axis scan
    rows = min(slab_rows, header["n_rows"])
    raw = n_angles * rows * n_cols * 2
    sinogram = n_angles * rows * n_cols * 4 * 2
    volume = rows * n_out * n_out * 4
    nufft_grid = (2 * n_out) ** 2 * 8 * 2
    return int(math.ceil(factor * ((raw + sinogram + volume + nufft_grid) / 1e6 + 400)))


def layer_shape(
    row: pd.Series, header: dict[str, Any], *, layer: str, roi_size_px: int
) -> tuple[int, int, int]:
    """Upper bound of a cropped layer's shape (Z, Y, X), known at DAG-build time.

    Z is the sheet's ``<layer>_rows`` range when given, else every reconstructed row; Y and X
    are the sheet's ``roi_xy`` when given, else ``roi_size_px`` (at most the detector width).

    Examples
    --------
    >>> row = pd.Series({"raw": "a.h5", "scan_id": "a", "composite_rows": "10:60"})
    >>> layer_shape(row, {"n_rows": 72, "n_cols": 160}, layer="composite", roi_size_px=96)
    (50, 96, 96)
    """
    if row.get(f"{layer}_rows"):
        start, stop = parse_range(row[f"{layer}_rows"])
    else:
        start, stop = recon_rows(row, header["n_rows"])
    side = min(roi_size_px, header["n_cols"] * (2 if header.get("full_turn") else 1))
    if row.get("roi_xy"):
        (y0, y1), (x0, x1) = (parse_range(part) for part in row["roi_xy"].split(","))
        return stop - start, y1 - y0, x1 - x0
    return stop - start, side, side


def layer_mem_mb(shape: tuple[int, int, int], *, copies: int = 4, factor: float = 1.0) -> int:
    """Memory for a job holding `copies` float32 arrays of a layer of `shape`, plus 400 MB.

    Examples
    --------
    >>> layer_mem_mb((100, 1024, 1024))  # the paper's composite crop
    2078
    """
    n_voxels = math.prod(shape)
    return int(math.ceil(factor * (n_voxels * 4 * copies / 1e6 + 400)))


def runtime_min(n_elements: float, *, per_minute: float, base_min: int = 5) -> int:
    """Wall-time request in minutes: `base_min` plus `n_elements` at `per_minute` per minute.

    The rates in ``workflow/rules/*.smk`` are a few times below what this machine measures
    (``results/benchmarks``), so a slow cluster node stays inside its request.

    Examples
    --------
    >>> runtime_min(1800 * 64 * 2048, per_minute=1e7)  # one full-size reconstruction slab
    29
    """
    return int(base_min + math.ceil(n_elements / per_minute))


def labelling_options(config: dict[str, Any]) -> dict[str, Any]:
    """The segment rule's labelling settings (:data:`LABELLING_OPTION_KEYS` of ``segment``).

    Examples
    --------
    >>> seg = {k: 0 for k in LABELLING_OPTION_KEYS} | {"labelling": "watershed", "denoise": "none"}
    >>> sorted(labelling_options({"segment": seg})) == sorted(LABELLING_OPTION_KEYS)
    True
    """
    return {k: config["segment"][k] for k in LABELLING_OPTION_KEYS}


def relabel_options(config: dict[str, Any]) -> dict[str, Any]:
    """The labelling settings as the replica and the contact probe relabel their renderings.

    :func:`labelling_options` plus ``blur_aware``, on one thread (they run inside a one-thread
    job); what :func:`tomopress.segment.stage.relabeller` takes.
    """
    return {**labelling_options(config), "blur_aware": config["segment"]["blur_aware"],
            "n_threads": 1}
