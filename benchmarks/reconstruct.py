"""Speed and accuracy of slice reconstruction: tomopress gridding against its peers.

One analytic phantom (a smooth-edged modified Shepp-Logan, exact line integrals from
:mod:`tomopress.synthetic.phantoms2d`, so no discrete projector is involved) is turned into one
``n_angles`` x ``n_cols`` sinogram (angles uniform over [0, π), endpoint excluded, as a
1800-projection 180° scan).  Every method reconstructs the same sinogram in the same process
run; each result is converted to cm⁻¹ with the known pixel size and compared with the exact
pixel-averaged image of the phantom:

    rms_error = ||rec − truth||₂ / ||truth||₂   over the reconstruction disc,

the disc being the pixels within ``n_cols/2 − 2`` pixels of the rotation axis.  No scale or
offset is fitted: each peer's output unit is known (per pixel, with unit detector pixels) and
converted explicitly.

Rotation axis: detector column ``n_cols/2`` by default, i.e. ``(n−1)/2 + 0.5`` in tomopress's
0-based convention (`--axis-offset-px`).  That half-pixel offset is a genuine sub-pixel centre
for tomopress, algotom, astra and tomopy, and it is also the one axis that scikit-image
``iradon`` (which puts the axis on column ``n//2``) and astra's default geometry (axis on
``(n−1)/2``) represent exactly after zero-padding the detector by whole columns.  With an
offset that is not a multiple of 0.5, iradon and astra are skipped with a printed reason.

Peer conventions (checked at small size against the analytic phantom; none needs a flip):

- tomopress: image pixel ``j`` is centred at ``x = j − (n−1)/2`` from the axis; output cm⁻¹.
- algotom ``dfi_reconstruction``: assumes the sinogram rows span [0, π] *inclusive*, so it is
  given the 1800 rows plus the exact projection at θ = π (1801 rows); it pads an even detector
  to odd width and puts the axis on pixel ``n//2`` of its image (half-pixel grid offset, so its
  truth image is the phantom sampled on that grid); output per pixel.  ``filter_name=None``
  (plain ramp, as for every other method).
- algotom ``fbp_reconstruction(gpu=False)``: numba back-projector, image centre ``(n−1)/2``;
  it scales by π/(n_angles − 1), which is corrected to π/n_angles here.
- astra-toolbox ``FBP`` (CPU, ``linear`` projector, ``ram-lak``): detector zero-padded on the
  right by whole columns so that the axis is on its centre ``(n'−1)/2``; image centre on the
  axis; output per pixel.
- scikit-image ``iradon``: detector zero-padded so that the axis is on column ``n'//2``;
  output on ``n//2`` (half-pixel grid offset); output per pixel.
- tomopy ``gridrec`` (``ramlak``), when importable: centre passed as is; image centre ``n/2``.

Timing: wall-clock seconds per slice, the minimum over ``--repeats`` calls (CPU contention
only ever adds time).  tomopress is timed on a slab of 16 rows per call (the per-call setup
amortises, as in the workflow's slab jobs) and on a single row; the algotom methods, whose
chunk mode parallelises over rows, on a chunk of ``cpu_count`` rows; astra, iradon and tomopy on
one row, and the slow peers are run once (``--slow-repeats``).

Run: ``python benchmarks/reconstruct.py [--n-cols 2048 --n-angles 1800 --repeats 3
--out benchmarks/results/reconstruct.json]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from tomopress.recon.reconstruct import reconstruct_slices
from tomopress.synthetic import phantoms2d

PIXEL_SIZE_UM = 0.5  #: BL20XU detector pixel
MU_CM = 80.0  #: peak attenuation of the phantom (NCM at 20 keV), cm⁻¹
SMOOTHNESS = 2.0  #: (1 − q²)² ellipse profiles: continuous value and slope at the edges
SLAB_ROWS = 16  #: rows per tomopress call in the slab timing
METHODS = ("tomopress", "algotom_dfi", "algotom_fbp", "astra_fbp", "skimage_iradon",
           "tomopy_gridrec")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "reconstruct.json"


def _pixel_cm() -> float:
    return PIXEL_SIZE_UM * 1e-4


def make_phantom(n_cols: int) -> list[phantoms2d.Ellipse]:
    """Smooth-edged modified Shepp-Logan filling the detector, density per pixel (µ · pixel)."""
    return phantoms2d.shepp_logan(n_cols, value=MU_CM * _pixel_cm(), smoothness=SMOOTHNESS)


def _shifted(objects: list[phantoms2d.Ellipse], off_px: float) -> list[phantoms2d.Ellipse]:
    return [replace(e, center_x_px=e.center_x_px + off_px, center_y_px=e.center_y_px + off_px)
            for e in objects]


def truth_image(objects: list[phantoms2d.Ellipse], n_cols: int, grid_offset_px: float) -> np.ndarray:
    """Exact pixel-averaged image in cm⁻¹ on a grid whose axis sits at (n−1)/2 + offset."""
    sup = 4 if n_cols > 512 else 8
    img = phantoms2d.pixel_image(_shifted(objects, grid_offset_px), n_cols, supersample=sup)
    return img / _pixel_cm()


def disc_mask(n_cols: int, grid_offset_px: float) -> np.ndarray:
    """Reconstruction disc: pixels within n/2 − 2 of the rotation axis."""
    c = (n_cols - 1) / 2.0 + grid_offset_px
    yy, xx = np.mgrid[:n_cols, :n_cols]
    return (xx - c) ** 2 + (yy - c) ** 2 <= (n_cols / 2.0 - 2.0) ** 2


def _time_min(fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    best, out = np.inf, None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


# --------------------------------------------------------------------------- methods
# Each runner returns (seconds_per_slice, image_in_cm^-1 (n, n), grid_offset_px, notes).

def _run_tomopress(sino, angles, center, repeats, n_threads, slab_rows):
    rows = np.ascontiguousarray(np.repeat(sino[:, None, :], slab_rows, axis=1))

    def call(s):
        return reconstruct_slices(s, angles, center_px=center, pixel_size_um=PIXEL_SIZE_UM,
                                  filter_name="ramp", backend="gridding", n_threads=n_threads)

    t_slab, vol = _time_min(lambda: call(rows), repeats)
    t_one, one = _time_min(lambda: call(rows[:, :1]), repeats)
    return [
        ("tomopress_gridding", t_slab / slab_rows, vol[0], 0.0,
         f"{slab_rows} rows per call, n_threads={n_threads}, ramp filter"),
        ("tomopress_gridding_single_row", t_one, one[0], 0.0,
         f"1 row per call, n_threads={n_threads}, ramp filter"),
    ]


def _run_algotom_dfi(sino, angles, center, repeats, n_threads, objects):
    from algotom.rec.reconstruction import dfi_reconstruction

    n_cols = sino.shape[1]
    # DFI maps row i to θ = iπ/(rows − 1): append the exact projection at θ = π
    last = phantoms2d.sinogram(objects, np.array([np.pi]), n_cols=n_cols, center_px=center)
    full = np.vstack([sino, last.astype(np.float32)])
    chunk = np.ascontiguousarray(np.repeat(full[:, None, :], n_threads, axis=1))
    t, rec = _time_min(lambda: dfi_reconstruction(
        chunk, center, angles=None, ratio=None, filter_name=None, apply_log=False,
        ncore=n_threads), repeats)
    return [("algotom_dfi", t / n_threads, rec[:, 0, :] / _pixel_cm(), 0.5,
             f"chunk of {n_threads} rows, ncore={n_threads}, filter_name=None; "
             "given 1801 rows (θ = π appended); axis on image pixel n//2")]


def _run_algotom_fbp(sino, angles, center, repeats, n_threads):
    from algotom.rec.reconstruction import fbp_reconstruction

    n_angles = sino.shape[0]
    # numba JIT warm-up (cached on disk after the first run), not timed
    fbp_reconstruction(sino[:, :64], 31.5, angles=angles, ratio=None, filter_name=None,
                       apply_log=False, gpu=False, ncore=1)
    chunk = np.ascontiguousarray(np.repeat(sino[:, None, :], n_threads, axis=1))
    t, rec = _time_min(lambda: fbp_reconstruction(
        chunk, center, angles=angles, ratio=None, filter_name=None, apply_log=False,
        gpu=False, ncore=n_threads), repeats)
    scale = (n_angles - 1) / n_angles / _pixel_cm()  # its π/(N−1) weight -> π/N
    return [("algotom_fbp_cpu", t / n_threads, rec[:, 0, :] * scale, 0.0,
             f"chunk of {n_threads} rows, gpu=False, filter_name=None; "
             "scaled by (N−1)/N to undo its π/(N−1) weight")]


def _run_astra(sino, angles, center, repeats):
    import astra

    n_cols = sino.shape[1]
    # axis on the centre (n' − 1)/2 of a zero-padded detector: right pad = 2c − n + 1 columns
    extra = int(round(2 * center - n_cols + 1))
    if extra >= 0:
        padded = np.pad(sino, ((0, 0), (0, extra)))
    else:
        padded = np.pad(sino, ((0, 0), (-extra, 0)))
    proj_geom = astra.create_proj_geom("parallel", 1.0, padded.shape[1], angles)
    vol_geom = astra.create_vol_geom(n_cols, n_cols)

    def call():
        sid = astra.data2d.create("-sino", proj_geom, padded)
        rid = astra.data2d.create("-vol", vol_geom)
        pid = astra.create_projector("linear", proj_geom, vol_geom)
        cfg = astra.astra_dict("FBP")
        cfg.update(ProjectionDataId=sid, ReconstructionDataId=rid, ProjectorId=pid)
        cfg["FilterType"] = "ram-lak"
        aid = astra.algorithm.create(cfg)
        astra.algorithm.run(aid)
        rec = astra.data2d.get(rid)
        astra.algorithm.delete(aid)
        astra.data2d.delete([sid, rid])
        astra.projector.delete(pid)
        return rec

    t, rec = _time_min(call, repeats)
    return [("astra_fbp_cpu", t, rec / _pixel_cm(), 0.0,
             f"1 row, CPU 'FBP' with 'linear' projector, ram-lak; detector zero-padded by "
             f"{abs(extra)} column(s) to centre the axis")]


def _run_iradon(sino, angles, center, repeats):
    from skimage.transform import iradon

    n_cols = sino.shape[1]
    # axis on column n'//2 of a zero-padded detector
    right = int(round(2 * center)) - n_cols  # c = (n + right)//2 with c integer
    padded = np.pad(sino, ((0, 0), (0, right))) if right >= 0 else \
        np.pad(sino, ((0, 0), (-right, 0)))
    t, rec = _time_min(lambda: iradon(padded.T, theta=np.rad2deg(angles), output_size=n_cols,
                                      filter_name="ramp", interpolation="linear",
                                      circle=True), repeats)
    return [("skimage_iradon", t, rec / _pixel_cm(), 0.5,
             "1 row, ramp filter, linear interpolation; axis on detector and image pixel n//2")]


def _run_tomopy(sino, angles, center, repeats, n_threads):
    import tomopy

    t, rec = _time_min(lambda: tomopy.recon(
        sino[:, None, :], angles.astype(np.float32), center=np.float32(center),
        algorithm="gridrec", filter_name="ramlak", sinogram_order=False, ncore=n_threads),
        repeats)
    return [("tomopy_gridrec", t, rec[0] / _pixel_cm(), 0.5,
             f"1 row, ncore={n_threads}, ramlak; image centre n/2")]


# --------------------------------------------------------------------------- driver

def run_benchmark(*, n_cols: int, n_angles: int, repeats: int, slow_repeats: int,
                  axis_offset_px: float, methods: tuple[str, ...],
                  n_threads: int | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """Run every requested method on one sinogram.

    Returns the JSON-ready result and the (method, reason) pairs of the skipped methods.
    """
    n_threads = n_threads or os.cpu_count() or 1
    center = (n_cols - 1) / 2.0 + axis_offset_px
    angles = np.linspace(0.0, np.pi, n_angles, endpoint=False)
    objects = make_phantom(n_cols)
    sino = phantoms2d.sinogram(objects, angles, n_cols=n_cols, center_px=center).astype(np.float32)
    half_integer = abs(2 * axis_offset_px - round(2 * axis_offset_px)) < 1e-9

    truths: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    cases, skipped = [], []
    for method in methods:
        reason = None
        if method.startswith("algotom") and not _importable("algotom"):
            reason = "algotom is not installed (pip install algotom)"
        elif method == "astra_fbp" and not _importable("astra"):
            reason = "astra-toolbox is not installed (pip install astra-toolbox)"
        elif method == "tomopy_gridrec" and not _importable("tomopy"):
            reason = "tomopy is not importable (conda-forge only: conda install -c conda-forge tomopy)"
        elif method in ("astra_fbp", "skimage_iradon") and not half_integer:
            reason = f"axis offset {axis_offset_px} px is not a multiple of 0.5 px"
        if reason:
            skipped.append((method, reason))
            print(f"skipping {method}: {reason}", flush=True)
            continue
        print(f"running {method} ...", flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "tomopress":
                results = _run_tomopress(sino, angles, center, repeats, n_threads, SLAB_ROWS)
            elif method == "algotom_dfi":
                results = _run_algotom_dfi(sino, angles, center, repeats, n_threads, objects)
            elif method == "algotom_fbp":
                results = _run_algotom_fbp(sino, angles, center, repeats, n_threads)
            elif method == "astra_fbp":
                results = _run_astra(sino, angles, center, slow_repeats)
            elif method == "skimage_iradon":
                results = _run_iradon(sino, angles, center, slow_repeats)
            elif method == "tomopy_gridrec":
                results = _run_tomopy(sino, angles, center, repeats, n_threads)
            else:
                raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
        for name, seconds, image, grid_off, notes in results:
            if grid_off not in truths:
                truths[grid_off] = (truth_image(objects, n_cols, grid_off),
                                    disc_mask(n_cols, grid_off))
            truth, mask = truths[grid_off]
            diff = (np.asarray(image, np.float64) - truth)[mask]
            rms = float(np.linalg.norm(diff) / np.linalg.norm(truth[mask]))
            cases.append({"method": name, "seconds_per_slice": float(seconds),
                          "rms_error": rms, "n_angles": int(n_angles), "n_columns": int(n_cols),
                          "notes": notes})
            print(f"  {name}: {seconds:.3f} s/slice, rms {rms:.3e}", flush=True)
    return {"cpu_count": os.cpu_count(), "cases": cases}, skipped


def format_table(result: dict) -> str:
    """Plain-text table, with speed-up of tomopress's slab timing over each method."""
    ref = next((c for c in result["cases"] if c["method"] == "tomopress_gridding"), None)
    lines = [f"{'method':32s} {'s/slice':>9s} {'rms':>9s} {'tomopress x faster':>19s}",
             "-" * 72]
    for c in result["cases"]:
        ratio = (f"{c['seconds_per_slice'] / ref['seconds_per_slice']:.1f}" if ref else "-")
        lines.append(f"{c['method']:32s} {c['seconds_per_slice']:9.3f} {c['rms_error']:9.2e} "
                     f"{ratio:>19s}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; returns the result written to ``--out``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-cols", type=int, default=2048)
    p.add_argument("--n-angles", type=int, default=1800)
    p.add_argument("--repeats", type=int, default=3, help="timed calls of the fast methods")
    p.add_argument("--slow-repeats", type=int, default=1, help="timed calls of astra and iradon")
    p.add_argument("--axis-offset-px", type=float, default=0.5,
                   help="rotation axis = (n_cols − 1)/2 + this, in detector columns")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated subset of {','.join(METHODS)}")
    p.add_argument("--n-threads", type=int, default=None, help="default: all cores")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    unknown = set(methods) - set(METHODS)
    if unknown:
        p.error(f"unknown methods {sorted(unknown)}; choose from {', '.join(METHODS)}")
    result, skipped = run_benchmark(n_cols=args.n_cols, n_angles=args.n_angles,
                                    repeats=args.repeats, slow_repeats=args.slow_repeats,
                                    axis_offset_px=args.axis_offset_px, methods=methods,
                                    n_threads=args.n_threads)
    print(f"\n{args.n_angles} angles x {args.n_cols} columns, axis at column "
          f"{(args.n_cols - 1) / 2 + args.axis_offset_px}, cpu_count={result['cpu_count']}")
    print(format_table(result))
    for method, reason in skipped:
        print(f"skipped {method}: {reason}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
