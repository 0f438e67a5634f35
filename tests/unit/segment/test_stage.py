import json

import numpy as np
import pytest
from scipy import ndimage

from tomopress.io.h5store import read_array_h5, write_array_h5
from tomopress.metrics import contact_metrics
from tomopress.segment.denoise import denoise, estimate_noise_sigma, sample_blocks
from tomopress.segment.labelling import (
    apply_thresholds,
    marker_watershed,
    remove_false_rim,
    remove_small_objects_3phase,
    segment_volume,
    split_se_void_by_midpoint,
)
from tomopress.segment.levels import fit_partial_volume_mixture, multiotsu_thresholds
from tomopress.segment.stage import (
    denoise_median,
    levels_from_crops,
    scan_levels,
    segment_layer_file,
    thresholds_file,
)
from tomopress.types import AM, SE, VOID

MU = np.array([0.0, 21.0, 80.0])  # void, LGPS, NCM at 20 keV (1/cm)


def test_three_gaussian_classes_are_recovered():
    """Well separated grey levels (void 0, SE 21, AM 80 /cm) with noise: >99 % voxels right."""
    rng = np.random.default_rng(5)
    truth = rng.choice([VOID, SE, AM], size=(16, 32, 32), p=[0.2, 0.4, 0.4]).astype(np.uint8)
    grey = MU[truth] + rng.normal(0, 3.0, truth.shape)
    low, high = multiotsu_thresholds(grey)
    assert 3 < low < 18 and 30 < high < 70
    labels = apply_thresholds(grey, low=low, high=high)
    assert np.mean(labels == truth) > 0.99


def test_median_removes_isolated_outlier():
    vol = np.zeros((3, 3, 3), dtype=np.float32)
    vol[1, 1, 1] = 100
    assert denoise_median(vol, size_px=3)[1, 1, 1] == 0
    assert denoise_median(vol, size_px=1)[1, 1, 1] == 100


def test_constant_volume_cannot_be_segmented():
    with pytest.raises(ValueError, match="fewer than 3 distinct grey levels"):
        multiotsu_thresholds(np.ones((4, 4, 4)))


def test_noise_sigma_from_the_dominant_peak():
    rng = np.random.default_rng(1)
    v = np.r_[rng.normal(21, 6, 80_000), rng.normal(0, 6, 8_000)]  # separator: SE + few voids
    assert estimate_noise_sigma(v) == pytest.approx(6, rel=0.08)


def test_nl_means_needs_sigma_and_reduces_noise():
    rng = np.random.default_rng(2)
    v = (21 + rng.normal(0, 6, (8, 24, 24))).astype(np.float32)
    with pytest.raises(ValueError, match="noise_sigma"):
        denoise(v, method="nl_means")
    with pytest.raises(ValueError, match="unknown denoiser"):
        denoise(v, method="bilateral")
    assert denoise(v, method="nl_means", noise_sigma=6.0).std() < 0.5 * v.std()


def test_mixture_is_not_pulled_onto_the_partial_volume_plateau():
    """A free 3-class fit drifts to the SE/AM plateau; the partial-volume mixture does not."""
    rng = np.random.default_rng(3)
    t = rng.uniform(size=30_000)
    v = np.r_[rng.normal(0, 5, 20_000), rng.normal(21, 5, 30_000), rng.normal(80, 5, 40_000),
              21 + 59 * t + rng.normal(0, 5, t.size)]  # SE|AM edges
    lv = fit_partial_volume_mixture(v, initial_means=(0.0, 18.0, 75.0))
    assert lv.means == pytest.approx((0, 21, 80), abs=1.5)
    assert lv.low == pytest.approx(10.5, abs=1) and lv.high == pytest.approx(50.5, abs=1)
    with pytest.raises(ValueError, match="increasing"):
        fit_partial_volume_mixture(v, initial_means=(20.0, 10.0, 80.0))


def _rim_phantom(rng, noise=3.0):
    """AM ball in void, an SE slab below; blurred like a reconstruction, with noise."""
    zz, yy, xx = np.mgrid[:24, :32, :32]
    truth = np.full(zz.shape, VOID, np.uint8)
    truth[zz >= 18] = SE
    truth[(zz - 11) ** 2 + (yy - 16) ** 2 + (xx - 16) ** 2 <= 8**2] = AM
    grey = ndimage.gaussian_filter(MU[truth], 1.0) + rng.normal(0, noise, truth.shape)
    return truth, grey.astype(np.float32)


