"""Microstructure metrics on labelled volumes (0 void, 1 SE, 2 AM, 255 outside)."""

from tomopress.metrics.anisotropy import (
    contact_orientation,
    directional_contact_fractions,
    fabric_index_z,
)
from tomopress.metrics.contact import contact_metrics
from tomopress.metrics.fractions import porosity_profile_z, volume_fractions
from tomopress.metrics.interfaces import (
    interface_area_um2,
    interface_areas_um2,
    marching_cubes_area_um2,
    specific_surface_areas_per_um,
)
from tomopress.metrics.layer import layer_metrics, layer_metrics_file

__all__ = [
    "volume_fractions",
    "porosity_profile_z",
    "interface_area_um2",
    "interface_areas_um2",
    "specific_surface_areas_per_um",
    "marching_cubes_area_um2",
    "contact_metrics",
    "directional_contact_fractions",
    "contact_orientation",
    "fabric_index_z",
    "layer_metrics",
    "layer_metrics_file",
]
