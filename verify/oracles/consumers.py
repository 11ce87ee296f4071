r"""Run real diffusers schedulers end to end on the exact Gaussian denoiser (export oracle).

The "model" is the exact (Bayes) predictor of the source :math:`\mathcal
N(0,\mathrm{diag}(\lambda))`, written from the textbook definitions, independently of
:mod:`symsched.gaussian.derive`:

* VP / epsilon prediction [ho2020, Eq. (11)]: the model sees
  :math:`x_t=\sqrt{\bar\alpha}x_0+\sqrt{1-\bar\alpha}\epsilon` and the timestep ``t``; it knows its
  noise level only through ``t`` and the training table it was trained on
  (``scheduler.alphas_cumprod``), exactly as a trained network does:
  :math:`\hat\epsilon=\sqrt{1-\bar\alpha}\,x/(\bar\alpha\lambda+1-\bar\alpha)`.
* Flow matching [lipman2023]: :math:`x_t=(1-t)x_0+t\epsilon`, ``timestep = 1000 t``; velocity
  :math:`\hat v=\mathbb E[\epsilon-x_0\mid x_t]=(t-(1-t)\lambda)\,x/((1-t)^2\lambda+t^2)`.

A wrong convention (a missing terminal level, a re-applied shift, an input scaling, a mis-read
timestep) makes the model predict at the wrong level, and the output covariance no longer matches
the closed form: this proves the convention, not just the numbers. Every driver returns the output
samples in the data scale and the noise levels :math:`\rho` the model was actually queried at.

k-diffusion [crowson] is driven the same way (:func:`run_kdiffusion`): its samplers work on
:math:`\bar x=x_0+\sigma\epsilon` (EDM's VE form, Karras et al. 2022, arXiv 2206.00364, Eq. (1) with
s(t) = 1) and call ``model(x, sigma * s_in)``; the model is the exact denoiser of
:math:`\mathcal N(0,\Sigma)` by Gaussian conditioning, :math:`D(\bar
x,\sigma)=\Sigma(\Sigma+\sigma^2I)^{-1}\bar x`, for a full (correlated) :math:`\Sigma`, again
independent of :mod:`symsched`.

diffusers and k-diffusion are imported lazily (test-time dependencies, not symsched's).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from symsched._typing import FloatArray

__all__ = [
    "KDIFFUSION_SAMPLERS",
    "ConsumerRun",
    "KDiffusionMissing",
    "import_kdiffusion",
    "kdiffusion_expected_queries",
    "run_dpm_flow",
    "run_dpm_timesteps",
    "run_euler_sigmas",
    "run_flow_euler",
    "run_flow_euler_dynamic",
    "run_flow_euler_steps",
    "run_flow_heun",
    "run_kdiffusion",
    "run_kdiffusion_linear_map",
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


def _scheduler(name: str, **config: Any) -> Any:
    """The diffusers scheduler class ``name`` built from ``config``.

    diffusers creates its schedulers' configuration and attributes at run time
    (``register_to_config``), so they are typed ``Any`` here and used through their documented
    interface.
    """
    import diffusers

    return getattr(diffusers, name)(**config)


def table_sigma_at(alphas_cumprod: Any, t: float) -> float:
    """Noise level of (fractional) training timestep ``t``: log-linear interpolation of the table.

    For integer ``t`` this is the table entry; for fractional ``t`` (``EulerDiscreteScheduler`` with
    ``sigmas=``) it inverts diffusers' ``_sigma_to_t``, which interpolates ``t`` linearly in log
    sigma.
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


def run_euler_sigmas(
    sigmas: Sequence[float],
    lam: ArrayLike,
    n: int,
    seed: int,
    *,
    beta_schedule: str = "scaled_linear",
) -> ConsumerRun:
    r"""``EulerDiscreteScheduler.set_timesteps(sigmas=...)`` with an epsilon model.

    Starts from ``randn * init_noise_sigma`` (:math:`\bar x\sim\mathcal N(0,\sigma_0^2)`: symsched's
    ``start="prior"``); output is :math:`\bar x` at the terminal level.
    """
    torch = _torch()
    betas = {"scaled_linear": (0.00085, 0.012), "linear": (1e-4, 0.02)}[beta_schedule]
    sched = _scheduler(
        "EulerDiscreteScheduler",
        num_train_timesteps=1000,
        beta_start=betas[0],
        beta_end=betas[1],
        beta_schedule=beta_schedule,
        prediction_type="epsilon",
    )
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


