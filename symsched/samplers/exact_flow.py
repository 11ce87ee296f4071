r"""The exact probability-flow map: the zero-KL reference, not a discretisation.

The PF-ODE :math:`d\bar x/d\rho=(\bar x-D)/\rho` solved in closed form keeps the marginal
(:func:`symsched.gaussian.derive.exact_flow_gain_rho`), so :math:`\ln r_i` is the start term alone
[sun2026, §3]. Used as the oracle of the KL functional: its KL must vanish for the exact start.
Exact over the whole input range (docs/cli.md#input-range).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from symsched._typing import FloatArray, Start
from symsched.samplers._base import (
    NoKnobs,
    Sampler,
    register_sampler,
    start_log_ratio,
    start_variance_mp,
    to_np,
)
from symsched.samplers._linear import LinearMapForm, pure_noise_limit

if TYPE_CHECKING:
    import mpmath


__all__ = ["ExactFlow"]


@register_sampler
class ExactFlow(Sampler):
    """The exact flow map (KL 0 from the exact start)."""

    name = "exact-flow"
    summary = "the exact probability-flow map (zero-KL reference)"
    reference = "Sun et al. 2026, §3 (the PF-ODE solved in closed form)"
    order = None
    oracle_only = True

    def linear_map_form(self) -> LinearMapForm:
        """The exact flow gain :func:`symsched.gaussian.derive.exact_flow_gain_rho`."""
        from symsched.gaussian import derive

        g = derive.exact_flow_gain_rho()
        return LinearMapForm(step=g, pure_noise=pure_noise_limit(g))

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: NoKnobs
    ) -> FloatArray:
        return to_np(start_log_ratio(eigenvalues, float(sigmas[0]), start))

    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: NoKnobs
    ) -> mpmath.mpf:
        import mpmath

        if levels[0] == mpmath.inf:
            return mpmath.mpf(1)
        return start_variance_mp(eigenvalue, levels[0], start) / (eigenvalue + levels[0] ** 2)
