rule volume:
    input:
        recon_slabs,
    output:
        f"{RESULTS}/{{scan}}/volume.h5",
    log:
        f"{RESULTS}/logs/volume/{{scan}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/volume/{{scan}}.tsv"
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=gather_mem_mb,
        runtime=volume_runtime(per_minute=2e8),
    script:
        "../../scripts/volume.py"
