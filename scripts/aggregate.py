"""Rule `aggregate`: every scan's table parts into results/tables/<table>.parquet."""
import json

from tomopress.logs import log_to_file
from tomopress.tables.aggregate import concat_tables
from tomopress.tables.schemas import SCAN_TABLE_NAMES

log_to_file(snakemake.log[0])
concat_tables(
    {name: list(snakemake.input[name]) for name in SCAN_TABLE_NAMES},
    {name: snakemake.output[name] for name in SCAN_TABLE_NAMES},
    config=json.loads(snakemake.params.config_json),
)
