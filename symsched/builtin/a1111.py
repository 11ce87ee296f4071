r"""AUTOMATIC1111 stable-diffusion-webui's schedulers, reproduced from its source.

Read at ``AUTOMATIC1111/stable-diffusion-webui`` commit 02b0092d5a8450b282bd7d9c2d84fdfed0f3c6db
(the stored version of ``modules/sd_schedulers.py``; the repository snapshot is too large to
fetch whole): the ``schedulers`` list and its functions. ``KDiffusionSampler.get_sigmas``
(``modules/sd_samplers_kdiffusion.py``) calls ``scheduler.function(n=steps, sigma_min, sigma_max,
...)`` with the model's ``sigma_min = model_wrap.sigmas[0].item()`` and
``sigma_max = model_wrap.sigmas[-1].item()``, replaced by the settings ``sigma_min`` /
``sigma_max`` when those are non-zero and differ, and ``rho`` passed only when the setting is
non-zero and differs from the scheduler's default.

The model table is k-diffusion's ``CompVisDenoiser`` (``k_diffusion/external.py``,
``DiscreteEpsDDPMDenoiser``): ``sigmas = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5`` computed
in float32 from the model's float32 ``alphas_cumprod`` (LDM ``register_schedule``: float64 betas
``linspace(sqrt(0.00085), sqrt(0.012), 1000) ** 2``, float64 cumulative product, stored as
float32; SDXL's ``extend_sdxl`` stores the same table as float32). The noise levels therefore
differ in the last bits from ComfyUI's (float64 levels rounded once).

Where A1111 calls k-diffusion (``karras``, ``exponential``, ``polyexponential``,
``karras_exponential``) the reproductions of :mod:`symsched.builtin.kdiffusion` are used;
``uniform``, ``sgm_uniform`` and ``normal`` go through the denoiser's ``sigma_to_t`` /
``t_to_sigma`` (``k_diffusion/external.py``, ``DiscreteSchedule``). The formulas are restated in
this module's own words.

``automatic`` (the first entry of ``schedulers``, with no function) is not a grid of its own:
``get_sigmas`` then uses the sampler's configured scheduler (``karras`` for the "... Karras"
samplers) and otherwise ``model_wrap.get_sigmas(steps)``, which is ``uniform``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from symsched._options import option
from symsched.builtin._registry import BuiltinGrid, Provenance, register_builtin
from symsched.builtin.kdiffusion import (
    F32Array,
    f32_exp,
    get_sigmas_exponential,
    get_sigmas_karras,
    get_sigmas_polyexponential,
    tool_grid,
    torch_linspace_f32,
)
from symsched.schedules.ays import loglinear_interp

__all__ = [
    "A1111_AYS_SIGMAS",
    "A1111_COMMIT",
    "A1111_SCHEDULERS",
    "compvis_sigmas",
    "scheduler_sigmas",
]

A1111_COMMIT = "02b0092d5a8450b282bd7d9c2d84fdfed0f3c6db"
"""The commit ``modules/sd_schedulers.py`` was read at."""

F32 = np.float32
Model = Literal["sd15", "sdxl"]

A1111_SCHEDULERS: tuple[str, ...] = (
    "uniform",
    "karras",
    "exponential",
    "polyexponential",
    "kl_optimal",
    "align_your_steps",
    "simple",
    "ddim",
    "beta",
    "sgm_uniform",
    "normal",
    "karras_exponential",
)
"""The schedulers of ``modules/sd_schedulers.py`` reproduced here: all but ``automatic``, which is
the sampler's own choice (``karras`` or ``uniform``, see the module docstring)."""

A1111_AYS_SIGMAS: dict[str, tuple[float, ...]] = {
    "sd15": (14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029),
    "sdxl": (14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029),
}
"""``get_align_your_steps_sigmas``'s tables: the paper's 3-decimal values (Table 3), not
ComfyUI's 10-decimal ones (:data:`symsched.schedules.ays.AYS_SIGMAS`); SDXL's tenth level is
0.113 here and 0.1114188177 there."""


def compvis_sigmas() -> F32Array:
    """k-diffusion ``CompVisDenoiser.sigmas`` of the SD 1.x / SDXL model (ascending float32).

    ``alphas_cumprod`` is the float64 product of ``1 - betas`` stored as float32; the levels are
    ``sqrt((1 - a) / a)`` in float32 (subtraction, division and square root each rounded once).
    torch's float32 ``** 0.5`` is not always correctly rounded, so k-diffusion's table differs
    from this one by one ulp where it is not (how many levels depends on the CPU: 11 of the 1000
    on one x86-64 machine, 168 on another, where the ends differ too).
    """
    root = np.linspace(math.sqrt(0.00085), math.sqrt(0.012), 1000, dtype=np.float64)
    ac = np.cumprod(1.0 - root * root).astype(F32)
    out: F32Array = np.sqrt(((F32(1.0) - ac).astype(F32) / ac).astype(F32)).astype(F32)
    out.setflags(write=False)
    return out


