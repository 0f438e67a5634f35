"""The Fourier-slice projector against exact line integrals of ellipse phantoms."""

import numpy as np
import pytest

from tomopress.synthetic import phantoms2d
from tomopress.synthetic.fourier import fourier_projections

N = 128
ANGLES = np.linspace(0.0, np.pi, 90, endpoint=False)


@pytest.mark.parametrize("smoothness, bound", [(0.0, 5e-3), (2.0, 1e-3)])
@pytest.mark.parametrize("axis_offset_px", [0.0, 3.4])
def test_projections_match_exact_line_integrals(smoothness, bound, axis_offset_px):
    objects = [phantoms2d.disc(1.0, 10.3, -20.1, 30.0, smoothness=smoothness),
               phantoms2d.disc(0.5, -25.0, 15.0, 12.0, smoothness=smoothness)]
    image = phantoms2d.pixel_image(objects, N, supersample=8)
    center = (N - 1) / 2 + axis_offset_px
    proj = fourier_projections(image[None], ANGLES, center_px=center)[:, 0, :]
    exact = phantoms2d.sinogram(objects, ANGLES, n_cols=N, center_px=center, detector_supersample=8)
    assert np.linalg.norm(proj - exact) / np.linalg.norm(exact) < bound


def test_rows_are_projected_independently():
    image = phantoms2d.pixel_image([phantoms2d.disc(2.0, 5.0, 0.0, 20.0)], N).astype(np.float32)
    both = fourier_projections(np.stack([image, 0.5 * image]), ANGLES, center_px=(N - 1) / 2)
    np.testing.assert_allclose(both[:, 1], 0.5 * both[:, 0], atol=1e-4)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="must be"):
        fourier_projections(np.zeros((2, 8, 9)), ANGLES, center_px=4.0)
    with pytest.raises(ValueError, match="off the detector"):
        fourier_projections(np.zeros((1, 8, 8)), ANGLES, center_px=9.0)
