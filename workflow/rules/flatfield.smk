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
    threads: 2
    resources:
        mem_mb=flatfield_mem_mb,
        runtime=slab_runtime(per_minute=2e7),
    params:
        format=sheet_value("format"),
        formats=config["formats"],
        rows=slab_row_range,
        average=config["flatfield"]["average"],
        min_transmission=config["flatfield"]["min_transmission"],
        pixel_size_um=sheet_value("pixel_size_um"),
        zinger_threshold=config["flatfield"]["zinger_threshold"],
        ring_method=config["flatfield"]["ring_method"],
        ring_size=config["flatfield"]["ring_size"],
        ring_large_size=config["flatfield"]["ring_large_size"],
        ring_snr=config["flatfield"]["ring_snr"],
        phase={**config["phase"], "energy_kev": config["energy_kev"],
               "materials": config["materials"]},
    script:
        "../../scripts/flatfield.py"
