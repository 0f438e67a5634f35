"""Realistic-cell benchmark (issue 14): what padding, phase retrieval and layer finding do to the
metrics on scans with rods, an anode foil, a housing tube, truncation and phase contrast.

Each raw scan goes through the workflow's own library steps (the functions the rules call):
flat field with the config's rings and zingers (and Paganin when asked), centre (Vo), slab
reconstruction, volume, layer finding (``tomopress.segment.layers``, unaided) and the centred
x-y ROI, then the levels and labels of the segment stage and the hard-label metrics. Scans:
our realistic cell (``SyntheticParams(realistic_cell=True)``, several pressures and
microstructure seeds) and, validate only, the independent realistic cell
``../shared/data/independent_phantoms/scan_b3f1179757.h5`` (3 mm propagation; never tuned on).

Truth, in the rows the finder chose and the centred ROI. Ours: the fine labels (rebuilt from
their seed), fractions and f_c by Crofton at the fine voxel size. Independent: its 0.5 µm
majority labels (f_c there is 2-3 points above the physical value, says its README); the
truth file's fine-grid whole-layer values are recorded beside.

    .venv/bin/python benchmarks/realistic_cell.py [--pressures 6,100] [--seeds 0,1]
        [--variants none,paganin_se,paganin_am,paganin_am_in_se] [--independent]
        [--padding smooth|edge|zero] [--no-ours]
        [--out benchmarks/results/realistic_cell.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tomopress.io.h5store import read_array_h5
from tomopress.metrics import contact_metrics, volume_fractions
from tomopress.prep.center import center_file
from tomopress.prep.flatfield import flatfield_slab_file
from tomopress.recon.reconstruct import reconstruct_slab_file
from tomopress.recon.volume import gather_slabs, open_volume
from tomopress.segment.crop import centred_roi
from tomopress.segment.labelling import segment_volume
from tomopress.segment.stage import levels_from_crops
from tomopress.synthetic.beamtime import SyntheticParams, simulate_scan

ROOT = Path(__file__).resolve().parents[1]
INDEPENDENT = ROOT.parent / "shared" / "data" / "independent_phantoms" / "scan_b3f1179757.h5"
MATERIALS = {"se": {"formula": "Li10GeP2S12", "density_g_cm3": 2.04},
             "am": {"formula": "LiNi0.333Mn0.333Co0.333O2", "density_g_cm3": 4.7}}
VARIANTS = {
    "none": {"method": "none"},
    "paganin_se": {"method": "paganin", "material": "se"},
    "paganin_am": {"method": "paganin", "material": "am"},
    "paganin_am_in_se": {"method": "paganin", "material": "am_in_se"},
}
#: the realistic cell at the demo's scale (issue 14): 100 rows (rod 6, foil 8, separator 28,
#: composite 50, gap 2, rod 6), 160 columns, 5 mm propagation
CELL = SyntheticParams(realistic_cell=True, n_rows=100, separator_rows=28)


def phase_settings(variant: str, distance_mm: float | None = None) -> dict[str, Any]:
    """The config's phase block; `distance_mm` for files that do not record it."""
    return {"delta_over_beta": None, "energy_kev": 20.0, "propagation_distance_mm": distance_mm,
            "materials": MATERIALS, **VARIANTS[variant]}


def reconstruct_raw(raw: str, work: Path, *, variant: str, ring_size: int,
                    padding: str = "smooth", center_px: float | None = None,
                    distance_mm: float | None = None) -> tuple[str, dict]:
    """Flat field (one slab), centre, reconstruct, volume: the rules' library calls."""
    from tomopress.io import open_scan

    with open_scan(raw, "auto") as scan:
        n_rows = scan.detector_shape[0]
    ff, centre, rec, vol = (str(work / f"{variant}_{n}.h5") for n in ("ff", "c", "rec", "vol"))
    centre = str(work / f"{variant}_center.json")
    t0 = time.perf_counter()
    flatfield_slab_file(raw, ff, format="auto", reader_options={}, rows=(0, n_rows),
                        average="mean", min_transmission=1e-4, pixel_size_um=None,
                        zinger_threshold=0.3, ring_method="sorting", ring_size=ring_size,
                        n_threads=2, phase=phase_settings(variant, distance_mm))
    center_file(raw, centre, format="auto", reader_options={}, rows=(0, n_rows), n_rows=8,
                average="mean", min_transmission=1e-4, override_px=center_px)
    reconstruct_slab_file(ff, centre, rec, backend="gridding", filter_name="ramp", n_threads=2,
                          padding=padding)
    gather_slabs([rec], vol)
    _, attrs = read_array_h5(ff, "sinogram")
    return vol, {"seconds_to_volume": time.perf_counter() - t0,
                 "center_px": json.loads(Path(centre).read_text())["center_px"],
                 "phase": json.loads(attrs["phase_retrieval"])}


