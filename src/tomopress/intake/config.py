"""Configuration and schema validation that reports every problem at once.

The JSON schemas live in ``workflow/schemas/`` (Draft 2020-12, the dialect Snakemake 9 uses);
this module fills their defaults and turns validation errors into one readable message.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tomopress.errors import ConfigError

__all__ = [
    "SCHEMA_DIR",
    "load_schema",
    "schema_problems",
    "validate_config",
    "load_config",
    "scan_reader_options",
]

#: ``workflow/schemas`` of the source tree (the package is installed in editable mode or
#: run from a checkout, which is how a Snakemake workflow is deployed).
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "workflow" / "schemas"


def load_schema(name: str) -> dict[str, Any]:
    """Read ``workflow/schemas/<name>.schema.yaml``."""
    with open(SCHEMA_DIR / f"{name}.schema.yaml") as fh:
        return yaml.safe_load(fh)


def _fill_defaults(instance: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Insert schema defaults recursively (objects first, so nested defaults land too)."""
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if isinstance(instance.get(key), dict) and sub.get("type") == "object":
            _fill_defaults(instance[key], sub)


def schema_problems(instance: Any, schema: Mapping[str, Any]) -> Iterator[str]:
    """Yield one line per schema violation: ``<dotted.field>: <what is wrong>``."""
    validator = jsonschema.Draft202012Validator(schema)
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        field = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        yield f"{field}: {err.message}"


def validate_config(config: Mapping[str, Any], *, source: str | Path = "config") -> dict[str, Any]:
    """Return a validated copy of `config` with every schema default filled in.

    Parameters
    ----------
    config : mapping
        The configuration as loaded from YAML (and ``--config`` overrides).
    source : str or Path
        Where the configuration came from, named in error messages.

    Raises
    ------
    ConfigError
        Listing every problem, one per line.

    Examples
    --------
    >>> validate_config({})["slab_rows"]
    64
    """
    schema = load_schema("config")
    filled = copy.deepcopy(dict(config))
    _fill_defaults(filled, schema)
    problems = list(schema_problems(filled, schema))
    if problems:
        raise ConfigError(source, "config", "invalid configuration:\n  " + "\n  ".join(problems))
    # key-sorted at every level: dict-valued rule params then compare equal whatever order
    # the YAML file lists its keys in (Snakemake's params trigger compares their repr)
    return json.loads(json.dumps(filled, sort_keys=True))


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a YAML configuration file."""
    path = Path(path)
    try:
        with open(path) as fh:
            raw = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise ConfigError(path, "file", f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, "file", f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(path, "file", "expected a mapping of keys to values")
    return validate_config(raw, source=path)


def scan_reader_options(formats: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`tomopress.io.open_scan` from the config's ``formats`` block."""
    from tomopress.io import NXtomoPaths, TiffLayout

    return {
        "nxtomo_paths": NXtomoPaths(**formats.get("nxtomo", {})),
        "tiff_layout": TiffLayout(**formats.get("tiff", {})),
        "allow_external_links_outside": bool(formats.get("allow_external_links_outside", False)),
    }
