import numpy as np
import pytest

from tomopress.metrics.connectivity import SE_CLUSTER_CLASSES, label_se_clusters, se_connectivity
from tomopress.types import AM, OUTSIDE, SE, VOID


def hand_built():
    """10 x 10 x 10 void box with one SE cluster of each class and four AM particles.

    through: column (:, 5, 5), 10 voxels; dead-end from the inlet: (0:4, 2, 2), 4 voxels;
    dead-end from the outlet: (7:10, 7, 2), 3 voxels; side-only: (4:6, 0, 7), 2 voxels, on the
    y = 0 face; isolated: (4:6, 4:6, 8), 8 voxels... see the counts below.
    """
    vol = np.zeros((10, 10, 10), dtype=np.uint8)
    vol[:, 5, 5] = SE  # through, 10
    vol[0:4, 2, 2] = SE  # dead end (inlet), 4
    vol[7:10, 7, 2] = SE  # dead end (outlet), 3
    vol[4:6, 0, 7] = SE  # side only, 2
    vol[4:6, 3:5, 7:9] = SE  # isolated, 8
    vol[3:6, 5, 6] = AM  # touches the through column: connected, 3 voxels
    vol[5, 2, 2] = AM  # touches only the inlet dead end: isolated, 1 voxel
    vol[5:7, 3:5, 3] = AM  # touches nothing: isolated, 4 voxels
    vol[2, 5, 4] = AM  # touches the through column: connected, 1 voxel
    return vol


def test_cluster_classes_and_fractions_of_a_hand_built_phantom():
    vol = hand_built()
    clusters, cls = label_se_clusters(vol)
    assert cls[clusters[0, 5, 5]] == 0 and cls[clusters[0, 2, 2]] == 1
    assert cls[clusters[9, 7, 2]] == 1 and cls[clusters[4, 0, 7]] == 2
    assert cls[clusters[4, 3, 7]] == 3
    m = se_connectivity(vol)
    n_se = 27
    assert m["se_fraction_through"] == pytest.approx(10 / n_se)
    assert m["se_fraction_dead_end"] == pytest.approx(7 / n_se)
    assert m["se_fraction_side_only"] == pytest.approx(2 / n_se)
    assert m["se_fraction_isolated"] == pytest.approx(8 / n_se)
    assert sum(m[f"se_fraction_{c}"] for c in SE_CLUSTER_CLASSES) == pytest.approx(1.0)
    assert [m[f"n_se_clusters_{c}"] for c in SE_CLUSTER_CLASSES] == [1, 2, 1, 1]
    assert m["volume_fraction_se_through"] == pytest.approx(10 / 1000)
    assert m["n_am_clusters"] == 4 and m["n_am_clusters_isolated"] == 2
    assert m["am_fraction_ionically_isolated"] == pytest.approx(5 / 9)


def test_am_touching_through_se_only_by_an_edge_is_isolated():
    vol = np.zeros((5, 5, 5), dtype=np.uint8)
    vol[:, 2, 2] = SE
    vol[2, 3, 3] = AM  # diagonal (edge) contact only
    assert se_connectivity(vol)["am_fraction_ionically_isolated"] == 1.0


def test_outside_voxels_act_as_a_side_face():
    vol = np.full((6, 7, 7), OUTSIDE, dtype=np.uint8)
    vol[:, 1:6, 1:6] = VOID
    vol[2:4, 3, 1] = SE  # next to the 255 border: side-only, not isolated
    vol[2:4, 3, 3] = SE  # enclosed: isolated
    m = se_connectivity(vol)
    assert m["se_fraction_side_only"] == 0.5 and m["se_fraction_isolated"] == 0.5
    assert np.isnan(m["am_fraction_ionically_isolated"])


def test_no_se_gives_nan_fractions():
    m = se_connectivity(np.full((3, 3, 3), AM, dtype=np.uint8))
    assert np.isnan(m["se_fraction_through"]) and m["n_se_clusters"] == 0
    assert m["am_fraction_ionically_isolated"] == 1.0


def test_invalid_input_is_refused():
    with pytest.raises(ValueError, match="3-D"):
        se_connectivity(np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match="found \\[4\\]"):
        label_se_clusters(np.full((2, 2, 2), 4, np.uint8))
    with pytest.raises(TypeError, match="integer dtype"):
        se_connectivity(np.zeros((2, 2, 2), np.float32))
