rule segment_thresholds:
    input:
        composite=f"{RESULTS}/{{scan}}/crop/composite.h5",
        separator=f"{RESULTS}/{{scan}}/crop/separator.h5",
    output:
        f"{RESULTS}/{{scan}}/segment/thresholds.json",
    log:
        f"{RESULTS}/logs/segment_thresholds/{{scan}}.log",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=layer_mem_mb,
        runtime=20,
    params:
        median_size_px=config["segment"]["median_size_px"],
        method=config["segment"]["method"],
        void_level=config["segment"]["void_level_per_cm"],
    script:
        "../../scripts/segment_thresholds.py"


rule segment:
    input:
        crop=f"{RESULTS}/{{scan}}/crop/{{layer}}.h5",
        thresholds=f"{RESULTS}/{{scan}}/segment/thresholds.json",
    output:
        f"{RESULTS}/{{scan}}/segment/{{layer}}.h5",
    log:
        f"{RESULTS}/logs/segment/{{scan}}/{{layer}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/segment/{{scan}}/{{layer}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=layer_mem_mb,
        runtime=30,
    params:
        median_size_px=config["segment"]["median_size_px"],
    script:
        "../../scripts/segment.py"
