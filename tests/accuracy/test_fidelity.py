"""Issue 13's accuracy targets through the whole workflow (benchmarks/fidelity.py).

Two slices of the fidelity benchmark run the real Snakefile:

- the ``--quick`` slice of the matrix at the small detector (40 x 112, ROI 68; the demo's
  72 x 160 detector takes ~45 s per scan to simulate at fine factor 4): the thin equatorial
  voids at 0.8 px blur and 20,000 flat counts, at 6 and 100 MPa, report seeds; truth on a
  grid 4x finer than the reconstruction, in the same rows and ROI as the crops;
- the independent phantom ``scan_158ab72297`` (another simulator: 96 x 256 x 256, 0.8 px blur,
  5,000 counts), truth ``layers.*.fine_grid``.

Each target of issue 13 is one test. The targets that today's estimators miss are marked
``xfail(strict=True)`` (``ISSUE_13``, with the error measured when the mark was set): a miss
that starts to pass fails the run, so the marks always say what is met today.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tomopress.synthetic.scoring import TARGETS, TREND_QUANTITIES

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "fidelity.py"
ISSUE_13 = pytest.mark.xfail(strict=True, reason="issue 13: missed by today's estimators")
INDEPENDENT_SCAN = "scan_158ab72297"


def _load_benchmark():
    name = "benchmark_fidelity"
    if name not in sys.modules:  # registered: dataclasses and worker processes look it up
        spec = importlib.util.spec_from_file_location(name, BENCHMARK)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


bench = _load_benchmark()
QUICK_CELLS = [c.cell_id for c in bench.matrix_cells(
    seed_set="report", morphologies=[bench.QUICK["morphology"]],
    blurs=[bench.QUICK["blur_sigma_px"]], i0s=[bench.QUICK["i0_counts"]],
    pressures=bench.PRESSURES_MPA, size="small", fine_factor=4)]

#: (scan, target) pairs that today's estimators meet. Measured 2026-12-04 (errors in points,
#: p6 / p100): separator porosity -0.32 / -0.36, AM -1.05 / -1.03 met; composite porosity
#: -2.8 / -3.4, SE +3.9 / +4.4, f_c +16 / +28, R -1.31 / -1.40 (truth 2.34 / 2.48), tau_factor
#: -14 % / -20 % missed: thin equatorial voids inside the blur of the AM edge.
_MATRIX_PASSING_TODAY = {(cell, target) for cell in QUICK_CELLS
                         for target in ("composite_volume_fraction_am", "separator_porosity")}
#: scan_158ab72297: porosity -0.54, separator +0.08, SE +0.88, AM -0.35, tau_factor -0.8 % met;
#: f_c +10.2 points and R -0.078 missed.
_INDEPENDENT_PASSING_TODAY = {"composite_porosity", "separator_porosity",
                              "composite_volume_fraction_se", "composite_volume_fraction_am",
                              "composite_tau_factor"}
_TRENDS_PASSING_TODAY = {"composite_porosity", "separator_porosity"}


def _id(cell: str) -> str:
    return cell.rsplit("_", 1)[-1]  # p6, p100


def _param(cell: str, target: str):
    passing = (cell, target) in _MATRIX_PASSING_TODAY
    return pytest.param(cell, target, marks=() if passing else ISSUE_13,
                        id=f"{_id(cell)}-{target}")


@pytest.fixture(scope="module")
def matrix_slice(tmp_path_factory):
    work = tmp_path_factory.mktemp("fidelity")
    out = work / "fidelity.json"
    result = bench.main(["--quick", "--size", "small", "--seed-set", "report",
                         "--work", str(work), "--out", str(out)])
    assert json.loads(out.read_text()) == result
    return result


@pytest.fixture(scope="module")
def independent(tmp_path_factory, shared_data):
    folder = shared_data / "independent_phantoms"
    if not (folder / f"{INDEPENDENT_SCAN}.h5").is_file():
        pytest.skip(f"{folder / INDEPENDENT_SCAN}.h5 is absent")
    work = tmp_path_factory.mktemp("fidelity_independent")
    result = bench.main(["--independent", "--scans", INDEPENDENT_SCAN, "--independent-dir",
                         str(folder), "--work", str(work), "--out", str(work / "ind.json")])
    (cell,) = result["cells"]
    return cell


def _cells(result):
    return {c["scan_id"]: c for c in result["cells"]}


# ------------------------------------------------------------------ the harness itself
def test_seed_sets_are_disjoint():
    """Parameters fitted on the fit seeds are reported on other microstructures and noise."""
    kw = {"morphologies": list(bench.MORPHOLOGIES), "blurs": bench.BLURS_PX,
          "i0s": bench.I0_COUNTS, "pressures": bench.PRESSURES_MPA, "size": "demo",
          "fine_factor": 4}
    seeds = {}
    for seed_set in ("fit", "report"):
        cells = bench.matrix_cells(seed_set=seed_set, **kw)
        seeds[seed_set] = ({c.microstructure_seed for c in cells}, {c.noise_seed for c in cells})
        assert len(seeds[seed_set][1]) == len(cells)  # one noise seed per scan
    for fit, report in zip(seeds["fit"], seeds["report"]):
        assert not fit & report
    assert not (seeds["report"][0] | seeds["fit"][0]) & (seeds["report"][1] | seeds["fit"][1])


def test_matrix_slice_crops_coincide_with_the_truth_region(matrix_slice):
    cells = _cells(matrix_slice)
    assert sorted(cells) == sorted(QUICK_CELLS)
    for cell in cells.values():
        assert cell["status"] == "ok", cell.get("failure")
        assert cell["fine_factor"] == 4 and cell["noise_seed"] % 2 == 1  # report seeds
        for layer in ("composite", "separator"):
            assert cell["labels"][layer]["crop_matches_truth_region"], cell["labels"][layer]
        # per-layer times come from the workflow's benchmark files
        assert cell["time"]["per_layer_s"]["composite"]["segment_plus_metrics_s"] > 0
    assert [t["pressures_mpa"] for t in matrix_slice["trends"]] == [[6.0, 100.0]]


# ------------------------------------------------------------------ matrix slice: targets
@pytest.mark.parametrize(("cell", "target"),
                         [_param(cell, t.name) for cell in QUICK_CELLS for t in TARGETS])
def test_matrix_slice_meets_the_issue_13_target(matrix_slice, cell, target):
    score = _cells(matrix_slice)[cell]["errors"][target]
    assert score["passed"], score


@pytest.mark.parametrize("quantity", [
    q if q in _TRENDS_PASSING_TODAY else pytest.param(q, marks=ISSUE_13)
    for q in TREND_QUANTITIES])
def test_matrix_slice_pressure_trend_keeps_sign_and_size(matrix_slice, quantity):
    (trend,) = matrix_slice["trends"]
    assert trend["quantities"][quantity]["passed"], trend["quantities"][quantity]


@pytest.mark.parametrize("cell", [QUICK_CELLS[0], pytest.param(QUICK_CELLS[1], marks=ISSUE_13)],
                         ids=_id)
def test_matrix_slice_composite_void_dice(matrix_slice, cell):
    """Issue 4's void Dice target (>= 0.85) against the true majority labels."""
    assert _cells(matrix_slice)[cell]["labels"]["composite"]["dice_void"] >= 0.85


