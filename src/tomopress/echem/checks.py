"""DAG-time checks of the sample sheet's electrochemistry columns (``eis``, ``cycling``).

Headers only (column names and units; an ``.mpr`` file is parsed whole, being small), so
``snakemake -n`` and ``tomopress validate`` report a bad spectrum or cycling file before any
job runs, with the raw scans' problems. Files inside the synthetic beamtime folder are made by
rule ``simulate_echem`` and must be named ``<name>.eis.csv`` / ``<name>.cycling.csv``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tomopress.echem.readers import cycling_header_problems, eis_header_problems
from tomopress.errors import RawDataError
from tomopress.intake.sheet import is_synthetic

__all__ = ["ECHEM_COLUMNS", "SYNTHETIC_SUFFIXES", "check_echem_inputs", "echem_config_problems",
           "echem_problems", "scan_of_file", "synthetic_echem_scan"]

#: sheet columns naming electrochemistry files
ECHEM_COLUMNS = ("eis", "cycling")
#: file-name endings of the files rule ``simulate_echem`` makes
SYNTHETIC_SUFFIXES = {"eis": ".eis.csv", "cycling": ".cycling.csv"}


def echem_problems(
    rows: Iterable[Mapping[str, Any]], *, synthetic_dir: str | Path | None,
) -> list[tuple[str, str, str]]:
    """Header problems of every existing ``eis`` and ``cycling`` file of the sheet rows.

    Missing files are the sheet check's to report (``line N: eis: file not found``).

    Returns
    -------
    list of (file, field, problem)
    """
    problems: list[tuple[str, str, str]] = []
    for row in rows:
        for column in ECHEM_COLUMNS:
            path = row.get(column)
            if not path:
                continue
            if is_synthetic(path, synthetic_dir):
                if not str(path).endswith(SYNTHETIC_SUFFIXES[column]):
                    problems.append((str(path), column, f"a file in the synthetic folder must be "
                                                        f"named <name>{SYNTHETIC_SUFFIXES[column]}"
                                                        " (rule simulate_echem makes it)"))
                continue
            if not Path(path).exists():
                continue
            if column == "eis":
                problems += eis_header_problems(path)
            else:
                problems += cycling_header_problems(path, am_mass_mg=row.get("am_mass_mg"))
    return problems


def check_echem_inputs(rows: Iterable[Mapping[str, Any]], *, synthetic_dir: str | Path | None
                       ) -> None:
    """Raise one `RawDataError` listing every problem of :func:`echem_problems`."""
    problems = echem_problems(rows, synthetic_dir=synthetic_dir)
    if problems:
        raise RawDataError.collect(problems)


def echem_config_problems(echem: Mapping[str, Any]) -> list[str]:
    """What is wrong with the config's ``echem`` block beyond its schema (one line each).

    The circuit must parse, the role elements must be in it, and an initial guess must have
    one value per parameter.

    Examples
    --------
    >>> echem_config_problems({"circuit": "R0-p(R1,CPE1)", "r_se_elements": ["R0"],
    ...                        "r_ct_element": "R2", "c_dl_element": None, "initial_guess": None})
    ["echem.r_ct_element: 'R2' is not an element of R0-p(R1,CPE1) (elements: R0, R1, CPE1)"]
    """
    from tomopress.echem.fit import _elements, circuit_param_names, circuit_problems

    circuit = echem["circuit"]
    problems = [f"echem.circuit: {p}" for p in circuit_problems(circuit)]
    if problems:
        return problems
    elements = _elements(circuit)
    roles = [("r_se_elements", name) for name in echem.get("r_se_elements") or []]
    roles += [(key, echem.get(key)) for key in ("r_ct_element", "c_dl_element")]
    for key, name in roles:
        if name and name not in elements:
            problems.append(f"echem.{key}: {name!r} is not an element of {circuit} "
                            f"(elements: {', '.join(elements)})")
    guess = echem.get("initial_guess")
    if guess is not None:
        names, _ = circuit_param_names(circuit)
        if len(guess) != len(names):
            problems.append(f"echem.initial_guess: {len(guess)} value(s) for the {len(names)} "
                            f"parameters {names} of {circuit}")
    return problems


def synthetic_echem_scan(
    rows: Iterable[Mapping[str, Any]], synthetic_dir: str | Path, name: str
) -> str:
    """The scan whose sheet row names ``<synthetic_dir>/<name>.eis.csv`` or ``.cycling.csv``
    (the files rule ``simulate_echem`` makes for wildcard `name`).

    Examples
    --------
    >>> synthetic_echem_scan([{"scan_id": "a", "cycling": "s/x.cycling.csv"}], "s", "x")
    'a'
    """
    base = str(synthetic_dir).rstrip("/")
    return scan_of_file(rows, [f"{base}/{name}{s}" for s in SYNTHETIC_SUFFIXES.values()])


def scan_of_file(rows: Iterable[Mapping[str, Any]], paths: Iterable[str]) -> str:
    """The scan_id of the first sheet row whose ``eis`` or ``cycling`` column is one of `paths`.

    Raises
    ------
    ValueError
        If no row names any of them.

    Examples
    --------
    >>> scan_of_file([{"scan_id": "a", "eis": "s/a.eis.csv"}], ["s/a.eis.csv", "s/a.cycling.csv"])
    'a'
    """
    wanted = {str(p).rstrip("/") for p in paths}
    for row in rows:
        if any(str(row.get(c) or "").rstrip("/") in wanted for c in ECHEM_COLUMNS):
            return str(row["scan_id"])
    raise ValueError(f"no sample-sheet row has eis or cycling in {sorted(wanted)}")
