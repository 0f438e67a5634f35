"""Equivalent-circuit fits of impedance spectra with impedance.py, and its Kramers-Kronig test.

The circuit is an impedance.py string (``R0-p(R1,CPE1)-p(R2,CPE2)-Wo1``: ``-`` in series,
``p(a,b)`` in parallel), and parameters carry impedance.py's names (``R0``, ``CPE1_0``,
``CPE1_1``, ``Wo1_0``, ``Wo1_1``). The fit is impedance.py's ``CustomCircuit.fit`` (scipy
``curve_fit``, bounds >= 0, CPE exponents <= 1), weighted by |Z| by default (the standard
choice when the measurement variance is unknown). The parameter covariance, needed for sums
such as R_SE = R0 + R1 and for derived quantities, is computed here from the same weighted
residuals with a central-difference Jacobian; its diagonal gives the reported 1-sigma errors.
impedance.py's own ``conf_`` (scipy's forward-difference Jacobian) is kept beside them: it
agrees for the resistances but comes out up to 1.5x smaller for a CPE's correlated Q and n,
where the scatter of repeated fits agrees with the covariance here
(benchmarks/echem_fit_accuracy.py).

When no initial guess is given it is estimated from the spectrum: the high-frequency
intercept for the series resistor, the apex frequency and height of each arc of -Z'' for every
parallel group (in circuit order, highest frequency first), and the low-frequency tail for a
Warburg element.

Kramers-Kronig: impedance.py's ``linKK`` (Schönleber et al. 2014, Electrochim. Acta 131, 20,
DOI 10.1016/j.electacta.2014.01.034); the spectrum passes when the RMS of its relative
residuals is at most a threshold (2 % by default, about twice a 1 % measurement noise).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tomopress.types import F64Array

__all__ = [
    "CircuitFit",
    "circuit_param_names",
    "circuit_problems",
    "estimate_initial_guess",
    "fit_circuit",
    "kramers_kronig",
    "predict_impedance",
]

log = logging.getLogger(__name__)

C128Array = npt.NDArray[np.complex128]
#: circuit elements whose initial guess is estimated from the spectrum
GUESSABLE = ("R", "C", "CPE", "W", "Wo", "Ws", "L")
#: regularisation of the relaxation-time distribution for the first and the later starts
_SMOOTHINGS = (0.3, 1.0, 3.0, 0.1)
#: a fit whose residual exceeds this many times the lin-KK residual (the noise) is restarted
_RESTART_FACTOR = 1.3


@dataclasses.dataclass(frozen=True)
class CircuitFit:
    """Fitted parameters of an equivalent circuit.

    Attributes
    ----------
    circuit : str
        impedance.py circuit string.
    names, units : tuple of str
        Parameter names (impedance.py's, e.g. ``CPE1_0``) and units.
    values, std : ndarray of float64, shape (P,)
        Fitted values and their 1-sigma errors (square root of the covariance diagonal).
    covariance : ndarray of float64, shape (P, P)
        Parameter covariance at the fit (central-difference Jacobian).
    conf : ndarray of float64, shape (P,)
        impedance.py's 1-sigma ``conf_`` (from scipy's forward-difference Jacobian; it comes out
        smaller than the scatter of repeated fits for correlated pairs such as a CPE's Q and
        n, see benchmarks/echem_fit_accuracy.py).
    initial_guess : ndarray of float64, shape (P,)
    residual_rms_rel : float
        RMS over real and imaginary parts of (Z - Z_fit) / |Z|.
    n_points : int
    weight_by_modulus : bool
    """

    circuit: str
    names: tuple[str, ...]
    units: tuple[str, ...]
    values: F64Array
    std: F64Array
    covariance: F64Array
    conf: F64Array
    initial_guess: F64Array
    residual_rms_rel: float
    n_points: int
    weight_by_modulus: bool

    def value(self, name: str) -> float:
        """Fitted value of parameter `name` (KeyError if the circuit has none)."""
        return float(self.values[self._index(name)])

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"circuit {self.circuit} has no parameter {name!r}; "
                           f"it has {list(self.names)}") from None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record: circuit, names, units, values, std, covariance, quality."""
        return {
            "circuit": self.circuit, "names": list(self.names), "units": list(self.units),
            "values": self.values.tolist(), "std": self.std.tolist(),
            "covariance": self.covariance.tolist(), "conf": self.conf.tolist(),
            "initial_guess": self.initial_guess.tolist(),
            "residual_rms_rel": self.residual_rms_rel, "n_points": self.n_points,
            "weight_by_modulus": self.weight_by_modulus,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> CircuitFit:
        return cls(
            circuit=record["circuit"], names=tuple(record["names"]), units=tuple(record["units"]),
            values=np.asarray(record["values"], float), std=np.asarray(record["std"], float),
            covariance=np.asarray(record["covariance"], float),
            conf=np.asarray(record.get("conf", [math.nan] * len(record["values"])), float),
            initial_guess=np.asarray(record["initial_guess"], float),
            residual_rms_rel=float(record["residual_rms_rel"]), n_points=int(record["n_points"]),
            weight_by_modulus=bool(record["weight_by_modulus"]),
        )


def _elements(circuit: str) -> list[str]:
    """Element names in order of appearance (impedance.py's parameter order)."""
    return [e for e in re.split(r"[-,()]|p\(", circuit.replace(" ", "")) if e and e != "p"]


def circuit_problems(circuit: str) -> list[str]:
    """What is wrong with an impedance.py circuit string (empty list: usable).

    Examples
    --------
    >>> circuit_problems("R0-p(R1,CPE1)")
    []
    >>> for problem in circuit_problems("R0-p(R1,Q1"):
    ...     print(problem)
    unbalanced parentheses in 'R0-p(R1,Q1'
    unknown element 'Q1' (known: C, CPE, G, Gs, K, L, La, R, T, TLMQ, W, Wo, Ws, Zarc)
    """
    from impedance.models.circuits.elements import circuit_elements, get_element_from_name

    text = circuit.replace(" ", "")
    problems: list[str] = []
    if not text:
        return ["empty circuit string"]
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        problems.append(f"unbalanced parentheses in {circuit!r}")
    known = sorted(k for k, v in circuit_elements.items() if callable(v) and k not in ("s", "p")
                   and hasattr(v, "num_params"))
    names = _elements(text)
    for name in names:
        if not re.fullmatch(r"[A-Za-z]+_?\d+", name):
            problems.append(f"element {name!r} needs a number (e.g. R0, CPE1)")
        elif get_element_from_name(name) not in known:
            problems.append(f"unknown element {name!r} (known: {', '.join(known)})")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(f"element name(s) used twice: {repeated}")
    return problems


def circuit_param_names(circuit: str) -> tuple[list[str], list[str]]:
    """impedance.py's parameter names and units of a circuit.

    Examples
    --------
    >>> circuit_param_names("R0-p(R1,CPE1)")[0]
    ['R0', 'R1', 'CPE1_0', 'CPE1_1']
    """
    from impedance.models.circuits import CustomCircuit
    from impedance.models.circuits.fitting import calculateCircuitLength

    probe = CustomCircuit(circuit, initial_guess=[1.0] * calculateCircuitLength(circuit))
    names, units = probe.get_param_names()
    return list(names), list(units)


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _relaxation_groups(
    freq: F64Array, z: C128Array, *, per_decade: int = 6, smoothing: float = 0.3,
) -> list[tuple[float, float]]:
    """Arcs of a spectrum as (time constant s, resistance Ω), shortest time constant first.

    A non-negative least-squares fit of R_inf + jωL + 1/(jωC) + Σ R_k / (1 + jωτ_k) on a grid
    of `per_decade` time constants per decade (a coarse distribution of relaxation times),
    weighted by 1/|Z|; neighbouring non-zero R_k form one group (its τ is the R-weighted
    geometric mean).
    """
    from scipy.optimize import nnls
    from scipy.signal import find_peaks

    w = 2 * np.pi * freq
    lo, hi = np.log10(1 / w.max()) - 0.5, np.log10(1 / w.min()) + 0.5
    tau = np.logspace(lo, hi, int(np.ceil((hi - lo) * per_decade)) + 1)
    rc = 1.0 / (1.0 + 1j * w[:, None] * tau[None, :])
    scale = np.abs(z).max()
    columns = np.hstack([np.ones((w.size, 1)), rc, (1j * w / w.max())[:, None],
                         (1 / (1j * w / w.min()))[:, None]])
    weight = 1.0 / np.abs(z)
    a = np.vstack([columns.real * weight[:, None], columns.imag * weight[:, None]]) * scale
    b = np.concatenate([z.real * weight, z.imag * weight])
    # Tikhonov penalty on the second difference of R_k: a smooth distribution, so that noise
    # does not split one arc into several spikes
    second = np.diff(np.eye(tau.size), n=2, axis=0)
    penalty = np.zeros((second.shape[0], a.shape[1]))
    penalty[:, 1:1 + tau.size] = smoothing * second
    x, _ = nnls(np.vstack([a, penalty]), np.concatenate([b, np.zeros(second.shape[0])]),
                maxiter=50 * a.shape[1])
    x = x * scale
    r_k = x[1:1 + tau.size]
    if not np.any(r_k > 0):
        return []
    smooth = np.convolve(np.pad(r_k, 1), [0.25, 0.5, 0.25], mode="valid")
    peaks, _ = find_peaks(np.pad(smooth, 1), prominence=0.05 * smooth.max())
    peaks = peaks - 1
    cuts = [0, *(int(a + np.argmin(smooth[a:b])) for a, b in zip(peaks[:-1], peaks[1:],
                                                                  strict=True)), tau.size]
    groups: list[tuple[float, float]] = []
    total = float(r_k.sum())
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        r = float(r_k[a:b].sum())
        t = float(10 ** (np.sum(r_k[a:b] * np.log10(tau[a:b])) / r)) if r > 0 else 0.0
        # a small group faster than the highest measured frequency is noise at the top end
        if r > 0 and not (t < 1 / w.max() and r < 0.1 * total):
            groups.append((t, r))
    return groups


def _arcs(freq: F64Array, z: C128Array, n_arcs: int, *, tail: bool, smoothing: float
          ) -> tuple[list[tuple[float, float]], float]:
    """(apex frequency Hz, resistance Ω) of `n_arcs` arcs, highest frequency first, and the
    resistance left to a low-frequency tail (`tail`: the circuit has a Warburg element)."""
    groups = _relaxation_groups(freq, z, smoothing=smoothing)
    candidates = groups[:-1] if tail and len(groups) > n_arcs else groups
    chosen = sorted(sorted(candidates, key=lambda g: g[1], reverse=True)[:n_arcs])
    tail_r = 0.0
    if tail:  # everything slower than the last arc belongs to the diffusion tail
        slowest = chosen[-1][0] if chosen else 0.0
        tail_r = sum(r for t, r in groups if t > slowest)
    arcs = [(1.0 / (2 * np.pi * t), r) for t, r in chosen]
    span = max(float(np.ptp(z.real)), 1e-9)
    log_f = np.linspace(np.log10(freq.max()), np.log10(freq.min()), n_arcs + 2)[1:-1]
    for lf in log_f[len(arcs):]:  # fewer groups than arcs: spread the rest over the range
        arcs.append((float(10**lf), 0.1 * span))
    return sorted(arcs, reverse=True), tail_r


def estimate_initial_guess(
    frequency_hz: F64Array, z_ohm: C128Array, circuit: str, *, smoothing: float = 0.3,
) -> list[float]:
    """An initial guess for every parameter of `circuit`, read off the spectrum.

    Works for circuits made of R, C, CPE, W, Wo, Ws and L: the first series R gets the
    high-frequency intercept; each top-level parallel group, in order, the next arc of -Z''
    (highest frequency first): its R about 2.2 x the arc height, C = 1/(2π f R), CPE Q =
    1/(R (2π f)^0.9) with exponent 0.9; Warburg elements the low-frequency tail. The arcs
    come from a relaxation-time distribution regularised by `smoothing`
    (:func:`_relaxation_groups`).

    Raises
    ------
    ValueError
        If the circuit holds an element the estimate does not know (give an initial guess).
    """
    freq = np.asarray(frequency_hz, float)
    z = np.asarray(z_ohm, complex)
    order = np.argsort(-freq)
    freq, z = freq[order], z[order]
    text = circuit.replace(" ", "")
    items = _split_top(text, "-")
    groups = [item for item in items if item.startswith("p(")]
    has_tail = any(re.sub(r"[_\d]", "", name) in ("W", "Wo", "Ws") for name in _elements(text))
    arcs, tail_r = _arcs(freq, z, len(groups), tail=has_tail, smoothing=smoothing)
    top = max(1, len(freq) // 10)
    r_hf = max(float(np.min(z.real[:top])), 1e-6 * float(np.max(np.abs(z))))
    arc_r = [r for _, r in arcs]
    tail_real = max(tail_r, 0.05 * float(np.ptp(z.real)), 1e-9)
    w_min = 2 * np.pi * float(freq[-1])
    y_min = max(float(-z.imag[-1]), 1e-9)
    guesses: dict[str, list[float]] = {}
    first_r = True

    def element(name: str, r: float | None, f_apex: float | None) -> None:
        nonlocal first_r
        kind = re.sub(r"[_\d]", "", name)
        if kind == "R":
            if r is None:
                guesses[name] = [r_hf if first_r else 0.1 * r_hf]
                first_r = False
            else:
                guesses[name] = [r]
        elif kind == "C":
            guesses[name] = [1.0 / (2 * np.pi * (f_apex or freq[-1]) * (r or r_hf))]
        elif kind == "CPE":
            guesses[name] = [1.0 / ((r or r_hf) * (2 * np.pi * (f_apex or freq[-1])) ** 0.9), 0.9]
        elif kind == "W":
            guesses[name] = [y_min * math.sqrt(w_min)]
        elif kind == "Wo":
            z0 = 3.0 * tail_real  # Wo: Re Z -> Z0/3 at low frequency
            guesses[name] = [z0, max(z0 / (w_min * y_min), 1e-6)]
        elif kind == "Ws":
            guesses[name] = [tail_real, 1.0 / w_min]
        elif kind == "L":
            guesses[name] = [1e-8]
        else:
            raise ValueError(f"no automatic initial guess for element {name!r} of {circuit}: "
                             f"give an initial guess (config echem.initial_guess); automatic "
                             f"guesses cover {', '.join(GUESSABLE)}")

    arc_iter = iter(zip(arcs, arc_r, strict=True))
    for item in items:
        if item.startswith("p("):
            (f_apex, _), r_arc = next(arc_iter)
            for name in _elements(item):
                element(name, r_arc, f_apex)
        else:
            for name in _elements(item):
                element(name, None, None)
    return [v for name in _elements(text) for v in guesses[name]]


def predict_impedance(circuit: str, values: Sequence[float], frequency_hz: F64Array) -> C128Array:
    """Impedance (Ω) of `circuit` with parameter `values` at `frequency_hz` (impedance.py)."""
    from impedance.models.circuits import CustomCircuit

    model = CustomCircuit(circuit, initial_guess=[float(v) for v in values])
    with _quiet():
        return np.asarray(model.predict(np.asarray(frequency_hz, float), use_initial=True),
                          dtype=np.complex128)


@contextlib.contextmanager
def _quiet():
    """impedance.py prints and warns on its own (linKK progress, 'Simulating circuit ...')."""
    import warnings

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def _covariance(circuit: str, values: F64Array, freq: F64Array, z: C128Array,
                sigma: F64Array) -> F64Array:
    """Covariance of the fitted parameters, as scipy's curve_fit reports it (absolute_sigma
    False): inv(JᵀJ) · Σr² / (2N − P), J the Jacobian of the weighted residuals (central
    differences, relative step 1e-6)."""
    from impedance.models.circuits.fitting import wrapCircuit

    model = wrapCircuit(circuit, {})
    data = np.hstack([z.real, z.imag])

    def residual(p: F64Array) -> F64Array:
        return (model(freq, *p) - data) / sigma

    r0 = residual(values)
    jac = np.empty((r0.size, values.size))
    for k in range(values.size):
        h = 1e-6 * max(abs(values[k]), 1e-12)
        up, down = values.copy(), values.copy()
        up[k] += h
        down[k] -= h
        if down[k] < 0:  # stay inside the bounds: one-sided
            down[k] = values[k]
            jac[:, k] = (residual(up) - r0) / h
        else:
            jac[:, k] = (residual(up) - residual(down)) / (2 * h)
    dof = max(r0.size - values.size, 1)
    s2 = float(r0 @ r0) / dof
    try:
        return np.linalg.inv(jac.T @ jac) * s2
    except np.linalg.LinAlgError:
        return np.full((values.size, values.size), np.nan)


def fit_circuit(
    frequency_hz: F64Array,
    z_ohm: C128Array,
    *,
    circuit: str,
    initial_guess: Sequence[float] | None = None,
    weight_by_modulus: bool = True,
    noise_rms: float | None = None,
) -> CircuitFit:
    """Fit an equivalent circuit with impedance.py's ``CustomCircuit.fit``.

    Parameters
    ----------
    frequency_hz : ndarray of float, shape (N,)
        Frequencies in Hz.
    z_ohm : ndarray of complex, shape (N,)
        Impedance in Ω.
    circuit : str
        impedance.py circuit string, e.g. ``R0-p(R1,CPE1)-p(R2,CPE2)-Wo1``.
    initial_guess : sequence of float, optional
        One value per parameter in impedance.py's order. Default: :func:`estimate_initial_guess`;
        when that fit leaves residuals above 1.3 x those of the lin-KK test (the noise), up to
        three more starts from differently smoothed estimates, keeping the best fit.
    weight_by_modulus : bool
        Weight residuals by 1/|Z| (default; the standard choice over several decades of |Z|).
    noise_rms : float, optional
        The spectrum's lin-KK residual RMS if already known (:func:`kramers_kronig`), the noise
        floor that decides a restart; computed when needed otherwise.

    Returns
    -------
    CircuitFit

    Raises
    ------
    ValueError
        If the circuit is malformed, the guess has the wrong length, or the fit fails.

    Examples
    --------
    >>> f = np.logspace(5, -1, 31)
    >>> z = predict_impedance("R0-p(R1,C1)", [10.0, 100.0, 1e-6], f)
    >>> fit = fit_circuit(f, z, circuit="R0-p(R1,C1)")
    >>> [round(float(v), 3) for v in fit.values[:2]]
    [10.0, 100.0]
    """
    from impedance.models.circuits import CustomCircuit

    problems = circuit_problems(circuit)
    if problems:
        raise ValueError(f"circuit {circuit!r}: " + "; ".join(problems))
    freq = np.asarray(frequency_hz, float)
    z = np.asarray(z_ohm, complex)
    names, units = circuit_param_names(circuit)
    if initial_guess is not None:
        guesses = [list(map(float, initial_guess))]
        if len(guesses[0]) != len(names):
            raise ValueError(f"initial guess has {len(guesses[0])} value(s); circuit {circuit} "
                             f"has {len(names)} parameters {names}")
    else:
        guesses = [estimate_initial_guess(freq, z, circuit, smoothing=sm) for sm in _SMOOTHINGS]
    floor = noise_rms
    best: tuple[float, Any, list[float]] | None = None
    errors: list[str] = []
    for k, guess in enumerate(guesses, start=1):
        if best is not None and guess == best[2]:
            continue
        model = CustomCircuit(circuit, initial_guess=guess)
        try:
            with _quiet():
                model.fit(freq, z, weight_by_modulus=weight_by_modulus, ftol=1e-10)
        except (RuntimeError, ValueError) as exc:  # curve_fit: no convergence / bad guess
            errors.append(str(exc))
            continue
        rel = (z - predict_impedance(circuit, model.parameters_, freq)) / np.abs(z)
        rms = float(np.sqrt(np.mean(np.concatenate([rel.real, rel.imag]) ** 2)))
        if best is None or rms < best[0]:
            best = (rms, model, guess)
        if initial_guess is not None:
            break
        if floor is None:  # what a flexible Kramers-Kronig model leaves: the noise
            floor = kramers_kronig(freq, z)["residual_rms"]
        if best[0] <= _RESTART_FACTOR * floor + 1e-3:
            break
        log.info("fit of %s from guess %d left residual %.4f against a noise floor %.4f; "
                 "trying another start", circuit, k, rms, floor)
    if best is None:
        raise ValueError(f"fit of {circuit} did not converge: {'; '.join(errors)}")
    _, model, guess = best
    values = np.asarray(model.parameters_, float)
    sigma = np.hstack([np.abs(z), np.abs(z)]) if weight_by_modulus else np.ones(2 * z.size)
    covariance = _covariance(model.circuit, values, freq, z, sigma)
    conf = getattr(model, "conf_", None)
    conf = np.asarray(conf, float) if conf is not None else np.full(values.size, np.nan)
    std = np.sqrt(np.diag(covariance))
    rms = best[0]
    return CircuitFit(circuit=model.circuit, names=tuple(names), units=tuple(units), values=values,
                      std=std, covariance=covariance, conf=conf,
                      initial_guess=np.asarray(guess, float),
                      residual_rms_rel=rms, n_points=int(z.size),
                      weight_by_modulus=weight_by_modulus)


def kramers_kronig(
    frequency_hz: F64Array, z_ohm: C128Array, *, max_residual_rms: float = 0.02,
    c: float = 0.7, max_m: int = 50,
) -> dict[str, Any]:
    """Lin-KK test of a spectrum (impedance.py ``validation.linKK``, complex fit, with a series
    capacitance so that spectra without a low-frequency intercept pass).

    The number of RC elements grows until the over-fitting measure mu falls below `c`; 0.7
    rather than linKK's 0.85, which stopped at 10 RC elements on one of 20 noisy synthetic
    spectra and failed it (residual 4 %, against 1 % for the other 19).

    Returns
    -------
    dict
        ``n_rc`` (RC elements used), ``mu`` (over-fitting measure), ``residual_rms`` and
        ``residual_max`` (relative to |Z|, real and imaginary parts together), ``valid``
        (residual_rms <= `max_residual_rms`), ``max_residual_rms``.
    """
    from impedance.models.circuits.elements import circuit_elements
    from impedance.validation import linKK

    # impedance 1.7.1 (the latest on PyPI) evaluates numpy-2 scalar reprs such as
    # 'np.float64(3.0)' inside linKK without numpy in scope (issue ECSHackWeek/impedance.py#296);
    # the upstream fix (commit 37df260, unreleased) puts numpy into the same namespace.
    circuit_elements.setdefault("np", np)
    freq = np.asarray(frequency_hz, float)
    z = np.asarray(z_ohm, complex)
    with _quiet():
        m, mu, _, res_real, res_imag = linKK(freq, z, c=c, max_M=max_m, fit_type="complex",
                                             add_cap=True)
    res = np.concatenate([np.asarray(res_real), np.asarray(res_imag)])
    rms = float(np.sqrt(np.mean(res**2)))
    return {"n_rc": int(m), "mu": float(mu), "residual_rms": rms,
            "residual_max": float(np.max(np.abs(res))), "valid": bool(rms <= max_residual_rms),
            "max_residual_rms": float(max_residual_rms)}
