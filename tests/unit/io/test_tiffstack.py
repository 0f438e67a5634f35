"""TIFF-stack reader: the real Savu stack and small synthetic folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from tomopress.errors import RawDataError
from tomopress.io import TiffLayout, TiffStackScan, open_scan

SAVU = TiffLayout(angle_slice=(10, 101))


def write_stack(
    folder: Path,
    *,
    n_proj: int = 12,
    shape: tuple[int, int] = (6, 5),
    flat_shape: tuple[int, int] | None = None,
    n_angles: int | None = None,
    flats: bool = True,
    multipage: bool = False,
    **tiff_options: object,
) -> np.ndarray:
    """Folder with projections, one flat, one dark and angles.txt; returns the projections."""
    rng = np.random.default_rng(24737)
    proj = rng.integers(0, 60000, size=(n_proj, *shape), dtype=np.uint16)
    (folder / "tiffs").mkdir(parents=True)
    if multipage:
        tifffile.imwrite(folder / "tiffs" / "all.tif", proj, **tiff_options)
    else:
        for i, frame in enumerate(proj):  # unpadded names: natural order must be used
            tifffile.imwrite(folder / "tiffs" / f"raw_{i}.tif", frame, **tiff_options)
    if flats:
        tifffile.imwrite(folder / "flat_1.tif",
                         np.full(flat_shape or shape, 50000, dtype=np.float32))
    tifffile.imwrite(folder / "dark_1.tif", np.full(shape, 100, dtype=np.float32))
    angles = np.linspace(0.0, 180.0, n_proj if n_angles is None else n_angles)
    np.savetxt(folder / "angles.txt", angles)
    return proj


def test_savu_header(savu_path):
    with open_scan(savu_path, tiff_layout=SAVU) as scan:
        assert isinstance(scan, TiffStackScan)
        assert scan.format == "tiff"
        assert scan.n_projections == 91
        assert scan.detector_shape == (135, 160)
        assert (scan.n_flats, scan.n_darks) == (1, 1)
        assert scan.dtype == np.uint16
        deg = np.rad2deg(scan.angles_rad)
        assert deg[0] == pytest.approx(-88.2)
        assert deg[-1] == pytest.approx(91.8, abs=2e-4)
        np.testing.assert_array_equal(scan.flat_projection_index, [0])
        assert scan.pixel_size_um is None


def test_savu_reads_match_tifffile(savu_path):
    expected = tifffile.imread(savu_path / "tiffs" / "raw_00007.tiff")
    flat = tifffile.imread(savu_path / "flat_00001.tiff")
    with open_scan(savu_path, "tiff", tiff_layout=SAVU) as scan:
        got = scan.read_projections(slice(40, 60), slice(7, 8))
        assert got.dtype == np.uint16 and got.shape == (1, 20, 160)
        np.testing.assert_array_equal(got[0], expected[40:60])
        flats = scan.read_flats(slice(None))
        assert flats.dtype == np.float32
        np.testing.assert_array_equal(flats[0], flat)
        assert scan.read_darks(slice(0, 3)).shape == (1, 3, 160)


def test_savu_angle_count_mismatch_without_slice(savu_path):
    with pytest.raises(RawDataError, match=r"angles\.txt: angles: 111 angles in the file .*"
                                           r"angle_slice.* for 91 projections"):
        open_scan(savu_path)


@pytest.mark.parametrize(
    "options",
    [{}, {"compression": "zlib"}, {"byteorder": ">"}, {"multipage": True}],
    ids=["raw", "zlib", "big-endian", "multipage"],
)
def test_reads_rows_and_angles(tmp_path, options):
    proj = write_stack(tmp_path, **options)
    with open_scan(tmp_path) as scan:
        assert scan.n_projections == 12
        np.testing.assert_array_equal(scan.read_projections(slice(None)), proj)
        np.testing.assert_array_equal(scan.read_projections(slice(1, 5, 2), slice(2, 11, 3)),
                                      proj[2:11:3, 1:5:2])
        np.testing.assert_array_equal(scan.read_projections(slice(None, None, -1),
                                                            slice(None, None, -5)),
                                      proj[::-5, ::-1])
        assert scan.read_projections(slice(2, 2)).shape == (12, 0, 5)


def test_angles_in_radians(tmp_path):
    write_stack(tmp_path)
    np.savetxt(tmp_path / "angles.txt", np.linspace(0, np.pi, 12))
    with open_scan(tmp_path, tiff_layout=TiffLayout(angles_unit="rad")) as scan:
        np.testing.assert_allclose(scan.angles_rad, np.linspace(0, np.pi, 12))


def test_not_a_folder(tmp_path):
    path = tmp_path / "x.tif"
    tifffile.imwrite(path, np.zeros((2, 2), dtype=np.uint16))
    with pytest.raises(RawDataError, match=r"x\.tif: folder: a TIFF stack must be a folder"):
        open_scan(path, "tiff")


def test_missing_projections(tmp_path):
    with pytest.raises(RawDataError, match=r"tiffs/\*\.tif\*: no files match"):
        open_scan(tmp_path)


def test_missing_flats(tmp_path):
    write_stack(tmp_path, flats=False)
    with pytest.raises(RawDataError, match=r"flat\*\.tif\*: no files match \(flat fields are "
                                           r"required\)"):
        open_scan(tmp_path)


def test_wrong_flat_shape(tmp_path):
    write_stack(tmp_path, flat_shape=(6, 4))
    with pytest.raises(RawDataError, match=r"flat frames are 6 x 4 but projections are 6 x 5"):
        open_scan(tmp_path)


def test_angle_count_mismatch(tmp_path):
    write_stack(tmp_path, n_angles=11)
    with pytest.raises(RawDataError, match=r"angles: 11 angles in the file"):
        open_scan(tmp_path)


def test_angle_slice_count_mismatch(tmp_path):
    write_stack(tmp_path)
    with pytest.raises(RawDataError, match=r"angles: 9 angles\[1:10\] of the file for 12"):
        open_scan(tmp_path, tiff_layout=TiffLayout(angle_slice=(1, 10)))


def test_missing_angles_file(tmp_path):
    write_stack(tmp_path)
    (tmp_path / "angles.txt").unlink()
    with pytest.raises(RawDataError, match=r"angles\.txt: angles: file missing"):
        open_scan(tmp_path)


def test_projection_of_other_shape_is_caught_on_read(tmp_path):
    write_stack(tmp_path)
    tifffile.imwrite(tmp_path / "tiffs" / "raw_5.tif", np.zeros((6, 4), dtype=np.uint16))
    with open_scan(tmp_path) as scan, pytest.raises(RawDataError, match=r"raw_5\.tif: page 0"):
        scan.read_projections(slice(0, 1))


def test_uncompressed_pages_are_read_without_decoding(tmp_path, monkeypatch):
    proj = write_stack(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("whole page decoded")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", refuse)
    with open_scan(tmp_path) as scan:
        np.testing.assert_array_equal(scan.read_projections(slice(2, 4)), proj[:, 2:4])


def test_layout_from_config_lists():
    layout = TiffLayout(angle_slice=[10, 101])  # type: ignore[arg-type]
    assert layout.angle_slice == (10, 101)
    assert hash(layout)
    with pytest.raises(ValueError, match="angle_slice must be"):
        TiffLayout(angle_slice=(1, 2, 3))  # type: ignore[arg-type]
