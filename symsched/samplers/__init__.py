"""Samplers and their exact Gaussian recursions."""

from __future__ import annotations

from symsched.samplers._recursions import *  # noqa: F403
from symsched.samplers._recursions import __all__
