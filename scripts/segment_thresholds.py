"""Rule `segment_thresholds`: the scan's class means and thresholds from its layer crops."""
from tomopress.logs import log_to_file
from tomopress.segment.stage import thresholds_file

log_to_file(snakemake.log[0])
thresholds_file(
    snakemake.input.composite,
    snakemake.input.separator,
    snakemake.output[0],
    method=snakemake.params.method,
    void_level=snakemake.params.void_level,
    denoiser=snakemake.params.denoiser,
    median_size_px=snakemake.params.median_size_px,
    nlm_h_factor=snakemake.params.nlm_h_factor,
    nlm_patch_distance_px=snakemake.params.nlm_patch_distance_px,
    max_sample_voxels=snakemake.params.max_sample_voxels,
)
