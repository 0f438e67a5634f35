"""Where the composite and separator layers are, and the x-y region analysed in each.

Row ranges are in absolute detector rows (as in the sample sheet); a reconstructed volume
records its first row in the attribute ``z_offset_rows``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

from tomopress.types import F64Array

__all__ = [
    "centred_roi",
    "roi_fits",
    "layer_rows_from_profile",
    "am_envelope_profile",
    "interface_plane",
    "layer_rows_from_volume",
    "tilt_corrected_rows",
    "locate_layers_file",
    "crop_layer_file",
]

log = logging.getLogger(__name__)


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


def am_envelope_profile(
    volume: np.ndarray, *, closing_radius_px: int = 10, am_threshold: float | None = None
) -> tuple[np.ndarray, F64Array, float]:
    """Envelope of the active material and its per-plane area fraction along z.

    AM (by far the most attenuating phase) is the part of the volume above `am_threshold`
    (default: Otsu's threshold of the volume, which splits AM from SE and void); a
    morphological closing in each x-y plane with a disk of `closing_radius_px` fills the
    electrolyte and pores between particles, so the composite layer becomes a solid envelope
    and the separator stays empty.

    Returns
    -------
    envelope : ndarray of bool, shape (Z, Y, X)
    fraction : ndarray of float64, shape (Z,)
        Envelope area fraction of each plane (about 1 in the composite, 0 in the separator).
    am_threshold : float
        The threshold used.

    Examples
    --------
    >>> v = np.zeros((6, 20, 20), np.float32); v[3:, ::3, ::3] = 80; v[:, 0, 0] = 1
    >>> np.round(am_envelope_profile(v, closing_radius_px=2)[1], 1).tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3-D (z, y, x), got shape {volume.shape}")
    if am_threshold is None:
        sample = volume[:: max(1, volume.shape[0] // 32)]
        am_threshold = float(threshold_otsu(sample[np.isfinite(sample)]))
    am = volume > am_threshold
    if closing_radius_px > 0:
        am = np.stack([_closing_2d(plane, float(closing_radius_px)) for plane in am])
    return am, am.mean(axis=(1, 2), dtype=np.float64), am_threshold


def _closing_2d(mask: np.ndarray, radius: float) -> np.ndarray:
    """Binary closing by a Euclidean disk via two distance transforms (cost independent of r)."""
    if not mask.any():
        return mask
    dilated = ndimage.distance_transform_edt(~mask) <= radius
    if dilated.all():
        return dilated
    return ~(ndimage.distance_transform_edt(dilated) <= radius)


def _crossing(fraction: np.ndarray, level: float = 0.5) -> float | None:
    """Sub-plane position of the single crossing of `level`, or None."""
    above = fraction > level
    changes = np.flatnonzero(np.diff(above.astype(np.int8)))
    if changes.size != 1:
        return None
    i = int(changes[0])
    f0, f1 = fraction[i], fraction[i + 1]
    return i + (level - f0) / (f1 - f0)


def interface_plane(envelope: np.ndarray, *, n_tiles: int = 4) -> dict[str, Any]:
    """Least-squares plane ``z = z_c + b (y - y_c) + c (x - x_c)`` through the layer interface.

    The x-y region is cut into ``n_tiles x n_tiles`` tiles; in each, the interface is where the
    envelope fraction crosses half its composite plateau (sub-plane interpolation). Tiles with no single crossing
    are skipped.

    Returns
    -------
    dict
        ``z_centre`` (plane row at the region centre, relative to plane 0 of `envelope`),
        ``slope_y``, ``slope_x`` (rows per pixel), ``tilt_deg``, ``n_tiles_used`` and
        ``residual_rms_rows``.

    Raises
    ------
    ValueError
        If fewer than 3 tiles show an interface.
    """
    nz, ny, nx = envelope.shape
    ys = np.linspace(0, ny, n_tiles + 1).astype(int)
    xs = np.linspace(0, nx, n_tiles + 1).astype(int)
    pts = []
    for i in range(n_tiles):
        for j in range(n_tiles):
            f = envelope[:, ys[i] : ys[i + 1], xs[j] : xs[j + 1]].mean(axis=(1, 2))
            plateau = float(np.percentile(f, 95))
            z = _crossing(f / plateau) if plateau > 0.2 else None
            if z is not None:
                pts.append(((ys[i] + ys[i + 1] - 1) / 2, (xs[j] + xs[j + 1] - 1) / 2, z))
    if len(pts) < 3:
        raise ValueError(f"only {len(pts)} tiles show a layer interface: cannot fit a plane")
    p = np.asarray(pts)
    yc, xc = (ny - 1) / 2, (nx - 1) / 2
    design = np.column_stack([np.ones(len(p)), p[:, 0] - yc, p[:, 1] - xc])
    coef, *_ = np.linalg.lstsq(design, p[:, 2], rcond=None)
    resid = p[:, 2] - design @ coef
    return {
        "z_centre": float(coef[0]),
        "slope_y": float(coef[1]),
        "slope_x": float(coef[2]),
        "tilt_deg": float(np.degrees(np.arctan(np.hypot(coef[1], coef[2])))),
        "n_tiles_used": len(pts),
        "residual_rms_rows": float(np.sqrt(np.mean(resid**2))),
    }


def layer_rows_from_volume(
    volume: np.ndarray,
    roi: tuple[int, int, int, int],
    *,
    z_offset_rows: int,
    transition_rows: int,
    closing_radius_px: int = 10,
    fit_tilt: bool = False,
) -> dict[str, Any]:
    """Composite and separator rows from the AM envelope (:func:`am_envelope_profile`).

    The interface is where the envelope fraction crosses half its composite plateau. The
    transition band is the run of planes around it whose envelope fraction lies between 10 %
    and 90 % of that plateau (a rough or tilted interface), widened by `transition_rows` on
    each side; it belongs to neither layer. With `fit_tilt`, the interface plane is fitted
    (:func:`interface_plane`) and recorded; rows are then those of the tilt-corrected volume
    (:func:`tilt_corrected_rows`), whose band is the flat interface's.

    Returns
    -------
    dict
        ``layers`` {composite, separator: (start, stop)} and ``transition_band_rows``
        (start, stop) in detector rows, ``interface_row`` (float), ``envelope_fraction`` (list per
        plane), ``am_threshold``, ``method`` and, with `fit_tilt`, ``plane``.

    Raises
    ------
    ValueError
        If the profile shows no single interface or a layer vanishes; the message says to
        set the rows in the sample sheet.
    """
    hint = "set composite_rows and separator_rows in the sample sheet"
    y0, y1, x0, x1 = roi
    sub = np.asarray(volume[:, y0:y1, x0:x1], dtype=np.float32)
    if sub.shape[0] < 4:
        raise ValueError(f"cannot locate the layers on {sub.shape[0]} planes; {hint}")
    envelope, fraction, am_thr = am_envelope_profile(sub, closing_radius_px=closing_radius_px)
    plane = None
    if fit_tilt:
        plane = interface_plane(envelope)
        envelope = tilt_corrected_rows(envelope.astype(np.float32), plane) > 0.5
        fraction = envelope.mean(axis=(1, 2), dtype=np.float64)
    plateau = float(np.percentile(fraction, 95))
    if not plateau > 0.2:
        raise ValueError(f"no composite layer (AM envelope) found along z; {hint}")
    rel = fraction / plateau
    interface = _crossing(rel, 0.5)
    if interface is None:
        n = int(np.count_nonzero(np.diff((rel > 0.5).astype(np.int8))))
        raise ValueError(f"expected one composite|separator interface along z, found {n}; {hint}")
    composite_high = bool(rel[-1] > 0.5)
    k = int(np.floor(interface))  # planes k and k + 1 straddle the crossing
    lo, hi = k, k + 1
    while lo > 0 and 0.1 < rel[lo] < 0.9:
        lo -= 1
    while hi < rel.size - 1 and 0.1 < rel[hi] < 0.9:
        hi += 1
    band = (max(lo + 1 - transition_rows, 0), min(hi + transition_rows, rel.size))
    low_layer, high_layer = (0, band[0]), (band[1], rel.size)
    composite, separator = (high_layer, low_layer) if composite_high else (low_layer, high_layer)
    for name, (a, b) in (("composite", composite), ("separator", separator)):
        if b - a < 2:
            raise ValueError(f"the {name} layer is thinner than 2 planes after the transition band; {hint}")
    off = z_offset_rows
    result: dict[str, Any] = {
        "layers": {"composite": (composite[0] + off, composite[1] + off),
                   "separator": (separator[0] + off, separator[1] + off)},
        "transition_band_rows": (band[0] + off, band[1] + off),
        "interface_row": float(interface + 0.5 + off),
        "envelope_fraction": [round(float(f), 4) for f in fraction],
        "am_threshold": am_thr,
        "method": "am_envelope_profile",
    }
    if plane is not None:
        result["plane"] = {**plane, "z_centre": plane["z_centre"] + off}
    return result


def tilt_corrected_rows(volume: np.ndarray, plane: dict[str, Any], *,
                        z_start: float = 0.0, n_planes: int | None = None) -> np.ndarray:
    """Resample `volume` so the fitted interface `plane` becomes a z plane.

    Output plane k, pixel (y, x) takes the value at row ``z_start + k + b (y - y_c) +
    c (x - x_c)`` of `volume` (linear interpolation, edge values beyond the ends), with
    slopes b, c from :func:`interface_plane` and (y_c, x_c) the x-y centre; `n_planes`
    output planes (default: as many as `volume` has).

    Examples
    --------
    >>> v = np.zeros((10, 8, 8), np.float32)
    >>> for x in range(8): v[5 + x // 4:, :, x] = 1  # interface one row lower on the right
    >>> flat = tilt_corrected_rows(v, {"slope_y": 0.0, "slope_x": 0.25})
    >>> bool(np.ptp(flat[:, 4, :].sum(axis=0)) <= 1.0)
    True
    """
    nz, ny, nx = volume.shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float32)
    dz = plane["slope_y"] * (yy - (ny - 1) / 2) + plane["slope_x"] * (xx - (nx - 1) / 2)
    n_out = nz if n_planes is None else int(n_planes)
    out = np.empty((n_out, ny, nx), dtype=np.float32)
    for k in range(n_out):
        coords = np.stack([z_start + k + dz, yy, xx])
        out[k] = ndimage.map_coordinates(volume, coords, order=1, mode="nearest")
    return out


def locate_layers_file(
    volume_path: str,
    out_path: str,
    *,
    composite_rows: tuple[int, int] | None,
    separator_rows: tuple[int, int] | None,
    roi_xy: tuple[int, int, int, int] | None,
    roi_size_px: int,
    transition_rows: int,
    closing_radius_px: int = 10,
    tilt_correction: bool = False,
    qc_png: str | None = None,
) -> dict:
    """Decide each layer's rows and the x-y region, and write them as JSON.

    Sheet values win; missing layer rows are found by classifying every z-band of the volume
    (:func:`tomopress.segment.layers.find_layers`: metal, anode foil, air, housing, separator,
    composite; the bands go into the JSON) or, with `tilt_correction`, from the AM envelope
    (:func:`layer_rows_from_volume`, which records the transition band and the fitted
    interface plane that :func:`crop_layer_file` then flattens). `qc_png` gets the z-profile
    with the bands and the chosen crops (:func:`tomopress.segment.layers.layers_qc_png`). The x-y region is centred unless the sheet gives it, and must lie inside the
    reconstructed field of view; every range is checked against the volume.
    """
    import os

    from tomopress.io.atomic import write_json_atomic
    from tomopress.recon.volume import open_volume
    from tomopress.segment.layers import find_layers, layers_qc_png, profile_only

    with open_volume(volume_path) as fh:
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
        found: dict[str, Any] = {}
        sheet_complete = composite_rows is not None and separator_rows is not None
        if tilt_correction:
            y0, y1, x0, x1 = roi
            found = layer_rows_from_volume(
                dset[:, y0:y1, x0:x1], (0, y1 - y0, 0, x1 - x0), z_offset_rows=z_offset,
                transition_rows=transition_rows, closing_radius_px=closing_radius_px,
                fit_tilt=tilt_correction,
            )
        else:
            try:
                found = find_layers(dset, z_offset_rows=z_offset, transition_rows=transition_rows,
                                    roi=roi, closing_radius_px=closing_radius_px)
            except ValueError as exc:
                if not sheet_complete:
                    raise ValueError(f"{volume_path}: {exc}") from None
                log.warning("layer bands undecided (%s); the sample sheet's rows are used", exc)
                found = {}
        if not sheet_complete:
            method = found["method"]
        layers = {k: v if v is not None else found["layers"][k] for k, v in layers.items()}
        if qc_png is not None:
            profile = found if "plane_median_per_cm" in found else profile_only(dset, roi)
            layers_qc_png({**profile, "layers": layers}, qc_png, z_offset_rows=z_offset,
                          title=f"{os.path.basename(os.path.dirname(os.path.abspath(volume_path)))}"
                                f": layers by {method}",
                          xz_slice=np.asarray(dset[:, ny // 2, :], dtype=np.float32))
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
        "transition_band_rows": [int(v) for v in found["transition_band_rows"]] if found else None,
        "interface_row": found.get("interface_row"),
        "am_envelope_fraction": found.get("envelope_fraction"),
        "am_threshold": found.get("am_threshold"),
        "tilt_correction": bool(tilt_correction),
        "plane": found.get("plane"),
        "bands": found.get("bands"),
        "reference_per_cm": found.get("reference_per_cm"),
    }
    if found.get("plane"):
        log.info("interface tilt %.2f deg (plane fit on %d tiles)", found["plane"]["tilt_deg"],
                 found["plane"]["n_tiles_used"])
    write_json_atomic(out_path, result)
    return result


def crop_layer_file(volume_path: str, layers_path: str, out_path: str, *, layer: str) -> tuple[int, ...]:
    """Cut one layer (its rows, the x-y region) out of the volume into its own HDF5 file.

    When the layers file asks for tilt correction, the rows are those of the volume resampled
    so the fitted interface plane is flat (:func:`tilt_corrected_rows`); only the rows the
    shear needs are read.
    """
    import json

    from tomopress.io.h5store import provenance, write_array_h5
    from tomopress.recon.volume import open_volume

    with open(layers_path) as fh:
        spec = json.load(fh)
    z0, z1 = spec["layers"][layer]
    y0, y1, x0, x1 = spec["roi_xy"]
    plane = spec.get("plane") if spec.get("tilt_correction") else None
    with open_volume(volume_path) as fh:
        offset = int(fh.attrs["z_offset_rows"])
        dset = fh["volume"]
        if plane is None:
            crop = dset[z0 - offset : z1 - offset, y0:y1, x0:x1]
        else:
            half = 0.5 * np.hypot(y1 - y0, x1 - x0)
            margin = int(np.ceil(half * np.hypot(plane["slope_y"], plane["slope_x"]))) + 1
            a = max(z0 - offset - margin, 0)
            b = min(z1 - offset + margin, dset.shape[0])
            block = dset[a:b, y0:y1, x0:x1]
            crop = tilt_corrected_rows(block, plane, z_start=z0 - offset - a, n_planes=z1 - z0)
        attrs = {k: fh.attrs[k] for k in ("voxel_size_um", "units", "center_px", "backend")}
    write_array_h5(
        out_path,
        {"volume": crop},
        attrs={
            **attrs,
            "layer": layer,
            "z_rows": [z0, z1],
            "roi_xy": [y0, y1, x0, x1],
            "tilt_corrected": plane is not None,
            "tilt_deg": float(plane["tilt_deg"]) if plane else 0.0,
            **provenance(volume=volume_path),
        },
    )
    return crop.shape
