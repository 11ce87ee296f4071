"""Public names imported on first use (PEP 562): a package's ``__getattr__`` and ``__dir__``.

The packages that re-export heavy modules (SymPy derivations, torch models, simulators) list each
name with the module that defines it, so ``import symsched`` and the CLI's start-up load none of
them until a name is used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, names: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    names
        Each lazy name and the module that defines it; a name whose module is
        ``f"{package}.{name}"`` is that submodule itself.
    public
        The package's ``__all__`` (listed by ``dir()`` before first use).

    Returns
    -------
    tuple
        The two module-level functions; the first caches each value in the package's namespace,
        so it runs once per name, and raises ``AttributeError`` for any other name.
    """
    listed = sorted(set(public))

    def __getattr__(name: str) -> Any:
        path = names.get(name)
        if path is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = importlib.import_module(path)
        value = target if path == f"{package}.{name}" else getattr(target, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(listed))

    return __getattr__, __dir__
