# tomopress: pressure-series X-ray CT of solid-state-battery electrodes -> microstructure tables.
# Run `snakemake -n` to validate the config, sample sheet and raw headers before spending hours.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/inspect.smk"
include: "workflow/rules/flatfield.smk"
include: "workflow/rules/center.smk"
include: "workflow/rules/reconstruct.smk"
include: "workflow/rules/volume.smk"
include: "workflow/rules/crop.smk"
include: "workflow/rules/segment.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/echem.smk"


rule all:
    input:
        expand(f"{RESULTS}/tables/{{table}}.parquet", table=TABLE_NAMES),
        expand(f"{RESULTS}/figures/{{figure}}.png", figure=FIGURES),
        expand(f"{RESULTS}/figures/{{figure}}.png", figure=ECHEM_FIGURE_NAMES),
    default_target: True
