"""Rule `calibrate`: the scan's attenuation levels (theory and in-scan) and blur, as JSON."""
from tomopress.logs import log_to_file
from tomopress.segment.stage import calibrate_file

log_to_file(snakemake.log[0])
calibrate_file(
    snakemake.input.volume,
    snakemake.input.layers,
    snakemake.input.composite,
    snakemake.input.separator,
    snakemake.input.thresholds,
    snakemake.output[0],
    materials=snakemake.params.materials,
    energy_kev=snakemake.params.energy_kev,
    raw_path=snakemake.input.raw,
    reference=snakemake.params.reference,
    max_disagreement=snakemake.params.max_disagreement,
)
