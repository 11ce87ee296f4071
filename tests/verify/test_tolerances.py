"""The tolerance namespace: every area module's names are re-exported explicitly, none twice."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import symsched_verify.tolerances as tol


def _area_modules() -> dict[str, ModuleType]:
    names = sorted(m.name for m in pkgutil.iter_modules(tol.__path__))
    return {n: importlib.import_module(f"{tol.__name__}.{n}") for n in names}


def test_every_area_module_is_found() -> None:
    # the package holds one module per area; a new one must be re-exported (next test)
    assert set(_area_modules()) >= {"_asymptotics", "_export", "_gaussian", "_highdim", "_stein"}


def test_namespace_is_exactly_the_union_of_the_area_modules() -> None:
    owner: dict[str, str] = {}
    for name, mod in _area_modules().items():
        for attr in mod.__all__:
            assert attr not in owner, f"tolerance {attr} is defined in {owner.get(attr)} and {name}"
            owner[attr] = name
            assert getattr(tol, attr) is getattr(mod, attr), f"{attr} of {name} is not re-exported"
    assert sorted(tol.__all__) == sorted(owner)
    assert len(tol.__all__) == len(set(tol.__all__))


def _defined_at_top_level(mod: ModuleType) -> set[str]:
    tree = ast.parse(Path(str(mod.__file__)).read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def test_every_public_name_of_an_area_module_is_exported() -> None:
    # a tolerance defined but left out of __all__ would be invisible as tol.NAME
    for name, mod in _area_modules().items():
        public = _defined_at_top_level(mod)
        assert public, name
        assert public <= set(mod.__all__), f"{name}: {sorted(public - set(mod.__all__))}"
