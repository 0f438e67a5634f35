import json

import h5py
import numpy as np
import pytest
from matplotlib.image import imread

from tomopress.io import open_scan
from tomopress.prep.center import (
    DEFAULT_MIN_CONFIDENCE,
    center_file,
    center_of_mass_center,
    center_qc_png,
    find_center,
    vo_center,
)
from tomopress.prep.flatfield import average_frames, flatfield_correct
from tomopress.synthetic import phantoms2d

#: tomopy's own tutorial on this file ("Reconstruction with TomoPy",
#: https://tomopy.readthedocs.io/en/latest/ipynb/tomopy.html, source
#: github.com/tomopy/tomopy doc/source/ipynb/tomopy.ipynb) runs
#: ``tomopy.find_center(proj, theta, init=290, ind=0, tol=0.5)`` on rows 0:2 after -log; its
#: logged Nelder-Mead search ends at 295.890625 (its neighbour vertex is 296.34375, function
#: values 1.906942 and 1.906685). tike's tests also hard-code ``center = 295.890625`` for it.
TOMOPY_TOOTH_CENTER_PX = 295.89

_THETA = np.linspace(0, np.pi, 180, endpoint=False)
_OBJECTS = [
    phantoms2d.disc(1.0, 20.0, -10.0, 9.0),
    phantoms2d.disc(1.0, -25.0, 15.0, 6.0),
    phantoms2d.Ellipse(0.5, 5.0, 20.0, 12.0, 5.0, 0.3),
]


def _disc_sinogram(center_px, n_cols=128, n_angles=180, discs=((20.0, -10.0, 9.0), (-25, 15, 6))):
    """Exact parallel-beam sinogram of uniform discs (x, y, radius): chord 2 sqrt(r² - d²)."""
    theta = np.linspace(0, np.pi, n_angles, endpoint=False)
    u = np.arange(n_cols, dtype=np.float64)
    sino = np.zeros((n_angles, 1, n_cols))
    for x, y, r in discs:
        d = u[None, :] - center_px - (x * np.cos(theta) + y * np.sin(theta))[:, None]
        sino[:, 0, :] += 2 * np.sqrt(np.clip(r**2 - d**2, 0, None))
    return sino, theta


def _phantom_sinogram(center_px, theta=_THETA, n_cols=128):
    """Exact (analytic) sinogram of three ellipses, shape (n_angles, 1, n_cols)."""
    return phantoms2d.sinogram(_OBJECTS, theta, n_cols=n_cols, center_px=center_px)[:, None, :]


def _tooth_sinogram(shared_data):
    with open_scan(shared_data / "tomopy_tooth" / "tooth.h5") as scan:
        rows = slice(0, 2)
        sino, _ = flatfield_correct(scan.read_projections(rows),
                                    average_frames(scan.read_flats(rows)),
                                    average_frames(scan.read_darks(rows)))
        return sino, scan.angles_rad


def _write_dxchange(path, line_integrals, theta, rng, i0=20000.0):
    """A DXchange scan whose -log flat-fielded projections are `line_integrals` (+ Poisson)."""
    counts = rng.poisson(i0 * np.exp(-line_integrals)).astype(np.uint16) + 100
    n_rows, n_cols = line_integrals.shape[1:]
    with h5py.File(path, "w") as h5:
        h5["/exchange/data"] = counts
        h5["/exchange/data_white"] = rng.poisson(i0, (4, n_rows, n_cols)).astype(np.uint16) + 100
        h5["/exchange/data_dark"] = np.full((2, n_rows, n_cols), 100, np.uint16)
        h5["/exchange/theta"] = np.degrees(theta)
        h5["/exchange/theta"].attrs["units"] = "degrees"


# --- centre of mass -------------------------------------------------------------------------

@pytest.mark.parametrize("true_center", [63.5, 60.3, 67.85])
def test_centre_of_known_offset_within_a_tenth_of_a_pixel(true_center):
    sino, theta = _disc_sinogram(true_center)
    estimate = center_of_mass_center(sino, theta)
    assert estimate.center_px == pytest.approx(true_center, abs=0.1)
    assert estimate.confidence > 0.9
    assert estimate.method == "com"
    curve = np.array(estimate.metric)
    assert abs(estimate.candidates_px[np.argmin(curve)] - true_center) <= 0.25


