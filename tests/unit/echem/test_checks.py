"""DAG-time checks of the sheet's electrochemistry columns and of the config's echem block."""

from __future__ import annotations

import pytest

from tomopress.echem.checks import echem_config_problems, echem_problems, scan_of_file
from tomopress.intake.config import validate_config
from tomopress.intake.validate import validate_run


def test_header_problems_of_sheet_files(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1,2,3\n")
    cyc = tmp_path / "cyc.csv"
    cyc.write_text("cycle,step,capacity (mAh),voltage (V)\n")
    synthetic = tmp_path / "synthetic"
    rows = [{"scan_id": "a", "eis": str(good), "cycling": str(cyc), "am_mass_mg": 2.0},
            {"scan_id": "b", "eis": str(synthetic / "b.csv"), "cycling": str(cyc)},
            {"scan_id": "c", "eis": str(tmp_path / "missing.csv")}]
    problems = echem_problems(rows, synthetic_dir=synthetic)
    assert [(p, f) for p, f, _ in problems] == [
        (str(synthetic / "b.csv"), "eis"),  # a synthetic file must be named <name>.eis.csv
        (str(cyc), "capacity ('capacity (mAh)')"),  # mAh and no am_mass_mg on row b
    ]
    assert scan_of_file(rows, [str(cyc)]) == "a"
    with pytest.raises(ValueError, match="no sample-sheet row"):
        scan_of_file(rows, ["x.csv"])


def test_config_roles_must_name_circuit_elements():
    echem = validate_config({})["echem"]
    assert echem_config_problems(echem) == []
    bad = {**echem, "circuit": "R0-p(R1,CPE1)", "initial_guess": [1.0, 2.0]}
    problems = echem_config_problems(bad)
    assert "echem.r_ct_element: 'R2' is not an element of R0-p(R1,CPE1)" in problems[0]
    assert problems[-1].startswith("echem.initial_guess: 2 value(s) for the 4 parameters")
    assert echem_config_problems({**echem, "circuit": "R0-q(R1)"}) == [
        "echem.circuit: element 'q' needs a number (e.g. R0, CPE1)"]


def test_validate_reports_echem_files_with_the_sheet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    eis = tmp_path / "e.csv"
    eis.write_text("f (Hz),Z' (furlong),-Z'' (Ohm)\n")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("scan_id\tsample\tpressure_mpa\traw\tformat\teis\tcell_area_cm2\n"
                     f"a\tcell\t6\tresults/synthetic/a.h5\tdxchange\t{eis}\t0.01\n"
                     f"b\tcell\t9\tresults/synthetic/b.h5\tdxchange\tnone.csv\t-1\n")
    problems, _ = validate_run(None, sheet)
    text = "\n".join(problems)
    assert "line 3: eis: file not found: none.csv" in text
    assert "line 3: cell_area_cm2: -1.0 is less than or equal to the minimum of 0" in text
    assert f"{eis}: z_real (\"Z' (furlong)\"): unknown unit 'furlong'" in text
