"""Rule `echem_table`: metrics and fitted records in, tables/electrochemistry.parquet out."""
import json

from tomopress.echem.stage import write_electrochemistry_table
from tomopress.logs import log_to_file

log_to_file(snakemake.log[0])
write_electrochemistry_table(
    metrics_path=snakemake.input.metrics,
    scans=snakemake.params.scans,
    record_paths=list(snakemake.input.records),
    out_path=snakemake.output[0],
    default_area_cm2=snakemake.params.default_area_cm2,
    sigma_se_s_per_cm=snakemake.params.sigma_se_s_per_cm,
    sigma_se_uncertainty_s_per_cm=snakemake.params.sigma_se_uncertainty_s_per_cm,
    config=json.loads(snakemake.params.config_json),
)
