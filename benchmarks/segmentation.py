"""Segmentation benchmark: naive multi-Otsu vs the refined method, and the memory of a full crop.

Accuracy: synthetic scans at the demo's settings (``SyntheticParams()``: 160 x 160 x 72
detector, 256 angles, demo noise, rings, zingers, dead column) at several pressures and seeds
(the i-th seed is the noise seed, with microstructure seed ``params.microstructure_seed + i``,
so each seed is a different cell) are simulated, flat-fielded, ring-filtered, reconstructed,
cropped by the automatic layer finder and segmented by each method. Scores against the truth in the same rows and ROI: per-class
Dice against the coarse majority labels, the largest volume-fraction error (points) and the
contact-area-fraction error (points; truth by Crofton on the fine labels).

Memory/time: a 1024 x 1024 x 100 composite crop, tiled (mirrored) from a reconstructed
phantom crop, goes through both steps of the workflow with its defaults in a child process:
the levels (rule ``segment_thresholds``, on a denoised sample) and the labelling (rule
``segment``); wall times, peak resident memory (ru_maxrss) and the load average are reported.

    .venv/bin/python benchmarks/segmentation.py [--pressures 6,100] [--seeds 7,11]
        [--size 1024 --planes 100] [--threads 2] [--skip-memory]
        [--out benchmarks/results/segmentation.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tomopress.metrics import contact_metrics, volume_fractions
from tomopress.prep.flatfield import average_frames, flatfield_correct
from tomopress.prep.rings import remove_rings
from tomopress.recon.reconstruct import reconstruct_slices
from tomopress.segment.crop import centred_roi, layer_rows_from_volume
from tomopress.segment.labelling import segment_volume
from tomopress.segment.stage import levels_from_crops
from tomopress.synthetic.beamtime import SyntheticParams, simulate_projections
from tomopress.synthetic.truth import coarsen_labels
from tomopress.types import AM, SE, VOID

#: (name, level method, labelling, denoiser)
METHODS = (
    ("naive multi-Otsu (median 3, thresholds)", "multiotsu", "thresholds", "median"),
    ("modes midway (median 3, thresholds)", "modes", "thresholds", "median"),
    ("refined: nl-means + partial-volume GMM + marker watershed + rim removal",
     "gmm", "watershed", "nl_means"),
)


def reconstructed_phantom(params: SyntheticParams, pressure_mpa: float, seed: int = 7) -> dict:
    scan = simulate_projections(params, pressure_mpa=pressure_mpa, seed=seed)
    sino, _ = flatfield_correct(scan.data, average_frames(scan.flats), average_frames(scan.darks),
                                zinger_threshold=0.3)
    sino = remove_rings(sino, method="sorting", size=5)
    vol = reconstruct_slices(sino, np.deg2rad(scan.theta_deg), center_px=params.center_px,
                             pixel_size_um=params.pixel_size_um, backend="gridding")
    roi = centred_roi(vol.shape[1:], params.roi_size_px)
    rows = layer_rows_from_volume(vol, roi, z_offset_rows=0,
                                  transition_rows=params.transition_rows)
    y0, y1, x0, x1 = roi
    crops = {k: vol[a:b, y0:y1, x0:x1] for k, (a, b) in rows["layers"].items()}
    z0, z1 = rows["layers"]["composite"]
    ff = params.fine_factor
    fine = scan.micro.labels[ff * z0:ff * z1, ff * y0:ff * y1, ff * x0:ff * x1]
    return {"crops": crops, "fine": fine, "coarse": coarsen_labels(fine, ff)[0]}


def segment_with(ph: dict, *, levels: str, labelling: str, denoiser: str) -> np.ndarray:
    comp, sep = ph["crops"]["composite"], ph["crops"]["separator"]
    lv, sigma = levels_from_crops(comp, sep, method=levels, void_level=0.0, denoiser=denoiser)
    mid = 0.5 * (lv.low + lv.high)
    means = lv.means if labelling == "watershed" else (2 * lv.low - mid, mid, 2 * lv.high - mid)
    return segment_volume(comp, means=means, method=labelling, denoiser=denoiser,
                          noise_sigma=sigma)


def scores(labels: np.ndarray, ph: dict, voxel_size_um: float, fine_factor: int) -> dict:
    coarse, fine = ph["coarse"], ph["fine"]
    out = {}
    for name, v in (("am", AM), ("se", SE), ("void", VOID)):
        a, b = labels == v, coarse == v
        out[f"dice_{name}"] = 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))
    got, true = volume_fractions(labels), volume_fractions(fine)
    out["max_fraction_error_points"] = 100 * max(
        abs(got[f"volume_fraction_{k}"] - true[f"volume_fraction_{k}"]) for k in ("void", "se", "am"))
    fc = contact_metrics(labels, voxel_size_um=voxel_size_um)["contact_area_fraction"]
    fc_true = contact_metrics(fine, voxel_size_um=voxel_size_um / fine_factor)["contact_area_fraction"]
    out["contact_fraction_error_points"] = 100 * (fc - fc_true)
    out["contact_fraction"] = fc
    out["contact_fraction_truth"] = fc_true
    return {k: float(v) for k, v in out.items()}


def _tiled(vol: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """`vol` mirrored (symmetric padding) out to `shape`, float32."""
    reps = [int(np.ceil(n / s)) for n, s in zip(shape, vol.shape)]
    big = np.pad(vol, [(0, (r - 1) * s) for r, s in zip(reps, vol.shape)], mode="symmetric")
    return np.ascontiguousarray(big[:shape[0], :shape[1], :shape[2]], dtype=np.float32)


def memory_child(size: int, planes: int, threads: int) -> None:
    """Runs in a fresh process: build the tiled crops, fit levels, segment, print JSON."""
    params = SyntheticParams()
    ph = reconstructed_phantom(params, 25.0)
    comp, sep = ph["crops"]["composite"], ph["crops"]["separator"]
    big = _tiled(comp, (planes, size, size))
    sep_big = _tiled(sep, (max(planes // 3, sep.shape[0]), size, size))
    del ph
    load_before = os.getloadavg()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    lv, sigma = levels_from_crops(big, sep_big, method="gmm", void_level=0.0)
    del sep_big
    t1 = time.perf_counter()
    labels = segment_volume(big, means=lv.means, noise_sigma=sigma, n_threads=threads)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"shape": list(big.shape), "seconds": t2 - t1,
                      "levels_seconds": t1 - t0, "threads": threads,
                      "peak_rss_gb": peak / 2**20, "rss_before_gb": base / 2**20,
                      "voxels_per_second": big.size / (t2 - t1),
                      "am_fraction": float(np.mean(labels == AM)),
                      "load_avg_before": load_before, "load_avg_after": os.getloadavg()}))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pressures", default="6,100")
    ap.add_argument("--seeds", default="7,11")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--planes", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="benchmarks/results/segmentation.json")
    args = ap.parse_args(argv)
    if args.memory_child:
        memory_child(args.size, args.planes, args.threads)
        return {}
    base = SyntheticParams()
    cases = []
    for i, seed in enumerate(int(v) for v in args.seeds.split(",")):
        params = dataclasses.replace(base, microstructure_seed=base.microstructure_seed + i)
        for p in (float(v) for v in args.pressures.split(",")):
            ph = reconstructed_phantom(params, p, seed=seed)
            for name, levels, labelling, denoiser in METHODS:
                t0 = time.perf_counter()
                labels = segment_with(ph, levels=levels, labelling=labelling, denoiser=denoiser)
                s = scores(labels, ph, params.pixel_size_um, params.fine_factor)
                cases.append({"method": name, "pressure_mpa": p, "seed": seed,
                              "microstructure_seed": params.microstructure_seed, **s,
                              "seconds": time.perf_counter() - t0,
                              "shape": list(labels.shape)})
    print(f"{'method':72s} {'MPa':>5s} {'seed':>4s} {'Dice AM':>8s} {'SE':>6s} {'void':>6s} "
          f"{'max dφ pts':>10s} {'d f_c pts':>9s}")
    for c in cases:
        print(f"{c['method']:72s} {c['pressure_mpa']:5.0f} {c['seed']:4d} {c['dice_am']:8.3f} "
              f"{c['dice_se']:6.3f} {c['dice_void']:6.3f} {c['max_fraction_error_points']:10.2f} "
              f"{c['contact_fraction_error_points']:+9.2f}")
    result: dict = {"cases": cases, "machine": {"cpu_count": os.cpu_count(),
                                                "processor": platform.processor(),
                                                "load_avg": os.getloadavg()}}
    if not args.skip_memory:
        cmd = [sys.executable, __file__, "--memory-child", "--size", str(args.size),
               "--planes", str(args.planes), "--threads", str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        mem = json.loads(out.stdout.strip().splitlines()[-1])
        result["memory"] = mem
        print(f"\nsegmenting {mem['shape']} (float32 in, uint8 out) with {mem['threads']} threads: "
              f"levels {mem['levels_seconds']:.1f} s, labels {mem['seconds']:.1f} s, "
              f"peak RSS {mem['peak_rss_gb']:.2f} GB, load {mem['load_avg_before']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
