"""The bad-input matrix: every way a user's input can be wrong ends in a message naming the
file and the field, at dry-run (DAG) time where the check needs only headers.

One test per class. `docs/bad_inputs.md` lists the classes with the messages asserted here.
Tests marked ``workflow`` also run ``snakemake -n`` on a one-row sheet (about 1.5 s each).
"""

from __future__ import annotations

import errno
import os
import re
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile

from tomopress.cli import main as cli_main
from tomopress.errors import ConfigError, OutputWriteError, RawDataError, SampleSheetError
from tomopress.intake.config import load_config
from tomopress.intake.inspect import inspect_problems, inspect_raw
from tomopress.intake.integrity import check_writable
from tomopress.intake.sheet import read_sample_sheet
from tomopress.io import open_scan
from tomopress.io.atomic import write_json_atomic

sys.path.insert(0, str(Path(__file__).parent / "workflow"))
from snakemake_runner import PROJECT_ROOT, run_snakemake  # noqa: E402

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
HEADER = "scan_id\tsample\tpressure_mpa\traw\tformat\n"
SHAPE = (6, 10)  # detector rows, columns
N_PROJ = 8


# ---- helpers ---------------------------------------------------------------------------------


def write_scan(
    path: Path,
    *,
    n_proj: int = N_PROJ,
    theta_deg: np.ndarray | None = None,
    flats: tuple[int, int, int] | None = (3, *SHAPE),
    darks: tuple[int, int, int] | None = (2, *SHAPE),
    data: bool = True,
    dtype: type = np.uint16,
    flat_level: float = 30000.0,
    dark_level: float = 100.0,
) -> Path:
    """A small, sound DXchange scan (projections ~20000, flats ~30000, darks ~100, 0-180 deg)."""
    rng = np.random.default_rng(16602)
    with h5py.File(path, "w") as h5:
        if data:
            h5["/exchange/data"] = rng.normal(20000, 50, (n_proj, *SHAPE)).astype(dtype)
        if flats is not None:
            h5["/exchange/data_white"] = rng.normal(flat_level, 50, flats).astype(dtype)
        if darks is not None:
            h5["/exchange/data_dark"] = rng.normal(dark_level, 5, darks).astype(dtype)
        theta = np.linspace(0, 180, n_proj, endpoint=False) if theta_deg is None else theta_deg
        h5["/exchange/theta"] = np.asarray(theta, dtype=np.float64)
        h5["/exchange/theta"].attrs["units"] = "degrees"
    return path


def set_pixels(path: Path, dataset: str, index: tuple, value: float) -> None:
    with h5py.File(path, "r+") as h5:
        block = h5[dataset][()]
        block[index] = value
        h5[dataset][...] = block


