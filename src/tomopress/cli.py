"""The ``tomopress`` command line: ``inspect`` a scan, find its ``center``, ``simulate`` one.

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
    from tomopress.config import scan_reader_options
    from tomopress.inspect import inspect_raw

    formats: dict[str, Any] = {}
    if args.config:
        from tomopress.config import load_config

        formats = load_config(args.config)["formats"]
    return inspect_raw(args.path, args.format, **scan_reader_options(formats))


def _parse_rows(text: str) -> tuple[int, int]:
    start, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(start), int(stop)
    except ValueError:
        raise ValueError(f"--rows {text!r}: expected START:STOP, e.g. 1020:1028") from None


def _cmd_center(args: argparse.Namespace) -> dict[str, Any]:
    from tomopress.center import measure_center
    from tomopress.config import scan_reader_options

    formats: dict[str, Any] = {}
    if args.config:
        from tomopress.config import load_config

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

    from tomopress.simulate import SyntheticParams, simulate_scan

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tomopress", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"tomopress {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="header facts of a raw scan (no pixel reads), as JSON")
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
        print(f"tomopress {args.command}: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (OSError, ValueError) as exc:
        subject = getattr(args, "path", None) or getattr(args, "out", "")
        print(f"tomopress {args.command}: {subject}: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(json.dumps(result, indent=2, default=float))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
