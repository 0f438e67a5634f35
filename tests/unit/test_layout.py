"""The package tree: every module imports on its own, none loads Snakemake, and the raw-format
readers never import their dispatcher (the io package has no import circle)."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import tomopress

PACKAGE_DIR = Path(tomopress.__file__).parent
MODULES = sorted(m.name for m in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="tomopress."))


def test_the_tree_has_one_subpackage_per_stage():
    subpackages = {m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)]) if m.ispkg}
    assert subpackages >= {"io", "intake", "prep", "recon", "segment", "metrics", "tables",
                           "synthetic"}


def test_no_module_loads_snakemake():
    probe = (
        "import importlib, json, sys\n"
        f"names = {MODULES!r}\n"
        "loaded = {}\n"
        "for name in names:\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(name)\n"
        "    loaded[name] = sorted(m for m in set(sys.modules) - before"
        " if m.split('.')[0] == 'snakemake')\n"
        "print(json.dumps(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert len(loaded) == len(MODULES) > 50
    assert {name: mods for name, mods in loaded.items() if mods} == {}


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_format_readers_do_not_import_the_dispatcher():
    for reader in ("dxchange", "nxtomo", "tiffstack", "base"):
        imported = _imported_modules(PACKAGE_DIR / "io" / f"{reader}.py")
        assert "tomopress.io.formats" not in imported, reader
        assert "tomopress.io" not in imported, reader
