"""Atomic output files: write under a temporary name, rename when complete.

A writer killed at any moment leaves at most a hidden ``.tmp-<name>.*`` file beside the
output, never a file that looks finished; Snakemake then reruns the job. A write that fails
because the disk is full, the folder is read-only or missing, or the quota is exhausted
raises `OutputWriteError` naming the output file, after removing the partial file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tomopress.errors import OutputWriteError

__all__ = ["atomic_path", "write_json_atomic"]

#: errors of writing an output (as opposed to reading an input inside the block)
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def _reason(err: OSError) -> str:
    text = err.strerror or str(err)
    return f"{text} (errno {err.errno})" if err.errno is not None else text


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    A failed or killed writer leaves at most a ``.tmp-*`` file, never a file that looks finished.

    Raises
    ------
    OutputWriteError
        If the folder cannot be made or written to, or the block fails with a write error
        (disk full, quota exceeded, file too large, read-only file system). It is also an
        `OSError`; the temporary file is removed and `path` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "x.txt").read_text()
    'done'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".tmp-{path.name}.", dir=path.parent)
    except OSError as err:
        what = ("cannot create the output's folder" if not path.parent.is_dir()
                else "cannot create a file in the output's folder")
        raise OutputWriteError(path, "folder", f"{what}: {_reason(err)}",
                               errno=err.errno) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
            # mkstemp makes the file private (0600); give it the mode a plain open() would
            os.chmod(tmp, 0o666 & ~_current_umask())
            os.replace(tmp, path)
        except OSError as err:
            if isinstance(err, OutputWriteError) or err.errno not in _WRITE_ERRNOS:
                raise
            raise OutputWriteError(path, "write", f"{_reason(err)}; the partial file was "
                                   "removed and nothing was written", errno=err.errno) from err
    finally:
        tmp.unlink(missing_ok=True)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write `obj` as indented JSON to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
