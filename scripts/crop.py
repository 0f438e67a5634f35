"""Rule `crop`: one layer cut out of the volume."""
from tomopress.logs import log_to_file
from tomopress.segment.crop import crop_layer_file

log_to_file(snakemake.log[0])
crop_layer_file(
    snakemake.input.volume,
    snakemake.input.layers,
    snakemake.output[0],
    layer=snakemake.wildcards.layer,
)