def _log_sigmas(sig: F32Array) -> F32Array:
    """``sigmas.log()`` (float32, correctly rounded; torch's log is within an ulp)."""
    return np.array([math.log(float(v)) for v in sig], dtype=np.float64).astype(F32)


def _t_to_sigma(ls: F32Array, t: F32Array) -> F32Array:
    """``DiscreteSchedule.t_to_sigma`` (``k_diffusion/external.py``): log sigma interpolated
    linearly between the floor and ceil table indices of the float32 model times ``t``, weight
    the fractional part (float32), then exp."""
    lo, hi = np.floor(t).astype(np.int64), np.ceil(t).astype(np.int64)
    w = (t - np.trunc(t)).astype(F32)
    mix = (((F32(1) - w) * ls[lo]).astype(F32) + (w * ls[hi]).astype(F32)).astype(F32)
    return f32_exp(mix)


def _sigma_to_t(ls: F32Array, sigma: float) -> float:
    """``DiscreteSchedule.sigma_to_t`` (``k_diffusion/external.py``, ``quantize=False``, A1111's
    default ``enable_quantization``) of ``torch.tensor(sigma)`` (float32).

    The lower index is the first maximum of the running count of table logs at or below
    ``log sigma`` (the last such entry, 0 if there is none), at most ``T - 2``; the weight
    ``(log_low - log sigma) / (log_low - log_high)`` is clamped to [0, 1] (so a sigma outside the
    table maps to its end, 0 or ``T - 1``) and ``t = (1 - w)*low + w*high``, all in float32.
    """
    log_s = F32(math.log(float(F32(sigma))))
    dists = (log_s - ls).astype(F32)
    low = min(int(np.argmax(np.cumsum(dists >= 0))), ls.size - 2)
    num = F32(ls[low] - log_s)
    den = F32(ls[low] - ls[low + 1])
    w = F32(min(max(F32(num / den), F32(0)), F32(1)))
    return float(F32(F32(F32(1) - w) * F32(low)) + F32(w * F32(low + 1)))


def _uniform(sig: F32Array, n: int) -> F32Array:
    """``DiscreteSchedule.get_sigmas(n)``: ``t_to_sigma`` of ``t = linspace(T - 1, 0, n)``,
    then 0."""
    t = torch_linspace_f32(float(sig.size - 1), 0.0, n)
    return np.append(_t_to_sigma(_log_sigmas(sig), t), F32(0)).astype(F32)


def _normal(sig: F32Array, n: int, sigma_min: float, sigma_max: float, sgm: bool) -> F32Array:
    """``normal_scheduler`` / ``sgm_uniform``: model times ``linspace(sigma_to_t(sigma_max),
    sigma_to_t(sigma_min), n)`` (``sgm``: ``n + 1`` points, the last dropped), each mapped by
    ``t_to_sigma``, then 0 (float32).

    With the model's own ends the times are ``T - 1`` and 0, so ``normal`` is ``uniform``'s grid
    (A1111 maps each time separately; the tests bound torch's scalar-vs-vector exp difference).
    """
    ls = _log_sigmas(sig)
    start, end = _sigma_to_t(ls, sigma_max), _sigma_to_t(ls, sigma_min)
    t = torch_linspace_f32(start, end, n + 1)[:-1] if sgm else torch_linspace_f32(start, end, n)
    return np.append(_t_to_sigma(ls, t), F32(0)).astype(F32)


def _karras_exponential(n: int, sigma_min: float, sigma_max: float) -> F32Array:
    """``karras_exponential_scheduler`` (``blend_factor`` 0.3, ``sharpen_factor`` 0.9).

    ``sigma_max`` is first multiplied by 1.1; k-diffusion's Karras (rho 7) and exponential
    schedules of ``n`` steps on ``[sigma_min, 1.1*sigma_max]`` are blended with the weight
    ``b_i = (1 - linspace(0, 1, n + 1)_i) * 0.3`` on the exponential one
    (``karras*(1 - b) + exponential*b``, float32); the array is cut to its first ``n`` values
    (the trailing 0 is dropped) and values below ``1.5*sigma_min`` are multiplied by 0.9.

    Raises
    ------
    ValueError
        At ``n = 1``: A1111 returns a single level, no step.
    """
    if n < 2:
        raise ValueError(
            "a1111:karras_exponential takes no step at 1 step: the blend is cut to n = 1 level"
        )
    top = sigma_max * 1.1
    kar = get_sigmas_karras(n, sigma_min, top)
    exp = get_sigmas_exponential(n, sigma_min, top)
    progress = torch_linspace_f32(0.0, 1.0, n + 1)
    b = ((F32(1) - progress).astype(F32) * F32(0.3)).astype(F32)
    mix = ((kar * (F32(1) - b).astype(F32)).astype(F32) + (exp * b).astype(F32)).astype(F32)
    sigs = mix[:n]
    mask = np.where(sigs < F32(sigma_min * 1.5), F32(0.9), F32(1.0)).astype(F32)
    out: F32Array = (sigs * mask).astype(F32)
    return out


