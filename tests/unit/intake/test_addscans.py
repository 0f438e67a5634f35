"""`add_scans`: new beamtime scans appended to the sheet; existing rows never rewritten."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from tomopress.cli import main
from tomopress.errors import RawDataError
from tomopress.intake.addscans import (
    add_scans,
    find_raw_scans,
    pressure_from_name,
    scan_id_from_name,
)

OLD_SHEET = (
    "scan_id\tsample\tpressure_mpa\traw\tformat\tcenter_px\n"
    "old_6\tcell\t6\tbeam/cell_6MPa.h5\tdxchange\t80.5\n"
    "# a comment the user wrote\n"
)


def _dxchange(path: Path, *, pressure_mpa: float | None = None) -> Path:
    """A tiny DXchange file (header-valid: data, flats, darks, angles in degrees)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    with h5py.File(path, "w") as h5:
        h5["/exchange/data"] = rng.integers(100, 200, (8, 4, 6), dtype=np.uint16)
        h5["/exchange/data_white"] = np.full((2, 4, 6), 400, dtype=np.uint16)
        h5["/exchange/data_dark"] = np.full((2, 4, 6), 10, dtype=np.uint16)
        h5["/exchange/theta"] = np.linspace(0, 180, 8, endpoint=False)
        if pressure_mpa is not None:
            h5["/measurement/sample/pressure"] = pressure_mpa
            h5["/measurement/sample"].attrs["stack_pressure_mpa"] = pressure_mpa
    return path


@pytest.fixture
def beamtime(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("cell_6MPa.h5", "cell_25MPa.h5", "cell_100 mpa.h5"):
        _dxchange(tmp_path / "beam" / name)
    (tmp_path / "beam" / "notes.txt").write_text("not a scan")
    sheet = tmp_path / "samples.tsv"
    sheet.write_text(OLD_SHEET)
    return tmp_path, sheet


def test_appends_only_new_scans_and_keeps_old_bytes(beamtime):
    root, sheet = beamtime
    summary = add_scans(["beam"], sheet)
    text = sheet.read_text()
    assert text.startswith(OLD_SHEET)  # existing rows (and the comment) byte-identical
    added = {row["scan_id"]: row for row in summary["added"]}
    assert set(added) == {"cell_25MPa", "cell_100_mpa"}
    assert added["cell_100_mpa"]["pressure_mpa"] == "100"
    assert added["cell_25MPa"] == {"scan_id": "cell_25MPa", "sample": "beam",
                                   "pressure_mpa": "25", "raw": "beam/cell_25MPa.h5",
                                   "format": "dxchange"}
    assert summary["already_in_sheet"] == ["beam/cell_6MPa.h5"]
    new_lines = text[len(OLD_SHEET):].splitlines()
    assert new_lines == ["cell_100_mpa\tbeam\t100\tbeam/cell_100 mpa.h5\tdxchange\t",
                         "cell_25MPa\tbeam\t25\tbeam/cell_25MPa.h5\tdxchange\t"]
    from tomopress.intake.sheet import read_sample_sheet

    table = read_sample_sheet(sheet)
    assert list(table.index) == ["old_6", "cell_100_mpa", "cell_25MPa"]


def test_rerun_adds_nothing_and_leaves_the_file_alone(beamtime):
    _, sheet = beamtime
    add_scans(["beam"], sheet)
    before = sheet.read_bytes()
    mtime = sheet.stat().st_mtime_ns
    summary = add_scans(["beam", "beam/cell_25MPa.h5"], sheet)
    assert summary["added"] == []
    assert sheet.read_bytes() == before and sheet.stat().st_mtime_ns == mtime


def test_missing_pressure_names_the_file_and_writes_nothing(beamtime):
    root, sheet = beamtime
    _dxchange(root / "beam" / "cell_unknown.h5")
    with pytest.raises(RawDataError, match=r"cell_unknown\.h5: pressure: no pressure in the name"):
        add_scans(["beam"], sheet)
    assert sheet.read_text() == OLD_SHEET


def test_pressure_from_an_hdf5_field(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _dxchange(tmp_path / "raw" / "scan_a.h5", pressure_mpa=50.0)
    _dxchange(tmp_path / "raw" / "scan_b.h5")
    sheet = tmp_path / "new.tsv"
    with pytest.raises(RawDataError, match=r"scan_b\.h5: /measurement/sample/pressure: "
                                           r"pressure field not found"):
        add_scans(["raw"], sheet, pressure_field="/measurement/sample/pressure")
    assert not sheet.exists()
    summary = add_scans(["raw/scan_a.h5"], sheet, sample="cellA",
                        pressure_field="/measurement/sample@stack_pressure_mpa")
    assert summary["added"][0]["pressure_mpa"] == "50"
    assert sheet.read_text().splitlines() == [
        "scan_id\tsample\tpressure_mpa\traw\tformat",
        "scan_a\tcellA\t50\traw/scan_a.h5\tdxchange",
    ]


def test_tiff_stack_folders_are_scans(tmp_path):
    stack = tmp_path / "stacks" / "run_12MPa"
    (stack / "tiffs").mkdir(parents=True)
    (stack / "tiffs" / "p_0000.tif").write_bytes(b"")
    explicit, found = find_raw_scans([tmp_path / "stacks"])
    assert explicit == [] and found == [stack]
    assert pressure_from_name(stack) == 12.0


def test_scan_ids_are_sanitised_and_unique():
    assert scan_id_from_name("a/x y#1.h5", set()) == "x_y_1"
    assert scan_id_from_name("a/x y#1.h5", {"x_y_1", "x_y_1_2"}) == "x_y_1_3"
    assert scan_id_from_name("a/_tables.h5", set()) == "scan_tables"
    assert scan_id_from_name("a/---.h5", set()) == "scan"


def test_custom_pattern():
    assert pressure_from_name("p_012mpa.h5", r"_(\d+)mpa") == 12.0
    with pytest.raises(RawDataError, match="pressure: pressure 0.0 MPa is not a positive"):
        pressure_from_name("p_0MPa.h5")


def test_cli_prints_a_json_summary_and_exits_2_on_a_missing_pressure(beamtime, capsys):
    root, sheet = beamtime
    assert main(["add-scans", "beam", "--sheet", str(sheet)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["added"]) == 2
    _dxchange(root / "more" / "nopressure.h5")
    assert main(["add-scans", "more", "--sheet", str(sheet)]) == 2
    err = capsys.readouterr().err
    assert "nopressure.h5: pressure:" in err and "Traceback" not in err
