"""Tortuosity factor from steady-state diffusion through SE (METRICS.md, "Tortuosity factor").

Discretisation
--------------
Cell-centred finite volumes on the voxel grid: one unknown concentration per voxel centre, a
conductance ``g_ij = 2 D_i D_j / (D_i + D_j) · h`` (harmonic mean, i.e. two half-voxel resistances
in series) between face neighbours, none across a zero-conductivity voxel; sides (x, y faces) are
no-flux. Only the conducting cluster (6-connected, conductivity > 0) that touches both the first
and the last z layer enters the system; dead-end and isolated clusters carry no steady flux and
would make the matrix singular.

Boundary conventions (``boundary``)
-----------------------------------
``"layers"`` (porespy ``tortuosity_fd``, PuMA; the default)
    c = 1 at the centres of the ``z = 0`` voxels and c = 0 at the centres of the ``z = Z - 1``
    voxels: transport length ``L = (Z - 1) h`` (the same L as the geometric tortuosity). Layers
    in series give ``D_eff = L / Σ_k (ℓ_k / D_k)`` with the first and last voxel layers counting
    ``ℓ = h/2``.
``"faces"`` (taufactor ``Solver``)
    c = 1 on the outer face of the first layer and c = 0 on the outer face of the last one, half
    a voxel outside the voxel centres, reached through a half-voxel conductance ``2 D_i h``:
    ``L = Z h``, every voxel of the through cluster is unknown, and layers in series give
    ``D_eff = Z / Σ_k (1 / D_k)``.
On a structure that is uniform along z both give the same D_eff; otherwise they differ by the
weight of the first and last layers, an effect of order 1/Z.

Porosity conventions (``porosity`` in :func:`tortuosity_factor`)
-----------------------------------------------------------------
``τ_f = ε D / D_eff`` with ``ε`` either all of the phase in the counted region (``"phase"``, as
taufactor ``Solver.VF``; the default) or only its through cluster (``"percolating"``, porespy's
``effective_porosity`` after ``trim_nonpercolating_paths``). The MacMullin number ``D / D_eff``
does not depend on that choice. :data:`CONVENTIONS` names the combinations of the peers.

Flux and effective diffusivity
------------------------------
The z-flux of every column is averaged over all flux planes (the ``Z - 1`` planes between
layers, plus the two half-voxel boundary links for ``"faces"``); in a converged solve each plane
carries the same total flux J, and ``D_eff = J L / (A Δc)`` with A the cross-section (Y X h² for
a conductivity field; the counted area, mean over planes, for a label volume with 255 voxels).
The column map also gives the flux through a part of the cross-section (a tile owned inside a
larger window, see :func:`tortuosity_factor`). ``flux_imbalance`` = |J_in - J_out| / J reports
convergence.

Solver: conjugate gradients preconditioned by smoothed-aggregation algebraic multigrid (pyamg)
when it is installed, else ``scipy.sparse.linalg.cg`` with a Jacobi preconditioner; started
from the linear profile between the Dirichlet planes, the exact answer for z-uniform
structures. The matrix is assembled directly in CSR form with 32-bit indices, about 85 bytes
per unknown; :func:`solve_memory_bytes` estimates the peak of a solve (about 450 bytes per
unknown, most of it the multigrid set-up). Time: about 11 µs of CPU per unknown on this
project's 2-core machine (85 s for the 7.5 10⁶ unknowns of a 256³ electrode's pore phase).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as splinalg

from tomopress.metrics._checks import checked_labels
from tomopress.metrics.connectivity import FACE_STRUCTURE
from tomopress.types import OUTSIDE, SE, LabelVolume

__all__ = [
    "BOUNDARIES",
    "CONVENTIONS",
    "LATERALS",
    "POROSITIES",
    "effective_diffusivity",
    "solve_memory_bytes",
    "tortuosity_factor",
]

log = logging.getLogger(__name__)

#: where the Dirichlet planes sit (module docstring)
BOUNDARIES = ("layers", "faces")
#: side faces of the solved box: no-flux walls, or periodic
LATERALS = ("walls", "periodic")
#: which porosity τ_f = ε D / D_eff divides by (module docstring)
POROSITIES = ("phase", "percolating")
#: named (boundary, porosity) conventions: this project's default and the peers'
CONVENTIONS: dict[str, tuple[str, str]] = {
    "tomopress": ("layers", "phase"),
    "porespy": ("layers", "percolating"),
    "taufactor": ("faces", "phase"),
}

#: peak memory of tortuosity_factor: 20 bytes per voxel and 450 per unknown reproduce the peak
#: resident memory of the whole solve of taufactor's 256³ electrode (pore phase, 7.5 10⁶
#: unknowns: 3.73 GB including the interpreter and the label volume); tracemalloc on random
#: volumes of 10⁶ voxels counts 22 and 506 (it also counts pages never touched). The peak is
#: pyamg's smoothed-aggregation set-up (~390 bytes per unknown above the matrix).
BYTES_PER_VOXEL = 20.0
BYTES_PER_UNKNOWN = 450.0


def solve_memory_bytes(n_voxels: int, n_unknowns: int) -> float:
    """Estimated peak memory (bytes) of :func:`tortuosity_factor` on a volume.

    Parameters
    ----------
    n_voxels : int
        Voxels of the volume (Z Y X).
    n_unknowns : int
        Unknowns of the system (at most the voxels of the conducting phase).

    Examples
    --------
    >>> round(solve_memory_bytes(256**3, 7_540_311) / 1e9, 2)  # taufactor's electrode, pore
    3.73
    """
    return BYTES_PER_VOXEL * n_voxels + BYTES_PER_UNKNOWN * n_unknowns


def _percolating(
    cond: npt.NDArray[np.float64], periodic_axes: tuple[int, ...] = ()
) -> npt.NDArray[np.bool_]:
    """Voxels of the conducting 6-connected clusters touching both the first and last z plane
    (clusters joined across the faces of `periodic_axes`, which wrap around)."""
    comp, n = ndimage.label(cond > 0, structure=FACE_STRUCTURE)
    if periodic_axes and n > 1:
        pairs = []
        for axis in periodic_axes:
            a, b = comp.take(0, axis=axis), comp.take(-1, axis=axis)
            both_on = (a > 0) & (b > 0)
            pairs.append(np.stack([a[both_on], b[both_on]]))
        ab = np.concatenate(pairs, axis=1)
        graph = sparse.coo_matrix((np.ones(ab.shape[1]), (ab[0], ab[1])), shape=(n + 1, n + 1))
        _, merged = csgraph.connected_components(graph, directed=False)
        merged[0] = -1
        comp = np.where(comp > 0, merged[comp] + 1, 0)
    both = np.intersect1d(np.unique(comp[0]), np.unique(comp[-1]))
    both = both[both > 0]
    return np.isin(comp, both) if both.size else np.zeros(cond.shape, dtype=bool)


def _links(
    g: npt.NDArray[np.float64], axis: int, periodic: bool = False
) -> npt.NDArray[np.float64]:
    """Face conductances (harmonic mean) between neighbours along `axis`; 0 unless both conduct.

    Element k links k and k + 1 (n - 1 links; with `periodic`, n links, the last one joining
    n - 1 and 0)."""
    if periodic:
        ga, gb = g, np.roll(g, -1, axis=axis)
    else:
        lo, hi = [slice(None)] * 3, [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        ga, gb = g[tuple(lo)], g[tuple(hi)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((ga > 0) & (gb > 0), 2 * ga * gb / (ga + gb), 0.0)


def _shifted(a: np.ndarray, axis: int, step: int, fill: Any) -> np.ndarray:
    """``a`` moved by `step` (±1) along `axis`: out[k] = a[k - step], `fill` where undefined."""
    out = np.full(a.shape, fill, dtype=a.dtype)
    src = [slice(None)] * a.ndim
    dst = [slice(None)] * a.ndim
    if step > 0:
        src[axis], dst[axis] = slice(0, -1), slice(1, None)
    else:
        src[axis], dst[axis] = slice(1, None), slice(0, -1)
    out[tuple(dst)] = a[tuple(src)]
    return out


def _assemble(
    g: npt.NDArray[np.float64],
    unknown: npt.NDArray[np.bool_],
    boundary: str,
    periodic_axes: tuple[int, ...] = (),
) -> tuple[sparse.csr_matrix, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """CSR matrix, right-hand side and diagonal of the system for c (inlet 1, outlet 0)."""
    n_u = int(unknown.sum())
    itype = np.int32 if n_u < 2**31 - 8 else np.int64
    idx = np.full(g.shape, -1, dtype=itype)
    idx[unknown] = np.arange(n_u, dtype=itype)
    # one row per unknown, 7 slots in increasing column order: -z, -y, -x, self, +x, +y, +z
    # (the unknowns are numbered in raster order, so this order is the column order)
    cols = np.full((n_u, 7), -1, dtype=itype)
    vals = np.zeros((n_u, 7))
    diag = np.zeros(n_u)
    rhs = np.zeros(n_u)
    for slot, axis, step in ((0, 0, 1), (1, 1, 1), (2, 2, 1), (4, 2, -1), (5, 1, -1), (6, 0, -1)):
        # link to the neighbour at k - step, seen from voxel k
        if axis in periodic_axes:
            links = _links(g, axis, periodic=True)
            link = (np.roll(links, 1, axis=axis) if step > 0 else links)[unknown]
            nb = np.roll(idx, step, axis=axis)[unknown]
        else:
            pad = [(0, 0)] * 3
            pad[axis] = (1, 0) if step > 0 else (0, 1)
            link = np.pad(_links(g, axis), pad)[unknown]
            nb = _shifted(idx, axis, step, -1)[unknown]
        diag += link
        inner = (link > 0) & (nb >= 0)
        cols[:, slot] = np.where(inner, nb, -1)
        vals[:, slot] = -link
        if axis == 0 and boundary == "layers" and step > 0:
            # neighbour on the inlet layer (c = 1); the outlet layer (c = 0) adds nothing
            rhs += np.where((link > 0) & (nb < 0), link, 0.0)
        del link, nb, inner
    if boundary == "faces":
        # half-voxel links to the outer faces: inlet face c = 1, outlet face c = 0
        first = np.zeros(g.shape, dtype=bool)
        first[0] = True
        last = np.zeros(g.shape, dtype=bool)
        last[-1] = True
        g_u = g[unknown]
        at_first, at_last = first[unknown], last[unknown]
        diag += np.where(at_first, 2 * g_u, 0.0) + np.where(at_last, 2 * g_u, 0.0)
        rhs += np.where(at_first, 2 * g_u, 0.0)
        del g_u, at_first, at_last, first, last
    cols[:, 3] = np.arange(n_u, dtype=itype)
    vals[:, 3] = diag
    keep = cols >= 0
    indptr = np.zeros(n_u + 1, dtype=itype)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    indices = cols[keep]
    del cols
    data = vals[keep]
    del vals, keep
    mat = sparse.csr_matrix((data, indices, indptr), shape=(n_u, n_u))
    if periodic_axes:  # wrapped neighbours break the column order of their rows
        mat.sort_indices()
    else:
        mat.has_sorted_indices = True
    return mat, rhs, diag


def effective_diffusivity(
    conductivity: npt.ArrayLike,
    *,
    boundary: str = "layers",
    lateral: str = "walls",
    rtol: float = 1e-6,
    maxiter: int = 20000,
    solver: str = "auto",
) -> dict[str, Any]:
    """Effective diffusivity along z of a conductivity field between two Dirichlet planes.

    Parameters
    ----------
    conductivity : array_like of float, shape (Z, Y, X)
        Local diffusivity (or conductivity) per voxel, >= 0, any unit; Z >= 2.
    boundary : {"layers", "faces"}
        Dirichlet planes on the centres of the first and last voxel layers (porespy, PuMA;
        ``L = Z - 1`` voxels) or on the outer faces of the volume (taufactor; ``L = Z``).
    lateral : {"walls", "periodic"}
        Side faces (x, y) no-flux, as a crop's; or periodic, the last column conducting to the
        first (along sides of at least 3 voxels), as one cell of a laterally infinite medium:
        the apparent D_eff of a tile then has no wall bias (see tomopress.metrics.summary).
    rtol : float
        Relative residual tolerance of the CG solve, in (0, 1).
    maxiter : int
        Maximum number of CG iterations, >= 1.
    solver : {"auto", "amg", "cg"}
        Preconditioner of the CG solve: ``"amg"`` smoothed-aggregation algebraic multigrid
        (pyamg), ``"cg"`` Jacobi; ``"auto"`` takes ``"amg"`` when pyamg is importable.

    Returns
    -------
    dict
        ``d_eff``: effective diffusivity along z, in the unit of `conductivity`
        (``J L / (Y X)`` in voxel units, Δc = 1); ``transport_length_vox`` (L);
        ``z_flux_yx``: ndarray (Y, X), the z-flux of each column averaged over the flux planes
        (their sum is J); ``n_unknowns``; ``n_iterations``; ``flux_imbalance``
        (dimensionless); ``percolating``: bool ndarray (Z, Y, X), the through cluster;
        ``percolating_fraction`` (its share of the voxels); ``solve_s`` (wall time in s);
        ``concentration``: ndarray of float64, shape (Z, Y, X), NaN outside the through cluster.
        ``d_eff`` is 0.0 when no conducting cluster spans the volume.

    Raises
    ------
    ValueError
        If `conductivity` is not 3-D with Z >= 2, has negative or non-finite values, or an option
        is out of range.
    RuntimeError
        If CG does not converge within `maxiter` iterations.

    Examples
    --------
    >>> field = np.ones((5, 2, 2))
    >>> field[:, 0, :] = 3.0            # parallel layers: mean of 1 and 3
    >>> round(effective_diffusivity(field)["d_eff"], 10)
    2.0
    >>> field = np.ones((4, 1, 1))
    >>> field[1] = 0.5                  # in series, outer faces: 4 / (1 + 2 + 1 + 1)
    >>> round(effective_diffusivity(field, boundary="faces")["d_eff"], 10)
    0.8
    """
    cond = np.asarray(conductivity, dtype=np.float64)
    if cond.ndim != 3 or cond.shape[0] < 2 or min(cond.shape) < 1:
        raise ValueError(f"conductivity must be 3-D (z, y, x) with Z >= 2, got shape {cond.shape}")
    if not np.all(np.isfinite(cond)) or (cond < 0).any():
        raise ValueError("conductivity must be finite and >= 0 everywhere")
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    if lateral not in LATERALS:
        raise ValueError(f"lateral must be one of {LATERALS}, got {lateral!r}")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    if not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
        raise ValueError(f"maxiter must be an int >= 1, got {maxiter!r}")
    if solver not in ("auto", "amg", "cg"):
        raise ValueError(f"solver must be 'auto', 'amg' or 'cg', got {solver!r}")
    t0 = time.perf_counter()
    nz, ny, nx = cond.shape
    length = nz - 1 if boundary == "layers" else nz
    periodic_axes = tuple(a for a in (1, 2) if lateral == "periodic" and cond.shape[a] >= 3)
    active = _percolating(cond, periodic_axes)
    conc = np.full(cond.shape, np.nan)
    out: dict[str, Any] = {
        "d_eff": 0.0, "transport_length_vox": float(length), "z_flux_yx": np.zeros((ny, nx)),
        "n_unknowns": 0, "n_iterations": 0, "flux_imbalance": 0.0, "percolating": active,
        "percolating_fraction": float(active.mean()), "concentration": conc,
    }  # fmt: skip
    if not active.any():
        return {**out, "solve_s": time.perf_counter() - t0}
    g = np.where(active, cond, 0.0)
    unknown = active.copy()
    if boundary == "layers":
        unknown[0] = unknown[-1] = False
    n_u = int(unknown.sum())
    n_iter = 0
    if n_u:
        mat, rhs, diag = _assemble(g, unknown, boundary, periodic_axes)
        z_c = (np.arange(nz) + (0.0 if boundary == "layers" else 0.5)) / length
        x0 = np.broadcast_to((1.0 - z_c)[:, None, None], cond.shape)[unknown]
        sol, n_iter = _solve(mat, rhs, x0, diag, rtol=rtol, maxiter=maxiter, solver=solver)
        del mat, rhs, diag, x0
        conc[unknown] = sol
        del sol
    if boundary == "layers":
        conc[0][active[0]] = 1.0
        conc[-1][active[-1]] = 0.0
    # z-flux through every flux plane, summed per column
    link_z = _links(g, 0)
    with np.errstate(invalid="ignore"):
        plane_flux = np.where(link_z > 0, link_z * (conc[:-1] - conc[1:]), 0.0)
    del link_z
    column = plane_flux.sum(axis=0)
    j_in, j_out = float(plane_flux[0].sum()), float(plane_flux[-1].sum())
    n_planes = nz - 1
    del plane_flux
    if boundary == "faces":
        face_in = np.where(active[0], 2 * g[0] * (1.0 - np.nan_to_num(conc[0])), 0.0)
        face_out = np.where(active[-1], 2 * g[-1] * np.nan_to_num(conc[-1]), 0.0)
        column += face_in + face_out
        j_in, j_out = float(face_in.sum()), float(face_out.sum())
        n_planes = nz + 1
    column /= n_planes
    flux = float(column.sum())
    elapsed = time.perf_counter() - t0
    log.debug("effective_diffusivity: %d unknowns, %d CG iterations, %.2f s", n_u, n_iter, elapsed)
    return {
        **out,
        "d_eff": flux * length / (ny * nx),
        "z_flux_yx": column,
        "n_unknowns": n_u,
        "n_iterations": n_iter,
        "flux_imbalance": abs(j_in - j_out) / flux if flux > 0 else 0.0,
        "solve_s": elapsed,
    }


def _sorted_without_duplicates(mat: sparse.bsr_array | sparse.bsr_matrix) -> bool:
    """Sort `mat`'s block indices in place (C); True when no block row repeats a column.

    Examples
    --------
    >>> m = sparse.bsr_array((np.ones((3, 1, 1)), np.array([1, 0, 1]), np.array([0, 2, 3])),
    ...                      shape=(2, 2))
    >>> _sorted_without_duplicates(m), m.indices.tolist()
    (True, [0, 1, 1])
    """
    mat.sort_indices()
    nnz = int(mat.indptr[-1])
    repeated = np.diff(mat.indices[:nnz]) == 0
    starts = mat.indptr[1:-1]
    starts = starts[(starts > 0) & (starts < nnz)]
    repeated[starts - 1] = False  # equal columns in consecutive rows are no duplicates
    return not repeated.any()


@contextmanager
def _bsr_sum_duplicates_vectorised() -> Iterator[None]:
    """Within the block, ``sum_duplicates`` of a BSR matrix with nothing to sum skips a loop.

    pyamg's 'local' prolongation smoothing takes ``abs`` of every coarse Galerkin operator
    (BSR, unsorted), which calls scipy's ``sum_duplicates``: a pure-Python loop over the block
    rows (scipy 1.16-1.17), ~0.7 s per level and ~40 % of the whole set-up at 2 10⁶ unknowns.
    A matrix product has no duplicate entries, so sorting the indices (in C) is all that loop
    changes: the hierarchy, and every number solved with it, are the same. Matrices that do
    hold duplicates still go through scipy's own method.
    """
    classes = (sparse.bsr_array, sparse.bsr_matrix)
    saved = {cls: cls.__dict__.get("sum_duplicates") for cls in classes}

    def sum_duplicates(self: Any) -> None:
        if self.has_canonical_format:
            return
        if _sorted_without_duplicates(self):
            self.prune()  # as scipy's loop ends
            self.has_canonical_format = True
        else:
            scipy_sum_duplicates(self)

    scipy_sum_duplicates = sparse.bsr_array.sum_duplicates
    for cls in classes:
        cls.sum_duplicates = sum_duplicates  # type: ignore[method-assign]
    try:
        yield
    finally:
        for cls, own in saved.items():
            if own is None:
                del cls.sum_duplicates
            else:
                cls.sum_duplicates = own  # type: ignore[method-assign]


def _solve(
    mat: sparse.csr_matrix,
    rhs: npt.NDArray[np.float64],
    x0: npt.NDArray[np.float64],
    diag: npt.NDArray[np.float64],
    *,
    rtol: float,
    maxiter: int,
    solver: str,
) -> tuple[npt.NDArray[np.float64], int]:
    """Solution of the SPD system and the number of CG iterations (see effective_diffusivity)."""
    if solver in ("auto", "amg"):
        try:
            import pyamg
        except ImportError:
            if solver == "amg":
                raise
        else:
            # AMG-preconditioned CG: ~15-25 iterations instead of ~1000 for Jacobi on a
            # 128² x 100 SE network, and 3x less time including the hierarchy set-up
            # 'local' (Gershgorin) weighting of the prolongation smoother avoids the
            # eigenvalue estimates that take most of the default set-up time
            with _bsr_sum_duplicates_vectorised():
                hierarchy = pyamg.smoothed_aggregation_solver(
                    mat,
                    symmetry="symmetric",
                    smooth=("jacobi", {"weighting": "local"}),
                )
            residuals: list[float] = []
            sol = hierarchy.solve(
                rhs, x0=x0, tol=rtol, maxiter=maxiter, accel="cg", residuals=residuals
            )
            if not residuals[-1] <= rtol * np.linalg.norm(rhs):
                raise RuntimeError(f"AMG-CG did not converge in {maxiter} iterations")
            return np.asarray(sol), len(residuals) - 1
    n_iter = 0

    def _count(_: Any) -> None:
        nonlocal n_iter
        n_iter += 1

    n_u = rhs.size
    precond = splinalg.LinearOperator((n_u, n_u), matvec=lambda r: r / diag, dtype=np.float64)
    sol, info = splinalg.cg(
        mat, rhs, x0=x0, rtol=rtol, atol=0.0, maxiter=maxiter, M=precond, callback=_count
    )
    if info != 0:
        raise RuntimeError(f"CG did not converge in {maxiter} iterations (info={info})")
    return sol, n_iter


def tortuosity_factor(
    labels: LabelVolume,
    *,
    boundary: str = "layers",
    porosity: str = "phase",
    lateral: str = "walls",
    owned_yx: tuple[slice, slice] | None = None,
    rtol: float = 1e-6,
    maxiter: int = 20000,
    solver: str = "auto",
) -> dict[str, Any]:
    """Flux-based tortuosity factor of the SE phase along z (inlet z = 0, outlet z = Z - 1).

    SE voxels have diffusivity D = 1, all others 0; see the module docstring for the boundary
    and porosity conventions (:data:`CONVENTIONS` gives the peers' combinations).

    Parameters
    ----------
    labels : ndarray of uint8, shape (Z, Y, X)
        Phase labels (0 void, 1 SE, 2 AM, 255 outside), Z >= 2.
    boundary : {"layers", "faces"}
        Dirichlet planes on the first and last voxel layers (``L = (Z - 1) h``) or on the
        outer faces of the volume (``L = Z h``).
    porosity : {"phase", "percolating"}
        ε of ``τ_f = ε D / D_eff``: all SE of the counted region, or its through cluster only.
    lateral : {"walls", "periodic"}
        Side faces no-flux (a crop) or periodic (a tile of a larger crop), as in
        :func:`effective_diffusivity`.
    owned_yx : (slice, slice), optional
        Report the columns of this part of the cross-section only (a tile owned inside a larger
        window solved whole, so that its sides are not walls): D_eff from the flux through it
        and ε from its voxels. Default: the whole cross-section.
    rtol, maxiter, solver
        CG tolerance, iteration cap and preconditioner, as in :func:`effective_diffusivity`.

    Returns
    -------
    dict
        Dimensionless: ``d_eff_rel`` = D_eff / D; ``epsilon_se`` = SE volume fraction of the
        counted region (all SE); ``epsilon_se_percolating`` = that of its through cluster;
        ``tau_factor`` = ε D / D_eff with ε by `porosity`; ``sigma_eff_rel`` = σ_eff / σ_SE
        (= D_eff / D); ``macmullin`` = D / D_eff (= τ_f / ε); ``se_percolating_fraction`` =
        through-cluster SE over all SE; ``flux_imbalance``; plus ``n_unknowns``,
        ``n_iterations`` and ``solve_s`` (s). Without a spanning SE cluster, D_eff = 0,
        τ_f = N_M = inf.

    Raises
    ------
    ValueError
        If `labels` is not a 3-D label volume with Z >= 2, `owned_yx` holds no counted voxel or
        an option is unknown.

    Examples
    --------
    >>> vol = np.zeros((6, 4, 4), dtype=np.uint8)
    >>> vol[:, :2, :] = SE                      # straight channels, ε = 0.5
    >>> out = tortuosity_factor(vol)
    >>> round(out["tau_factor"], 8), round(out["macmullin"], 8)
    (1.0, 2.0)
    """
    labels = checked_labels(labels, min_z=2)
    if porosity not in POROSITIES:
        raise ValueError(f"porosity must be one of {POROSITIES}, got {porosity!r}")
    own = (slice(None), slice(None)) if owned_yx is None else tuple(owned_yx)
    region = (slice(None), *own)
    n_counted = int(np.count_nonzero(labels[region] != OUTSIDE))
    if n_counted == 0:
        raise ValueError("the label volume has no counted voxel (all 255) in the reported region")
    se = labels == SE
    res = effective_diffusivity(
        se.astype(np.float64), boundary=boundary, lateral=lateral, rtol=rtol, maxiter=maxiter,
        solver=solver,
    )
    nz = labels.shape[0]
    counted_area = n_counted / nz  # voxel faces, mean over planes
    d_rel = float(res["z_flux_yx"][own].sum()) * res["transport_length_vox"] / counted_area
    n_se = int(np.count_nonzero(se[region]))
    n_through = int(np.count_nonzero(res["percolating"][region]))
    eps = n_se / n_counted
    eps_through = n_through / n_counted
    with np.errstate(divide="ignore"):
        tau = (eps if porosity == "phase" else eps_through) / d_rel if d_rel > 0 else float("inf")
    return {
        "d_eff_rel": d_rel,
        "epsilon_se": eps,
        "epsilon_se_percolating": eps_through,
        "tau_factor": tau,
        "sigma_eff_rel": d_rel,
        "macmullin": 1.0 / d_rel if d_rel > 0 else float("inf"),
        "se_percolating_fraction": n_through / n_se if n_se else 0.0,
        "flux_imbalance": res["flux_imbalance"],
        "n_unknowns": res["n_unknowns"],
        "n_iterations": res["n_iterations"],
        "solve_s": res["solve_s"],
    }
