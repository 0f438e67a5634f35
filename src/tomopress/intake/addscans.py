"""Append new beamtime scans to the sample sheet, never rewriting the rows already there.

During a beamtime scans keep arriving; ``tomopress add-scans RAW_DIR --sheet config/samples.tsv``
finds raw scans (HDF5 files, TIFF-stack folders) that the sheet does not list yet, reads each
one's stack pressure from its file name or an HDF5 metadata field, and appends one row each.
The old content is copied byte for byte and the result replaces the sheet atomically, so the
workflow sees either the old sheet or the complete new one, and a re-run adds nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tomopress.errors import RawDataError, SampleSheetError
from tomopress.io.atomic import atomic_path

__all__ = [
    "DEFAULT_PRESSURE_PATTERN",
    "HDF5_SUFFIXES",
    "add_scans",
    "find_raw_scans",
    "pressure_from_name",
    "scan_id_from_name",
]

log = logging.getLogger(__name__)

#: a number followed by "MPa" (any case, optional space): ``cell_25MPa.h5``, ``p_6.5 mpa``
DEFAULT_PRESSURE_PATTERN = r"(?P<pressure>\d+(?:\.\d+)?)\s*MPa"
#: file name endings taken for HDF5 raw scans (DXchange, NXtomo)
HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".nxs")
_REQUIRED_COLUMNS = ("scan_id", "sample", "pressure_mpa", "raw", "format")
_ID_BAD_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
_RESERVED_IDS = frozenset({"tables", "logs", "benchmarks", "synthetic", "figures", "report"})


def _is_tiff_stack(folder: Path) -> bool:
    return any(folder.glob("*.tif*")) or any(folder.glob("tiffs/*.tif*"))


def _is_hdf5_name(path: Path) -> bool:
    return path.suffix.lower() in HDF5_SUFFIXES and not path.name.endswith(".truth.h5")


def find_raw_scans(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Raw scans named by `paths`: each HDF5 file or TIFF-stack folder itself, or those in a folder.

    A folder that holds TIFFs (directly or under ``tiffs/``) is one TIFF-stack scan; any other
    folder is searched one level deep for HDF5 files and TIFF-stack folders.

    Returns
    -------
    explicit, found : list of Path
        Scans named directly (a bad one is an error) and scans found inside folders (a file
        that turns out not to be a raw scan is skipped), each sorted by name.

    Raises
    ------
    RawDataError
        If a path does not exist.
    """
    explicit: list[Path] = []
    found: list[Path] = []
    missing = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            missing.append((path, "file", "does not exist"))
        elif path.is_file() or _is_tiff_stack(path):
            explicit.append(path)
        else:
            for child in sorted(path.iterdir()):
                if (child.is_file() and _is_hdf5_name(child)) or (
                    child.is_dir() and _is_tiff_stack(child)
                ):
                    found.append(child)
    if missing:
        raise RawDataError.collect(missing)
    return explicit, found


def pressure_from_name(path: str | Path, pattern: str = DEFAULT_PRESSURE_PATTERN) -> float:
    """Stack pressure in MPa from the file (or folder) name, by `pattern` (case-insensitive).

    The pattern's group ``pressure`` (else its first group, else the whole match) is the number.

    Raises
    ------
    RawDataError
        Naming the file, when the pattern does not match or the match is not a positive number.

    Examples
    --------
    >>> pressure_from_name("beamtime/cell3_25MPa_001.h5")
    25.0
    >>> pressure_from_name("x/p_012mpa.h5", r"_(\\d+)mpa")
    12.0
    """
    path = Path(path)
    name = path.name
    match = re.search(pattern, name, flags=re.IGNORECASE)
    if match is None:
        raise RawDataError(path, "pressure", f"no pressure in the name {name!r}: pattern "
                           f"{pattern!r} does not match (give --pattern or --pressure-field)")
    groups = match.groupdict()
    text = groups.get("pressure") or (match.group(1) if match.re.groups else match.group(0))
    return _positive(path, "pressure", text)


def _positive(path: Path, field: str, value: Any) -> float:
    try:
        number = float(value.decode() if isinstance(value, bytes) else value)
    except (TypeError, ValueError):
        raise RawDataError(path, field, f"pressure {value!r} is not a number") from None
    if not (math.isfinite(number) and number > 0):
        raise RawDataError(path, field, f"pressure {number!r} MPa is not a positive number")
    return number


def _pressure_from_field(path: Path, field: str) -> float:
    """Pressure from an HDF5 dataset (``/a/b``) or attribute (``/a/b@name``); header only."""
    import h5py

    if path.is_dir():
        raise RawDataError(path, field, "a TIFF-stack folder has no HDF5 metadata field; "
                           "give the pressure by --pattern")
    obj_path, _, attr = field.partition("@")
    try:
        with h5py.File(path, "r") as h5:
            obj = h5.get(obj_path or "/")
            if obj is None:
                raise RawDataError(path, field, "pressure field not found in the file")
            if attr:
                if attr not in obj.attrs:
                    raise RawDataError(path, field, f"attribute {attr!r} not found")
                value = obj.attrs[attr]
            elif isinstance(obj, h5py.Dataset) and obj.size == 1:
                value = obj[()]
            else:
                raise RawDataError(path, field, "pressure field is not a scalar dataset")
    except OSError as exc:
        raise RawDataError(path, "file", f"cannot read as HDF5: {exc}") from None
    if hasattr(value, "ravel"):
        value = value.ravel()[0]
    return _positive(path, field, value.item() if hasattr(value, "item") else value)


