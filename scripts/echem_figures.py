"""Rule `echem_figures`: the electrochemistry table and fitted records in, PNG figures out."""
from tomopress.echem.figures import write_echem_figures
from tomopress.logs import log_to_file

log_to_file(snakemake.log[0])
write_echem_figures(
    table_path=snakemake.input.table,
    record_paths=list(snakemake.input.records),
    out_paths={name: snakemake.output[name] for name in snakemake.params.names},
)
