rule crop_layers:
    input:
        f"{RESULTS}/{{scan}}/volume.h5",
    output:
        layers=f"{RESULTS}/{{scan}}/crop/layers.json",
        qc=report(
            f"{RESULTS}/{{scan}}/qc/layers.png",
            caption="../report/layers.rst",
            category="Layers",
            labels={"scan": "{scan}"},
        ),
    log:
        f"{RESULTS}/logs/crop_layers/{{scan}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/crop_layers/{{scan}}.tsv",
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=volume_runtime(per_minute=1e9),
    params:
        composite_rows=sheet_value("composite_rows"),
        separator_rows=sheet_value("separator_rows"),
        roi_xy=sheet_value("roi_xy"),
        roi_size_px=config["crop"]["roi_size_px"],
        transition_rows=config["crop"]["transition_rows"],
        closing_radius_px=config["crop"]["closing_radius_px"],
        tilt_correction=config["crop"]["tilt_correction"],
    script:
        "../../scripts/crop_layers.py"


rule crop:
    input:
        volume=f"{RESULTS}/{{scan}}/volume.h5",
        layers=f"{RESULTS}/{{scan}}/crop/layers.json",
    output:
        f"{RESULTS}/{{scan}}/crop/{{layer}}.h5",
    log:
        f"{RESULTS}/logs/crop/{{scan}}/{{layer}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/crop/{{scan}}/{{layer}}.tsv",
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=layer_mem(copies=2),
        runtime=layer_runtime(per_minute=1e8),
    script:
        "../../scripts/crop.py"
