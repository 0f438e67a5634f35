import h5py
import numpy as np
import pytest

from tomopress.io.h5store import read_array_h5, read_attrs_h5
from tomopress.prep.flatfield import (
    average_frames,
    flat_groups,
    flatfield_correct,
    flatfield_slab_file,
    interpolated_flat,
    remove_zingers,
)


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


def _drifting_scan(n_proj=20, shape=(3, 5), drift=0.3, seed=5):
    """Counts of a scan whose open beam grows linearly in time by `drift` (relative).

    Flats: 3 frames before (projection index 0), 2 after (index n_proj); noise-free, so the
    corrected transmission must come out exact.
    """
    rng = np.random.default_rng(seed)
    dark = rng.uniform(90, 110, size=shape)
    open0 = rng.uniform(3000, 4000, size=shape)  # flat - dark at the start
    transmission = rng.uniform(0.1, 0.9, size=(n_proj, *shape))
    gain = 1 + drift * np.arange(n_proj + 1) / n_proj  # open beam at projection index i
    proj = dark + open0 * gain[:n_proj, None, None] * transmission
    flats = np.concatenate([np.repeat((dark + open0)[None], 3, axis=0),
                            np.repeat((dark + open0 * gain[-1])[None], 2, axis=0)])
    index = np.array([0, 0, 0, n_proj, n_proj])
    return proj, flats, index, dark, transmission


def test_before_and_after_flats_undo_a_linear_beam_drift_exactly():
    proj, flats, index, dark, transmission = _drifting_scan()
    positions, groups = flat_groups(flats, index, method="mean")
    assert positions.tolist() == [0, 20]
    sino, stats = flatfield_correct(proj, groups, dark, flat_positions=positions, chunk_angles=6)
    np.testing.assert_allclose(np.exp(-sino.astype(np.float64)), transmission, rtol=2e-6)
    assert stats.n_clipped == 0 and stats.n_bad_flat == 0
    # one flat averaged over before and after is off by up to half the drift at the ends
    single, _ = flatfield_correct(proj, average_frames(flats), dark)
    assert np.abs(np.exp(-single) / transmission - 1).max() > 0.1


def test_interpolated_flat_is_linear_between_groups_and_constant_outside():
    groups = np.array([[[100.0, 10.0]], [[300.0, 30.0]]], dtype=np.float32)
    flat = interpolated_flat(groups, [5, 15], np.arange(20))
    np.testing.assert_allclose(flat[:6, 0, 0], 100.0)
    np.testing.assert_allclose(flat[15:, 0, 1], 30.0)
    np.testing.assert_allclose(flat[5:16, 0, 0], np.linspace(100.0, 300.0, 11), rtol=1e-6)
    single = interpolated_flat(groups[:1], [0], [0, 7])
    np.testing.assert_array_equal(single, np.repeat(groups[:1], 2, axis=0))


def test_flat_groups_median_rejects_a_zinger_in_one_flat():
    flats = np.full((5, 1, 2), 1000.0)
    flats[1, 0, 0] = 60000.0  # zinger in a flat taken before the scan
    positions, groups = flat_groups(flats, [0, 0, 0, 9, 9], method="median")
    assert positions.tolist() == [0, 9]
    np.testing.assert_array_equal(groups, np.full((2, 1, 2), 1000.0))


def test_flat_group_errors_are_clear():
    with pytest.raises(ValueError, match="one projection index per flat"):
        flat_groups(np.ones((3, 2, 2)), [0, 0])
    with pytest.raises(ValueError, match="strictly increasing"):
        interpolated_flat(np.ones((2, 2, 2)), [5, 5], [0])
    with pytest.raises(ValueError, match="flat_positions"):
        flatfield_correct(np.ones((4, 2, 2)), np.full((2, 2, 2), 10.0), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="strictly increasing"):
        flatfield_correct(np.ones((4, 2, 2)), np.full((2, 2, 2), 10.0), np.zeros((2, 2)),
                          flat_positions=[4, 0])


def _zinger_scan(n_zingers=25, seed=7):
    """Smooth line integrals recorded with Poisson noise (I0 = 20000), plus isolated zingers.

    Zingers add 0.5 to 2 times the open-beam counts, as in `tomopress.synthetic.beamtime`; they sit on a
    lattice 4 angles x 4 columns apart so that no two share a 3 x 3 neighbourhood.
    """
    rng = np.random.default_rng(seed)
    n_angles, n_rows, n_cols = 96, 4, 64
    a, r, c = np.meshgrid(np.arange(n_angles), np.arange(n_rows), np.arange(n_cols),
                          indexing="ij")
    p_true = (0.9 * np.exp(-(((c - 30) / 18.0) ** 2)) * (1 + 0.2 * np.sin(2 * np.pi * a / 96))
              + 0.05 * r)
    i0, dark_level = 20000.0, 100.0
    dark = np.full((n_rows, n_cols), dark_level)
    flat = dark + i0
    counts = rng.poisson(i0 * np.exp(-p_true)).astype(np.float64) + dark_level
    lattice = np.array([(aa, rr, cc) for aa in range(2, n_angles - 1, 4)
                        for rr in range(n_rows) for cc in range(2, n_cols - 1, 4)])
    hits = lattice[rng.choice(len(lattice), size=n_zingers, replace=False)]
    counts[tuple(hits.T)] += i0 * rng.uniform(0.5, 2.0, size=n_zingers)
    return counts, flat, dark, p_true, hits


