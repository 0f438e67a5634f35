"""Metrics on a realistic segmented electrode (taufactor's example, ../shared/data).

Label mapping: pore (0) = void, NMC (85) = AM, CBD (170) = SE. Our label scheme has one solid
besides AM, and CBD is the electrode's other solid: mapping it to SE keeps every voxel in the
region (255 would drop the CBD from the fractions) and gives a sparse (15 %), partly connected
network, so the SE cluster classes and the ionically isolated AM are exercised on a
non-trivial geometry. The truth is counted directly here (numpy, scipy.ndimage.label), not by
the code under test.
"""

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from tomopress.metrics.connectivity import se_connectivity
from tomopress.metrics.fractions import volume_fractions
from tomopress.types import AM, SE, VOID

SHARED = Path(__file__).resolve().parents[4] / "shared"
ELECTRODE = SHARED / "data" / "taufactor_electrode" / "electrode.tiff"
pytestmark = pytest.mark.skipif(not ELECTRODE.exists(), reason=f"{ELECTRODE} not present")


@pytest.fixture(scope="module")
def electrode():
    import tifffile

    raw = tifffile.imread(ELECTRODE)[:, :160, :160]  # full height, 160² keeps the test short
    labels = np.full(raw.shape, 255, dtype=np.uint8)
    labels[raw == 0], labels[raw == 85], labels[raw == 170] = VOID, AM, SE
    assert not (labels == 255).any()  # no other value in the file
    return raw, labels


def test_volume_fractions_are_the_voxel_counts(electrode):
    raw, labels = electrode
    f = volume_fractions(labels)
    n = raw.size
    assert f["porosity"] == np.count_nonzero(raw == 0) / n
    assert f["volume_fraction_am"] == np.count_nonzero(raw == 85) / n
    assert f["volume_fraction_se"] == np.count_nonzero(raw == 170) / n
    assert f["n_voxels"] == n


def test_through_connectivity_matches_a_direct_count(electrode):
    raw, labels = electrode
    cbd = raw == 170
    comp, n = ndimage.label(cbd)  # default structure: 6-connectivity in 3-D
    top, bottom = set(np.unique(comp[0])) - {0}, set(np.unique(comp[-1])) - {0}
    through_ids = np.array(sorted(top & bottom))
    sizes = np.bincount(comp.ravel())
    through = np.isin(comp, through_ids)
    assert through_ids.size > 0 and through.sum() < cbd.sum()  # a non-trivial case
    # AM components touching a through voxel across a face, by shifted copies
    am_comp, n_am = ndimage.label(raw == 85)
    touching = set()
    for axis in range(3):
        for a, b in ((slice(None, -1), slice(1, None)), (slice(1, None), slice(None, -1))):
            sa = tuple(a if k == axis else slice(None) for k in range(3))
            sb = tuple(b if k == axis else slice(None) for k in range(3))
            touching |= set(np.unique(am_comp[sa][through[sb]])) - {0}
    am_sizes = np.bincount(am_comp.ravel())
    isolated_am = (am_sizes[1:].sum() - sum(am_sizes[i] for i in touching)) / am_sizes[1:].sum()

    m = se_connectivity(labels)
    assert m["n_se_clusters"] == n
    assert m["n_se_clusters_through"] == through_ids.size
    through_share = sizes[through_ids].sum() / cbd.sum()
    assert m["se_fraction_through"] == pytest.approx(through_share, abs=1e-12)
    assert m["volume_fraction_se_through"] == pytest.approx(through.sum() / raw.size, abs=1e-12)
    assert m["n_am_clusters"] == n_am
    assert m["am_fraction_ionically_isolated"] == pytest.approx(isolated_am, abs=1e-12)
