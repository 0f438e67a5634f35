rule reconstruct:
    input:
        sino=f"{RESULTS}/{{scan}}/flatfield/slab_{{slab}}.h5",
        center=f"{RESULTS}/{{scan}}/center.json",
    output:
        temp(f"{RESULTS}/{{scan}}/recon/slab_{{slab}}.h5"),
    log:
        f"{RESULTS}/logs/reconstruct/{{scan}}/{{slab}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/reconstruct/{{scan}}/{{slab}}.tsv"
    conda:
        "../../envs/recon.yaml"
    threads: 2
    resources:
        mem_mb=slab_mem_mb,
        runtime=slab_runtime(per_minute=1e7),
    params:
        backend=config["reconstruct"]["backend"],
        filter_name=config["reconstruct"]["filter"],
    script:
        "../../scripts/reconstruct.py"