def scan_id_from_name(path: str | Path, taken: Iterable[str]) -> str:
    """A sheet-valid scan id from the file stem, made unique against `taken`.

    Examples
    --------
    >>> scan_id_from_name("raw/cell 3 (25 MPa).h5", {"cell_3_25_MPa"})
    'cell_3_25_MPa_2'
    """
    path = Path(path)
    stem = path.name if path.is_dir() else path.stem
    base = _ID_BAD_CHARS.sub("_", stem).strip("_.-") or "scan"
    if not base[0].isalnum():
        base = f"scan_{base}"
    if base.lower() in _RESERVED_IDS:
        base = f"scan_{base}"
    taken = set(taken)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def _read_sheet_text(sheet: Path) -> tuple[str, list[str], list[dict[str, str]]]:
    text = sheet.read_text() if sheet.exists() else ""
    content = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not content:
        return text, list(_REQUIRED_COLUMNS), []
    reader = csv.DictReader(io.StringIO("\n".join(content)), delimiter="\t")
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in _REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise SampleSheetError(sheet, "header", f"missing column(s) {missing}; cannot append")
    rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    return text, columns, rows


def _resolved(raw: str) -> Path:
    return Path(raw).expanduser().resolve()


def _sheet_path_of(path: Path) -> str:
    """The raw path as the sheet should hold it: relative to the working directory when inside."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


def add_scans(
    raw_paths: Sequence[str | Path],
    sheet: str | Path,
    *,
    pattern: str | None = None,
    pressure_field: str | None = None,
    sample: str | None = None,
    format: str = "auto",
    dry_run: bool = False,
) -> dict[str, Any]:
    """Append a row for every raw scan under `raw_paths` that the sheet does not list yet.

    Parameters
    ----------
    raw_paths : sequence of str or Path
        HDF5 files, TIFF-stack folders, or folders holding them (searched one level deep).
    sheet : str or Path
        Sample sheet (TSV) to extend; created with the required columns when absent.
    pattern : str, optional
        Regular expression finding the pressure in MPa in the file name (case-insensitive;
        group ``pressure`` or group 1). Default `DEFAULT_PRESSURE_PATTERN`.
    pressure_field : str, optional
        HDF5 dataset (``/path``) or attribute (``/path@name``) holding the pressure in MPa;
        used instead of the name.
    sample : str, optional
        ``sample`` of the new rows; default the name of the folder holding each scan.
    format : {"auto", "dxchange", "nxtomo", "tiff"}
        ``format`` of the new rows; ``auto`` writes the format detected from the header.
    dry_run : bool
        Report what would be added without writing.

    Returns
    -------
    dict
        ``sheet``, ``added`` (list of the new rows as dicts), ``already_in_sheet`` (raw paths
        skipped because a row lists them) and ``skipped`` (files found in a folder that are not
        raw scans, with the reason).

    Raises
    ------
    RawDataError
        Listing every scan whose pressure cannot be found or that is no raw scan, one line
        each naming the file; nothing is written then.
    SampleSheetError
        If the existing sheet lacks a required column.
    """
    from tomopress.io import detect_format

    sheet = Path(sheet)
    old_text, columns, rows = _read_sheet_text(sheet)
    listed = {_resolved(r["raw"]) for r in rows if r.get("raw")}
    taken = {r["scan_id"] for r in rows if r.get("scan_id")}
    explicit, found = find_raw_scans(raw_paths)
    problems: list[tuple[str, str, str]] = []
    added: list[dict[str, str]] = []
    already: list[str] = []
    skipped: list[dict[str, str]] = []
    seen: set[Path] = set()
    for path, named in [(p, True) for p in explicit] + [(p, False) for p in found]:
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        if resolved in listed:
            already.append(_sheet_path_of(path))
            continue
        try:
            fmt = detect_format(path) if format == "auto" else format
            if pressure_field:
                pressure = _pressure_from_field(path, pressure_field)
            else:
                pressure = pressure_from_name(path, pattern or DEFAULT_PRESSURE_PATTERN)
        except RawDataError as err:
            if not named and err.field == "format":
                skipped.append({"path": str(path), "reason": err.problem})
                continue
            problems += err.problems
            continue
        scan_id = scan_id_from_name(path, taken)
        taken.add(scan_id)
        added.append({
            "scan_id": scan_id,
            "sample": sample or path.resolve().parent.name or "sample",
            "pressure_mpa": f"{pressure:g}",
            "raw": _sheet_path_of(path),
            "format": fmt,
        })
    if problems:
        raise RawDataError.collect(problems)
    if added and not dry_run:
        _append_rows(sheet, old_text, columns, added)
    for row in added:
        log.info("added %s (%s MPa): %s", row["scan_id"], row["pressure_mpa"], row["raw"])
    return {
        "sheet": str(sheet),
        "added": added,
        "already_in_sheet": already,
        "skipped": skipped,
        "dry_run": dry_run,
    }


def _append_rows(sheet: Path, old_text: str, columns: list[str], added: list[dict[str, str]]) -> None:
    newline = "\r\n" if "\r\n" in old_text else "\n"
    head = old_text
    if not old_text.strip():
        head = "\t".join(columns) + newline
    elif not old_text.endswith(("\n", "\r")):
        head = old_text + newline
    lines = ["\t".join(row.get(c, "") for c in columns) for row in added]
    with atomic_path(sheet) as tmp:
        with open(tmp, "w", newline="") as fh:
            fh.write(head + newline.join(lines) + newline)
