import json
import pytest

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


def test_simulate_writes_a_scan_that_inspect_reads_back(tmp_path, capsys):
    out = tmp_path / "tiny.h5"
    assert main(["simulate", str(out), "--pressure-mpa", "25", "--rows", "24", "--cols", "64",
                 "--angles", "48", "--set", "separator_rows=8", "--set", "roi_size_px=32",
                 "--set", "cylinder_diameter_frac=0.8"]) == 0
    truth = json.loads(capsys.readouterr().out)
    assert truth["pressure_mpa"] == 25.0 and (tmp_path / "tiny.truth.json").exists()
    assert main(["inspect", str(out)]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["detector_shape"] == [24, 64] and facts["n_projections"] == 48
    assert facts["dtype"] == "uint16" and facts["pixel_size_um"] == truth["voxel_size_um"]


def test_simulate_rejects_unknown_parameter(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "x.h5"), "--pressure-mpa", "6", "--set", "colour=3"]) == 2
    assert "unknown parameter 'colour'" in capsys.readouterr().err


def test_center_of_tooth_prints_centre_confidence_method_rows(shared_data, capsys, tmp_path):
    qc = tmp_path / "qc.png"
    assert main(["center", str(shared_data / "tomopy_tooth" / "tooth.h5"),
                 "--qc-png", str(qc)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"center", "confidence", "method", "rows"} <= set(result)
    assert abs(result["center"] - 295.89) < 1.0  # tomopy's tutorial value, see test_center.py
    assert result["confidence"] > 0.9 and result["method"] == "vo"
    assert result["rows"] == [0, 2] and qc.exists()
    assert main(["center", str(shared_data / "tomopy_tooth" / "tooth.h5"), "--rows", "1:2",
                 "--method", "com"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["method"] == "com" and result["rows"] == [1, 2]


def test_center_of_bad_input_exits_2_with_one_line(shared_data, tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a scan")
    assert main(["center", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "notes.txt" in err
    tooth = str(shared_data / "tomopy_tooth" / "tooth.h5")
    assert main(["center", tooth, "--rows", "1-2"]) == 2
    assert "expected START:STOP" in capsys.readouterr().err
    assert main(["center", tooth, "--rows", "0:9"]) == 2
    assert "outside the detector's 2 rows" in capsys.readouterr().err


def test_metrics_of_the_real_taufactor_electrode(shared_data, capsys):
    """Pore 0, NMC 85, CBD 170 (README): fractions equal the voxel counts; CBD left out."""
    import numpy as np
    import tifffile

    path = shared_data / "taufactor_electrode" / "electrode.tiff"
    assert main(["metrics", str(path), "--labels", "void=0,am=85,outside=170",
                 "--voxel-size", "0.390625", "--only", "fractions,contact"]) == 0
    record = json.loads(capsys.readouterr().out)
    volume = tifffile.imread(path)
    counted = np.count_nonzero(volume != 170)
    assert record["porosity"] == pytest.approx(np.count_nonzero(volume == 0) / counted)
    assert record["region_volume_um3"] == pytest.approx(counted * 0.390625**3)
    assert record["contact_area_fraction"] is None  # no SE declared
    assert record["contact_null_reason"] == "no se phase"


def test_metrics_rejects_an_unmapped_label(shared_data, capsys):
    path = shared_data / "taufactor_electrode" / "electrode.tiff"
    assert main(["metrics", str(path), "--labels", "void=0,am=85"]) == 2
    assert "[170] not mapped" in capsys.readouterr().err


def test_metrics_diffusion_convention_and_budget(tmp_path, capsys):
    """Straight SE channels (1/4 of the columns) and dead-end stubs from the inlet (1/4 of the
    columns, half the height): D_eff = 1/4 in every convention; τ_f = 1 over the through SE
    (porespy) or 1.5 over all SE (tomopress, taufactor). A budget below the SE voxels samples
    tiles; a bad budget exits 2 naming it."""
    import numpy as np
    import tifffile

    vol = np.full((12, 32, 32), 2, dtype=np.uint8)  # AM
    vol[:, ::2, ::2] = 1  # through channels
    vol[:6, 1::2, 1::2] = 1  # dead ends
    path = tmp_path / "channels.tif"
    tifffile.imwrite(path, vol)
    args = ["metrics", str(path), "--labels", "se=1,am=2", "--only", "diffusion"]
    for convention, boundary, tau in (("tomopress", "layers", 1.5), ("porespy", "layers", 1.0),
                                      ("taufactor", "faces", 1.5)):  # fmt: skip
        assert main([*args, "--tau-convention", convention]) == 0
        record = json.loads(capsys.readouterr().out)
        assert record["diffusion_method"] == "whole" and record["tau_factor_boundary"] == boundary
        assert record["d_eff_rel"] == pytest.approx(0.25, rel=1e-9)
        assert record["tau_factor"] == pytest.approx(tau, rel=1e-9)
    assert main([*args, "--diffusion-max-unknowns", "1000"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["diffusion_method"] == "tiles_periodic" and record["n_diffusion_tiles"] >= 4
    assert record["tau_factor"] == pytest.approx(1.5, rel=1e-9)
    assert main([*args, "--diffusion-max-unknowns", "0"]) == 2
    assert "max_unknowns" in capsys.readouterr().err