def layer_rows(vol_path: str, roi_size_px: int, transition_rows: int) -> dict:
    from tomopress.segment.layers import find_layers

    with open_volume(vol_path) as fh:
        volume = fh["volume"][()]
        z0 = int(fh.attrs["z_offset_rows"])
    return find_layers(volume, z_offset_rows=z0, transition_rows=transition_rows,
                       roi_size_px=roi_size_px)


def measure(vol_path: str, layers: dict[str, tuple[int, int]], roi_size_px: int,
            voxel_size_um: float) -> dict[str, float]:
    with open_volume(vol_path) as fh:
        volume = fh["volume"][()]
    y0, y1, x0, x1 = centred_roi(volume.shape[1:], roi_size_px)
    crops = {k: volume[a:b, y0:y1, x0:x1] for k, (a, b) in layers.items()}
    lv, sigma = levels_from_crops(crops["composite"], crops["separator"], method="gmm",
                                  void_level=0.0)
    out: dict[str, float] = {}
    for name, crop in crops.items():
        labels = segment_volume(crop, means=lv.means, noise_sigma=sigma)
        vf = volume_fractions(labels)
        out[f"{name}_porosity"] = float(vf["volume_fraction_void"])
        if name == "composite":
            out["composite_se"] = float(vf["volume_fraction_se"])
            out["composite_am"] = float(vf["volume_fraction_am"])
            out["composite_fc"] = float(contact_metrics(labels, voxel_size_um=voxel_size_um)
                                        ["contact_area_fraction"])
    out["levels_per_cm"] = [float(v) for v in lv.means]
    return out


def ours_truth(params: SyntheticParams, pressure_mpa: float,
               layers: dict[str, tuple[int, int]], roi_size_px: int) -> dict[str, float]:
    """Fine-grid truth of our cell in the chosen rows and centred ROI: the stack's fine labels
    are rebuilt (seeded) and cut like the crop; f_c by Crofton at the fine voxel size."""
    from tomopress.synthetic.cell import cell_geometry, stack_params
    from tomopress.synthetic.microstructure import build_microstructure

    sp = stack_params(params)
    micro = build_microstructure(sp, pressure_mpa)
    geo = cell_geometry(params)
    ff = params.fine_factor
    cut = (geo.object_cols - params.n_cols) // 2
    y0, y1, x0, x1 = (cut + v for v in centred_roi((params.n_cols, params.n_cols), roi_size_px))
    out: dict[str, float] = {}
    for name, (a, b) in layers.items():
        a, b = a - geo.stack_rows[0], b - geo.stack_rows[0]
        fine = micro.labels[ff * a:ff * b, ff * y0:ff * y1, ff * x0:ff * x1]
        vf = volume_fractions(fine)
        out[f"{name}_porosity"] = float(vf["volume_fraction_void"])
        if name == "composite":
            out["composite_se"] = float(vf["volume_fraction_se"])
            out["composite_am"] = float(vf["volume_fraction_am"])
            out["composite_fc"] = float(contact_metrics(fine, voxel_size_um=params.pixel_size_um
                                                        / ff)["contact_area_fraction"])
    return out


def independent_truth(path: Path, layers: dict[str, tuple[int, int]],
                      roi_size_px: int) -> dict[str, Any]:
    """The independent scan's truth in the crops: fractions and f_c of its 0.5 µm majority
    labels in the chosen rows and centred ROI (the truth file's fine-grid values of the whole
    layer are given beside: they include the sparse rows at the layer ends)."""
    import h5py

    t = json.loads(path.with_name(path.name.replace(".h5", ".truth.json")).read_text())
    with h5py.File(path.with_name(path.name.replace(".h5", ".labels.h5")), "r") as fh:
        labels = fh["labels"][()]
    y0, y1, x0, x1 = centred_roi(labels.shape[1:], roi_size_px)
    out: dict[str, Any] = {}
    for name, (a, b) in layers.items():
        crop = labels[a:b, y0:y1, x0:x1]
        vf = volume_fractions(crop)
        out[f"{name}_porosity"] = float(vf["volume_fraction_void"])
        if name == "composite":
            out["composite_se"] = float(vf["volume_fraction_se"])
            out["composite_am"] = float(vf["volume_fraction_am"])
            out["composite_fc"] = float(contact_metrics(crop, voxel_size_um=0.5)
                                        ["contact_area_fraction"])
    c, s = t["layers"]["composite"]["fine_grid"], t["layers"]["separator"]["fine_grid"]
    out["whole_layer_fine_grid"] = {
        "composite_porosity": c["porosity"], "composite_se": c["volume_fractions"]["SE"],
        "composite_am": c["volume_fractions"]["AM"], "separator_porosity": s["porosity"],
        "composite_fc": c["contact_fraction_fc"]}
    out["true_rows"] = {k: t["layers"][k]["z_range"] for k in ("composite", "separator")}
    return out


