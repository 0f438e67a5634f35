"""Rule `aggregate_scan`: one scan's records into its part of every table."""
import json

from tomopress.logs import log_to_file
from tomopress.tables.aggregate import write_scan_tables
from tomopress.tables.schemas import SCAN_TABLE_NAMES

log_to_file(snakemake.log[0])
write_scan_tables(
    list(snakemake.input.metrics),
    {name: snakemake.output[name] for name in SCAN_TABLE_NAMES},
    scan_id=snakemake.wildcards.scan,
    sample=snakemake.params.sample,
    pressure_mpa=snakemake.params.pressure_mpa,
    raw_path=snakemake.input.raw,
    raw_format=snakemake.params.format,
    inspect_path=snakemake.input.header,
    center_path=snakemake.input.center,
    layers_path=snakemake.input.layers,
    thresholds_path=snakemake.input.thresholds,
    calibration_path=snakemake.input.calibration,
    volume_path=snakemake.input.volume,
    flatfield=json.loads(snakemake.params.flatfield_json),
    benchmarks_dir=snakemake.params.benchmarks_dir,
    contact_probe_path=snakemake.input.get("contact_probe") or None,
)