def run_dpm_timesteps(
    timesteps: Sequence[int],
    lam: ArrayLike,
    n: int,
    seed: int,
    *,
    beta_schedule: str = "scaled_linear",
    solver_order: int = 1,
) -> ConsumerRun:
    r"""``DPMSolverMultistepScheduler.set_timesteps(timesteps=...)`` (DPM-Solver++, final step to
    0).

    ``solver_order=1`` is DDIM [lu2022dpmpp, §4]. The VP state starts from the exact marginal at the
    first timestep's level (symsched's ``start="exact"``); the output is the VP state at level 0.
    """
    torch = _torch()
    betas = {"scaled_linear": (0.00085, 0.012), "linear": (1e-4, 0.02)}.get(
        beta_schedule, (1e-4, 0.02)
    )
    sched = _scheduler(
        "DPMSolverMultistepScheduler",
        num_train_timesteps=1000,
        beta_start=betas[0],
        beta_end=betas[1],
        beta_schedule=beta_schedule,
        prediction_type="epsilon",
        algorithm_type="dpmsolver++",
        solver_order=solver_order,
        final_sigmas_type="zero",
    )
    sched.set_timesteps(timesteps=list(timesteps))
    lam_t = torch.as_tensor(np.asarray(lam, dtype=np.float64))
    z, e = _noise(n, lam_t.numel(), seed)
    rho0 = table_sigma_at(sched.alphas_cumprod, float(sched.timesteps[0]))
    x = (z * lam_t.sqrt() + rho0 * e) / math.sqrt(
        1 + rho0 * rho0
    )  # VP state at rho0, exact marginal
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


def run_flow_euler(
    sigmas: Sequence[float], shift: float, lam: ArrayLike, n: int, seed: int
) -> ConsumerRun:
    """``FlowMatchEulerDiscreteScheduler(shift=shift).set_timesteps(sigmas=...)`` with a velocity
    model.

    The model reads its flow time from the timestep it is given (``t = timestep / 1000``).
    """
    sched = _scheduler(
        "FlowMatchEulerDiscreteScheduler", num_train_timesteps=1000, shift=float(shift)
    )
    sched.set_timesteps(sigmas=list(sigmas))
    return _run_flow_match(sched, lam, n, seed)


def _flow_levels(sched: Any) -> NDArray[np.float64]:
    """The scheduler's ``sigmas`` as noise levels, consecutive repeats (Heun's) dropped."""
    t = [float(v) for v in sched.sigmas.double()]
    kept = [v for i, v in enumerate(t) if i == 0 or v != t[i - 1]]
    return np.array([_rho(v) for v in kept])


def _run_flow_match(sched: Any, lam: ArrayLike, n: int, seed: int, begin: int = 0) -> ConsumerRun:
    """The denoising loop of a ``FlowMatch*DiscreteScheduler`` from ``timesteps[begin]``.

    The state starts from the exact marginal at flow time ``sigmas[begin]`` (pure noise at 1);
    the model reads its flow time from the timestep it is given (``t = timestep / 1000``).
    """
    torch = _torch()
    lam_t = torch.as_tensor(np.asarray(lam, dtype=np.float64))
    if begin:
        sched.set_begin_index(begin)
    x = _flow_start(float(sched.sigmas[begin]), lam_t, n, seed)
    queried = []
    for ts in sched.timesteps[begin:]:
        t = float(ts) / 1000.0
        queried.append(_rho(t))
        x = sched.step(_velocity(x, t, lam_t), ts, x).prev_sample.to(torch.float64)
    levels = _flow_levels(sched)
    return ConsumerRun(x.numpy(), np.array(queried), levels[1:] if begin else levels)


