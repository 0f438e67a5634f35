# Figures across the pressure series, from the tables; each PNG is a report item.
# tortuosity.png (Fig. 5c) is built only when the metric records carry tortuosity paths:
# FIGURES_PENDING lists it until config metrics.tortuosity is on (docs/tables.md).
from tomopress.tables.figures import FIGURE_TABLES, wanted_figures

TREND_FIGURES = {
    "porosity": ("Pressure trends", "fig3a"),
    "volume_fractions": ("Pressure trends", "fig3b"),
    "contact_fraction": ("Pressure trends", "fig3c"),
    "anisotropy": ("Contact anisotropy", "fig4"),
    "profiles": ("Profiles", "profiles"),
    "reconstruction_qc": ("Reconstruction QC", "across scans"),
}
FIGURES, FIGURES_PENDING = wanted_figures(config["metrics"])


rule figures:
    input:
        **{
            t: f"{RESULTS}/tables/{t}.parquet"
            for t in sorted({t for f in TREND_FIGURES for t in FIGURE_TABLES[f]})
        },
    output:
        **{
            name: report(
                f"{RESULTS}/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category=category,
                subcategory=sub,
            )
            for name, (category, sub) in TREND_FIGURES.items()
        },
    log:
        f"{RESULTS}/logs/figures/figures.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/figures.tsv",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        names=list(TREND_FIGURES),
    script:
        "../../scripts/figures.py"


rule figures_tortuosity:
    input:
        tortuosity=f"{RESULTS}/tables/tortuosity.parquet",
    output:
        tortuosity=report(
            f"{RESULTS}/figures/tortuosity.png",
            caption="../report/tortuosity.rst",
            category="Tortuosity",
            subcategory="fig5c",
        ),
    log:
        f"{RESULTS}/logs/figures_tortuosity/figures_tortuosity.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures_tortuosity/figures_tortuosity.tsv",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        names=["tortuosity"],
    script:
        "../../scripts/figures.py"
