"""Metrics benchmark: time and memory of every family on a 1024 x 1024 x 100 crop, porespy's
tortuosity factor on the same volumes, and the validation phantoms of METRICS.md.

1. Time/memory. In a child process, an isotropic random three-phase volume
   (``phantoms3d.isotropic_random_three_phase``: Gaussian-smoothed noise, correlation 4 voxels,
   AM 0.5, void 0.25, SE 0.25; a realistic texture for 0.5 µm voxels) of ``--planes`` x
   ``--size`` x ``--size`` voxels goes through every family of ``summary.FAMILIES`` and the
   mesh-based orientation analysis of the `metrics` rule (``layer.orientation_record``), i.e.
   everything ``layer_metrics_file`` computes. Seconds per family and the peak resident memory
   (``ru_maxrss`` of the child, after each family and as seen by the parent through
   ``RUSAGE_CHILDREN``) are recorded. Target (issue 5): < 120 s in all on 2 cores, < 4 GB.
2. Tortuosity factor vs porespy ``simulations.tortuosity_fd`` (and taufactor when importable)
   with the peer's own convention (tomopress.metrics.diffusion.CONVENTIONS: porespy puts the
   Dirichlet planes on the first and last voxel layers and divides by the through-connected
   porosity; taufactor puts them half a voxel outside and divides by all of the phase) on
   straight channels, random three-phase volumes, porespy's 2-D lattice of spheres (its own
   test case, 200 x 200 as 3 planes) and the taufactor example electrode
   (../shared/data/taufactor_electrode); then the whole 256³ electrode and the lattice through
   ``summary_metrics`` as ``tomopress metrics`` runs them (default budget: solved whole),
   against porespy and against taufactor's documented value (2.0776, its docs notebook
   00-overview, ``Solver(img == 0)``; taufactor pulls PyTorch, so it is not installed here).
3. Tiling bias: on volumes small enough to solve whole, the whole-crop τ_f (no-flux sides, and
   periodic sides) against every cell of a grid solved with walls, with periodic sides, and
   with periodic sides scaled to the crop's walls (the default estimator), and against the
   budgeted sample (a quarter of the cells, with its standard error).
4. Validation: each phantom of METRICS.md with an analytic answer, its measured error and
   the tolerance (computed here, not copied).

    .venv/bin/python benchmarks/metrics.py [--size 1024 --planes 100] [--skip-timing]
        [--skip-peers] [--porespy-256] [--out benchmarks/results/metrics.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tomopress.metrics.anisotropy import contact_orientation
from tomopress.metrics.connectivity import se_connectivity
from tomopress.metrics.contact import contact_metrics
from tomopress.metrics.diffusion import CONVENTIONS, effective_diffusivity, tortuosity_factor
from tomopress.metrics.interfaces import interface_area_um2
from tomopress.metrics.particles import am_particle_sizes
from tomopress.metrics.summary import DiffusionOptions, summary_metrics
from tomopress.metrics.tortuosity import geometric_tortuosity
from tomopress.synthetic.phantoms3d import (
    ball_phantom,
    capped_sphere_phantom,
    capped_sphere_truth,
    isotropic_random_three_phase,
    sphere_array_phantom,
    tilted_slab_phantom,
)
from tomopress.types import AM, SE

ROOT = Path(__file__).resolve().parents[1]
ELECTRODE = ROOT.parent / "shared" / "data" / "taufactor_electrode" / "electrode.tiff"
#: taufactor's documented τ of this electrode's pore phase along axis 0 (docs/notebooks/
#: 00-overview.ipynb of tldr-group/taufactor: ``Solver(img == 0).solve()``, D_eff 0.2166 D_0)
TAUFACTOR_ELECTRODE_PORE_TAU = 2.0776
#: porespy's own test value for lattice_spheres([200, 200], r=8, spacing=26), axis 1
POROSPY_LATTICE_TAU = 1.35995


def workflow_diffusion_options() -> DiffusionOptions:
    """The `metrics` rule's diffusion options: the defaults of the config schema."""
    import yaml

    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    props = schema["properties"]["metrics"]["properties"]["diffusion"]["properties"]
    return DiffusionOptions(**{k: v["default"] for k, v in props.items()})


