"""QC figures of a segmented layer: orthogonal slices with the label overlay and the contacts.

Colours follow Sakka et al. 2022 (doi:10.1039/d2ta02378d), Fig. 4a: AM|SE contact drawn in
green, AM|void interface in blue, over the grey image with the phases tinted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tomopress.types import AM, OUTSIDE, SE, VOID, LabelVolume

__all__ = ["interface_masks_2d", "orthogonal_slices", "overlay_rgb", "overlay_png"]

_TINT = {VOID: (0.10, 0.10, 0.10), SE: (1.00, 0.75, 0.20), AM: (0.85, 0.25, 0.25)}
_AM_SE = (0.0, 0.85, 0.0)  # green
_AM_VOID = (0.15, 0.35, 1.0)  # blue


def interface_masks_2d(labels2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AM pixels with a 4-neighbour of SE, and AM pixels with a 4-neighbour of void.

    Examples
    --------
    >>> lab = np.array([[1, 2, 0]], np.uint8)
    >>> [m.astype(int).tolist() for m in interface_masks_2d(lab)]
    [[[0, 1, 0]], [[0, 1, 0]]]
    """
    lab = np.asarray(labels2d)
    if lab.ndim != 2:
        raise ValueError(f"expected a 2-D label image, got shape {lab.shape}")
    padded = np.pad(lab, 1, constant_values=OUTSIDE)
    am = lab == AM
    near_se = np.zeros_like(am)
    near_void = np.zeros_like(am)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        nb = padded[1 + dy : 1 + dy + lab.shape[0], 1 + dx : 1 + dx + lab.shape[1]]
        near_se |= nb == SE
        near_void |= nb == VOID
    return am & near_se, am & near_void


def orthogonal_slices(volume: np.ndarray) -> dict[str, np.ndarray]:
    """The middle xy, xz and yz planes of a ``vol[z, y, x]`` array."""
    v = np.asarray(volume)
    if v.ndim != 3:
        raise ValueError(f"expected a 3-D volume, got shape {v.shape}")
    nz, ny, nx = v.shape
    return {"xy": v[nz // 2], "xz": v[:, ny // 2, :], "yz": v[:, :, nx // 2]}


def overlay_rgb(grey2d: np.ndarray, labels2d: np.ndarray, *, alpha: float = 0.3,
                grey_range: tuple[float, float] | None = None) -> np.ndarray:
    """RGB image (float in [0, 1]): grey, phases tinted by `alpha`, contacts drawn opaque."""
    g = np.asarray(grey2d, dtype=np.float64)
    lo, hi = grey_range if grey_range is not None else np.percentile(g, [0.5, 99.5])
    g = np.clip((g - lo) / max(hi - lo, 1e-12), 0, 1)
    rgb = np.repeat(g[..., None], 3, axis=2)
    for label, colour in _TINT.items():
        m = labels2d == label
        rgb[m] = (1 - alpha) * rgb[m] + alpha * np.asarray(colour)
    am_se, am_void = interface_masks_2d(labels2d)
    rgb[am_se] = _AM_SE
    rgb[am_void] = _AM_VOID
    return rgb


def overlay_png(volume: np.ndarray, labels: LabelVolume, out_path: str | Path, *, title: str,
                voxel_size_um: float) -> None:
    """Write the QC figure: for xy, xz and yz, the grey slice and its label overlay.

    Contacts: AM|SE green, AM|void blue (pixels of AM touching that phase in the plane).
    Written atomically (:func:`tomopress.io.atomic.atomic_path`).

    Raises
    ------
    ValueError
        If `volume` and `labels` differ in shape or are not 3-D.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from tomopress.io.atomic import atomic_path

    if np.shape(volume) != np.shape(labels) or np.ndim(volume) != 3:
        raise ValueError(f"volume {np.shape(volume)} and labels {np.shape(labels)} must be the same 3-D shape")
    grey = orthogonal_slices(volume)
    lab = orthogonal_slices(labels)
    rng = tuple(np.percentile(np.asarray(volume)[:: max(1, volume.shape[0] // 8)], [0.5, 99.5]))
    fig = Figure(figsize=(11, 6.5), dpi=100)
    FigureCanvasAgg(fig)
    for col, plane in enumerate(("xy", "xz", "yz")):
        h, w = grey[plane].shape
        extent = (0, w * voxel_size_um, h * voxel_size_um, 0)
        ax = fig.add_subplot(2, 3, col + 1)
        ax.imshow(grey[plane], cmap="gray", vmin=rng[0], vmax=rng[1], extent=extent,
                  interpolation="nearest")
        ax.set_title(f"{plane} (grey)")
        ax = fig.add_subplot(2, 3, col + 4)
        ax.imshow(overlay_rgb(grey[plane], lab[plane], grey_range=rng), extent=extent,  # type: ignore[arg-type]
                  interpolation="nearest")
        ax.set_title(f"{plane} (labels)")
        ax.set_xlabel("µm")
    fig.legend(handles=[Patch(color=_AM_SE, label="AM|SE contact"),
                        Patch(color=_AM_VOID, label="AM|void"),
                        Patch(color=_TINT[SE], label="SE"), Patch(color=_TINT[AM], label="AM"),
                        Patch(color=_TINT[VOID], label="void")],
               loc="lower center", ncol=5)
    fig.suptitle(title)
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format="png")
