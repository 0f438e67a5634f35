"""The contact probe: exact phantom volumes, and resolutions that hold on another geometry."""

import json

import numpy as np
import pytest
from scipy import ndimage

from tomopress.segment.contact_probe import (
    contact_probe,
    contact_probe_file,
    resolution_thickness,
    shell_phantom,
    surface_contact_share,
    with_contact_probe,
)
from tomopress.segment.labelling import segment_volume
from tomopress.segment.replica import fbp_noise
from tomopress.segment.stage import label_crop
from tomopress.types import AM, SE, VOID

LEVELS = (0.0, 21.0, 80.0)  # void, LGPS, NCM at 20 keV (1/cm)
BLUR_PX, NOISE = 0.9, 6.0


def _relabel(grey: np.ndarray) -> np.ndarray:
    return segment_volume(grey, means=LEVELS, method="watershed", denoiser="nl_means",
                          noise_sigma=NOISE)


@pytest.mark.parametrize("film", [False, True])
def test_phantom_holds_the_analytic_volumes(film):
    """Each cell's AM is the ball's volume 4/3 π R³ and its void the shell's, within 0.2 %."""
    thick = [0.0, 0.5, 1.5, 3.0]
    am, void, cell = shell_phantom(thick, film=film, radius_px=8.0, rng=np.random.default_rng(2))
    for i, t in enumerate(thick):
        part = np.s_[..., i * cell:(i + 1) * cell]
        assert am[part].sum() == pytest.approx(4 / 3 * np.pi * 8.0**3, rel=2e-3)
        inside = 4 / 3 * np.pi * (8.0 + t) ** 3
        expected = cell**3 - inside if film else inside - 4 / 3 * np.pi * 8.0**3
        assert void[part].sum() == pytest.approx(expected, rel=2e-3, abs=1e-3)
    assert np.all(am + void <= 1 + 1e-6)


def test_resolution_is_where_the_misread_share_last_falls_to_half():
    assert resolution_thickness([0, 1, 2], [0.2, 0.1, 0.0]) == 0.0
    assert resolution_thickness([0, 1, 2], [0.9, 0.7, 0.6]) is None
    # a dip below one half that comes back up does not count; NaN (no faces) is misread
    assert resolution_thickness([0, 1, 2, 3], [0.4, 0.8, 0.6, 0.2]) == pytest.approx(2.25)
    assert resolution_thickness([0, 1, 2], [0.9, float("nan"), 0.1]) == pytest.approx(1 + 0.5 / 0.9)


def _planar_slabs(thick: float, *, film: bool, rng: np.random.Generator):
    """AM slabs along x, each followed by a gap (then SE) or an SE film (then 6 voxels of void,
    then SE), at random sub-voxel positions; exact voxel shares of axis-aligned planes."""
    period, n = 24, 6
    x = np.arange(period * n, dtype=float)
    am = np.zeros_like(x)
    void = np.zeros_like(x)

    def share(lo: float, hi: float) -> np.ndarray:  # of each voxel [x - 1/2, x + 1/2] in [lo, hi]
        return np.clip(np.minimum(x + 0.5, hi) - np.maximum(x - 0.5, lo), 0, None)

    for k in range(n):
        a = k * period + 4 + rng.uniform()
        edge = a + 9.0
        am += share(a, edge)
        void += share(edge + thick, edge + thick + 6.0) if film else share(edge, edge + thick)
    shape = (12, 16, x.size)
    return (np.broadcast_to(am, shape).astype(np.float32),
            np.broadcast_to(void, shape).astype(np.float32))


def _planar_contact(thick: float, *, film: bool, seed: int) -> float:
    rng = np.random.default_rng(seed)
    am, void = _planar_slabs(thick, film=film, rng=rng)
    grey = LEVELS[2] * am + LEVELS[1] * (1 - am - void)
    grey = ndimage.gaussian_filter(grey, BLUR_PX, mode="nearest")
    grey += fbp_noise(grey.shape, NOISE, rng)
    labels = _relabel(grey)
    # only the faces towards the probed gap or film (+x); the slabs' other sides touch SE
    am_lab = labels[..., :-1] == AM
    nxt = labels[..., 1:]
    to_se = np.count_nonzero(am_lab & (nxt == SE))
    to_void = np.count_nonzero(am_lab & (nxt == VOID))
    return to_se / (to_se + to_void)


