"""Schedules: the families, the registry of methods, AYS and training tables, pretrained ranking.

- :class:`Schedule` — an N-step grid with the parameters that produced it.
- :data:`METHODS`, :func:`build`, :func:`get_method`, :func:`method_names` — the method registry
  (one module per method in :mod:`symsched.schedules.methods`, each with a typed options class).
- :mod:`~symsched.schedules.families` — the smooth families as SymPy expressions of progress u.
- :mod:`~symsched.schedules.ays`, :mod:`~symsched.schedules.discrete`,
  :mod:`~symsched.schedules.pretrained` — published tables, training tables, pretrained ranking.
"""

from __future__ import annotations

# registers every method (each module is light: SymPy is imported when a family's expressions are)
from symsched.schedules import methods as _methods
from symsched.schedules._registry import (
    METHODS,
    Method,
    build,
    family_of,
    get_method,
    method_names,
    register_method,
)
from symsched.schedules._schedule import Schedule

__all__ = [
    "METHODS",
    "Method",
    "Schedule",
    "build",
    "family_of",
    "get_method",
    "method_names",
    "register_method",
]

del _methods
