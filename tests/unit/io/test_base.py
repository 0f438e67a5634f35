"""`open_scan` format detection, and the helpers the readers share."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from tomopress.errors import RawDataError
from tomopress.io import DXchangeScan, NXtomoScan, Scan, TiffLayout, TiffStackScan, open_scan
from tomopress.io.base import angles_to_rad, forward_slice, index_runs, length_to_um


@pytest.mark.parametrize(
    ("name", "kind"),
    [("tomopy_tooth/tooth.h5", DXchangeScan),
     ("httomo_k11_diad/k11-18014.nxs", NXtomoScan),
     ("savu_24737_tiff", TiffStackScan)],
)
def test_auto_detects_real_formats(shared_data, name, kind):
    path = shared_data / name
    if not path.exists():
        pytest.skip(f"{path} missing")
    with open_scan(path, tiff_layout=TiffLayout(angle_slice=(10, 101))) as scan:
        assert isinstance(scan, kind) and isinstance(scan, Scan)
        assert scan.angles_rad.shape == (scan.n_projections,)
        assert scan.flat_projection_index.shape == (scan.n_flats,)
        assert repr(scan).startswith(kind.__name__)


def test_missing_file(tmp_path):
    with pytest.raises(RawDataError, match=r"nothere\.h5: file: does not exist"):
        open_scan(tmp_path / "nothere.h5")


def test_text_file_is_not_a_scan(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("not HDF5\n")
    with pytest.raises(RawDataError, match=r"notes\.h5: format: not a recognised raw scan"):
        open_scan(path)
    with pytest.raises(RawDataError, match=r"notes\.h5: file: not an HDF5 file"):
        open_scan(path, "dxchange")


def test_hdf5_without_exchange_data_or_image_key(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["/exchange/data_white"] = np.zeros((1, 2, 2))
    with pytest.raises(RawDataError, match=r"other\.h5: format: HDF5 file is neither DXchange "
                                           r"\(no /exchange/data\)"):
        open_scan(path)
    with pytest.raises(RawDataError, match=r"other\.h5: /exchange/data: dataset missing"):
        open_scan(path, "dxchange")


def test_unknown_format_name(tmp_path):
    path = tmp_path / "x.h5"
    path.write_bytes(b"")
    with pytest.raises(RawDataError, match=r"x\.h5: format: unknown format 'hdf'"):
        open_scan(path, "hdf")


def test_context_manager_closes(make_dxchange):
    with open_scan(make_dxchange()) as scan:
        pass
    with pytest.raises(ValueError, match="closed"):
        scan.read_flats(slice(0, 1))


@pytest.mark.parametrize(
    "sl", [slice(None), slice(2, 7), slice(1, 8, 3), slice(None, None, -1), slice(7, 1, -2),
           slice(-3, None), slice(5, 5), slice(20, 30), slice(None, None, -4)],
)
def test_forward_slice_selects_the_same_items(sl):
    items = np.arange(9)
    fwd, reverse, count = forward_slice(sl, 9)
    assert fwd.step > 0 and count == len(items[sl])
    got = items[fwd][::-1] if reverse else items[fwd]
    np.testing.assert_array_equal(got, items[sl])


def test_forward_slice_rejects_non_slices():
    with pytest.raises(TypeError, match="expected a slice"):
        forward_slice(3, 9)  # type: ignore[arg-type]


def test_index_runs_cover_indices():
    idx = np.array([0, 1, 2, 5, 9, 13, 14, 20])
    runs = index_runs(idx)
    np.testing.assert_array_equal(np.concatenate([np.arange(30)[r] for r in runs]), idx)
    assert runs[0] == slice(0, 3, 1)
    assert index_runs(np.array([], dtype=int)) == []


@pytest.mark.parametrize("unit", [None, "deg", "Degrees", b"degree".decode(), "°"])
def test_angles_in_degrees(unit):
    np.testing.assert_allclose(angles_to_rad("f", "theta", [0, 90, 180], unit),
                               [0, np.pi / 2, np.pi])


def test_angles_in_radians_and_bad_values():
    np.testing.assert_allclose(angles_to_rad("f", "theta", [1.0], "radians"), [1.0])
    with pytest.raises(RawDataError, match="f: theta: cannot decide the angle unit 'counts'"):
        angles_to_rad("f", "theta", [1.0], "counts")
    with pytest.raises(RawDataError, match="NaN"):
        angles_to_rad("f", "theta", [1.0, np.nan], "deg")


def test_length_to_um():
    assert length_to_um("f", "px", 0.65, "um") == pytest.approx(0.65)
    assert length_to_um("f", "px", np.array([6.5e-3]), "mm") == pytest.approx(6.5)
    with pytest.raises(RawDataError, match="unknown length unit 'furlong'"):
        length_to_um("f", "px", 1.0, "furlong")
    with pytest.raises(RawDataError, match="must be > 0"):
        length_to_um("f", "px", 0.0, None)
    with pytest.raises(RawDataError, match="not a number"):
        length_to_um("f", "px", "abc", None)
