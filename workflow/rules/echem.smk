# Electrochemistry beside the structure (issue 15): the demo's synthetic spectra and cycling
# curves, the fits of every scan with an `eis` or `cycling` file (one job: importing the fitting
# library costs more than a fit), the electrochemistry table (one row per scan, the structure's
# prediction beside the measurement) and its figures.
import zlib

from tomopress.echem.checks import (
    ECHEM_COLUMNS,
    echem_config_problems,
    synthetic_echem_scan,
)
from tomopress.echem.figures import ECHEM_FIGURES
from tomopress.errors import ConfigError

_echem_problems = echem_config_problems(config["echem"])
if _echem_problems:
    raise ConfigError("config/config.yaml (+ --config)", "echem", "; ".join(_echem_problems))

# seconds-long aggregations: on a cluster they run beside Snakemake, without a queue wait
localrules:
    echem_table,
    echem_figures,


ECHEM = config["echem"]
ECHEM_SCANS = [s for s in scans.index if any(scans.loc[s, c] for c in ECHEM_COLUMNS)]
ECHEM_FIGURE_NAMES = list(ECHEM_FIGURES) if ECHEM_SCANS else []
SHEET_ROWS = scans.to_dict("records")
ECHEM_SHEET_COLUMNS = ["scan_id", "sample", "pressure_mpa", "eis", "cycling", "cell_area_cm2",
                       "separator_thickness_um", "composite_thickness_um"]


rule simulate_echem:
    input:
        # the metrics of the scan whose sheet row names this file
        composite=lambda wc: f"{RESULTS}/{synthetic_echem_scan(SHEET_ROWS, SYNTHETIC_DIR, wc.name)}/metrics/composite.json",
        separator=lambda wc: f"{RESULTS}/{synthetic_echem_scan(SHEET_ROWS, SYNTHETIC_DIR, wc.name)}/metrics/separator.json",
    output:
        eis=f"{SYNTHETIC_DIR}/{{name}}.eis.csv",
        cycling=f"{SYNTHETIC_DIR}/{{name}}.cycling.csv",
        truth=f"{SYNTHETIC_DIR}/{{name}}.echem_truth.json",
    log:
        f"{RESULTS}/logs/simulate_echem/{{name}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/simulate_echem/{{name}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        area_cm2=lambda wc: scans.loc[synthetic_echem_scan(SHEET_ROWS, SYNTHETIC_DIR, wc.name), "cell_area_cm2"],
        separator_thickness_um=lambda wc: scans.loc[synthetic_echem_scan(SHEET_ROWS, SYNTHETIC_DIR, wc.name), "separator_thickness_um"],
        composite_thickness_um=lambda wc: scans.loc[synthetic_echem_scan(SHEET_ROWS, SYNTHETIC_DIR, wc.name), "composite_thickness_um"],
        default_area_cm2=ECHEM["cell_area_cm2"],
        sigma_se_s_per_cm=ECHEM["sigma_se_bulk_s_per_cm"],
        model=ECHEM["synthetic"],
        seed=lambda wildcards: (config["synthetic"]["seed"] + zlib.crc32(wildcards.name.encode()))
        % 2**32,
    script:
        "../../scripts/simulate_echem.py"


rule echem_fit:
    input:
        eis=[scans.loc[s, "eis"] for s in ECHEM_SCANS if scans.loc[s, "eis"]],
        cycling=[scans.loc[s, "cycling"] for s in ECHEM_SCANS if scans.loc[s, "cycling"]],
    output:
        expand(f"{RESULTS}/{{scan}}/echem/record.json", scan=ECHEM_SCANS),
    log:
        f"{RESULTS}/logs/echem_fit/echem_fit.log",
    benchmark:
        f"{RESULTS}/benchmarks/echem_fit/echem_fit.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=lambda wildcards, attempt: (5 + len(ECHEM_SCANS)) * attempt,
    params:
        scans=[
            {k: scans.loc[s, k] for k in ("scan_id", "eis", "cycling", "am_mass_mg")}
            for s in ECHEM_SCANS
        ],
        circuit=ECHEM["circuit"],
        r_se_elements=ECHEM["r_se_elements"],
        r_ct_element=ECHEM["r_ct_element"],
        c_dl_element=ECHEM["c_dl_element"],
        initial_guess=ECHEM["initial_guess"],
        weight_by_modulus=ECHEM["weight_by_modulus"],
        kk_max_residual_rms=ECHEM["kk_max_residual_rms"],
    script:
        "../../scripts/echem_fit.py"


rule echem_table:
    input:
        metrics=f"{RESULTS}/tables/metrics.parquet",
        records=expand(f"{RESULTS}/{{scan}}/echem/record.json", scan=ECHEM_SCANS),
    output:
        f"{RESULTS}/tables/electrochemistry.parquet",
    log:
        f"{RESULTS}/logs/echem_table/echem_table.log",
    benchmark:
        f"{RESULTS}/benchmarks/echem_table/echem_table.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        scans=[{k: row[k] for k in ECHEM_SHEET_COLUMNS} for row in SHEET_ROWS],
        default_area_cm2=ECHEM["cell_area_cm2"],
        sigma_se_s_per_cm=ECHEM["sigma_se_bulk_s_per_cm"],
        sigma_se_uncertainty_s_per_cm=ECHEM["sigma_se_bulk_uncertainty_s_per_cm"],
        config_json=recorded_config_json(config),
    script:
        "../../scripts/echem_table.py"


rule echem_figures:
    input:
        table=f"{RESULTS}/tables/electrochemistry.parquet",
        records=expand(f"{RESULTS}/{{scan}}/echem/record.json", scan=ECHEM_SCANS),
    output:
        **{
            name: report(
                f"{RESULTS}/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category="Electrochemistry",
                subcategory="fig2, fig6",
            )
            for name in ECHEM_FIGURES
        },
    log:
        f"{RESULTS}/logs/echem_figures/echem_figures.log",
    benchmark:
        f"{RESULTS}/benchmarks/echem_figures/echem_figures.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        names=list(ECHEM_FIGURES),
    script:
        "../../scripts/echem_figures.py"
