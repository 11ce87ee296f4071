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
