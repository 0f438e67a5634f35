"""`inspect_raw`: header summaries of the real scans (header-only with `check_pixels=False`),
`inspect_problems`: every header problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from tomopress.errors import RawDataError
from tomopress.intake.inspect import INSPECT_KEYS, inspect_problems, inspect_raw
from tomopress.io import DXchangeScan, NXtomoScan, TiffLayout, TiffStackScan

SHARED_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"

EXPECTED = {
    "tomopy_tooth/tooth.h5": {
        "format": "dxchange", "n_projections": 181, "n_flats": 10, "n_darks": 10,
        "detector_shape": [2, 640], "angle_min_deg": 0.0, "angle_max_deg": 179.0055,
        "dtype": "float32",
    },
    "httomo_k11_diad/k11-18014.nxs": {
        "format": "nxtomo", "n_projections": 3001, "n_flats": 100, "n_darks": 100,
        "detector_shape": [22, 26], "angle_min_deg": 89.995, "angle_max_deg": 269.995,
        "dtype": "uint16",
    },
    "savu_24737_tiff": {
        "format": "tiff", "n_projections": 91, "n_flats": 1, "n_darks": 1,
        "detector_shape": [135, 160], "angle_min_deg": -88.2, "angle_max_deg": 91.7999,
        "dtype": "uint16",
    },
}


@pytest.fixture
def no_pixel_reads(monkeypatch):
    """Fail a test that reads pixel data through a reader."""
    def refuse(*args, **kwargs):
        raise AssertionError("inspect_raw read pixel data")

    for cls in (DXchangeScan, NXtomoScan, TiffStackScan):
        for name in ("read_projections", "read_flats", "read_darks"):
            monkeypatch.setattr(cls, name, refuse)


@pytest.mark.parametrize("check_pixels", [False, True])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_scans(name, check_pixels, request):
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real test data not available: {path} is missing (shared/data absent)")
    if not check_pixels:
        request.getfixturevalue("no_pixel_reads")
    info = inspect_raw(path, tiff_layout=TiffLayout(angle_slice=(10, 101)),
                       check_pixels=check_pixels)
    assert set(info) == set(INSPECT_KEYS)
    assert json.loads(json.dumps(info)) == info  # plain JSON types only
    for key, value in EXPECTED[name].items():
        if isinstance(value, float):
            assert info[key] == pytest.approx(value, abs=1e-3), key
        else:
            assert info[key] == value, key
    assert info["pixel_size_um"] is None
    assert info["path"] == str(path)


def test_synthetic_dxchange_with_pixel_size(tmp_path):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as h5:
        h5["/exchange/data"] = np.full((4, 3, 5), 500, dtype=np.uint16)
        h5["/exchange/data_white"] = np.full((2, 3, 5), 900, dtype=np.uint16)
        h5["/exchange/data_dark"] = np.zeros((1, 3, 5), dtype=np.uint16)
        h5["/exchange/theta"] = np.array([10.0, 55.0, 100.0, 145.0])
        h5["/measurement/instrument/detection_system/objective/resolution"] = 0.5
        h5["/measurement/instrument/detection_system/objective/resolution"].attrs["units"] = "um"
    info = inspect_raw(path, "dxchange")
    assert info == {
        "path": str(path), "format": "dxchange", "n_projections": 4, "n_flats": 2,
        "n_darks": 1, "detector_shape": [3, 5], "angle_min_deg": pytest.approx(10.0),
        "angle_max_deg": pytest.approx(145.0), "dtype": "uint16", "pixel_size_um": 0.5,
    }
    assert type(info["n_projections"]) is int and type(info["angle_min_deg"]) is float


def test_errors_are_raw_data_errors(tmp_path):
    with pytest.raises(RawDataError, match=r"absent\.nxs: file: does not exist"):
        inspect_raw(tmp_path / "absent.nxs")
    bad = tmp_path / "bad.h5"
    bad.write_text("plain text")
    with pytest.raises(RawDataError, match=r"bad\.h5: format: not a recognised raw scan"):
        inspect_raw(bad)


def test_inspect_problems_lists_every_header_problem(tmp_path, no_pixel_reads):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as h5:
        h5["/exchange/data"] = np.zeros((4, 3, 5), dtype=np.uint16)
        h5["/exchange/data_white"] = np.ones((2, 3, 4), dtype=np.uint16)
        h5["/exchange/theta"] = np.array([0.0, 45.0, 45.0, 135.0])
    assert inspect_problems(path) == [
        f"{path}: /exchange/data_white: flat frames are 3 x 4 but projections are 3 x 5",
        f"{path}: /exchange/data_dark: dataset missing (dark fields are required); also "
        "looked for /exchange/data_dark_pre, /exchange/data_dark_post",
        f"{path}: /exchange/theta: angle repeated at projections [1, 2] (45 degrees); angles "
        "must be strictly monotonic",
    ]
    with pytest.raises(RawDataError) as err:
        inspect_raw(path)
    assert len(err.value.problems) == 3 and str(err.value).count("\n") == 2


def test_sound_scan_has_no_problems(tmp_path):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as h5:
        h5["/exchange/data"] = np.full((8, 3, 5), 500, dtype=np.uint16)
        h5["/exchange/data_white"] = np.full((2, 3, 5), 900, dtype=np.uint16)
        h5["/exchange/data_dark"] = np.zeros((1, 3, 5), dtype=np.uint16)
        h5["/exchange/theta"] = np.linspace(0, 360, 8, endpoint=False)  # a full turn
    assert inspect_problems(path, check_pixels=True) == []
