"""Other tools' built-in schedules, reproduced exactly (``symsched schedule builtin``).

See :mod:`symsched.builtin._registry` for the record each entry carries, and docs/conformance.md
for what is reproduced, how it is proven equal, and where the tools disagree.
"""

from symsched.builtin import a1111, comfyui, diffusers, kdiffusion  # noqa: F401  (registration)
from symsched.builtin._registry import (
    BUILTINS,
    MAX_BUILTIN_STEPS,
    TOOLS,
    Builtin,
    BuiltinGrid,
    Provenance,
    builtin_names,
    get_builtin,
    parse_set,
    register_builtin,
)

__all__ = [
    "BUILTINS",
    "MAX_BUILTIN_STEPS",
    "TOOLS",
    "Builtin",
    "BuiltinGrid",
    "Provenance",
    "builtin_names",
    "get_builtin",
    "parse_set",
    "register_builtin",
]
