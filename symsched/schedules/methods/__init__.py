"""The schedule methods: each module registers one method (and its options) on import.

Importing this package imports every module in it, so :data:`symsched.schedules.METHODS` is
complete; :mod:`symsched` imports it last, after the theory the methods build on.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
