"""Rule `flatfield`: one slab of detector rows, raw counts in, line integrals out."""
from tomopress.intake.config import scan_reader_options
from tomopress.logs import log_to_file
from tomopress.prep.flatfield import flatfield_slab_file

log_to_file(snakemake.log[0])
flatfield_slab_file(
    snakemake.input.raw,
    snakemake.output[0],
    format=snakemake.params.format,
    reader_options=scan_reader_options(snakemake.params.formats),
    rows=tuple(snakemake.params.rows),
    average=snakemake.params.average,
    min_transmission=snakemake.params.min_transmission,
    pixel_size_um=snakemake.params.pixel_size_um,
    zinger_threshold=snakemake.params.zinger_threshold,
    ring_method=snakemake.params.ring_method,
    ring_size=snakemake.params.ring_size,
    ring_large_size=snakemake.params.ring_large_size,
    ring_snr=snakemake.params.ring_snr,
    n_threads=snakemake.threads,
    phase=snakemake.params.phase,
)
