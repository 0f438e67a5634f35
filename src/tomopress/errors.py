"""Exceptions that carry the file and the field at fault, so users see one clear line."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "TomopressError",
    "RawDataError",
    "SampleSheetError",
    "ConfigError",
    "OutputWriteError",
]


class TomopressError(Exception):
    """Base class of every error tomopress reports to the user."""


class _FileFieldError(TomopressError):
    def __init__(self, path: str | Path, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        #: every ``(path, field, problem)`` this error reports (one here; several when collected)
        self.problems: list[tuple[str, str, str]] = [(self.path, field, problem)]
        super().__init__(f"{self.path}: {field}: {problem}")


class RawDataError(_FileFieldError):
    """A raw scan file is missing, unreadable or inconsistent.

    The message reads ``<file>: <field>: <what is wrong and what was expected>``; an error
    built with `collect` has one such line per problem.
    """

    @classmethod
    def collect(cls, problems: Iterable[tuple[str | Path, str, str]]) -> RawDataError:
        """One error reporting several ``(path, field, problem)`` triples, one line each.

        Examples
        --------
        >>> err = RawDataError.collect([("a.h5", "/exchange/data", "dataset missing"),
        ...                             ("a.h5", "/exchange/theta", "dataset missing")])
        >>> print(err)
        a.h5: /exchange/data: dataset missing
        a.h5: /exchange/theta: dataset missing
        """
        triples = [(str(p), f, text) for p, f, text in problems]
        if not triples:
            raise ValueError("RawDataError.collect needs at least one problem")
        err = cls(*triples[0])
        err.problems = triples
        err.args = ("\n".join(f"{p}: {f}: {text}" for p, f, text in triples),)
        return err

    def lines(self) -> list[str]:
        """One ``<file>: <field>: <problem>`` line per problem."""
        return [f"{p}: {f}: {text}" for p, f, text in self.problems]


class SampleSheetError(_FileFieldError):
    """The sample sheet has a bad row or column."""


class ConfigError(_FileFieldError):
    """The workflow configuration has a bad value."""


class OutputWriteError(_FileFieldError, OSError):
    """An output file could not be written (disk full, read-only or missing folder, ...).

    Also an `OSError`, so callers that handle I/O errors keep working. The message names the
    output file, the step (``write`` or ``folder``) and the operating system's reason.
    """

    def __init__(self, path: str | Path, field: str, problem: str, *, errno: int | None = None):
        _FileFieldError.__init__(self, path, field, problem)
        self.errno = errno  # type: ignore[misc]
        self.strerror = problem  # type: ignore[misc]
        self.filename = str(path)  # type: ignore[misc]

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.problem}"
