rule inspect:
    input:
        raw=raw_of,
    output:
        f"{RESULTS}/{{scan}}/inspect.json",
    log:
        f"{RESULTS}/logs/inspect/{{scan}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/inspect/{{scan}}.tsv",
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        format=sheet_value("format"),
        formats=config["formats"],
    script:
        "../../scripts/inspect.py"
