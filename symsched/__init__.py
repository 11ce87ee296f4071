r"""symsched: derive, compute and verify the noise schedules of diffusion and flow models.

The SymPy core derives the exact Gaussian theory of deterministic samplers (closed-form output
law, both KL directions, the Euler–Maclaurin expansion in N, the tangent law and gamma*) and
compiles it into numpy / torch / mpmath functions through one lambdify bridge
(:mod:`symsched.numeric`); the numpy functions the commands run are generated from the
derivations ahead of time (:mod:`symsched._codegen`). See docs/index.md for the map of the
package.

Public API
----------
- :func:`kl`, :func:`log_variance_ratios`, :func:`variance_ratios`, :func:`kl_mpmath` — exact KL of
  any registered sampler (:data:`SAMPLERS`) on a Gaussian source
- :func:`criteria`, :func:`coupling_error` — both KLs and the coupling error (the exact
  teacher-trajectory error) of a grid under a sampler (docs/theory/coupling.md)
- :func:`build`, :class:`Schedule`, :data:`METHODS` — schedules by method name
- :func:`export`, :data:`EXPORTERS` — a schedule in the form a consumer takes
- :func:`tangent_sigmas`, :func:`gamma_star` — the tangent law
- :mod:`symsched.gaussian` — the derivations and the theory of Sun, Poor and Zhang

The names are imported on first use (PEP 562), so ``import symsched`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from symsched._lazy import lazy_attributes
from symsched._version import __version__

if TYPE_CHECKING:
    from symsched.export import EXPORTERS, export
    from symsched.gaussian.coupling import Criteria, coupling_error, criteria
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
    from symsched.samplers import SAMPLERS
    from symsched.schedules import METHODS, Schedule, build

__all__ = [
    "EXPORTERS",
    "METHODS",
    "SAMPLERS",
    "Criteria",
    "GaussianKL",
    "Schedule",
    "__version__",
    "build",
    "coupling_error",
    "criteria",
    "export",
    "gamma_star",
    "kl",
    "kl_mpmath",
    "log_variance_ratios",
    "output_covariance",
    "tangent_sigmas",
    "variance_ratios",
    "variance_trajectory",
]

_LAZY: dict[str, str] = {
    "EXPORTERS": "symsched.export",
    "export": "symsched.export",
    "Criteria": "symsched.gaussian.coupling",
    "coupling_error": "symsched.gaussian.coupling",
    "criteria": "symsched.gaussian.coupling",
    "GaussianKL": "symsched.gaussian.exact",
    "kl": "symsched.gaussian.exact",
    "kl_mpmath": "symsched.gaussian.exact",
    "log_variance_ratios": "symsched.gaussian.exact",
    "output_covariance": "symsched.gaussian.exact",
    "variance_ratios": "symsched.gaussian.exact",
    "variance_trajectory": "symsched.gaussian.exact",
    "gamma_star": "symsched.gaussian.tangent",
    "tangent_sigmas": "symsched.gaussian.tangent",
    "SAMPLERS": "symsched.samplers",
    "METHODS": "symsched.schedules",
    "Schedule": "symsched.schedules",
    "build": "symsched.schedules",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
