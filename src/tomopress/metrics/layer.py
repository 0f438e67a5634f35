"""All scalar metrics of one segmented layer, as one flat record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tomopress.metrics.anisotropy import contact_orientation
from tomopress.metrics.anisotropy import tile_voxels as anisotropy_tile_voxels
from tomopress.metrics.fractions import phase_profiles_z
from tomopress.metrics.summary import FAMILIES, summary_metrics
from tomopress.types import LabelVolume

__all__ = ["layer_metrics", "orientation_record", "layer_metrics_file"]


def layer_metrics(
    labels: LabelVolume,
    *,
    voxel_size_um: float,
    details: dict[str, Any] | None = None,
    tortuosity: bool = True,
    diffusion: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Scalar metrics of one layer's label volume, with units in the key names.

    Every family of :data:`tomopress.metrics.summary.FAMILIES`; families whose phase is
    absent come out as None with a ``<family>_null_reason``. Per-item arrays (tortuosity per
    outlet path, particles) go to `details` when given. ``tortuosity=False`` skips the two
    costly transport families (geometric tortuosity and diffusion). `diffusion` holds the
    keywords of :class:`tomopress.metrics.summary.DiffusionOptions` (budget, convention).

    Examples
    --------
    >>> m = layer_metrics(np.zeros((2, 2, 2), dtype=np.uint8), voxel_size_um=0.5)
    >>> m["porosity"], m["region_volume_um3"]
    (1.0, 1.0)
    """
    skipped = set() if tortuosity else {"tortuosity", "diffusion"}
    record = summary_metrics(
        labels,
        voxel_size_um=voxel_size_um,
        details=details,
        only=[name for name in FAMILIES if name not in skipped],
        diffusion=diffusion,
    )
    record.pop("shape_zyx")
    nz, ny, nx = labels.shape
    return {
        **record,
        "region_z_um": nz * voxel_size_um,
        "region_y_um": ny * voxel_size_um,
        "region_x_um": nx * voxel_size_um,
    }


#: voxels of marching-cubes tiles meshed per layer (12 of the 64 tiles of a 1024² x 100 crop);
#: every tile below that, i.e. the whole layer
ORIENTATION_MAX_VOXELS = 12 << 21


def orientation_record(labels: LabelVolume, *, voxel_size_um: float) -> dict[str, Any]:
    """Fabric indices (scalars) and the f_c(u) coverage per |n_z| bin (lists) of one layer.

    Meshes about :data:`ORIENTATION_MAX_VOXELS` voxels in tiles spread over the layer (the
    whole mesh costs ~133 s per 10⁸ voxels); ``sampled_voxel_fraction`` says how much.
    """
    max_tiles = max(1, ORIENTATION_MAX_VOXELS // anisotropy_tile_voxels())
    result = contact_orientation(labels, voxel_size_um=voxel_size_um, max_tiles=max_tiles)
    return {k: (v.tolist() if isinstance(v, np.ndarray) else float(v)) for k, v in result.items()}


def layer_metrics_file(
    labels_path: str,
    out_path: str,
    *,
    scan_id: str,
    sample: str,
    pressure_mpa: float,
    orientation: bool = True,
    tortuosity: bool = True,
    diffusion: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Metrics of one segmented layer file, with the scan's identifiers, written as JSON.

    With `orientation`, the mesh-based orientation analysis (on sampled tiles, see
    :func:`orientation_record`) adds the fabric indices and ``orientation_sampled_fraction`` to
    the record and the binned coverage under the key ``orientation``. `diffusion`: keywords
    of :class:`tomopress.metrics.summary.DiffusionOptions` (the config's
    ``metrics.diffusion``).
    """
    from tomopress.io.atomic import write_json_atomic
    from tomopress.io.h5store import read_array_h5

    labels, attrs = read_array_h5(labels_path, "labels")
    details: dict[str, Any] = {}
    record = {
        "scan_id": scan_id,
        "sample": sample,
        "pressure_mpa": float(pressure_mpa),
        "layer": attrs["layer"],
        "z_start_row": int(attrs["z_rows"][0]),
        "z_stop_row": int(attrs["z_rows"][1]),
        "threshold_low_per_cm": float(attrs["threshold_low"]),
        "threshold_high_per_cm": float(attrs["threshold_high"]),
        "segmentation_method": attrs["method"],
        **layer_metrics(
            labels,
            voxel_size_um=float(attrs["voxel_size_um"]),
            details=details,
            tortuosity=tortuosity,
            diffusion=diffusion,
        ),
    }
    record.update(details)
    record["profiles"] = phase_profiles_z(labels, voxel_size_um=float(attrs["voxel_size_um"]))
    if orientation:
        oriented = orientation_record(labels, voxel_size_um=float(attrs["voxel_size_um"]))
        record.update({k: v for k, v in oriented.items() if k.startswith("fabric_A_z_")})
        record["orientation_sampled_fraction"] = oriented["sampled_voxel_fraction"]
        record["orientation"] = {k: v for k, v in oriented.items() if not k.startswith("fabric_")}
    write_json_atomic(out_path, record)
    return record
