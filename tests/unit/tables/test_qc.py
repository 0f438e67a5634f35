import numpy as np
import pytest

from tomopress.tables.qc import interface_masks_2d, orthogonal_slices, overlay_png, overlay_rgb
from tomopress.types import AM, SE, VOID


def test_interfaces_are_am_pixels_touching_se_or_void():
    lab = np.full((5, 5), SE, np.uint8)
    lab[2, 2] = AM
    lab[2, 3] = VOID
    am_se, am_void = interface_masks_2d(lab)
    assert am_se.sum() == 1 and am_void.sum() == 1 and am_se[2, 2] and am_void[2, 2]


def test_overlay_colours_contacts_green_and_blue():
    lab = np.array([[SE, AM, VOID]], np.uint8)
    rgb = overlay_rgb(np.zeros((1, 3)), lab)
    assert rgb.shape == (1, 3, 3) and rgb[0, 1, 2] == 1.0  # AM pixel: drawn opaque (blue last)
    lab2 = np.array([[SE, AM, SE]], np.uint8)
    assert tuple(overlay_rgb(np.zeros((1, 3)), lab2)[0, 1]) == (0.0, 0.85, 0.0)


def test_png_written_atomically(tmp_path):
    rng = np.random.default_rng(0)
    lab = rng.integers(0, 3, (6, 10, 12)).astype(np.uint8)
    assert {k: v.shape for k, v in orthogonal_slices(lab).items()} == {
        "xy": (10, 12), "xz": (6, 12), "yz": (6, 10)}
    out = tmp_path / "qc" / "seg.png"
    overlay_png(lab.astype(np.float32), lab, out, title="t", voxel_size_um=0.5)
    assert out.read_bytes()[:4] == b"\x89PNG" and not list(out.parent.glob(".tmp-*"))
    with pytest.raises(ValueError, match="same 3-D shape"):
        overlay_png(lab[:2], lab, out, title="t", voxel_size_um=0.5)
