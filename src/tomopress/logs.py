"""Logging set-up for Snakemake jobs and the command line."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

__all__ = ["log_to_file"]


def log_to_file(path: str | Path, level: int = logging.INFO) -> None:
    """Send this process's logging and warnings to `path` (and stderr)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.FileHandler(path, mode="w"),
        logging.StreamHandler(sys.stderr),
    ]
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)
    warnings.simplefilter("default")
