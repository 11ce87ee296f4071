"""The documentation build's hooks (``docs/_hooks/*.py``, not a package), imported by path for the
tests that share their logic: the site's freshness stamp and the notebooks' execution cache.

``tests/`` is on ``sys.path`` under pytest, so the tests import this as
``from docs_hooks import load_hook``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

__all__ = ["load_hook"]

HOOKS = Path(__file__).resolve().parents[1] / "docs" / "_hooks"


def load_hook(name: str) -> ModuleType:
    """The module ``docs/_hooks/NAME.py``."""
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", HOOKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