def test_probed_resolutions_hold_for_planar_gaps_and_films():
    """The probe (spheres) says how thin a gap and a film the labeller misses at blur 0.9 px and
    noise 6/cm. Planar gaps and films at other positions, rendered with exact voxel shares,
    bear it out: 3/4 of the resolution reads wrong on most of the face, 3/2 of it reads right."""
    probe = contact_probe(levels=LEVELS, blur_sigma_px=BLUR_PX, noise_sigma=NOISE,
                          relabel=_relabel)
    gap, film = probe["gap_resolution_px"], probe["film_resolution_px"]
    assert gap is not None and film is not None and 0.5 < gap < 4 and 0.5 < film < 5
    assert probe["gap_contact"][0] > 0.9  # AM against SE reads as contact
    assert _planar_contact(0.75 * gap, film=False, seed=3) > 0.7  # thin gap: read as contact
    assert _planar_contact(1.5 * gap, film=False, seed=4) < 0.3
    assert _planar_contact(0.75 * film, film=True, seed=5) < 0.3  # thin film: read as a gap
    assert _planar_contact(1.5 * film, film=True, seed=6) > 0.7


def test_surface_share_counts_faces_in_every_direction():
    lab = np.full((3, 3, 3), SE, np.uint8)
    lab[1, 1, 1] = AM
    lab[1, 1, 2] = VOID
    assert surface_contact_share(lab) == pytest.approx(5 / 6)
    assert np.isnan(surface_contact_share(np.full((2, 2, 2), SE, np.uint8)))


def test_a_labeller_blind_to_voids_resolves_neither_gaps_nor_films():
    """Voids labelled SE: every gap reads as contact (the thickest too), and a void at AM
    reads as contact, so no film thickness can be told from it."""
    probe = contact_probe(levels=LEVELS, blur_sigma_px=0.5, noise_sigma=0.0,
                          relabel=lambda g: np.where(g > 50.0, AM, SE).astype(np.uint8))
    assert probe["gap_contact"] == pytest.approx([1.0] * len(probe["thicknesses_px"]))
    assert probe["gap_resolution_px"] is None
    assert probe["gap_unresolved"] == "the thickest probed is misread"
    assert probe["film_resolution_px"] is None
    assert probe["film_unresolved"] == "a void at AM reads as contact"


def test_probe_file_is_the_probe_with_the_scans_records(tmp_path):
    """The rule's file function renders with the calibration's blur and the thresholds' noise
    and labels with the record's levels: the same result as the probe called directly."""
    thresholds = {"means": list(LEVELS), "noise_sigma": NOISE, "low": 10.5, "high": 50.5,
                  "denoiser": "none", "median_size_px": 3, "nlm_h_factor": 0.8,
                  "nlm_patch_distance_px": 3, "method": "gmm"}
    (tmp_path / "t.json").write_text(json.dumps(thresholds))
    (tmp_path / "c.json").write_text(json.dumps({"blur_sigma_px": BLUR_PX}))
    got = contact_probe_file(str(tmp_path / "t.json"), str(tmp_path / "c.json"),
                             str(tmp_path / "p.json"), segment_options={"labelling": "thresholds"})
    assert json.loads((tmp_path / "p.json").read_text()) == got
    direct = contact_probe(levels=LEVELS, blur_sigma_px=BLUR_PX, noise_sigma=NOISE,
                           relabel=lambda g: label_crop(g, thresholds, labelling="thresholds")[0])
    assert got == {"blur_sigma_px": BLUR_PX, "noise_sigma": NOISE, **direct}


def test_probe_columns_join_only_layers_with_a_contact_fraction():
    probe = {"thicknesses_px": [0.0, 6.0], "gap_resolution_px": None,
             "gap_unresolved": "AM against SE reads as a gap", "film_resolution_px": 2.0}
    rec = with_contact_probe({"voxel_size_um": 0.25, "contact_area_fraction": 0.4,
                              "contact_area_fraction_note": ""}, probe)
    assert rec["contact_gap_resolution_um"] is None and rec["contact_film_resolution_um"] == 0.5
    assert rec["contact_probe_max_um"] == 1.5
    assert rec["contact_area_fraction_note"] == (
        "AM against SE reads as a gap, so gaps cannot be told from contact; "
        "SE films thinner than 0.50 µm read as gaps")
    empty = {"voxel_size_um": 0.25, "contact_area_fraction": None,
             "contact_area_fraction_note": "no AM in the layer"}
    assert with_contact_probe(empty, probe) == empty
