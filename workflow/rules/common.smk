# Config and sample-sheet validation, DAG-time facts per scan, and short input functions.
import math
import re
import sys

# Jobs (local, conda or cluster) import tomopress from this checkout, so the code that runs is
# the code under version control, whatever environment a rule uses.
sys.path.insert(0, f"{workflow.basedir}/src")
from tomopress.intake.workflow import use_source_tree

use_source_tree(f"{workflow.basedir}/src")

from tomopress.intake.config import validate_config
from tomopress.intake.sheet import read_sample_sheet
from tomopress.intake.workflow import detector_headers, slab_ranges
import tomopress.intake.workflow as wf

config.update(validate_config(config, source="config/config.yaml (+ --config)"))

RESULTS = config["results"].rstrip("/")
SYNTHETIC_DIR = config["synthetic"]["raw_dir"].rstrip("/")
LAYERS = ["composite", "separator"]

scans = read_sample_sheet(config["samples"], synthetic_dir=SYNTHETIC_DIR)
from tomopress.echem.checks import echem_problems

HEADERS = detector_headers(
    scans,
    config,
    extra_problems=echem_problems(scans.to_dict("records"), synthetic_dir=SYNTHETIC_DIR),
)
SLABS = {
    scan: slab_ranges(scans.loc[scan], HEADERS[scan], config["slab_rows"])
    for scan in scans.index
}
MEM_FACTOR = config["resources"]["mem_factor"]
RUNTIME_FACTOR = config["resources"]["runtime_factor"]
CROP_SIDE = config["crop"]["roi_size_px"]
#: the segment rule's labelling settings
LABELLING_OPTIONS = wf.labelling_options(config)
#: the same, as the replica (metrics) and the contact probe relabel their renderings
RELABEL_OPTIONS = wf.relabel_options(config)


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
    header = HEADERS[wildcards.scan]
    return wf.recon_mem_mb(header, config["slab_rows"], factor=MEM_FACTOR) * attempt


def flatfield_mem_mb(wildcards, attempt):
    """slab_mem_mb plus the halo rows Paganin's filter reads on each side (issue 14)."""
    header = HEADERS[wildcards.scan]
    extra = 2 * wf.PAGANIN_HALO_ROWS_BOUND if config["phase"]["method"] == "paganin" else 0
    return wf.recon_mem_mb(header, config["slab_rows"] + extra, factor=MEM_FACTOR) * attempt


def _layer_voxels(scan, layers):
    return sum(
        math.prod(
            wf.layer_shape(
                scans.loc[scan], HEADERS[scan], layer=layer, roi_size_px=CROP_SIDE
            )
        )
        for layer in layers
    )


def layer_mem(copies):
    """mem_mb of a job holding `copies` float32 arrays of its layer (of both without {layer})."""

    def mem_mb(wildcards, attempt):
        n_voxels = _layer_voxels(wildcards.scan, _layers_of(wildcards))
        return wf.layer_mem_mb((n_voxels, 1, 1), copies=copies, factor=MEM_FACTOR) * attempt

    return mem_mb


def slab_runtime(per_minute, base_min=5):
    """runtime (min) of a slab job: raw elements of one slab at `per_minute`, x attempt."""

    def runtime(wildcards, attempt):
        header = HEADERS[wildcards.scan]
        rows = min(config["slab_rows"], header["n_rows"])
        n = header["n_projections"] * rows * header["n_cols"]
        return math.ceil(wf.runtime_min(n, per_minute=per_minute, base_min=base_min) * RUNTIME_FACTOR) * attempt

    return runtime


def volume_runtime(per_minute, base_min=5):
    """runtime (min) of a job that passes over every reconstructed voxel of the scan."""

    def runtime(wildcards, attempt):
        header = HEADERS[wildcards.scan]
        start, stop = SLABS[wildcards.scan][0][0], SLABS[wildcards.scan][-1][1]
        n = (stop - start) * header["n_cols"] ** 2
        return math.ceil(wf.runtime_min(n, per_minute=per_minute, base_min=base_min) * RUNTIME_FACTOR) * attempt

    return runtime


def layer_runtime(per_minute, base_min=5):
    """runtime (min) of a layer job: its layer's voxels (both layers without {layer})."""

    def runtime(wildcards, attempt):
        n = _layer_voxels(wildcards.scan, _layers_of(wildcards))
        return math.ceil(wf.runtime_min(n, per_minute=per_minute, base_min=base_min) * RUNTIME_FACTOR) * attempt

    return runtime


def _layers_of(wildcards):
    return [wildcards.layer] if "layer" in wildcards.keys() else LAYERS


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
