r"""Run real diffusers schedulers end to end on the exact Gaussian denoiser (export oracle).

The "model" is the exact (Bayes) predictor of the source :math:`\mathcal N(0,\mathrm{diag}(\lambda))`,
written from the textbook definitions, independently of :mod:`symsched.gaussian`:

* VP / epsilon prediction [ho2020, Eq. (11)]: the model sees :math:`x_t=\sqrt{\bar\alpha}x_0+\sqrt{1-\bar\alpha}\epsilon`
  and the timestep ``t``; it knows its noise level only through ``t`` and the training table it
  was trained on (``scheduler.alphas_cumprod``), exactly as a trained network does:
  :math:`\hat\epsilon=\sqrt{1-\bar\alpha}\,x/(\bar\alpha\lambda+1-\bar\alpha)`.
* Flow matching [lipman2023]: :math:`x_t=(1-t)x_0+t\epsilon`, ``timestep = 1000 t``; velocity
  :math:`\hat v=\mathbb E[\epsilon-x_0\mid x_t]=(t-(1-t)\lambda)\,x/((1-t)^2\lambda+t^2)`.

A wrong convention (a missing terminal level, a re-applied shift, an input scaling, a mis-read
timestep) makes the model predict at the wrong level, and the output covariance no longer matches
the closed form: this proves the convention, not just the numbers. Every driver returns the output
samples in the data scale and the noise levels :math:`\rho` the model was actually queried at.

diffusers is imported lazily (it is a test-time dependency, not one of symsched's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ConsumerRun",
    "run_dpm_timesteps",
    "run_euler_sigmas",
    "run_flow_euler",
    "run_unipc_flow",
    "table_sigma_at",
]


@dataclass(frozen=True)
class ConsumerRun:
    """Output samples ``(n, d)`` (data scale) and the levels the model was queried at.

    ``queried`` holds :math:`\\rho` at every model call; ``scheduler_sigmas`` the scheduler's own
    noise levels (its ``sigmas`` attribute, converted to :math:`\\rho`), terminal value included.
    """

    samples: NDArray[np.float64]
    queried: NDArray[np.float64]
    scheduler_sigmas: NDArray[np.float64]


def _torch() -> Any:
    import torch

    return torch


def table_sigma_at(alphas_cumprod: Any, t: float) -> float:
    """Noise level of (fractional) training timestep ``t``: log-linear interpolation of the table.

    For integer ``t`` this is the table entry; for fractional ``t`` (``EulerDiscreteScheduler`` with
    ``sigmas=``) it inverts diffusers' ``_sigma_to_t``, which interpolates ``t`` linearly in log sigma.
    """
    ac = np.asarray(alphas_cumprod, dtype=np.float64)
    log_sig = np.log(np.sqrt((1 - ac) / ac))
    return float(np.exp(np.interp(t, np.arange(ac.size, dtype=np.float64), log_sig)))


def _eps_vp(x: Any, rho: float, lam: Any) -> Any:
    ab = 1.0 / (1.0 + rho * rho)
    return math.sqrt(1 - ab) * x / (ab * lam + (1 - ab))


def _noise(n: int, d: int, seed: int) -> tuple[Any, Any]:
    torch = _torch()
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, d, generator=g, dtype=torch.float64)
    e = torch.randn(n, d, generator=g, dtype=torch.float64)
    return z, e


def run_euler_sigmas(sigmas: Sequence[float], lam: Sequence[float], n: int, seed: int, *,
                     beta_schedule: str = "scaled_linear") -> ConsumerRun:
    r"""``EulerDiscreteScheduler.set_timesteps(sigmas=...)`` with an epsilon model.

    Starts from ``randn * init_noise_sigma`` (:math:`\bar x\sim\mathcal N(0,\sigma_0^2)`: symsched's
    ``start="prior"``); output is :math:`\bar x` at the terminal level.
    """
    torch = _torch()
    from diffusers import EulerDiscreteScheduler

    betas = {"scaled_linear": (0.00085, 0.012), "linear": (1e-4, 0.02)}[beta_schedule]
    sched = EulerDiscreteScheduler(num_train_timesteps=1000, beta_start=betas[0], beta_end=betas[1],
                                   beta_schedule=beta_schedule, prediction_type="epsilon")
    sched.set_timesteps(sigmas=list(sigmas))
    lam_t = torch.as_tensor(np.asarray(lam, dtype=np.float64))
    _, e = _noise(n, lam_t.numel(), seed)
    x = e * float(sched.init_noise_sigma)
    queried = []
    for t in sched.timesteps:
        xin = sched.scale_model_input(x, t)
        rho = table_sigma_at(sched.alphas_cumprod, float(t))
        queried.append(rho)
        eps = _eps_vp(xin.to(torch.float64), rho, lam_t)
        x = sched.step(eps, t, x).prev_sample.to(torch.float64)
    return ConsumerRun(x.numpy(), np.array(queried), sched.sigmas.double().numpy())


def run_dpm_timesteps(timesteps: Sequence[int], lam: Sequence[float], n: int, seed: int, *,
                      beta_schedule: str = "scaled_linear", solver_order: int = 1) -> ConsumerRun:
    r"""``DPMSolverMultistepScheduler.set_timesteps(timesteps=...)`` (DPM-Solver++, final step to 0).

    ``solver_order=1`` is DDIM [lu2022dpmpp, §4]. The VP state starts from the exact marginal at the
    first timestep's level (symsched's ``start="exact"``); the output is the VP state at level 0.
    """
    torch = _torch()
    from diffusers import DPMSolverMultistepScheduler

    betas = {"scaled_linear": (0.00085, 0.012), "linear": (1e-4, 0.02)}.get(beta_schedule, (1e-4, 0.02))
    sched = DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_start=betas[0], beta_end=betas[1],
                                        beta_schedule=beta_schedule, prediction_type="epsilon",
                                        algorithm_type="dpmsolver++", solver_order=solver_order,
                                        final_sigmas_type="zero")
    sched.set_timesteps(timesteps=list(timesteps))
    lam_t = torch.as_tensor(np.asarray(lam, dtype=np.float64))
    z, e = _noise(n, lam_t.numel(), seed)
    rho0 = table_sigma_at(sched.alphas_cumprod, float(sched.timesteps[0]))
    x = (z * lam_t.sqrt() + rho0 * e) / math.sqrt(1 + rho0 * rho0)  # VP state at rho0, exact marginal
    queried = []
    for t in sched.timesteps:
        rho = table_sigma_at(sched.alphas_cumprod, float(t))
        queried.append(rho)
        eps = _eps_vp(x, rho, lam_t)
        x = sched.step(eps, t, x).prev_sample.to(torch.float64)
    return ConsumerRun(x.numpy(), np.array(queried), sched.sigmas.double().numpy())


def _velocity(x: Any, t: float, lam: Any) -> Any:
    return (t - (1 - t) * lam) * x / ((1 - t) ** 2 * lam + t * t)


def _flow_start(t0: float, lam: Any, n: int, seed: int) -> Any:
    z, e = _noise(n, lam.numel(), seed)
    return (1 - t0) * lam.sqrt() * z + t0 * e  # exact marginal at t0 (pure noise at t0 = 1)


def _rho(t: float) -> float:
    return math.inf if t >= 1.0 else t / (1.0 - t)


def run_flow_euler(sigmas: Sequence[float], shift: float, lam: Sequence[float], n: int, seed: int) -> ConsumerRun:
    """``FlowMatchEulerDiscreteScheduler(shift=shift).set_timesteps(sigmas=...)`` with a velocity model.

    The model reads its flow time from the timestep it is given (``t = timestep / 1000``).
    """
    torch = _torch()
    from diffusers import FlowMatchEulerDiscreteScheduler

    sched = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=float(shift))
    sched.set_timesteps(sigmas=list(sigmas))
    lam_t = torch.as_tensor(np.asarray(lam, dtype=np.float64))
    x = _flow_start(float(sched.sigmas[0]), lam_t, n, seed)
    queried = []
    for ts in sched.timesteps:
        t = float(ts) / 1000.0
        queried.append(_rho(t))
        x = sched.step(_velocity(x, t, lam_t), ts, x).prev_sample.to(torch.float64)
    return ConsumerRun(x.numpy(), np.array(queried),
                       np.array([_rho(float(v)) for v in sched.sigmas.double()]))


def run_unipc_flow(sigmas: Sequence[float], shift: float, lam: Sequence[float], n: int, seed: int, *,
                   solver_order: int = 1, corrector: bool = False) -> ConsumerRun:
    """``UniPCMultistepScheduler(use_flow_sigmas=True, flow_shift=shift).set_timesteps(sigmas=...)``.

    UniPC stores flow timesteps as ``int64`` (``floor(1000 t)``), which cannot carry the flow time
    exactly, so the model here is conditioned on the scheduler's own level ``sigmas[step_index]``;
    ``queried`` records it. With ``solver_order=1`` and the corrector off, UniP-1 is DDIM
    [zhao2023unipc, §3.2].
    """
    torch = _torch()
    from diffusers import UniPCMultistepScheduler

    sched = UniPCMultistepScheduler(num_train_timesteps=1000, use_flow_sigmas=True, flow_shift=float(shift),
                                    prediction_type="flow_prediction", solver_order=solver_order,
                                    final_sigmas_type="zero",
                                    disable_corrector=[] if corrector else list(range(len(sigmas) + 1)))
    # UniPC's flow branch multiplies the sigmas by a float before converting them, so a plain list
    # raises TypeError (diffusers 0.42.1); an ndarray works.
    sched.set_timesteps(sigmas=np.asarray(sigmas, dtype=np.float64))
    lam_t = torch.as_tensor(np.asarray(lam, dtype=np.float64))
    x = _flow_start(float(sched.sigmas[0]), lam_t, n, seed)
    queried = []
    for i, ts in enumerate(sched.timesteps):
        t = float(sched.sigmas[i])
        queried.append(_rho(t))
        x = sched.step(_velocity(x, t, lam_t), ts, x).prev_sample.to(torch.float64)
    return ConsumerRun(x.numpy(), np.array(queried),
                       np.array([_rho(float(v)) for v in sched.sigmas.double()]))
