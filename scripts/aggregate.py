"""Rule `aggregate`: every scan's layer metrics into results/tables/metrics.parquet."""
from tomopress.aggregate import write_metrics_table
from tomopress.logs import log_to_file

log_to_file(snakemake.log[0])
write_metrics_table(list(snakemake.input.metrics), snakemake.output[0])
