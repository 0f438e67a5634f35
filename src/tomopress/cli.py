"""The ``tomopress`` command line: ``inspect`` a scan, find its ``center``, ``simulate`` one,
``add-scans`` to the sample sheet, ``validate`` a run before submitting it, fit an impedance
spectrum (``eis``).

Every subcommand prints one JSON object on stdout. A user error (bad file, bad value) ends with
exit status 2 and one line on stderr naming the file and what is wrong, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from tomopress import __version__
from tomopress.errors import TomopressError

__all__ = ["main"]

EXIT_USER_ERROR = 2


def _cmd_inspect(args: argparse.Namespace) -> dict[str, Any]:
    from tomopress.intake.config import scan_reader_options
    from tomopress.intake.inspect import inspect_raw

    formats: dict[str, Any] = {}
    if args.config:
        from tomopress.intake.config import load_config

        formats = load_config(args.config)["formats"]
    info = inspect_raw(args.path, args.format, **scan_reader_options(formats))
    from tomopress.prep.axis import scan_axis

    return {**info, **scan_axis(args.path, format=args.format,
                                reader_options=scan_reader_options(formats))}


def _parse_rows(text: str) -> tuple[int, int]:
    start, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(start), int(stop)
    except ValueError:
        raise ValueError(f"--rows {text!r}: expected START:STOP, e.g. 1020:1028") from None


def _cmd_center(args: argparse.Namespace) -> dict[str, Any]:
    from tomopress.intake.config import scan_reader_options
    from tomopress.prep.center import measure_center

    formats: dict[str, Any] = {}
    if args.config:
        from tomopress.intake.config import load_config

        formats = load_config(args.config)["formats"]
    rows = _parse_rows(args.rows) if args.rows else None
    estimate, used, n_cols = measure_center(
        args.path, format=args.format, reader_options=scan_reader_options(formats), rows=rows,
        n_rows=rows[1] - rows[0] if rows else 8, method=args.method, qc_png=args.qc_png,
        pixel_size_um=args.pixel_size_um,
    )
    return {
        "path": str(args.path),
        "center": estimate.center_px,
        "confidence": estimate.confidence,
        "method": estimate.method,
        "rows": list(used),
        "n_columns": n_cols,
        **({"qc_png": str(args.qc_png)} if args.qc_png else {}),
    }


def _cmd_simulate(args: argparse.Namespace) -> dict[str, Any]:
    import dataclasses

    import yaml

    from tomopress.synthetic.beamtime import SyntheticParams, simulate_scan

    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "n_rows": args.rows, "n_cols": args.cols, "n_angles": args.angles,
            "pixel_size_um": args.pixel_size_um,
        }.items()
        if v is not None
    }
    fields = {f.name: f for f in dataclasses.fields(SyntheticParams)}
    for item in args.set or []:
        key, _, text = item.partition("=")
        if key not in fields:
            raise ValueError(f"--set {item}: unknown parameter {key!r}; known: {sorted(fields)}")
        overrides[key] = yaml.safe_load(text)
    params = dataclasses.replace(SyntheticParams(), **overrides)
    truth = simulate_scan(args.out, pressure_mpa=args.pressure_mpa, params=params, seed=args.seed)
    return {"raw": str(args.out), **truth}


def _cmd_add_scans(args: argparse.Namespace) -> dict[str, Any]:
    from tomopress.intake.addscans import add_scans

    return add_scans(args.raw_dirs, args.sheet, pattern=args.pattern,
                     pressure_field=args.pressure_field, sample=args.sample, format=args.format,
                     dry_run=args.dry_run)


def _cmd_validate(args: argparse.Namespace) -> dict[str, Any]:
    from tomopress.intake.validate import validate_run

    problems, summary = validate_run(args.config, args.samples)
    for line in problems:
        print(line, file=sys.stderr)
    args.exit_status = EXIT_USER_ERROR if problems else 0
    return {**summary, "ok": not problems, "n_problems": len(problems), "problems": problems}


def _cmd_metrics(args: argparse.Namespace) -> dict[str, Any]:
    from tomopress.io.labels import (
        map_labels,
        parse_label_mapping,
        read_label_volume,
        transport_axis_first,
    )
    from tomopress.metrics.summary import summary_metrics
    from tomopress.types import PHASES

    mapping = parse_label_mapping(args.labels)
    volume = read_label_volume(args.path, dataset=args.dataset)
    labels = transport_axis_first(map_labels(volume, mapping, source=args.path), args.axis)
    only = [name.strip() for name in args.only.split(",")] if args.only else None
    diffusion = {"convention": args.tau_convention}
    if args.diffusion_max_unknowns is not None:
        diffusion["max_unknowns"] = args.diffusion_max_unknowns
    if args.diffusion_max_memory_gb is not None:
        diffusion["max_memory_gb"] = args.diffusion_max_memory_gb
    record = summary_metrics(
        labels,
        voxel_size_um=args.voxel_size,
        only=only,
        present_phases=[PHASES[name] for name in mapping if name in PHASES],
        diffusion=diffusion,
    )
    return {"path": str(args.path), "transport_axis": args.axis, **record}


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [n.strip() for n in text.split(",") if n.strip()]


def _cmd_eis(args: argparse.Namespace) -> dict[str, Any]:
    from tomopress.echem.cli import eis_report

    return eis_report(
        args.path, circuit=args.circuit, area_cm2=args.area_cm2, thickness_um=args.thickness_um,
        r_se_elements=_names(args.r_se), r_ct_element=args.r_ct, c_dl_element=args.c_dl,
        initial_guess=[float(v) for v in _names(args.initial_guess) or []] or None,
        weight_by_modulus=not args.unweighted,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tomopress", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"tomopress {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="header facts of a raw scan, checked with a small pixel "
                       "sample, and its scan type (180, 360_centred, 360_offset with the axis "
                       "side and overlap), as JSON; exit 2 listing every problem")
    p.add_argument("path", help="DXchange/NXtomo HDF5 file or TIFF-stack folder")
    p.add_argument("--format", default="auto", choices=["auto", "dxchange", "nxtomo", "tiff"])
    p.add_argument("--config", help="workflow config whose `formats` block gives dataset paths")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("center", help="rotation centre of a raw scan with a confidence, as JSON")
    p.add_argument("path", help="DXchange/NXtomo HDF5 file or TIFF-stack folder")
    p.add_argument("--rows", metavar="R0:R1",
                   help="detector rows to use (default: up to 8 around the detector middle)")
    p.add_argument("--format", default="auto", choices=["auto", "dxchange", "nxtomo", "tiff"])
    p.add_argument("--method", default="vo", choices=["vo", "com"],
                   help="vo: Vo et al. 2014 Fourier metric (default); com: centre of mass")
    p.add_argument("--pixel-size-um", type=float,
                   help="pixel size in µm for the QC reconstructions (default: the file's)")
    p.add_argument("--qc-png", help="also write a QC figure (metric curve, 3 reconstructions)")
    p.add_argument("--config", help="workflow config whose `formats` block gives dataset paths")
    p.set_defaults(func=_cmd_center)

    p = sub.add_parser("simulate", help="write one synthetic scan with its ground truth")
    p.add_argument("out", help="output DXchange HDF5 path (truth JSON/HDF5 written beside it)")
    p.add_argument("--pressure-mpa", type=float, required=True, help="stack pressure in MPa")
    p.add_argument("--seed", type=int, default=16602, help="seed of microstructure and noise")
    p.add_argument("--rows", type=int, help="detector rows (default: demo size)")
    p.add_argument("--cols", type=int, help="detector columns (default: demo size)")
    p.add_argument("--angles", type=int, help="projections over 180 degrees (default: demo)")
    p.add_argument("--pixel-size-um", type=float, help="pixel size in µm (default: demo)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="any other SyntheticParams field, e.g. --set separator_rows=12")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("add-scans", help="append rows for new raw scans to the sample sheet")
    p.add_argument("raw_dirs", nargs="+", metavar="RAW_DIR",
                   help="HDF5 file, TIFF-stack folder, or a folder holding them")
    p.add_argument("--sheet", required=True, help="sample sheet (TSV) to append to")
    p.add_argument("--pattern", help="regex finding the pressure (MPa) in the file name, "
                   "case-insensitive, group `pressure` or 1 (default: a number before 'MPa')")
    p.add_argument("--pressure-field", metavar="H5PATH",
                   help="HDF5 dataset (/path) or attribute (/path@name) holding the pressure")
    p.add_argument("--sample", help="sample name of the new rows (default: the scan's folder)")
    p.add_argument("--format", default="auto", choices=["auto", "dxchange", "nxtomo", "tiff"],
                   help="format column of the new rows (auto: detected from the header)")
    p.add_argument("--dry-run", action="store_true", help="report, do not write")
    p.set_defaults(func=_cmd_add_scans)

    p = sub.add_parser("validate", help="check config, sheet, raw headers and crop ranges "
                       "(no pixel reads); exit 2 listing every problem")
    p.add_argument("--config", help="workflow config (default: config/config.yaml)")
    p.add_argument("--samples", help="sample sheet (default: the config's `samples`)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("metrics", help="scalar microstructure metrics of a labelled volume "
                       "(TIFF or HDF5, e.g. from Dragonfly or ilastik), as JSON")
    p.add_argument("path", help="labelled 3-D TIFF or HDF5 volume")
    p.add_argument("--labels", required=True, metavar="void=V,se=S,am=A",
                   help="label value of each phase; omit a phase the volume lacks; "
                   "outside=V1+V2 leaves values out of every metric")
    p.add_argument("--voxel-size", type=float, default=1.0, metavar="UM",
                   help="voxel edge in µm (default 1)")
    p.add_argument("--axis", type=int, default=0, choices=[0, 1, 2],
                   help="transport (pressure) axis of the array (default 0 = z)")
    p.add_argument("--only", metavar="NAMES", help="comma-separated metric families: fractions, "
                   "contact, anisotropy, connectivity, tortuosity, diffusion, particles, thickness")
    p.add_argument("--dataset", help="HDF5 dataset path (default: the file's only 3-D dataset)")
    p.add_argument("--tau-convention", default="tomopress",
                   choices=["tomopress", "porespy", "taufactor"],
                   help="tortuosity factor convention: tomopress (default; Dirichlet planes on "
                   "the first and last voxel layers, ε = all SE), porespy (same planes, ε = the "
                   "through-connected SE), taufactor (planes half a voxel outside, ε = all SE)")
    p.add_argument("--diffusion-max-unknowns", type=int, metavar="N",
                   help="solve the tortuosity factor on the whole volume when its SE voxels are "
                   "at most N (default 10^7, about 2 min), else on sampled tiles holding N")
    p.add_argument("--diffusion-max-memory-gb", type=float, metavar="GB",
                   help="memory budget of one diffusion solve (default 6; ~0.45 GB per 10^6 "
                   "unknowns)")
    p.set_defaults(func=_cmd_metrics)

    p = sub.add_parser("eis", help="fit an equivalent circuit to an impedance spectrum (CSV/TSV "
                       "with units in the header, or BioLogic .mpr); parameters as JSON")
    p.add_argument("path", help="spectrum file, e.g. columns 'frequency (Hz), Z' (Ohm), "
                   "-Z'' (Ohm)'")
    p.add_argument("--circuit", help="impedance.py circuit string (default: config echem.circuit, "
                   "R0-p(R1,CPE1)-p(R2,CPE2)-Wo1)")
    p.add_argument("--area-cm2", type=float, help="cell cross-section A in cm² (gives R_ct in "
                   "ohm cm², and with --thickness-um sigma_app)")
    p.add_argument("--thickness-um", type=float, help="SE path length L in µm: "
                   "sigma_app = L / (R_SE A)")
    p.add_argument("--r-se", metavar="NAMES", help="resistors summed into R_SE (default R0,R1 "
                   "for the default circuit, R0 for another)")
    p.add_argument("--r-ct", metavar="NAME", help="charge-transfer resistor (default R2 for the "
                   "default circuit, none for another)")
    p.add_argument("--c-dl", metavar="NAME", help="C or CPE parallel to R_ct (default CPE2 for "
                   "the default circuit)")
    p.add_argument("--initial-guess", metavar="V,V,...", help="start values in impedance.py "
                   "parameter order (default: estimated from the spectrum)")
    p.add_argument("--unweighted", action="store_true", help="fit without 1/|Z| weights "
                   "(impedance.py's default; the documented example fit uses it)")
    p.set_defaults(func=_cmd_eis)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        result = args.func(args)
    except TomopressError as exc:
        for line in str(exc).splitlines():
            print(f"tomopress {args.command}: {line.strip()}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (OSError, ValueError) as exc:
        subject = getattr(args, "path", None) or getattr(args, "out", None) or getattr(
            args, "sheet", "")
        print(f"tomopress {args.command}: {subject}: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(json.dumps(result, indent=2, default=float))
    return getattr(args, "exit_status", 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
