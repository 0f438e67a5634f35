rule segment_thresholds:
    input:
        composite=f"{RESULTS}/{{scan}}/crop/composite.h5",
        separator=f"{RESULTS}/{{scan}}/crop/separator.h5",
    output:
        f"{RESULTS}/{{scan}}/segment/thresholds.json",
    log:
        f"{RESULTS}/logs/segment_thresholds/{{scan}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/segment_thresholds/{{scan}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=layer_mem(copies=2),
        runtime=layer_runtime(per_minute=2e8, base_min=5),
    params:
        method=config["segment"]["method"],
        void_level=config["segment"]["void_level_per_cm"],
        denoiser=config["segment"]["denoise"],
        median_size_px=config["segment"]["median_size_px"],
        nlm_h_factor=config["segment"]["nlm_h_factor"],
        nlm_patch_distance_px=config["segment"]["nlm_patch_distance_px"],
        max_sample_voxels=config["segment"]["level_sample_voxels"],
    script:
        "../../scripts/segment_thresholds.py"


rule calibrate:
    input:
        volume=f"{RESULTS}/{{scan}}/volume.h5",
        layers=f"{RESULTS}/{{scan}}/crop/layers.json",
        composite=f"{RESULTS}/{{scan}}/crop/composite.h5",
        separator=f"{RESULTS}/{{scan}}/crop/separator.h5",
        thresholds=f"{RESULTS}/{{scan}}/segment/thresholds.json",
        raw=raw_of,
    output:
        f"{RESULTS}/{{scan}}/calibration.json",
    log:
        f"{RESULTS}/logs/calibrate/{{scan}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/calibrate/{{scan}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    priority: 5  # first among the ready segment jobs, so it runs beside the separator's
    resources:
        mem_mb=layer_mem(copies=3),
        runtime=layer_runtime(per_minute=2e8, base_min=5),
    params:
        materials=config["materials"],
        energy_kev=config["energy_kev"],
        reference=config["calibration"]["reference"],
        max_disagreement=config["calibration"]["max_theory_disagreement"],
    script:
        "../../scripts/calibrate.py"


rule segment:
    input:
        crop=f"{RESULTS}/{{scan}}/crop/{{layer}}.h5",
        thresholds=f"{RESULTS}/{{scan}}/segment/thresholds.json",
        # only blur-aware labels read the calibration; otherwise calibrate runs beside segment
        calibration=(f"{RESULTS}/{{scan}}/calibration.json" if config["segment"]["blur_aware"]
                     else []),
    output:
        labels=f"{RESULTS}/{{scan}}/segment/{{layer}}.h5",
        qc=report(
            f"{RESULTS}/{{scan}}/qc/segment_{{layer}}.png",
            caption="../report/segment.rst",
            category="Segmentation QC",
            labels={"scan": "{scan}", "layer": "{layer}"},
        ),
    log:
        f"{RESULTS}/logs/segment/{{scan}}/{{layer}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/segment/{{scan}}/{{layer}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    # the separator's crop is a few planes: on one thread it runs beside calibrate (one
    # thread) instead of before it on two (full-size band: 13 + 20 s in turn -> ~20 s)
    threads: lambda wildcards: 1 if wildcards.layer == "separator" else 2
    resources:
        mem_mb=layer_mem(copies=6),
        runtime=layer_runtime(per_minute=2e7, base_min=10),
    params:
        blur_aware=config["segment"]["blur_aware"],
        options=LABELLING_OPTIONS,
    script:
        "../../scripts/segment.py"


rule contact_probe:
    input:
        thresholds=f"{RESULTS}/{{scan}}/segment/thresholds.json",
        calibration=f"{RESULTS}/{{scan}}/calibration.json",
    output:
        f"{RESULTS}/{{scan}}/segment/contact_probe.json",
    log:
        f"{RESULTS}/logs/contact_probe/{{scan}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/contact_probe/{{scan}}.tsv"
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    # a per-scan job read only by aggregate_scan: it runs beside the metrics jobs, off the
    # band's longest path
    priority: -5
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        segment_options=RELABEL_OPTIONS,
    script:
        "../../scripts/contact_probe.py"
