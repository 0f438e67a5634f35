"""Row ranges and slabs of detector rows.

A range is ``(start, stop)``, 0-based, stop excluded, written ``start:stop`` in the sample sheet.
"""

from __future__ import annotations

import math

__all__ = ["parse_range", "plan_slabs", "slab_rows_of"]


def parse_range(text: str) -> tuple[int, int]:
    """Parse ``"start:stop"`` into ``(start, stop)``.

    Raises
    ------
    ValueError
        If `text` is not two non-negative integers with start < stop.

    Examples
    --------
    >>> parse_range("10:42")
    (10, 42)
    """
    parts = str(text).strip().split(":")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"expected 'start:stop' with non-negative integers, got {text!r}")
    start, stop = int(parts[0]), int(parts[1])
    if not start < stop:
        raise ValueError(f"expected start < stop, got {text!r}")
    return start, stop


def plan_slabs(start: int, stop: int, slab_rows: int) -> list[tuple[int, int]]:
    """Split rows ``start:stop`` into consecutive slabs of at most `slab_rows` rows.

    The slabs are balanced (sizes differ by at most one row) so no job gets a sliver.

    Examples
    --------
    >>> plan_slabs(0, 10, 4)
    [(0, 3), (3, 7), (7, 10)]
    """
    if slab_rows < 1:
        raise ValueError(f"slab_rows must be >= 1, got {slab_rows}")
    if not 0 <= start < stop:
        raise ValueError(f"expected 0 <= start < stop, got {start}:{stop}")
    n_slabs = math.ceil((stop - start) / slab_rows)
    edges = [start + round(i * (stop - start) / n_slabs) for i in range(n_slabs + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def slab_rows_of(start: int, stop: int, slab_rows: int, slab: int) -> tuple[int, int]:
    """Rows of slab number `slab` (0-based) of :func:`plan_slabs`."""
    slabs = plan_slabs(start, stop, slab_rows)
    if not 0 <= slab < len(slabs):
        raise ValueError(f"slab {slab} out of range 0..{len(slabs) - 1}")
    return slabs[slab]
