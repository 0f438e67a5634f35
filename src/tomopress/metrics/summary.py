"""Scalar metrics of any labelled volume, by family, for ``tomopress metrics``.

Each family returns a flat dict with units in its keys. A family whose phases are missing from
the volume returns its keys as None plus ``<family>_null_reason``, instead of failing, so a
volume exported from another tool (Dragonfly, ilastik) always yields a complete record.

Cost. On a 1024 x 1024 x 100 crop every family together takes about 70 s on 2 cores and
2 GB (benchmarks/metrics.py). The per-voxel families (fractions, contact, anisotropy,
connectivity) see the whole crop; the costly ones see full-height lateral tiles spread evenly
over it (:func:`tomopress.metrics._sampling.spread_tiles`), and report the share they saw in
``<family>_sampled_fraction``: geometric tortuosity (a centred 256² sub-crop plus at most 16
paper-size 72² tiles), diffusion (the whole crop when it fits the budget of
:class:`DiffusionOptions`, else periodic cells of a 128² grid spread over the crop, as many
as the budget holds, scaled to the crop's walls; estimate, standard error and tile spread),
particles (4 tiles of 192² with a 24-voxel halo; a particle belongs to the tile holding its
centroid, so sampled particles are segmented as in the whole crop) and local thickness
(8 tiles of 128² with a 16-voxel halo, exact for inscribed radii up to 8 voxels). A crop no
larger than a tile is analysed whole.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tomopress.logs import Progress
from tomopress.metrics._checks import checked_labels, checked_voxel_size_um
from tomopress.metrics.anisotropy import directional_contact_fractions
from tomopress.metrics.connectivity import se_connectivity
from tomopress.metrics.contact import contact_metrics
from tomopress.metrics.diffusion import (
    CONVENTIONS,
    LATERALS,
    solve_memory_bytes,
    tortuosity_factor,
)
from tomopress.metrics.fractions import phase_counts, volume_fractions
from tomopress.metrics.interfaces import PairCounts
from tomopress.metrics._sampling import TileWindow, grid_tiles, spread_tiles
from tomopress.metrics.particles import am_particle_sizes, local_thickness, particle_size_summary
from tomopress.metrics.tortuosity import geometric_tortuosity, tiled_geometric_tortuosity
from tomopress.types import AM, OUTSIDE, SE, VOID, LabelVolume

__all__ = ["FAMILIES", "DETAIL_KEYS", "DiffusionOptions", "summary_metrics"]

log = logging.getLogger(__name__)

Family = Callable[..., dict[str, Any]]  # (labels, voxel_size_um, **family options)


def _fractions(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    result = volume_fractions(labels)
    result["region_volume_um3"] = result["n_voxels"] * voxel_size_um**3
    return result


def _contact(labels: LabelVolume, voxel_size_um: float,
             pair_counts: PairCounts | None = None) -> dict[str, Any]:
    return contact_metrics(labels, voxel_size_um=voxel_size_um, pair_counts=pair_counts)


def _anisotropy(labels: LabelVolume, voxel_size_um: float,
                pair_counts: PairCounts | None = None) -> dict[str, Any]:
    return directional_contact_fractions(labels, pair_counts=pair_counts)


#: x-y side (voxels) of the paper's tortuosity sub-crops (36 x 36 µm at 0.5 µm)
TORTUOSITY_TILE_XY = 72
#: at most this many 72 x 72 tiles, spread over the crop (a 1024² crop holds 196: ~28 s)
TORTUOSITY_MAX_TILES = 16
#: largest x-y side solved whole by the geometric estimator; larger crops use their centred
#: sub-crop of this side (a whole 1024² crop needs ~30 GB and ~1 h, see
#: tomopress.metrics.tortuosity)
WHOLE_CROP_MAX_XY = 256
#: particles: tiles with a halo wider than a particle, each particle owned by the tile holding
#: its centroid, so a sampled particle is segmented as in the whole crop (the watershed of a
#: whole 1024² x 100 crop takes ~2 min and 5 GB)
PARTICLES_TILE_XY = 192
PARTICLES_HALO_VOX = 24
PARTICLES_N_TILES = 4
#: local thickness: tiles with a halo of twice the largest inscribed radius resolved exactly
#: (8 voxels, 8 µm diameter at 0.5 µm); the summary is over the owned voxels of the tiles
THICKNESS_TILE_XY = 128
THICKNESS_HALO_VOX = 16
THICKNESS_N_TILES = 8


def _centred_xy(labels: LabelVolume, side: int) -> LabelVolume:
    _, ny, nx = labels.shape
    y0, x0 = max(0, (ny - side) // 2), max(0, (nx - side) // 2)
    return labels[:, y0 : y0 + side, x0 : x0 + side]


def _sampled_fraction(labels: LabelVolume, tiles: list[TileWindow]) -> float:
    """Share of the crop's lateral area owned by `tiles`."""
    owned = sum((t.owned[0].stop - t.owned[0].start) * (t.owned[1].stop - t.owned[1].start)
                for t in tiles)  # fmt: skip
    return owned / (labels.shape[1] * labels.shape[2])