@pytest.mark.parametrize("cell", QUICK_CELLS, ids=_id)
def test_matrix_slice_blur_reference_is_the_simulated_blur(matrix_slice, cell):
    """The crop's own blur, fitted against the truth, is the detector blur the scan was
    simulated with (0.8 px; the reconstruction adds little), and the recorded blur is scored
    against it."""
    rec = _cells(matrix_slice)[cell]
    blur = rec["blur"]
    assert blur["reference_px"] == pytest.approx(rec["acquisition"]["blur_sigma_px"], abs=0.1)
    assert blur["error_px"] == pytest.approx(blur["measured_px"] - blur["reference_px"])
    assert matrix_slice["summary"]["blur"]["n_scored"] == len(QUICK_CELLS)


@pytest.mark.parametrize("cell", QUICK_CELLS, ids=_id)
def test_matrix_slice_contact_note_warns_where_gaps_are_below_the_resolution(matrix_slice, cell):
    """The quick cells hold 0.6 µm voids at the particle equators (the simulator's
    ``equator_shell_um``) at 0.8 px blur: the contact probe must put them below the
    resolution, and f_c does read high there against the fine-grid truth."""
    rec = _cells(matrix_slice)[cell]
    shell = rec["morphology_params"]["equator_shell_um"]
    gap = rec["measured"]["composite"]["contact_gap_resolution_um"]
    assert gap is not None and gap > shell
    fc = rec["errors"]["composite_contact_area_fraction"]
    assert fc["error"] > fc["tolerance"]  # the f_c that the note explains does read high
    known = matrix_slice["summary"]["contact_probe"]["gaps_of_known_thickness"]
    assert known["n_gaps_below_resolution"] == known["n_cells"] == len(QUICK_CELLS)


# ------------------------------------------------------------------ independent phantom
def test_independent_phantom_runs_and_its_geometry_matches(independent):
    """The pipeline runs on the other simulator's scan and its AM lands on the true AM
    (issue 4's AM Dice target, >= 0.95): rows, ROI, centre and orientation agree."""
    assert independent["status"] == "ok", independent.get("failure")
    for layer in ("composite", "separator"):
        assert independent["labels"][layer]["crop_matches_truth_region"]
    assert independent["labels"]["composite"]["dice_am"] >= 0.95


@pytest.mark.parametrize("target", [
    t.name if t.name in _INDEPENDENT_PASSING_TODAY else pytest.param(t.name, marks=ISSUE_13)
    for t in TARGETS])
def test_independent_phantom_meets_the_issue_13_target(independent, target):
    score = independent["errors"][target]
    assert score["passed"], score
