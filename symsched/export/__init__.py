"""Exporters: a grid in the form each consumer expects."""

from __future__ import annotations

from symsched.export._legacy import *  # noqa: F403
from symsched.export._legacy import __all__