def run_flow_euler_steps(
    steps: int, shift: float, lam: ArrayLike, n: int, seed: int
) -> ConsumerRun:
    """``FlowMatchEulerDiscreteScheduler(shift=shift).set_timesteps(steps)``: the default grid.

    ``__init__`` stores the *shifted* ends of the training table as ``sigma_max``, ``sigma_min``,
    and ``set_timesteps`` spaces N times uniformly between them and shifts again (diffusers
    0.42.1); the run starts from pure noise (``sigmas[0] = 1``).
    """
    sched = _scheduler(
        "FlowMatchEulerDiscreteScheduler", num_train_timesteps=1000, shift=float(shift)
    )
    sched.set_timesteps(int(steps))
    return _run_flow_match(sched, lam, n, seed)


def run_flow_euler_dynamic(steps: int, mu: float, lam: ArrayLike, n: int, seed: int) -> ConsumerRun:
    r"""``FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True)``, ``set_timesteps(steps,
    mu=mu)``: N uniform flow times on the unshifted table ends, then the exponential time shift
    :math:`t'=e^\mu/(e^\mu+(1/t-1))` (Flux's, ``time_shift_type="exponential"``)."""
    sched = _scheduler(
        "FlowMatchEulerDiscreteScheduler",
        num_train_timesteps=1000,
        use_dynamic_shifting=True,
        time_shift_type="exponential",
    )
    sched.set_timesteps(int(steps), mu=float(mu))
    return _run_flow_match(sched, lam, n, seed)


def run_flow_heun(
    steps: int, shift: float, lam: ArrayLike, n: int, seed: int, *, skip: int = 0
) -> ConsumerRun:
    """``FlowMatchHeunDiscreteScheduler(shift=shift).set_timesteps(steps)`` with a velocity model.

    Its grid is built as :func:`run_flow_euler_steps`' (both ends shifted twice); each step
    ``t_k -> t_{k+1} > 0`` takes two calls (Euler predictor, mean-velocity corrector) and the last
    step to 0 one. ``skip`` > 0 starts ``skip`` levels later, from the exact marginal there
    (``set_begin_index(2 skip)``, as an image-to-image pipeline does), so that the first level is
    finite; ``scheduler_sigmas`` then holds the levels from that start on.
    """
    sched = _scheduler(
        "FlowMatchHeunDiscreteScheduler", num_train_timesteps=1000, shift=float(shift)
    )
    sched.set_timesteps(int(steps))
    return _run_flow_match(sched, lam, n, seed, begin=2 * int(skip))


def run_dpm_flow(
    steps: int, shift: float, lam: ArrayLike, n: int, seed: int, *, solver_order: int = 2
) -> ConsumerRun:
    """``DPMSolverMultistepScheduler(use_flow_sigmas=True, flow_shift=shift,
    algorithm_type="dpmsolver++")``, ``set_timesteps(steps)``, on a velocity model.

    Its flow times are ``shift``-ed ``linspace(1 - 1/1000, 0, N + 1)`` without the 0, then 0
    (``final_sigmas_type="zero"``): a finite start, the exact marginal there. The timesteps are
    ``int64`` (``floor(1000 t)``), so the model is conditioned on the scheduler's own level
    ``sigmas[step_index]``, as in :func:`run_unipc_flow`.
    """
    torch = _torch()
    sched = _scheduler(
        "DPMSolverMultistepScheduler",
        num_train_timesteps=1000,
        use_flow_sigmas=True,
        flow_shift=float(shift),
        prediction_type="flow_prediction",
        algorithm_type="dpmsolver++",
        solver_order=solver_order,
        final_sigmas_type="zero",
    )
    sched.set_timesteps(int(steps))
    lam_t = torch.as_tensor(np.asarray(lam, dtype=np.float64))
    x = _flow_start(float(sched.sigmas[0]), lam_t, n, seed)
    queried = []
    for i, ts in enumerate(sched.timesteps):
        t = float(sched.sigmas[i])
        queried.append(_rho(t))
        x = sched.step(_velocity(x, t, lam_t), ts, x).prev_sample.to(torch.float64)
    return ConsumerRun(x.numpy(), np.array(queried), _flow_levels(sched))


