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
        mem_mb=500,  # maps the slabs (HDF5 virtual dataset), copies nothing
        runtime=5,
    script:
        "../../scripts/volume.py"
