import h5py
import numpy as np
import pytest

from tomopress.flatfield import average_frames, flatfield_correct, flatfield_slab_file
from tomopress.h5store import read_array_h5


def test_matches_normalize_formula_in_float64():
    # tomopy.prep.normalize: (proj - dark) / (flat - dark); then -log (tomopy.minus_log)
    rng = np.random.default_rng(1)
    proj = rng.integers(200, 4000, size=(7, 3, 5)).astype(np.uint16)
    flat = rng.uniform(4100, 5000, size=(3, 5))
    dark = rng.uniform(90, 110, size=(3, 5))
    sino, stats = flatfield_correct(proj, flat, dark, chunk_angles=3)
    expected = -np.log((proj.astype(np.float64) - dark) / (flat - dark))
    np.testing.assert_allclose(sino, expected, rtol=1e-5, atol=1e-6)
    assert stats.n_clipped == 0 and stats.n_bad_flat == 0


def test_counts_clipped_transmissions_and_bad_flats():
    proj = np.full((4, 2, 3), 500.0)
    proj[0, 0, 0] = 50.0  # below the dark: negative transmission
    proj[1, 1, 1] = np.nan
    flat = np.full((2, 3), 1100.0)
    flat[1, 2] = 90.0  # flat below dark
    dark = np.full((2, 3), 100.0)
    sino, stats = flatfield_correct(proj, flat, dark, min_transmission=1e-3)
    assert stats.n_clipped == 2
    assert stats.n_bad_flat == 1
    assert sino[0, 0, 0] == pytest.approx(-np.log(1e-3))
    # the dead pixel at the row's end takes its only neighbour's value
    np.testing.assert_allclose(sino[[0, 2, 3], 1, 2], sino[[0, 2, 3], 1, 1])
    assert np.all(np.isfinite(sino))


def test_dead_column_is_interpolated_linearly():
    """A column whose flat equals the dark (plus noise) gets the mean of its neighbours."""
    rng = np.random.default_rng(2)
    line_integral = np.linspace(0.1, 1.0, 9)[None, None, :].repeat(5, axis=0)
    flat = np.full((1, 9), 10_100.0)
    dark = np.full((1, 9), 100.0)
    flat[0, 4] = 100.0 + 3.0  # dead: open beam is noise only
    proj = dark + (flat - dark) * np.exp(-line_integral)
    proj[:, 0, 4] = 100 + rng.normal(0, 3, 5)
    sino, stats = flatfield_correct(proj, flat, dark)
    assert stats.n_bad_flat == 1
    np.testing.assert_allclose(sino[:, 0, 4], line_integral[:, 0, 4], rtol=1e-5)


def test_average_frames_mean_and_median():
    frames = np.array([[[1.0]], [[2.0]], [[9.0]]])
    assert average_frames(frames, method="mean")[0, 0] == pytest.approx(4.0)
    assert average_frames(frames, method="median")[0, 0] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="method"):
        average_frames(frames, method="mode")


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="must match the detector"):
        flatfield_correct(np.ones((2, 3, 4)), np.ones((3, 5)), np.zeros((3, 4)))


def test_slab_file_on_real_tooth_scan(shared_data, tmp_path):
    raw = shared_data / "tomopy_tooth" / "tooth.h5"
    out = tmp_path / "slab.h5"
    flatfield_slab_file(
        str(raw), str(out), format="auto", reader_options={}, rows=(1, 2),
        average="mean", min_transmission=1e-4, pixel_size_um=0.65,
    )
    sino, attrs = read_array_h5(out, "sinogram")
    with h5py.File(raw, "r") as fh:
        proj = fh["/exchange/data"][:, 1:2, :].astype(np.float64)
        flat = fh["/exchange/data_white"][:, 1:2, :].mean(axis=0)
        dark = fh["/exchange/data_dark"][:, 1:2, :].mean(axis=0)
    transmission = (proj - dark) / np.where(flat - dark > 0, flat - dark, np.nan)
    expected = -np.log(np.clip(transmission, 1e-4, None))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(sino[finite], expected[finite], rtol=1e-4, atol=1e-4)
    assert sino.shape == (181, 1, 640)
    assert attrs["row_start"] == 1 and attrs["row_stop"] == 2
    assert attrs["pixel_size_um"] == 0.65


def test_slab_file_without_pixel_size_names_the_field(shared_data, tmp_path):
    from tomopress.errors import RawDataError

    with pytest.raises(RawDataError, match="pixel size.*pixel_size_um"):
        flatfield_slab_file(
            str(shared_data / "tomopy_tooth" / "tooth.h5"), str(tmp_path / "s.h5"),
            format="auto", reader_options={}, rows=(0, 1), average="mean",
            min_transmission=1e-4, pixel_size_um=None,
        )
    assert not (tmp_path / "s.h5").exists()
