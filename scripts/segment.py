"""Rule `segment`: one layer crop labelled void / SE / AM, with its QC overlay image."""
from tomopress.logs import log_to_file
from tomopress.segment.stage import segment_layer_file

log_to_file(snakemake.log[0])
segment_layer_file(
    snakemake.input.crop,
    snakemake.input.thresholds,
    snakemake.output.labels,
    labelling=snakemake.params.labelling,
    calibration_path=snakemake.input.calibration if snakemake.params.blur_aware else None,
    gradient_sigma_px=snakemake.params.gradient_sigma_px,
    marker_fraction=snakemake.params.marker_fraction,
    se_max_gradient=snakemake.params.se_max_gradient,
    rim_distance_px=snakemake.params.rim_distance_px,
    rim_far_level=snakemake.params.rim_far_level,
    midpoint_away_from_am_px=snakemake.params.midpoint_away_from_am_px,
    min_object_voxels=snakemake.params.min_object_voxels,
    slab_planes=snakemake.params.slab_planes,
    tile_px=snakemake.params.tile_px,
    overlap_planes=snakemake.params.overlap_planes,
    n_threads=snakemake.threads,
    qc_path=snakemake.output.qc,
)
