# The built-in synthetic beamtime: sheet rows whose raw file lies in synthetic.raw_dir.


rule simulate:
    output:
        raw=f"{SYNTHETIC_DIR}/{{name}}.h5",
        truth=f"{SYNTHETIC_DIR}/{{name}}.truth.json",
        labels=f"{SYNTHETIC_DIR}/{{name}}.truth.h5",
    log:
        f"{RESULTS}/logs/simulate/{{name}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/simulate/{{name}}.tsv"
    conda:
        "../../envs/io.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        pressure_mpa=synthetic_pressure,
        seed=config["synthetic"]["seed"],
        synthetic=config["synthetic"],
    script:
        "../../scripts/simulate.py"
