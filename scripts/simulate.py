"""Rule `simulate`: one synthetic scan (DXchange HDF5) plus its ground truth."""
from tomopress.logs import log_to_file
from tomopress.simulate import simulate_scan
from tomopress.workflow import synthetic_params

log_to_file(snakemake.log[0])
simulate_scan(
    snakemake.output.raw,
    pressure_mpa=snakemake.params.pressure_mpa,
    params=synthetic_params({"synthetic": snakemake.params.synthetic}),
    seed=snakemake.params.seed,
)
