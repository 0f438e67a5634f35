import math
from pathlib import Path

import pyarrow as pa
import pytest

from tomopress.tables.schemas import (
    DOC_BEGIN,
    DOC_END,
    ORIENTATION_SCHEMA,
    SCHEMAS,
    SORT_KEYS,
    TABLE_NAMES,
    column_unit,
    dimensionless_columns,
    required_columns,
    table_from_records,
    tables_markdown,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def test_docs_tables_md_matches_the_schemas():
    text = (PROJECT_ROOT / "docs" / "tables.md").read_text()
    generated = text.split(DOC_BEGIN, 1)[1].split(DOC_END, 1)[0]
    assert generated.strip() == tables_markdown().strip(), (
        "docs/tables.md is stale: run `python -m tomopress.tables.schemas docs/tables.md`")


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_every_float_column_carries_a_unit_or_is_declared_dimensionless(name):
    dimensionless = set(dimensionless_columns()[name])
    for field in SCHEMAS[name]:
        if pa.types.is_floating(field.type):
            assert (column_unit(field.name) is None) == (field.name in dimensionless), field.name
        assert field.metadata and field.metadata[b"description"], f"{name}.{field.name}: no description"


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_sort_keys_are_required_columns_and_pressure_comes_first(name):
    assert SORT_KEYS[name][0] == "pressure_mpa"
    assert set(SORT_KEYS[name]) <= set(required_columns(SCHEMAS[name]))


def test_unit_suffix_longest_match_wins():
    assert column_unit("region_volume_um3") == "µm³"
    assert column_unit("specific_surface_se_per_um") == "µm⁻¹"
    assert column_unit("time_center_s") == "s"
    assert column_unit("contact_anisotropy_R") is None


def _orientation_row(**over):
    row = {"scan_id": "a", "sample": "s", "pressure_mpa": 6, "layer": "composite",
           "interface": "am_se", "u_bin": 1.0, "u_low": 0.1, "u_high": 0.2,
           "coverage": math.nan, "am_area_um2": 3.0}
    return {**row, **over}


def test_records_become_typed_columns_with_nan_as_null():
    table = table_from_records([_orientation_row()], ORIENTATION_SCHEMA)
    assert table.schema.equals(ORIENTATION_SCHEMA)
    assert table.column("u_bin").to_pylist() == [1]
    assert table.column("coverage").null_count == 1
    assert table.column("interface_area_um2").null_count == 1  # absent key -> null


def test_a_missing_required_value_is_named():
    with pytest.raises(ValueError, match="scan x: required column.*am_area_um2"):
        table_from_records([_orientation_row(am_area_um2=None)], ORIENTATION_SCHEMA, where="scan x")


def test_zero_records_give_an_empty_table_with_the_schema():
    table = table_from_records([], SCHEMAS["tortuosity"])
    assert table.num_rows == 0 and table.schema.equals(SCHEMAS["tortuosity"])
