import json

from tomopress.cli import main


def test_inspect_tooth_prints_its_header(shared_data, capsys):
    assert main(["inspect", str(shared_data / "tomopy_tooth" / "tooth.h5")]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["format"] == "dxchange"
    assert (facts["n_projections"], facts["n_flats"], facts["n_darks"]) == (181, 10, 10)
    assert facts["detector_shape"] == [2, 640]
    assert facts["angle_min_deg"] == 0.0
    assert abs(facts["angle_max_deg"] - 179.0055) < 1e-3
    assert facts["dtype"] == "float32"


def test_unreadable_input_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a scan")
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "notes.txt" in err and "format" in err
    assert main(["inspect", str(tmp_path / "missing.h5")]) == 2
    assert "missing.h5" in capsys.readouterr().err
