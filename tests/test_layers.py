"""Imports point downward: every module of the package against the README's layer table.

The order lives in ``README.md`` (the table between the ``layers:begin`` and
``layers:end`` markers), so the documentation and this check cannot drift. A
module belongs to the row whose entry is its longest dotted prefix; it may
import its own row and the rows below it. Imports are read statically with
``ast`` (module level, inside functions and under ``TYPE_CHECKING`` alike).
Importing ``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``, so
what those import counts as imported too. A row naming a package that does
not exist (yet) is fine; a module the table does not place is an error.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "pytest_monerosim"
README = ROOT / "README.md"


def read_layers(text: str) -> list[tuple[str, list[str]]]:
    """``[(layer name, [module prefixes])]`` bottom first, from the README's table."""
    body = re.search(r"<!-- layers:begin -->(.*?)<!-- layers:end -->", text, re.S)
    assert body, "README.md has no <!-- layers:begin --> ... <!-- layers:end --> table"
    rows: list[tuple[int, str, list[str]]] = []
    for line in body.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].isdigit():
            continue
        rows.append((int(cells[0]), cells[1], re.findall(r"`([\w.]+)`", cells[2])))
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "layer rows must be numbered 1..n"
    return [(name, mods) for _, name, mods in rows]


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted name → file for every module of ``package`` under ``root``."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules: dict[str, Path], package: str) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every in-package module that ``name``'s file imports."""
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # ``from a import b`` imports module ``a.b`` when there is one, else a name of ``a``
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
        else:
            continue
        for target in targets:
            if target == package or not target.startswith(package + "."):
                continue
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            yield node.lineno, target


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    via: str
    layer: str
    imported_layer: str

    def __str__(self) -> str:
        via = f" (through {self.via}'s __init__)" if self.via != self.imported else ""
        return (f"{self.module}:{self.line} ({self.layer}) imports {self.imported}{via} "
                f"({self.imported_layer}), a layer above it")


def check(root: Path, package: str, layers: list[tuple[str, list[str]]]) -> tuple[list[Violation], list[str]]:
    """Upward imports and modules the table does not place."""
    modules = module_files(root, package)
    rank: dict[str, tuple[int, str]] = {}
    for i, (layer, prefixes) in enumerate(layers):
        for prefix in prefixes:
            rank[f"{package}.{prefix}"] = (i, layer)

    def layer_of(mod: str) -> tuple[int, str] | None:
        probe = mod
        while probe not in rank and "." in probe:
            probe = probe.rsplit(".", 1)[0]
        return rank.get(probe)

    direct = {m: list(imports_of(m, p, modules, package)) for m, p in modules.items()}
    unplaced = sorted(m for m in modules if m != package and layer_of(m) is None)
    found: dict[tuple[str, int, str], Violation] = {}
    for mod, edges in direct.items():
        mine = layer_of(mod)
        if mine is None:
            continue
        for line, target in edges:
            # importing a.b.c runs the __init__ of a.b and a: what they import comes along
            reached = [(target, target)]
            parent = target.rsplit(".", 1)[0]
            while parent != package and parent.startswith(package + "."):
                if mod != parent and not mod.startswith(parent + "."):
                    reached += [(t, parent) for _, t in direct.get(parent, [])]
                parent = parent.rsplit(".", 1)[0]
            for imported, via in reached:
                theirs = layer_of(imported)
                if theirs is not None and theirs[0] > mine[0]:
                    found.setdefault((mod, line, via), Violation(mod, line, imported, via, mine[1], theirs[1]))
    return sorted(found.values(), key=str), unplaced


def test_every_import_points_down_the_readme_layer_table() -> None:
    violations, unplaced = check(ROOT, PACKAGE, read_layers(README.read_text()))
    assert not unplaced, "modules the README's layer table does not place: " + ", ".join(unplaced)
    assert not violations, "upward imports:\n" + "\n".join(map(str, violations))


def test_readme_table_places_atomic_and_rng_at_the_bottom_and_the_plugin_on_top() -> None:
    layers = read_layers(README.read_text())
    assert {"atomic", "rng"} <= set(layers[0][1])
    assert {"plugin", "cli"} <= set(layers[-1][1])
    order = [name for name, _ in layers]
    assert order.index("config") < order.index("legacy") and order.index("topology") < order.index("legacy")
    assert order.index("topology") < order.index("layout") < order.index("sim")


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """A synthetic package: ``low`` at the bottom, ``mid``, then ``top``."""
    pkg = tmp_path / "toy"
    for sub in ("low", "mid", "top"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "base.py").write_text("import os\n")
    (pkg / "mid" / "core.py").write_text("from ..low import base\nfrom toy.low.base import os\n")
    (pkg / "top" / "app.py").write_text("from ..mid.core import base\nimport toy.low.base\n")
    return tmp_path


TOY_LAYERS = [("low", ["low"]), ("mid", ["mid"]), ("top", ["top"]), ("later", ["not_written_yet"])]


def test_checker_accepts_downward_imports(toy: Path) -> None:
    assert check(toy, "toy", TOY_LAYERS) == ([], [])


def test_checker_finds_an_upward_import_inside_a_function(toy: Path) -> None:
    (toy / "toy" / "low" / "base.py").write_text("def f():\n    from ..top import app\n    return app\n")
    violations, _ = check(toy, "toy", TOY_LAYERS)
    assert [str(v) for v in violations] == ["toy.low.base:2 (low) imports toy.top.app (top), a layer above it"]


def test_checker_finds_an_upward_import_through_a_package_init(toy: Path) -> None:
    (toy / "toy" / "low" / "__init__.py").write_text("from ..mid import core\n")
    (toy / "toy" / "low" / "other.py").write_text("")
    (toy / "toy" / "mid" / "__init__.py").write_text("")
    violations, _ = check(toy, "toy", [("low", ["low"]), ("mid", ["mid", "top"])])
    assert [v.module for v in violations] == ["toy.low"]
    (toy / "toy" / "top" / "x.py").write_text("")
    (toy / "toy" / "mid" / "y.py").write_text("import toy.low.other\n")
    # mid.y reaches low/__init__ (which imports mid.core): same layer, fine; low's own init is the culprit
    assert [v.module for v in check(toy, "toy", [("low", ["low"]), ("mid", ["mid", "top"])])[0]] == ["toy.low"]


def test_checker_names_modules_the_table_does_not_place(toy: Path) -> None:
    (toy / "toy" / "stray.py").write_text("")
    assert check(toy, "toy", TOY_LAYERS)[1] == ["toy.stray"]


def test_checker_reads_a_numbered_table() -> None:
    text = ("x\n<!-- layers:begin -->\n| # | layer | modules |\n|---|---|---|\n"
            "| 1 | base | `atomic`, `rng` |\n| 2 | top | `plugin` |\n<!-- layers:end -->\n")
    assert read_layers(text) == [("base", ["atomic", "rng"]), ("top", ["plugin"])]
