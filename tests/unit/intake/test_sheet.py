from pathlib import Path

import pytest

from tomopress.errors import SampleSheetError
from tomopress.intake.sheet import read_sample_sheet

HEADER = "scan_id\tsample\tpressure_mpa\traw\tformat\n"


def _sheet(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    (tmp_path / "scan.h5").write_bytes(b"")
    path = tmp_path / "samples.tsv"
    path.write_text(header + body)
    return path


def test_valid_sheet_gives_typed_rows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _sheet(tmp_path, "a\tcell\t6\tscan.h5\tauto\nb\tcell\t12.5\tscan.h5\tdxchange\n")
    table = read_sample_sheet(path)
    assert list(table.index) == ["a", "b"]
    assert table.loc["b", "pressure_mpa"] == 12.5
    assert table.loc["a", "center_px"] is None


def test_every_problem_is_reported_at_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = (
        "a\tcell\t6\tscan.h5\tauto\n"
        "a\tcell\tsix\tscan.h5\tauto\n"  # duplicate id, non-numeric pressure
        "c\tcell\t-3\tmissing.h5\ttiff\n"  # negative pressure, missing file
        "d\tcell\t9\tscan.h5\tjpeg\n"  # unknown format
    )
    with pytest.raises(SampleSheetError) as err:
        read_sample_sheet(_sheet(tmp_path, body))
    message = str(err.value)
    assert "samples.tsv" in message
    assert "duplicate id 'a' on lines [2, 3]" in message
    assert "line 3: pressure_mpa: expected a number, got 'six'" in message
    assert "line 4: pressure_mpa" in message and "-3" in message
    assert "line 4: raw: file not found: missing.h5" in message
    assert "line 5: format" in message and "jpeg" in message


def test_bad_range_and_unknown_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    header = HEADER.rstrip("\n") + "\trecon_rows\tcentre\n"
    with pytest.raises(SampleSheetError, match=r"unknown column\(s\) \['centre'\]") as err:
        read_sample_sheet(_sheet(tmp_path, "a\tcell\t6\tscan.h5\tauto\t40:10\t3\n", header))
    assert "recon_rows" in str(err.value)


def test_synthetic_rows_need_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _sheet(tmp_path, "a\tcell\t6\tsynthetic/a.h5\tdxchange\n")
    assert read_sample_sheet(path, synthetic_dir="synthetic").loc["a", "raw"] == "synthetic/a.h5"
    with pytest.raises(SampleSheetError, match="file not found"):
        read_sample_sheet(path)


def test_missing_sheet(tmp_path):
    with pytest.raises(SampleSheetError, match="sample sheet not found"):
        read_sample_sheet(tmp_path / "nope.tsv")


def test_scan_ids_cannot_name_paths_or_reserved_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = "../evil\tcell\t6\tscan.h5\tauto\na/b\tcell\t6\tscan.h5\tauto\ntables\tcell\t6\tscan.h5\tauto\n"
    with pytest.raises(SampleSheetError) as err:
        read_sample_sheet(_sheet(tmp_path, body))
    message = str(err.value)
    assert "line 2: scan_id: '../evil' does not match" in message
    assert "line 3: scan_id: 'a/b' does not match" in message
    assert "line 4: scan_id: 'tables' is reserved" in message
