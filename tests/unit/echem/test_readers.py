"""Readers of impedance and cycling files against files of known content, and their errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tomopress.echem.readers import (
    cycling_header_problems,
    eis_header_problems,
    read_cycling,
    read_eis,
    step_capacities,
)
from tomopress.errors import RawDataError

DATA = Path(__file__).parent / "data"
F_HZ = np.logspace(5, -1, 13)
Z_OHM = 10 + 100 / (1 + 1j * 2 * np.pi * F_HZ * 1e-4)


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_csv_with_units_in_kilo_and_minus_zimag_reads_back_in_hz_and_ohm(tmp_path):
    rows = [f"{f / 1e3:.9g},{z.real / 1e3:.9g},{-z.imag / 1e3:.9g}" for f, z in zip(F_HZ, Z_OHM)]
    path = _write(tmp_path / "s.csv", "# cell 7\nfrequency (kHz),Z' (kOhm),-Z'' (kOhm)", rows)
    spectrum = read_eis(path)
    np.testing.assert_allclose(spectrum.frequency_hz, F_HZ, rtol=1e-8)
    np.testing.assert_allclose(spectrum.z_ohm, Z_OHM, rtol=1e-8)
    assert np.all(spectrum.z_ohm.imag < 0)  # capacitive arc: Z'' < 0


def test_ec_lab_style_tsv_with_plain_zimag_column_and_ascending_order(tmp_path):
    order = np.argsort(F_HZ)  # low to high: the reader returns highest first
    rows = [f"{F_HZ[i]}\t{Z_OHM[i].real}\t{Z_OHM[i].imag}" for i in order]
    path = _write(tmp_path / "s.tsv", "freq/Hz\tRe(Z)/Ohm\tIm(Z)/Ohm", rows)
    spectrum = read_eis(path)
    np.testing.assert_allclose(spectrum.frequency_hz, F_HZ)
    np.testing.assert_allclose(spectrum.z_ohm, Z_OHM)


def _minimal_mpr(path: Path, freq: np.ndarray, re_z: np.ndarray, minus_im_z: np.ndarray) -> Path:
    """A BioLogic .mpr holding a settings module and a version-2 data module with the columns
    freq/Hz (id 32), Re(Z)/Ohm (37) and -Im(Z)/Ohm (38), laid out as galvani's parser reads it."""
    def module(short: bytes, version: int, body: bytes) -> bytes:
        header = np.zeros(1, dtype=[("shortname", "S10"), ("longname", "S25"), ("length", "<u4"),
                                    ("version", "<u4"), ("date", "S8")])
        header[0] = (short, b"test module", len(body), version, b"01/02/23")
        return b"MODULE" + header.tobytes() + body

    records = np.zeros(freq.size, dtype=[("f", "<f4"), ("re", "<f4"), ("im", "<f4")])
    records["f"], records["re"], records["im"] = freq, re_z, minus_im_z
    head = (np.uint32(freq.size).tobytes() + np.uint8(3).tobytes()
            + np.array([32, 37, 38], dtype="<u2").tobytes())
    data = head.ljust(405, b"\x00") + records.tobytes()
    magic = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00\x00\x00\x00"
    path.write_bytes(magic + module(b"VMP Set   ", 0, b"\x00" * 64) + module(b"VMP data  ", 2, data))
    return path


def test_biologic_mpr_is_read_through_galvani(tmp_path):
    path = _minimal_mpr(tmp_path / "peis.mpr", F_HZ, Z_OHM.real, -Z_OHM.imag)
    assert eis_header_problems(path) == []
    spectrum = read_eis(path)
    np.testing.assert_allclose(spectrum.frequency_hz, F_HZ, rtol=1e-6)  # stored as float32
    np.testing.assert_allclose(spectrum.z_ohm, Z_OHM, rtol=1e-6)


def test_mpr_that_is_not_biologic_names_the_file(tmp_path):
    path = tmp_path / "notes.mpr"
    path.write_bytes(b"not a modular file at all")
    with pytest.raises(RawDataError, match=r"notes\.mpr: file: not a readable BioLogic \.mpr"):
        read_eis(path)


def test_every_header_problem_at_once_one_line_each(tmp_path):
    path = _write(tmp_path / "bad.csv", "frequency,Z' (Ohms per metre),Z''",
                  [f"{f},2,3" for f in range(1, 13)])
    with pytest.raises(RawDataError) as err:
        read_eis(path)
    lines = err.value.lines()
    assert len(lines) == 3, lines
    assert "frequency ('frequency'): no unit in the header" in lines[0]
    assert "z_real (\"Z' (Ohms per metre)\"): unknown unit 'Ohms per metre'" in lines[1]
    assert "z_imag (\"Z''\"): no unit in the header" in lines[2]
    assert all(line.startswith(str(path)) for line in lines)
    assert [p[1:] for p in eis_header_problems(path)] == [p[1:] for p in err.value.problems]


