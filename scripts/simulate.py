"""Rule `simulate`: one synthetic scan (DXchange HDF5) plus its ground truth."""
from tomopress.intake.workflow import synthetic_params
from tomopress.logs import log_to_file
from tomopress.synthetic.beamtime import simulate_scan

log_to_file(snakemake.log[0])
simulate_scan(
    snakemake.output.raw,
    pressure_mpa=snakemake.params.pressure_mpa,
    params=synthetic_params({"synthetic": snakemake.params.synthetic}),
    seed=snakemake.params.seed,
)
