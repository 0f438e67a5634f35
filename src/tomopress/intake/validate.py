"""Check a run before spending allocation: config, sample sheet, raw headers and crop ranges.

`validate_run` collects every problem it can find, one ``<file>: <field>: <problem>`` line
each, reading HDF5/TIFF headers only (never pixel data), so it is cheap enough to run before
every submission (``tomopress validate``; ``snakemake -n`` runs the same header checks).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tomopress.errors import ConfigError, RawDataError, SampleSheetError, TomopressError

__all__ = ["validate_run", "range_problems"]


def _split(err: TomopressError, path: str | Path) -> list[str]:
    """One line per problem of a collected error, each prefixed by the file it is about."""
    if isinstance(err, RawDataError):
        return err.lines()
    head, *rest = str(err).splitlines()
    if not rest:
        return [head]
    return [f"{path}: {line.strip()}" for line in rest if line.strip()]


def _lenient_rows(sheet: Path) -> list[dict[str, str]]:
    """Sheet rows as plain strings (for when the sheet is invalid but its raw files can be read)."""
    try:
        with open(sheet, newline="") as fh:
            lines = [line for line in fh if line.strip() and not line.startswith("#")]
        return [
            {k.strip(): (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(lines, delimiter="\t")
        ]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _usable_parts(config_path: str | Path, defaults: dict[str, Any]) -> dict[str, Any]:
    """The blocks of an invalid config that are valid on their own (to go on checking the sheet)."""
    import yaml

    from tomopress.intake.config import validate_config

    try:
        raw = yaml.safe_load(Path(config_path).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return defaults
    config = dict(defaults)
    for key in ("samples", "results", "synthetic", "formats"):
        if isinstance(raw, dict) and key in raw:
            try:
                config[key] = validate_config({key: raw[key]})[key]
            except ConfigError:
                pass
    return config


def range_problems(
    row: dict[str, Any], *, n_rows: int, n_cols: int, where: str
) -> list[str]:
    """Sheet row ranges that do not fit a detector of `n_rows` x `n_cols` (one line each).

    ``recon_rows``, ``composite_rows`` and ``separator_rows`` must lie within the detector rows
    (and the layers within ``recon_rows`` when it is given); ``roi_xy`` within the reconstructed
    ``n_cols`` x ``n_cols`` slice.

    Examples
    --------
    >>> range_problems({"composite_rows": "10:90"}, n_rows=72, n_cols=160, where="s.tsv line 2")
    ['s.tsv line 2: composite_rows: 10:90 exceeds the detector rows 0:72']
    """
    from tomopress.intake.ranges import parse_range

    problems = []
    ranges: dict[str, tuple[int, int]] = {}
    for column in ("recon_rows", "composite_rows", "separator_rows"):
        if not row.get(column):
            continue
        try:
            start, stop = parse_range(str(row[column]))
        except ValueError:
            continue  # the sheet check reports malformed ranges
        ranges[column] = (start, stop)
        if stop > n_rows:
            problems.append(f"{where}: {column}: {start}:{stop} exceeds the detector rows 0:{n_rows}")
    recon = ranges.get("recon_rows")
    for column in ("composite_rows", "separator_rows"):
        if recon and column in ranges:
            (r0, r1), (s0, s1) = recon, ranges[column]
            if s0 < r0 or s1 > r1:
                problems.append(f"{where}: {column}: {s0}:{s1} lies outside recon_rows {r0}:{r1}")
    if row.get("roi_xy"):
        try:
            (y0, y1), (x0, x1) = (parse_range(p) for p in str(row["roi_xy"]).split(","))
        except ValueError:
            return problems
        if y1 > n_cols or x1 > n_cols:
            problems.append(f"{where}: roi_xy: {y0}:{y1},{x0}:{x1} exceeds the reconstructed "
                            f"slice 0:{n_cols},0:{n_cols}")
    return problems


def validate_run(
    config_path: str | Path | None = None, samples_path: str | Path | None = None
) -> tuple[list[str], dict[str, Any]]:
    """Every problem of config, sheet, raw headers and crop ranges, without reading pixels.

    Parameters
    ----------
    config_path : str or Path, optional
        Workflow config (YAML); default ``config/config.yaml`` when it exists, else the schema
        defaults.
    samples_path : str or Path, optional
        Sample sheet; default the config's ``samples``.

    Returns
    -------
    problems : list of str
        One ``<file>: <field>: <problem>`` line per problem; empty when the run can start.
    summary : dict
        ``config``, ``samples`` (paths used) and ``n_scans`` (rows whose headers were read).
    """
    from tomopress.intake.config import load_config, scan_reader_options, validate_config
    from tomopress.intake.inspect import inspect_raw
    from tomopress.intake.sheet import is_synthetic, read_sample_sheet

    problems: list[str] = []
    if config_path is None and Path("config/config.yaml").exists():
        config_path = "config/config.yaml"
    config = validate_config({})
    if config_path is not None:
        try:
            config = load_config(config_path)
        except ConfigError as err:
            problems += _split(err, config_path)
            config = _usable_parts(config_path, config)
    samples = Path(samples_path or config["samples"])
    synthetic_dir = config["synthetic"]["raw_dir"]
    try:
        rows = [dict(r) for r in read_sample_sheet(samples, synthetic_dir=synthetic_dir)
                .to_dict(orient="records")]
    except SampleSheetError as err:
        problems += _split(err, samples)
        rows = _lenient_rows(samples)
    try:
        options = scan_reader_options(config["formats"])
    except TypeError as exc:  # a formats block the config check has already reported
        problems.append(f"{config_path}: formats: {exc}")
        options = {}
    n_checked = 0
    for line, row in enumerate(rows, start=2):
        raw, where = row.get("raw"), f"{samples} line {line}"
        if not raw:
            continue
        if is_synthetic(raw, synthetic_dir):
            from tomopress.intake.workflow import synthetic_params

            params = synthetic_params(config)
            n_rows, n_cols, pixel_size = params.n_rows, params.n_cols, params.pixel_size_um
        elif not Path(raw).exists():
            continue  # the sheet check names it
        else:
            n_checked += 1
            try:
                header = inspect_raw(raw, row.get("format") or "auto", check_pixels=False,
                                     **options)
            except RawDataError as err:
                problems += err.lines()
                continue
            except (OSError, ValueError) as exc:
                problems.append(f"{raw}: file: {exc}")
                continue
            n_rows, n_cols = header["detector_shape"]
            pixel_size = header["pixel_size_um"]
        if pixel_size is None and not row.get("pixel_size_um"):
            problems.append(f"{where}: pixel_size_um: {raw} records no pixel size; give it in "
                            "the sheet")
        problems += range_problems(row, n_rows=n_rows, n_cols=n_cols, where=where)
    from tomopress.echem.checks import echem_config_problems, echem_problems

    if "echem" in config:
        problems += [f"{config_path}: {line}" for line in echem_config_problems(config["echem"])]
    problems += [f"{p}: {f}: {t}" for p, f, t in echem_problems(rows, synthetic_dir=synthetic_dir)]
    summary = {"config": None if config_path is None else str(config_path),
               "samples": str(samples), "n_scans": len(rows), "n_raw_headers_read": n_checked}
    return problems, summary
