"""Every third-party module the adapter imports comes from a dependency pyproject.toml declares."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
    return {_canonical(names.match(spec).group(0)) for spec in project["dependencies"]}  # type: ignore[union-attr]


def _imported_top_level(source: str) -> set[str]:
    """Modules named by import statements and by importlib.import_module("literal") calls."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return {name.split(".")[0] for name in found}


def _third_party_imports() -> dict[str, set[Path]]:
    where: dict[str, set[Path]] = {}
    for path in (ROOT / "adapter").rglob("*.py"):
        for module in _imported_top_level(path.read_text()):
            if module != "adapter" and module not in sys.stdlib_module_names:
                where.setdefault(module, set()).add(path.relative_to(ROOT))
    return where


def test_every_third_party_import_is_a_declared_dependency():
    declared = _declared()
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, paths in _third_party_imports().items():
        providers = {_canonical(d) for d in distributions.get(module, [])}
        if not providers & declared:
            undeclared[module] = (sorted(providers) or ["not installed"], sorted(map(str, paths)))
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_the_walk_sees_imports_that_arrive_only_through_another_package():
    # click and werkzeug are installed by Flask; the walk must still name them.
    assert {"click", "werkzeug"} <= set(_third_party_imports())
    assert "fhir" in _imported_top_level('importlib.import_module("fhir.resources.R4B")')
