"""One layer's record: the replica's shifts and how they enter the uncertainties."""

import json

import numpy as np
import pytest

from tomopress.io.h5store import write_array_h5
from tomopress.metrics.anisotropy import directional_contact_fractions
from tomopress.metrics.contact import contact_metrics
from tomopress.metrics.diffusion import tortuosity_factor
from tomopress.metrics.layer import layer_metrics_file, replica_shifts
from tomopress.segment.replica import fbp_noise, render_labels
from tomopress.segment.stage import segment_layer_file, thresholds_file
from tomopress.types import AM, SE, VOID

LEVELS = (0.0, 21.0, 80.0)


def _structure(seed: int, shape=(24, 48, 48)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(shape)
    lab = np.full(shape, SE, np.uint8)
    for phase, n, (r0, r1) in ((VOID, 50, (1.5, 3.0)), (AM, 18, (4.0, 7.0))):
        for _ in range(n):
            c, r = rng.uniform(0, shape), rng.uniform(r0, r1)
            lab[(z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= r * r] = phase
    return lab


def test_replica_shifts_are_the_differences_of_the_peer_functions():
    """Shifts of fractions, contact, anisotropy and the tortuosity factor equal the differences
    (τ_f: the ratio minus one) of the metric functions called on each volume on their own."""
    labels = _structure(1)
    other = labels.copy()
    z, y, x = np.indices(labels.shape)
    other[((z - 12) ** 2 + (y - 24) ** 2 + (x - 24) ** 2 <= 25) & (other == SE)] = VOID
    got = replica_shifts(labels, other, voxel_size_um=0.5)
    n = labels.size
    assert got["volume_fraction_void"] == pytest.approx(
        (np.count_nonzero(other == VOID) - np.count_nonzero(labels == VOID)) / n)
    assert got["volume_fraction_void"] > 0
    fc = [contact_metrics(v, voxel_size_um=0.5)["contact_area_fraction"] for v in (labels, other)]
    assert got["contact_area_fraction"] == pytest.approx(fc[1] - fc[0])
    r = [directional_contact_fractions(v)["contact_anisotropy_R"] for v in (labels, other)]
    assert got["contact_anisotropy_R"] == pytest.approx(r[1] - r[0])
    tau = [tortuosity_factor(v)["tau_factor"] for v in (labels, other)]
    assert got["tau_factor"] == pytest.approx(tau[1] / tau[0] - 1, rel=1e-6)
    assert got["tau_factor"] > 0  # a void ball in the SE path lengthens it


def test_layer_record_adds_the_replica_shift_to_each_uncertainty(tmp_path):
    """With the thresholds and the labelling options the record carries the replica's shifts,
    and each uncertainty is the one without the replica and the shift in quadrature."""
    rng = np.random.default_rng(4)
    truth = _structure(2)
    grey = render_labels(truth, LEVELS, 0.9) + fbp_noise(truth.shape, 5.0, rng)
    sep = render_labels(np.full((6, 48, 48), SE, np.uint8), LEVELS, 0.0) + fbp_noise(
        (6, 48, 48), 5.0, rng)
    attrs = {"voxel_size_um": 0.5, "units": "1/cm", "layer": "composite", "z_rows": [0, 24],
             "roi_xy": [0, 48, 0, 48]}
    write_array_h5(tmp_path / "c.h5", {"volume": grey.astype(np.float32)}, attrs=attrs)
    write_array_h5(tmp_path / "s.h5", {"volume": sep.astype(np.float32)},
                   attrs={**attrs, "layer": "separator"})
    thresholds_file(str(tmp_path / "c.h5"), str(tmp_path / "s.h5"), str(tmp_path / "t.json"),
                    method="gmm", void_level=0.0, denoiser="nl_means")
    segment_layer_file(str(tmp_path / "c.h5"), str(tmp_path / "t.json"), str(tmp_path / "l.h5"))
    calibration = {"levels_per_cm": dict(zip(("void", "se", "am"), LEVELS)),
                   "uncertainty_per_cm": {"void": 0.0, "se": 0.1, "am": 0.4},
                   "reference": "theory", "blur_sigma_px": 0.9}
    (tmp_path / "cal.json").write_text(json.dumps(calibration))
    common = {"scan_id": "s1", "sample": "cell", "pressure_mpa": 10.0,
              "crop_path": str(tmp_path / "c.h5"), "calibration_path": str(tmp_path / "cal.json"),
              "orientation": False}
    plain = layer_metrics_file(str(tmp_path / "l.h5"), str(tmp_path / "a.json"), **common)
    rec = layer_metrics_file(str(tmp_path / "l.h5"), str(tmp_path / "b.json"), **common,
                             thresholds_path=str(tmp_path / "t.json"),
                             segment_options={"labelling": "watershed"})
    assert "tau_factor_uncertainty" not in plain and "replica_shift_tau_factor" not in plain
    assert rec["replica_window_voxels"] == truth.size
    for key in ("contact_area_fraction", "contact_anisotropy_R"):
        assert rec[f"{key}_uncertainty"] == pytest.approx(
            np.hypot(plain[f"{key}_uncertainty"], rec[f"replica_shift_{key}"])), key
    assert rec["tau_factor_uncertainty"] == pytest.approx(
        abs(rec["tau_factor"] * rec["replica_shift_tau_factor"]))  # solved whole: no tile error
    assert rec["volume_fraction_am_uncertainty"] == pytest.approx(
        np.hypot(plain["volume_fraction_am_uncertainty"], rec["replica_shift_volume_fraction_am"]))
    assert rec["tau_factor"] == plain["tau_factor"] and rec["porosity"] == plain["porosity"]
