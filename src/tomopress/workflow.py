"""Helpers the Snakefile calls while it builds the DAG (kept here so tests can reach them).

Everything here reads headers only, never pixel data, so ``snakemake -n`` stays cheap.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import pandas as pd

from tomopress.config import scan_reader_options
from tomopress.errors import RawDataError
from tomopress.ranges import parse_range, plan_slabs
from tomopress.sheet import is_synthetic

__all__ = [
    "use_source_tree",
    "synthetic_params",
    "detector_header",
    "recon_rows",
    "slab_ranges",
    "recon_mem_mb",
    "volume_mem_mb",
]


def use_source_tree(src_dir: str) -> None:
    """Put `src_dir` first on PYTHONPATH, so that every job, in any conda env or on any cluster
    node that inherits the environment, imports tomopress from the same checkout."""
    current = os.environ.get("PYTHONPATH")
    if current and current.split(os.pathsep)[0] == src_dir:
        return
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src_dir, current]))


def synthetic_params(config: dict[str, Any]) -> Any:
    """The simulator's parameters: its demo defaults, overridden by ``config['synthetic']``."""
    from tomopress.simulate import SyntheticParams

    fields = {f.name for f in dataclasses.fields(SyntheticParams)}
    overrides = {k: v for k, v in config.get("synthetic", {}).items() if k in fields}
    return SyntheticParams(**overrides)


def detector_header(row: pd.Series, config: dict[str, Any]) -> dict[str, Any]:
    """Projection count and detector shape of one scan, from its header or the simulator.

    Returns
    -------
    dict
        ``n_projections``, ``n_rows``, ``n_cols``, ``pixel_size_um`` (None when not recorded).
    """
    synthetic_dir = config["synthetic"]["raw_dir"]
    if is_synthetic(row["raw"], synthetic_dir):
        params = synthetic_params(config)
        return {
            "n_projections": params.n_angles,
            "n_rows": params.n_rows,
            "n_cols": params.n_cols,
            "pixel_size_um": params.pixel_size_um,
        }
    from tomopress.io import open_scan

    with open_scan(row["raw"], row["format"], **scan_reader_options(config["formats"])) as scan:
        n_rows, n_cols = scan.detector_shape
        return {
            "n_projections": scan.n_projections,
            "n_rows": n_rows,
            "n_cols": n_cols,
            "pixel_size_um": scan.pixel_size_um,
        }


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


def recon_mem_mb(header: dict[str, Any], slab_rows: int, *, factor: float = 1.0) -> int:
    """Memory for one flat-field or reconstruction job of a slab, from array shapes.

    Counts the raw slab (uint16), its float32 sinogram (twice, for the filtered copy), the
    float32 slab volume and finufft's 2x-oversampled complex grid, plus 400 MB for the
    interpreter and libraries.
    """
    n_angles, n_cols = header["n_projections"], header["n_cols"]
    rows = min(slab_rows, header["n_rows"])
    raw = n_angles * rows * n_cols * 2
    sinogram = n_angles * rows * n_cols * 4 * 2
    volume = rows * n_cols * n_cols * 4
    nufft_grid = (2 * n_cols) ** 2 * 8 * 2
    return int(math.ceil(factor * ((raw + sinogram + volume + nufft_grid) / 1e6 + 400)))


def volume_mem_mb(n_cols: int, n_planes: int, *, factor: float = 1.0) -> int:
    """Memory for a job that holds `n_planes` float32 planes of `n_cols`² (crop, segment)."""
    return int(math.ceil(factor * (n_planes * n_cols * n_cols * 4 * 4 / 1e6 + 400)))

