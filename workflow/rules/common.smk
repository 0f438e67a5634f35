# Config and sample-sheet validation, DAG-time facts per scan, and short input functions.
import re
import sys

# Jobs (local, conda or cluster) import tomopress from this checkout, so the code that runs is
# the code under version control, whatever environment a rule uses.
sys.path.insert(0, f"{workflow.basedir}/src")
from tomopress.workflow import use_source_tree

use_source_tree(f"{workflow.basedir}/src")

from tomopress.config import validate_config
from tomopress.sheet import read_sample_sheet, row_ranges
from tomopress.workflow import detector_header, recon_mem_mb, slab_ranges, volume_mem_mb

config.update(validate_config(config, source="config/config.yaml (+ --config)"))

RESULTS = config["results"].rstrip("/")
SYNTHETIC_DIR = config["synthetic"]["raw_dir"].rstrip("/")
LAYERS = ["composite", "separator"]

scans = read_sample_sheet(config["samples"], synthetic_dir=SYNTHETIC_DIR)
HEADERS = {scan: detector_header(scans.loc[scan], config) for scan in scans.index}
SLABS = {
    scan: slab_ranges(scans.loc[scan], HEADERS[scan], config["slab_rows"])
    for scan in scans.index
}
MEM_FACTOR = config["resources"]["mem_factor"]


wildcard_constraints:
    scan="|".join(re.escape(s) for s in scans.index),
    slab=r"\d+",
    layer="|".join(LAYERS),


def raw_of(wildcards):
    return scans.loc[wildcards.scan, "raw"]


def sheet_value(column):
    """Input function for params: one sheet cell of the scan as a plain Python value."""
    return lambda wildcards: scans.loc[wildcards.scan, column]


def slab_row_range(wildcards):
    return list(SLABS[wildcards.scan][int(wildcards.slab)])


def recon_row_range(wildcards):
    slabs = SLABS[wildcards.scan]
    return [slabs[0][0], slabs[-1][1]]


def slab_mem_mb(wildcards, attempt):
    return recon_mem_mb(HEADERS[wildcards.scan], config["slab_rows"], factor=MEM_FACTOR) * attempt


def layer_mem_mb(wildcards, attempt):
    header = HEADERS[wildcards.scan]
    return volume_mem_mb(header["n_cols"], header["n_rows"], factor=MEM_FACTOR) * attempt


def synthetic_pressure(wildcards):
    wanted = f"{SYNTHETIC_DIR}/{wildcards.name}.h5"
    rows = scans[scans["raw"].map(lambda raw: raw.rstrip("/") == wanted)]
    if rows.empty:
        raise ValueError(f"no sample-sheet row has raw = {wanted}")
    return float(rows["pressure_mpa"].iloc[0])


def recon_slabs(wildcards):
    return expand(
        f"{RESULTS}/{wildcards.scan}/recon/slab_{{slab}}.h5",
        slab=range(len(SLABS[wildcards.scan])),
    )
