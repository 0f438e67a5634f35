"""Truncated projections (issue 14): a cell wider than the detector, against its full scan.

The phantom is the realistic cell's cross-section in analytic form (phantoms2d: exact line
integrals, no discrete projector): an LGPS disc 5 % wider than the detector holding NCM
particles, inside a glass tube 1.4 detector widths across. The reference is the same phantom
scanned on a detector wide enough to hold the tube, reconstructed and cut to the narrow
detector's grid. Error: rms over the reconstructed field of view (inscribed circle less 2 px),
relative to the AM - SE contrast (59 cm⁻¹).
"""

from __future__ import annotations

import numpy as np
import pytest

from tomopress.recon.reconstruct import reconstruct_slices
from tomopress.synthetic import phantoms2d as ph

N_COLS, N_WIDE = 128, 320
PIXEL_UM = 0.5
MU_SE, MU_AM, MU_GLASS = 21.0, 80.0, 5.4  # cm⁻¹ at 20 keV
CONTRAST = MU_AM - MU_SE


def _cell(sample_frac: float, tube_frac: float, seed: int) -> list[ph.Ellipse]:
    per_px = PIXEL_UM * 1e-4  # cm per pixel: phantom values are attenuation per pixel length
    r_s, r_t = sample_frac * N_COLS / 2, tube_frac * N_COLS / 2
    rng = np.random.default_rng(seed)
    objs = [ph.disc(MU_GLASS * per_px, 0, 0, r_t), ph.disc(-MU_GLASS * per_px, 0, 0, r_s),
            ph.disc(MU_SE * per_px, 0, 0, r_s)]
    for _ in range(25):
        r = rng.uniform(4, 10)
        rho, a = rng.uniform(0, r_s - r), rng.uniform(0, 2 * np.pi)
        objs.append(ph.disc((MU_AM - MU_SE) * per_px, rho * np.cos(a), rho * np.sin(a), r))
    return objs


def _errors(sample_frac: float, tube_frac: float, seed: int = 0) -> dict[str, float]:
    objs = _cell(sample_frac, tube_frac, seed)
    angles = np.linspace(0, np.pi, 400, endpoint=False)
    c = (N_COLS - 1) / 2 + 1.3  # axis off the detector middle, as in a real scan
    shift = (N_WIDE - N_COLS) / 2
    wide = ph.sinogram(objs, angles, n_cols=N_WIDE, center_px=c + shift, detector_supersample=4)
    ref = reconstruct_slices(wide[:, None].astype(np.float32), angles, center_px=c + shift,
                             pixel_size_um=PIXEL_UM, backend="gridding", padding="zero")[0]
    o = (N_WIDE - N_COLS) // 2
    ref = ref[o:o + N_COLS, o:o + N_COLS]
    narrow = ph.sinogram(objs, angles, n_cols=N_COLS, center_px=c, detector_supersample=4)
    yy, xx = np.mgrid[:N_COLS, :N_COLS] - (N_COLS - 1) / 2
    fov = np.hypot(yy, xx) <= N_COLS / 2 - 2
    out = {}
    for padding in ("zero", "edge", "smooth"):
        rec = reconstruct_slices(narrow[:, None].astype(np.float32), angles, center_px=c,
                                 pixel_size_um=PIXEL_UM, backend="gridding", padding=padding)[0]
        out[padding] = float(np.sqrt(np.mean((rec - ref)[fov] ** 2)) / CONTRAST)
    return out


@pytest.fixture(scope="module")
def cell_errors():
    return [_errors(1.05, 1.4, seed) for seed in range(4)]


def test_smooth_padding_matches_the_untruncated_scan_within_1_percent(cell_errors):
    """The issue 14 target, on average over 4 particle layouts (0.7 % to 1.5 % each; the
    roll-off length was chosen on layout 0 among 12, 16 and 24 columns). Zero padding (the old
    behaviour) is off by 9-10 % of the contrast, edge padding by as much (its plateau
    overshoots a sample that ends just past the detector edge)."""
    smooth = [e["smooth"] for e in cell_errors]
    assert np.mean(smooth) <= 0.01 and max(smooth) <= 0.016, cell_errors
    assert min(e["zero"] for e in cell_errors) > 0.08, cell_errors
    assert min(e["edge"] for e in cell_errors) > 0.08, cell_errors


@pytest.mark.parametrize(("sample_frac", "tube_frac"), [(0.95, 1.4), (1.15, 1.4), (1.1, 1.3)])
def test_smooth_padding_beats_zero_padding_for_other_overhangs(sample_frac, tube_frac):
    """A sample inside the detector in a wider tube, or reaching further out: smooth padding
    stays within 2.5 % of the contrast and at least 3x better than zero padding."""
    err = _errors(sample_frac, tube_frac)
    assert err["smooth"] <= 0.025 and err["smooth"] * 3 < err["zero"], err


def test_unknown_padding_is_refused():
    with pytest.raises(ValueError, match="padding"):
        reconstruct_slices(np.zeros((4, 1, 8), np.float32), np.linspace(0, np.pi, 4),
                           center_px=3.5, pixel_size_um=0.5, padding="reflect")
