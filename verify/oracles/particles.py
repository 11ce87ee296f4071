r"""Particle implementations of Euler-VP, Heun, DPM-Solver++(2M), Euler-ancestral and Heun in flow
time (full matrix).

Hand transcriptions of the loops of k-diffusion's ``sample_heun``, ``sample_dpmpp_2m`` and
``sample_euler_ancestral`` [crowson, ``k_diffusion/sampling.py``]
(docs/theory/samplers.md#reference-implementations), driven by the exact Gaussian denoiser in full
matrix form, :math:`D(\bar x,\sigma)=\Sigma(\Sigma+\sigma^2I)^{-1}\bar x` (Gaussian conditioning, no
eigendecomposition), and Euler on the VP probability-flow ODE in x with the score
:math:`-(\bar\alpha\Sigma+(1-\bar\alpha)I)^{-1}x`. Nothing here comes from
:mod:`symsched.samplers._recursions`. They are the numpy oracle; the real k-diffusion samplers are
checked as well, end to end, in :mod:`symsched_verify.claims.kdiffusion` (k-diffusion needs
torchvision, which the test extra pins beside torch: 2.14.1 / 0.29.1).

All functions act on a batch ``x`` of shape ``(n, D)`` in the scaled variable :math:`\bar
x=x/\alpha` and return the output batch; feeding the identity matrix returns the transposed linear
map. Heun in flow time (:func:`sample_flow_heun`, the loop of diffusers'
``FlowMatchHeunDiscreteScheduler``) runs on :math:`x_t=(1-t)x_0+t\epsilon` with the exact
velocity :math:`E[\epsilon-x_0\mid x_t]` from the joint Gaussian of :math:`(x_t,\epsilon-x_0)`,
written from the interpolant alone (no denoiser, no noise level).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "PARTICLE_SAMPLERS",
    "denoiser",
    "flow_velocity",
    "sample_dpmpp_2m",
    "sample_euler",
    "sample_euler_ancestral",
    "sample_euler_vp",
    "sample_flow_heun",
    "sample_heun",
    "start_covariance",
]

Array = NDArray[np.float64]


def denoiser(cov: Array) -> Callable[[Array, float], Array]:
    """Exact posterior mean E[x0 | xbar] at noise level sigma (rows of ``x``)."""
    eye = np.eye(cov.shape[0])

    def model(x: Array, sigma: float) -> Array:
        return (
            np.linalg.solve(cov + sigma * sigma * eye, x.T).T @ cov
        )  # Sigma (Sigma + s^2 I)^-1 x, Sigma symmetric

    return model


def _to_d(x: Array, sigma: float, denoised: Array) -> Array:
    return (x - denoised) / sigma  # k-diffusion to_d


def sample_euler(model: Callable[[Array, float], Array], x: Array, sigmas: Array) -> Array:
    """k-diffusion ``sample_euler`` with s_churn = 0 (= DDIM with the exact denoiser)."""
    for i in range(len(sigmas) - 1):
        d = _to_d(x, sigmas[i], model(x, sigmas[i]))
        x = x + d * (sigmas[i + 1] - sigmas[i])
    return x


def sample_heun(model: Callable[[Array, float], Array], x: Array, sigmas: Array) -> Array:
    """k-diffusion ``sample_heun`` with s_churn = 0."""
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        d = _to_d(x, sigmas[i], denoised)
        dt = sigmas[i + 1] - sigmas[i]
        if sigmas[i + 1] == 0:
            x = x + d * dt
        else:
            x_2 = x + d * dt
            denoised_2 = model(x_2, sigmas[i + 1])
            d_2 = _to_d(x_2, sigmas[i + 1], denoised_2)
            x = x + (d + d_2) / 2 * dt
    return x


def sample_dpmpp_2m(model: Callable[[Array, float], Array], x: Array, sigmas: Array) -> Array:
    """k-diffusion ``sample_dpmpp_2m`` (finite sigma_0)."""

    def t_fn(s: float) -> float:
        return -math.log(s)

    def sigma_fn(t: float) -> float:
        return math.exp(-t)

    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        if sigmas[i + 1] == 0:
            x = denoised  # sigma_fn(inf)/sigma_fn(t) * x - expm1(-inf) * denoised
        else:
            t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
            h = t_next - t
            if old_denoised is None:
                x = (sigma_fn(t_next) / sigma_fn(t)) * x - math.expm1(-h) * denoised
            else:
                h_last = t - t_fn(sigmas[i - 1])
                r = h_last / h
                denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
                x = (sigma_fn(t_next) / sigma_fn(t)) * x - math.expm1(-h) * denoised_d
        old_denoised = denoised
    return x


def get_ancestral_step(sigma_from: float, sigma_to: float, eta: float) -> tuple[float, float]:
    """k-diffusion ``get_ancestral_step``."""
    if not eta:
        return sigma_to, 0.0
    sigma_up = min(
        sigma_to, eta * (sigma_to**2 * (sigma_from**2 - sigma_to**2) / sigma_from**2) ** 0.5
    )
    sigma_down = (sigma_to**2 - sigma_up**2) ** 0.5
    return sigma_down, sigma_up


def sample_euler_ancestral(
    model: Callable[[Array, float], Array],
    x: Array,
    sigmas: Array,
    eta: float,
    rng: np.random.Generator,
) -> Array:
    """k-diffusion ``sample_euler_ancestral`` (s_noise = 1, Gaussian noise from ``rng``)."""
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i])
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta)
        d = _to_d(x, sigmas[i], denoised)
        dt = sigma_down - sigmas[i]
        x = x + d * dt
        if sigmas[i + 1] > 0:
            x = x + rng.standard_normal(x.shape) * sigma_up
    return x


def sample_euler_vp(cov: Array, x_bar: Array, sigmas: Array) -> Array:
    r"""Euler on :math:`dx/d\tau=-\tfrac12(x+\nabla\log p_\tau(x))`, :math:`\tau=-\ln\bar\alpha`, in
    the VP state x.

    Input and output in :math:`\bar x`; :math:`x=\sqrt{\bar\alpha}\,\bar x`. Finite sigma_0 only.
    """
    eye = np.eye(cov.shape[0])
    ab = 1.0 / (1.0 + sigmas[0] ** 2)
    x = math.sqrt(ab) * x_bar
    for i in range(len(sigmas) - 1):
        ab = 1.0 / (1.0 + sigmas[i] ** 2)
        ab_next = 1.0 / (1.0 + sigmas[i + 1] ** 2)
        score = -np.linalg.solve(ab * cov + (1 - ab) * eye, x.T).T
        dtau = -math.log(ab_next) + math.log(ab)
        x = x + dtau * (-(x + score) / 2)
    return x / math.sqrt(1.0 / (1.0 + sigmas[-1] ** 2))


def flow_velocity(cov: Array) -> Callable[[Array, float], Array]:
    r"""Exact velocity :math:`E[\epsilon-x_0\mid x_t]` of :math:`x_t=(1-t)x_0+t\epsilon`:
    :math:`(tI-(1-t)\Sigma)\,((1-t)^2\Sigma+t^2I)^{-1}x` (rows of ``x``)."""
    eye = np.eye(cov.shape[0])

    def v(x: Array, t: float) -> Array:
        var = (1 - t) ** 2 * cov + t * t * eye  # Cov x_t
        cross = t * eye - (1 - t) * cov  # Cov(eps - x0, x_t), symmetric
        return np.linalg.solve(var, x.T).T @ cross

    return v


def sample_flow_heun(cov: Array, x_bar: Array, sigmas: Array) -> Array:
    r"""Heun in flow time :math:`t=\sigma/(1+\sigma)` (diffusers' ``FlowMatchHeunDiscreteScheduler``
    loop): Euler predictor, the mean of the two velocities as corrector, Euler alone to t = 0.

    Input and output in :math:`\bar x=x_t/(1-t)`. Finite sigma_0 only.
    """
    v = flow_velocity(cov)
    t = [s / (1.0 + s) for s in sigmas]
    x = (1 - t[0]) * x_bar
    for i in range(len(t) - 1):
        dt = t[i + 1] - t[i]
        d = v(x, t[i])
        if t[i + 1] == 0:
            x = x + dt * d
        else:
            x_2 = x + dt * d
            x = x + dt * (d + v(x_2, t[i + 1])) / 2
    out: Array = x / (1 - t[-1])
    return out


def start_covariance(cov: Array, sigma0: float, start: str) -> Array:
    """Covariance of xbar at sigma_0: Sigma + sigma_0^2 I (exact) or sigma_0^2 I (prior)."""
    eye = np.eye(cov.shape[0])
    return cov + sigma0**2 * eye if start == "exact" else sigma0**2 * eye


ParticleSampler = Callable[[Array, Array, Array, np.random.Generator, Mapping[str, float]], Array]
"""``run(covariance, x, sigmas, rng, knobs) -> output``: one full-matrix loop, finite sigma_0."""

PARTICLE_SAMPLERS: dict[str, ParticleSampler] = {
    "ddim": lambda cov, x, s, rng, kn: sample_euler(denoiser(cov), x, s),
    "euler-vp": lambda cov, x, s, rng, kn: sample_euler_vp(cov, x, s),
    "flow-heun": lambda cov, x, s, rng, kn: sample_flow_heun(cov, x, s),
    "heun": lambda cov, x, s, rng, kn: sample_heun(denoiser(cov), x, s),
    "dpmpp-2m": lambda cov, x, s, rng, kn: sample_dpmpp_2m(denoiser(cov), x, s),
    "ancestral": lambda cov, x, s, rng, kn: sample_euler_ancestral(
        denoiser(cov), x, s, float(kn.get("eta", 1.0)), rng
    ),
}
"""The particle oracle of every sampler users run, by the sampler's registered name (a test checks
that the keys are exactly :func:`symsched.samplers.sampler_names`)."""
