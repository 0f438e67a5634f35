"""`tomopress eis FILE`: JSON with impedance.py's parameter names, exit 2 on a bad file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tomopress.cli import main
from tomopress.synthetic.echem import default_circuit_impedance, noisy

TRUTH = {"R0": 100.0, "R1": 200.0, "CPE1_0": 1 / (200 * (2 * np.pi * 3e4) ** 0.9),
         "CPE1_1": 0.9, "R2": 800.0, "CPE2_0": 1 / (800 * (2 * np.pi * 30) ** 0.85),
         "CPE2_1": 0.85, "Wo1_0": 300.0, "Wo1_1": 10.0}


@pytest.fixture(scope="module")
def spectrum_csv(tmp_path_factory):
    f = np.logspace(np.log10(7e6), -2, 90)
    z = noisy(default_circuit_impedance(f, TRUTH), 0.01, np.random.default_rng(5))
    path = tmp_path_factory.mktemp("eis") / "cell.csv"
    path.write_text("frequency (Hz),Z' (Ohm),-Z'' (Ohm)\n"
                    + "".join(f"{a},{b.real},{-b.imag}\n" for a, b in zip(f, z, strict=True)))
    return path


def test_eis_prints_every_parameter_by_name_and_the_derived_values(spectrum_csv, capsys):
    assert main(["eis", str(spectrum_csv), "--area-cm2", "0.5", "--thickness-um", "600"]) == 0
    out = json.loads(capsys.readouterr().out)
    for name in TRUTH:
        assert name in out and name in out["std"], name
    assert out["R2"] == pytest.approx(800.0, rel=0.02)
    assert out["r_se_ohm"] == pytest.approx(out["R0"] + out["R1"])
    assert out["r_ct_ohm"] == out["R2"]
    assert out["sigma_app_s_per_cm"] == pytest.approx(600e-4 / (out["r_se_ohm"] * 0.5))
    assert out["r_ct_ohm_cm2"] == pytest.approx(out["R2"] * 0.5)
    assert out["kk"]["valid"] is True and out["n_points"] == 90


def test_custom_circuit_reports_r_se_as_r0_and_no_sigma_without_geometry(spectrum_csv, capsys):
    # the same model under other names is another circuit for the roles
    assert main(["eis", str(spectrum_csv), "--circuit", "R0-p(R3,CPE3)-p(R2,CPE2)-Wo2",
                 "--r-ct", "R2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"R0", "R3", "CPE3_0", "Wo2_1", "r_se_ohm", "r_ct_ohm"} <= set(out)
    assert out["R3"] == pytest.approx(200.0, rel=0.02)
    assert out["r_se_ohm"] == out["R0"] and "sigma_app_s_per_cm" not in out
    assert "c_dl_uf" not in out  # no --c-dl for a circuit other than the config's


def test_bad_file_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "scope.csv"
    bad.write_text("time (s),voltage (V)\n0,1\n")
    assert main(["eis", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"tomopress eis: {bad}: header: no frequency, z_real, z_imag")
    assert main(["eis", str(tmp_path / "gone.csv")]) == 2
    assert "gone.csv: file: does not exist" in capsys.readouterr().err
    assert main(["eis", str(bad), "--circuit", "R0-p(R1,X1)"]) == 2