def run_unipc_flow(
    sigmas: Sequence[float],
    shift: float,
    lam: ArrayLike,
    n: int,
    seed: int,
    *,
    solver_order: int = 1,
    corrector: bool = False,
) -> ConsumerRun:
    """``UniPCMultistepScheduler(use_flow_sigmas=True, flow_shift=shift)``, then
    ``set_timesteps(sigmas=...)``.

    UniPC stores flow timesteps as ``int64`` (``floor(1000 t)``), which cannot carry the flow time
    exactly, so the model here is conditioned on the scheduler's own level ``sigmas[step_index]``;
    ``queried`` records it. With ``solver_order=1`` and the corrector off, UniP-1 is DDIM
    [zhao2023unipc, §3.2].
    """
    torch = _torch()
    sched = _scheduler(
        "UniPCMultistepScheduler",
        num_train_timesteps=1000,
        use_flow_sigmas=True,
        flow_shift=float(shift),
        prediction_type="flow_prediction",
        solver_order=solver_order,
        final_sigmas_type="zero",
        disable_corrector=[] if corrector else list(range(len(sigmas) + 1)),
    )
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
    return ConsumerRun(
        x.numpy(), np.array(queried), np.array([_rho(float(v)) for v in sched.sigmas.double()])
    )


# --------------------------------------------------------------------------------------------------
# k-diffusion: the real samplers of ``k_diffusion.sampling`` on the exact Gaussian denoiser.

#: k-diffusion sampler name -> (function in ``k_diffusion.sampling``, symsched's exact sampler).
#: ``sample_euler`` with an exact denoiser in sigma space is DDIM (eta = 0) [karras2022, Alg. 2 and
#: §4: Euler on dx/dsigma = (x - D)/sigma]; ``sample_heun`` is EDM's Heun (Alg. 1, no churn; its
#: step to sigma = 0 is an Euler step); ``sample_dpmpp_2m`` is DPM-Solver++(2M) [lu2022dpmpp,
#: arXiv 2211.01095, Alg. 2] (first order on its first step and on the step to 0);
#: ``sample_euler_ancestral`` is DDIM(eta) / DDPM ancestral sampling (symsched's ``ancestral``).
KDIFFUSION_SAMPLERS: dict[str, tuple[str, str]] = {
    "euler": ("sample_euler", "ddim"),
    "heun": ("sample_heun", "heun"),
    "dpmpp-2m": ("sample_dpmpp_2m", "dpmpp-2m"),
    "euler-ancestral": ("sample_euler_ancestral", "ancestral"),
}

KDIFFUSION_FIX = "pip install -e '.[test]'"


class KDiffusionMissing(ImportError):
    """k-diffusion is not importable; the message names the fix."""


def import_kdiffusion() -> Any:
    """Import ``k_diffusion.sampling``, or raise :class:`KDiffusionMissing` naming the fix.

    k-diffusion imports torchvision and ``clip`` (which imports ``pkg_resources``) at import time,
    so a torch without its matching torchvision, or setuptools >= 81, breaks the import; the test
    extra pins a pair that works (pyproject.toml).
    """
    import warnings

    try:
        with warnings.catch_warnings():
            # clip's import of the deprecated pkg_resources (third-party, import time only)
            warnings.filterwarnings(
                "ignore", message="pkg_resources is deprecated", category=UserWarning
            )
            from k_diffusion import sampling
    except Exception as exc:  # ImportError, or torchvision's RuntimeError on a mismatched torch
        raise KDiffusionMissing(
            f"k-diffusion is not importable ({type(exc).__name__}: {exc}); it is a test-time "
            "dependency (with torch 2.14.1 + torchvision 0.29.1 and setuptools<81): run "
            f"{KDIFFUSION_FIX}"
        ) from exc
    return sampling


