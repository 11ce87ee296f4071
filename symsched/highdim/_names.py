"""The names of the high-dimensional time discretisations (light: the command line lists them)."""

from __future__ import annotations

__all__ = ["SCHEDULES"]

SCHEDULES: tuple[str, ...] = ("vp-constant", "vp-dilated", "ve-constant", "ve-dilated", "stein")
"""The schedules of :func:`symsched.highdim.schedules.build` (docs/theory/highdim.md)."""
