"""DXchange reader: the real tooth scan and synthetic files for every error path."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pytest

from tomopress.errors import RawDataError
from tomopress.io import DXchangeScan, open_scan


def test_tooth_header(tooth_path):
    with open_scan(tooth_path) as scan:
        assert isinstance(scan, DXchangeScan)
        assert scan.format == "dxchange"
        assert scan.n_projections == 181
        assert (scan.n_flats, scan.n_darks) == (10, 10)
        assert scan.detector_shape == (2, 640)
        assert scan.dtype == np.float32
        assert scan.angles_rad.dtype == np.float64 and scan.angles_rad.shape == (181,)
        assert np.rad2deg(scan.angles_rad[0]) == pytest.approx(0.0)
        assert np.rad2deg(scan.angles_rad[-1]) == pytest.approx(179.0055, abs=1e-4)
        assert scan.pixel_size_um is None
        np.testing.assert_array_equal(scan.flat_projection_index, np.zeros(10))


def test_tooth_row_read_equals_direct_hyperslab(tooth_path):
    with h5py.File(tooth_path, "r") as h5:
        expected = h5["/exchange/data"][:, 1:2, :]
        expected_flats = h5["/exchange/data_white"][:, 1:2, :]
        expected_darks = h5["/exchange/data_dark"][:, 1:2, :]
    with open_scan(tooth_path) as scan:
        got = scan.read_projections(rows=slice(1, 2))
        assert got.dtype == np.float32 and got.shape == (181, 1, 640)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(scan.read_flats(slice(1, 2)), expected_flats)
        np.testing.assert_array_equal(scan.read_darks(slice(1, 2)), expected_darks)


def test_tooth_file_is_not_modified(tooth_path):
    before = hashlib.sha256(tooth_path.read_bytes()).hexdigest()
    with open_scan(tooth_path) as scan:
        scan.read_projections(slice(0, 2), slice(0, 10))
    assert hashlib.sha256(tooth_path.read_bytes()).hexdigest() == before


def test_read_uses_one_row_hyperslab(make_dxchange, monkeypatch):
    path = make_dxchange()
    seen = []
    original = h5py.Dataset.__getitem__

    def spy(self, key, *args, **kwargs):
        if self.name == "/exchange/data":
            seen.append(key)
        return original(self, key, *args, **kwargs)

    with open_scan(path) as scan:
        monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
        scan.read_projections(rows=slice(2, 4))
    assert seen == [(slice(0, 6, 1), slice(2, 4, 1), slice(None))]


def test_angle_and_row_slices_with_steps(make_dxchange):
    path = make_dxchange(n_proj=6, shape=(5, 7))
    with h5py.File(path, "r") as h5:
        full = h5["/exchange/data"][()]
    with open_scan(path) as scan:
        np.testing.assert_array_equal(scan.read_projections(slice(4, 0, -2), slice(1, 6, 2)),
                                      full[1:6:2, 4:0:-2])
        np.testing.assert_array_equal(scan.read_projections(slice(None), slice(None, None, -1)),
                                      full[::-1])
        assert scan.read_projections(slice(3, 3)).shape == (6, 0, 7)


def test_before_and_after_flats(make_dxchange):
    path = make_dxchange(flats={"data_white_pre": (2, 5, 7), "data_white_post": (3, 5, 7)})
    with open_scan(path) as scan:
        assert scan.n_flats == 5
        np.testing.assert_array_equal(scan.flat_projection_index, [0, 0, 6, 6, 6])
        flats = scan.read_flats(slice(0, 1))
        assert flats.shape == (5, 1, 7)
        assert flats[2, 0, 0] == 30000  # first frame of the post set follows the pre set


def test_theta_in_radians_is_honoured(make_dxchange):
    path = make_dxchange(theta_units="rad")
    with h5py.File(path, "r+") as h5:
        h5["/exchange/theta"][...] = np.linspace(0, np.pi, 6, endpoint=False)
    with open_scan(path) as scan:
        np.testing.assert_allclose(scan.angles_rad, np.linspace(0, np.pi, 6, endpoint=False))


def test_theta_without_units_is_degrees(make_dxchange):
    path = make_dxchange(theta_units=None)
    with open_scan(path) as scan:
        np.testing.assert_allclose(scan.angles_rad, np.deg2rad(np.linspace(0, 180, 6,
                                                                          endpoint=False)))


def test_unknown_theta_unit_is_rejected(make_dxchange):
    path = make_dxchange(theta_units="grad")
    with pytest.raises(RawDataError, match=r"/exchange/theta: cannot decide the angle unit"):
        open_scan(path)


@pytest.mark.parametrize(
    ("extra", "expected_um"),
    [
        ({"/measurement/instrument/detection_system/objective/resolution": (650.0, "nm")}, 0.65),
        ({"/measurement/instrument/detector/pixel_size_x": (6.5, "um"),
          "/measurement/instrument/detection_system/objective/magnification": (10.0, None)},
         0.65),
        ({"/measurement/instrument/detector/pixel_size_x": (0.5, None)}, 0.5),
    ],
)
def test_pixel_size(make_dxchange, extra, expected_um):
    with open_scan(make_dxchange(extra=extra)) as scan:
        assert scan.pixel_size_um == pytest.approx(expected_um)


def test_missing_projections(make_dxchange):
    path = make_dxchange(data=False)
    with pytest.raises(RawDataError, match=r"scan\.h5: /exchange/data: dataset missing"):
        DXchangeScan(path)


def test_missing_flats(make_dxchange):
    path = make_dxchange(flats={})
    with pytest.raises(RawDataError, match=r"scan\.h5: /exchange/data_white: dataset missing "
                                           r"\(flat fields are required\)"):
        open_scan(path)


def test_missing_darks(make_dxchange):
    with pytest.raises(RawDataError, match=r"/exchange/data_dark: dataset missing"):
        open_scan(make_dxchange(darks={}))


def test_angle_count_mismatch(make_dxchange):
    with pytest.raises(RawDataError, match=r"/exchange/theta: 5 angles for 6 projections"):
        open_scan(make_dxchange(n_theta=5))


def test_wrong_flat_shape(make_dxchange):
    with pytest.raises(RawDataError, match=r"/exchange/data_white: flat frames are "
                                           r"5 x 6 but projections are 5 x 7"):
        open_scan(make_dxchange(flats={"data_white": (3, 5, 6)}))


def test_closed_scan_refuses_reads(make_dxchange):
    scan = open_scan(make_dxchange())
    scan.close()
    scan.close()
    with pytest.raises(ValueError, match="closed"):
        scan.read_projections(slice(0, 1))
