"""Exporters: an N-step grid in the form each consumer expects.

The conventions of docs/conventions.md#export-conventions.

One module per consumer format registers it in :data:`EXPORTERS` on import (``json``, ``csv``,
``k-diffusion``, ``comfyui``, ``diffusers-euler``, ``diffusers-timesteps``, ``flow-matching``);
:func:`export` renders a schedule in any of them, as N consumer steps for an N-step schedule
(docs/conventions.md#steps-and-the-final-0), with each sampler's NFE.
"""

from __future__ import annotations

import importlib
import pkgutil

from symsched.export._base import (
    EXPORTERS,
    Exported,
    Exporter,
    export,
    get_exporter,
    register_exporter,
)
from symsched.export.flow_matching import flow_levels, flow_sigmas

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if not _module.startswith("_"):
        importlib.import_module(f"{__name__}.{_module}")

FORMATS: tuple[str, ...] = tuple(sorted(EXPORTERS))
"""The registered format names, sorted."""

__all__ = [
    "EXPORTERS",
    "FORMATS",
    "Exported",
    "Exporter",
    "export",
    "flow_levels",
    "flow_sigmas",
    "get_exporter",
    "register_exporter",
]
