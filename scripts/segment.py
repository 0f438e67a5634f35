"""Rule `segment`: one layer crop labelled void / SE / AM."""
from tomopress.logs import log_to_file
from tomopress.segment import segment_layer_file

log_to_file(snakemake.log[0])
segment_layer_file(
    snakemake.input.crop,
    snakemake.input.thresholds,
    snakemake.output[0],
    median_size_px=snakemake.params.median_size_px,
)
