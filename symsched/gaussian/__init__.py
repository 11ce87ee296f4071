r"""Gaussian theory of the deterministic samplers (Sun, Poor, Zhang, arXiv 2601.13602).

For a Gaussian source every sampler acts on each covariance eigen-direction separately, so the
output law is closed-form and the KL to the source is exact.

- :mod:`~symsched.gaussian.derive` — the SymPy derivations (Tweedie denoiser, DDIM gain, angle
  identity, variance loss, KL per direction); re-exported here (imported on first use).
- :mod:`~symsched.gaussian.exact` — fast exact numerics: variance ratios, both KLs, trajectories.
- :mod:`~symsched.gaussian.tangent` — the tangent law and its coefficient gamma*.
- :mod:`~symsched.gaussian.asymptotics` — the Euler–Maclaurin expansion of the KL in N.
- :mod:`~symsched.gaussian.variational` — Euler–Lagrange optima and the exact finite-N optimum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from symsched._lazy import lazy_attributes

if TYPE_CHECKING:
    from symsched.gaussian import asymptotics, derive, exact, tangent, variational
    from symsched.gaussian.derive import (
        Step,
        angle,
        angle_identity_residual,
        cos2_angle_step,
        cos2_pure_noise,
        ddim_gain_rho,
        ddim_gain_vp,
        derivation,
        exact_flow_gain_rho,
        gain_minus_one_rho,
        gaussian_log_density,
        kl_output_source,
        kl_source_output,
        marginal_variance_rho,
        marginal_variance_vp,
        matrix_gain_commutator,
        prior_start_log_ratio,
        pure_noise_first_step_variance,
        tweedie_denoiser_rho,
        variance_loss_from_pure_noise,
        variance_loss_step,
    )

_SUBMODULES = ("asymptotics", "derive", "exact", "tangent", "variational")

# the derivations (symsched.gaussian.derive.__all__), re-exported on first use
_DERIVE_NAMES = (
    "Step",
    "angle",
    "angle_identity_residual",
    "cos2_angle_step",
    "cos2_pure_noise",
    "ddim_gain_rho",
    "ddim_gain_vp",
    "derivation",
    "exact_flow_gain_rho",
    "gain_minus_one_rho",
    "gaussian_log_density",
    "kl_output_source",
    "kl_source_output",
    "marginal_variance_rho",
    "marginal_variance_vp",
    "matrix_gain_commutator",
    "prior_start_log_ratio",
    "pure_noise_first_step_variance",
    "tweedie_denoiser_rho",
    "variance_loss_from_pure_noise",
    "variance_loss_step",
)

__all__ = [
    "Step",
    "angle",
    "angle_identity_residual",
    "asymptotics",
    "cos2_angle_step",
    "cos2_pure_noise",
    "ddim_gain_rho",
    "ddim_gain_vp",
    "derivation",
    "derive",
    "exact",
    "exact_flow_gain_rho",
    "gain_minus_one_rho",
    "gaussian_log_density",
    "kl_output_source",
    "kl_source_output",
    "marginal_variance_rho",
    "marginal_variance_vp",
    "matrix_gain_commutator",
    "prior_start_log_ratio",
    "pure_noise_first_step_variance",
    "tangent",
    "tweedie_denoiser_rho",
    "variance_loss_from_pure_noise",
    "variance_loss_step",
    "variational",
]


__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        **{n: f"{__name__}.{n}" for n in _SUBMODULES},
        **dict.fromkeys(_DERIVE_NAMES, f"{__name__}.derive"),
    },
    __all__,
)