def _tortuosity(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    sub = _centred_xy(labels, WHOLE_CROP_MAX_XY)
    geometric = geometric_tortuosity(sub, voxel_size_um=voxel_size_um)
    tiled = tiled_geometric_tortuosity(
        labels,
        voxel_size_um=voxel_size_um,
        tile_xy=TORTUOSITY_TILE_XY,
        max_tiles=TORTUOSITY_MAX_TILES,
    )
    _, ny, nx = labels.shape
    origin = (max(0, (ny - sub.shape[1]) // 2), max(0, (nx - sub.shape[2]) // 2))
    paths = [
        {
            "tile_y0_vox": origin[0],
            "tile_x0_vox": origin[1],
            "outlet_y_vox": int(y),
            "outlet_x_vox": int(x),
            "tau_geo": float(tau) if np.isfinite(tau) else None,
            "tau_geo_lattice": float(lattice),
            "path_length_um": float(geometric.path_length_um),
        }
        for (y, x), tau, lattice in zip(geometric.outlet_yx, geometric.tau, geometric.tau_lattice)
    ]
    return {
        **geometric.summary(),
        "tortuosity_xy_um": sub.shape[1] * voxel_size_um,
        **{k: v for k, v in tiled.items() if np.ndim(v) == 0 and not isinstance(v, str)},
        "tortuosity_paths": paths,
    }


@dataclass(frozen=True)
class DiffusionOptions:
    """Budget, sampling and convention of the diffusion family (tortuosity factor).

    Attributes
    ----------
    convention : str
        Key of :data:`tomopress.metrics.diffusion.CONVENTIONS`: ``"tomopress"`` (Dirichlet on
        the first and last voxel layers, ε = all SE), ``"porespy"`` (same planes, ε = the
        through cluster) or ``"taufactor"`` (planes half a voxel outside, ε = all SE).
    max_unknowns : int
        Time budget, in unknowns (about 11 µs of CPU and 450 bytes each, see
        :mod:`tomopress.metrics.diffusion`). The crop is solved whole when its SE voxels (an
        upper bound of the unknowns) are at most this many and the memory estimate fits
        `max_memory_gb`; otherwise tiles are solved, as many as hold at most this many
        unknowns together.
    max_memory_gb : float
        Memory budget of one solve (whole crop, or one tile), from
        :func:`tomopress.metrics.diffusion.solve_memory_bytes`.
    tile_xy : int
        Smallest side (voxels) of the grid cells the crop is cut into when it is sampled
        (:func:`tomopress.metrics._sampling.grid_tiles`); halved while the grid has fewer than
        2 x 2 cells or one cell would not fit `max_memory_gb`.
    min_tiles : int
        At least this many tiles (even beyond `max_unknowns`), so that the spread is estimated.
    lateral : {"periodic", "walls"}
        Side faces of a tile: periodic (default; a tile is one cell of a laterally infinite
        medium and has no wall bias) or no-flux walls (the D_eff of tiles side by side with
        walls, a lower bound of the crop's by Rayleigh monotonicity).
    wall_correction : bool
        With periodic tiles, also solve every fourth tile with no-flux walls and scale the
        estimate to the crop's own no-flux sides, so that sampled and whole crops report the
        same quantity (:func:`_crop_wall_factor`).
    """

    convention: str = "tomopress"
    max_unknowns: int = 10_000_000
    max_memory_gb: float = 6.0
    tile_xy: int = 128
    min_tiles: int = 4
    lateral: str = "periodic"
    wall_correction: bool = True

    def __post_init__(self) -> None:
        if self.convention not in CONVENTIONS:
            raise ValueError(f"diffusion convention must be one of {sorted(CONVENTIONS)}, "
                             f"got {self.convention!r}")  # fmt: skip
        if not (isinstance(self.max_unknowns, (int, np.integer)) and self.max_unknowns >= 1):
            raise ValueError(
                f"diffusion max_unknowns must be an int >= 1, got {self.max_unknowns!r}"
            )
        if not (isinstance(self.max_memory_gb, (int, float)) and self.max_memory_gb > 0):
            raise ValueError(f"diffusion max_memory_gb must be > 0, got {self.max_memory_gb!r}")
        if not (isinstance(self.tile_xy, (int, np.integer)) and self.tile_xy >= 8):
            raise ValueError(f"diffusion tile_xy must be an int >= 8, got {self.tile_xy!r}")
        if not (isinstance(self.min_tiles, (int, np.integer)) and self.min_tiles >= 1):
            raise ValueError(f"diffusion min_tiles must be an int >= 1, got {self.min_tiles!r}")
        if self.lateral not in LATERALS:
            raise ValueError(f"diffusion lateral must be one of {LATERALS}, got {self.lateral!r}")


def _ratio_estimate(
    d: np.ndarray, e: np.ndarray, area: np.ndarray, n_cells: int
) -> tuple[float, float, float, float]:
    """Crop D_eff and ε (area-weighted tile means), τ = ε/D and its standard error.

    The standard error is that of a ratio estimator from the tile residuals ``ε_i - τ D_i``,
    with the finite-population correction ``1 - n/N`` (N grid cells, n sampled); NaN for one
    tile, 0 when every cell was solved.
    """
    w = area / area.sum()
    d_hat, e_hat = float(w @ d), float(w @ e)
    if d_hat <= 0:
        return d_hat, e_hat, math.inf, math.nan
    tau = e_hat / d_hat
    n = d.size
    if n < 2:
        return d_hat, e_hat, tau, math.nan
    resid = (area / area.mean()) * (e - tau * d)
    var = (1.0 - n / n_cells) * float(resid @ resid) / (n * (n - 1)) / d_hat**2
    return d_hat, e_hat, tau, math.sqrt(max(var, 0.0))


def _crop_wall_factor(
    d_periodic: np.ndarray, d_walls: np.ndarray, sides: np.ndarray, crop_yx: tuple[int, int]
) -> float:
    """Factor that takes a periodic-tile D_eff to the crop's, whose sides are no-flux walls.

    A no-flux wall removes conductance in a layer along it: to first order
    ``D_walls = D_∞ (1 - δ P / A)`` with P / A the perimeter over the area of the cross-section
    (4 / s for a square of side s) and δ an effective dead-layer thickness of the structure.
    The same tiles solved both ways give δ (a paired ratio, little noise); the crop's factor is
    ``1 - δ P_crop / A_crop``. On volumes solved whole this takes periodic 128² tiles from
    -3.0 % to -0.06 % of the whole 256³ electrode's τ_f (benchmarks/metrics.py).

    Parameters
    ----------
    d_periodic, d_walls : ndarray
        D_eff of the same tiles with periodic and with no-flux sides.
    sides : ndarray, shape (n, 2)
        (y, x) sides of those tiles in voxels.
    crop_yx : (Y, X)
        The crop's cross-section in voxels.

    Examples
    --------
    >>> round(_crop_wall_factor(np.array([1.0]), np.array([0.95]), np.array([[100, 100]]),
    ...                         (400, 400)), 4)  # δ = 1.25 voxels: 1 - 1.25 * 4 / 400
    0.9875
    """
    if d_periodic.sum() <= 0:
        return 1.0
    ratio = min(1.0, float(d_walls.sum() / d_periodic.sum()))
    tile_pa = float(np.mean(2.0 / sides[:, 0] + 2.0 / sides[:, 1]))
    crop_pa = 2.0 / crop_yx[0] + 2.0 / crop_yx[1]
    return max(ratio, 1.0 - (1.0 - ratio) * crop_pa / tile_pa)


def _diffusion(
    labels: LabelVolume, voxel_size_um: float, options: DiffusionOptions | None = None
) -> dict[str, Any]:
    opts = DiffusionOptions() if options is None else options
    boundary, porosity = CONVENTIONS[opts.convention]
    nz, ny, nx = labels.shape
    n_se = int(np.count_nonzero(labels == SE))
    budget_bytes = opts.max_memory_gb * 1e9
    conv = {"tau_factor_boundary": boundary, "tau_factor_porosity": porosity}
    if n_se <= opts.max_unknowns and solve_memory_bytes(labels.size, n_se) <= budget_bytes:
        run = tortuosity_factor(labels, boundary=boundary, porosity=porosity)
        return {
            **{k: v for k, v in run.items() if k != "solve_s"},
            **conv,
            "tau_factor_se": 0.0,
            "tau_factor_wall_factor": 1.0,
            "tau_factor_tile_std": math.nan,
            "diffusion_method": "whole",
            "diffusion_xy_um": min(ny, nx) * voxel_size_um,
            "n_diffusion_tiles": 1,
            "diffusion_sampled_fraction": 1.0,
        }
    # sampled: cells of a grid over the cross-section, spread over it, as many as the unknown
    # budget holds; the cell side is halved until the grid has at least 2 x 2 cells and one
    # cell fits the memory budget
    se_share = n_se / labels.size

    def cell(side: int) -> tuple[float, int]:  # voxels of a cell (mean), cells of the grid
        ky, kx = max(1, ny // side), max(1, nx // side)
        return nz * (ny / ky) * (nx / kx), ky * kx

    side = opts.tile_xy
    while side > 8 and (
        cell(side)[1] < 4
        or solve_memory_bytes(int(cell(side)[0]), int(cell(side)[0] * se_share)) > budget_bytes
    ):
        side //= 2
    n_wanted = max(opts.min_tiles, int(opts.max_unknowns // max(1.0, cell(side)[0] * se_share)))
    tiles, n_cells = grid_tiles((ny, nx), tile_xy=side, n_tiles=n_wanted)
    views = [labels[(slice(None), *t.read)] for t in tiles]
    counted = np.array([np.count_nonzero(v != OUTSIDE) for v in views])
    tiles = [t for t, c in zip(tiles, counted) if c]  # cells wholly outside the sample
    views_counted = [v for v, c in zip(views, counted) if c]
    runs = [
        tortuosity_factor(v, boundary=boundary, porosity=porosity, lateral=opts.lateral)
        for v in views_counted
    ]
    area = counted[counted > 0] / nz  # counted cross-section of each tile, voxel faces

    def tile_values(key: str) -> np.ndarray:
        return np.array([r[key] for r in runs], dtype=np.float64)

    eps_key = "epsilon_se" if porosity == "phase" else "epsilon_se_percolating"
    d_hat, e_hat, tau, tau_se = _ratio_estimate(
        tile_values("d_eff_rel"), tile_values(eps_key), area, n_cells
    )
    wall_factor = 1.0
    if opts.lateral == "periodic" and opts.wall_correction:
        check = list(range(0, len(runs), 4))  # every fourth tile, spread like the sample
        d_walls = np.array([
            tortuosity_factor(views_counted[i], boundary=boundary, porosity=porosity)["d_eff_rel"]
            for i in check
        ])  # fmt: skip
        sides = np.array([[views_counted[i].shape[1], views_counted[i].shape[2]] for i in check])
        wall_factor = _crop_wall_factor(tile_values("d_eff_rel")[check], d_walls, sides, (ny, nx))
        d_hat *= wall_factor
        tau = e_hat / d_hat if d_hat > 0 else math.inf
        tau_se /= wall_factor
    w = area / area.sum()
    eps_all = float(w @ tile_values("epsilon_se"))
    eps_through = float(w @ tile_values("epsilon_se_percolating"))
    tile_taus = tile_values("tau_factor")
    owned = sum((t.owned[0].stop - t.owned[0].start) * (t.owned[1].stop - t.owned[1].start)
                for t in tiles)  # fmt: skip
    return {
        "d_eff_rel": d_hat,
        "epsilon_se": eps_all,
        "epsilon_se_percolating": eps_through,
        "tau_factor": tau,
        "sigma_eff_rel": d_hat,
        "macmullin": 1.0 / d_hat if d_hat > 0 else math.inf,
        "se_percolating_fraction": eps_through / eps_all if eps_all > 0 else 0.0,
        "flux_imbalance": float(tile_values("flux_imbalance").max()),
        "n_unknowns": int(tile_values("n_unknowns").sum()),
        "n_iterations": int(tile_values("n_iterations").max()),
        **conv,
        "tau_factor_se": tau_se,
        "tau_factor_wall_factor": wall_factor,
        "tau_factor_tile_std": (
            float(np.std(tile_taus, ddof=1))
            if len(runs) > 1 and np.all(np.isfinite(tile_taus)) else math.nan
        ),
        "diffusion_method": f"tiles_{opts.lateral}",
        "diffusion_xy_um": side * voxel_size_um,
        "n_diffusion_tiles": len(tiles),
        "diffusion_sampled_fraction": owned / (ny * nx),
    }


def _connectivity(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    return se_connectivity(labels)


def _particle_rows(
    particles: np.ndarray, ids: np.ndarray, voxel_size_um: float, offset_zyx: tuple[int, ...]
) -> list[dict]:
    """One row per particle id: volume, equivalent diameter, centroid in crop coordinates."""
    from scipy import ndimage

    ones = np.ones(particles.shape, dtype=np.float64)
    volumes = ndimage.sum_labels(ones, particles, ids) * voxel_size_um**3
    centroids = ndimage.center_of_mass(ones, particles, ids) if ids.size else []
    oz, oy, ox = offset_zyx
    return [
        {
            "particle_id": int(pid),
            "volume_um3": float(volume),
            "equivalent_diameter_um": float((6.0 * volume / np.pi) ** (1.0 / 3.0)),
            "centroid_z_um": float((cz + oz + 0.5) * voxel_size_um),
            "centroid_y_um": float((cy + oy + 0.5) * voxel_size_um),
            "centroid_x_um": float((cx + ox + 0.5) * voxel_size_um),
            "surface_area_um2": None,
            "contact_area_fraction": None,
            "ionically_isolated": None,
        }
        for pid, volume, (cz, cy, cx) in zip(ids, volumes, centroids)
    ]


def _owned_ids(particles: np.ndarray, tile: TileWindow) -> np.ndarray:
    """Particle ids (1..n) whose centroid lies in the tile's owned region (voxel rounding)."""
    n = int(particles.max())
    ids = np.arange(1, n + 1)
    if n == 0:
        return ids
    zz, yy, xx = np.nonzero(particles)
    lab = particles[zz, yy, xx]
    count = np.bincount(lab, minlength=n + 1)[1:]
    cy = np.bincount(lab, weights=yy, minlength=n + 1)[1:] / np.maximum(count, 1)
    cx = np.bincount(lab, weights=xx, minlength=n + 1)[1:] / np.maximum(count, 1)
    (ys, xs) = tile.owned
    inside = (cy >= ys.start - 0.5) & (cy < ys.stop - 0.5)
    inside &= (cx >= xs.start - 0.5) & (cx < xs.stop - 0.5)
    return ids[inside & (count > 0)]


def _particles(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    tiles = spread_tiles(
        labels.shape[1:], tile_xy=PARTICLES_TILE_XY, n_tiles=PARTICLES_N_TILES,
        halo_vox=PARTICLES_HALO_VOX,
    )  # fmt: skip
    rows: list[dict] = []
    diameters, n_cut, next_id = [], 0, 0
    for tile in tiles:
        sizes = am_particle_sizes(labels[(slice(None), *tile.read)], voxel_size_um=voxel_size_um)
        owned = _owned_ids(sizes["particles"], tile)
        kept = np.intersect1d(owned, sizes["particle_ids"])
        n_cut += owned.size - kept.size
        diameters.append(sizes["diameters_um"][np.isin(sizes["particle_ids"], kept)])
        offset = (0, tile.read[0].start, tile.read[1].start)
        tile_rows = _particle_rows(sizes["particles"], kept, voxel_size_um, offset)
        for row in tile_rows:  # ids unique across tiles
            row["particle_id"] += next_id
        next_id += int(sizes["particles"].max())
        rows += tile_rows
    diam = np.concatenate(diameters) if diameters else np.zeros(0)
    return {
        "n_particles": int(diam.size),
        "n_particles_cut": int(n_cut),
        **particle_size_summary(diam),
        "particles_sampled_fraction": _sampled_fraction(labels, tiles),
        "particles": rows,
    }


def _thickness(labels: LabelVolume, voxel_size_um: float) -> dict[str, Any]:
    tiles = spread_tiles(
        labels.shape[1:], tile_xy=THICKNESS_TILE_XY, n_tiles=THICKNESS_N_TILES,
        halo_vox=THICKNESS_HALO_VOX,
    )  # fmt: skip
    checked_voxel_size_um(voxel_size_um)
    out: dict[str, Any] = {}
    for name, value in (("se", SE), ("void", VOID)):
        values = []
        for tile in tiles:
            mask = labels[(slice(None), *tile.read)] == value
            if mask.any():
                lt = local_thickness(mask, voxel_size_um=voxel_size_um)
                own = (slice(None), *tile.owned)
                values.append(lt[own][mask[own]])
        lt_all = np.concatenate(values) if values else np.zeros(0, dtype=np.float32)
        out[f"local_thickness_{name}_mean_um"] = float(lt_all.mean()) if lt_all.size else math.nan
        out[f"local_thickness_{name}_median_um"] = (
            float(np.median(lt_all)) if lt_all.size else math.nan
        )
    out["thickness_sampled_fraction"] = _sampled_fraction(labels, tiles)
    return out


#: per-item lists a family may return beside its scalars (the tortuosity and particles tables)
DETAIL_KEYS = frozenset({"tortuosity_paths", "particles"})

#: family name -> (function, phases it needs)
FAMILIES: dict[str, tuple[Family, tuple[int, ...]]] = {
    "fractions": (_fractions, ()),
    "contact": (_contact, (AM, SE)),
    "anisotropy": (_anisotropy, (AM, SE)),
    "connectivity": (_connectivity, (SE,)),
    "tortuosity": (_tortuosity, (SE,)),
    "diffusion": (_diffusion, (SE,)),
    "particles": (_particles, (AM,)),
    "thickness": (_thickness, ()),
}

_PHASE_NAMES = {VOID: "void", SE: "se", AM: "am"}
#: a phase below this share of the analysed voxels counts as absent: a few hundred noise voxels
#: labelled AM in a separator would otherwise give it a contact fraction of ~0.9
MIN_PHASE_FRACTION = 0.005


def _absent_phase_reasons(labels: LabelVolume) -> dict[int, str]:
    """Why each phase counts as absent (none, or below :data:`MIN_PHASE_FRACTION`)."""
    counts = phase_counts(checked_labels(labels))
    analysed = sum(counts.values())
    reasons = {}
    for phase, name in _PHASE_NAMES.items():
        if counts[phase] == 0:
            reasons[phase] = f"no {name} phase"
        elif counts[phase] < MIN_PHASE_FRACTION * analysed:
            reasons[phase] = (f"{name} phase is {counts[phase] / analysed:.2%} of the volume, "
                              f"below {MIN_PHASE_FRACTION:.1%}: treated as absent")
    return reasons


def _null_family(name: str, voxel_size_um: float, reason: str) -> dict[str, Any]:
    """The family's keys (from a run on a tiny volume holding every phase) set to None."""
    probe = np.full((4, 4, 4), SE, dtype=np.uint8)
    probe[:, :, 0] = VOID
    probe[:, 1:3, 1:3] = AM
    probe[:, 0, 1] = AM
    keys = FAMILIES[name][0](probe, voxel_size_um)
    return {**{k: None for k in keys}, f"{name}_null_reason": reason}


def _plain(value: Any) -> Any:
    """JSON-ready: non-finite floats become None (with the family's reason beside them)."""
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def summary_metrics(
    labels: LabelVolume,
    *,
    voxel_size_um: float,
    only: Iterable[str] | None = None,
    present_phases: Iterable[int] | None = None,
    details: dict[str, Any] | None = None,
    diffusion: DiffusionOptions | Mapping[str, Any] | None = None,
    pair_counts: PairCounts | None = None,
) -> dict[str, Any]:
    """Every requested metric family of `labels`, as one flat JSON-ready dict.

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        0 void, 1 SE, 2 AM, 255 outside; z (axis 0) is the transport axis.
    voxel_size_um : float
        Voxel edge in µm, > 0.
    only : iterable of str, optional
        Family names (keys of :data:`FAMILIES`); default all.
    present_phases : iterable of int, optional
        Phases the volume was declared to contain (from ``--labels``); a family that needs an
        undeclared phase comes out as nulls with a reason. Default: the phases holding at
        least :data:`MIN_PHASE_FRACTION` of the analysed voxels.
    details : dict, optional
        Receives the per-item arrays (``tortuosity_paths``: τ per outlet path,
        ``particles``) as lists of row dicts; the returned record holds scalars only.
    diffusion : DiffusionOptions or mapping, optional
        Budget, sampling and convention of the tortuosity factor (a mapping is passed to
        :class:`DiffusionOptions` as keywords); default ``DiffusionOptions()``.
    pair_counts : PairCounts, optional
        Crofton pair counts of `labels` already made
        (:func:`tomopress.metrics.interfaces.crofton_pair_counts`, all directions): the contact
        and anisotropy families use them instead of counting again.

    Raises
    ------
    ValueError
        On unknown family names, a non-positive voxel size or bad diffusion options.
    """
    checked_voxel_size_um(voxel_size_um)
    if diffusion is not None and not isinstance(diffusion, DiffusionOptions):
        diffusion = DiffusionOptions(**diffusion)
    extra: dict[str, dict[str, Any]] = {"diffusion": {"options": diffusion}}
    if pair_counts is not None:
        extra.update(contact={"pair_counts": pair_counts}, anisotropy={"pair_counts": pair_counts})
    names = list(FAMILIES) if only is None else list(only)
    unknown = sorted(set(names) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown metric families {unknown}; choose from {sorted(FAMILIES)}")
    if present_phases is not None:
        declared = set(present_phases)
        absent = {p: f"no {n} phase" for p, n in _PHASE_NAMES.items() if p not in declared}
    else:
        absent = _absent_phase_reasons(labels)
    record: dict[str, Any] = {"voxel_size_um": float(voxel_size_um), "shape_zyx": list(labels.shape)}
    progress = Progress(log, f"metrics of {labels.shape} voxels: family", len(names), every_s=0)
    for name in names:
        function, needs = FAMILIES[name]
        missing = [p for p in needs if p in absent]
        if missing:
            reason = ("no " + ", ".join(_PHASE_NAMES[p] for p in missing) + " phase"
                      if all(absent[p].startswith("no ") for p in missing)
                      else "; ".join(absent[p] for p in missing))
            record.update(_null_family(name, voxel_size_um, reason))
            progress.step(f"{name}: null, {reason}")
            continue
        t0 = time.perf_counter()
        for key, value in function(labels, voxel_size_um, **extra.get(name, {})).items():
            if key in DETAIL_KEYS:
                if details is not None:
                    details[key] = value
            else:
                record[key] = value
        progress.step(f"{name} in {time.perf_counter() - t0:.1f} s")
    return {k: _plain(v) for k, v in record.items()}
