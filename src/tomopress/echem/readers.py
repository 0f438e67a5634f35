"""Impedance spectra and cycling curves from files, with every problem reported at once.

Formats:

- impedance: CSV/TSV (comma, semicolon or tab separated) whose header names frequency, Z' and
  Z'' with their units, e.g. ``frequency (Hz), Z' (Ohm), -Z'' (Ohm)`` or EC-Lab's
  ``freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm``; a leading ``-`` on the Z'' name says the column holds
  -Z''. BioLogic ``.mpr`` files are read with galvani (columns ``freq/Hz``, ``Re(Z)/Ohm``,
  ``-Im(Z)/Ohm``).
- cycling: CSV/TSV with cycle, step (charge, discharge or rest), capacity (mAh/g, or mAh with
  the active-material mass) and voltage (V) columns, e.g. ``cycle, step, capacity (mAh/g),
  voltage (V)``; the capacity counts up within each step (a counter running over several
  steps works too: a step's capacity is its max minus min).

Lines starting with ``#`` are comments. Every problem is collected and raised as one
`RawDataError`, one ``<file>: <field>: <problem>`` line each. The header checks
(:func:`eis_header_problems`, :func:`cycling_header_problems`) read the column names only, so
the workflow runs them while it builds the DAG.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tomopress.errors import RawDataError
from tomopress.types import F64Array

__all__ = [
    "Cycling",
    "Spectrum",
    "cycling_header_problems",
    "eis_header_problems",
    "read_cycling",
    "read_eis",
    "split_header",
    "step_capacities",
]

log = logging.getLogger(__name__)

Problem = tuple[str, str, str]
#: fewest points of a spectrum worth fitting
MIN_EIS_POINTS = 10
_MAX_LISTED = 5

_FREQUENCY_UNITS = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "mHz": 1e-3}
_OHM = re.compile(r"^(?P<prefix>[mkM]?)(?:ohms?|Ω)$", re.IGNORECASE)
_OHM_PREFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6}
_VOLTAGE_UNITS = {"V": 1.0, "mV": 1e-3}
#: capacity unit -> (factor to mAh/g or mAh, specific?)
_CAPACITY_UNITS = {
    "mAh/g": (1.0, True), "mA.h/g": (1.0, True), "mAh g-1": (1.0, True), "Ah/kg": (1.0, True),
    "mAh": (1.0, False), "mA.h": (1.0, False), "uAh": (1e-3, False), "µAh": (1e-3, False),
    "μAh": (1e-3, False), "Ah": (1e3, False),
}

_EIS_ROLES = {
    "frequency": {"f", "freq", "frequency"},
    "z_real": {"z'", "zreal", "zre", "re(z)", "rez", "real(z)", "realz", "zr"},
    "z_imag": {"z''", "zimag", "zim", "im(z)", "imz", "imag(z)", "imagz", "zi"},
}
_CYCLING_ROLES = {
    "cycle": {"cycle", "cyclenumber", "cycleindex", "cycleno", "cycle#"},
    "step": {"step", "steptype", "mode", "state"},
    "capacity": {"capacity", "q", "specificcapacity", "qcharge/discharge", "q charge/discharge"},
    "voltage": {"voltage", "potential", "ewe", "ecell", "e", "u"},
}
_EIS_EXAMPLE = "frequency (Hz), Z' (Ohm), -Z'' (Ohm)"
_CYCLING_EXAMPLE = "cycle, step, capacity (mAh/g), voltage (V)"
_MPR_COLUMNS = {"frequency": "freq/Hz", "z_real": "Re(Z)/Ohm", "z_imag": "-Im(Z)/Ohm"}


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """An impedance spectrum, highest frequency first.

    Attributes
    ----------
    frequency_hz : ndarray of float64, shape (N,)
        Frequencies in Hz, > 0, strictly decreasing.
    z_ohm : ndarray of complex128, shape (N,)
        Impedance Z' + j Z'' in Ω (Z'' < 0 on a capacitive arc).
    path : str
        The file read.
    """

    frequency_hz: F64Array
    z_ohm: npt.NDArray[np.complex128]
    path: str


@dataclasses.dataclass(frozen=True)
class Cycling:
    """A galvanostatic cycling record, one entry per data point.

    Attributes
    ----------
    cycle : ndarray of int64, shape (N,)
    step : ndarray of str, shape (N,)
        ``charge``, ``discharge`` or ``rest``.
    capacity_mah_per_g : ndarray of float64, shape (N,)
        Capacity counter in mAh per g of active material.
    voltage_v : ndarray of float64, shape (N,)
        Cell voltage in V.
    path : str
    """

    cycle: npt.NDArray[np.int64]
    step: npt.NDArray[np.str_]
    capacity_mah_per_g: F64Array
    voltage_v: F64Array
    path: str


def _norm(name: str) -> str:
    """Column name folded for matching: lower case, primes unified, no spaces or underscores."""
    text = name.strip().lower()
    for old, new in (("″", "''"), ("′", "'"), ("’", "'"), ("‘", "'"), ('"', "''"),
                     ("“", "''"), ("”", "''"), ("−", "-")):
        text = text.replace(old, new)
    return re.sub(r"[\s_]", "", text)


def _known_unit(unit: str) -> bool:
    unit = unit.strip()
    return bool(unit in _FREQUENCY_UNITS or _OHM.match(unit) or unit in _VOLTAGE_UNITS
                or unit in _CAPACITY_UNITS)


def split_header(cell: str) -> list[tuple[str, str | None]]:
    """Ways to read one header cell as ``(name, unit)``, most specific first.

    Units may follow in brackets (``Z' (Ohm)``, ``Z' [Ohm]``) or after a slash (``freq/Hz``);
    the caller keeps the first reading whose name it knows.

    Examples
    --------
    >>> split_header("Re(Z)/Ohm")
    [('Re(Z)', 'Ohm'), ('Re(Z)/Ohm', None)]
    >>> split_header("capacity (mAh/g)")[0]
    ('capacity', 'mAh/g')
    """
    cell = cell.strip()
    readings: list[tuple[str, str | None]] = []
    bracket = re.match(r"^(?P<name>.*?)\s*[\(\[](?P<unit>[^()\[\]]*)[\)\]]\s*$", cell)
    if bracket and bracket["name"]:
        readings.append((bracket["name"].strip(), bracket["unit"].strip()))
    slash = re.match(r"^(?P<name>.+?)\s*/\s*(?P<unit>[^/]+)$", cell)
    if slash and (_known_unit(slash["unit"]) or not bracket):
        readings.append((slash["name"].strip(), slash["unit"].strip()))
    readings.append((cell, None))
    return readings


def _role_of(cell: str, roles: dict[str, set[str]]) -> tuple[str, str | None, bool] | None:
    """(role, unit, negated) of a header cell, or None if its name is not known."""
    for name, unit in split_header(cell):
        key = _norm(name)
        negated = key.startswith("-")
        key = key.lstrip("-+")
        for role, names in roles.items():
            if key in {_norm(n) for n in names}:
                return role, unit, negated
    return None


def _first_line(lines: Iterable[str]) -> str | None:
    """The first line that is neither blank nor a ``#`` comment."""
    return next((line for line in lines if line.strip() and not line.lstrip().startswith("#")),
                None)