def sheet(tmp_path: Path, rows: list[str], name: str = "samples.tsv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def dry_run_output(tmp_path: Path, raw: Path | str, fmt: str = "dxchange") -> str:
    """``snakemake -n`` on a one-row sheet; asserts it fails and returns stdout + stderr."""
    samples = sheet(tmp_path, [f"s1\tcell\t6\t{raw}\t{fmt}"], "dag.tsv")
    result = run_snakemake(tmp_path, "-n", config={"samples": str(samples)}, check=False)
    assert result.returncode != 0, result.stdout[-2000:]
    return result.stdout + result.stderr


def raw_error(path: Path, fmt: str = "auto", **options: object) -> str:
    with pytest.raises(RawDataError) as err:
        inspect_raw(path, fmt, **options)  # type: ignore[arg-type]
    return str(err.value)


def assert_names(message: str, path: Path | str, field: str, problem: str) -> None:
    """`message` has a line ``<path>: <field>: ...<problem>...``."""
    pattern = rf"{re.escape(str(path))}: {re.escape(field)}: .*{problem}"
    assert re.search(pattern, message), f"no line matching {pattern!r} in:\n{message}"


# ---- raw files: header-level, detected at DAG time -----------------------------------------


@pytest.mark.workflow
def test_raw_path_missing(tmp_path):
    missing = tmp_path / "nowhere.h5"
    assert_names(raw_error(missing), missing, "file", "does not exist")
    out = dry_run_output(tmp_path, missing)
    assert "dag.tsv: rows:" in out and f"line 2: raw: file not found: {missing}" in out


@pytest.mark.workflow
def test_not_hdf5_or_tiff(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("beamtime notes, not a scan\n")
    assert_names(raw_error(path), path, "format", "not a recognised raw scan: neither an HDF5")
    assert_names(raw_error(path, "dxchange"), path, "file", "not an HDF5 file")
    assert_names(dry_run_output(tmp_path, path, "auto"), path, "format", "not a recognised")


@pytest.mark.workflow
def test_hdf5_without_projection_dataset(tmp_path):
    path = write_scan(tmp_path / "s.h5", data=False)
    assert_names(raw_error(path, "dxchange"), path, "/exchange/data",
                 r"dataset missing \(projections are required\)")
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/data", "dataset missing")


@pytest.mark.workflow
def test_flats_missing_are_refused(tmp_path):
    path = write_scan(tmp_path / "s.h5", flats=None)
    message = raw_error(path)
    assert_names(message, path, "/exchange/data_white",
                 r"dataset missing \(flat fields are required\)")
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/data_white", "dataset missing")


@pytest.mark.workflow
def test_darks_missing_are_refused(tmp_path):
    path = write_scan(tmp_path / "s.h5", darks=None)
    assert_names(raw_error(path), path, "/exchange/data_dark",
                 r"dataset missing \(dark fields are required\)")
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/data_dark", "dataset missing")


@pytest.mark.workflow
def test_flats_of_the_wrong_shape(tmp_path):
    path = write_scan(tmp_path / "s.h5", flats=(3, SHAPE[0], SHAPE[1] - 2))
    problem = r"flat frames are 6 x 8 but projections are 6 x 10"
    assert_names(raw_error(path), path, "/exchange/data_white", problem)
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/data_white", problem)


def test_darks_of_the_wrong_shape_tiff(tmp_path):
    write_tiff_stack(tmp_path, n_proj=4)
    tifffile.imwrite(tmp_path / "dark.tif", np.full((5, 5), 100, np.uint16))
    assert_names(raw_error(tmp_path, "tiff"), tmp_path, "dark*.tif*",
                 "dark frames are 5 x 5 but projections are 6 x 10")


@pytest.mark.workflow
def test_angle_count_not_matching_projections(tmp_path):
    path = write_scan(tmp_path / "s.h5", theta_deg=np.linspace(0, 180, 5, endpoint=False))
    problem = "5 angles for 8 projections in /exchange/data"
    assert_names(raw_error(path), path, "/exchange/theta", problem)
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/theta", problem)


@pytest.mark.workflow
def test_angles_non_monotonic(tmp_path):
    theta = np.linspace(0, 180, N_PROJ, endpoint=False)
    theta[[3, 4]] = theta[[4, 3]]
    path = write_scan(tmp_path / "s.h5", theta_deg=theta)
    problem = "angles not monotonic: projection 4 goes back from 90 to 67.5 degrees"
    assert_names(raw_error(path), path, "/exchange/theta", problem)
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/theta", problem)


@pytest.mark.workflow
def test_angles_duplicated(tmp_path):
    theta = np.linspace(0, 180, N_PROJ, endpoint=False)
    theta[5] = theta[4]
    path = write_scan(tmp_path / "s.h5", theta_deg=theta)
    problem = r"angle repeated at projections \[4, 5\] \(90 degrees\)"
    assert_names(raw_error(path), path, "/exchange/theta", problem)
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/theta", problem)


@pytest.mark.workflow
def test_angle_range_neither_half_nor_full_turn(tmp_path):
    path = write_scan(tmp_path / "s.h5", theta_deg=np.linspace(0, 90, N_PROJ, endpoint=False))
    problem = (r"angles cover 90 degrees \(0 to 78.75 in 8 steps of 11.25\); expected about "
               r"180 \(half turn\) or 360 \(full turn\)")
    assert_names(raw_error(path), path, "/exchange/theta", problem)
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/theta", problem)


def test_full_turn_is_accepted_and_reconstructs_like_a_half_turn(tmp_path):
    """360-degree scans are accepted: the centre finder uses the first half turn and the
    reconstruction weights angles modulo pi, so a full turn gives the half-turn image."""
    from tomopress.recon.reconstruct import reconstruct_slices
    from tomopress.synthetic.forward import radon_parallel

    path = write_scan(tmp_path / "full.h5", n_proj=16,
                      theta_deg=np.linspace(0, 360, 16, endpoint=False))
    assert inspect_problems(path) == []
    n = 48
    y, x = np.mgrid[:n, :n] - (n - 1) / 2
    image = (0.05 * ((x - 6) ** 2 + (y + 4) ** 2 < 81) + 0.1 * ((x + 8) ** 2 + y**2 < 25))
    center = (n - 1) / 2 + 2.3
    recon = []
    for turn, n_angles in ((np.pi, 120), (2 * np.pi, 240)):
        theta = np.linspace(0, turn, n_angles, endpoint=False)
        sino = radon_parallel(image[None].astype(np.float32), theta, center_px=center, n_det=n)
        recon.append(reconstruct_slices(sino.reshape(n_angles, 1, n), theta, center_px=center,
                                        pixel_size_um=1.0, backend="gridding")[0])
    half, full = recon
    assert np.linalg.norm(full - half) / np.linalg.norm(half) < 0.1


def test_angle_unit_cannot_be_decided(tmp_path):
    path = write_scan(tmp_path / "s.h5")
    with h5py.File(path, "r+") as h5:
        h5["/exchange/theta"].attrs["units"] = "grad"
    assert_names(raw_error(path), path, "/exchange/theta", "cannot decide the angle unit 'grad'")


@pytest.mark.workflow
def test_truncated_file(tmp_path):
    path = write_scan(tmp_path / "s.h5")
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size // 3)
    message = raw_error(path)
    assert str(path) in message and ("truncated" in message or "not a recognised" in message)
    out = dry_run_output(tmp_path, path)
    assert str(path) in out and ("truncated" in out or "not a recognised" in out)


def write_tiff_stack(folder: Path, n_proj: int = 8) -> Path:
    """A small, sound TIFF stack: one file per projection, a flat, a dark, angles.txt."""
    (folder / "tiffs").mkdir(parents=True)
    for i in range(n_proj):
        tifffile.imwrite(folder / "tiffs" / f"p_{i}.tif", np.full(SHAPE, 20000, np.uint16))
    tifffile.imwrite(folder / "flat.tif", np.full(SHAPE, 30000, np.uint16))
    tifffile.imwrite(folder / "dark.tif", np.full(SHAPE, 100, np.uint16))
    np.savetxt(folder / "angles.txt", np.linspace(0, 180, n_proj, endpoint=False))
    return folder


def test_truncated_pixel_data_is_found_by_the_pixel_sample(tmp_path):
    """HDF5 records its length, so a cut HDF5 file fails at open (DAG time, test above); a TIFF
    cut inside its pixels passes the header check and is caught by the inspect job."""
    folder = write_tiff_stack(tmp_path / "stack")
    cut = folder / "tiffs" / "p_3.tif"
    with open(cut, "r+b") as fh:
        fh.truncate(cut.stat().st_size - 40)
    assert inspect_problems(folder) == []  # first and last headers are sound
    assert_names(raw_error(folder), cut, "page 0", "file truncated")


def test_every_header_problem_is_reported_at_once_by_the_cli(tmp_path, capsys):
    path = write_scan(tmp_path / "s.h5", flats=(3, 6, 9), darks=None,
                      theta_deg=np.linspace(0, 180, 5, endpoint=False))
    lines = inspect_problems(path)
    assert lines == [
        f"{path}: /exchange/data_white: flat frames are 6 x 9 but projections are 6 x 10",
        f"{path}: /exchange/data_dark: dataset missing (dark fields are required); also "
        "looked for /exchange/data_dark_pre, /exchange/data_dark_post",
        f"{path}: /exchange/theta: 5 angles for 8 projections in /exchange/data",
    ]
    assert cli_main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    for line in lines:
        assert line in err


# ---- raw files: pixel-level, found by the inspect job's pixel sample (job time) --------------


def test_nan_or_inf_pixels(tmp_path):
    path = write_scan(tmp_path / "s.h5", dtype=np.float32)
    set_pixels(path, "/exchange/data", (2, 1, 3), np.nan)
    set_pixels(path, "/exchange/data", (5, 0, 0), np.inf)
    assert inspect_problems(path) == []  # header-only: nothing to see
    assert_names(raw_error(path), path, "/exchange/data",
                 r"projections \[2, 5\] have NaN or infinite pixels \(all 8 frames checked\)")


def test_all_zero_projection(tmp_path):
    path = write_scan(tmp_path / "s.h5")
    set_pixels(path, "/exchange/data", (4,), 0)
    assert_names(raw_error(path), path, "/exchange/data",
                 r"projections \[4\] are all zero: beam off or detector dropout\?")


def test_saturated_frames(tmp_path):
    path = write_scan(tmp_path / "s.h5")
    set_pixels(path, "/exchange/data", (6, slice(0, 3)), 65535)  # half the frame
    assert_names(raw_error(path), path, "/exchange/data",
                 r"projections \[6\] are saturated: up to 50 % of their pixels at 65535, the "
                 r"uint16 maximum")


def test_flats_not_above_darks(tmp_path):
    path = write_scan(tmp_path / "s.h5", flat_level=100.0, dark_level=30000.0)  # swapped
    assert_names(raw_error(path), path, "/exchange/data_white",
                 r"flats are not above darks \(/exchange/data_dark\): mean flat .*flats and "
                 r"darks swapped\?")


def test_pixel_sample_stays_small(tmp_path, monkeypatch):
    """At most 16 projection frames are read, whatever the scan length."""
    path = write_scan(tmp_path / "s.h5", n_proj=400)
    from tomopress.io.dxchange import DXchangeScan

    seen = []
    original = DXchangeScan.read_projections

    def spy(self, rows, angles=slice(None)):
        out = original(self, rows, angles)
        seen.append(out.shape[0])
        return out

    monkeypatch.setattr(DXchangeScan, "read_projections", spy)
    inspect_raw(path)
    assert seen == [16]


# ---- the sample sheet (DAG time) -------------------------------------------------------------


@pytest.mark.workflow
def test_duplicate_scan_ids(tmp_path):
    raw = write_scan(tmp_path / "s.h5")
    path = sheet(tmp_path, [f"a\tcell\t6\t{raw}\tdxchange", f"a\tcell\t12\t{raw}\tdxchange"])
    with pytest.raises(SampleSheetError, match=r"samples\.tsv: rows: .*\n.*scan_id: duplicate "
                                               r"id 'a' on lines \[2, 3\]"):
        read_sample_sheet(path)
    out = run_snakemake(tmp_path, "-n", config={"samples": str(path)}, check=False)
    assert out.returncode != 0 and "duplicate id 'a' on lines [2, 3]" in out.stderr + out.stdout


@pytest.mark.workflow
def test_non_numeric_pressure(tmp_path):
    raw = write_scan(tmp_path / "s.h5")
    path = sheet(tmp_path, [f"a\tcell\tsix\t{raw}\tdxchange"])
    problem = "line 2: pressure_mpa: expected a number, got 'six'"
    with pytest.raises(SampleSheetError, match=re.escape(problem)):
        read_sample_sheet(path)
    out = run_snakemake(tmp_path, "-n", config={"samples": str(path)}, check=False)
    assert out.returncode != 0 and problem in out.stderr + out.stdout


def test_negative_pressure(tmp_path):
    raw = write_scan(tmp_path / "s.h5")
    path = sheet(tmp_path, [f"a\tcell\t-3\t{raw}\tdxchange"])
    with pytest.raises(SampleSheetError,
                       match=r"samples\.tsv: rows: .*\n.*line 2: pressure_mpa: -3\.0 is less "
                             r"than or equal to the minimum of 0"):
        read_sample_sheet(path)


@pytest.mark.workflow
def test_unknown_format(tmp_path):
    raw = write_scan(tmp_path / "s.h5")
    path = sheet(tmp_path, [f"a\tcell\t6\t{raw}\tjpeg"])
    with pytest.raises(SampleSheetError, match=r"line 2: format: 'jpeg' is not one of"):
        read_sample_sheet(path)
    assert_names(raw_error(raw, "jpeg"), raw, "format",
                 "unknown format 'jpeg'; expected auto, dxchange, nxtomo, tiff")
    out = run_snakemake(tmp_path, "-n", config={"samples": str(path)}, check=False)
    assert out.returncode != 0
    assert "line 2: format: 'jpeg' is not one of" in out.stdout + out.stderr


@pytest.mark.workflow
def test_scan_id_cannot_leave_results(tmp_path):
    raw = write_scan(tmp_path / "s.h5")
    path = sheet(tmp_path, [f"../evil\tcell\t6\t{raw}\tdxchange", f"/abs\tcell\t6\t{raw}\tdxchange",
                            f"logs\tcell\t6\t{raw}\tdxchange"])
    with pytest.raises(SampleSheetError) as err:
        read_sample_sheet(path)
    message = str(err.value)
    assert "line 2: scan_id: '../evil' does not match" in message
    assert "line 3: scan_id: '/abs' does not match" in message
    assert "line 4: scan_id: 'logs' is reserved" in message
    out = run_snakemake(tmp_path, "-n", config={"samples": str(path)}, check=False)
    assert out.returncode != 0 and "'../evil' does not match" in out.stderr + out.stdout
    assert not (tmp_path / "evil").exists() and not (tmp_path / "results").exists()


@pytest.mark.workflow
def test_recon_rows_outside_the_detector(tmp_path):
    raw = write_scan(tmp_path / "s.h5")
    path = tmp_path / "rows.tsv"
    path.write_text(HEADER.rstrip("\n") + "\trecon_rows\n" + f"a\tcell\t6\t{raw}\tdxchange\t2:40\n")
    out = run_snakemake(tmp_path, "-n", config={"samples": str(path)}, check=False)
    assert out.returncode != 0
    assert f"{raw}: recon_rows: 2:40 exceeds the detector's 6 rows (scan a)" in (out.stdout
                                                                                + out.stderr)


# ---- configuration ---------------------------------------------------------------------------


@pytest.mark.workflow
def test_config_cannot_execute_code(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f'samples: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(ConfigError, match=r"bad\.yaml: file: not valid YAML: could not "
                                          r"determine a constructor for the tag"):
        load_config(bad)
    assert cli_main(["inspect", "--config", str(bad), str(tmp_path / "x.h5")]) == 2
    result = run_snakemake(tmp_path, "-n", "--configfile", str(bad), check=False)
    assert result.returncode != 0
    assert "not valid JSON or YAML" in result.stdout + result.stderr
    assert not marker.exists()


# ---- HDF5 external links ---------------------------------------------------------------------


def _linked_scan(folder: Path, target: Path) -> Path:
    """A DXchange scan in `folder` whose /exchange/data is an external link into `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(target, "w") as h5:
        h5["frames"] = np.full((N_PROJ, *SHAPE), 20000, np.uint16)
    path = write_scan(folder / "linked.h5", data=False)
    with h5py.File(path, "r+") as h5:
        h5["/exchange/data"] = h5py.ExternalLink(os.path.relpath(target, folder), "/frames")
    return path


@pytest.mark.workflow
def test_external_link_outside_the_scan_folder_is_refused(tmp_path):
    folder = tmp_path / "beamtime"
    folder.mkdir()
    outside = tmp_path / "elsewhere" / "frames.h5"
    path = _linked_scan(folder, outside)
    message = raw_error(path, "dxchange")
    assert_names(message, path, "/exchange/data",
                 rf"external link to '../elsewhere/frames.h5' \(resolves to "
                 rf"{re.escape(str(outside))}\) points outside the scan's folder")
    assert "allow_external_links_outside=True" in message
    assert_names(raw_error(path), path, "/exchange/data", "points outside")  # auto-detect too
    with open_scan(path, allow_external_links_outside=True) as scan:
        assert scan.read_projections(slice(0, 1)).shape == (N_PROJ, 1, SHAPE[1])
    assert_names(dry_run_output(tmp_path, path), path, "/exchange/data", "points outside")


def test_external_link_into_a_subfolder_is_followed(tmp_path):
    path = _linked_scan(tmp_path, tmp_path / "linked" / "frames.h5")
    assert inspect_problems(path) == []


def test_diad_links_into_its_own_subfolder_stay_allowed():
    diad = SHARED_DATA / "httomo_k11_diad" / "k11-18014.nxs"
    if not diad.exists():
        pytest.skip(f"real test data not available: {diad} is missing")
    assert inspect_problems(diad) == []


# ---- outputs ---------------------------------------------------------------------------------


def test_results_folder_not_writable(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("a file where the results folder should be")
    with pytest.raises(OutputWriteError, match=re.escape(f"{blocker / 'tables'}: folder: results "
                                                         "folder is not writable")):
        check_writable(blocker / "tables")
    with pytest.raises(OutputWriteError, match=re.escape(f"{blocker / 'x.json'}: folder: cannot "
                                                         "create the output's folder")):
        write_json_atomic(blocker / "x.json", {})
    if os.geteuid() != 0:  # root writes through permission bits
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        with pytest.raises(OutputWriteError, match="Permission denied"):
            check_writable(locked)


def test_disk_full_during_a_write_leaves_no_file(tmp_path, monkeypatch):
    out = tmp_path / "results" / "s1" / "center.json"

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OutputWriteError) as err:
        write_json_atomic(out, {"center": 1.0})
    assert str(err.value) == (f"{out}: write: No space left on device (errno 28); the partial "
                              "file was removed and nothing was written")
    assert isinstance(err.value, OSError) and err.value.errno == errno.ENOSPC
    assert list(out.parent.iterdir()) == []


def test_no_shell_true_in_the_code():
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{n}"
        for folder in ("src", "scripts", "workflow")
        for path in (PROJECT_ROOT / folder).rglob("*")
        if path.suffix in (".py", ".smk") and path.is_file()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"shell\s*=\s*True", line)
    ]
    assert offenders == []


# ---- electrochemistry files (issue 15): headers checked at DAG time --------------------------


@pytest.mark.workflow
def test_bad_spectrum_and_cycling_headers_fail_the_dry_run_with_a_bad_raw_scan(tmp_path):
    good = write_scan(tmp_path / "good.h5")
    bad_raw = tmp_path / "notes.h5"
    bad_raw.write_text("not a scan")
    eis = tmp_path / "cell.csv"
    eis.write_text("frequency (Hz),Z' (Ohm),Z''\n1e5,10,-1\n")
    cyc = tmp_path / "cyc.csv"
    cyc.write_text("cycle,step,capacity (mAh),voltage (V)\n1,discharge,0.1,3.0\n")
    path = tmp_path / "echem.tsv"
    path.write_text(HEADER.rstrip("\n") + "\teis\tcycling\n"
                    + f"a\tcell\t6\t{good}\tdxchange\t{eis}\t{cyc}\n"
                    + f"b\tcell\t9\t{bad_raw}\tauto\t\t{tmp_path / 'nowhere.csv'}\n")
    out = run_snakemake(tmp_path, "-n", config={"samples": str(path)}, check=False)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "line 3: cycling: file not found" in text  # the sheet check comes first
    path.write_text(HEADER.rstrip("\n") + "\teis\tcycling\n"
                    + f"a\tcell\t6\t{good}\tdxchange\t{eis}\t{cyc}\n"
                    + f"b\tcell\t9\t{bad_raw}\tauto\t\t\n")
    out = run_snakemake(tmp_path, "-n", config={"samples": str(path)}, check=False)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert_names(text, bad_raw, "format", "not a recognised raw scan")  # reported together
    assert_names(text, eis, "z_imag (\"Z''\")", "no unit in the header")
    assert_names(text, cyc, "capacity ('capacity (mAh)')", "needs the active-material mass")
