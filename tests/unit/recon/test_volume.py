import h5py
import numpy as np
import pytest

from tomopress.io.h5store import write_array_h5
from tomopress.recon.volume import gather_slabs


def _slab(path, rows, value_of_row, n=6):
    volume = np.stack([np.full((n, n), value_of_row(r), np.float32) for r in range(*rows)])
    attrs = {"row_start": rows[0], "row_stop": rows[1], "voxel_size_um": 0.5, "units": "1/cm",
             "center_px": 2.5, "backend": "gridding", "filter": "ramp"}
    write_array_h5(path, {"volume": volume}, attrs=attrs)
    return str(path)


def test_slabs_are_concatenated_in_row_order(tmp_path):
    paths = [_slab(tmp_path / f"s{i}.h5", rows, float) for i, rows in enumerate([(14, 20), (10, 14)])]
    shape = gather_slabs(paths, str(tmp_path / "vol.h5"))
    assert shape == (10, 6, 6)
    with h5py.File(tmp_path / "vol.h5", "r") as fh:
        np.testing.assert_array_equal(fh["volume"][:, 0, 0], np.arange(10, 20))
        assert fh.attrs["z_offset_rows"] == 10 and fh.attrs["units"] == "1/cm"


def test_gap_between_slabs_is_refused(tmp_path):
    paths = [_slab(tmp_path / "a.h5", (0, 4), float), _slab(tmp_path / "b.h5", (5, 8), float)]
    with pytest.raises(ValueError, match="does not follow"):
        gather_slabs(paths, str(tmp_path / "vol.h5"))
    assert not (tmp_path / "vol.h5").exists()


def test_volume_maps_the_slabs_without_copying_and_survives_a_move(tmp_path):
    from tomopress.recon.volume import open_volume

    (tmp_path / "scan" / "recon").mkdir(parents=True)
    paths = [_slab(tmp_path / "scan" / "recon" / f"s{i}.h5", rows, float, n=64)
             for i, rows in enumerate([(0, 40), (40, 80)])]
    gather_slabs(paths, str(tmp_path / "scan" / "volume.h5"))
    volume_bytes = 80 * 64 * 64 * 4
    assert (tmp_path / "scan" / "volume.h5").stat().st_size < 0.02 * volume_bytes
    (tmp_path / "scan").rename(tmp_path / "moved")
    with open_volume(str(tmp_path / "moved" / "volume.h5")) as fh:
        np.testing.assert_array_equal(fh["volume"][:, 5, 5], np.arange(80))


def test_missing_slab_file_is_named(tmp_path):
    from tomopress.recon.volume import open_volume

    paths = [_slab(tmp_path / f"s{i}.h5", rows, float) for i, rows in enumerate([(0, 4), (4, 8)])]
    gather_slabs(paths, str(tmp_path / "vol.h5"))
    (tmp_path / "s1.h5").unlink()
    with pytest.raises(FileNotFoundError, match=r"vol\.h5: volume maps slab file .*s1\.h5"):
        with open_volume(str(tmp_path / "vol.h5")):
            pass