def _delimiter(line: str) -> str | None:
    for delim in ("\t", ";", ","):
        if delim in line:
            return delim
    return None


def _header_and_rows(
    path: Path, problems: list[Problem]
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header cells and the data rows (with their 1-based line numbers) of a delimited file."""
    where = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            lines = [(i, line) for i, line in enumerate(fh, start=1)
                     if line.strip() and not line.lstrip().startswith("#")]
    except FileNotFoundError:
        problems.append((where, "file", "does not exist"))
        return [], []
    except IsADirectoryError:
        problems.append((where, "file", "is a folder, expected a CSV/TSV file"))
        return [], []
    except UnicodeDecodeError:
        problems.append((where, "file", "not a text file (CSV/TSV expected; BioLogic binary "
                                        "files must end in .mpr)"))
        return [], []
    except OSError as exc:
        problems.append((where, "file", f"cannot be read: {exc.strerror or exc}"))
        return [], []
    if not lines:
        problems.append((where, "file", "is empty (no header, no data)"))
        return [], []
    delim = _delimiter(lines[0][1])
    if delim is None:
        problems.append((where, "header", f"cannot find the column separator (tab, ';' or ',') "
                                          f"in the first line {lines[0][1].strip()!r}"))
        return [], []
    parsed = list(csv.reader([line for _, line in lines], delimiter=delim))
    header = [cell.strip() for cell in parsed[0]]
    rows = [(lines[k][0], [c.strip() for c in row]) for k, row in enumerate(parsed[1:], start=1)]
    return header, rows


def _columns(
    path: Path, header: list[str], roles: dict[str, set[str]], example: str,
    problems: list[Problem],
) -> dict[str, tuple[int, str | None, bool]]:
    """Column index, unit and sign of every role found in `header`; missing roles noted."""
    where = str(path)
    if header and all(_is_number(c) for c in header if c):
        problems.append((where, "header", f"first line holds numbers, not column names; "
                                          f"expected a header like {example!r}"))
        return {}
    found: dict[str, tuple[int, str | None, bool]] = {}
    for index, cell in enumerate(header):
        hit = _role_of(cell, roles)
        if hit is None:
            continue
        role, unit, negated = hit
        if role in found:
            problems.append((where, role, f"two columns: {header[found[role][0]]!r} and {cell!r}"))
            continue
        found[role] = (index, unit, negated)
    missing = [role for role in roles if role not in found]
    if missing:
        problems.append((where, "header", f"no {', '.join(missing)} column(s); expected a header "
                                          f"like {example!r}, found {header}"))
    return found


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unit_factor(
    path: Path, role: str, cell: str, unit: str | None, problems: list[Problem]
) -> float | None:
    """Factor to Hz / Ω / V for a column; None (and a problem) when its unit is missing or wrong."""
    where, field = str(path), f"{role} ({cell!r})"
    accepted = {"frequency": sorted(_FREQUENCY_UNITS), "z_real": ["Ohm", "kOhm", "mOhm", "MOhm"],
                "z_imag": ["Ohm", "kOhm", "mOhm", "MOhm"], "voltage": sorted(_VOLTAGE_UNITS)}[role]
    if not unit:
        problems.append((where, field, f"no unit in the header; write it as {cell} (unit), "
                                       f"unit one of {accepted}"))
        return None
    if role == "frequency" and unit in _FREQUENCY_UNITS:
        return _FREQUENCY_UNITS[unit]
    if role == "voltage" and unit in _VOLTAGE_UNITS:
        return _VOLTAGE_UNITS[unit]
    ohm = _OHM.match(unit)
    if role in ("z_real", "z_imag") and ohm:
        return _OHM_PREFIX[ohm["prefix"]]
    problems.append((where, field, f"unknown unit {unit!r}; expected one of {accepted}"))
    return None


def _numbers(
    path: Path, rows: list[tuple[int, list[str]]], index: int, field: str,
    problems: list[Problem],
) -> F64Array:
    """Column `index` of `rows` as floats; non-numbers and missing cells listed as one problem."""
    values = np.full(len(rows), np.nan)
    bad: list[str] = []
    for k, (line, cells) in enumerate(rows):
        text = cells[index] if index < len(cells) else ""
        try:
            values[k] = float(text)
        except ValueError:
            bad.append(f"line {line}: {text!r}")
    if bad:
        listed = "; ".join(bad[:_MAX_LISTED]) + (f"; and {len(bad) - _MAX_LISTED} more"
                                                  if len(bad) > _MAX_LISTED else "")
        problems.append((str(path), field, f"{len(bad)} value(s) are not numbers: {listed}"))
    return values


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise RawDataError.collect(problems)


# ---- impedance --------------------------------------------------------------------------------


def eis_header_problems(path: str | Path) -> list[Problem]:
    """Every problem of an impedance file's header (CSV/TSV column names and units; .mpr columns).

    Reads the header line only (an ``.mpr`` file is parsed whole: such files are small).

    Returns
    -------
    list of (file, field, problem)
        Empty when the header is sound.
    """
    path = Path(path)
    problems: list[Problem] = []
    if path.suffix.lower() == ".mpr":
        _read_mpr(path, problems)
        return problems
    if not path.is_file():
        _header_and_rows(path, problems)
        return problems
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            first = _first_line(fh)
    except UnicodeDecodeError:
        return [(str(path), "file", "not a text file (CSV/TSV expected; BioLogic binary files "
                                    "must end in .mpr)")]
    if first is None:
        return [(str(path), "file", "is empty (no header, no data)")]
    delim = _delimiter(first)
    if delim is None:
        return [(str(path), "header", f"cannot find the column separator (tab, ';' or ',') in "
                                      f"the first line {first.strip()!r}")]
    header = [c.strip() for c in next(csv.reader([first], delimiter=delim))]
    columns = _columns(path, header, _EIS_ROLES, _EIS_EXAMPLE, problems)
    for role, (index, unit, _) in columns.items():
        _unit_factor(path, role, header[index], unit, problems)
    return problems


def _read_mpr(path: Path, problems: list[Problem]) -> tuple[F64Array, F64Array, F64Array] | None:
    """freq/Hz, Re(Z)/Ohm and -Im(Z)/Ohm of a BioLogic .mpr file (first impedance sweep)."""
    from galvani import BioLogic

    where = str(path)
    if not path.is_file():
        problems.append((where, "file", "does not exist" if not path.exists() else
                         "is not a file"))
        return None
    try:
        with path.open("rb") as fh:
            data = BioLogic.MPRfile(fh).data
    except Exception as exc:  # galvani raises bare ValueError/AssertionError/NotImplementedError
        problems.append((where, "file", f"not a readable BioLogic .mpr file "
                                        f"(galvani: {type(exc).__name__}: {exc})"))
        return None
    names = data.dtype.names or ()
    missing = [col for col in _MPR_COLUMNS.values() if col not in names]
    for col in missing:
        problems.append((where, col, f"column missing: not an impedance (PEIS/GEIS) record; "
                                     f"columns found: {list(names)}"))
    if missing:
        return None
    keep = np.ones(len(data), dtype=bool)
    if "z cycle" in names and len(np.unique(data["z cycle"])) > 1:
        first = data["z cycle"][0]
        keep = data["z cycle"] == first
        log.info("%s: %d impedance sweeps; using the first (z cycle %s)", path,
                 len(np.unique(data["z cycle"])), first)
    return tuple(np.asarray(data[c][keep], dtype=np.float64)  # type: ignore[return-value]
                 for c in _MPR_COLUMNS.values())


def read_eis(path: str | Path) -> Spectrum:
    """Read an impedance spectrum (CSV/TSV with units in the header, or BioLogic .mpr).

    Parameters
    ----------
    path : str or Path
        The file; ``.mpr`` is read with galvani, anything else as delimited text.

    Returns
    -------
    Spectrum
        Frequencies in Hz and Z in Ω, highest frequency first.

    Raises
    ------
    RawDataError
        Listing every problem (missing file, header without frequency/Z'/Z'' or their units,
        non-numbers with their line numbers, frequencies not positive or repeated, non-finite
        impedance, fewer than 10 points), one ``<file>: <field>: <problem>`` line each.
    """
    path = Path(path)
    problems: list[Problem] = []
    if path.suffix.lower() == ".mpr":
        columns = _read_mpr(path, problems)
        _raise(problems)
        assert columns is not None
        freq, z_real, minus_z_imag = columns
        z = z_real - 1j * minus_z_imag
        fields = {"frequency": "freq/Hz", "impedance": "Re(Z)/Ohm, -Im(Z)/Ohm"}
    else:
        header, rows = _header_and_rows(path, problems)
        if not header:
            _raise(problems)
        found = _columns(path, header, _EIS_ROLES, _EIS_EXAMPLE, problems)
        if len(found) < len(_EIS_ROLES):
            _raise(problems)
        factors = {role: _unit_factor(path, role, header[i], unit, problems)
                   for role, (i, unit, _) in found.items()}
        values = {role: _numbers(path, rows, i, f"{role} ({header[i]!r})", problems)
                  for role, (i, _, _) in found.items()}
        # go on to the data checks (they do not need the units) so that every problem is
        # reported at once; rows with a cell that is not a number (reported above) are left out
        keep = np.array([all(i < len(cells) and _is_number(cells[i])
                             for i, _, _ in found.values()) for _, cells in rows], dtype=bool)
        scale = {role: factors[role] or 1.0 for role in factors}
        sign = -1.0 if found["z_imag"][2] else 1.0
        freq = values["frequency"][keep] * scale["frequency"]
        z = (values["z_real"][keep] * scale["z_real"]
             + 1j * sign * values["z_imag"][keep] * scale["z_imag"])
        fields = {"frequency": f"frequency ({header[found['frequency'][0]]!r})",
                  "impedance": f"{header[found['z_real'][0]]!r}, {header[found['z_imag'][0]]!r}"}
    _spectrum_problems(str(path), freq, z, fields, problems)
    _raise(problems)
    order = np.argsort(-freq, kind="stable")
    return Spectrum(frequency_hz=freq[order], z_ohm=z[order].astype(np.complex128), path=str(path))


def _spectrum_problems(where: str, freq: F64Array, z: npt.NDArray[np.complex128],
                       fields: dict[str, str], problems: list[Problem]) -> None:
    if len(freq) < MIN_EIS_POINTS:
        problems.append((where, "rows", f"{len(freq)} data point(s); at least "
                                        f"{MIN_EIS_POINTS} are needed for a fit"))
    bad_f = np.flatnonzero(~(np.isfinite(freq) & (freq > 0)))
    if bad_f.size:
        problems.append((where, fields["frequency"], f"{bad_f.size} value(s) not positive and "
                                                     f"finite (data rows {_listed(bad_f)})"))
    good = freq[np.isfinite(freq)]
    _, counts = np.unique(good, return_counts=True)
    if np.any(counts > 1):
        problems.append((where, fields["frequency"], f"{int(np.sum(counts > 1))} frequency "
                                                     "value(s) repeated; one sweep expected"))
    bad_z = np.flatnonzero(~np.isfinite(z))
    if bad_z.size:
        problems.append((where, fields["impedance"], f"{bad_z.size} value(s) not finite "
                                                     f"(data rows {_listed(bad_z)})"))


def _listed(indices: npt.NDArray[np.intp]) -> str:
    shown = ", ".join(str(int(i) + 1) for i in indices[:_MAX_LISTED])
    return shown + (f", ... ({indices.size} in all)" if indices.size > _MAX_LISTED else "")


# ---- cycling ----------------------------------------------------------------------------------


def _capacity_unit(
    path: Path, cell: str, unit: str | None, am_mass_mg: float | None, problems: list[Problem],
    *, header_only: bool = False,
) -> float | None:
    """Factor from the file's capacity unit to mAh/g (mAh needs the active-material mass)."""
    where, field = str(path), f"capacity ({cell!r})"
    accepted = sorted(_CAPACITY_UNITS)
    if not unit:
        problems.append((where, field, f"no unit in the header; write it as {cell} (mAh/g), "
                                       f"unit one of {accepted}"))
        return None
    if unit not in _CAPACITY_UNITS:
        problems.append((where, field, f"unknown unit {unit!r}; expected one of {accepted}"))
        return None
    factor, specific = _CAPACITY_UNITS[unit]
    if specific:
        return factor
    if am_mass_mg is None or not am_mass_mg > 0:
        if not header_only:
            problems.append((where, field, f"capacity in {unit} needs the active-material mass "
                                           "to give mAh/g: set am_mass_mg in the sample sheet"))
        return None
    return factor / (am_mass_mg * 1e-3)


def cycling_header_problems(path: str | Path, *, am_mass_mg: float | None = None) -> list[Problem]:
    """Every problem of a cycling file's header (columns cycle, step, capacity, voltage, units).

    A capacity in mAh (not mAh/g) is a problem unless `am_mass_mg` is given.
    """
    path = Path(path)
    problems: list[Problem] = []
    if not path.is_file():
        _header_and_rows(path, problems)
        return problems
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            first = _first_line(fh)
    except UnicodeDecodeError:
        return [(str(path), "file", "not a text file (CSV/TSV expected)")]
    if first is None:
        return [(str(path), "file", "is empty (no header, no data)")]
    delim = _delimiter(first)
    if delim is None:
        return [(str(path), "header", f"cannot find the column separator (tab, ';' or ',') in "
                                      f"the first line {first.strip()!r}")]
    header = [c.strip() for c in next(csv.reader([first], delimiter=delim))]
    found = _columns(path, header, _CYCLING_ROLES, _CYCLING_EXAMPLE, problems)
    if "capacity" in found:
        index, unit, _ = found["capacity"]
        _capacity_unit(path, header[index], unit, am_mass_mg, problems)
    if "voltage" in found:
        index, unit, _ = found["voltage"]
        _unit_factor(path, "voltage", header[index], unit, problems)
    return problems


def _step_kind(text: str) -> str | None:
    s = _norm(text)
    if s in {"rest", "r", "ocv", "pause", "relax", "relaxation"}:
        return "rest"
    if "dis" in s or "dchg" in s or s in {"d", "red", "reduction"}:
        return "discharge"
    if "ch" in s or s in {"c", "ox", "oxidation"}:
        return "charge"
    return None


def read_cycling(path: str | Path, *, am_mass_mg: float | None = None) -> Cycling:
    """Read a galvanostatic cycling CSV/TSV (cycle, step, capacity, voltage).

    Parameters
    ----------
    path : str or Path
        The file.
    am_mass_mg : float, optional
        Active-material mass in mg; needed when the capacity column is in mAh.

    Returns
    -------
    Cycling

    Raises
    ------
    RawDataError
        Listing every problem (missing columns or units, non-numbers, unknown step names,
        negative or fractional cycle numbers, no discharge step), one line each.
    """
    path = Path(path)
    problems: list[Problem] = []
    header, rows = _header_and_rows(path, problems)
    if not header:
        _raise(problems)
    found = _columns(path, header, _CYCLING_ROLES, _CYCLING_EXAMPLE, problems)
    cap_factor = volt_factor = None
    if "capacity" in found:
        i, unit, _ = found["capacity"]
        cap_factor = _capacity_unit(path, header[i], unit, am_mass_mg, problems)
    if "voltage" in found:
        i, unit, _ = found["voltage"]
        volt_factor = _unit_factor(path, "voltage", header[i], unit, problems)
    values = {role: _numbers(path, rows, found[role][0], f"{role} ({header[found[role][0]]!r})",
                             problems)
              for role in ("cycle", "capacity", "voltage") if role in found}
    steps = np.array([], dtype=str)
    if "step" in found:
        i = found["step"][0]
        texts = [cells[i] if i < len(cells) else "" for _, cells in rows]
        kinds = [_step_kind(t) for t in texts]
        unknown = sorted({t for t, k in zip(texts, kinds, strict=True) if k is None})
        if unknown:
            problems.append((str(path), f"step ({header[i]!r})",
                             f"unknown step name(s) {unknown[:_MAX_LISTED]}; expected charge, "
                             "discharge or rest (or C, D, R)"))
        steps = np.array([k or "" for k in kinds], dtype=str)
    if "cycle" in values:
        cycle = values["cycle"]
        bad = np.flatnonzero(np.isfinite(cycle) & ((cycle < 0) | (cycle != np.round(cycle))))
        if bad.size:
            problems.append((str(path), f"cycle ({header[found['cycle'][0]]!r})",
                             f"{bad.size} value(s) are not whole numbers >= 0 "
                             f"(data rows {_listed(bad)})"))
    if not rows:
        problems.append((str(path), "rows", "no data rows below the header"))
    elif steps.size and not np.any(steps == "discharge"):
        problems.append((str(path), "step", "no discharge step: the discharge capacity is "
                                            "undefined"))
    _raise(problems)
    assert cap_factor is not None and volt_factor is not None
    return Cycling(
        cycle=values["cycle"].astype(np.int64), step=steps,
        capacity_mah_per_g=values["capacity"] * cap_factor,
        voltage_v=values["voltage"] * volt_factor, path=str(path),
    )


def step_capacities(cycling: Cycling, kind: str) -> dict[int, float]:
    """Capacity (mAh/g) of every cycle's `kind` steps: per contiguous run, max minus min, summed.

    Examples
    --------
    >>> c = Cycling(np.array([1, 1, 1, 1]), np.array(["charge", "charge", "discharge",
    ...             "discharge"]), np.array([0.0, 150.0, 0.0, 140.0]), np.ones(4), "x.csv")
    >>> step_capacities(c, "discharge")
    {1: 140.0}
    """
    out: dict[int, float] = {}
    n = len(cycling.cycle)
    start = 0
    while start < n:
        stop = start + 1
        while (stop < n and cycling.step[stop] == cycling.step[start]
               and cycling.cycle[stop] == cycling.cycle[start]):
            stop += 1
        if cycling.step[start] == kind:
            run = cycling.capacity_mah_per_g[start:stop]
            cycle = int(cycling.cycle[start])
            out[cycle] = out.get(cycle, 0.0) + float(np.max(np.abs(run)) - np.min(np.abs(run))
                                                     if run.size > 1 else abs(run[0]))
        start = stop
    return {c: v for c, v in sorted(out.items()) if math.isfinite(v)}
