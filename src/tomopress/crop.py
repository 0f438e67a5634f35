"""Where the composite and separator layers are, and the x-y region analysed in each.

Row ranges are in absolute detector rows (as in the sample sheet); a reconstructed volume
records its first row in the attribute ``z_offset_rows``.
"""

from __future__ import annotations

import numpy as np
from skimage.filters import threshold_otsu

from tomopress.types import F64Array

__all__ = [
    "centred_roi",
    "roi_fits",
    "layer_rows_from_profile",
    "slice_mean_profile",
    "locate_layers_file",
    "crop_layer_file",
]


def centred_roi(shape_yx: tuple[int, int], size_px: int) -> tuple[int, int, int, int]:
    """The centred square ``(y0, y1, x0, x1)`` of side `size_px` on an image of `shape_yx`.

    Raises
    ------
    ValueError
        If the square does not fit in the image or in its inscribed reconstruction circle.

    Examples
    --------
    >>> centred_roi((100, 100), 40)
    (30, 70, 30, 70)
    """
    ny, nx = shape_yx
    y0, x0 = (ny - size_px) // 2, (nx - size_px) // 2
    roi = (y0, y0 + size_px, x0, x0 + size_px)
    if not roi_fits(roi, shape_yx):
        raise ValueError(
            f"an x-y region of {size_px} px does not fit inside the reconstructed field of view "
            f"({ny} x {nx} px; its corners must lie in the inscribed circle): lower crop.roi_size_px "
            f"to at most {int(min(ny, nx) / np.sqrt(2))} or set roi_xy in the sample sheet"
        )
    return roi


def roi_fits(roi: tuple[int, int, int, int], shape_yx: tuple[int, int]) -> bool:
    """True when every corner of `roi` lies inside the reconstruction circle of `shape_yx`.

    The circle is the one inscribed in the square reconstruction grid; outside it a
    parallel-beam reconstruction has no data.
    """
    y0, y1, x0, x1 = roi
    ny, nx = shape_yx
    if not (0 <= y0 < y1 <= ny and 0 <= x0 < x1 <= nx):
        return False
    cy, cx, radius = (ny - 1) / 2, (nx - 1) / 2, min(ny, nx) / 2
    corners_y = np.array([y0, y0, y1 - 1, y1 - 1]) - cy
    corners_x = np.array([x0, x1 - 1, x0, x1 - 1]) - cx
    return bool(np.all(np.hypot(corners_y, corners_x) <= radius))


def slice_mean_profile(volume: np.ndarray, roi: tuple[int, int, int, int]) -> F64Array:
    """Mean value of every z plane of `volume` inside the x-y region `roi`."""
    y0, y1, x0, x1 = roi
    return volume[:, y0:y1, x0:x1].mean(axis=(1, 2), dtype=np.float64)


def layer_rows_from_profile(
    profile: np.ndarray, *, z_offset_rows: int, transition_rows: int
) -> dict[str, tuple[int, int]]:
    """Composite and separator row ranges from the per-plane mean attenuation.

    The composite (NCM at about 80 /cm in LGPS) is far more attenuating than the separator
    (LGPS, about 21 /cm): Otsu's threshold splits the planes into the two layers, which must
    form two contiguous runs. `transition_rows` planes on each side of the interface are left
    out of both.

    Parameters
    ----------
    profile : ndarray, shape (Z,)
        Mean attenuation per reconstructed plane.
    z_offset_rows : int
        Detector row of plane 0.
    transition_rows : int
        Planes excluded on each side of the interface.

    Returns
    -------
    dict
        ``{"composite": (start, stop), "separator": (start, stop)}`` in detector rows.

    Raises
    ------
    ValueError
        If the profile does not show exactly one composite|separator interface, or a layer
        vanishes after removing the transition band; the message says to set the layer rows in
        the sample sheet.
    """
    profile = np.asarray(profile, dtype=np.float64)
    hint = "set composite_rows and separator_rows in the sample sheet"
    if profile.size < 4 or not np.all(np.isfinite(profile)):
        raise ValueError(f"cannot locate the layers on a {profile.size}-plane profile; {hint}")
    dense = profile > threshold_otsu(profile)
    n_changes = int(np.count_nonzero(np.diff(dense.astype(np.int8))))
    if n_changes != 1:
        raise ValueError(
            f"expected one composite|separator interface along z, found {n_changes}; {hint}"
        )
    interface = int(np.flatnonzero(np.diff(dense.astype(np.int8)))[0]) + 1
    low = (0, interface - transition_rows)
    high = (interface + transition_rows, profile.size)
    composite, separator = (high, low) if dense[-1] else (low, high)
    for name, (a, b) in (("composite", composite), ("separator", separator)):
        if b - a < 2:
            raise ValueError(f"the {name} layer is thinner than 2 planes after the transition band; {hint}")
    return {
        "composite": (composite[0] + z_offset_rows, composite[1] + z_offset_rows),
        "separator": (separator[0] + z_offset_rows, separator[1] + z_offset_rows),
    }


