"""Rule `contact_probe`: the thinnest gap and SE film at AM that the scan's labels resolve."""
from tomopress.logs import log_to_file
from tomopress.segment.contact_probe import contact_probe_file

log_to_file(snakemake.log[0])
contact_probe_file(
    snakemake.input.thresholds,
    snakemake.input.calibration,
    snakemake.output[0],
    segment_options=snakemake.params.segment_options,
)
