"""`validate_run` / `tomopress validate`: every problem of config, sheet, raw headers and crop
ranges at once, one line each naming file and field, without reading pixel data."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from tomopress.cli import main
from tomopress.intake.validate import range_problems, validate_run
from tomopress.io import DXchangeScan

HEADER = "scan_id\tsample\tpressure_mpa\traw\tformat\tpixel_size_um\tcomposite_rows\troi_xy\n"


def _dxchange(path: Path, *, n_rows: int = 16, n_cols: int = 20, with_flats: bool = True) -> Path:
    with h5py.File(path, "w") as h5:
        h5["/exchange/data"] = np.full((12, n_rows, n_cols), 100, dtype=np.uint16)
        if with_flats:
            h5["/exchange/data_white"] = np.full((2, n_rows, n_cols), 400, dtype=np.uint16)
        h5["/exchange/data_dark"] = np.full((2, n_rows, n_cols), 10, dtype=np.uint16)
        h5["/exchange/theta"] = np.linspace(0, 180, 12, endpoint=False)
    return path


@pytest.fixture
def no_pixel_reads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("validate read pixel data")

    for name in ("read_projections", "read_flats", "read_darks"):
        monkeypatch.setattr(DXchangeScan, name, refuse)


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _dxchange(tmp_path / "good.h5")
    _dxchange(tmp_path / "noflats.h5", with_flats=False)
    return tmp_path


def _config(path: Path, sheet: Path, extra: str = "") -> Path:
    path.write_text(f"samples: {sheet}\nresults: results\n{extra}")
    return path


def test_sound_run_has_no_problems(run_dir, no_pixel_reads):
    sheet = run_dir / "s.tsv"
    sheet.write_text(HEADER + "a\tcell\t6\tgood.h5\tdxchange\t0.5\t2:10\t0:16,2:18\n")
    problems, summary = validate_run(_config(run_dir / "c.yaml", sheet))
    assert problems == []
    assert summary["n_raw_headers_read"] == 1


def test_every_problem_is_reported_at_once(run_dir, no_pixel_reads):
    sheet = run_dir / "s.tsv"
    sheet.write_text(
        HEADER
        + "a\tcell\t6\tgood.h5\tdxchange\t0.5\t2:40\t0:16,0:30\n"  # rows and roi too big
        + "b\tcell\t12\tnoflats.h5\tdxchange\t0.5\t\t\n"  # flats missing in the header
        + "c\tcell\t-1\tmissing.h5\tdxchange\t\t\t\n"  # bad pressure, missing file
        + "d\tcell\t25\tgood.h5\tdxchange\t\t\t\n"  # no pixel size anywhere
    )
    config = _config(run_dir / "c.yaml", sheet, "slab_rows: 0\n")
    problems, _ = validate_run(config)
    text = "\n".join(problems)
    assert any(p.startswith(f"{config}: slab_rows") for p in problems), text
    assert f"{sheet}: line 4: pressure_mpa" in text
    assert f"{sheet}: line 4: raw: file not found: missing.h5" in text
    assert "noflats.h5: /exchange/data_white" in text
    assert f"{sheet} line 2: composite_rows: 2:40 exceeds the detector rows 0:16" in text
    assert f"{sheet} line 2: roi_xy: 0:16,0:30 exceeds the reconstructed slice 0:20,0:20" in text
    assert f"{sheet} line 5: pixel_size_um: good.h5 records no pixel size" in text
    assert all(p.count(": ") >= 2 for p in problems)  # file: field: problem


def test_synthetic_rows_use_the_simulator_shape(run_dir):
    sheet = run_dir / "s.tsv"
    sheet.write_text(HEADER + "a\tcell\t6\tresults/synthetic/a.h5\tdxchange\t\t60:80\t\n")
    problems, summary = validate_run(_config(run_dir / "c.yaml", sheet))
    assert summary["n_raw_headers_read"] == 0
    assert problems == [f"{sheet} line 2: composite_rows: 60:80 exceeds the detector rows 0:72"]


def test_layers_must_lie_in_recon_rows():
    row = {"recon_rows": "10:30", "separator_rows": "5:20"}
    assert range_problems(row, n_rows=64, n_cols=64, where="w") == [
        "w: separator_rows: 5:20 lies outside recon_rows 10:30"]


def test_cli_exit_status_and_lines(run_dir, capsys, no_pixel_reads):
    sheet = run_dir / "s.tsv"
    sheet.write_text(HEADER + "a\tcell\t6\tgood.h5\tdxchange\t0.5\t\t\n")
    config = _config(run_dir / "c.yaml", sheet)
    assert main(["validate", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    bad = run_dir / "bad.tsv"
    bad.write_text(HEADER + "a\tcell\t6\tnoflats.h5\tdxchange\t0.5\t\t\n"
                   + "b\tcell\t9\tgood.h5\tdxchange\t0.5\t0:99\t\n")
    assert main(["validate", "--config", str(config), "--samples", str(bad)]) == 2
    out = capsys.readouterr()
    assert json.loads(out.out)["n_problems"] == len(out.err.strip().splitlines()) == 2
