r"""Gaussian theory of the deterministic samplers (Sun, Poor, Zhang, arXiv 2601.13602).

For a Gaussian source every sampler acts on each covariance eigen-direction separately, so the
output law is closed-form and the KL to the source is exact.

- :mod:`~symsched.gaussian.derive` — the SymPy derivations (Tweedie denoiser, DDIM gain, angle
  identity, variance loss, KL per direction); re-exported here.
- :mod:`~symsched.gaussian.exact` — fast exact numerics: variance ratios, both KLs, trajectories.
- :mod:`~symsched.gaussian.tangent` — the tangent law and its coefficient gamma*.
- :mod:`~symsched.gaussian.asymptotics` — the Euler–Maclaurin expansion of the KL in N.
- :mod:`~symsched.gaussian.variational` — Euler–Lagrange optima and the exact finite-N optimum.
"""

from __future__ import annotations

from symsched.gaussian import asymptotics, derive, exact, tangent, variational
from symsched.gaussian.derive import *  # noqa: F403  (the derivations are this package's API)
from symsched.gaussian.derive import __all__ as _derive_all

__all__ = ["asymptotics", "derive", "exact", "tangent", "variational", *_derive_all]
