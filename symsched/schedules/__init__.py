"""Schedules: families, the method registry, AYS tables, training tables, pretrained ranking."""

from __future__ import annotations

from symsched.schedules._registry import (
    METHODS,
    MethodSpec,
    OptionSpec,
    Schedule,
    build,
    json_safe,
    register_method,
)

__all__ = [
    "METHODS",
    "MethodSpec",
    "OptionSpec",
    "Schedule",
    "build",
    "json_safe",
    "register_method",
]
