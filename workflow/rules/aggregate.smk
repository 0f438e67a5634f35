# Tables: one Parquet part per scan and table, then one cheap concatenation per table.
import json

from tomopress.tables.schemas import SCAN_TABLE_NAMES, TABLE_NAMES
from tomopress.intake.workflow import recorded_config_json


rule aggregate_scan:
    input:
        metrics=expand(f"{RESULTS}/{{{{scan}}}}/metrics/{{layer}}.json", layer=LAYERS),
        raw=raw_of,
        header=f"{RESULTS}/{{scan}}/inspect.json",
        center=f"{RESULTS}/{{scan}}/center.json",
        layers=f"{RESULTS}/{{scan}}/crop/layers.json",
        thresholds=f"{RESULTS}/{{scan}}/segment/thresholds.json",
        calibration=f"{RESULTS}/{{scan}}/calibration.json",
        volume=f"{RESULTS}/{{scan}}/volume.h5",
        contact_probe=(f"{RESULTS}/{{scan}}/segment/contact_probe.json"
                       if config["metrics"]["contact_probe"] else []),
    output:
        **{name: f"{RESULTS}/{{scan}}/tables/{name}.parquet" for name in SCAN_TABLE_NAMES},
    log:
        f"{RESULTS}/logs/aggregate_scan/{{scan}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate_scan/{{scan}}.tsv",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        sample=sheet_value("sample"),
        pressure_mpa=sheet_value("pressure_mpa"),
        format=sheet_value("format"),
        flatfield_json=json.dumps(config["flatfield"], sort_keys=True),
        benchmarks_dir=f"{RESULTS}/benchmarks",
    script:
        "../../scripts/aggregate_scan.py"


rule aggregate:
    input:
        sheet=config["samples"],
        **{
            name: expand(f"{RESULTS}/{{scan}}/tables/{name}.parquet", scan=scans.index)
            for name in SCAN_TABLE_NAMES
        },
    output:
        **{name: f"{RESULTS}/tables/{name}.parquet" for name in SCAN_TABLE_NAMES},
    log:
        f"{RESULTS}/logs/aggregate/aggregate.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate/aggregate.tsv",
    conda:
        "../../envs/analysis.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        # the analysis settings recorded in the tables' metadata, as one key-sorted JSON string
        # (a plain value: key order and cluster resources must not trigger a re-run)
        config_json=recorded_config_json(config),
    script:
        "../../scripts/aggregate.py"
