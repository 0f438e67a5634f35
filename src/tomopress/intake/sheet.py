"""The sample sheet: one row per scan, validated as a whole before any job runs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from tomopress.errors import SampleSheetError
from tomopress.intake.config import load_schema, schema_problems
from tomopress.intake.ranges import parse_range

__all__ = ["RANGE_COLUMNS", "RESERVED_SCAN_IDS", "read_sample_sheet", "is_synthetic"]

#: optional columns holding ``start:stop`` row ranges
RANGE_COLUMNS = ("recon_rows", "composite_rows", "separator_rows")
_NUMBER_COLUMNS = ("pressure_mpa", "center_px", "pixel_size_um", "cell_area_cm2",
                   "separator_thickness_um", "composite_thickness_um", "am_mass_mg")
#: optional columns naming electrochemistry files (checked like ``raw``)
_FILE_COLUMNS = ("eis", "cycling")
#: folders directly under results/ that hold something other than one scan's outputs
RESERVED_SCAN_IDS = frozenset({"tables", "logs", "benchmarks", "synthetic", "figures",
                               "report"})


def is_synthetic(raw: str | Path, synthetic_dir: str | Path | None) -> bool:
    """True when `raw` lies inside the synthetic beamtime folder (made by rule ``simulate``)."""
    if synthetic_dir is None:
        return False
    raw_abs = Path(raw).resolve()
    return Path(synthetic_dir).resolve() in raw_abs.parents


def _coerce_row(record: dict[str, str], line: int, problems: list[str]) -> dict[str, Any]:
    """Drop empty cells, turn number columns into floats; note what cannot be converted."""
    row: dict[str, Any] = {}
    for key, text in record.items():
        text = text.strip()
        if text == "" or text.lower() in {"na", "nan", "none"}:
            continue
        if key in _NUMBER_COLUMNS:
            try:
                value = float(text)
            except ValueError:
                problems.append(f"line {line}: {key}: expected a number, got {text!r}")
                continue
            if not math.isfinite(value):
                problems.append(f"line {line}: {key}: expected a finite number, got {text!r}")
                continue
            row[key] = value
        else:
            row[key] = text
    return row


def _range_problems(row: dict[str, Any], line: int) -> list[str]:
    problems = []
    for column in RANGE_COLUMNS:
        if column in row:
            try:
                parse_range(row[column])
            except ValueError as exc:
                problems.append(f"line {line}: {column}: {exc}")
    roi = row.get("roi_xy")
    if roi is not None:
        try:
            for part in roi.split(","):
                parse_range(part)
        except ValueError as exc:
            problems.append(f"line {line}: roi_xy: {exc}")
    return problems


def read_sample_sheet(
    path: str | Path, *, synthetic_dir: str | Path | None = None, check_files: bool = True
) -> pd.DataFrame:
    """Read and validate the sample sheet.

    Parameters
    ----------
    path : str or Path
        Tab-separated sheet with columns ``scan_id, sample, pressure_mpa, raw, format`` and the
        optional overrides of ``workflow/schemas/samples.schema.yaml``.
    synthetic_dir : str or Path, optional
        Raw paths inside this folder are made by the workflow and need not exist yet.
    check_files : bool
        Check that every other raw path exists.

    Returns
    -------
    DataFrame
        Indexed by ``scan_id``, in sheet order, with numbers as float and empty cells as None.

    Raises
    ------
    SampleSheetError
        Listing every problem found (duplicate ids, missing files, wrong types, bad ranges),
        one per line with its sheet line number.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    except FileNotFoundError:
        raise SampleSheetError(path, "file", "sample sheet not found") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SampleSheetError(path, "file", f"not a readable TSV: {exc}") from None
    frame.columns = [c.strip() for c in frame.columns]
    schema = load_schema("samples")
    problems: list[str] = []
    unknown = sorted(set(frame.columns) - set(schema["properties"]))
    if unknown:
        problems.append(f"header: unknown column(s) {unknown}; allowed: {sorted(schema['properties'])}")
    if frame.empty:
        problems.append("rows: the sheet lists no scan")
    rows = []
    for offset, record in enumerate(frame.to_dict(orient="records")):
        line = offset + 2  # 1-based, after the header
        n_before = len(problems)
        row = _coerce_row(record, line, problems)
        unconvertible = {p.split(": ")[1] for p in problems[n_before:]}
        problems += [
            f"line {line}: {p}"
            for p in schema_problems(row, schema)
            if not any(f"'{key}' is a required property" in p for key in unconvertible)
        ]
        problems += _range_problems(row, line)
        if str(row.get("scan_id", "")).lower() in RESERVED_SCAN_IDS:
            problems.append(f"line {line}: scan_id: {row['scan_id']!r} is reserved (results/"
                            f"{row['scan_id']}/ holds other outputs); reserved: "
                            f"{sorted(RESERVED_SCAN_IDS)}")
        raw = row.get("raw")
        if check_files and raw and not is_synthetic(raw, synthetic_dir) and not Path(raw).exists():
            problems.append(f"line {line}: raw: file not found: {raw}")
        for column in _FILE_COLUMNS:
            named = row.get(column)
            if (check_files and named and not is_synthetic(named, synthetic_dir)
                    and not Path(named).is_file()):
                problems.append(f"line {line}: {column}: file not found: {named}")
        rows.append(row)
    ids = pd.Series([r.get("scan_id") for r in rows])
    for scan_id in sorted(ids[ids.duplicated() & ids.notna()].unique()):
        lines = [i + 2 for i, v in enumerate(ids) if v == scan_id]
        problems.append(f"scan_id: duplicate id {scan_id!r} on lines {lines}")
    if problems:
        raise SampleSheetError(path, "rows", f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))
    columns = list(schema["properties"])
    table = pd.DataFrame(rows, columns=columns).astype(object)
    table = table.where(table.notna(), None)
    return table.set_index("scan_id", drop=False)
