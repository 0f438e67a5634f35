rule reconstruct:
    input:
        sino=f"{RESULTS}/{{scan}}/flatfield/slab_{{slab}}.h5",
        center=f"{RESULTS}/{{scan}}/center.json",
    output:
        # kept: volume.h5 maps these slabs instead of copying them (tomopress.recon.volume)
        f"{RESULTS}/{{scan}}/recon/slab_{{slab}}.h5",
    log:
        f"{RESULTS}/logs/reconstruct/{{scan}}/{{slab}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/reconstruct/{{scan}}/{{slab}}.tsv"
    conda:
        "../../envs/recon.yaml"
    threads: 2
    # before the next flatfield slab, so the float32 sinograms (temp) never pile up on disk
    priority: 10
    resources:
        mem_mb=slab_mem_mb,
        runtime=slab_runtime(per_minute=1e7),
    params:
        backend=config["reconstruct"]["backend"],
        filter_name=config["reconstruct"]["filter"],
        padding=config["reconstruct"]["padding"],
    script:
        "../../scripts/reconstruct.py"
