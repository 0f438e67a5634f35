rule metrics:
    input:
        labels=f"{RESULTS}/{{scan}}/segment/{{layer}}.h5",
        crop=f"{RESULTS}/{{scan}}/crop/{{layer}}.h5",
        calibration=f"{RESULTS}/{{scan}}/calibration.json",
        thresholds=f"{RESULTS}/{{scan}}/segment/thresholds.json",
    output:
        f"{RESULTS}/{{scan}}/metrics/{{layer}}.json",
    log:
        f"{RESULTS}/logs/metrics/{{scan}}/{{layer}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/metrics/{{scan}}/{{layer}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=layer_mem(copies=8),
        runtime=layer_runtime(per_minute=1e7, base_min=10),
    params:
        scan_id=lambda wildcards: wildcards.scan,
        sample=sheet_value("sample"),
        pressure_mpa=sheet_value("pressure_mpa"),
        orientation=config["metrics"]["orientation"],
        tortuosity=config["metrics"]["tortuosity"],
        segment_options=RELABEL_OPTIONS if config["metrics"]["replica"] else None,
        # the whole-crop solve may use at most half of the job's memory request
        diffusion=lambda wildcards, resources: {
            **config["metrics"]["diffusion"],
            "max_memory_gb": min(
                config["metrics"]["diffusion"]["max_memory_gb"], resources.mem_mb / 2000
            ),
        },
    script:
        "../../scripts/metrics.py"