def test_zingers_are_found_exactly_and_replaced_close_to_truth():
    """25 zingers on a smooth projection with noise sigma_p ~ 0.01: all 25 found, nothing else.

    Threshold 0.2 in line-integral units (transmission off by > 22 %) is ~ 15 noise sigmas;
    the smallest zinger (+0.5 I0 in the brightest pixel) moves p by ln(1.5) = 0.41.
    """
    counts, flat, dark, p_true, hits = _zinger_scan()
    plain, _ = flatfield_correct(counts, flat, dark)
    sino, stats = flatfield_correct(counts, flat, dark, zinger_threshold=0.2, chunk_angles=10)
    assert stats.n_zingers == 25
    hit = np.zeros(sino.shape, dtype=bool)
    hit[tuple(hits.T)] = True
    assert np.all(plain[hit] < p_true[hit] - 0.35)  # they were there
    np.testing.assert_array_equal(sino[~hit], plain[~hit])  # nothing else touched
    noise = np.std(plain[~hit] - p_true[~hit])
    assert 0.005 < noise < 0.02
    assert np.abs(sino[hit] - p_true[hit]).max() < 3 * noise


def test_zinger_removal_does_not_depend_on_chunks_or_slabs():
    counts, flat, dark, _, _ = _zinger_scan(seed=8)
    reference, _ = flatfield_correct(counts, flat, dark)
    n_ref = remove_zingers(reference, threshold=0.2, chunk_angles=128)
    for chunk in (3, 7, 50):
        sino, _ = flatfield_correct(counts, flat, dark)
        assert remove_zingers(sino, threshold=0.2, chunk_angles=chunk) == n_ref
        np.testing.assert_array_equal(sino, reference)
    rows, _ = flatfield_correct(counts[:, 1:3], flat[1:3], dark[1:3])
    remove_zingers(rows, threshold=0.2)
    np.testing.assert_array_equal(rows, reference[:, 1:3])


def test_remove_zingers_rejects_bad_parameters():
    sino = np.zeros((8, 1, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="threshold"):
        remove_zingers(sino, threshold=0.0)
    with pytest.raises(ValueError, match="odd"):
        remove_zingers(sino, threshold=0.2, size=4)
    with pytest.raises(ValueError, match="chunk_angles"):
        remove_zingers(sino, threshold=0.2, chunk_angles=2)
    with pytest.raises(ValueError, match="n_angles, rows, cols"):
        remove_zingers(sino[0], threshold=0.2)


def test_slab_file_interpolates_pre_and_post_flats(tmp_path):
    proj, flats, _, dark, transmission = _drifting_scan(n_proj=12, shape=(4, 6))
    raw = tmp_path / "drift.h5"
    with h5py.File(raw, "w") as fh:
        fh["/exchange/data"] = proj.astype(np.float32)
        fh["/exchange/data_white_pre"] = flats[:3].astype(np.float32)
        fh["/exchange/data_white_post"] = flats[3:].astype(np.float32)
        fh["/exchange/data_dark"] = dark[None].astype(np.float32)
        fh["/exchange/theta"] = np.linspace(0, 180, 12, endpoint=False)
        fh["/exchange/theta"].attrs["units"] = "degrees"
    out = tmp_path / "slab.h5"
    stats = flatfield_slab_file(
        str(raw), str(out), format="auto", reader_options={}, rows=(1, 3), average="mean",
        min_transmission=1e-4, pixel_size_um=0.5, zinger_threshold=None, ring_method="none",
    )
    sino, _ = read_array_h5(out, "sinogram")
    np.testing.assert_allclose(np.exp(-sino.astype(np.float64)), transmission[:, 1:3],
                               rtol=1e-5)
    attrs = read_attrs_h5(out)
    assert list(attrs["flat_positions"]) == [0, 12]
    assert attrs["n_zingers"] == stats.n_zingers == 0
    assert attrs["ring_method"] == "none"


def test_slab_file_rejects_an_unknown_ring_method(tmp_path):
    with pytest.raises(ValueError, match="ring method"):
        flatfield_slab_file(
            str(tmp_path / "missing.h5"), str(tmp_path / "s.h5"), format="auto",
            reader_options={}, rows=(0, 1), average="mean", min_transmission=1e-4,
            pixel_size_um=1.0, ring_method="wavelet",
        )


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 3, 1), (3, 1, 2), (130, 4, 67)])
def test_fast_zinger_median_equals_scipys(shape):
    from scipy import ndimage

    from tomopress.prep.flatfield import median_3x3_angle_column

    window = np.random.default_rng(sum(shape)).random(shape, dtype=np.float32)
    window[::7] = 0.5  # ties
    np.testing.assert_array_equal(median_3x3_angle_column(window),
                                  ndimage.median_filter(window, size=(3, 1, 3), mode="nearest"))
