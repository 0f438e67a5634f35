"""Rule `reconstruct`: one flat-fielded slab in, one reconstructed slab out."""
from tomopress.logs import log_to_file
from tomopress.recon.reconstruct import reconstruct_slab_file

log_to_file(snakemake.log[0])
reconstruct_slab_file(
    snakemake.input.sino,
    snakemake.input.center,
    snakemake.output[0],
    backend=snakemake.params.backend,
    filter_name=snakemake.params.filter_name,
    n_threads=snakemake.threads,
    padding=snakemake.params.padding,
)
