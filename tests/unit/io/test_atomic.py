"""`atomic_path`: outputs appear complete or not at all, and write failures name the file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tomopress.errors import OutputWriteError
from tomopress.io.atomic import atomic_path, write_json_atomic


def test_success_renames_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "sub" / "a.json"
    write_json_atomic(out, {"b": 1})
    assert out.read_text() == '{\n  "b": 1\n}\n'
    assert [p.name for p in out.parent.iterdir()] == ["a.json"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    out = tmp_path / "a.txt"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer crashed")
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS])
def test_write_errors_become_output_write_errors(tmp_path, code):
    out = tmp_path / "a.h5"
    with pytest.raises(OutputWriteError) as err, atomic_path(out) as tmp:
        tmp.write_bytes(b"partial")
        raise OSError(code, os.strerror(code))
    assert str(err.value).startswith(f"{out}: write: {os.strerror(code)} (errno {code}); the "
                                     "partial file was removed")
    assert err.value.errno == code and isinstance(err.value, OSError)
    assert list(tmp_path.iterdir()) == []


def test_other_os_errors_pass_through(tmp_path):
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "a"):
        (tmp_path / "no" / "such" / "input").read_text()
    assert list(tmp_path.iterdir()) == []


def test_folder_that_cannot_be_made_is_named(tmp_path):
    (tmp_path / "results").write_text("a file in the way")
    out = tmp_path / "results" / "s1" / "x.json"
    with pytest.raises(OutputWriteError, match=rf"{out}: folder: cannot create the output's "
                                               r"folder: Not a directory \(errno 20\)"):
        write_json_atomic(out, {})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_paths_are_paths(tmp_path):
    with atomic_path(str(tmp_path / "x")) as tmp:
        assert isinstance(tmp, Path) and tmp.name.startswith(".tmp-x.")
        tmp.write_text("x")