def test_missing_columns_are_one_line(tmp_path):
    path = _write(tmp_path / "x.csv", "time (s),current (A)", ["1,2"])
    problems = eis_header_problems(path)
    assert problems == [(str(path), "header", "no frequency, z_real, z_imag column(s); expected "
                         "a header like \"frequency (Hz), Z' (Ohm), -Z'' (Ohm)\", found "
                         "['time (s)', 'current (A)']")]


def test_headerless_file_such_as_impedance_py_example_is_refused():
    with pytest.raises(RawDataError, match="first line holds numbers, not column names"):
        read_eis(DATA / "impedance_py_exampleData.csv")


def test_data_problems_name_lines_and_rows(tmp_path):
    rows = [f"{f},{z.real},{-z.imag}" for f, z in zip(F_HZ, Z_OHM)]
    rows[2] = "abc,1,2"
    rows[5] = f"{F_HZ[4]},1,2"  # repeated frequency
    rows[7] = "-5,1,2"
    path = _write(tmp_path / "d.csv", "f (Hz),Z' (Ohm),-Z'' (Ohm)", rows)
    with pytest.raises(RawDataError) as err:
        read_eis(path)
    text = str(err.value)
    assert "1 value(s) are not numbers: line 4: 'abc'" in text  # header is line 1
    assert "value(s) not positive and finite" in text
    assert "frequency value(s) repeated" in text


def test_too_few_points_and_missing_file(tmp_path):
    path = _write(tmp_path / "short.csv", "f (Hz),Z' (Ohm),-Z'' (Ohm)", ["1,2,3", "2,2,3"])
    with pytest.raises(RawDataError, match="2 data point.*at least 10"):
        read_eis(path)
    with pytest.raises(RawDataError, match=r"nowhere\.csv: file: does not exist"):
        read_eis(tmp_path / "nowhere.csv")


CYCLING_HEADER = "cycle,step,capacity (mAh),voltage (mV)"


def _cycling_rows() -> list[str]:
    rows = []
    for cycle, (q_ch, q_dis) in enumerate([(0.30, 0.24), (0.25, 0.235), (0.24, 0.22)], start=1):
        rows += [f"{cycle},charge,{q_ch * x},{3000 + 600 * x}" for x in np.linspace(0, 1, 5)]
        rows += [f"{cycle},rest,0,3600"]
        rows += [f"{cycle},discharge,{q_dis * x},{3600 - 900 * x}" for x in np.linspace(0, 1, 5)]
    return rows


def test_cycling_in_mah_with_mass_gives_mah_per_g(tmp_path):
    path = _write(tmp_path / "c.csv", CYCLING_HEADER, _cycling_rows())
    cycling = read_cycling(path, am_mass_mg=2.0)  # 0.24 mAh / 2 mg = 120 mAh/g
    assert step_capacities(cycling, "discharge") == pytest.approx({1: 120.0, 2: 117.5, 3: 110.0})
    assert step_capacities(cycling, "charge") == pytest.approx({1: 150.0, 2: 125.0, 3: 120.0})
    assert cycling.voltage_v.max() == pytest.approx(3.6)


def test_cycling_counter_running_over_steps_is_split_per_step(tmp_path):
    # one counter over the whole test, negative on discharge (as some cyclers write it)
    rows = ["1,C,0,3.0", "1,C,150,3.6", "1,D,150,3.6", "1,D,10,2.7"]
    path = _write(tmp_path / "c.csv", "Cycle Number;Step Type;Q (mAh/g);Ewe (V)".replace(";", ","),
                  rows)
    cycling = read_cycling(path)
    assert step_capacities(cycling, "discharge") == {1: 140.0}


def test_cycling_problems_all_at_once(tmp_path):
    rows = ["1,charge,0,3.0", "1.5,boost,1,3.5", "1,charge,x,3.6"]
    path = _write(tmp_path / "bad.csv", "cycle,step,capacity (mAh),voltage", rows)
    assert [p[1] for p in cycling_header_problems(path)] == ["capacity ('capacity (mAh)')",
                                                            "voltage ('voltage')"]
    assert cycling_header_problems(path, am_mass_mg=1.0)[0][1] == "voltage ('voltage')"
    with pytest.raises(RawDataError) as err:
        read_cycling(path)
    text = str(err.value)
    for expected in ("needs the active-material mass", "voltage ('voltage'): no unit",
                     "unknown step name(s) ['boost']", "not whole numbers",
                     "1 value(s) are not numbers: line 4: 'x'"):
        assert expected in text, expected
