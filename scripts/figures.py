"""Rules `figures` and `figures_tortuosity`: tables in, paper-style PNG figures out."""
from tomopress.logs import log_to_file
from tomopress.tables.figures import write_figures

log_to_file(snakemake.log[0])
write_figures(
    table_paths={name: path for name, path in snakemake.input.items()},
    out_paths={name: snakemake.output[name] for name in snakemake.params.names},
)
