"""Rule `inspect`: header check of one raw scan (no pixel reads), written as JSON."""
from tomopress.intake.config import scan_reader_options
from tomopress.intake.inspect import inspect_raw
from tomopress.io.atomic import write_json_atomic
from tomopress.logs import log_to_file

log_to_file(snakemake.log[0])
write_json_atomic(
    snakemake.output[0],
    inspect_raw(
        snakemake.input.raw,
        snakemake.params.format,
        **scan_reader_options(snakemake.params.formats),
    ),
)