def test_noise_and_few_rows_still_within_a_quarter_pixel():
    rng = np.random.default_rng(7)
    sino, theta = _disc_sinogram(61.7)
    sino = np.repeat(sino, 4, axis=1) + rng.normal(0, 0.5, size=(180, 4, 128))
    assert center_of_mass_center(sino, theta).center_px == pytest.approx(61.7, abs=0.25)


def test_empty_sinogram_is_refused():
    with pytest.raises(ValueError, match="no projection carries positive mass"):
        center_of_mass_center(np.zeros((10, 1, 16)), np.linspace(0, np.pi, 10))


# --- Vo's Fourier metric --------------------------------------------------------------------

@pytest.mark.parametrize("true_center", [60.3, 63.5, 67.85, 55.1])
def test_vo_finds_a_sub_pixel_axis_within_a_quarter_pixel(true_center):
    estimate = find_center(_phantom_sinogram(true_center), _THETA)
    assert estimate.method == "vo"
    assert estimate.center_px == pytest.approx(true_center, abs=0.25)
    assert estimate.confidence > 0.9


@pytest.mark.parametrize("true_center", [60.3, 66.45])
def test_vo_with_noise_within_a_quarter_pixel(true_center):
    rng = np.random.default_rng(19078)
    sino = np.repeat(_phantom_sinogram(true_center), 4, axis=1)
    sino = sino + rng.normal(0, 0.5, size=sino.shape)  # peak line integral is about 18
    estimate = find_center(sino, _THETA)
    assert estimate.center_px == pytest.approx(true_center, abs=0.25)
    assert estimate.confidence > DEFAULT_MIN_CONFIDENCE


def test_vo_metric_curve_is_lowest_at_the_axis():
    estimate = vo_center(_phantom_sinogram(60.3), _THETA)
    centres, metric = np.array(estimate.candidates_px), np.array(estimate.metric)
    assert centres.shape == metric.shape and centres.size > 100
    assert np.all(np.diff(centres) == pytest.approx(0.25))
    assert abs(centres[np.argmin(metric)] - 60.3) <= 0.125
    assert metric.min() < 0.05 < 0.5 < np.median(metric)  # normalised: ~1 off-centre


def test_vo_accepts_unsorted_non_uniform_and_full_turn_angles():
    rng = np.random.default_rng(3)
    theta = np.sort(rng.uniform(0, np.pi, 200))
    order = rng.permutation(theta.size)
    sino = _phantom_sinogram(62.2, theta)[order]
    assert find_center(sino, theta[order]).center_px == pytest.approx(62.2, abs=0.25)
    full = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    assert find_center(_phantom_sinogram(62.2, full), full).center_px == pytest.approx(
        62.2, abs=0.25)


def test_vo_search_range_restricts_the_candidates():
    estimate = vo_center(_phantom_sinogram(60.3), _THETA, search_px=(50.0, 70.0))
    assert estimate.candidates_px[0] == 50.0 and estimate.candidates_px[-1] == 70.0
    assert estimate.center_px == pytest.approx(60.3, abs=0.25)


def test_confidence_is_zero_for_noise_and_featureless_sinograms():
    rng = np.random.default_rng(16602)
    for shape in [(180, 4, 128), (30, 1, 64), (8, 1, 32)]:
        theta = np.linspace(0, np.pi, shape[0], endpoint=False)
        noise = find_center(rng.normal(0, 1, size=shape), theta)
        assert noise.confidence < 0.05 < DEFAULT_MIN_CONFIDENCE
    for flat in (np.zeros((180, 2, 128)), np.full((180, 2, 128), 3.0)):
        assert find_center(flat, _THETA).confidence == 0.0


def test_vo_refuses_bad_input():
    sino = _phantom_sinogram(60.0)
    with pytest.raises(ValueError, match="unknown centre method 'entropy'"):
        find_center(sino, _THETA, method="entropy")
    with pytest.raises(ValueError, match="needs a half turn"):
        find_center(sino, _THETA / 2)
    with pytest.raises(ValueError, match="n_angles"):
        find_center(sino[:, 0], _THETA)
    with pytest.raises(ValueError, match="finite"):
        find_center(np.where(sino > 5, np.nan, sino), _THETA)
    with pytest.raises(ValueError, match="search range"):
        find_center(sino, _THETA, search_px=(200.0, 300.0))


