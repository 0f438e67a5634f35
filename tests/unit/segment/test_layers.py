"""Layer finding in a crowded field of view (tomopress.segment.layers)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tomopress.segment.layers import find_layers, layers_qc_png

N = 64


def _cell_volume(rng: np.random.Generator, *, flip: bool = False) -> tuple[np.ndarray, dict]:
    """Rod, foil, separator (SE with voids), composite (AM discs in SE), air gap, rod."""
    rows = {"rod_top": (0, 4), "foil": (4, 8), "separator": (8, 22), "composite": (22, 44),
            "air": (44, 47), "rod_bottom": (47, 52)}
    nz = 52
    vol = np.empty((nz, N, N), np.float32)
    yy, xx = np.mgrid[:N, :N]
    for z in range(nz):
        plane = np.full((N, N), 21.0, np.float32)  # SE
        if rows["separator"][0] <= z < rows["separator"][1]:
            voids = rng.random((N // 4, N // 4)) < 0.08
            plane[np.kron(voids, np.ones((4, 4), bool))] = 0.0
        elif rows["composite"][0] <= z < rows["composite"][1]:
            for _ in range(12):
                cy, cx, r = rng.uniform(0, N), rng.uniform(0, N), rng.uniform(4, 7)
                plane[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = 80.0
        elif rows["foil"][0] <= z < rows["foil"][1]:
            plane[:] = 100.0  # In-Li: about 4x the sample level, not saturated
        elif rows["air"][0] <= z < rows["air"][1]:
            plane[:] = 0.0
        else:
            plane[:] = 900.0
        vol[z] = plane + rng.normal(0, 4, (N, N))
    if flip:
        vol = vol[::-1].copy()
        rows = {k: (nz - b, nz - a) for k, (a, b) in rows.items()}
    return vol, rows


@pytest.mark.parametrize("flip", [False, True], ids=["separator_on_top", "composite_on_top"])
def test_bands_and_crops_of_a_crowded_cell(flip):
    vol, true = _cell_volume(np.random.default_rng(3), flip=flip)
    found = find_layers(vol, z_offset_rows=100, transition_rows=2, roi_size_px=40)
    classes = [b["class"] for b in found["bands"]]
    assert "anode_foil" in classes and "air" in classes and "composite" in classes
    assert any(c.startswith("metal") for c in classes)
    for name in ("composite", "separator"):
        a, b = found["layers"][name]
        t0, t1 = (v + 100 for v in true[name])
        assert t0 <= a < b <= t1, (name, found["layers"], true)
        assert b - a >= (t1 - t0) - 8  # not more than the transition rows and the blur lost
    foil = next(b for b in found["bands"] if b["class"] == "anode_foil")
    assert (foil["start"], foil["stop"]) == tuple(v + 100 for v in true["foil"])


def test_air_below_the_composite_is_no_second_interface():
    """The case that stopped issue 14's user: air rows on both sides of the sample."""
    vol, true = _cell_volume(np.random.default_rng(5))
    vol[: true["foil"][1]] = np.random.default_rng(1).normal(0, 4, (true["foil"][1], N, N))
    vol[true["air"][0]:] = np.random.default_rng(2).normal(0, 4, (52 - true["air"][0], N, N))
    found = find_layers(vol, z_offset_rows=0, transition_rows=2, roi_size_px=40)
    assert [b["class"] for b in found["bands"]] == ["air", "separator", "composite", "air"]
    assert found["layers"]["separator"][0] >= true["separator"][0]
    assert found["layers"]["composite"][1] <= true["composite"][1]


def test_undecidable_volume_lists_its_bands_and_what_to_set():
    vol, true = _cell_volume(np.random.default_rng(4))
    vol = vol[true["composite"][0]:]  # composite, air, rod: no separator
    with pytest.raises(ValueError, match=r"no separator band next to the composite.*"
                                         r"bands seen: composite.*air.*metal.*"
                                         r"set composite_rows and separator_rows"):
        find_layers(vol, z_offset_rows=0, transition_rows=2, roi_size_px=40)


def test_qc_figure_is_written(tmp_path):
    vol, _ = _cell_volume(np.random.default_rng(3))
    found = find_layers(vol, z_offset_rows=0, transition_rows=2, roi_size_px=40)
    out = tmp_path / "layers.png"
    layers_qc_png(found, str(out), title="test", xz_slice=vol[:, N // 2, :])
    with Image.open(out) as im:
        assert im.size == (1080, 450)
