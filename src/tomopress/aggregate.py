"""Tables across scans: per-layer metric records into one Parquet file with a declared schema."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tomopress import __version__
from tomopress.files import atomic_path

__all__ = ["METRICS_SCHEMA", "metrics_table", "write_metrics_table"]

#: one row per scan and layer; units in the column names
METRICS_SCHEMA = pa.schema(
    [
        pa.field("scan_id", pa.string(), nullable=False),
        pa.field("sample", pa.string(), nullable=False),
        pa.field("pressure_mpa", pa.float64(), nullable=False),
        pa.field("layer", pa.string(), nullable=False),
        pa.field("voxel_size_um", pa.float64(), nullable=False),
        pa.field("z_start_row", pa.int64(), nullable=False),
        pa.field("z_stop_row", pa.int64(), nullable=False),
        pa.field("region_z_um", pa.float64(), nullable=False),
        pa.field("region_y_um", pa.float64(), nullable=False),
        pa.field("region_x_um", pa.float64(), nullable=False),
        pa.field("region_volume_um3", pa.float64(), nullable=False),
        pa.field("n_voxels", pa.int64(), nullable=False),
        pa.field("volume_fraction_void", pa.float64(), nullable=False),
        pa.field("volume_fraction_se", pa.float64(), nullable=False),
        pa.field("volume_fraction_am", pa.float64(), nullable=False),
        pa.field("porosity", pa.float64(), nullable=False),
        pa.field("am_solid_ratio", pa.float64()),
        pa.field("area_am_se_um2", pa.float64(), nullable=False),
        pa.field("area_am_void_um2", pa.float64(), nullable=False),
        pa.field("area_se_void_um2", pa.float64(), nullable=False),
        pa.field("specific_surface_am_per_um", pa.float64(), nullable=False),
        pa.field("specific_surface_se_per_um", pa.float64(), nullable=False),
        pa.field("specific_surface_void_per_um", pa.float64(), nullable=False),
        pa.field("contact_area_fraction", pa.float64()),
        pa.field("contact_area_fraction_note", pa.string()),
        pa.field("specific_contact_area_per_um", pa.float64(), nullable=False),
        pa.field("contact_fraction_x", pa.float64()),
        pa.field("contact_fraction_y", pa.float64()),
        pa.field("contact_fraction_z", pa.float64()),
        pa.field("contact_fraction_xy", pa.float64()),
        pa.field("contact_anisotropy_R", pa.float64()),
        pa.field("fabric_A_z_am_se", pa.float64()),
        pa.field("fabric_A_z_am_void", pa.float64()),
        pa.field("fabric_A_z_se_void", pa.float64()),
        pa.field("threshold_low_per_cm", pa.float64()),
        pa.field("threshold_high_per_cm", pa.float64()),
        pa.field("segmentation_method", pa.string()),
    ]
)


def metrics_table(records: Sequence[dict]) -> pa.Table:
    """Arrow table of metric records, typed by :data:`METRICS_SCHEMA`, sorted by pressure."""
    frame = pd.DataFrame.from_records(list(records), columns=METRICS_SCHEMA.names)
    frame = frame.sort_values(["pressure_mpa", "scan_id", "layer"], kind="stable")
    return pa.Table.from_pandas(frame, schema=METRICS_SCHEMA, preserve_index=False)


def write_metrics_table(metric_paths: Sequence[str], out_path: str) -> int:
    """Read per-layer metric JSON files and write them as one Parquet table; return row count."""
    records = [json.loads(Path(p).read_text()) for p in metric_paths]
    table = metrics_table(records).replace_schema_metadata(
        {"tomopress_version": __version__, "table": "metrics"}
    )
    with atomic_path(out_path) as tmp:
        pq.write_table(table, tmp)
    return table.num_rows
