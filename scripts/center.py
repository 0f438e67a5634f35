"""Rule `center`: the rotation centre of one scan (measured, or the sheet's), as JSON."""
from tomopress.intake.config import scan_reader_options
from tomopress.logs import log_to_file
from tomopress.prep.center import center_file

log_to_file(snakemake.log[0])
center_file(
    snakemake.input.raw,
    snakemake.output.center,
    format=snakemake.params.format,
    reader_options=scan_reader_options(snakemake.params.formats),
    rows=tuple(snakemake.params.rows),
    n_rows=snakemake.params.n_rows,
    average=snakemake.params.average,
    min_transmission=snakemake.params.min_transmission,
    override_px=snakemake.params.override_px,
    method=snakemake.params.method,
    min_confidence=snakemake.params.min_confidence,
    tilt_min_spread_px=snakemake.params.tilt_min_spread_px,
    qc_png=snakemake.output.qc,
    n_threads=snakemake.threads,
)
