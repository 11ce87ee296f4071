"""Samplers: one module per sampler, each with its exact Gaussian recursion.

See docs/theory/samplers.md.

:data:`SAMPLERS` maps every name to its :class:`Sampler` (``ancestral``, ``ddim``, ``dpmpp-2m``,
``euler-vp``, ``exact-flow``, ``flow-heun``, ``heun``: module order); :func:`sampler_names` lists
the ones users run.
Each module registers its sampler on import; importing this package imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil

from symsched.samplers._base import (
    SAMPLERS,
    NoKnobs,
    Sampler,
    get_sampler,
    register_sampler,
    sampler_names,
    start_log_ratio,
)
from symsched.samplers._network import Denoiser, StepCallback

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name[0] != "_"):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = [
    "SAMPLERS",
    "Denoiser",
    "NoKnobs",
    "Sampler",
    "StepCallback",
    "get_sampler",
    "register_sampler",
    "sampler_names",
    "start_log_ratio",
]
