"""Accuracy of the impedance fit on synthetic spectra with known parameters and 1 % noise.

The default circuit R0-p(R1,CPE1)-p(R2,CPE2)-Wo1 is evaluated in closed form
(`tomopress.synthetic.echem.default_circuit_impedance`, independent of impedance.py), Gaussian
noise of 1 % of |Z| is added to the real and to the imaginary part, and the spectrum is fitted
by `tomopress.echem.fit.fit_circuit` (impedance.py, 1/|Z| weights, automatic initial guess).
Over `--seeds` noise draws the script reports, per parameter: truth, the fit of seed 0, its
error, the RMS and largest error over the seeds, the mean 1-sigma impedance.py reports, and
impedance.py's own ``conf_``, and the share of seeds within the issue-15 targets (R 2 %,
CPE 5 %); the same for the derived
R_SE = R0 + R1, R_ct and C_dl (Hsu-Mansfeld capacitance of CPE2).

    python benchmarks/echem_fit_accuracy.py [--seeds 50] [--points-per-decade 20]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from tomopress.echem.derived import eis_quantities
from tomopress.echem.fit import fit_circuit
from tomopress.synthetic.echem import DEFAULT_CIRCUIT, default_circuit_impedance, noisy

OUT = Path(__file__).parent / "results" / "echem_fit_accuracy.json"


def truth_params() -> dict[str, float]:
    """A well-resolved spectrum: GB arc at 30 kHz, charge-transfer arc at 30 Hz, Wo tail."""
    r1, f1, n1, r2, f2, n2 = 200.0, 3e4, 0.9, 800.0, 30.0, 0.85
    return {"R0": 100.0, "R1": r1, "CPE1_0": 1 / (r1 * (2 * np.pi * f1) ** n1), "CPE1_1": n1,
            "R2": r2, "CPE2_0": 1 / (r2 * (2 * np.pi * f2) ** n2), "CPE2_1": n2,
            "Wo1_0": 300.0, "Wo1_1": 10.0}


def frequencies(points_per_decade: int) -> np.ndarray:
    decades = np.log10(7e6 / 1e-2)
    return np.logspace(np.log10(7e6), -2, int(round(decades * points_per_decade)) + 1)


def target(name: str) -> float:
    return 0.02 if name.startswith("R") or name.startswith("r_") else 0.05


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--points-per-decade", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    truth = truth_params()
    freq = frequencies(args.points_per_decade)
    z0 = default_circuit_impedance(freq, truth)
    r_ct, q, n = truth["R2"], truth["CPE2_0"], truth["CPE2_1"]
    derived_truth = {"r_se_ohm": truth["R0"] + truth["R1"], "r_ct_ohm": r_ct,
                     "c_dl_uf": 1e6 * q ** (1 / n) * r_ct ** ((1 - n) / n)}
    names = list(truth) + list(derived_truth)
    errors, sigmas, seconds = {k: [] for k in names}, {k: [] for k in names}, []
    confs: dict[str, list[float]] = {k: [] for k in truth}
    for seed in range(args.seeds):
        z = noisy(z0, args.noise, np.random.default_rng(seed))
        start = time.perf_counter()
        fit = fit_circuit(freq, z, circuit=DEFAULT_CIRCUIT)
        seconds.append(time.perf_counter() - start)
        derived = eis_quantities(fit, r_se_elements=["R0", "R1"], r_ct_element="R2",
                                 c_dl_element="CPE2")
        for k in truth:
            errors[k].append(fit.value(k) / truth[k] - 1)
            sigmas[k].append(float(fit.std[fit.names.index(k)]) / truth[k])
            confs[k].append(float(fit.conf[fit.names.index(k)]) / truth[k])
        for k, v in derived_truth.items():
            errors[k].append(derived[k] / v - 1)
            sigmas[k].append(derived[f"{k}_uncertainty"] / v)
    table = []
    for k in names:
        e = np.asarray(errors[k])
        value = {**truth, **derived_truth}[k]
        table.append({
            "parameter": k, "truth": value, "fitted_seed0": value * (1 + e[0]),
            "error_seed0_pct": 100 * e[0], "rms_error_pct": 100 * float(np.sqrt(np.mean(e**2))),
            "max_abs_error_pct": 100 * float(np.max(np.abs(e))),
            "mean_reported_sigma_pct": 100 * float(np.mean(sigmas[k])),
            "mean_impedance_py_conf_pct": (100 * float(np.mean(confs[k])) if k in confs
                                           else None),
            "target_pct": 100 * target(k),
            "share_within_target": float(np.mean(np.abs(e) <= target(k))),
        })
    result = {"circuit": DEFAULT_CIRCUIT, "n_points": int(freq.size), "noise_rel": args.noise,
              "seeds": args.seeds, "seconds_per_fit_mean": float(np.mean(seconds)),
              "parameters": table}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for row in table:
        print(f"{row['parameter']:>10} truth {row['truth']:.4g} fit0 {row['fitted_seed0']:.4g} "
              f"err0 {row['error_seed0_pct']:+.2f} % rms {row['rms_error_pct']:.2f} % max "
              f"{row['max_abs_error_pct']:.2f} % sigma {row['mean_reported_sigma_pct']:.2f} % "
              f"(conf_ {row['mean_impedance_py_conf_pct'] or float('nan'):.2f} %) "
              f"within {row['target_pct']:.0f} %: {100 * row['share_within_target']:.0f} %")
    return result


if __name__ == "__main__":
    main()