def locate_layers_file(
    volume_path: str,
    out_path: str,
    *,
    composite_rows: tuple[int, int] | None,
    separator_rows: tuple[int, int] | None,
    roi_xy: tuple[int, int, int, int] | None,
    roi_size_px: int,
    transition_rows: int,
) -> dict:
    """Decide each layer's rows and the x-y region, and write them as JSON.

    Sheet values win; missing layer rows are found from the per-plane mean attenuation
    (:func:`layer_rows_from_profile`). Every range is checked against the volume.
    """
    import h5py

    from tomopress.files import write_json_atomic

    with h5py.File(volume_path, "r") as fh:
        dset = fh["volume"]
        nz, ny, nx = dset.shape
        z_offset = int(fh.attrs["z_offset_rows"])
        if roi_xy is None:
            roi = centred_roi((ny, nx), roi_size_px)
        elif roi_fits(roi_xy, (ny, nx)):
            roi = tuple(int(v) for v in roi_xy)
        else:
            raise ValueError(
                f"{volume_path}: roi_xy {roi_xy} does not fit the reconstructed field of view "
                f"({ny} x {nx} px, inscribed circle)"
            )
        method = "sample_sheet"
        layers = {"composite": composite_rows, "separator": separator_rows}
        if composite_rows is None or separator_rows is None:
            y0, y1, x0, x1 = roi
            profile = np.array([dset[z, y0:y1, x0:x1].mean(dtype=np.float64) for z in range(nz)])
            found = layer_rows_from_profile(
                profile, z_offset_rows=z_offset, transition_rows=transition_rows
            )
            layers = {k: v if v is not None else found[k] for k, v in layers.items()}
            method = "mean_attenuation_profile"
    for name, (a, b) in layers.items():
        if not z_offset <= a < b <= z_offset + nz:
            raise ValueError(
                f"{volume_path}: {name}_rows {a}:{b} lie outside the reconstructed rows "
                f"{z_offset}:{z_offset + nz}; widen recon_rows or fix the sheet"
            )
    result = {
        "layers": {k: [int(a), int(b)] for k, (a, b) in layers.items()},
        "roi_xy": [int(v) for v in roi],
        "method": method,
        "transition_rows": transition_rows,
    }
    write_json_atomic(out_path, result)
    return result


def crop_layer_file(volume_path: str, layers_path: str, out_path: str, *, layer: str) -> tuple[int, ...]:
    """Cut one layer (its rows, the x-y region) out of the volume into its own HDF5 file."""
    import json

    import h5py

    from tomopress.h5store import provenance, write_array_h5

    with open(layers_path) as fh:
        spec = json.load(fh)
    z0, z1 = spec["layers"][layer]
    y0, y1, x0, x1 = spec["roi_xy"]
    with h5py.File(volume_path, "r") as fh:
        offset = int(fh.attrs["z_offset_rows"])
        crop = fh["volume"][z0 - offset : z1 - offset, y0:y1, x0:x1]
        attrs = {k: fh.attrs[k] for k in ("voxel_size_um", "units", "center_px", "backend")}
    write_array_h5(
        out_path,
        {"volume": crop},
        attrs={
            **attrs,
            "layer": layer,
            "z_rows": [z0, z1],
            "roi_xy": [y0, y1, x0, x1],
            **provenance(volume=volume_path),
        },
    )
    return crop.shape
