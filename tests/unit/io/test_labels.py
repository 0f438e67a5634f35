import numpy as np
import pytest
import tifffile

from tomopress.errors import RawDataError
from tomopress.io.labels import (
    map_labels,
    parse_label_mapping,
    read_label_volume,
    transport_axis_first,
)
from tomopress.types import AM, OUTSIDE, SE, VOID


def test_taufactor_electrode_maps_to_tomopress_labels(shared_data):
    """The real 256³ cathode: pore 0, NMC 85, CBD 170 (README); CBD left out as 'outside'."""
    volume = read_label_volume(shared_data / "taufactor_electrode" / "electrode.tiff")
    assert volume.shape == (256, 256, 256) and volume.dtype == np.uint8
    labels = map_labels(volume, parse_label_mapping("void=0,am=85,outside=170"))
    assert set(np.unique(labels)) == {VOID, AM, OUTSIDE}
    assert np.count_nonzero(labels == AM) == np.count_nonzero(volume == 85)


def test_unmapped_values_are_listed():
    with pytest.raises(ValueError, match=r"label value\(s\) \[7\] not mapped"):
        map_labels(np.array([[[0, 7]]]), {"void": [0]})


@pytest.mark.parametrize("text, message", [
    ("pore=0", "NAME=VALUE"), ("void=a", "integer"), ("void=0,se=0", "both void and se"),
    ("outside=3", "at least one phase"),
])
def test_bad_mappings(text, message):
    with pytest.raises(ValueError, match=message):
        parse_label_mapping(text)


def test_hdf5_and_tiff_round_trip(tmp_path):
    import h5py

    volume = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) % 3
    tifffile.imwrite(tmp_path / "v.tif", volume)
    with h5py.File(tmp_path / "v.h5", "w") as fh:
        fh["seg/labels"] = volume
    np.testing.assert_array_equal(read_label_volume(tmp_path / "v.tif"), volume)
    np.testing.assert_array_equal(read_label_volume(tmp_path / "v.h5"), volume)
    mapped = map_labels(volume, parse_label_mapping("void=0,se=1,am=2"))
    assert mapped.tolist() == volume.tolist() and (VOID, SE, AM) == (0, 1, 2)
    assert transport_axis_first(volume, 2).shape == (4, 2, 3)


def test_bad_files_name_the_problem(tmp_path):
    (tmp_path / "n.txt").write_text("hello")
    with pytest.raises(RawDataError, match="n.txt: format"):
        read_label_volume(tmp_path / "n.txt")
    tifffile.imwrite(tmp_path / "f.tif", np.zeros((2, 3, 4), np.float32), photometric="minisblack")
    with pytest.raises(RawDataError, match="f.tif: dtype: expected integer"):
        read_label_volume(tmp_path / "f.tif")
