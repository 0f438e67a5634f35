"""Connectivity of the SE network and ionic isolation of AM (METRICS.md, "Connectivity").

SE clusters are the 6-connected components of the SE voxels (face contact only). The inlet is
the first z plane (``z = 0``, separator side), the outlet the last z plane (current-collector
side); the four other crop faces and any voxel labelled 255 (outside the region) are the *sides*.
Every cluster falls in exactly one class:

* ``through``: touches the inlet and the outlet planes;
* ``dead_end``: touches exactly one of them;
* ``side_only``: touches neither, but touches a side face or an outside (255) voxel, so that
  its continuation beyond the crop is unknown;
* ``isolated``: touches none of them (fully enclosed in the crop).

An AM particle (6-connected AM component) is *ionically isolated* when none of its voxels is
face-adjacent (6-neighbour) to a voxel of a through-connected SE cluster. The isolated AM
fraction is the volume of those AM components over the whole AM volume. The decision is made
per AM component, not per voxel: the bulk of a particle never touches SE itself.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from tomopress.metrics._checks import checked_labels
from tomopress.types import AM, OUTSIDE, SE, LabelVolume

__all__ = ["SE_CLUSTER_CLASSES", "label_se_clusters", "se_connectivity"]

#: the cluster classes, in the order of their integer codes 0..3
SE_CLUSTER_CLASSES: Final = ("through", "dead_end", "side_only", "isolated")
#: 6-connectivity (face neighbours)
FACE_STRUCTURE: Final = ndimage.generate_binary_structure(3, 1)


def _touch_flags(comp: npt.NDArray[np.int32], n: int, where: npt.NDArray[np.bool_]) -> np.ndarray:
    """Boolean per component id 0..n: has a voxel where `where` is True."""
    flags = np.zeros(n + 1, dtype=bool)
    flags[np.unique(comp[where])] = True
    flags[0] = False
    return flags


def label_se_clusters(labels: LabelVolume) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int8]]:
    """Label the 6-connected SE clusters and class each one.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        Phase labels (0 void, 1 SE, 2 AM, 255 outside the region).

    Returns
    -------
    clusters : ndarray of int32, shape (Z, Y, X)
        Cluster id per SE voxel (1..n), 0 elsewhere.
    cluster_class : ndarray of int8, shape (n + 1,)
        Class code per cluster id, an index into :data:`SE_CLUSTER_CLASSES`
        (0 through, 1 dead-end, 2 side-only, 3 isolated); entry 0 (background) is -1.

    Raises
    ------
    ValueError
        If `labels` is not a 3-D volume of labels 0, 1, 2, 255.

    Examples
    --------
    >>> vol = np.zeros((3, 1, 3), dtype=np.uint8)
    >>> vol[:, 0, 0] = SE
    >>> vol[0, 0, 2] = SE
    >>> clusters, cls = label_se_clusters(vol)
    >>> [SE_CLUSTER_CLASSES[c] for c in cls[1:]]
    ['through', 'dead_end']
    """
    labels = checked_labels(labels)
    clusters, n = ndimage.label(labels == SE, structure=FACE_STRUCTURE)
    clusters = clusters.astype(np.int32, copy=False)
    inlet = _touch_flags(clusters, n, _plane_mask(labels.shape, "inlet"))
    outlet = _touch_flags(clusters, n, _plane_mask(labels.shape, "outlet"))
    side_where = _plane_mask(labels.shape, "side")
    outside = labels == OUTSIDE
    if outside.any():
        side_where |= ndimage.binary_dilation(outside, structure=FACE_STRUCTURE)
    side = _touch_flags(clusters, n, side_where)
    cls = np.full(n + 1, 3, dtype=np.int8)
    cls[side] = 2
    cls[inlet ^ outlet] = 1
    cls[inlet & outlet] = 0
    cls[0] = -1
    return clusters, cls


def _plane_mask(shape: tuple[int, ...], which: str) -> npt.NDArray[np.bool_]:
    mask = np.zeros(shape, dtype=bool)
    if which == "inlet":
        mask[0] = True
    elif which == "outlet":
        mask[-1] = True
    else:
        mask[:, 0] = mask[:, -1] = True
        mask[:, :, 0] = mask[:, :, -1] = True
    return mask


def se_connectivity(labels: LabelVolume) -> dict[str, Any]:
    """SE cluster classes, their SE-volume fractions and the ionically isolated AM fraction.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        Phase labels (0 void, 1 SE, 2 AM, 255 outside the region); z = 0 is the inlet
        (separator side), z = Z - 1 the outlet.

    Returns
    -------
    dict
        ``se_fraction_through``, ``se_fraction_dead_end``, ``se_fraction_side_only``,
        ``se_fraction_isolated``: fractions of the SE volume in each cluster class (they sum to 1;
        NaN without SE); ``n_se_clusters_<class>``: cluster counts; ``n_se_clusters``;
        ``volume_fraction_se_through``: through-connected SE over the counted region;
        ``am_fraction_ionically_isolated``: volume of AM components with no face contact to a
        through SE cluster, over the AM volume (NaN without AM); ``n_am_clusters`` and
        ``n_am_clusters_isolated``. All dimensionless.

    Raises
    ------
    ValueError
        If `labels` is not a 3-D volume of labels 0, 1, 2, 255.

    Examples
    --------
    >>> vol = np.zeros((4, 1, 4), dtype=np.uint8)
    >>> vol[:, 0, 0] = SE          # through channel (4 voxels)
    >>> vol[1:3, 0, 2] = SE        # touches neither inlet nor outlet
    >>> vol[1, 0, 1] = AM          # touches the through channel
    >>> vol[2, 0, 3] = AM          # touches nothing through-connected
    >>> m = se_connectivity(vol)
    >>> m["se_fraction_through"], m["am_fraction_ionically_isolated"]
    (0.6666666666666666, 0.5)
    """
    labels = checked_labels(labels)
    clusters, cls = label_se_clusters(labels)
    sizes = np.bincount(clusters.ravel(), minlength=cls.size)
    sizes[0] = 0
    n_se = int(sizes.sum())
    out: dict[str, Any] = {}
    for code, name in enumerate(SE_CLUSTER_CLASSES):
        in_class = cls == code
        vol = int(sizes[in_class].sum())
        out[f"se_fraction_{name}"] = vol / n_se if n_se else float("nan")
        out[f"n_se_clusters_{name}"] = int(np.count_nonzero(in_class))
    out["n_se_clusters"] = int(cls.size - 1)
    n_region = int(np.count_nonzero(labels != OUTSIDE))
    n_through = int(sizes[cls == 0].sum())
    out["volume_fraction_se_through"] = n_through / n_region if n_region else float("nan")

    through_se = (cls[clusters] == 0) & (clusters > 0)
    am = labels == AM
    am_comp, n_am = ndimage.label(am, structure=FACE_STRUCTURE)
    touching = am & ndimage.binary_dilation(through_se, structure=FACE_STRUCTURE)
    connected = _touch_flags(am_comp, n_am, touching)
    am_sizes = np.bincount(am_comp.ravel(), minlength=n_am + 1)
    am_sizes[0] = 0
    n_am_vox = int(am_sizes.sum())
    isolated = ~connected
    isolated[0] = False
    out["am_fraction_ionically_isolated"] = (
        float(am_sizes[isolated].sum() / n_am_vox) if n_am_vox else float("nan")
    )
    out["n_am_clusters"] = int(n_am)
    out["n_am_clusters_isolated"] = int(np.count_nonzero(isolated))
    return out
