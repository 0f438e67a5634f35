"""Exceptions that carry the file and the field at fault, so users see one clear line."""

from __future__ import annotations

from pathlib import Path

__all__ = ["TomopressError", "RawDataError", "SampleSheetError", "ConfigError"]


class TomopressError(Exception):
    """Base class of every error tomopress reports to the user."""


class _FileFieldError(TomopressError):
    def __init__(self, path: str | Path, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.path}: {field}: {problem}")


class RawDataError(_FileFieldError):
    """A raw scan file is missing, unreadable or inconsistent.

    The message reads ``<file>: <field>: <what is wrong and what was expected>``.
    """


class SampleSheetError(_FileFieldError):
    """The sample sheet has a bad row or column."""


class ConfigError(_FileFieldError):
    """The workflow configuration has a bad value."""
