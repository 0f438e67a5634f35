rule flatfield:
    input:
        raw=raw_of,
        header=f"{RESULTS}/{{scan}}/inspect.json",
    output:
        temp(f"{RESULTS}/{{scan}}/flatfield/slab_{{slab}}.h5"),
    log:
        f"{RESULTS}/logs/flatfield/{{scan}}/{{slab}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/flatfield/{{scan}}/{{slab}}.tsv"
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=slab_mem_mb,
        runtime=30,
    params:
        format=sheet_value("format"),
        formats=config["formats"],
        rows=slab_row_range,
        average=config["flatfield"]["average"],
        min_transmission=config["flatfield"]["min_transmission"],
        pixel_size_um=sheet_value("pixel_size_um"),
    script:
        "../../scripts/flatfield.py"