def kdiffusion_expected_queries(sampler: str, sigmas: ArrayLike) -> NDArray[np.float64]:
    """The noise levels at which ``sampler`` calls its model, in order, for the list ``sigmas``.

    One call at ``sigmas[i]`` per step ``i``; Heun adds a second call at ``sigmas[i + 1]`` on every
    step that does not end at 0 [karras2022, Alg. 1, lines 9-11]. No sampler evaluates at 0.
    """
    _check_kdiffusion_sampler(sampler)
    sig = [float(v) for v in np.asarray(sigmas, dtype=np.float64)]
    out: list[float] = []
    for i in range(len(sig) - 1):
        out.append(sig[i])
        if sampler == "heun" and sig[i + 1] != 0.0:
            out.append(sig[i + 1])
    return np.array(out)


def _check_kdiffusion_sampler(sampler: str) -> None:
    if sampler not in KDIFFUSION_SAMPLERS:
        raise ValueError(
            f"sampler must be one of {', '.join(KDIFFUSION_SAMPLERS)}, got {sampler!r}"
        )


def run_kdiffusion(
    sampler: str,
    sigmas: ArrayLike,
    covariance: ArrayLike,
    n: int,
    seed: int,
    *,
    start: str = "prior",
    eta: float | None = None,
) -> ConsumerRun:
    r"""Run the real ``k_diffusion.sampling.<sampler>`` on ``sigmas`` with the exact Gaussian
    denoiser.

    Parameters
    ----------
    sampler
        A key of :data:`KDIFFUSION_SAMPLERS`.
    sigmas
        The list handed to the sampler as its ``sigmas`` tensor (float64), e.g. the parsed output
        of ``symsched schedule ... --format k-diffusion``.
    covariance
        Source covariance :math:`\Sigma` (SPD, ``(d, d)``; need not be diagonal).
    n, seed
        Particles and the seed of the start noise (and of the ancestral noise, drawn by
        k-diffusion's own ``default_noise_sampler`` from torch's global generator, forked and
        restored here).
    start
        ``"prior"``: :math:`\bar x_0=\sigma_0\,\epsilon` as k-diffusion's ``sample.py`` does
        (symsched's ``start="prior"``); ``"exact"``: the true marginal
        :math:`\mathcal N(0,\Sigma+\sigma_0^2I)`.
    eta
        ``euler-ancestral`` only: its ``eta`` (default 1).

    Returns
    -------
    ConsumerRun
        ``samples``: the sampler's output :math:`\bar x` at the last listed level, ``(n, d)``;
        ``queried``: the level of every model call; ``scheduler_sigmas``: the level of every step
        the sampler took (its ``callback``'s ``sigma``) followed by the level it ended at.

    Raises
    ------
    KDiffusionMissing
        k-diffusion cannot be imported.
    ValueError
        Unknown sampler or start, ``eta`` for a sampler without it, a model call with a batch of
        mixed levels.
    """
    _check_kdiffusion_sampler(sampler)
    if start not in ("prior", "exact"):
        raise ValueError(f"start must be 'prior' or 'exact', got {start!r}")
    if eta is not None and sampler != "euler-ancestral":
        raise ValueError(f"eta applies to euler-ancestral only, not to {sampler!r}")
    sampling = import_kdiffusion()
    torch = _torch()
    cov = torch.as_tensor(np.asarray(covariance, dtype=np.float64))
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"covariance must be a square matrix, got shape {tuple(cov.shape)}")
    d = cov.shape[0]
    eye = torch.eye(d, dtype=torch.float64)
    sig = torch.as_tensor(np.asarray(sigmas, dtype=np.float64))
    queried: list[float] = []
    steps: list[float] = []

    def model(x: Any, sigma: Any) -> Any:
        s = sigma.to(torch.float64)
        if s.shape != (x.shape[0],) or not bool((s == s[0]).all()):
            raise ValueError("k-diffusion called the model with a batch of mixed noise levels")
        level = float(s[0])
        queried.append(level)
        # D = Sigma (Sigma + sigma^2 I)^-1 xbar, for rows: xbar (Sigma + sigma^2 I)^-1 Sigma
        return torch.linalg.solve(cov + level * level * eye, x.T).T @ cov

    def callback(info: dict[str, Any]) -> None:
        steps.append(float(info["sigma"]))

    z, e = _noise(n, d, seed)
    s0 = float(sig[0])
    x = s0 * e if start == "prior" else z @ torch.linalg.cholesky(cov).T + s0 * e
    fn = getattr(sampling, KDIFFUSION_SAMPLERS[sampler][0])
    kwargs: dict[str, Any] = {"callback": callback, "disable": True}
    if sampler == "euler-ancestral":
        kwargs["eta"] = 1.0 if eta is None else float(eta)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed) + 1)
        out = fn(model, x, sig, **kwargs)
    return ConsumerRun(
        out.to(torch.float64).numpy(), np.array(queried), np.array([*steps, float(sig[-1])])
    )


