rule aggregate:
    input:
        sheet=config["samples"],
        metrics=expand(
            f"{RESULTS}/{{scan}}/metrics/{{layer}}.json", scan=scans.index, layer=LAYERS
        ),
    output:
        f"{RESULTS}/tables/metrics.parquet",
    log:
        f"{RESULTS}/logs/aggregate/aggregate.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/aggregate.py"
