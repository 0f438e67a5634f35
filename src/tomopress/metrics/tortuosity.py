"""Geometric tortuosity of the SE network (METRICS.md, "Geometric tortuosity", the paper's Fig. 5).

Definitions
-----------
* Inlet: the SE voxels of the first z plane (``z = 0``, separator side); outlet: the SE voxels of
  the last plane; ``L = (Z - 1) h`` is the distance between the two planes of voxel centres.
* Network: the SE voxels 6-connected (face contact) to an inlet voxel.
* Moves: from a network voxel ``v`` to ``v + d`` for the 26 offsets ``d`` in {-1, 0, 1}³, with
  length ``|d| h``, *without corner cutting*: a move is allowed only if every voxel ``v + s`` of
  the 2x2(x2) block it crosses is in the network, where ``s`` runs over the offsets obtained
  from ``d`` by zeroing any subset of its non-zero components (a face diagonal needs its two
  edge-sharing voxels, a body diagonal the six other voxels of its 2x2x2 cube).
* ``τ(v) = D(v) / L`` for every outlet voxel ``v`` of the network, ``D(v)`` being the shortest
  path length from the inlet set.

Estimator and bias correction
-----------------------------
1. Lattice distances ``D26`` on the move graph above by multi-source Dijkstra
   (``scipy.sparse.csgraph.dijkstra``, C implementation, with predecessors). ``D26`` is exact for
   vertical paths and overestimates oblique straight segments by up to 12.8 % (8.8 % on
   average, METRICS.md; e.g. +7.3 % for a 30° line in an axis plane, 0 at 45°).
2. String pulling of the shortest-path tree (Theta*-style, processed from the inlet outwards):
   every node ``v`` with tree parent ``p`` inherits the *anchor* ``a`` of ``p`` when the segment
   ``a → v`` has line of sight inside the network, and then ``D(v) = D(a) + |v - a|``;
   otherwise its anchor is ``p`` and ``D(v) = D(p) + |v - p|``. Line of sight is checked by
   sampling the segment every ``los_step_vox`` (0.5 voxel) and rounding each sample to its
   voxel, so a segment that only clips a voxel corner may pass. The pulled distance is never
   above ``D26`` and equals the Euclidean length for any straight path inside SE.
   Residual bias: the inlet voxel of each path is the lattice-optimal one (ties broken by the
   solver), which can leave a path a few tenths of a voxel longer than the continuum optimum.
3. Cost: Dijkstra is O(E log N) on ~13 N undirected edges (N network voxels; about 0.25 s and
   60 MB for 72 x 72 x 100 fully SE). String pulling samples, for every node on the outlet
   paths, a segment as long as its distance to its anchor, i.e. about
   ``n_outlets · (Z τ)² / (2 · los_step_vox)`` samples; it is therefore run on an evenly spaced
   subset of at most ``max_pulled_outlets`` outlets (default 2048, all outlets of a 72 x 72
   tile when under that), and the summary uses the pulled values. ``tau_lattice`` keeps the
   uncorrected value of every outlet.

Lateral guard band: paths are computed in the whole crop, but only outlet voxels at least
``guard_band_vox`` voxels from the lateral (x, y) crop faces are counted, so that crop walls
bending paths near them do not bias the statistics.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from tomopress.metrics._checks import checked_voxel_size_um
from tomopress.metrics._sampling import spread_tiles
from tomopress.metrics._checks import checked_labels
from tomopress.metrics.connectivity import FACE_STRUCTURE
from tomopress.types import SE, F64Array, LabelVolume

__all__ = ["GeometricTortuosity", "geometric_tortuosity", "tiled_geometric_tortuosity"]

log = logging.getLogger(__name__)

#: the 13 move offsets (dz, dy, dx) whose first non-zero component is positive
_HALF_OFFSETS: Final = [
    d
    for d in ((a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1))
    if d != (0, 0, 0) and next(v for v in d if v) > 0
]
_NAN: Final = float("nan")


@dataclass(frozen=True)
class GeometricTortuosity:
    """Per-outlet geometric tortuosity of one crop and its summary.

    Attributes
    ----------
    outlet_yx : ndarray of int64, shape (n, 2)
        (y, x) voxel of every counted outlet voxel connected to the inlet.
    tau : ndarray of float64, shape (n,)
        String-pulled τ = D / L (dimensionless); NaN for outlets outside the pulled subset.
    tau_lattice : ndarray of float64, shape (n,)
        Uncorrected τ from the 26-neighbour lattice distance.
    hist_edges, hist_counts : ndarray
        Histogram of the pulled τ values (edges dimensionless, counts).
    n_outlets_se : int
        SE voxels of the outlet plane inside the guard band.
    path_length_um : float
        ``L = (Z - 1) h`` in µm.
    reason : str or None
        Why the summary is NaN (no connected outlet), else None.
    """

    outlet_yx: npt.NDArray[np.int64]
    tau: F64Array
    tau_lattice: F64Array
    hist_edges: F64Array
    hist_counts: npt.NDArray[np.int64]
    n_outlets_se: int
    path_length_um: float
    reason: str | None = None
    stats: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Scalar summary with dimensionless keys (``tau_geo_*``) and counts (``n_*``)."""
        return dict(self.stats)


