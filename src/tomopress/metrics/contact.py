"""Contact-area fraction and specific contact area (METRICS.md, "Contact-area fraction").

``f_c = A(AM|SE) / (A(AM|SE) + A(AM|void))`` and ``a_c = A(AM|SE) / V_region`` from Crofton
areas (see :mod:`tomopress.metrics.interfaces`), computed in one pass over the volume. The
plane-orientation bias of Crofton largely cancels in the ratio: a capped sphere with c = 0.5
at r = 10 to 14 voxels reads f_c = 0.500 on average over sub-voxel centres, ±0.010 (1σ) for
one centre (truth 0.500). At 0.5 µm voxels gaps thinner than the blur read as contact and
voids behind a sub-voxel SE film read as touching AM, so f_c is neither bound at the CT
scale; the validation matrix gives the size of both (workflow/report/contact_fraction.rst).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from tomopress.metrics._checks import checked_voxel_size_um
from tomopress.metrics.interfaces import (
    PAIR_NAMES,
    PairCounts,
    _specific_surfaces,
    crofton_pair_counts,
)
from tomopress.types import LabelVolume

__all__ = ["contact_metrics"]

log = logging.getLogger(__name__)


def contact_metrics(
    labels: LabelVolume, *, voxel_size_um: float, pair_counts: PairCounts | None = None
) -> dict[str, Any]:
    """Contact-area fraction, specific contact area, interfacial areas and S_V per phase.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        Phase labels (0 void, 1 SE, 2 AM); voxels labelled 255 are outside the region: pairs
        touching them are not counted, nor are they in V_region.
    voxel_size_um : float
        Voxel edge length in µm, > 0.
    pair_counts : PairCounts, optional
        The Crofton pair counts of `labels` when already made (one pass then serves several
        metrics, see :func:`tomopress.metrics.interfaces.crofton_tile_pair_counts`); `labels`
        is then not read.

    Returns
    -------
    dict
        ``contact_area_fraction`` f_c (NaN when the AM has no surface in the region, with the
        reason in ``contact_area_fraction_note``, otherwise ``""``),
        ``specific_contact_area_per_um`` a_c = A(AM|SE) / V_region (NaN for an empty region),
        ``area_am_se_um2``, ``area_am_void_um2``, ``area_se_void_um2`` (Crofton, µm²) and
        ``specific_surface_{am,se,void}_per_um`` (phase surface / V_region, µm⁻¹).

    Raises
    ------
    ValueError
        If `labels` is not 3-D or holds labels other than 0, 1, 2, 255, or `voxel_size_um` is
        not positive.
    TypeError
        If `labels` does not have an integer dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from tomopress.types import AM, SE, VOID
    >>> vol = np.full((20, 20, 20), SE, dtype=np.uint8)
    >>> vol[10:] = AM
    >>> vol[10:, :, 10:] = VOID  # AM keeps a 10 x 20 face on SE and gets one as large on void
    >>> m = contact_metrics(vol, voxel_size_um=0.5)
    >>> round(m["contact_area_fraction"], 3), m["area_se_void_um2"] > 0
    (0.508, True)
    """
    checked_voxel_size_um(voxel_size_um)
    pc = crofton_pair_counts(labels) if pair_counts is None else pair_counts
    area = {name: pc.area_um2(name, voxel_size_um=voxel_size_um) for name in PAIR_NAMES}
    volume_um3 = pc.n_region * voxel_size_um**3
    am_surface = area["am_se"] + area["am_void"]
    note = ""
    if am_surface > 0:
        f_c = area["am_se"] / am_surface
    else:
        f_c = math.nan
        note = (
            "no AM|SE or AM|void neighbour pair inside the region"
            if pc.n_region
            else "empty region (every voxel is 255)"
        )
        log.warning("contact_area_fraction is NaN: %s", note)
    specific = _specific_surfaces(pc, voxel_size_um=voxel_size_um)
    return {
        "contact_area_fraction": f_c,
        "contact_area_fraction_note": note,
        "specific_contact_area_per_um": area["am_se"] / volume_um3 if volume_um3 else math.nan,
        **{f"area_{name}_um2": a for name, a in area.items()},
        **{f"specific_surface_{phase}_per_um": s for phase, s in specific.items()},
    }
