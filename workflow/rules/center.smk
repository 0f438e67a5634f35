rule center:
    input:
        raw=raw_of,
        header=f"{RESULTS}/{{scan}}/inspect.json",
    output:
        center=f"{RESULTS}/{{scan}}/center.json",
        qc=report(
            f"{RESULTS}/{{scan}}/qc/center.png",
            caption="../report/center.rst",
            category="Reconstruction QC",
            labels={"scan": "{scan}"},
        ),
    log:
        f"{RESULTS}/logs/center/{{scan}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/center/{{scan}}.tsv"
    conda:
        "../../envs/recon.yaml"
    threads: 2  # the bands of the tilt measurement, two at a time
    # first: every reconstruction waits for the centre, and the flatfield slabs made
    # meanwhile would pile up on disk as float32 (a whole scan's worth is 30 GB)
    priority: 20
    resources:
        mem_mb=slab_mem_mb,
        runtime=slab_runtime(per_minute=5e7, base_min=10),
    params:
        format=sheet_value("format"),
        formats=config["formats"],
        rows=recon_row_range,
        n_rows=config["center"]["n_rows"],
        method=config["center"]["method"],
        min_confidence=config["center"]["min_confidence"],
        tilt_min_spread_px=config["center"]["tilt_min_spread_px"],
        average=config["flatfield"]["average"],
        min_transmission=config["flatfield"]["min_transmission"],
        override_px=sheet_value("center_px"),
    script:
        "../../scripts/center.py"