def test_watershed_leaves_no_se_rim_where_thresholds_paint_one():
    rng = np.random.default_rng(4)
    truth, grey = _rim_phantom(rng)
    fc_true = contact_metrics(truth, voxel_size_um=1.0)["contact_area_fraction"]
    d = denoise(grey, method="median")
    thr = apply_thresholds(d, low=10.5, high=50.5)
    ws = marker_watershed(d, means=tuple(MU))
    fc_thr = contact_metrics(thr, voxel_size_um=1.0)["contact_area_fraction"]
    fc_ws = contact_metrics(ws, voxel_size_um=1.0)["contact_area_fraction"]
    assert fc_thr - fc_true > 0.3  # the rim
    # a blurred ball on a slab: the contact neck itself is widened by the blur
    assert abs(fc_ws - fc_true) < 0.25 * (fc_thr - fc_true)
    assert np.mean(ws == truth) > 0.97


def test_slabs_match_one_piece_and_small_objects_go():
    rng = np.random.default_rng(6)
    _, grey = _rim_phantom(rng)
    kw = dict(means=tuple(MU), denoiser="median")
    whole = segment_volume(grey, slab_planes=64, tile_px=0, **kw)
    slabs = segment_volume(grey, slab_planes=5, overlap_planes=6, n_threads=2, **kw)
    assert np.mean(whole == slabs) > 0.999
    blocks = segment_volume(grey, slab_planes=8, tile_px=12, overlap_planes=3, n_threads=2, **kw)
    assert np.mean(whole == blocks) > 0.998
    lab = np.full((6, 6, 6), SE, np.uint8)
    lab[3, 3, 3] = VOID
    assert not (remove_small_objects_3phase(lab, min_voxels=2) == VOID).any()
    with pytest.raises(ValueError, match="unknown method"):
        segment_volume(grey, means=tuple(MU), method="kmeans")


def test_levels_methods_and_errors():
    rng = np.random.default_rng(7)
    truth, grey = _rim_phantom(rng)
    sep = (21 + rng.normal(0, 3, (6, 32, 32))).astype(np.float32)
    for method in ("gmm", "modes", "multiotsu"):
        lv = scan_levels(grey, sep, method=method, void_level=0.0)
        assert lv.low < lv.high and lv.means[0] < lv.means[1] < lv.means[2]
    with pytest.raises(ValueError, match="unknown method"):
        scan_levels(grey, sep, method="kmeans", void_level=0.0)


