import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tomopress.aggregate import METRICS_SCHEMA, write_metrics_table
from tomopress.metrics import interface_area_um2, layer_metrics
from tomopress.types import SE, VOID


def test_metric_records_become_a_typed_table_sorted_by_pressure(tmp_path):
    labels = np.zeros((4, 4, 4), dtype=np.uint8)
    labels[:, :, 1:] = 1
    paths = []
    for scan, pressure in [("hi", 100.0), ("lo", 6.0)]:
        for layer in ("composite", "separator"):
            record = {"scan_id": scan, "sample": "c", "pressure_mpa": pressure, "layer": layer,
                      "z_start_row": 0, "z_stop_row": 4, "threshold_low_per_cm": 5.0,
                      "threshold_high_per_cm": 50.0, "segmentation_method": "multiotsu",
                      **layer_metrics(labels, voxel_size_um=0.5)}
            path = tmp_path / f"{scan}_{layer}.json"
            path.write_text(json.dumps(record))
            paths.append(str(path))
    out = tmp_path / "metrics.parquet"
    assert write_metrics_table(paths, str(out)) == 4
    table = pd.read_parquet(out)
    assert list(table["scan_id"]) == ["lo", "lo", "hi", "hi"]
    assert table["porosity"].tolist() == [0.25] * 4
    # the table carries what the metric function computed (accuracy: tests/unit/metrics)
    direct = interface_area_um2(labels, SE, VOID, voxel_size_um=0.5)
    assert table["area_se_void_um2"].iloc[0] == pytest.approx(direct) and direct > 0
    assert table["region_volume_um3"].iloc[0] == 64 * 0.125
    assert pq.read_schema(out).remove_metadata().equals(METRICS_SCHEMA)
