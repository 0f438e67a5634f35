import numpy as np
import pytest

from tomopress.prep.flatfield import average_frames, flatfield_correct
from tomopress.prep.rings import (
    detect_stripe,
    remove_all_stripe,
    remove_dead_stripe,
    remove_large_stripe,
    remove_rings,
    remove_stripe_based_sorting,
)
from tomopress.recon.reconstruct import reconstruct_slices
from tomopress.synthetic.beamtime import SyntheticParams, simulate_projections


def _disc_sinogram(n_angles=180, n_cols=512, noise=0.005, seed=0):
    """Sinogram of a centred disc (radius 230 px) with four Gaussian blobs, plus white noise.

    Line integrals up to ~1.4; the sample is wide compared with the filter windows, as on a
    2048-column detector.
    """
    rng = np.random.default_rng(seed)
    theta = np.linspace(0, np.pi, n_angles, endpoint=False)[:, None]
    u = np.arange(n_cols)[None, :] - (n_cols - 1) / 2
    sino = 0.004 * np.sqrt(np.clip(230.0**2 - u**2, 0, None)) + 0 * theta
    for x, y, amp in ((20.0, 10.0, 0.3), (-40.0, 25.0, 0.2), (6.0, -50.0, 0.25), (60, 40, 0.2)):
        s = x * np.cos(theta) - y * np.sin(theta)
        sino = sino + amp * np.exp(-0.5 * ((u - s) / 6.0) ** 2)
    return (sino + noise * rng.standard_normal(sino.shape)).astype(np.float32)


def test_sorting_removes_full_and_partial_stripes():
    clean = _disc_sinogram()
    sino = clean.copy()
    sino[:, 300] += 0.05  # full stripe (gain error in one pixel for the whole scan)
    sino[60:120, 350] -= 0.05  # partial stripe (mean offset 0.017)
    out = remove_stripe_based_sorting(sino, size=11)
    assert out.dtype == np.float32 and out.shape == sino.shape
    for col in (300, 350):
        # the column's mean error (what makes the ring) falls to noise level (0.005 / 13)
        assert abs(np.mean(out[:, col] - clean[:, col])) < 0.003
    assert np.sqrt(np.mean((out - clean) ** 2)) < 0.006  # ~ the white noise it also smooths


def test_detect_stripe_finds_outlying_columns_only():
    rng = np.random.default_rng(3)
    values = 1 + 0.01 * rng.standard_normal(128)
    assert not detect_stripe(values, snr=3.0).any()
    values[[17, 90]] = [1.2, 0.8]
    assert np.flatnonzero(detect_stripe(values, snr=3.0)).tolist() == [17, 90]
    with pytest.raises(ValueError, match="snr"):
        detect_stripe(values, snr=1.0)


def test_large_stripe_is_reduced():
    clean = _disc_sinogram()
    sino = clean.copy()
    sino[:, 200:206] *= 1.1  # 6 columns wide, +0.095: too wide for a small sorting window
    out = remove_large_stripe(sino, snr=3.0, size=31, norm=False)
    before = np.abs(np.mean(sino[:, 200:206] - clean[:, 200:206], axis=0)).max()
    after = np.abs(np.mean(out[:, 200:206] - clean[:, 200:206], axis=0)).max()
    assert before > 0.09 and after < 0.4 * before
    # only the detected stripe columns (and one neighbour each side) are replaced
    changed = np.flatnonzero(np.any(out != sino, axis=0))
    assert {199, 200, 205, 206} <= set(changed.tolist()) and changed.size < 20


def test_dead_stripe_is_interpolated():
    rng = np.random.default_rng(4)
    clean = _disc_sinogram()
    sino = clean.copy()
    sino[:, 220] = rng.uniform(0, 2, sino.shape[0])  # unresponsive, fluctuating pixel
    out = remove_dead_stripe(sino, snr=3.0, size=31, residual=False)
    assert np.flatnonzero(np.any(out != sino, axis=0)).tolist() == [219, 220, 221]
    assert np.sqrt(np.mean((out[:, 220] - clean[:, 220]) ** 2)) < 0.02
    both = remove_all_stripe(sino, snr=3.0, large_size=31, size=11)
    assert np.sqrt(np.mean((both[:, 220] - clean[:, 220]) ** 2)) < 0.05


def test_remove_rings_modes_and_errors():
    sino = np.stack([_disc_sinogram(seed=s) for s in range(3)], axis=1)
    np.testing.assert_array_equal(remove_rings(sino, method="none"), sino)
    row_by_row = np.stack([remove_stripe_based_sorting(sino[:, r], size=5) for r in range(3)],
                          axis=1)
    work = sino.copy()
    out = remove_rings(work, method="sorting", size=5, out=work)
    assert out is work
    np.testing.assert_array_equal(work, row_by_row)
    for method in ("large", "dead", "all"):
        assert remove_rings(sino, method=method, size=5, large_size=21).shape == sino.shape
    with pytest.raises(ValueError, match="unknown ring method"):
        remove_rings(sino, method="wavelet")
    with pytest.raises(ValueError, match="n_angles, n_rows, n_cols"):
        remove_rings(sino[:, 0])
    with pytest.raises(ValueError, match="size"):
        remove_rings(sino, size=0)
    bad = sino.copy()
    bad[3, 1, 4] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        remove_rings(bad)


