r"""Every tolerance of the project, in one place (this package), each with the reason for its size.

One module per area (``_gaussian``, ``_asymptotics``, ``_stein``, ``_highdim`` ...), all re-exported
here: tests and claims import ``from verify import tolerances as tol`` and never use magic numbers.
"""

from __future__ import annotations

import importlib
import pkgutil

from symsched_verify.tolerances._gaussian import *
from symsched_verify.tolerances._gaussian import __all__ as _gaussian_all

__all__ = list(_gaussian_all)

for _m in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _m == "_gaussian":
        continue
    _mod = importlib.import_module(f"{__name__}.{_m}")
    for _name in getattr(_mod, "__all__", ()):
        if _name in globals() and globals()[_name] is not getattr(_mod, _name):
            raise ImportError(f"tolerance {_name} is defined twice ({_m})")
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
