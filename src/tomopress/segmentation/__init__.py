"""Three-phase segmentation internals: denoising, grey levels and thresholds, marker watershed.

The stage entry points (files in, files out) live in :mod:`tomopress.segment`.
"""

from tomopress.segmentation.denoise import (
    DENOISERS,
    denoise,
    denoised_sample,
    estimate_noise_sigma,
    sample_blocks,
)
from tomopress.segmentation.levels import (
    PhaseLevels,
    fit_partial_volume_mixture,
    histogram_mode,
    multiotsu_thresholds,
    phase_mode_thresholds,
)
from tomopress.segmentation.watershed import (
    apply_thresholds,
    marker_watershed,
    remove_false_rim,
    remove_small_objects_3phase,
    segment_volume,
    split_se_void_by_midpoint,
)

__all__ = [
    "DENOISERS",
    "denoise",
    "denoised_sample",
    "estimate_noise_sigma",
    "sample_blocks",
    "PhaseLevels",
    "fit_partial_volume_mixture",
    "histogram_mode",
    "multiotsu_thresholds",
    "phase_mode_thresholds",
    "apply_thresholds",
    "marker_watershed",
    "remove_false_rim",
    "remove_small_objects_3phase",
    "segment_volume",
    "split_se_void_by_midpoint",
]