def _kl_optimal(n: int, sigma_min: float, sigma_max: float) -> F32Array:
    """``kl_optimal``: ``tan(i/n * atan(sigma_min) + (1 - i/n) * atan(sigma_max))`` for
    ``i = 0 .. n`` in float32: ``n + 1`` values from sigma_max down to sigma_min, **no** 0."""
    amin, amax = F32(math.atan(float(F32(sigma_min)))), F32(math.atan(float(F32(sigma_max))))
    r = (np.arange(n + 1).astype(F32) / F32(n)).astype(F32)
    mix = ((r * amin).astype(F32) + ((F32(1.0) - r).astype(F32) * amax).astype(F32)).astype(F32)
    return np.array([math.tan(float(v)) for v in mix], dtype=np.float64).astype(F32)


def _ays(model: str, n: int) -> F32Array:
    """``get_align_your_steps_sigmas``: the 11-level table itself when ``n == 11`` (so 11 steps),
    otherwise the table resampled log-linearly to ``n`` levels; then 0 appended (float32)."""
    table = A1111_AYS_SIGMAS[model]
    if n == len(table):
        lv = np.array(table, dtype=np.float64)
    elif n == 1:  # linspace(0, 1, 1) = [0]: the interpolation returns the last level alone
        lv = np.array([math.exp(math.log(table[-1]))])
    else:
        lv = loglinear_interp(table, n)
    return np.append(lv, 0.0).astype(F32)


def _simple(sig: F32Array, n: int) -> F32Array:
    """``simple_scheduler``: entry ``-(1 + int(x * len/n))`` for ``x < n``, then 0."""
    ss = sig.size / n
    return np.append(sig[[-(1 + int(x * ss)) for x in range(n)]], F32(0)).astype(F32)


