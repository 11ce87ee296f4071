"""Import hygiene: the core stays light and never depends on verify."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_symsched_does_not_import_torch_sklearn_or_verify() -> None:
    code = (
        "import sys, symsched; "
        "print(sorted(m for m in ('torch', 'sklearn', 'verify') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_symsched_never_imports_verify() -> None:
    offenders = []
    for path in (ROOT / "symsched").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "verify"
            ]
    assert offenders == []


_HEAVY = ("sympy", "scipy", "torch", "matplotlib", "symsched.highdim.cw", "symsched.highdim.gm")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}; import sys; print(sorted(m for m in {_HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if line.startswith("[")][-1:]


def test_cli_and_its_parser_load_no_sympy_scipy_torch_matplotlib() -> None:
    # start-up stays light: every command's parser is built from the registries alone
    assert _loaded_after("import symsched.cli; symsched.cli.build_parser()") == ["[]"]


def test_one_step_kl_and_karras_run_without_sympy() -> None:
    # the numeric functions are generated ahead of time (symsched/_generated.py): no derivation runs
    for argv in (
        ["kl", "--eigenvalues", "1,2", "--sigmas", "80,0.002", "--json"],
        ["schedule", "karras", "--steps", "1"],
    ):
        code = f"import symsched.cli; assert symsched.cli.main({argv!r}) == 0"
        assert _loaded_after(code) == ["[]"], argv


def test_public_names_resolve_lazily() -> None:
    import symsched

    for name in symsched.__all__:
        assert getattr(symsched, name) is not None, name
    assert sorted(symsched.METHODS) and "karras" in symsched.METHODS


def test_gaussian_package_reexports_every_derivation() -> None:
    import symsched.gaussian as g
    from symsched.gaussian import derive

    assert set(g._DERIVE_NAMES) == set(derive.__all__)
    assert all(getattr(g, n) is getattr(derive, n) for n in derive.__all__)