def test_files_record_levels_and_write_labels_and_qc(tmp_path):
    rng = np.random.default_rng(8)
    truth, grey = _rim_phantom(rng)
    attrs = {"voxel_size_um": 0.5, "units": "1/cm", "layer": "composite", "z_rows": [0, 24],
             "roi_xy": [0, 32, 0, 32]}
    sep = (21 + rng.normal(0, 3, (6, 32, 32))).astype(np.float32)
    write_array_h5(tmp_path / "c.h5", {"volume": grey}, attrs=attrs)
    write_array_h5(tmp_path / "s.h5", {"volume": sep}, attrs={**attrs, "layer": "separator"})
    th = thresholds_file(str(tmp_path / "c.h5"), str(tmp_path / "s.h5"), str(tmp_path / "t.json"),
                         method="gmm", void_level=0.0, denoiser="nl_means")
    rec = json.loads((tmp_path / "t.json").read_text())
    assert rec["means"] == th["means"] and rec["noise_sigma"] == pytest.approx(3, rel=0.2)
    assert rec["normalised"]["means"][0] == pytest.approx(0, abs=0.05)
    assert rec["normalised"]["means"][2] == pytest.approx(1)
    out = segment_layer_file(str(tmp_path / "c.h5"), str(tmp_path / "t.json"),
                             str(tmp_path / "l.h5"), qc_path=str(tmp_path / "qc.png"))
    labels, la = read_array_h5(tmp_path / "l.h5", "labels")
    assert la["method"] == "gmm+watershed" and labels.dtype == np.uint8
    assert np.mean(labels == truth) > 0.95 and out["fractions"]["am"] > 0.05
    assert (tmp_path / "qc.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="unknown labelling"):
        segment_layer_file(str(tmp_path / "c.h5"), str(tmp_path / "t.json"),
                           str(tmp_path / "l2.h5"), labelling="otsu")


def test_levels_from_a_sample_match_the_whole_crop():
    """Fitting the levels on a denoised sample of the crop (rule segment_thresholds) gives the
    means of the whole crop, and the sample stays within its budget and spreads over the crop."""
    rng = np.random.default_rng(9)
    truth, grey = _rim_phantom(rng)
    grey = np.concatenate([grey, grey[::-1]], axis=0)  # 48 x 32 x 32
    sep = (21 + rng.normal(0, 3, (16, 32, 32))).astype(np.float32)
    whole, s_whole = levels_from_crops(grey, sep, method="gmm", void_level=0.0)
    part, s_part = levels_from_crops(grey, sep, method="gmm", void_level=0.0,
                                     max_sample_voxels=25_000)
    assert part.means == pytest.approx(whole.means, abs=1.5)
    assert part.means == pytest.approx(tuple(MU), abs=3)
    assert s_part == pytest.approx(s_whole, rel=0.1)
    blocks = sample_blocks(grey.shape, max_voxels=12_000, block_shape=(8, 8, 8))
    assert sum(np.prod([s.stop - s.start for s in b]) for b in blocks) <= 12_000
    assert {b[0].start for b in blocks} == set(range(0, 48, 8))  # every depth is sampled


def _planted_rim():
    """AM ball half in void, half in SE, blurred; labels = truth plus a one-voxel SE skin
    painted on the AM surface facing void (the false rim)."""
    zz, yy, xx = np.mgrid[:24, :32, :32]
    truth = np.full(zz.shape, VOID, np.uint8)
    truth[zz >= 12] = SE
    truth[(zz - 12) ** 2 + (yy - 16) ** 2 + (xx - 16) ** 2 <= 8**2] = AM
    grey = ndimage.gaussian_filter(MU[truth], 1.0).astype(np.float32)
    skin = ndimage.binary_dilation(truth == AM, ndimage.generate_binary_structure(3, 1))
    rim = skin & (truth == VOID)
    labels = truth.copy()
    labels[rim] = SE
    return truth, grey, labels, rim


def test_false_rim_is_removed_and_real_contact_kept():
    truth, grey, labels, rim = _planted_rim()
    out = remove_false_rim(labels, grey, means=tuple(MU))
    touching = (truth == SE) & ndimage.binary_dilation(
        truth == AM, ndimage.generate_binary_structure(3, 1))
    assert np.mean(out[rim] != SE) > 0.9  # the skin goes
    assert np.mean(out[touching] == SE) > 0.9  # real SE on AM stays
    fc_true = contact_metrics(truth, voxel_size_um=1.0)["contact_area_fraction"]
    fc_rim = contact_metrics(labels, voxel_size_um=1.0)["contact_area_fraction"]
    fc_out = contact_metrics(out, voxel_size_um=1.0)["contact_area_fraction"]
    assert fc_rim - fc_true > 0.3 and abs(fc_out - fc_true) < 0.1 * (fc_rim - fc_true)
    assert (remove_false_rim(labels, grey, means=tuple(MU), distance_px=0) == labels).all()


def test_midpoint_split_keeps_the_se_volume_of_a_partial_volume_ball():
    """SE ball in void on a 4x finer grid, averaged to voxels (partial volume): the midpoint
    split recovers the ball's volume from a labelling one voxel too generous."""
    f = 4
    z, y, x = np.mgrid[:24 * f, :24 * f, :24 * f]
    fine = ((z - 47.3) ** 2 + (y - 49.1) ** 2 + (x - 46.6) ** 2) <= (6.3 * f) ** 2
    frac = fine.reshape(24, f, 24, f, 24, f).mean(axis=(1, 3, 5))
    grey = (MU[1] * frac).astype(np.float32)
    dilated = ndimage.binary_dilation(frac > 0.5)  # a labelling one voxel too generous
    labels = np.where(dilated, SE, VOID).astype(np.uint8)
    out = split_se_void_by_midpoint(labels, grey, means=tuple(MU))
    true_volume = frac.sum()
    assert np.count_nonzero(out == SE) == pytest.approx(true_volume, rel=0.03)
    assert np.count_nonzero(labels == SE) > 1.3 * true_volume
    with_am = labels.copy()
    with_am[0, 0, 0] = AM  # next to AM the watershed's labels stay
    kept = split_se_void_by_midpoint(with_am, grey, means=tuple(MU), away_from_am_px=2)
    assert kept[0, 1, 1] == with_am[0, 1, 1] and kept[0, 0, 0] == AM
