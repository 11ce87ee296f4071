r"""symsched: derive, compute and verify diffusion noise schedules.

The SymPy core derives the exact Gaussian theory of the deterministic sampler (closed-form
trajectory, both KL directions, tangent law, gamma*) and compiles it into fast numpy / torch /
mpmath functions through one lambdify bridge (:mod:`symsched.numeric`).

Public API
----------
- :func:`kl`, :func:`log_variance_ratios`, :func:`variance_ratios`, :func:`kl_mpmath` — exact numerics
- :func:`build` / :class:`Schedule` — schedules by method name; :mod:`symsched.schedules.families` — the families
- :func:`tangent_sigmas`, :func:`gamma_star` — the tangent law
- :mod:`symsched.gaussian.derive`, :mod:`symsched.gaussian.tangent` — the symbolic derivations
"""

from __future__ import annotations

from symsched._version import __version__
from symsched.gaussian.exact import (
    GaussianKL,
    kl,
    kl_mpmath,
    log_variance_ratios,
    output_covariance,
    variance_ratios,
    variance_trajectory,
)
from symsched.gaussian.tangent import gamma_star, tangent_sigmas
from symsched.schedules._registry import METHODS, Schedule, build

__all__ = [
    "METHODS",
    "GaussianKL",
    "Schedule",
    "__version__",
    "build",
    "gamma_star",
    "kl",
    "kl_mpmath",
    "log_variance_ratios",
    "output_covariance",
    "tangent_sigmas",
    "variance_ratios",
    "variance_trajectory",
]
