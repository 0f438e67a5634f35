"""Logging set-up for Snakemake jobs and the command line, and progress lines for long steps.

Every rule's script calls :func:`log_to_file` first: from then on the job's logging, its
warnings and, if it fails, the exception (one ``job failed: <Type>: <message>`` line followed by
the traceback) go to the rule's log file as well as to stderr, so a failed cluster job explains
itself in ``results/logs/`` without a hunt through scheduler files.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import warnings
from pathlib import Path
from types import TracebackType

__all__ = ["log_to_file", "log_exception", "Progress"]

log = logging.getLogger("tomopress.job")


def log_exception(exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> None:
    """Log an uncaught exception: the one-line message, then the traceback (the excepthook).

    Installed as :data:`sys.excepthook` by :func:`log_to_file`; the logging handlers (the log
    file and stderr) receive it, so it is not printed a second time.  ``KeyboardInterrupt`` is
    left to Python's default hook.
    """
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    message = str(exc).strip() or "(no message)"
    log.critical("job failed: %s: %s", exc_type.__name__, message, exc_info=(exc_type, exc, tb))
    for handler in logging.getLogger().handlers:
        handler.flush()


def log_to_file(path: str | Path, level: int = logging.INFO) -> None:
    """Send this process's logging, warnings and uncaught exception to `path` (and stderr).

    The file is truncated first (one job, one log).  An exception that ends the job is logged
    by :func:`log_exception` (one line ``job failed: <Type>: <message>``, then the traceback).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "job.log")
    >>> log_to_file(path)
    >>> try:
    ...     raise ValueError("centre outside the detector")
    ... except ValueError:
    ...     log_exception(*sys.exc_info())
    >>> text = open(path).read()
    >>> "job failed: ValueError: centre outside the detector" in text, "Traceback" in text
    (True, True)
    """
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
    sys.excepthook = log_exception


class Progress:
    """Progress lines for a loop over blocks: ``<what> i/n (<detail>), <t> s elapsed``.

    Logs at INFO at most every `every_s` seconds (and always for the last block), so a long
    job's log shows that it moves and how fast, without flooding short runs.

    Parameters
    ----------
    logger : logging.Logger
        Where the lines go.
    what : str
        What one step is, e.g. ``"reconstruct: rows"``.
    total : int
        Number of steps.
    every_s : float
        Least time between two lines, seconds (0: every step).

    Examples
    --------
    >>> p = Progress(logging.getLogger("demo"), "block", 3, every_s=0)
    >>> for i in range(3):
    ...     p.step(f"rows {i}:{i + 1}")
    >>> p.done
    3
    """

    def __init__(self, logger: logging.Logger, what: str, total: int, *,
                 every_s: float = 10.0) -> None:
        self.logger, self.what, self.total, self.every_s = logger, what, int(total), every_s
        self.done = 0
        self.t0 = self._last = time.perf_counter()
        self._lock = threading.Lock()  # blocks may finish on several threads

    @property
    def elapsed_s(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.t0

    def step(self, detail: str = "", n: int = 1) -> None:
        """Count `n` finished steps; log a line when due."""
        with self._lock:
            self.done += n
            now = time.perf_counter()
            if not (self.done >= self.total or now - self._last >= self.every_s):
                return
            self._last, done = now, self.done
        extra = f" ({detail})" if detail else ""
        self.logger.info("%s %d/%d%s, %.1f s elapsed", self.what, done, self.total, extra,
                         now - self.t0)
