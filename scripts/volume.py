"""Rule `volume`: reconstructed slabs gathered into one volume file."""
from tomopress.logs import log_to_file
from tomopress.recon.volume import gather_slabs

log_to_file(snakemake.log[0])
gather_slabs(list(snakemake.input), snakemake.output[0])
