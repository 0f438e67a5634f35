"""Rule `metrics`: scalar metrics of one segmented layer, as JSON."""
from tomopress.logs import log_to_file
from tomopress.metrics import layer_metrics_file

log_to_file(snakemake.log[0])
layer_metrics_file(
    snakemake.input.labels,
    snakemake.output[0],
    crop_path=snakemake.input.crop,
    calibration_path=snakemake.input.calibration,
    scan_id=snakemake.params.scan_id,
    sample=snakemake.params.sample,
    pressure_mpa=snakemake.params.pressure_mpa,
    orientation=snakemake.params.orientation,
    tortuosity=snakemake.params.tortuosity,
    diffusion=snakemake.params.diffusion,
    thresholds_path=snakemake.input.thresholds,
    segment_options=snakemake.params.segment_options,
)