def random_volume(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    return isotropic_random_three_phase(
        shape, rng=np.random.default_rng(seed), correlation_vox=4.0,
        volume_fraction_am=0.5, volume_fraction_void=0.25,
    )  # fmt: skip


# --- 1. time and memory (child process) ----------------------------------------------------


def child(size: int, planes: int) -> None:
    """Run in the child: print one JSON line per family with seconds and peak RSS so far."""
    from tomopress.metrics.layer import orientation_record
    from tomopress.metrics.summary import FAMILIES

    def emit(name: str, seconds: float, cpu_seconds: float, values: dict) -> None:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
        scalars = {k: v for k, v in values.items() if isinstance(v, (int, float, str, type(None)))}
        print(json.dumps({"family": name, "seconds": seconds, "cpu_seconds": cpu_seconds,
                          "peak_rss_gb": rss, "values": scalars}), flush=True)  # fmt: skip

    t0, c0 = time.perf_counter(), time.process_time()
    vol = random_volume((planes, size, size))
    emit("(volume generation)", time.perf_counter() - t0, time.process_time() - c0, {})
    workflow_options = {"diffusion": {"options": workflow_diffusion_options()}}
    for name, (function, _) in FAMILIES.items():
        t0, c0 = time.perf_counter(), time.process_time()
        out = function(vol, 0.5, **workflow_options.get(name, {}))
        emit(name, time.perf_counter() - t0, time.process_time() - c0, out)
    t0, c0 = time.perf_counter(), time.process_time()
    out = orientation_record(vol, voxel_size_um=0.5)
    emit("orientation", time.perf_counter() - t0, time.process_time() - c0, out)


def timing(size: int, planes: int) -> dict:
    cmd = [sys.executable, __file__, "--child", "--size", str(size), "--planes", str(planes)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    families = [r for r in rows if not r["family"].startswith("(")]
    return {
        "volume": f"isotropic_random_three_phase {planes} x {size} x {size}, correlation 4 voxels,"
                  " AM 0.5, void 0.25, SE 0.25, voxel 0.5 µm",
        "families": rows,
        "metrics_seconds_total": sum(r["seconds"] for r in families),
        "metrics_cpu_seconds_total": sum(r["cpu_seconds"] for r in families),
        "child_wall_seconds": wall,
        "child_peak_rss_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2,
        "target_seconds": 120.0,
        "target_peak_rss_gb": 4.0,
    }


def orientation_sampling(size: int = 512, planes: int = 100, seed: int = 3) -> dict:
    """Sampled-tile orientation (the `metrics` rule meshes 12 of the 64 tiles of a 1024² x 100
    crop) against the full mesh, on a 100 x 512 x 512 isotropic volume (3 of its 16 tiles)."""
    vol = random_volume((planes, size, size), seed=seed)
    full = contact_orientation(vol, voxel_size_um=0.5)
    part = contact_orientation(vol, voxel_size_um=0.5, max_tiles=3)
    keys = ["contact_area_fraction_mesh", "fabric_A_z_am_se", "fabric_A_z_am_void",
            "fabric_A_z_se_void"]  # fmt: skip
    return {
        "sampled_voxel_fraction": part["sampled_voxel_fraction"],
        **{f"{k}_full": full[k] for k in keys},
        **{f"{k}_sampled": part[k] for k in keys},
        "max_abs_difference": max(abs(full[k] - part[k]) for k in keys),
        "coverage_max_abs_difference": float(
            np.nanmax(np.abs(full["coverage"] - part["coverage"]))
        ),
    }


# --- 2. tortuosity factor vs porespy / taufactor -------------------------------------------


def lattice_of_spheres() -> np.ndarray | None:
    """porespy's 2-D lattice of spheres (its test case) as 3 planes, transport axis first."""
    try:
        import porespy
    except ImportError:
        return None
    im = porespy.generators.lattice_spheres(shape=[200, 200], r=8, spacing=26)
    return np.moveaxis(np.repeat(im[:, :, None], 3, axis=2), 1, 0)


def electrode(size: int | None = None) -> np.ndarray | None:
    """Pore phase of the taufactor electrode (True = pore), optionally its corner crop."""
    if not ELECTRODE.exists():
        return None
    import tifffile

    pore = tifffile.imread(ELECTRODE) == 0
    return pore if size is None else pore[:size, :size, :size]


def peer_volumes() -> dict[str, np.ndarray]:
    """Binary volumes (True = conducting phase), transport along axis 0."""
    channels = np.zeros((64, 64, 64), dtype=bool)
    channels[:, 2::6, 3::5] = True
    channels[:, 20:30, 20:30] = True
    vols = {"straight channels 64³": channels}
    rand = random_volume((96, 96, 96), seed=1)
    vols["random 3-phase, SE (ε 0.25) 96³"] = rand == SE
    vols["random 3-phase, SE + void (ε 0.5) 96³"] = rand != AM
    lattice = lattice_of_spheres()
    if lattice is not None:
        vols["porespy lattice of spheres 200² x 3"] = lattice
    if ELECTRODE.exists():
        import tifffile

        raw = tifffile.imread(ELECTRODE)[:128, :128, :128]
        vols["taufactor electrode, pore 128³"] = raw == 0
        vols["taufactor electrode, pore + CBD 128³"] = raw != 85
    return vols


def _labels(phase: np.ndarray) -> np.ndarray:
    return np.where(phase, SE, AM).astype(np.uint8)


def peers(porespy_256: bool = False) -> dict:
    try:
        import porespy
    except ImportError as err:
        return {"skipped": f"porespy not importable ({err}); "
                           "pip install -r benchmarks/requirements.txt"}
    try:
        import taufactor
    except ImportError as err:
        taufactor, tf_reason = None, f"taufactor not importable ({err}); it pulls PyTorch"
    rows = []
    for name, phase in peer_volumes().items():
        labels = _labels(phase)
        ours = {}
        for convention, (boundary, porosity) in CONVENTIONS.items():
            t0 = time.perf_counter()
            ours[convention] = tortuosity_factor(labels, boundary=boundary, porosity=porosity)
            ours[convention]["seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ps = porespy.simulations.tortuosity_fd(phase, axis=0)
        t_ps = time.perf_counter() - t0
        row = {
            "volume": name,
            "epsilon": float(phase.mean()),
            "tau_tomopress_default": ours["tomopress"]["tau_factor"],
            "tau_tomopress_porespy_convention": ours["porespy"]["tau_factor"],
            "tau_porespy": float(ps.tortuosity),
            "tau_ratio": ours["porespy"]["tau_factor"] / float(ps.tortuosity),
            "formation_factor_ratio": ours["porespy"]["macmullin"] / float(ps.formation_factor),
            "tau_tomopress_taufactor_convention": ours["taufactor"]["tau_factor"],
            "seconds_tomopress": ours["porespy"]["seconds"],
            "seconds_porespy": t_ps,
        }
        if taufactor is not None:
            solver = taufactor.Solver(phase.astype(np.uint8))
            t0 = time.perf_counter()
            solver.solve(verbose=False)
            row["tau_taufactor"] = float(solver.tau)
            row["tau_ratio_taufactor"] = ours["taufactor"]["tau_factor"] / float(solver.tau)
            row["seconds_taufactor"] = time.perf_counter() - t0
        rows.append(row)
    return {
        "porespy_version": porespy.__version__,
        "taufactor": "used" if taufactor is not None else f"skipped: {tf_reason}",
        "rows": rows,
        "whole_volumes": whole_volume_peers(porespy, porespy_256),
    }


def whole_volume_peers(porespy, porespy_256: bool) -> list[dict]:
    """Whole peer volumes through ``summary_metrics`` (as ``tomopress metrics``, default
    budget), in each convention, against porespy and taufactor's documented value."""
    rows = []
    cases = []
    lattice = lattice_of_spheres()
    if lattice is not None:
        ps = porespy.simulations.tortuosity_fd(np.moveaxis(lattice, 0, 1)[:, :, 0], axis=1)
        cases.append(("porespy lattice of spheres 200² x 3", lattice,
                      {"porespy": float(ps.tortuosity),
                       "porespy_own_test_value": POROSPY_LATTICE_TAU}))  # fmt: skip
    pore = electrode()
    if pore is not None:
        refs = {"taufactor_documented": TAUFACTOR_ELECTRODE_PORE_TAU}
        if porespy_256:
            t0 = time.perf_counter()
            ps = porespy.simulations.tortuosity_fd(pore, axis=0)
            refs["porespy"] = float(ps.tortuosity)
            refs["seconds_porespy"] = time.perf_counter() - t0
        cases.append(("taufactor electrode, pore 256³", pore, refs))
    for name, phase, refs in cases:
        labels = _labels(phase)
        row: dict = {"volume": name, "shape_zyx": list(labels.shape), **refs}
        for convention in CONVENTIONS:
            t0 = time.perf_counter()
            rec = summary_metrics(labels, voxel_size_um=1.0, only=["diffusion"],
                                  diffusion={"convention": convention})  # fmt: skip
            row[f"tau_{convention}"] = rec["tau_factor"]
            row[f"method_{convention}"] = rec["diffusion_method"]
            row[f"seconds_{convention}"] = time.perf_counter() - t0
        if "porespy" in refs:
            row["ratio_porespy"] = row["tau_porespy"] / refs["porespy"]
        if "taufactor_documented" in refs:
            row["ratio_taufactor"] = row["tau_taufactor"] / refs["taufactor_documented"]
        rows.append(row)
    return rows


# --- 3. tiling bias ------------------------------------------------------------------------


def _tiles_record(labels: np.ndarray, **options) -> dict:
    rec = summary_metrics(labels, voxel_size_um=1.0, only=["diffusion"], diffusion=options)
    keys = ("tau_factor", "tau_factor_se", "tau_factor_tile_std", "tau_factor_wall_factor",
            "d_eff_rel", "n_diffusion_tiles", "diffusion_sampled_fraction",
            "diffusion_method")  # fmt: skip
    return {k: rec[k] for k in keys}


def tiling_bias(size: int = 256, planes: int = 100) -> list[dict]:
    """Whole crop vs tiles on volumes that can be solved whole (module docstring, 3)."""
    n, nz = min(256, size), min(100, planes)
    rand = random_volume((nz, n, n), seed=0)
    cases = [(f"random 3-phase, SE (ε 0.25) {nz} x {n}²", _labels(rand == SE)),
             (f"random 3-phase, SE + void (ε 0.5) {nz} x {n}²", _labels(rand != AM))]
    pore = electrode() if size >= 256 else None
    if pore is not None:
        cases.append(("taufactor electrode, pore 256³", _labels(pore)))
    rows = []
    for name, labels in cases:
        t0 = time.perf_counter()
        whole = tortuosity_factor(labels)
        row: dict = {"volume": name, "tau_whole": whole["tau_factor"],
                     "d_eff_whole": whole["d_eff_rel"], "seconds_whole": time.perf_counter() - t0}
        n_se = int((labels == SE).sum())
        if pore is None or labels.shape[0] < 256:
            row["tau_whole_periodic"] = tortuosity_factor(labels, lateral="periodic")["tau_factor"]
        row["tiles"] = []
        for side in (labels.shape[1] // 4, labels.shape[1] // 2):
            variants = [("walls", False), ("periodic", False), ("periodic", True)]
            if pore is not None and labels.shape[0] == 256 and side == 64:
                variants = variants[1:]  # the 256³ electrode: spare the slowest
            for lateral, corrected in variants:
                t0 = time.perf_counter()
                rec = _tiles_record(labels, max_unknowns=n_se - 1, tile_xy=side,
                                    min_tiles=10**6, lateral=lateral, wall_correction=corrected)
                rec.update(tile_xy=side, cells="all", seconds=time.perf_counter() - t0,
                           tau_bias=rec["tau_factor"] / row["tau_whole"] - 1)
                row["tiles"].append(rec)
        side = labels.shape[1] // 4
        t0 = time.perf_counter()
        rec = _tiles_record(labels, max_unknowns=n_se // 4, tile_xy=side, min_tiles=2)
        rec.update(tile_xy=side, cells="budget: a quarter of the SE voxels",
                   seconds=time.perf_counter() - t0,
                   tau_bias=rec["tau_factor"] / row["tau_whole"] - 1,
                   tau_bias_in_se=(rec["tau_factor"] - row["tau_whole"]) / rec["tau_factor_se"])
        row["tiles"].append(rec)
        rows.append(row)
    return rows


# --- 4. validation phantoms ----------------------------------------------------------------


def validation() -> list[dict]:
    rng = np.random.default_rng(2026)
    out = []

    def add(name, measured, truth, error, tolerance, unit):
        out.append({"phantom": name, "measured": measured, "truth": truth, "error": error,
                    "tolerance": tolerance, "unit": unit, "pass": bool(abs(error) <= tolerance)})

    # sphere r = 10 at random sub-voxel centres: Crofton area
    errs = []
    for _ in range(20):
        offset = rng.uniform(-0.5, 0.5, 3)
        vol = ball_phantom((32, 32, 32), radius_vox=10.0, centre_offset_vox=offset)
        errs.append(interface_area_um2(vol, AM, SE, voxel_size_um=1.0) / (4 * np.pi * 100) - 1)
    add("sphere r=10, Crofton area (worst of 20 centres)", None, 4 * np.pi * 100,
        float(max(errs, key=abs)), 0.01, "relative")
    # capped sphere r = 20, c = 0.5: f_c, mean over sub-voxel centres (one centre scatters
    # by about ±0.007, 1σ: the digitised cap edge meets the lattice differently at each centre)
    fcs = []
    for _ in range(16):
        vol = capped_sphere_phantom((52, 52, 52), radius_vox=20.0, shell_vox=3.0, c=0.5,
                                    centre_offset_vox=rng.uniform(-0.5, 0.5, 3))
        fcs.append(contact_metrics(vol, voxel_size_um=1.0)["contact_area_fraction"])
    truth = capped_sphere_truth(0.5)["contact_area_fraction"]
    add("capped sphere r=20 c=0.5, f_c (mean of 16 centres)", float(np.mean(fcs)), truth,
        float(np.mean(fcs)) - truth, 0.01, "absolute")
    out[-1]["single_centre_max_abs_error"] = float(np.max(np.abs(np.asarray(fcs) - truth)))
    out[-1]["single_centre_std"] = float(np.std(fcs))
    # straight channels
    vol = np.full((40, 24, 24), AM, dtype=np.uint8)
    vol[:, 2::5, 3::4] = SE
    geo = geometric_tortuosity(vol, voxel_size_um=1.0)
    add("straight channels, tau_geo (max over outlets)", float(geo.tau.max()), 1.0,
        float(np.abs(geo.tau - 1).max()), 0.0, "absolute")
    tf = tortuosity_factor(vol)["tau_factor"]
    add("straight channels, tau_f", tf, 1.0, tf - 1.0, 1e-9, "absolute")
    # tilted slab: per-outlet straight-line truth (finite width), after string pulling
    worst = 0.0
    for theta in (22.5, 30.0, 45.0):
        slab = tilted_slab_phantom((64, 3, 84), theta_deg=theta, width_vox=4.0)
        res = geometric_tortuosity(slab, voxel_size_um=1.0)
        top_x = np.flatnonzero(slab[0, 1] == SE).max()
        t_true = np.hypot(63, np.maximum(0, res.outlet_yx[:, 1] - top_x)) / 63
        worst = max(worst, float(np.abs(res.tau / t_true - 1).max()))
    add("tilted slab 22.5/30/45°, tau_geo per outlet (worst)", None, None, worst, 0.015,
        "relative")
    # layers in series
    d_layer = np.array([1.0, 4.0, 0.5, 2.0])
    layer = np.repeat(np.arange(4), [4, 3, 3, 3])
    field = np.broadcast_to(d_layer[layer][:, None, None], (13, 3, 4)).copy()
    ell = np.ones(13)
    ell[[0, -1]] = 0.5
    truth = 12 / np.sum(ell / d_layer[layer])
    d = effective_diffusivity(field)["d_eff"]
    add("layers in series, D_eff", d, truth, d / truth - 1, 0.005, "relative")
    truth = 13 / np.sum(1 / d_layer[layer])  # planes on the outer faces: every layer counts h
    d = effective_diffusivity(field, boundary="faces")["d_eff"]
    add("layers in series, D_eff (taufactor's outer-face planes)", d, truth, d / truth - 1,
        0.005, "relative")
    # dilute cubic array of insulating spheres (f = 0.1): Maxwell
    res = tortuosity_factor(sphere_array_phantom(period_vox=24, volume_fraction=0.1))
    maxwell = (3 - res["epsilon_se"]) / 2
    add("dilute sphere array f=0.1, tau_f vs Maxwell", res["tau_factor"], maxwell,
        res["tau_factor"] / maxwell - 1, 0.02, "relative")
    # connectivity toy: counted by hand
    vol = np.zeros((6, 8, 8), dtype=np.uint8)
    vol[:, 1, 1] = SE  # through, 6 voxels
    vol[:3, 4, 4] = SE  # dead end, 3
    vol[2:4, 6, 3] = SE  # isolated (no face, no side), 2
    vol[2:4, 3, 0] = SE  # side only, 2
    vol[2, 1, 2] = AM  # touches the through channel
    vol[4, 6, 6] = AM  # touches nothing
    m = se_connectivity(vol)
    expected = {"se_fraction_through": 6 / 13, "se_fraction_dead_end": 3 / 13,
                "se_fraction_isolated": 2 / 13, "se_fraction_side_only": 2 / 13,
                "am_fraction_ionically_isolated": 0.5}  # fmt: skip
    add("connectivity toy (classes, isolated AM)", None, None,
        max(abs(m[k] - v) for k, v in expected.items()), 0.0, "absolute")
    # particle sizes: non-touching balls of known radii on a jittered lattice
    radii = rng.uniform(4.0, 9.0, 27)
    vol = np.full((84, 84, 84), SE, dtype=np.uint8)
    grid = np.indices(vol.shape, dtype=np.float64)
    for k, (i, j, l) in enumerate(np.ndindex(3, 3, 3)):
        centre = 14 + 28 * np.array([i, j, l]) + rng.uniform(-2, 2, 3)
        vol[sum((g - cc) ** 2 for g, cc in zip(grid, centre)) <= radii[k] ** 2] = AM
    sizes = am_particle_sizes(vol, voxel_size_um=1.0)
    truth = float(np.median(2 * radii))
    add("27 balls r=4..9, median equivalent diameter", sizes["particle_d50_um"], truth,
        sizes["particle_d50_um"] - truth, 1.0, "voxels")
    return out


def isotropic_checks(timing_result: dict) -> list[dict]:
    """R = 1 and A_z = 0 on the timed isotropic volume, as the `metrics` rule computes them
    (directional fractions on the whole crop, fabric indices on the sampled mesh tiles)."""
    values = {}
    for row in timing_result["families"]:
        values.update(row["values"])
    checks = [("isotropic crop, R (directional fractions)", values["contact_anisotropy_R"], 1.0,
               0.1)]  # fmt: skip
    for key in ("fabric_A_z_am_se", "fabric_A_z_am_void", "fabric_A_z_se_void"):
        checks.append((f"isotropic crop, {key} (sampled mesh tiles)", values[key], 0.0, 0.05))
    return [{"phantom": name, "measured": m, "truth": t, "error": m - t, "tolerance": tol,
             "unit": "absolute", "pass": bool(abs(m - t) <= tol)}
            for name, m, t, tol in checks]  # fmt: skip


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--planes", type=int, default=100)
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--porespy-256", action="store_true",
                    help="also run porespy on the whole 256³ electrode (7.5 GB, minutes; run it "
                    "with --skip-timing: the timed child inherits the parent's peak RSS)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "metrics.json"))
    args = ap.parse_args(argv)
    if args.child:
        child(args.size, args.planes)
        return {}
    result: dict = {
        "cpu_count": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "load_average_start": os.getloadavg(),
    }
    result["validation"] = validation()
    print(f"{'phantom':55s} {'error':>12s} {'tolerance':>10s} unit      pass")
    for v in result["validation"]:
        print(f"{v['phantom']:55s} {v['error']:12.2e} {v['tolerance']:10.3g} {v['unit']:9s} "
              f"{v['pass']}")  # fmt: skip
    if not args.skip_peers:
        result["peers"] = peers(args.porespy_256)
        if "rows" in result["peers"]:
            print(f"\n{'volume':40s} {'eps':>5s} {'ours (ps conv.)':>15s} {'porespy':>8s} "
                  f"{'ratio':>7s} {'ours default':>12s} {'ours (tf conv.)':>15s} {'s ours':>7s} "
                  f"{'s porespy':>9s}")
            for r in result["peers"]["rows"]:
                print(f"{r['volume']:40s} {r['epsilon']:5.3f} "
                      f"{r['tau_tomopress_porespy_convention']:15.4f} {r['tau_porespy']:8.4f} "
                      f"{r['tau_ratio']:7.4f} {r['tau_tomopress_default']:12.4f} "
                      f"{r['tau_tomopress_taufactor_convention']:15.4f} "
                      f"{r['seconds_tomopress']:7.1f} {r['seconds_porespy']:9.1f}")
            print(f"taufactor: {result['peers']['taufactor']}")
            print("\nwhole volumes through summary_metrics (tomopress metrics):")
            for r in result["peers"]["whole_volumes"]:
                print(json.dumps(r, default=float))
        else:
            print(result["peers"]["skipped"])
    result["tiling_bias"] = tiling_bias(args.size, args.planes)
    print("\ntiling bias (τ_f of tiles vs the whole crop):")
    for r in result["tiling_bias"]:
        print(f"{r['volume']}: whole {r['tau_whole']:.4f}"
              + (f", whole with periodic sides {r['tau_whole_periodic']:.4f}"
                 if "tau_whole_periodic" in r else ""))
        for t in r["tiles"]:
            print(f"   {t['diffusion_method']:15s} wall factor {t['tau_factor_wall_factor']:.4f} "
                  f"side {t['tile_xy']:4d} {t['cells']:36s} n {t['n_diffusion_tiles']:3d} "
                  f"τ {t['tau_factor']:.4f} ± {t['tau_factor_se'] or 0:.4f} "
                  f"({t['tau_bias']:+.2%}) {t['seconds']:.0f} s")
    if not args.skip_timing:
        result["orientation_sampling"] = orientation_sampling(min(512, args.size), args.planes)
        result["timing"] = timing(args.size, args.planes)
        result["validation"] += isotropic_checks(result["timing"])
        print(f"\n{'family':22s} {'seconds':>8s} {'CPU s':>8s} {'peak RSS GB':>11s}")
        for r in result["timing"]["families"]:
            print(f"{r['family']:22s} {r['seconds']:8.1f} {r['cpu_seconds']:8.1f} "
                  f"{r['peak_rss_gb']:11.2f}")
        t = result["timing"]
        print(f"{'total (families)':22s} {t['metrics_seconds_total']:8.1f} "
              f"{t['metrics_cpu_seconds_total']:8.1f} {t['child_peak_rss_gb']:11.2f}  "
              "(targets 120 s, 4 GB)")
        print(f"orientation sampling vs full mesh: max |Δ| = "
              f"{result['orientation_sampling']['max_abs_difference']:.4f}")
        for v in result["validation"][-4:]:
            print(f"{v['phantom']:55s} {v['error']:12.2e} {v['tolerance']:10.3g} {v['pass']}")
    result["load_average_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(f"\nwrote {args.out}; load average {result['load_average_start']} -> "
          f"{result['load_average_end']}")
    return result


if __name__ == "__main__":
    main()
