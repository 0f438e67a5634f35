"""NXtomo reader: the real DIAD scan (external links) and synthetic standard-layout files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from tomopress.errors import RawDataError
from tomopress.io import NXtomoPaths, NXtomoScan, open_scan

DIAD_RAW = Path("k11-18014") / "k11-18014-imaging.h5"

#: a scan with flats before, in the middle and after, darks first and an invalid frame
KEYS = np.array([2, 2, 1, 1, 0, 0, 0, 3, 0, 1, 0, 0, 1])
N_PROJ = int(np.sum(KEYS == 0))


def write_nxtomo(
    path: Path,
    *,
    keys: np.ndarray = KEYS,
    n_angles: int | None = None,
    angle_units: str | None = None,
    prefix: str = "/entry",
    data_path: str = "data/data",
    pixel_size: tuple[float, str | None] | None = None,
) -> Path:
    """Small NXtomo file at the standard locations; frame k holds the value 100 * k + row."""
    n = len(keys)
    frames = (100 * np.arange(n)[:, None, None] + np.arange(4)[None, :, None]) * np.ones(
        (1, 1, 3))
    with h5py.File(path, "w") as h5:
        h5[f"{prefix}/definition"] = "NXtomo"
        h5[f"{prefix}/{data_path}"] = frames.astype(np.uint16)
        h5[f"{prefix}/instrument/detector/image_key"] = keys
        h5[f"{prefix}/sample/rotation_angle"] = _angles(keys, n_angles, angle_units)
        if angle_units is not None:
            h5[f"{prefix}/sample/rotation_angle"].attrs["units"] = angle_units
        if pixel_size is not None:
            h5[f"{prefix}/instrument/detector/x_pixel_size"] = pixel_size[0]
            if pixel_size[1] is not None:
                h5[f"{prefix}/instrument/detector/x_pixel_size"].attrs["units"] = pixel_size[1]
    return path


def _angles(keys: np.ndarray, n_angles: int | None, units: str | None) -> np.ndarray:
    """Projections evenly over a half turn; flats and darks at 0 (NXtomo stores one per frame)."""
    proj = np.flatnonzero(keys == 0)
    half_turn = np.pi if units == "rad" else 180.0
    if n_angles is not None:
        return np.linspace(0.0, half_turn, n_angles, endpoint=False)
    angles = np.zeros(len(keys))
    angles[proj] = np.linspace(0.0, half_turn, proj.size, endpoint=False)
    return angles


def test_diad_header(diad_path):
    with open_scan(diad_path) as scan:
        assert isinstance(scan, NXtomoScan)
        assert scan.format == "nxtomo"
        assert scan.n_projections == 3001
        assert (scan.n_flats, scan.n_darks) == (100, 100)
        assert scan.detector_shape == (22, 26)
        assert scan.dtype == np.uint16
        deg = np.rad2deg(scan.angles_rad)
        assert deg.shape == (3001,)
        assert deg.min() == pytest.approx(89.995, abs=1e-3)
        assert deg.max() == pytest.approx(269.995, abs=1e-3)
        assert scan.pixel_size_um is None
        expected = np.r_[np.zeros(50), np.full(50, 3001)]
        np.testing.assert_array_equal(scan.flat_projection_index, expected)


def test_diad_frames_match_raw_stack(diad_path):
    with h5py.File(diad_path.parent / DIAD_RAW, "r") as raw:
        stack = raw["/entry/detector/detector"]
        first = stack[100]
        block = stack[100:140, 5:9, :]
        flats = np.concatenate([stack[0:50, 5:9], stack[3101:3151, 5:9]])
        darks = np.concatenate([stack[50:100, 5:9], stack[3151:3201, 5:9]])
    with open_scan(diad_path) as scan:
        np.testing.assert_array_equal(scan.read_projections(slice(None), slice(0, 1))[0], first)
        np.testing.assert_array_equal(scan.read_projections(slice(5, 9), slice(0, 40)), block)
        np.testing.assert_array_equal(scan.read_flats(slice(5, 9)), flats)
        np.testing.assert_array_equal(scan.read_darks(slice(5, 9)), darks)


def test_diad_external_links_resolve_from_another_cwd(diad_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_scan(diad_path, "nxtomo") as scan:
        assert scan.read_projections(slice(0, 1), slice(0, 2)).shape == (2, 1, 26)


def test_standard_locations_and_selection(tmp_path):
    path = write_nxtomo(tmp_path / "std.nxs")
    with h5py.File(path, "r") as h5:
        frames = h5["/entry/data/data"][()]
    proj, flat, dark = (np.flatnonzero(np.equal(KEYS, key)) for key in (0, 1, 2))
    with open_scan(path) as scan:
        assert (scan.n_projections, scan.n_flats, scan.n_darks) == (N_PROJ, 4, 2)
        np.testing.assert_array_equal(scan.flat_projection_index, [0, 0, 4, 6])
        np.testing.assert_array_equal(scan.read_projections(slice(1, 3)), frames[proj, 1:3])
        np.testing.assert_array_equal(scan.read_projections(slice(3, None, -2), slice(None, 1, -1)),
                                      frames[proj][:1:-1, 3::-2])
        np.testing.assert_array_equal(scan.read_flats(slice(0, 4)), frames[flat])
        np.testing.assert_array_equal(scan.read_darks(slice(0, 4)), frames[dark])
        np.testing.assert_allclose(np.rad2deg(scan.angles_rad),
                                   np.linspace(0, 180, proj.size, endpoint=False))


def test_reads_contiguous_projections_in_one_hyperslab(tmp_path, monkeypatch):
    path = write_nxtomo(tmp_path / "std.nxs", keys=np.array([1, 2, 0, 0, 0, 0, 1]))
    seen = []
    original = h5py.Dataset.__getitem__

    def spy(self, key, *args, **kwargs):
        if self.name == "/entry/data/data":
            seen.append(key)
        return original(self, key, *args, **kwargs)

    with open_scan(path) as scan:
        monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
        scan.read_projections(rows=slice(1, 3))
    assert seen == [(slice(2, 6, 1), slice(1, 3, 1), slice(None))]


def test_angles_per_projection_only(tmp_path):
    path = write_nxtomo(tmp_path / "a.nxs", n_angles=N_PROJ, angle_units="rad")
    with open_scan(path) as scan:
        np.testing.assert_allclose(scan.angles_rad, np.linspace(0, np.pi, N_PROJ, endpoint=False))


def test_other_entry_name_with_nxtomo_definition(tmp_path):
    path = write_nxtomo(tmp_path / "e.nxs", prefix="/scan1")
    with open_scan(path) as scan:
        assert scan.format == "nxtomo" and scan.n_projections == N_PROJ


def test_custom_paths(tmp_path):
    path = write_nxtomo(tmp_path / "c.nxs", data_path="camera/frames")
    paths = NXtomoPaths(data="/entry/camera/frames")
    with open_scan(path, nxtomo_paths=paths) as scan:
        assert scan.detector_shape == (4, 3)


def test_custom_path_does_not_fall_back(tmp_path):
    path = write_nxtomo(tmp_path / "c.nxs")
    paths = NXtomoPaths(data="/entry/camera/frames")
    with pytest.raises(RawDataError, match=r"c\.nxs: /entry/camera/frames: dataset missing"):
        open_scan(path, "nxtomo", nxtomo_paths=paths)


def test_pixel_size_with_units(tmp_path):
    with open_scan(write_nxtomo(tmp_path / "p.nxs", pixel_size=(6.5e-6, "m"))) as scan:
        assert scan.pixel_size_um == pytest.approx(6.5)


def test_pixel_size_without_units_is_ignored(tmp_path, caplog):
    with open_scan(write_nxtomo(tmp_path / "p.nxs", pixel_size=(6.5, None))) as scan:
        assert scan.pixel_size_um is None
    assert "no units" in caplog.text


def test_no_flats(tmp_path):
    path = write_nxtomo(tmp_path / "f.nxs", keys=np.array([2, 0, 0, 0]))
    with pytest.raises(RawDataError, match=r"image_key: no flat frames \(image_key 1\)"):
        open_scan(path)


def test_unknown_image_key(tmp_path):
    path = write_nxtomo(tmp_path / "k.nxs", keys=np.array([2, 1, 0, 4]))
    with pytest.raises(RawDataError, match=r"image_key: unknown key 4"):
        open_scan(path)


def test_angle_count_mismatch(tmp_path):
    path = write_nxtomo(tmp_path / "a.nxs", n_angles=5)
    with pytest.raises(RawDataError, match=r"rotation_angle: 5 angles for 13 frames"):
        open_scan(path)


def test_dangling_external_link(tmp_path):
    path = write_nxtomo(tmp_path / "d.nxs", data_path="raw/data")
    with h5py.File(path, "a") as h5:
        h5["/entry/imaging/data"] = h5py.ExternalLink("missing.h5", "/entry/detector/detector")
    with pytest.raises(RawDataError, match=r"d\.nxs: /entry/imaging/data or /entry/data/data"
                                           r".*: dataset missing or dangling external link"):
        open_scan(path)
