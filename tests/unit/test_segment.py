import numpy as np
import pytest

from tomopress.segment import apply_thresholds, denoise_median, multiotsu_thresholds
from tomopress.types import AM, SE, VOID


def test_three_gaussian_classes_are_recovered():
    """Well separated grey levels (void 0, SE 21, AM 80 /cm) with noise: >99 % voxels right."""
    rng = np.random.default_rng(5)
    truth = rng.choice([VOID, SE, AM], size=(16, 32, 32), p=[0.2, 0.4, 0.4]).astype(np.uint8)
    grey = np.array([0.0, 21.0, 80.0])[truth] + rng.normal(0, 3.0, truth.shape)
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
