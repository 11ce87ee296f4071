"""Integrations with the tools that run symsched's grids.

- :mod:`~symsched.integrations.diffusers` — :func:`~symsched.integrations.diffusers.apply` sets a
  diffusers scheduler object's custom-grid argument so that it visits a schedule exactly.
"""

from __future__ import annotations

__all__: list[str] = []
