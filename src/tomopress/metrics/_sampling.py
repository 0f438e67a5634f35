"""Lateral tiles spread over a crop, for the metrics too costly to run on a whole crop.

A 1024 x 1024 x 100 crop (10⁸ voxels) is too large for the watershed, the local thickness and
the diffusion solve within the time budget of the `metrics` rule, but its microstructure is
statistically homogeneous in x-y: those families are evaluated on a few full-height tiles spread
evenly over the crop, and the tile-to-tile scatter is reported beside the estimate. A crop that
fits in one tile is analysed whole, so small volumes give exactly the whole-crop values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TileWindow", "grid_tiles", "spread_tiles"]


@dataclass(frozen=True)
class TileWindow:
    """One tile: the voxels it owns and the larger window (owned + halo) that is read.

    Attributes
    ----------
    y0, x0 : int
        Origin of the owned tile in the crop (voxels).
    read : tuple of slice
        (y, x) slices of the crop that are read (the owned tile plus the halo, clipped).
    owned : tuple of slice
        (y, x) slices of the owned tile *within the read window*.
    """

    y0: int
    x0: int
    read: tuple[slice, slice]
    owned: tuple[slice, slice]


def spread_tiles(
    shape_yx: tuple[int, int], *, tile_xy: int, n_tiles: int, halo_vox: int = 0
) -> list[TileWindow]:
    """Up to `n_tiles` lateral tiles of ``tile_xy²`` voxels spread evenly over the crop.

    The crop is cut into a k x k grid of equal cells (k = ⌈√n_tiles⌉); `n_tiles` cells evenly
    spaced in raster order each get one tile centred in the cell (clipped to the crop). A side
    shorter than `tile_xy` gives tiles spanning it; a crop no larger than one tile gives one
    tile covering it.

    Parameters
    ----------
    shape_yx : (Y, X)
        Lateral size of the crop in voxels.
    tile_xy : int
        Tile side in voxels, >= 1.
    n_tiles : int
        Number of tiles wanted, >= 1.
    halo_vox : int
        Extra voxels read on each lateral side of a tile (clipped to the crop), >= 0.

    Returns
    -------
    list of TileWindow
        Distinct, non-overlapping owned tiles.

    Examples
    --------
    >>> [(t.y0, t.x0) for t in spread_tiles((100, 100), tile_xy=20, n_tiles=4)]
    [(15, 15), (15, 65), (65, 15), (65, 65)]
    >>> spread_tiles((10, 10), tile_xy=20, n_tiles=4)[0].owned
    (slice(0, 10, None), slice(0, 10, None))
    """
    ny, nx = (int(n) for n in shape_yx)
    if not (tile_xy >= 1 and n_tiles >= 1 and halo_vox >= 0):
        raise ValueError(f"need tile_xy >= 1, n_tiles >= 1, halo_vox >= 0; got {tile_xy}, "
                         f"{n_tiles}, {halo_vox}")  # fmt: skip
    ty, tx = min(tile_xy, ny), min(tile_xy, nx)
    # no more cells per side than whole tiles fit, so that tiles never overlap
    k = min(math.ceil(math.sqrt(n_tiles)), max(ny // ty, 1), max(nx // tx, 1))
    cells = [(i, j) for i in range(k) for j in range(k)]
    picks = sorted({round(v) for v in _linspace(0, len(cells) - 1, min(n_tiles, len(cells)))})
    tiles = []
    for i, j in (cells[p] for p in picks):
        y0 = min(max(0, int((i + 0.5) * ny / k - ty / 2)), ny - ty)
        x0 = min(max(0, int((j + 0.5) * nx / k - tx / 2)), nx - tx)
        ylo, xlo = max(0, y0 - halo_vox), max(0, x0 - halo_vox)
        yhi, xhi = min(ny, y0 + ty + halo_vox), min(nx, x0 + tx + halo_vox)
        tiles.append(
            TileWindow(
                y0, x0,
                (slice(ylo, yhi), slice(xlo, xhi)),
                (slice(y0 - ylo, y0 - ylo + ty), slice(x0 - xlo, x0 - xlo + tx)),
            )
        )  # fmt: skip
    return tiles


def grid_tiles(
    shape_yx: tuple[int, int], *, tile_xy: int, n_tiles: int, halo_vox: int = 0
) -> tuple[list[TileWindow], int]:
    """`n_tiles` cells of a grid that partitions the crop, picked evenly over the cross-section.

    The crop is cut into ``ky x kx`` near-equal cells (``ky = max(1, Y // tile_xy)``, sides
    between `tile_xy` and ``2 tile_xy - 1``), so the cells tile the whole cross-section and the
    mean over all cells is the crop's. The cells are ordered along a serpentine (boustrophedon)
    path, which keeps consecutive cells adjacent, and ``n`` of the ``N`` cells are taken at the
    centres of ``n`` equal runs of that path (systematic sampling): the picks span every row
    and column band of the crop, edges included, instead of clustering in its centre. With
    ``n_tiles >= N`` every cell is taken.

    Parameters
    ----------
    shape_yx : (Y, X)
        Lateral size of the crop in voxels.
    tile_xy : int
        Smallest cell side in voxels, >= 1.
    n_tiles : int
        Number of cells wanted, >= 1.
    halo_vox : int
        Extra voxels read on each lateral side of a cell (clipped to the crop), >= 0.

    Returns
    -------
    tiles : list of TileWindow
        The picked cells (owned = the cell), in path order.
    n_cells : int
        N, the number of cells of the grid.

    Examples
    --------
    >>> tiles, n = grid_tiles((400, 400), tile_xy=100, n_tiles=4)
    >>> n, [(t.y0, t.x0) for t in tiles]
    (16, [(0, 200), (100, 100), (200, 200), (300, 100)])
    >>> grid_tiles((150, 90), tile_xy=100, n_tiles=3)[0][0].owned
    (slice(0, 150, None), slice(0, 90, None))
    """
    ny, nx = (int(n) for n in shape_yx)
    if not (tile_xy >= 1 and n_tiles >= 1 and halo_vox >= 0):
        raise ValueError(f"need tile_xy >= 1, n_tiles >= 1, halo_vox >= 0; got {tile_xy}, "
                         f"{n_tiles}, {halo_vox}")  # fmt: skip
    ky, kx = max(1, ny // tile_xy), max(1, nx // tile_xy)
    ey = [round(i * ny / ky) for i in range(ky + 1)]
    ex = [round(j * nx / kx) for j in range(kx + 1)]
    path = [(i, j if i % 2 == 0 else kx - 1 - j) for i in range(ky) for j in range(kx)]
    n_cells = len(path)
    n = min(n_tiles, n_cells)
    picks = [path[int((m + 0.5) * n_cells / n)] for m in range(n)]
    tiles = []
    for i, j in picks:
        y0, y1, x0, x1 = ey[i], ey[i + 1], ex[j], ex[j + 1]
        ylo, xlo = max(0, y0 - halo_vox), max(0, x0 - halo_vox)
        yhi, xhi = min(ny, y1 + halo_vox), min(nx, x1 + halo_vox)
        tiles.append(
            TileWindow(
                y0, x0,
                (slice(ylo, yhi), slice(xlo, xhi)),
                (slice(y0 - ylo, y1 - ylo), slice(x0 - xlo, x1 - xlo)),
            )
        )  # fmt: skip
    return tiles, n_cells


def _linspace(a: float, b: float, n: int) -> list[float]:
    return [a] if n == 1 else [a + (b - a) * i / (n - 1) for i in range(n)]
