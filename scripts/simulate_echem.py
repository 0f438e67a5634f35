"""Rule `simulate_echem`: a demo scan's metrics in, its synthetic spectrum and cycling curve out."""
from tomopress.logs import log_to_file
from tomopress.synthetic.echem import write_synthetic_echem

log_to_file(snakemake.log[0])
write_synthetic_echem(
    {"composite": snakemake.input.composite, "separator": snakemake.input.separator},
    eis_path=snakemake.output.eis,
    cycling_path=snakemake.output.cycling,
    truth_path=snakemake.output.truth,
    area_cm2=snakemake.params.area_cm2,
    default_area_cm2=snakemake.params.default_area_cm2,
    separator_thickness_um=snakemake.params.separator_thickness_um,
    composite_thickness_um=snakemake.params.composite_thickness_um,
    sigma_se_s_per_cm=snakemake.params.sigma_se_s_per_cm,
    model=snakemake.params.model,
    seed=snakemake.params.seed,
)
