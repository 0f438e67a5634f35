"""Tables across scans: per-scan Parquet parts from the scan's JSON records, then one concatenation.

The per-scan rule (`aggregate_scan`) turns one scan's layer metric records, its header, centre,
crop and threshold records and its Snakemake benchmark files into one part file per table
(:func:`write_scan_tables`); the cheap `aggregate` rule concatenates the parts of every scan,
sorts by pressure and stamps the provenance into the schema metadata (:func:`concat_tables`).
Schemas and the unit rule live in :mod:`tomopress.tables.schemas`.

Schema metadata of every final table (all values UTF-8; JSON where marked):

- ``tomopress_version``, ``table``, ``created_utc``;
- ``config_sha256``: sha256 of the effective config as key-sorted JSON, ``config`` (JSON);
- ``raw_files`` (JSON): per scan, ``path``, ``size_bytes``, ``mtime_utc`` and ``header_sha256``
  (sha256 of the first 64 KiB; :func:`raw_identity`); never a checksum of the whole file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tomopress import __version__
from tomopress.io.atomic import atomic_path
from tomopress.prep.axis import axis_columns
from tomopress.segment.contact_probe import with_contact_probe
from tomopress.tables.schemas import (
    METRICS_SCHEMA,
    SCAN_TABLE_NAMES,
    SCHEMAS,
    SORT_KEYS,
    metadata_json,
    table_from_records,
)

__all__ = [
    "HEADER_BYTES",
    "benchmark_timings",
    "concat_tables",
    "config_sha256",
    "layer_rows",
    "metrics_table",
    "raw_identity",
    "scan_record",
    "write_scan_tables",
]

log = logging.getLogger(__name__)

#: bytes of the raw file that go into its header checksum
HEADER_BYTES = 64 * 1024
#: rules whose benchmark TSVs are summed into the scan's timings (``time_<rule>_s``)
TIMED_RULES = ("flatfield", "center", "reconstruct", "volume", "segment", "metrics")
_RECORD_LISTS = ("profiles", "orientation", "tortuosity_paths", "particles")
#: per-plane lists of a record's ``profiles`` that become columns of the profiles table
_PROFILE_KEYS = tuple(f"volume_fraction_{p}{s}" for s in ("", "_labels")
                      for p in ("void", "se", "am"))
_IDS = ("scan_id", "sample", "pressure_mpa", "layer")


def _utc(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def _now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def raw_identity(path: str | Path, *, header_bytes: int = HEADER_BYTES) -> dict[str, Any]:
    """Size, modification time and header checksum of a raw file, read cheaply.

    Only the first `header_bytes` are read (a 15 GB scan is never hashed whole). For a folder
    (a TIFF stack) the size is the sum of its files, the time the newest, and the checksum covers
    the sorted listing (name and size of every file) plus the first `header_bytes` of the first.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "scan.h5"
    >>> _ = p.write_bytes(b"abc")
    >>> ident = raw_identity(p)
    >>> ident["size_bytes"], ident["header_sha256"][:12]
    (3, 'ba7816bf8f01')
    """
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        stats = [p.stat() for p in files]
        for p, st in zip(files, stats, strict=True):
            digest.update(f"{p.relative_to(path)}\t{st.st_size}\n".encode())
        if files:
            with files[0].open("rb") as fh:
                digest.update(fh.read(header_bytes))
        size = sum(st.st_size for st in stats)
        mtime = max((st.st_mtime for st in stats), default=path.stat().st_mtime)
    else:
        st = path.stat()
        with path.open("rb") as fh:
            digest.update(fh.read(header_bytes))
        size, mtime = st.st_size, st.st_mtime
    return {
        "path": str(path),
        "size_bytes": int(size),
        "mtime_utc": _utc(mtime),
        "header_sha256": digest.hexdigest(),
    }


def config_sha256(config: Mapping[str, Any]) -> str:
    """sha256 of the effective config as key-sorted compact JSON.

    Examples
    --------
    >>> config_sha256({"b": 1, "a": [1, 2]}) == config_sha256({"a": [1, 2], "b": 1})
    True
    """
    return hashlib.sha256(metadata_json(dict(config))).hexdigest()


def _benchmark_rows(path: Path) -> list[dict[str, float]]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    out = []
    for row in rows:
        try:
            out.append({"s": float(row["s"]), "max_rss": float(row.get("max_rss", "nan"))})
        except (KeyError, ValueError):
            log.warning("unreadable benchmark row in %s: %s", path, row)
    return out


def benchmark_timings(benchmarks_dir: str | Path, scan_id: str) -> dict[str, float]:
    """Wall time per rule (summed over the scan's jobs) and peak memory from benchmark TSVs.

    Reads ``<dir>/<rule>/<scan>.tsv`` and ``<dir>/<rule>/<scan>/*.tsv`` for every rule of
    :data:`TIMED_RULES`; a rule without a file gives NaN (not timed, e.g. run without
    ``benchmark:``). ``max_rss`` of Snakemake is in MB.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "center").mkdir()
    >>> _ = (d / "center" / "a.tsv").write_text("s\\th:m:s\\tmax_rss\\n1.5\\t0:00:01\\t120.0\\n")
    >>> t = benchmark_timings(d, "a")
    >>> t["time_center_s"], t["time_total_s"], t["max_rss_mb"]
    (1.5, 1.5, 120.0)
    """
    root = Path(benchmarks_dir)
    out: dict[str, float] = {}
    rss: list[float] = []
    for rule in TIMED_RULES:
        files = [root / rule / f"{scan_id}.tsv", *sorted((root / rule / scan_id).glob("*.tsv"))]
        rows = [r for f in files if f.is_file() for r in _benchmark_rows(f)]
        out[f"time_{rule}_s"] = math.fsum(r["s"] for r in rows) if rows else math.nan
        rss += [r["max_rss"] for r in rows if math.isfinite(r["max_rss"])]
    timed = [v for v in out.values() if math.isfinite(v)]
    out["time_total_s"] = math.fsum(timed) if timed else math.nan
    out["max_rss_mb"] = max(rss) if rss else math.nan
    return out


def scan_record(
    *,
    scan_id: str,
    sample: str,
    pressure_mpa: float,
    raw: Mapping[str, Any],
    raw_format: str,
    header: Mapping[str, Any],
    center: Mapping[str, Any],
    layers: Mapping[str, Any],
    thresholds: Mapping[str, Any],
    volume_attrs: Mapping[str, Any],
    flatfield: Mapping[str, Any],
    timings: Mapping[str, float],
    calibration: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One row of the scans table from the scan's JSON records and volume attributes."""
    n_rows, n_cols = (int(v) for v in header["detector_shape"])
    levels = list(thresholds.get("phase_levels") or [math.nan] * 3)
    roi = [int(v) for v in layers["roi_xy"]]
    return {
        "scan_id": scan_id,
        "sample": sample,
        "pressure_mpa": float(pressure_mpa),
        "raw_path": raw["path"],
        "raw_format": raw_format,
        "raw_size_bytes": raw["size_bytes"],
        "raw_mtime_utc": raw["mtime_utc"],
        "raw_header_sha256": raw["header_sha256"],
        "n_projections": header["n_projections"],
        "n_flats": header["n_flats"],
        "n_darks": header["n_darks"],
        "detector_rows_px": n_rows,
        "detector_cols_px": n_cols,
        "pixel_size_um": header.get("pixel_size_um"),
        "angle_min_deg": header["angle_min_deg"],
        "angle_max_deg": header["angle_max_deg"],
        "center_px": float(center["center_px"]),
        "center_offset_px": float(center["center_px"]) - (n_cols - 1) / 2,
        "center_confidence": center.get("confidence"),
        "center_method": center["method"],
        "center_residual_px": center.get("residual_px"),
        **axis_columns(center),
        "recon_backend": str(volume_attrs["backend"]),
        "recon_filter": str(volume_attrs["filter"]),
        **_phase_columns(volume_attrs),
        "flatfield_average": flatfield.get("average"),
        "zinger_threshold": flatfield.get("zinger_threshold"),
        "ring_method": flatfield.get("ring_method"),
        "ring_size_px": flatfield.get("ring_size"),
        "ring_large_size_px": flatfield.get("ring_large_size"),
        "ring_snr": flatfield.get("ring_snr"),
        # crop ROI is (y0, y1, x0, x1) in slice pixels
        "roi_y0_px": roi[0],
        "roi_y1_px": roi[1],
        "roi_x0_px": roi[2],
        "roi_x1_px": roi[3],
        **{
            f"{layer}_{end}_row": int(layers["layers"][layer][i])
            for layer in ("composite", "separator")
            for i, end in enumerate(("start", "stop"))
        },
        "segmentation_method": thresholds["method"],
        "threshold_low_per_cm": thresholds["low"],
        "threshold_high_per_cm": thresholds["high"],
        **_calibration_columns(calibration, volume_attrs),
        "level_void_per_cm": levels[0],
        "level_se_per_cm": levels[1],
        "level_am_per_cm": levels[2],
        **timings,
    }


def _calibration_columns(cal: Mapping[str, Any] | None, volume_attrs: Mapping[str, Any],
                         ) -> dict[str, Any]:
    """Scans-table columns of a calibration record (empty without one)."""
    if not cal:
        return {}
    voxel_size_um = float(volume_attrs["voxel_size_um"])
    levels, unc = cal["levels_per_cm"], cal["uncertainty_per_cm"]
    theory = cal.get("theory_per_cm") or {}
    in_scan = cal.get("in_scan_per_cm") or {}
    air = in_scan.get("air") or {}
    return {
        "calibration_reference": cal["reference"],
        **{f"mu_{k}_per_cm": levels[k] for k in ("void", "se", "am")},
        "mu_se_uncertainty_per_cm": unc["se"],
        "mu_am_uncertainty_per_cm": unc["am"],
        "mu_se_theory_per_cm": theory.get("se"),
        "mu_am_theory_per_cm": theory.get("am"),
        "mu_am_core_per_cm": in_scan.get("am_core", {}).get("value"),
        "mu_se_dense_per_cm": in_scan.get("se_dense", {}).get("value"),
        "mu_air_per_cm": air.get("value"),
        "am_theory_ratio": cal.get("am_theory_ratio"),
        "se_theory_ratio": cal.get("se_theory_ratio"),
        "se_subresolution_porosity": cal.get("se_subresolution_porosity"),
        "energy_kev": cal.get("energy_kev"),
        "blur_sigma_um": cal["blur_sigma_px"] * voxel_size_um,
        "blur_sigma_uncertainty_um": _scaled((cal.get("edge_fit") or {}).get("sigma_stderr_px"),
                                            voxel_size_um),
        "blur_method": cal.get("blur_method"),
        "calibration_warnings": "; ".join(cal.get("warnings") or []) or None,
    }


def _scaled(value: float | None, factor: float) -> float | None:
    """`value` times `factor`, None when the value is missing."""
    return None if value is None else float(value) * factor


def layer_rows(record: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rows of every per-layer table from one layer metric record (``metrics/<layer>.json``).

    ``profiles`` holds per-plane lists, ``orientation`` the per-bin lists (coverage is the AM|SE
    share of the classified AM area; the AM|void row is its complement), ``tortuosity_paths``
    and ``particles`` lists of row dicts with the columns of their schemas (absent: no rows).
    """
    ids = {k: record[k] for k in _IDS}
    rows: dict[str, list[dict[str, Any]]] = {
        "metrics": [{k: v for k, v in record.items() if k not in _RECORD_LISTS}],
        "orientation": [],
        "profiles": [],
        "tortuosity": [{**ids, **r} for r in record.get("tortuosity_paths") or []],
        "particles": [{**ids, **r} for r in record.get("particles") or []],
    }
    profiles = record.get("profiles") or {}
    for i, z_um in enumerate(profiles.get("z_um", [])):
        rows["profiles"].append({
            **ids, "plane": i, "z_row": int(record["z_start_row"]) + i, "z_um": z_um,
            **{key: profiles[key][i] for key in _PROFILE_KEYS if key in profiles},
        })
    orient = record.get("orientation") or {}
    edges = orient.get("u_bin_edges", [])
    for i, (cov, area) in enumerate(zip(orient.get("coverage", []),
                                        orient.get("area_um2_per_bin", []), strict=True)):
        for interface, share in (("am_se", cov), ("am_void", 1.0 - cov)):
            rows["orientation"].append({
                **ids, "interface": interface, "u_bin": i, "u_low": edges[i],
                "u_high": edges[i + 1], "coverage": share, "interface_area_um2": share * area,
                "am_area_um2": area,
            })
    return rows


def metrics_table(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Arrow table of layer metric records, typed by ``METRICS_SCHEMA``, sorted by pressure."""
    rows = [layer_rows(r)["metrics"][0] for r in records]
    return table_from_records(rows, METRICS_SCHEMA).sort_by(
        [(k, "ascending") for k in SORT_KEYS["metrics"]]
    )


def _write(table: pa.Table, out_path: str | Path) -> None:
    with atomic_path(out_path) as tmp:
        pq.write_table(table, tmp)


def _with_metadata(table: pa.Table, name: str, extra: Mapping[str, bytes]) -> pa.Table:
    meta = {b"tomopress_version": __version__.encode(), b"table": name.encode(),
            b"created_utc": _now_utc().encode(), **{k.encode(): v for k, v in extra.items()}}
    return table.replace_schema_metadata(meta)


def _phase_columns(volume_attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Padding and phase retrieval of the reconstruction, from the volume's attributes."""
    phase = json.loads(str(volume_attrs.get("phase_retrieval", '{"method": "none"}')))
    return {
        "recon_padding": str(volume_attrs["padding"]) if "padding" in volume_attrs else None,
        "phase_method": phase.get("method"),
        "phase_delta_over_beta": phase.get("delta_over_beta"),
        "phase_delta_over_beta_source": phase.get("delta_over_beta_source"),
        "phase_propagation_distance_mm": phase.get("propagation_distance_mm"),
        "phase_energy_kev": phase.get("energy_kev"),
    }


def write_scan_tables(
    metric_paths: Sequence[str],
    out_paths: Mapping[str, str],
    *,
    scan_id: str,
    sample: str,
    pressure_mpa: float,
    raw_path: str,
    raw_format: str,
    inspect_path: str,
    center_path: str,
    layers_path: str,
    thresholds_path: str,
    volume_path: str,
    flatfield: Mapping[str, Any],
    benchmarks_dir: str,
    calibration_path: str | None = None,
    contact_probe_path: str | None = None,
) -> dict[str, int]:
    """Write one scan's part of every table (keys of `out_paths` = table names); return row counts.

    With the scan's contact probe (:func:`tomopress.segment.contact_probe.contact_probe_file`),
    every layer that has a contact fraction gets its resolutions and note
    (:func:`tomopress.segment.contact_probe.with_contact_probe`).

    Raises
    ------
    ValueError
        If `out_paths` does not name every table, a record belongs to another scan, or a
        required column is missing (the message names the file).
    """
    import h5py

    if set(out_paths) != set(SCAN_TABLE_NAMES):
        raise ValueError(f"out_paths must name the tables {sorted(SCAN_TABLE_NAMES)}, "
                         f"got {sorted(out_paths)}")
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCAN_TABLE_NAMES}
    probe = json.loads(Path(contact_probe_path).read_text()) if contact_probe_path else None
    for path in metric_paths:
        record = json.loads(Path(path).read_text())
        if probe is not None:
            record = with_contact_probe(record, probe)
        if record.get("scan_id") != scan_id:
            raise ValueError(f"{path}: record of scan {record.get('scan_id')!r}, not {scan_id!r}")
        extra = sorted(k for k, v in record.items() if k not in METRICS_SCHEMA.names
                       and k not in _RECORD_LISTS and not isinstance(v, (list, dict)))
        if extra:
            log.warning("%s: scalars without a metrics column (add them to "
                        "tomopress.tables.schemas.METRICS_SCHEMA): %s", path, ", ".join(extra))
        for name, part in layer_rows(record).items():
            rows[name] += part
    with h5py.File(volume_path, "r") as fh:
        volume_attrs = dict(fh.attrs)
    raw = raw_identity(raw_path)
    rows["scans"].append(scan_record(
        scan_id=scan_id, sample=sample, pressure_mpa=pressure_mpa, raw=raw, raw_format=raw_format,
        header=json.loads(Path(inspect_path).read_text()),
        center=json.loads(Path(center_path).read_text()),
        layers=json.loads(Path(layers_path).read_text()),
        thresholds=json.loads(Path(thresholds_path).read_text()),
        volume_attrs=volume_attrs, flatfield=flatfield,
        timings=benchmark_timings(benchmarks_dir, scan_id),
        calibration=json.loads(Path(calibration_path).read_text()) if calibration_path else None,
    ))
    counts = {}
    meta = {"raw_files": metadata_json({scan_id: raw})}
    for name in SCAN_TABLE_NAMES:
        schema = SCHEMAS[name]
        table = table_from_records(rows[name], schema, where=f"scan {scan_id}, table {name}")
        _write(_with_metadata(table, name, meta), out_paths[name])
        counts[name] = table.num_rows
    log.info("scan %s: %s", scan_id, counts)
    return counts


def concat_tables(
    part_paths: Mapping[str, Sequence[str]],
    out_paths: Mapping[str, str],
    *,
    config: Mapping[str, Any],
) -> dict[str, int]:
    """Concatenate the per-scan parts of every table, sort by pressure, stamp the provenance.

    Raises
    ------
    ValueError
        If a part's columns or types differ from its declared schema (written by other code:
        rerun ``aggregate_scan``).
    """
    counts = {}
    for name, out_path in out_paths.items():
        schema = SCHEMAS[name]
        parts, raw_files = [], {}
        for path in part_paths[name]:
            part = pq.read_table(path)
            if not part.schema.equals(schema):
                raise ValueError(f"{path}: schema differs from tomopress.tables.schemas.{name}; "
                                 "rerun its aggregate_scan job")
            raw_files.update(json.loads((part.schema.metadata or {}).get(b"raw_files", b"{}")))
            parts.append(part.replace_schema_metadata(None))
        table = pa.concat_tables(parts) if parts else schema.empty_table()
        table = table.sort_by([(k, "ascending") for k in SORT_KEYS[name]])
        table = _with_metadata(table, name, {
            "config_sha256": config_sha256(config).encode(),
            "config": metadata_json(dict(config)),
            "raw_files": metadata_json(raw_files),
            "n_scans": str(len(raw_files)).encode(),
        })
        _write(table, out_path)
        counts[name] = table.num_rows
    log.info("tables: %s", counts)
    return counts