def run_case(raw: str, truth: dict | None, *, variants: list[str], roi_size_px: int,
             ring_size: int, transition_rows: int, work: Path, label: str,
             params: SyntheticParams | None = None, padding: str = "smooth") -> list[dict]:
    # our cell: the sheet's centre (Vo's confidence is ~0.1 on its truncated, strongly
    # phase-contrasted projections); the independent scan: found by Vo, unaided
    center_px = truth["center_px"] if truth is not None else None
    rows = []
    for variant in variants:
        # the independent scan records no distance: its README's 3 mm, as a user's config
        vol, info = reconstruct_raw(raw, work, variant=variant, ring_size=ring_size,
                                    center_px=center_px, padding=padding,
                                    distance_mm=3.0 if truth is None else None)
        try:
            found = layer_rows(vol, roi_size_px, transition_rows)
            found["layers_from"] = "z_bands"
        except ValueError as exc:  # measure anyway, in the truth's rows
            if truth is None:
                raise
            found = {"layers": {k: truth["layers"][k]["z_range_rows"]
                                for k in ("composite", "separator")},
                     "layers_from": f"truth (finder: {str(exc)[:120]})"}
        layers = {k: tuple(v) for k, v in found["layers"].items()}
        got = measure(vol, layers, roi_size_px, 0.5)
        ref = (ours_truth(params, truth["pressure_mpa"], layers, roi_size_px)
               if truth is not None else independent_truth(Path(raw), layers, roi_size_px))
        err = {f"err_{k}_points": 100 * (got[k] - ref[k]) for k in
               ("composite_porosity", "separator_porosity", "composite_se", "composite_am",
                "composite_fc")}
        row = {"scan": label, "variant": variant, "padding": padding, "layers": found["layers"],
               "layers_from": found["layers_from"],
               "bands": found.get("bands"), **info, **got,
               **{f"truth_{k}": v for k, v in ref.items()}, **err}
        rows.append(row)
        print(f"{label:28s} {variant:18s} rows C{layers['composite']} S{layers['separator']} "
              + " ".join(f"{k[4:-7]} {v:+6.2f}" for k, v in err.items()), flush=True)
    return rows


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pressures", default="6,100")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--independent", action="store_true")
    ap.add_argument("--no-ours", action="store_true")
    ap.add_argument("--padding", default="smooth", choices=("smooth", "edge", "zero"))
    ap.add_argument("--out", default="benchmarks/results/realistic_cell.json")
    args = ap.parse_args(argv)
    variants = args.variants.split(",")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.no_ours:
            for seed in (int(v) for v in args.seeds.split(",")):
                params = dataclasses.replace(CELL, microstructure_seed=CELL.microstructure_seed
                                             + 1000 + seed)
                for p in (float(v) for v in args.pressures.split(",")):
                    raw = work / f"cell_s{seed}_{p:g}.h5"
                    truth = simulate_scan(raw, pressure_mpa=p, params=params, seed=100 + seed)
                    rows += run_case(str(raw), truth, variants=variants, roi_size_px=96,
                                     ring_size=5, transition_rows=4, work=work,
                                     label=f"ours seed {seed} {p:g} MPa", params=params,
                                     padding=args.padding)
        if args.independent and INDEPENDENT.exists():
            rows += run_case(str(INDEPENDENT), None, variants=variants, roi_size_px=144,
                             ring_size=9, transition_rows=2, work=work,
                             label="independent b3f1179757", padding=args.padding)
    summary: dict[str, Any] = {}
    for variant in variants:
        sel = [r for r in rows if r["variant"] == variant and r["scan"].startswith("ours")]
        if sel:
            summary[variant] = {k: float(np.mean([abs(r[k]) for r in sel]))
                                for k in sel[0] if k.startswith("err_")}
    result = {"cases": rows, "mean_abs_error_points_ours": summary}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str) + "\n")
    return result


if __name__ == "__main__":
    main()