def _shift_slices(
    d: tuple[int, ...], shape: tuple[int, ...], s: tuple[int, ...] | None = None
) -> tuple[slice, ...]:
    """Slices selecting ``v + s`` for every ``v`` whose move ``v → v + d`` stays in the array."""
    s = (0,) * len(d) if s is None else s
    out = []
    for dk, sk, n in zip(d, s, shape):
        start = max(0, -dk) + sk
        out.append(slice(start, start + n - abs(dk)))
    return tuple(out)


def _sub_offsets(d: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Offsets of the voxels a diagonal move passes by (proper non-empty sub-moves of d)."""
    nz = [k for k, v in enumerate(d) if v]
    subs = []
    for bits in range(1, 2 ** len(nz) - 1):
        s = [0, 0, 0]
        for j, k in enumerate(nz):
            if bits >> j & 1:
                s[k] = d[k]
        subs.append(tuple(s))
    return subs


def _move_graph(network: npt.NDArray[np.bool_], node: npt.NDArray[np.int64]) -> sparse.csr_array:
    """Symmetric sparse graph of the allowed moves (no corner cutting), weights in voxels."""
    rows, cols, weights = [], [], []
    shape = network.shape
    for d in _HALF_OFFSETS:
        src = _shift_slices(d, shape)
        ok = network[src] & network[_shift_slices(d, shape, d)]
        for s in _sub_offsets(d):
            ok &= network[_shift_slices(d, shape, s)]
        a = node[src][ok]
        b = node[_shift_slices(d, shape, d)][ok]
        rows += [a, b]
        cols += [b, a]
        weights.append(np.full(2 * a.size, math.sqrt(sum(abs(v) for v in d)), dtype=np.float64))
    n = int(network.sum())
    return sparse.csr_array(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def _line_of_sight(
    mask_flat: npt.NDArray[np.bool_],
    shape: tuple[int, ...],
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    step: float,
) -> npt.NDArray[np.bool_]:
    """For segments a[i] → b[i] (voxel coords, shape (m, 3)): every sample lies in the mask."""
    seg = (b - a).astype(np.float64)
    length = np.sqrt((seg**2).sum(axis=1))
    n = np.maximum(np.ceil(length / step).astype(np.int64), 1) + 1
    first = np.cumsum(n) - n
    which = np.repeat(np.arange(a.shape[0]), n)
    t = (np.arange(n.sum()) - first[which]) / (n[which] - 1)
    lin = np.zeros(t.size, dtype=np.int64)
    for k in range(3):
        coord = np.rint(a[which, k] + t * seg[which, k]).astype(np.int64)
        lin = lin * shape[k] + coord
    bad = ~mask_flat[lin]
    return np.bincount(which[bad], minlength=a.shape[0]) == 0


def _pull_strings(
    network: npt.NDArray[np.bool_],
    coords: npt.NDArray[np.int64],
    pred: npt.NDArray[np.int32],
    targets: npt.NDArray[np.int64],
    step: float,
) -> F64Array:
    """String-pulled distances (voxels) of `targets` along the shortest-path tree `pred`."""
    n = pred.size
    is_root = pred < 0
    # nodes on the tree paths of the targets
    on_path = np.zeros(n, dtype=bool)
    cur = np.unique(targets)
    while cur.size:
        fresh = cur[~on_path[cur]]
        on_path[fresh] = True
        cur = np.unique(pred[fresh[~is_root[fresh]]])
    # hop depth by pointer doubling
    parent = np.where(is_root, np.arange(n), pred).astype(np.int64)
    depth = (~is_root).astype(np.int64)
    while True:  # invariant: depth[v] = hops from v to parent[v]
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            break
        depth = depth + depth[parent]
        parent = nxt
    # process level by level from the roots
    anchor = np.arange(n, dtype=np.int64)
    dist = np.zeros(n, dtype=np.float64)
    nodes = np.flatnonzero(on_path & ~is_root)
    nodes = nodes[np.argsort(depth[nodes], kind="stable")]
    bounds = np.searchsorted(depth[nodes], np.arange(1, depth[nodes].max(initial=0) + 2))
    mask_flat = network.ravel()
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        v = nodes[lo:hi]
        if v.size == 0:
            continue
        p = pred[v].astype(np.int64)
        a = anchor[p]
        cv, cp, ca = coords[v], coords[p], coords[a]
        # collinear extension of the anchor segment needs no check
        straight = np.all(np.cross(cv - cp, cp - ca) == 0, axis=1)
        los = straight.copy()
        check = ~straight
        if check.any():
            los[check] = _line_of_sight(mask_flat, network.shape, ca[check], cv[check], step)
        new_anchor = np.where(los, a, p)
        anchor[v] = new_anchor
        dist[v] = dist[new_anchor] + np.sqrt(((cv - coords[new_anchor]) ** 2).sum(axis=1))
    return dist[targets]


def _summary_stats(
    tau: F64Array, n_se: int, n_conn: int, bin_width: float, reason: str | None
) -> tuple[dict[str, float], F64Array, npt.NDArray[np.int64]]:
    stats: dict[str, Any] = {
        "n_outlets_se": int(n_se),
        "n_outlets_connected": int(n_conn),
        "n_outlets_pulled": int(tau.size),
        "tau_geo_connected_fraction": n_conn / n_se if n_se else _NAN,
    }
    if tau.size == 0:
        for key in ("mode", "min", "mean", "median", "p10", "p90", "max"):
            stats[f"tau_geo_{key}"] = _NAN
        stats["tau_geo_reason"] = reason
        return stats, np.array([1.0, 1.0 + bin_width]), np.zeros(1, dtype=np.int64)
    top = max(float(tau.max()), 1.0) + bin_width
    edges = 1.0 + bin_width * np.arange(int(np.ceil((top - 1.0) / bin_width)) + 1)
    counts, edges = np.histogram(tau, bins=edges)
    k = int(np.argmax(counts))
    stats.update(
        tau_geo_mode=float(0.5 * (edges[k] + edges[k + 1])),
        tau_geo_min=float(tau.min()),
        tau_geo_mean=float(tau.mean()),
        tau_geo_median=float(np.median(tau)),
        tau_geo_p10=float(np.percentile(tau, 10)),
        tau_geo_p90=float(np.percentile(tau, 90)),
        tau_geo_max=float(tau.max()),
        tau_geo_reason=None,
    )
    return stats, edges, counts.astype(np.int64)


def geometric_tortuosity(
    labels: LabelVolume,
    *,
    voxel_size_um: float,
    guard_band_vox: int = 0,
    correct: bool = True,
    max_pulled_outlets: int = 2048,
    los_step_vox: float = 0.5,
    bin_width: float = 0.02,
) -> GeometricTortuosity:
    """Shortest-path tortuosity τ = D/L of the SE network from the z = 0 plane to the last plane.

    See the module docstring for the move set (26 neighbours, no corner cutting), the
    string-pulling bias correction and its cost.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        Phase labels (0 void, 1 SE, 2 AM, 255 outside); Z >= 2.
    voxel_size_um : float
        Voxel edge length h in µm, > 0 (only scales ``path_length_um``; τ is dimensionless).
    guard_band_vox : int
        Outlet voxels closer than this to a lateral (x or y) crop face are not counted.
    correct : bool
        String-pull the paths (default). False reports the lattice distances as ``tau``.
    max_pulled_outlets : int
        At most this many outlets (evenly spaced in raster order) are string-pulled, >= 1.
    los_step_vox : float
        Line-of-sight sampling step in voxels, in (0, 1].
    bin_width : float
        Histogram bin width (dimensionless), bins start at τ = 1; the mode is the centre of the
        fullest bin.

    Returns
    -------
    GeometricTortuosity
        Per-outlet values, histogram and ``stats``/``summary()``: ``tau_geo_mode``, ``_min``,
        ``_mean``, ``_median``, ``_p10``, ``_p90``, ``_max``, ``tau_geo_connected_fraction``
        (connected outlets / SE outlet voxels), ``n_outlets_se``, ``n_outlets_connected``,
        ``n_outlets_pulled`` and ``tau_geo_reason`` (None, or why the values are NaN).

    Raises
    ------
    ValueError
        If `labels` is not a 3-D label volume with Z >= 2, or an option is out of range.

    Examples
    --------
    >>> vol = np.zeros((11, 3, 3), dtype=np.uint8)
    >>> vol[:, 1, 1] = SE
    >>> result = geometric_tortuosity(vol, voxel_size_um=0.5)
    >>> result.stats["tau_geo_min"], result.stats["n_outlets_connected"], result.path_length_um
    (1.0, 1, 5.0)
    """
    labels = checked_labels(labels, min_z=2)
    h = checked_voxel_size_um(voxel_size_um)
    nz, ny, nx = labels.shape
    is_int = isinstance(guard_band_vox, (int, np.integer))
    if not (is_int and 0 <= 2 * guard_band_vox < min(ny, nx)):
        raise ValueError(
            f"guard_band_vox must be an int >= 0 leaving an interior in ({ny}, {nx}), "
            f"got {guard_band_vox!r}"
        )
    if not (isinstance(max_pulled_outlets, (int, np.integer)) and max_pulled_outlets >= 1):
        raise ValueError(f"max_pulled_outlets must be an int >= 1, got {max_pulled_outlets!r}")
    if not 0 < los_step_vox <= 1:
        raise ValueError(f"los_step_vox must be in (0, 1], got {los_step_vox!r}")
    if not bin_width > 0:
        raise ValueError(f"bin_width must be > 0, got {bin_width!r}")
    g = guard_band_vox
    length_vox = nz - 1

    se = labels == SE
    interior_outlet = np.zeros((ny, nx), dtype=bool)
    interior_outlet[g : ny - g, g : nx - g] = True
    interior_outlet &= se[-1]
    n_se_out = int(interior_outlet.sum())

    comp, _ = ndimage.label(se, structure=FACE_STRUCTURE)
    inlet_ids = np.unique(comp[0][comp[0] > 0])
    network = np.isin(comp, inlet_ids) & se if inlet_ids.size else np.zeros_like(se)
    out_mask = interior_outlet & network[-1]
    outlet_yx = np.argwhere(out_mask).astype(np.int64)
    empty = np.zeros(0, dtype=np.float64)

    def _result(tau: F64Array, tau_lat: F64Array, pulled: F64Array, reason: str | None):
        n_conn = outlet_yx.shape[0]
        stats, edges, counts = _summary_stats(pulled, n_se_out, n_conn, bin_width, reason)
        if tau_lat.size:
            stats["tau_geo_lattice_mean"] = float(tau_lat.mean())
        else:
            stats["tau_geo_lattice_mean"] = _NAN
        return GeometricTortuosity(
            outlet_yx, tau, tau_lat, edges, counts, n_se_out, length_vox * h, reason, stats
        )

    if outlet_yx.shape[0] == 0:
        reason = (
            "no SE voxel in the outlet plane"
            if n_se_out == 0
            else "no SE voxel of the outlet plane is 6-connected to the inlet plane"
        )
        return _result(empty, empty, empty, reason)

    node = np.full(labels.shape, -1, dtype=np.int64)
    node[network] = np.arange(int(network.sum()))
    coords = np.argwhere(network).astype(np.int64)
    graph = _move_graph(network, node)
    sources = node[0][network[0]]
    dist, pred = csgraph.dijkstra(
        graph, directed=True, indices=sources, min_only=True, return_predecessors=True
    )[:2]
    targets = node[-1][out_mask]
    tau_lat = dist[targets] / length_vox
    if not correct:
        return _result(tau_lat.copy(), tau_lat, tau_lat, None)
    n_t = targets.size
    pick = np.unique(np.linspace(0, n_t - 1, min(n_t, max_pulled_outlets)).round().astype(np.int64))
    tau = np.full(n_t, np.nan)
    tau[pick] = _pull_strings(network, coords, pred, targets[pick], los_step_vox) / length_vox
    # pulling never lengthens a path; guard against round-off
    tau[pick] = np.minimum(tau[pick], tau_lat[pick])
    log.debug("geometric tortuosity: %d outlets, %d pulled", n_t, pick.size)
    return _result(tau, tau_lat, tau[pick], None)


def tiled_geometric_tortuosity(
    labels: LabelVolume,
    *,
    voxel_size_um: float,
    tile_xy: int = 72,
    guard_band_vox: int = 0,
    correct: bool = True,
    max_pulled_outlets: int = 2048,
    los_step_vox: float = 0.5,
    bin_width: float = 0.02,
    max_tiles: int | None = None,
) -> dict[str, Any]:
    """Geometric tortuosity on lateral tiles of ``tile_xy x tile_xy x Z`` voxels (the paper's 72).

    Each tile is analysed on its own (paths cannot leave it), as in the paper's sub-crops;
    only whole tiles are used (a dimension shorter than `tile_xy` gives one tile spanning it).

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        Phase labels, Z >= 2.
    voxel_size_um : float
        Voxel edge length in µm, > 0.
    tile_xy : int
        Lateral tile edge in voxels, >= 3.
    guard_band_vox, correct, max_pulled_outlets, los_step_vox, bin_width
        As in :func:`geometric_tortuosity`, applied per tile.
    max_tiles : int, optional
        Analyse at most this many tiles, spread evenly over the crop
        (:func:`tomopress.metrics._sampling.spread_tiles`); default every whole tile.

    Returns
    -------
    dict
        ``n_tiles`` (analysed), ``n_tiles_total`` (whole tiles in the crop),
        ``n_tiles_connected`` (tiles with a connected outlet), ``tiles`` (list of each
        tile's summary dict with ``tile_y0``, ``tile_x0``) and, for each of ``mode``, ``min``,
        ``mean``, ``median``, ``p10``, ``p90``, ``connected_fraction``, the across-tile mean and
        standard deviation ``tau_geo_<key>_tile_mean`` / ``tau_geo_<key>_tile_std`` over tiles
        where it is finite (NaN if none). Dimensionless.

    Raises
    ------
    ValueError
        On invalid `labels` or options.

    Examples
    --------
    >>> vol = np.zeros((5, 8, 8), dtype=np.uint8)
    >>> vol[:, ::2, ::2] = SE
    >>> out = tiled_geometric_tortuosity(vol, voxel_size_um=0.5, tile_xy=4)
    >>> out["n_tiles"], out["tau_geo_mean_tile_mean"], out["tau_geo_mean_tile_std"]
    (4, 1.0, 0.0)
    """
    labels = checked_labels(labels, min_z=2)
    if not (isinstance(tile_xy, (int, np.integer)) and tile_xy >= 3):
        raise ValueError(f"tile_xy must be an int >= 3, got {tile_xy!r}")
    _, ny, nx = labels.shape
    ty, tx = min(tile_xy, ny), min(tile_xy, nx)
    origins = [(y0, x0) for y0 in range(0, ny - ty + 1, ty) for x0 in range(0, nx - tx + 1, tx)]
    n_total = len(origins)
    if max_tiles is not None and max_tiles < n_total:
        origins = [(t.y0, t.x0) for t in spread_tiles((ny, nx), tile_xy=tile_xy, n_tiles=max_tiles)]
    tiles = []
    for y0, x0 in origins:
        res = geometric_tortuosity(
            labels[:, y0 : y0 + ty, x0 : x0 + tx],
            voxel_size_um=voxel_size_um,
            guard_band_vox=guard_band_vox,
            correct=correct,
            max_pulled_outlets=max_pulled_outlets,
            los_step_vox=los_step_vox,
            bin_width=bin_width,
        )
        tiles.append({"tile_y0": y0, "tile_x0": x0, **res.summary()})
    out: dict[str, Any] = {
        "n_tiles": len(tiles),
        "n_tiles_total": n_total,
        "n_tiles_connected": sum(t["n_outlets_connected"] > 0 for t in tiles),
    }
    for key in ("mode", "min", "mean", "median", "p10", "p90", "connected_fraction"):
        vals = np.array([t[f"tau_geo_{key}"] for t in tiles], dtype=np.float64)
        vals = vals[np.isfinite(vals)]
        out[f"tau_geo_{key}_tile_mean"] = float(vals.mean()) if vals.size else _NAN
        out[f"tau_geo_{key}_tile_std"] = float(vals.std()) if vals.size else _NAN
    out["tiles"] = tiles
    return out