def run_kdiffusion_linear_map(
    sampler: str,
    sigmas: ArrayLike,
    eigenvalues: ArrayLike,
    *,
    eta: float | None = None,
) -> FloatArray:
    r"""The real ``k_diffusion.sampling.<sampler>``'s linear map over the exact flow map, per
    eigen-direction: :math:`q_i=G_i/G^\star_i` (docs/theory/coupling.md#checks).

    The source is :math:`\mathcal N(0,\mathrm{diag}(\lambda))` with its exact denoiser; the sampler
    is linear in its input, so the batch of the d scaled unit vectors
    :math:`\sqrt{\lambda_i+\sigma_0^2}\,e_i` gives each :math:`G_i` exactly (one run, float64).
    ``euler-ancestral`` runs with a ``noise_sampler`` returning zeros: its mean map.

    Parameters
    ----------
    sampler
        A key of :data:`KDIFFUSION_SAMPLERS`.
    sigmas
        The list handed to the sampler (finite :math:`\sigma_0`).
    eigenvalues
        :math:`\lambda_i>0`.
    eta
        ``euler-ancestral`` only (default 1).

    Returns
    -------
    FloatArray
        :math:`q_i` per eigenvalue.
    """
    _check_kdiffusion_sampler(sampler)
    sampling = import_kdiffusion()
    torch = _torch()
    lam_t = torch.as_tensor(np.asarray(eigenvalues, dtype=np.float64))
    sig = torch.as_tensor(np.asarray(sigmas, dtype=np.float64))
    s0, s_n = float(sig[0]), float(sig[-1])

    def model(x: Any, sigma: Any) -> Any:
        level = float(sigma.to(torch.float64)[0])
        return x * (lam_t / (lam_t + level * level))

    x = torch.diag(torch.sqrt(lam_t + s0 * s0))
    kwargs: dict[str, Any] = {"disable": True}
    if sampler == "euler-ancestral":
        kwargs["eta"] = 1.0 if eta is None else float(eta)
        kwargs["noise_sampler"] = lambda s, t: torch.zeros_like(x)
    out = getattr(sampling, KDIFFUSION_SAMPLERS[sampler][0])(model, x, sig, **kwargs)
    g = torch.diagonal(out.to(torch.float64)).numpy()
    q: FloatArray = g / np.sqrt(np.asarray(eigenvalues, dtype=np.float64) + s_n * s_n)
    return q


def run_flow_args(args: Mapping[str, Any], lam: ArrayLike, n: int, seed: int) -> ConsumerRun:
    """A ``diffusers-flow`` export run as written: ``FlowMatchEulerDiscreteScheduler`` built from
    its ``config`` (on the training-table defaults), ``set_timesteps(**set_timesteps)``, then the
    denoising loop of :func:`_run_flow_match` with the exact velocity."""
    if args.get("scheduler") != "FlowMatchEulerDiscreteScheduler":
        raise ValueError(f"not a diffusers-flow export: scheduler {args.get('scheduler')!r}")
    sched = _scheduler(
        "FlowMatchEulerDiscreteScheduler", num_train_timesteps=1000, **dict(args["config"])
    )
    call = dict(args["set_timesteps"])
    sched.set_timesteps(sigmas=list(call["sigmas"]), mu=call.get("mu"))
    return _run_flow_match(sched, lam, n, seed)
