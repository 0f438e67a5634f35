"""Rule `segment`: one layer crop labelled void / SE / AM, with its QC overlay image."""
from tomopress.logs import log_to_file
from tomopress.segment.stage import segment_layer_file

log_to_file(snakemake.log[0])
segment_layer_file(
    snakemake.input.crop,
    snakemake.input.thresholds,
    snakemake.output.labels,
    calibration_path=snakemake.input.calibration if snakemake.params.blur_aware else None,
    n_threads=snakemake.threads,
    qc_path=snakemake.output.qc,
    **snakemake.params.options,
)