# --- real data ------------------------------------------------------------------------------

def test_tooth_centre_agrees_with_tomopy_within_a_pixel(shared_data):
    """Real APS scan ``tooth.h5`` (181 angles 0..179.0055°, no 180° projection), both rows.

    Reference: tomopy's tutorial "Reconstruction with TomoPy"
    (https://tomopy.readthedocs.io/en/latest/ipynb/tomopy.html; notebook
    github.com/tomopy/tomopy/blob/master/doc/source/ipynb/tomopy.ipynb) finds the centre with
    ``tomopy.find_center(proj, theta, init=290, ind=0, tol=0.5)``; its log ends at
    295.890625 px (neighbouring vertex 296.34375).  tomopy's ``center`` is the column
    coordinate of the axis with column j centred at j, 0-based, the convention of
    ``CenterEstimate.center_px`` (tomopy's gridrec takes it unchanged, see
    ``tomopress.recon.reconstruct._tomopy_gridrec``), so the values compare directly.
    """
    sino, theta = _tooth_sinogram(shared_data)
    vo = find_center(sino, theta)
    assert vo.center_px == pytest.approx(TOMOPY_TOOTH_CENTER_PX, abs=1.0)
    assert vo.confidence > 0.9
    com = find_center(sino, theta, method="com")  # the cross-check agrees too
    assert com.center_px == pytest.approx(vo.center_px, abs=1.0)


def test_qc_png_is_written_and_not_blank(shared_data, tmp_path):
    sino, theta = _tooth_sinogram(shared_data)
    sino = sino[:, :1, ::2]  # 320 columns keep the three reconstructions quick
    estimate = find_center(sino, theta)
    out = tmp_path / "qc" / "tooth_center.png"
    center_qc_png(sino, theta, estimate, out, pixel_size_um=1.0)
    image = imread(out)
    assert image.ndim == 3 and image.shape[1] > 2 * image.shape[0]
    assert float(np.var(image[..., :3])) > 0
    assert [p.name for p in out.parent.iterdir()] == ["tooth_center.png"]  # no temporaries


# --- files ----------------------------------------------------------------------------------

def _center_file(raw, out, **kwargs):
    options = dict(format="dxchange", reader_options={}, rows=(0, 4), n_rows=4, average="mean",
                   min_transmission=1e-4, override_px=None)
    return center_file(str(raw), str(out), **{**options, **kwargs})


def test_center_file_writes_json_and_qc_for_a_phantom_scan(tmp_path):
    rng = np.random.default_rng(1)
    p = np.repeat(_phantom_sinogram(61.3), 4, axis=1) * 0.05  # peak transmission about 0.4
    _write_dxchange(tmp_path / "phantom.h5", p, _THETA, rng)
    estimate = _center_file(tmp_path / "phantom.h5", tmp_path / "center.json",
                            qc_png=str(tmp_path / "center.png"))
    saved = json.loads((tmp_path / "center.json").read_text())
    assert saved["center_px"] == pytest.approx(61.3, abs=0.25) == estimate.center_px
    assert saved["method"] == "vo" and saved["confidence"] > 0.9
    assert saved["rows"] == [0, 4] and saved["n_columns"] == 128
    assert len(saved["candidates_px"]) == len(saved["metric"]) > 100
    assert float(np.var(imread(tmp_path / "center.png")[..., :3])) > 0


def test_center_file_refuses_a_low_confidence_centre_unless_the_sheet_sets_it(tmp_path):
    rng = np.random.default_rng(2)
    _write_dxchange(tmp_path / "blank.h5", np.zeros((180, 4, 96)), _THETA, rng)  # air only
    with pytest.raises(ValueError, match=r"blank\.h5.*confidence 0\.\d\d < min_confidence.*"
                                         r"set center_px for this scan in the sample sheet"):
        _center_file(tmp_path / "blank.h5", tmp_path / "center.json")
    assert not (tmp_path / "center.json").exists()
    estimate = _center_file(tmp_path / "blank.h5", tmp_path / "center.json", override_px=47.25)
    saved = json.loads((tmp_path / "center.json").read_text())
    assert estimate.center_px == saved["center_px"] == 47.25
    assert saved["method"] == "sample_sheet" and saved["confidence"] == 1.0