# ---------------------------------------------------------------------------------------------
# Ring artifact in reconstructions of a synthetic scan

_PARAMS = SyntheticParams(
    n_rows=8, n_cols=128, n_angles=180, pixel_size_um=0.5, separator_rows=3, transition_rows=1,
    roi_size_px=64, n_ring_columns=4, ring_gain_error=0.1,
)


@pytest.fixture(scope="module")
def ring_scan():
    scan = simulate_projections(_PARAMS, pressure_mpa=50.0, seed=3)
    sino, stats = flatfield_correct(scan.data, average_frames(scan.flats),
                                    average_frames(scan.darks), zinger_threshold=0.3)
    assert stats.n_bad_flat > 0 and stats.n_zingers >= _PARAMS.n_zingers
    angles = np.deg2rad(scan.theta_deg)
    n = _PARAMS.n_cols
    yy, xx = np.mgrid[:n, :n]
    radius = np.hypot(yy - (n - 1) / 2, xx - (n - 1) / 2)
    inside = radius < 0.9 * _PARAMS.cylinder_diameter_frac * n / 2  # within the sample

    def recon(s):
        return reconstruct_slices(s, angles, center_px=_PARAMS.center_px,
                                  pixel_size_um=_PARAMS.pixel_size_um, backend="gridding")

    truth = recon(scan.ideal_line_integrals)
    return {"scan": scan, "sino": sino, "recon": recon, "truth": truth, "inside": inside,
            "radius_bin": np.floor(radius).astype(int)}


def _ring_measure(rec, s):
    """Std of the radial-mean profile of (rec - truth), 1 px polar bins, mean over the rows."""
    diff = (rec - s["truth"]).mean(axis=0)
    bins, inside = s["radius_bin"], s["inside"]
    profile = np.bincount(bins[inside], diff[inside]) / np.bincount(bins[inside])
    return float(profile.std())


def test_ring_removal_reduces_the_ring_artifact_at_least_5x(ring_scan):
    """Sorting-based removal cuts the ring artifact of a noisy synthetic scan by >= 5x.

    Scan: 8 rows x 128 columns x 180 angles, 0.5 µm pixels, Poisson noise, 4 ring columns with
    5-10 % gain errors not in the flats, a dead column (interpolated by the flat-field) and
    zingers (removed at threshold 0.3). Measure: reconstruct the flat-fielded sinogram without
    and with ``remove_rings(method="sorting", size=5)``, and the ideal noise-free line
    integrals as truth; ring measure = standard deviation of the radial-mean profile of
    (reconstruction - truth), averaged over the 8 rows and over angle in 1 px polar bins about
    the rotation axis, within 90 % of the sample radius. Measured: 19.2 -> 1.38 cm⁻¹ (13.9x;
    ``method="large"``/``"all"`` give 6.4x/7.0x).
    """
    s = ring_scan
    before = _ring_measure(s["recon"](s["sino"]), s)
    after = _ring_measure(s["recon"](remove_rings(s["sino"], method="sorting", size=5)), s)
    assert before / after >= 5.0


def test_ring_removal_barely_changes_a_ring_free_sinogram(ring_scan):
    """Ring removal on the ideal (ring-free, noise-free) line integrals.

    The sorting filter smooths genuine column-to-column structure a little: the rms change of
    the reconstruction is ~4 % of its range inside the sample, a sixth of the noise already in
    the noisy reconstruction (measured 4.2 %, 0.13 x noise); the ring-shaped part of it
    (radial-mean profile std) is 0.7 % of the range.
    """
    s = ring_scan
    truth, inside = s["truth"], s["inside"]
    cleaned = s["recon"](remove_rings(s["scan"].ideal_line_integrals, method="sorting", size=5))
    value_range = float(np.ptp(truth[:, inside]))
    change_rms = float(np.sqrt(np.mean((cleaned - truth)[:, inside] ** 2)))
    noise_rms = float(np.sqrt(np.mean((s["recon"](s["sino"]) - truth)[:, inside] ** 2)))
    assert change_rms < 0.05 * value_range
    assert change_rms < 0.2 * noise_rms
    assert _ring_measure(cleaned, s) < 0.01 * value_range


@pytest.mark.parametrize("size", [1, 3, 4, 21, 51, 99])
def test_running_median_equals_scipys_median_filter(size):
    from scipy import ndimage

    from tomopress.prep.rings import _median_across_columns

    sorted_t = np.sort(np.random.default_rng(size).random((60, 37), dtype=np.float32), axis=1)
    np.testing.assert_array_equal(
        _median_across_columns(sorted_t, size),
        ndimage.median_filter(sorted_t, size=(size, 1), mode="reflect"),
    )


@pytest.mark.parametrize("method", ["sorting", "all"])
def test_threaded_ring_removal_equals_serial(method):
    rng = np.random.default_rng(3)
    slab = rng.random((48, 5, 64), dtype=np.float32)
    slab[:, :, 20] += 0.5
    serial = remove_rings(slab, method=method, size=5, large_size=11)
    np.testing.assert_array_equal(remove_rings(slab, method=method, size=5, large_size=11,
                                               n_threads=3), serial)