def _ddim(sig: F32Array, n: int) -> F32Array:
    """``ddim_scheduler``: entries 1, 1 + ss, ... below ``len`` (``ss = max(len // n, 1)``),
    reversed, then 0."""
    ss = max(sig.size // n, 1)
    return np.append(sig[1::ss][::-1], F32(0)).astype(F32)


def _beta(n: int, sigma_min: float, sigma_max: float, alpha: float, beta: float) -> F32Array:
    """``beta_scheduler``: ``sigma_min + ppf(1 - x) * (sigma_max - sigma_min)`` on
    ``x = linspace(0, 1, n)`` (float64, **linear in sigma**), then 0, as float32."""
    q = stats.beta.ppf(1.0 - np.linspace(0, 1, n), alpha, beta)
    vals = [sigma_min + float(x) * (sigma_max - sigma_min) for x in q]
    return np.array([*vals, 0.0], dtype=np.float64).astype(F32)


def scheduler_sigmas(
    scheduler: str,
    n: int,
    *,
    model: str = "sd15",
    sigma_min: float = 0.0,
    sigma_max: float = 0.0,
    rho: float = 0.0,
    beta_dist_alpha: float = 0.6,
    beta_dist_beta: float = 0.6,
) -> tuple[F32Array, float, float]:
    """The sigmas A1111's ``KDiffusionSampler.get_sigmas`` builds with ``scheduler``.

    Parameters
    ----------
    scheduler
        One of :data:`A1111_SCHEDULERS`.
    n
        The steps (the sampler's ``discard_next_to_last_sigma`` is not applied).
    model
        ``sd15`` or ``sdxl`` (the same table; AYS picks its table by it).
    sigma_min, sigma_max, rho
        The settings of the same names: 0 (the default) means the model's / scheduler's value.
    beta_dist_alpha, beta_dist_beta
        The Beta scheduler's settings.

    Returns
    -------
    tuple
        The float32 sigmas and the sigma_min, sigma_max passed to the function.
    """
    if model not in ("sd15", "sdxl"):
        raise ValueError(f"model must be sd15 or sdxl, got {model!r}")
    sig = compvis_sigmas()
    m_lo, m_hi = float(sig[0]), float(sig[-1])
    lo = sigma_min if sigma_min != 0 and sigma_min != m_lo else m_lo
    hi = sigma_max if sigma_max != 0 and sigma_max != m_hi else m_hi
    default_rho = {"karras": 7.0, "polyexponential": 1.0}.get(scheduler)
    r = rho if default_rho is not None and rho != 0 and rho != default_rho else default_rho
    if scheduler == "uniform":
        out = _uniform(sig, n)
    elif scheduler == "karras":
        out = get_sigmas_karras(n, lo, hi, float(r or 7.0))
    elif scheduler == "exponential":
        out = get_sigmas_exponential(n, lo, hi)
    elif scheduler == "polyexponential":
        out = get_sigmas_polyexponential(n, lo, hi, float(r or 1.0))
    elif scheduler == "kl_optimal":
        out = _kl_optimal(n, lo, hi)
    elif scheduler == "align_your_steps":
        out = _ays(model, n)
    elif scheduler == "simple":
        out = _simple(sig, n)
    elif scheduler == "ddim":
        out = _ddim(sig, n)
    elif scheduler == "beta":
        out = _beta(n, lo, hi, beta_dist_alpha, beta_dist_beta)
    elif scheduler in ("sgm_uniform", "normal"):
        out = _normal(sig, n, lo, hi, sgm=scheduler == "sgm_uniform")
    elif scheduler == "karras_exponential":
        out = _karras_exponential(n, lo, hi)
    else:
        raise ValueError(f"scheduler must be one of {', '.join(A1111_SCHEDULERS)}")
    return out, lo, hi


@dataclass(frozen=True)
class A1111Options:
    """The settings that shape A1111's schedules (Settings > Sampler parameters)."""

    model: Model = option("sd15", "the checkpoint's table: sd15 or sdxl (the same levels)")
    sigma_min: float = option(0.0, "setting sigma_min (0: the model's)", metavar="S")
    sigma_max: float = option(0.0, "setting sigma_max (0: the model's)", metavar="S")
    rho: float = option(0.0, "setting rho (0: the scheduler's default; karras 7, polyexp 1)")
    beta_dist_alpha: float = option(0.6, "Beta scheduler alpha", metavar="A")
    beta_dist_beta: float = option(0.6, "Beta scheduler beta", metavar="B")


_NOTES = {
    "kl_optimal": "no 0 is appended: n + 1 tangent levels end at sigma_min (n steps)",
    "align_your_steps": (
        "resampled to n levels and a 0 appended: the last step is sigma_min -> 0; at n = 11 the "
        "table itself plus 0 (11 steps)"
    ),
    "beta": "linear in sigma between sigma_min and sigma_max (ComfyUI's picks table entries)",
    "sgm_uniform": "n + 1 model times from sigma_max to sigma_min, the last dropped, then 0",
    "normal": "at the model's own sigma_min / sigma_max the same grid as a1111:uniform",
    "karras_exponential": (
        "sigma_max is raised by 10 %, the trailing 0 is dropped (n levels, n - 1 steps) and "
        "levels below 1.5*sigma_min are multiplied by 0.9: the last step ends above 0"
    ),
}


def _register(scheduler: str) -> None:
    name = f"a1111:{scheduler}"

    def build(steps: int, o: A1111Options) -> BuiltinGrid:
        tool, lo, hi = scheduler_sigmas(
            scheduler,
            steps,
            model=o.model,
            sigma_min=o.sigma_min,
            sigma_max=o.sigma_max,
            rho=o.rho,
            beta_dist_alpha=o.beta_dist_alpha,
            beta_dist_beta=o.beta_dist_beta,
        )
        tool.setflags(write=False)
        grid, merge = tool_grid(tool, name)
        params: dict[str, object] = {
            "model": o.model,
            "sigma_min": lo,
            "sigma_max": hi,
            "rho": o.rho,
            "beta_dist_alpha": o.beta_dist_alpha,
            "beta_dist_beta": o.beta_dist_beta,
        }
        notes = ((_NOTES[scheduler],) if scheduler in _NOTES else ()) + merge
        return BuiltinGrid(name, steps, tool, None, grid, "sigma", params, notes)

    register_builtin(
        name,
        options=A1111Options,
        summary=f"A1111 scheduler {scheduler!r} on k-diffusion's CompVisDenoiser table",
        provenance=Provenance(
            "AUTOMATIC1111/stable-diffusion-webui",
            "modules/sd_schedulers.py",
            f"schedulers[{scheduler!r}]",
            f"commit {A1111_COMMIT}",
        ),
    )(build)


for _s in A1111_SCHEDULERS:
    _register(_s)
