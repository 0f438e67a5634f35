"""Microstructure metrics on labelled volumes (0 void, 1 SE, 2 AM, 255 outside)."""

from tomopress.metrics.fractions import porosity_profile_z, volume_fractions
from tomopress.metrics.layer import layer_metrics, layer_metrics_file

__all__ = ["volume_fractions", "porosity_profile_z", "layer_metrics", "layer_metrics_file"]
