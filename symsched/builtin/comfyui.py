r"""ComfyUI's KSampler schedulers, reproduced in float32 from ComfyUI's source.

Read at ``Comfy-Org/ComfyUI`` commit a125cd84b054a57729b5eecab930ca9408719832:

* ``comfy/samplers.py``: ``SCHEDULER_HANDLERS`` (``simple``, ``sgm_uniform``, ``karras``,
  ``exponential``, ``ddim_uniform``, ``beta``, ``normal``, ``linear_quadratic``, ``kl_optimal``),
  ``calculate_sigmas`` and ``KSampler.set_steps`` (the denoise rule);
* ``comfy/model_sampling.py``: the model tables ``ModelSamplingDiscrete`` (SD1.x / SDXL, optional
  zero terminal SNR), ``ModelSamplingDiscreteFlow`` (SD3), ``ModelSamplingFlux`` and
  ``ModelSamplingContinuousEDM`` (``edm``: its defaults sigma_min 0.002, sigma_max 120);
* ``comfy/k_diffusion/sampling.py``: ``get_sigmas_karras`` / ``get_sigmas_exponential``, the same
  functions as k-diffusion's (reused from :mod:`symsched.builtin.kdiffusion`).
* ``comfy_extras/nodes_align_your_steps.py``, ``nodes_gits.py``, ``nodes_optimalsteps.py``: the
  table nodes (``comfyui:ays``, ``comfyui:gits``, ``comfyui:optimal-steps``); the AYS tables are the
  same numbers as :data:`symsched.schedules.ays.AYS_SIGMAS` and are imported from there;
* ``comfy_extras/nodes_custom_sampler.py`` with ``get_sigmas_laplace`` / ``get_sigmas_vp`` /
  ``get_sigmas_polyexponential``: ``comfyui:laplace``, ``comfyui:vp`` (ComfyUI's copy uses
  ``expm1``), ``comfyui:polyexponential`` and ``comfyui:beta-sampling``.

The formulas are restated here in this module's own words. ComfyUI returns a float32 tensor; the
tables are float32 (the SD betas are built in float64 and the noise levels stored as float32).
Check values computed by running ComfyUI's own functions are in
tests/symsched/builtin/data/comfyui_check_values.json.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from symsched._options import option
from symsched._typing import FloatArray
from symsched._validate import check_endpoints, check_positive
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
from symsched.export.flow_matching import flow_levels
from symsched.schedules.ays import AYS_SIGMAS, loglinear_interp
from symsched.schedules.discrete import training_table

__all__ = [
    "COMFYUI_COMMIT",
    "EDM_SIGMA_MAX",
    "EDM_SIGMA_MIN",
    "GITS_COEFFS",
    "GITS_LEVELS",
    "GITS_ROWS",
    "KSAMPLER_SCHEDULERS",
    "OPTIMAL_STEPS_LEVELS",
    "KSamplerOptions",
    "ModelTable",
    "get_sigmas_laplace",
    "get_sigmas_vp_expm1",
    "gits_table",
    "ksampler_sigmas",
    "model_table",
    "table_node_sigmas",
]

COMFYUI_COMMIT = "a125cd84b054a57729b5eecab930ca9408719832"
"""The ComfyUI commit the formulas were read at."""

F32 = np.float32
ZSNR_TERMINAL_ALPHA_BAR = 4.8973451890853435e-08
"""``rescale_zero_terminal_snr_sigmas`` sets the last cumulative alpha to this value."""

Model = Literal["sd15", "sdxl", "sd3", "flux", "edm"]
EDM_SIGMA_MIN = 0.002
"""``ModelSamplingContinuousEDM``'s default ``sigma_min`` (no ``sampling_settings``)."""
EDM_SIGMA_MAX = 120.0
"""``ModelSamplingContinuousEDM``'s default ``sigma_max``."""
_FLOW_DEFAULT_SHIFT = {"sd3": 3.0, "flux": 1.15}

KSAMPLER_SCHEDULERS: tuple[str, ...] = (
    "simple",
    "sgm_uniform",
    "karras",
    "exponential",
    "ddim_uniform",
    "beta",
    "normal",
    "linear_quadratic",
    "kl_optimal",
)
"""``SCHEDULER_HANDLERS`` of ``comfy/samplers.py``, in its order (``simple`` is the default)."""


# -- model tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelTable:
    """A ComfyUI ``model_sampling`` object: its ascending float32 table and its time maps.

    Attributes
    ----------
    kind
        ``"discrete"`` (``ModelSamplingDiscrete``), ``"flow"`` (``ModelSamplingDiscreteFlow``),
        ``"flux"`` (``ModelSamplingFlux``) or ``"edm"`` (``ModelSamplingContinuousEDM``).
    sigmas
        The ascending float32 table ``ms.sigmas`` (read-only).
    log_sigmas
        ``ms.log_sigmas`` for the discrete and EDM tables (float32), else empty.
    shift
        The flow shift (``shift`` of SD3, ``mu`` of Flux); 1 for the discrete and EDM tables.
    """

    kind: Literal["discrete", "flow", "flux", "edm"]
    sigmas: F32Array
    log_sigmas: F32Array
    shift: float

    @property
    def is_flow(self) -> bool:
        """Whether the levels are flow times (``flow``, ``flux``) rather than VE sigmas."""
        return self.kind in ("flow", "flux")

    @property
    def sigma_min(self) -> np.float32:
        """``ms.sigma_min`` (the first table entry)."""
        return F32(self.sigmas[0])

    @property
    def sigma_max(self) -> np.float32:
        """``ms.sigma_max`` (the last table entry)."""
        return F32(self.sigmas[-1])

    def timestep(self, sigma: np.float32) -> float:
        """``ms.timestep``: the nearest table index in log sigma (discrete), ``0.25*log(sigma)``
        (EDM, float32), ``sigma*1000`` (SD3 flow, multiplier 1000) or ``sigma`` itself (Flux)."""
        if self.kind == "edm":
            return float(F32(F32(0.25) * F32(math.log(float(sigma)))))
        if self.kind == "discrete":
            d = np.abs(np.float64(math.log(float(sigma))) - self.log_sigmas.astype(np.float64))
            return float(np.argmin(d))
        if self.kind == "flow":
            return float(F32(sigma) * F32(1000.0))
        return float(sigma)

    def sigma(self, t: F32Array) -> F32Array:
        """``ms.sigma`` of float32 model times ``t`` (float32)."""
        t = np.asarray(t, F32)
        if self.kind == "edm":  # exp(t / 0.25): the division by 0.25 is exact in float32
            return f32_exp((t / F32(0.25)).astype(F32))
        if self.kind == "discrete":
            return _discrete_sigma(self.log_sigmas, t)
        if self.kind == "flow":
            return _snr_shift(self.shift, (t / F32(1000.0)).astype(F32))
        return _flux_shift(self.shift, t)


def _discrete_sigma(log_sigmas: F32Array, t: F32Array) -> F32Array:
    """``ModelSamplingDiscrete.sigma``: log sigma interpolated linearly between the neighbouring
    table indices (float32), then exp."""
    tc = np.clip(t, F32(0), F32(log_sigmas.size - 1)).astype(F32)
    lo, hi = np.floor(tc).astype(np.int64), np.ceil(tc).astype(np.int64)
    w = (tc - np.trunc(tc)).astype(F32)
    mix = ((F32(1) - w) * log_sigmas[lo]).astype(F32) + (w * log_sigmas[hi]).astype(F32)
    return f32_exp(mix.astype(F32))


def _snr_shift(shift: float, t: F32Array) -> F32Array:
    """``time_snr_shift``: ``shift*t / (1 + (shift - 1)*t)`` in float32 (identity at shift 1)."""
    if shift == 1.0:
        return np.asarray(t, F32)
    num = (F32(shift) * t).astype(F32)
    den = (F32(1.0) + (F32(shift - 1.0) * t).astype(F32)).astype(F32)
    return (num / den).astype(F32)


def _flux_shift(mu: float, t: F32Array) -> F32Array:
    """``flux_time_shift(mu, 1, t) = e^mu / (e^mu + (1/t - 1))`` as torch evaluates it: a scalar
    divided by a tensor is ``tensor.reciprocal() * scalar`` (two float32 roundings)."""
    em = F32(math.exp(mu))
    with np.errstate(divide="ignore"):
        inv = (F32(1.0) / t).astype(F32)
    den = (em + (inv - F32(1.0)).astype(F32)).astype(F32)
    return ((F32(1.0) / den).astype(F32) * em).astype(F32)


def _discrete_table(zsnr: bool) -> ModelTable:
    """``ModelSamplingDiscrete`` with its defaults (``linear`` betas 0.00085..0.012, squared
    linspace of the square roots in float64: diffusers' ``scaled_linear``)."""
    sig64 = np.array(training_table("scaled_linear", 1000).sigmas, dtype=np.float64)
    if zsnr:
        sig64 = _rescale_zero_terminal_snr(sig64)
    sig = sig64.astype(F32)
    logs = np.array([math.log(v) for v in sig64], dtype=np.float64).astype(F32)
    sig.setflags(write=False)
    logs.setflags(write=False)
    return ModelTable("discrete", sig, logs, 1.0)


def _rescale_zero_terminal_snr(sig: FloatArray) -> FloatArray:
    """``rescale_zero_terminal_snr_sigmas`` (float64): shift and scale sqrt(alpha_bar) so its last
    value is 0, then pin the last alpha_bar to :data:`ZSNR_TERMINAL_ALPHA_BAR`."""
    ac = 1.0 / (sig * sig + 1.0)
    root = np.sqrt(ac)
    r0, rt = root[0], root[-1]
    root = (root - rt) * (r0 / (r0 - rt))
    ab = root * root
    ab[-1] = ZSNR_TERMINAL_ALPHA_BAR
    out: FloatArray = np.sqrt((1.0 - ab) / ab)
    return out


def _edm_table(sigma_min: float, sigma_max: float) -> ModelTable:
    """``ModelSamplingContinuousEDM.set_parameters``: ``exp(linspace(log sigma_min,
    log sigma_max, 1000))`` in float32 (torch's CPU linspace bit for bit, then exp), and its
    float32 logs."""
    sig = f32_exp(torch_linspace_f32(math.log(sigma_min), math.log(sigma_max), 1000))
    logs = np.array([math.log(float(v)) for v in sig], dtype=np.float64).astype(F32)
    sig.setflags(write=False)
    logs.setflags(write=False)
    return ModelTable("edm", sig, logs, 1.0)


def _flow_table(kind: Literal["flow", "flux"], shift: float) -> ModelTable:
    """``ModelSamplingDiscreteFlow`` (1000 entries, multiplier 1000) or ``ModelSamplingFlux``
    (10 000 entries) evaluated on ``arange(1, T + 1) / T``."""
    size = 1000 if kind == "flow" else 10_000
    t = (np.arange(1, size + 1).astype(F32) / F32(size)).astype(F32)
    if kind == "flow":
        sig = _snr_shift(shift, ((t * F32(1000.0)).astype(F32) / F32(1000.0)).astype(F32))
    else:
        sig = _flux_shift(shift, t)
    sig.setflags(write=False)
    return ModelTable(kind, sig, np.zeros(0, F32), shift)


@functools.cache
def model_table(model: str, zsnr: bool = False, shift: float | None = None) -> ModelTable:
    """The ComfyUI ``model_sampling`` table of ``model`` (cached).

    Parameters
    ----------
    model
        ``sd15`` / ``sdxl`` (``ModelSamplingDiscrete``, the same table), ``sd3``
        (``ModelSamplingDiscreteFlow``, ``ModelSamplingSD3`` node default shift 3.0), ``flux``
        (``ModelSamplingFlux``, default shift/mu 1.15) or ``edm``
        (``ModelSamplingContinuousEDM`` with its defaults :data:`EDM_SIGMA_MIN`,
        :data:`EDM_SIGMA_MAX`).
    zsnr
        Zero terminal SNR (discrete tables only; not ``edm``).
    shift
        The flow shift; ``None`` is the model's default.

    Raises
    ------
    ValueError
        If the model is unknown, or ``zsnr`` / ``shift`` is given for a model without it.
    """
    if model in ("sd15", "sdxl"):
        if shift is not None:
            raise ValueError(f"shift applies to the flow models sd3 and flux, not {model}")
        return _discrete_table(zsnr)
    if model == "edm":
        if zsnr or shift is not None:
            raise ValueError("zsnr and shift do not apply to the edm model (continuous EDM table)")
        return _edm_table(EDM_SIGMA_MIN, EDM_SIGMA_MAX)
    if model in _FLOW_DEFAULT_SHIFT:
        if zsnr:
            raise ValueError(f"zsnr applies to the discrete models sd15/sdxl, not {model}")
        s = _FLOW_DEFAULT_SHIFT[model] if shift is None else shift
        s = check_positive(s, "shift")
        return _flow_table("flow" if model == "sd3" else "flux", s)
    raise ValueError(f"model must be one of sd15, sdxl, sd3, flux, edm; got {model!r}")


# -- the nine schedulers --------------------------------------------------------------------------


def _simple(ms: ModelTable, steps: int) -> F32Array:
    """``simple_scheduler``: table entry ``-(1 + int(x * len/steps))`` for x < steps, then 0."""
    ss = len(ms.sigmas) / steps
    idx = [-(1 + int(x * ss)) for x in range(steps)]
    return np.append(ms.sigmas[idx], F32(0)).astype(F32)


def _ddim_uniform(ms: ModelTable, steps: int) -> F32Array:
    """``ddim_scheduler``: entries 1, 1+ss, 1+2ss, ... (ss = max(len//steps, 1)) reversed, with a
    final 0 unless ``sigmas[1]`` is already ~0 (then one more step and no 0)."""
    zero_first = math.isclose(float(ms.sigmas[1]), 0.0, abs_tol=1e-5)
    n = steps + 1 if zero_first else steps
    ss = max(len(ms.sigmas) // n, 1)
    picked = ms.sigmas[1::ss][::-1]
    tail = np.zeros(0 if zero_first else 1, F32)
    out: F32Array = np.concatenate([picked, tail]).astype(F32)
    return out


def _normal(ms: ModelTable, steps: int, sgm: bool = False) -> F32Array:
    """``normal_scheduler``: model times linear from ``timestep(sigma_max)`` to
    ``timestep(sigma_min)`` (``sgm``: steps+1 points, the last dropped), mapped by ``sigma``, then
    0 (no 0, and one more point, if ``sigma(end)`` is ~0)."""
    start, end = ms.timestep(ms.sigma_max), ms.timestep(ms.sigma_min)
    append_zero = True
    if sgm:
        t = torch_linspace_f32(start, end, steps + 1)[:-1]
    else:
        n = steps
        if math.isclose(float(ms.sigma(np.array([end], F32))[0]), 0.0, abs_tol=1e-5):
            n, append_zero = steps + 1, False
        t = torch_linspace_f32(start, end, n)
    out = ms.sigma(t)
    return np.append(out, F32(0)).astype(F32) if append_zero else out


def _beta(ms: ModelTable, steps: int, alpha: float = 0.6, beta: float = 0.6) -> F32Array:
    """``beta_scheduler``: table indices ``rint(ppf_Beta(alpha, beta)(1 - x) * (len - 1))`` on
    ``x = linspace(0, 1, steps, endpoint=False)``, an index equal to the previous one skipped,
    then 0."""
    total = len(ms.sigmas) - 1
    ts = 1 - np.linspace(0, 1, steps, endpoint=False)
    ts = np.rint(stats.beta.ppf(ts, alpha, beta) * total)
    keep = np.concatenate([[True], ts[1:] != ts[:-1]])
    out: F32Array = np.append(ms.sigmas[ts[keep].astype(np.int64)], F32(0)).astype(F32)
    return out


def _linear_quadratic(
    ms: ModelTable, steps: int, threshold_noise: float = 0.025, linear_steps: int | None = None
) -> F32Array:
    """``linear_quadratic_schedule`` (Mochi): ``steps//2`` linear steps up to ``threshold_noise``,
    then a quadratic to 1, as ``1 - x`` (Python floats), then times ``sigma_max`` in float32."""
    if steps == 1:
        sched = [1.0, 0.0]
    else:
        ls = steps // 2 if linear_steps is None else linear_steps
        lin = [i * threshold_noise / ls for i in range(ls)]
        diff = ls - threshold_noise * steps
        qs = steps - ls
        qc = diff / (ls * qs**2)
        lc = threshold_noise / ls - 2 * diff / (qs**2)
        const = qc * (ls**2)
        quad = [qc * (i**2) + lc * i + const for i in range(ls, steps)]
        sched = [1.0 - x for x in [*lin, *quad, 1.0]]
    return (np.array(sched, dtype=np.float64).astype(F32) * ms.sigma_max).astype(F32)


def _kl_optimal(n: int, sigma_min: float, sigma_max: float) -> F32Array:
    """``kl_optimal_scheduler``: ``tan(a*atan(sigma_min) + (1 - a)*atan(sigma_max))`` on
    ``a = arange(n)/(n - 1)`` (float32), then 0. ComfyUI divides 0 by 0 at n = 1 (NaN)."""
    if n == 1:
        raise ValueError(
            "comfyui:kl_optimal is NaN at 1 step: ComfyUI computes arange(1)/(1 - 1) = 0/0"
        )
    a = (np.arange(n).astype(F32) / F32(n - 1)).astype(F32)
    mix = (a * F32(math.atan(sigma_min))).astype(F32) + (
        (F32(1) - a).astype(F32) * F32(math.atan(sigma_max))
    ).astype(F32)
    tan = np.array([math.tan(float(v)) for v in mix.astype(F32)], dtype=np.float64).astype(F32)
    return np.append(tan, F32(0)).astype(F32)


def _ends(
    fn: Callable[[int, float, float], F32Array],
) -> Callable[[ModelTable, int], F32Array]:
    """A handler called as ``fn(n, float(ms.sigma_min), float(ms.sigma_max))`` (use_ms=False)."""

    def run(ms: ModelTable, steps: int) -> F32Array:
        return fn(steps, float(ms.sigma_min), float(ms.sigma_max))

    return run


_HANDLERS: dict[str, Callable[[ModelTable, int], F32Array]] = {
    "simple": _simple,
    "sgm_uniform": functools.partial(_normal, sgm=True),
    "karras": _ends(get_sigmas_karras),
    "exponential": _ends(get_sigmas_exponential),
    "ddim_uniform": _ddim_uniform,
    "beta": _beta,
    "normal": _normal,
    "linear_quadratic": _linear_quadratic,
    "kl_optimal": _ends(_kl_optimal),
}


def ksampler_sigmas(scheduler: str, ms: ModelTable, steps: int, denoise: float = 1.0) -> F32Array:
    """The SIGMAS of ComfyUI's ``KSampler`` / ``BasicScheduler`` for ``scheduler``.

    ``KSampler.set_steps``: with ``denoise`` above 0.9999 the schedule of ``steps``; otherwise the
    schedule of ``int(steps/denoise)`` steps, of which the last ``steps + 1`` values are kept.

    Raises
    ------
    ValueError
        If ``denoise`` is not in (0, 1] (ComfyUI returns an empty tensor at 0), or the scheduler
        is unknown or gives NaN.
    """
    if scheduler not in _HANDLERS:
        raise ValueError(f"scheduler must be one of {', '.join(KSAMPLER_SCHEDULERS)}")
    if not 0.0 < denoise <= 1.0:
        raise ValueError(f"denoise must be in (0, 1] (ComfyUI gives no sigmas at 0), got {denoise}")
    if denoise > 0.9999:
        return _HANDLERS[scheduler](ms, steps)
    full = _HANDLERS[scheduler](ms, int(steps / denoise))
    return full[-(steps + 1) :].copy()


# -- registry -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KSamplerOptions:
    """The KSampler inputs that shape the schedule, and the model's ``model_sampling``."""

    model: Model = option(
        "sd15",
        "the model_sampling table: sd15/sdxl (ModelSamplingDiscrete), sd3 (DiscreteFlow), flux, "
        "edm (ContinuousEDM 0.002..120)",
    )
    zsnr: bool = option(False, "zero terminal SNR (ModelSamplingDiscrete zsnr; sd15/sdxl only)")
    shift: float | None = option(
        None, "the flow shift (sd3 default 3.0, flux mu default 1.15)", metavar="S"
    )
    denoise: float = option(1.0, "KSampler denoise: int(steps/denoise) computed, last steps+1 kept")


def _notes(scheduler: str, steps: int, tool: F32Array) -> tuple[str, ...]:
    executed = int(tool.size - 1)
    if executed == steps:
        return ()
    why = {
        "beta": "repeated table indices are skipped",
        "ddim_uniform": "the table stride len//steps visits more entries",
    }.get(scheduler, "the tool's construction")
    return (f"asked {steps} steps, returns {executed} ({why})",)


def _register(scheduler: str) -> None:
    name = f"comfyui:{scheduler}"

    def build(steps: int, o: KSamplerOptions) -> BuiltinGrid:
        ms = model_table(o.model, o.zsnr, o.shift)
        tool = ksampler_sigmas(scheduler, ms, steps, o.denoise)
        if np.isnan(tool).any():
            raise ValueError(f"{name} gives NaN for {steps} steps on {o.model}")
        tool.setflags(write=False)
        flow = ms.is_flow
        grid, merge = tool_grid(flow_levels(tool) if flow else tool, name)
        params: dict[str, object] = {
            "model": o.model,
            "zsnr": o.zsnr,
            "shift": ms.shift if flow else None,
            "denoise": o.denoise,
            "sigma_min": float(ms.sigma_min),
            "sigma_max": float(ms.sigma_max),
        }
        notes = _notes(scheduler, steps, tool) + merge
        return BuiltinGrid(
            name, steps, tool, None, grid, "flow-t" if flow else "sigma", params, notes
        )

    register_builtin(
        name,
        options=KSamplerOptions,
        summary=f"ComfyUI KSampler scheduler {scheduler!r} on the model's sigma table",
        provenance=Provenance(
            "Comfy-Org/ComfyUI",
            "comfy/samplers.py",
            f"SCHEDULER_HANDLERS[{scheduler!r}]",
            f"commit {COMFYUI_COMMIT}",
        ),
    )(build)


for _s in KSAMPLER_SCHEDULERS:
    _register(_s)


# -- schedule nodes (comfy_extras) ----------------------------------------------------------------
#
# The table nodes (AlignYourStepsScheduler, GITSScheduler, OptimalStepsScheduler) share one rule:
# the table of ``steps + 1`` levels (a published list, or that list resampled log-linearly), of
# which the last ``round(steps * denoise) + 1`` values are kept, the last overwritten by 0.

_NODE_PATHS = {
    "ays": "comfy_extras/nodes_align_your_steps.py",
    "gits": "comfy_extras/nodes_gits.py",
    "optimal-steps": "comfy_extras/nodes_optimalsteps.py",
    "custom": "comfy_extras/nodes_custom_sampler.py",
    "kd": "comfy/k_diffusion/sampling.py",
}

AYSModelType = Literal["SD1", "SDXL", "SVD"]
_AYS_KEYS = {"SD1": "sd15", "SDXL": "sdxl", "SVD": "svd"}
"""``NOISE_LEVELS`` of ``nodes_align_your_steps.py`` are exactly :data:`AYS_SIGMAS` (the same
Python literals, compared in the tests); the node names them SD1 / SDXL / SVD."""

OptimalStepsModel = Literal["FLUX", "Wan", "Chroma"]
OPTIMAL_STEPS_LEVELS: dict[str, tuple[float, ...]] = {
    "FLUX": (0.9968, 0.9886, 0.9819, 0.975, 0.966, 0.9471, 0.9158, 0.8287, 0.5512, 0.2808, 0.001),
    "Wan": (
        *(1.0, 0.997, 0.995, 0.993, 0.991, 0.989, 0.987, 0.985, 0.98, 0.975, 0.973),
        *(0.968, 0.96, 0.946, 0.927, 0.902, 0.864, 0.776, 0.539, 0.208, 0.001),
    ),
    "Chroma": (
        *(0.992, 0.99, 0.988, 0.985, 0.982, 0.978, 0.973, 0.968, 0.961, 0.953, 0.943, 0.931),
        *(0.917, 0.9, 0.881, 0.858, 0.832, 0.802, 0.769, 0.731, 0.69, 0.646, 0.599, 0.55),
        *(0.501, 0.451, 0.402, 0.355, 0.311, 0.27, 0.232, 0.199, 0.169, 0.143, 0.12, 0.101),
        *(0.084, 0.07, 0.058, 0.048, 0.001),
    ),
}
"""``NOISE_LEVELS`` of ``nodes_optimalsteps.py`` (OptimalSteps, bebebe666/OptimalSteps): flow
times ``t`` (FLUX 10 steps, Wan 20, Chroma 40; Wan starts at t = 1, pure noise)."""

GITS_LEVELS: tuple[float, ...] = (
    14.61464119,
    13.76078796,
    12.96784878,
    12.2308979,
    11.54541874,
    10.90732002,
    10.31284904,
    9.75859547,
    9.24142551,
    8.75849152,
    8.30717278,
    7.88507891,
    7.49001646,
    7.11996698,
    6.77309084,
    6.44769001,
    6.14220476,
    5.85520077,
    5.58536053,
    5.09240818,
    4.86714602,
    4.65472794,
    4.45427561,
    4.26497746,
    3.91689563,
    3.75677586,
    3.60512662,
    3.46139455,
    3.32507086,
    3.1956799,
    3.07277966,
    2.95596409,
    2.84484982,
    2.6383388,
    2.54230714,
    2.45070267,
    2.36326075,
    2.27973175,
    2.19988537,
    2.12350607,
    2.05039096,
    1.98035145,
    1.91321158,
    1.84880662,
    1.78698075,
    1.72759056,
    1.67050016,
    1.61558151,
    1.56271636,
    1.51179266,
    1.46270394,
    1.41535246,
    1.36964464,
    1.32549286,
    1.28281462,
    1.24153244,
    1.20157266,
    1.162866,
    1.12534678,
    1.08895338,
    1.05362725,
    1.01931262,
    0.98595673,
    0.95350921,
    0.92192322,
    0.89115214,
    0.86115354,
    0.83188516,
    0.803307,
    0.77538133,
    0.74807048,
    0.72133851,
    0.69515091,
    0.66947293,
    0.64427125,
    0.61951244,
    0.59516323,
    0.57119018,
    0.54755926,
    0.52423614,
    0.50118381,
    0.4783645,
    0.45573691,
    0.43325692,
    0.41087446,
    0.38853383,
    0.36617002,
    0.34370604,
    0.32104823,
    0.29807833,
    0.27464288,
    0.25053367,
    0.22545385,
    0.19894916,
    0.17026083,
    0.13792117,
    0.09824532,
    0.02916753,
)
GITS_ROWS: dict[float, tuple[str, ...]] = {
    0.80: (
        "0 12 97",
        "0 4 14 97",
        "0 4 12 30 97",
        "0 4 12 17 40 97",
        "0 3 9 12 17 40 97",
        "0 3 9 12 17 30 48 97",
        "0 2 4 9 12 17 30 48 97",
        "0 1 3 5 9 12 17 30 48 97",
        "0 1 2 3 5 9 12 17 30 48 97",
        "0 1 2 3 5 8 10 12 17 30 48 97",
        "0 1 2 3 5 8 10 12 16 20 30 48 97",
        "0 1 2 3 4 6 8 10 12 16 20 30 48 97",
        "0 1 2 3 4 5 6 8 10 12 16 20 30 48 97",
        "0 1 2 3 4 5 6 8 9 10 12 16 20 30 48 97",
        "0 1 2 3 4 5 6 8 9 10 12 16 20 29 41 66 97",
        "0 1 2 3 4 5 6 7 8 9 10 12 16 20 29 41 66 97",
        "0 1 2 3 4 5 6 7 8 9 10 12 14 17 21 30 43 67 97",
        "0 1 2 3 4 5 6 7 8 9 10 11 12 14 17 21 30 43 67 97",
        "0 1 2 3 4 5 6 7 8 9 10 11 12 14 17 20 25 32 44 68 97",
    ),
    0.85: (
        "0 12 97",
        "0 12 43 97",
        "0 4 14 48 97",
        "0 4 13 30 55 97",
        "0 4 12 19 32 63 97",
        "0 3 9 12 19 32 63 97",
        "0 3 9 12 18 29 43 68 97",
        "0 2 4 9 12 18 29 43 68 97",
        "0 2 4 9 12 16 21 30 43 68 97",
        "0 1 3 5 9 12 16 21 30 43 68 97",
        "0 1 3 5 8 10 12 16 21 30 43 68 97",
        "0 1 2 3 5 8 10 12 16 21 30 43 68 97",
        "0 1 2 3 4 6 8 10 12 16 21 30 43 68 97",
        "0 1 2 3 4 6 8 10 12 16 20 26 33 48 71 97",
        "0 1 2 3 4 6 8 10 12 14 17 21 27 35 48 71 97",
        "0 1 2 3 4 6 8 9 10 12 14 17 21 27 35 48 71 97",
        "0 1 2 3 4 5 6 8 9 10 12 14 17 21 27 35 48 71 97",
        "0 1 2 3 4 5 6 7 8 9 10 12 14 17 21 27 35 48 71 97",
        "0 1 2 3 4 5 6 7 8 9 10 11 12 14 17 21 27 35 48 71 97",
    ),
    0.90: (
        "0 14 97",
        "0 12 48 97",
        "0 12 30 63 97",
        "0 12 20 34 65 97",
        "0 4 12 20 34 65 97",
        "0 4 12 19 30 47 72 97",
        "0 3 9 13 20 30 47 72 97",
        "0 3 9 12 17 22 31 47 72 97",
        "0 3 9 12 17 22 29 38 55 77 97",
        "0 2 5 9 12 17 22 29 38 55 77 97",
        "0 2 4 8 10 12 17 22 29 38 55 77 97",
        "0 2 4 8 10 12 16 20 25 32 43 59 79 97",
        "0 1 3 5 8 10 12 16 20 25 32 43 59 79 97",
        "0 1 3 5 8 10 12 15 18 22 28 35 47 63 82 97",
        "0 1 2 3 5 8 10 12 15 18 22 28 35 47 63 82 97",
        "0 1 2 3 5 8 10 12 14 17 20 24 30 37 48 63 82 97",
        "0 1 2 3 4 6 8 10 12 14 17 20 24 30 37 48 63 82 97",
        "0 1 2 3 4 6 8 9 10 12 14 17 20 24 30 37 48 63 82 97",
        "0 1 2 3 4 6 8 9 10 12 14 17 19 22 26 31 38 49 65 83 97",
    ),
    0.95: (
        "0 14 97",
        "0 14 48 97",
        "0 12 32 65 97",
        "0 12 20 36 68 97",
        "0 12 20 31 48 74 97",
        "0 4 12 20 31 48 74 97",
        "0 4 12 20 30 42 59 80 97",
        "0 4 12 17 22 30 42 59 80 97",
        "0 3 9 12 17 22 30 42 59 80 97",
        "0 3 9 12 17 22 29 38 51 68 85 97",
        "0 3 9 12 17 21 27 33 43 55 71 87 97",
        "0 2 5 9 12 17 21 27 33 43 55 71 87 97",
        "0 2 5 9 12 16 20 25 31 38 48 60 74 88 97",
        "0 2 5 9 12 15 18 21 26 31 38 48 60 74 88 97",
        "0 2 4 8 10 12 15 18 21 26 31 38 48 60 74 88 97",
        "0 2 4 8 10 12 15 18 21 25 30 35 44 55 67 80 92 97",
        "0 2 4 8 10 12 14 17 19 22 26 31 36 45 55 67 80 92 97",
        "0 1 3 5 8 10 12 14 17 19 22 26 31 36 45 55 67 80 92 97",
        "0 1 3 5 8 10 12 14 17 19 22 25 30 35 42 50 60 71 83 93 97",
    ),
    1.00: (
        "0 48 97",
        "0 14 63 97",
        "0 14 36 68 97",
        "0 13 30 48 76 97",
        "0 12 20 32 51 77 97",
        "0 12 20 32 47 66 85 97",
        "0 4 12 20 32 47 66 85 97",
        "0 4 12 20 30 41 55 71 87 97",
        "0 4 12 17 22 30 41 55 71 87 97",
        "0 4 12 17 22 29 37 49 63 78 91 97",
        "0 4 12 17 22 29 36 47 59 71 84 94 97",
        "0 4 9 12 17 22 29 36 47 59 71 84 94 97",
        "0 4 9 12 17 21 26 32 39 48 59 71 84 94 97",
        "0 4 9 12 17 21 26 32 38 47 57 68 80 90 96 97",
        "0 4 9 12 17 21 25 30 35 43 52 61 71 82 91 96 97",
        "0 4 9 12 16 19 23 27 32 38 46 55 64 74 83 91 96 97",
        "0 4 9 12 16 19 23 26 31 35 42 49 58 67 76 85 92 96 97",
        "0 3 8 10 12 16 19 23 26 31 35 42 49 58 67 76 85 92 96 97",
        "0 3 8 10 12 14 17 19 23 26 31 35 42 49 58 67 76 85 92 96 97",
    ),
    1.05: (
        "0 63 97",
        "0 14 65 97",
        "0 14 40 71 97",
        "0 14 32 54 79 97",
        "0 14 30 47 68 87 97",
        "0 12 20 32 48 68 87 97",
        "0 12 20 32 47 63 79 92 97",
        "0 12 20 30 41 55 70 84 94 97",
        "0 12 20 29 37 49 63 76 87 95 97",
        "0 12 19 27 35 47 59 71 82 91 96 97",
        "0 4 12 19 27 35 47 59 71 82 91 96 97",
        "0 4 12 17 22 29 36 47 59 71 82 91 96 97",
        "0 4 12 17 22 29 35 45 55 66 76 85 92 96 97",
        "0 4 12 17 21 26 32 38 47 57 67 76 85 92 96 97",
        "0 4 12 17 21 26 32 38 46 54 63 71 79 87 93 96 97",
        "0 4 12 17 21 26 31 36 43 51 59 67 75 82 88 93 96 97",
        "0 4 12 17 21 26 31 35 42 49 56 63 70 77 83 89 93 96 97",
        "0 4 10 13 17 21 26 31 35 42 49 56 63 70 77 83 89 93 96 97",
        "0 4 10 13 17 21 26 31 35 41 47 53 59 66 72 78 84 89 93 96 97",
    ),
    1.10: (
        "0 65 97",
        "0 36 71 97",
        "0 17 47 77 97",
        "0 14 35 59 82 97",
        "0 14 31 48 68 87 97",
        "0 14 30 47 65 81 93 97",
        "0 14 30 43 59 74 87 95 97",
        "0 12 20 32 47 63 78 90 96 97",
        "0 12 20 31 42 55 68 81 91 96 97",
        "0 12 20 30 40 51 63 74 84 92 96 97",
        "0 12 20 29 37 47 58 68 78 86 92 96 97",
        "0 12 20 28 35 45 55 65 74 82 88 93 96 97",
        "0 12 19 26 32 40 49 59 68 76 83 89 93 96 97",
        "0 12 19 26 32 39 47 55 63 71 78 84 89 93 96 97",
        "0 12 17 22 29 35 43 51 59 67 74 80 86 91 94 96 97",
        "0 12 17 22 29 35 42 49 56 63 70 76 82 87 91 94 96 97",
        "0 12 17 22 27 32 38 45 52 59 66 72 78 83 87 91 94 96 97",
        "0 4 12 17 22 27 32 38 45 52 59 66 72 78 83 87 91 94 96 97",
        "0 4 12 17 22 27 32 38 45 52 59 65 71 76 81 85 89 92 94 96 97",
    ),
    1.15: (
        "0 67 97",
        "0 43 76 97",
        "0 17 48 79 97",
        "0 17 42 67 87 97",
        "0 17 35 55 76 91 97",
        "0 17 32 49 68 84 94 97",
        "0 17 32 48 65 80 91 96 97",
        "0 14 30 43 58 71 83 92 96 97",
        "0 14 30 42 55 68 79 87 93 96 97",
        "0 12 20 31 42 55 68 79 87 93 96 97",
        "0 12 20 30 40 52 63 72 81 88 93 96 97",
        "0 12 20 30 39 49 59 68 76 83 89 93 96 97",
        "0 12 20 30 39 49 59 68 76 82 87 91 94 96 97",
        "0 12 20 30 38 47 55 63 70 76 82 87 91 94 96 97",
        "0 12 20 29 35 44 53 61 68 74 80 85 89 92 94 96 97",
        "0 12 20 29 35 44 53 61 68 74 79 84 88 91 93 95 96 97",
        "0 12 20 29 35 43 51 58 65 71 76 81 85 88 91 93 95 96 97",
        "0 12 20 29 35 43 51 58 65 71 76 80 84 87 90 92 94 95 96 97",
        "0 12 20 29 35 43 51 58 65 71 76 80 84 87 89 91 93 94 95 96 97",
    ),
    1.20: (
        "0 68 97",
        "0 48 79 97",
        "0 36 64 86 97",
        "0 32 55 76 91 97",
        "0 17 40 63 82 94 97",
        "0 17 35 55 74 89 96 97",
        "0 17 35 52 68 82 91 96 97",
        "0 17 32 47 63 76 86 93 96 97",
        "0 17 32 46 59 70 80 88 93 96 97",
        "0 17 31 43 55 67 76 84 90 94 96 97",
        "0 17 30 41 52 63 72 80 86 91 94 96 97",
        "0 14 27 36 48 59 68 76 82 87 91 94 96 97",
        "0 14 27 35 47 57 66 74 80 85 89 92 94 96 97",
        "0 12 21 30 39 49 59 67 74 80 85 89 92 94 96 97",
        "0 12 21 30 39 49 59 67 74 80 84 88 91 93 95 96 97",
        "0 12 21 30 39 49 59 67 74 80 84 87 90 92 94 95 96 97",
        "0 12 21 30 38 47 56 64 71 77 82 86 89 91 93 94 95 96 97",
        "0 12 21 30 38 47 55 63 70 76 81 85 88 90 92 93 94 95 96 97",
        "0 12 21 30 38 47 55 63 70 76 80 84 87 89 91 92 93 94 95 96 97",
    ),
    1.25: (
        "0 71 97",
        "0 48 80 97",
        "0 40 68 88 97",
        "0 36 63 83 94 97",
        "0 32 55 76 90 96 97",
        "0 30 49 68 83 92 96 97",
        "0 17 36 55 71 84 92 96 97",
        "0 17 35 52 67 79 87 93 96 97",
        "0 17 32 47 62 74 83 90 94 96 97",
        "0 17 32 46 59 70 79 86 91 94 96 97",
        "0 17 32 45 57 68 76 82 87 91 94 96 97",
        "0 17 31 43 55 66 74 81 86 90 93 95 96 97",
        "0 17 31 43 54 64 72 79 84 88 91 93 95 96 97",
        "0 17 31 42 53 63 71 78 83 87 90 92 94 95 96 97",
        "0 17 31 42 53 63 71 77 82 86 89 91 93 94 95 96 97",
        "0 17 31 42 53 63 70 76 81 85 88 90 92 93 94 95 96 97",
        "0 17 30 40 51 60 68 75 80 84 87 89 91 92 93 94 95 96 97",
        "0 17 30 40 51 60 68 74 79 83 86 88 90 91 92 93 94 95 96 97",
        "0 17 30 40 50 59 67 73 78 82 85 87 89 90 91 92 93 94 95 96 97",
    ),
    1.30: (
        "0 71 97",
        "0 55 83 97",
        "0 48 76 92 97",
        "0 43 68 86 95 97",
        "0 36 61 79 91 96 97",
        "0 32 52 70 84 92 96 97",
        "0 30 48 65 78 87 93 96 97",
        "0 30 47 63 75 84 90 94 96 97",
        "0 17 35 52 67 78 86 91 94 96 97",
        "0 17 35 51 64 74 82 87 91 94 96 97",
        "0 17 33 48 61 71 80 86 90 93 95 96 97",
        "0 17 32 47 60 70 78 84 88 91 93 95 96 97",
        "0 17 32 47 59 69 77 83 87 90 92 94 95 96 97",
        "0 17 32 47 59 68 76 82 86 89 91 93 94 95 96 97",
        "0 17 32 47 59 68 76 81 85 88 90 92 93 94 95 96 97",
        "0 17 32 45 57 67 74 80 84 87 89 91 92 93 94 95 96 97",
        "0 17 32 45 57 67 74 79 83 86 88 90 91 92 93 94 95 96 97",
        "0 17 32 44 55 64 71 77 82 85 87 89 90 91 92 93 94 95 96 97",
        "0 17 32 44 55 64 71 77 81 84 86 88 89 90 91 92 93 94 95 96 97",
    ),
    1.35: (
        "0 72 97",
        "0 63 87 97",
        "0 48 77 93 97",
        "0 47 72 89 96 97",
        "0 43 67 83 92 96 97",
        "0 35 57 74 86 93 96 97",
        "0 32 52 68 80 88 93 96 97",
        "0 32 51 67 78 86 91 94 96 97",
        "0 32 48 63 74 82 88 92 94 96 97",
        "0 32 48 63 74 82 87 91 93 95 96 97",
        "0 30 47 61 71 79 85 89 92 94 95 96 97",
        "0 30 47 61 71 79 84 88 91 93 94 95 96 97",
        "0 30 47 60 70 78 83 87 90 92 93 94 95 96 97",
        "0 30 45 58 68 76 82 86 89 91 92 93 94 95 96 97",
        "0 30 45 58 68 76 81 85 88 90 91 92 93 94 95 96 97",
        "0 17 35 49 61 70 77 82 86 88 90 91 92 93 94 95 96 97",
        "0 17 33 47 59 68 75 80 84 87 89 90 91 92 93 94 95 96 97",
        "0 17 33 47 59 68 74 79 83 86 88 89 90 91 92 93 94 95 96 97",
        "0 17 33 47 59 68 74 79 82 85 87 88 89 90 91 92 93 94 95 96 97",
    ),
    1.40: (
        "0 76 97",
        "0 63 87 97",
        "0 59 83 95 97",
        "0 48 74 90 96 97",
        "0 47 68 83 92 96 97",
        "0 40 63 78 87 93 96 97",
        "0 35 55 71 83 90 94 96 97",
        "0 35 55 70 80 87 91 94 96 97",
        "0 35 54 68 79 86 90 93 95 96 97",
        "0 35 54 68 78 85 89 92 94 95 96 97",
        "0 32 51 66 76 83 88 91 93 94 95 96 97",
        "0 32 49 63 74 82 87 90 92 93 94 95 96 97",
        "0 32 49 63 74 81 86 89 91 92 93 94 95 96 97",
        "0 32 48 62 72 79 84 87 89 91 92 93 94 95 96 97",
        "0 32 48 61 71 78 83 86 88 90 91 92 93 94 95 96 97",
        "0 32 47 60 70 77 82 85 87 89 90 91 92 93 94 95 96 97",
        "0 32 47 59 68 75 80 84 86 88 89 90 91 92 93 94 95 96 97",
        "0 32 47 59 68 75 80 83 85 87 88 89 90 91 92 93 94 95 96 97",
        "0 32 47 59 68 74 79 82 84 86 87 88 89 90 91 92 93 94 95 96 97",
    ),
    1.45: (
        "0 76 97",
        "0 68 91 97",
        "0 63 87 96 97",
        "0 55 78 91 96 97",
        "0 48 71 86 93 96 97",
        "0 47 68 82 90 94 96 97",
        "0 42 63 77 86 91 94 96 97",
        "0 38 59 74 84 90 93 95 96 97",
        "0 35 55 70 80 87 91 93 95 96 97",
        "0 35 55 70 80 86 90 92 94 95 96 97",
        "0 35 54 68 78 84 88 91 93 94 95 96 97",
        "0 35 54 68 77 83 87 90 92 93 94 95 96 97",
        "0 35 54 67 76 82 86 89 91 92 93 94 95 96 97",
        "0 35 54 67 76 82 86 88 90 91 92 93 94 95 96 97",
        "0 32 49 63 72 79 84 87 89 90 91 92 93 94 95 96 97",
        "0 32 49 63 72 79 83 86 88 89 90 91 92 93 94 95 96 97",
        "0 32 48 62 71 78 82 85 87 88 89 90 91 92 93 94 95 96 97",
        "0 32 48 61 70 77 81 84 86 87 88 89 90 91 92 93 94 95 96 97",
        "0 32 48 61 70 76 80 83 85 86 87 88 89 90 91 92 93 94 95 96 97",
    ),
    1.50: (
        "0 78 97",
        "0 68 91 97",
        "0 66 88 96 97",
        "0 55 78 91 96 97",
        "0 48 71 86 93 96 97",
        "0 47 68 82 90 94 96 97",
        "0 47 67 79 87 91 94 96 97",
        "0 43 63 76 85 90 93 95 96 97",
        "0 43 63 76 84 89 92 94 95 96 97",
        "0 43 63 75 83 88 91 93 94 95 96 97",
        "0 38 58 71 80 86 90 92 93 94 95 96 97",
        "0 38 58 71 80 86 89 91 92 93 94 95 96 97",
        "0 36 55 68 77 83 87 89 91 92 93 94 95 96 97",
        "0 36 55 68 77 83 87 89 90 91 92 93 94 95 96 97",
        "0 36 55 68 76 82 86 88 89 90 91 92 93 94 95 96 97",
        "0 36 55 68 76 82 85 87 88 89 90 91 92 93 94 95 96 97",
        "0 35 53 66 74 80 84 86 87 88 89 90 91 92 93 94 95 96 97",
        "0 35 52 64 72 78 82 84 86 87 88 89 90 91 92 93 94 95 96 97",
        "0 35 51 63 71 77 81 83 85 86 87 88 89 90 91 92 93 94 95 96 97",
    ),
}
"""``NOISE_LEVELS`` of ``nodes_gits.py`` (GITS, zju-pi/diff-sampler, SD1.5): for each ``coeff``
(0.80 .. 1.50 by 0.05) one table per step count 2 .. 20 (``steps + 1`` levels). Stored here as
indices into :data:`GITS_LEVELS`, the 98 distinct values of the node's tables (every table is a
subset of them); :func:`gits_table` rebuilds a table."""

GITS_COEFFS: tuple[float, ...] = tuple(GITS_ROWS)


def gits_table(coeff: float, steps: int) -> tuple[float, ...]:
    """The node's GITS table for ``coeff`` (rounded to 2 decimals) and ``steps`` in 2 .. 20.

    Raises
    ------
    ValueError
        If ``coeff`` is not one of :data:`GITS_COEFFS` or ``steps`` is outside 2 .. 20.
    """
    key = round(coeff, 2)
    if key not in GITS_ROWS:
        raise ValueError(f"coeff must be one of 0.80, 0.85, ..., 1.50 (GITSScheduler), got {coeff}")
    if not 2 <= steps <= 20:
        raise ValueError(f"GITS tables exist for 2 .. 20 steps, got {steps}")
    return tuple(GITS_LEVELS[int(i)] for i in GITS_ROWS[key][steps - 2].split())


def table_node_sigmas(levels: Sequence[float], steps: int, denoise: float = 1.0) -> F32Array:
    """The SIGMAS of ComfyUI's table nodes (``execute`` of AlignYourStepsScheduler,
    OptimalStepsScheduler, and GITSScheduler once its table is chosen).

    ``levels`` is used as it is when it has ``steps + 1`` entries, otherwise resampled to
    ``steps + 1`` points by ``loglinear_interp`` (piecewise linear in log level against a uniform
    index, :func:`symsched.schedules.ays.loglinear_interp`, float64). With ``denoise < 1`` only the
    last ``round(steps * denoise) + 1`` values are kept (Python's round: halves to even). The last
    value is then set to 0 and the list becomes a float32 tensor.

    Raises
    ------
    ValueError
        If ``denoise`` is not in (0, 1] (the node returns an empty tensor at 0) or keeps no step.
    """
    if not 0.0 < denoise <= 1.0:
        raise ValueError(
            f"denoise must be in (0, 1] (the node gives no sigmas at 0), got {denoise}"
        )
    keep = steps if denoise >= 1.0 else round(steps * denoise)
    if keep < 1:
        raise ValueError(
            f"round({steps} * {denoise}) = 0: the node keeps one level (0) and takes no step"
        )
    lv = np.asarray(levels, dtype=np.float64)
    if lv.size != steps + 1:
        lv = loglinear_interp(lv, steps + 1)
    out = lv[-(keep + 1) :].copy()
    out[-1] = 0.0
    return out.astype(F32)


def _node_steps(name: str, steps: int, lo: int, hi: int) -> None:
    if not lo <= steps <= hi:
        raise ValueError(f"{name}: the node takes steps in {lo} .. {hi}, got {steps}")


def _node_grid(
    name: str,
    steps: int,
    tool: F32Array,
    units: Literal["sigma", "flow-t"],
    params: dict[str, object],
    notes: tuple[str, ...] = (),
) -> BuiltinGrid:
    tool.setflags(write=False)
    grid, merge = tool_grid(flow_levels(tool) if units == "flow-t" else tool, name)
    return BuiltinGrid(name, steps, tool, None, grid, units, params, notes + merge)


def _denoise_notes(steps: int, tool: F32Array) -> tuple[str, ...]:
    executed = int(tool.size - 1)
    if executed == steps:
        return ()
    return (
        f"asked {steps} steps with denoise, executes {executed} = round(steps*denoise) "
        "(the table nodes shorten the schedule; KSampler's denoise does not)",
    )


def _node_prov(key: str, symbol: str) -> Provenance:
    return Provenance("Comfy-Org/ComfyUI", _NODE_PATHS[key], symbol, f"commit {COMFYUI_COMMIT}")


_DENOISE_HELP = "the node's denoise: keep the last round(steps*denoise)+1 values"


@dataclass(frozen=True)
class AYSNodeOptions:
    """Inputs of ``AlignYourStepsScheduler`` (``steps`` is the steps)."""

    model_type: AYSModelType = option("SD1", "the AYS table: SD1, SDXL or SVD")
    denoise: float = option(1.0, _DENOISE_HELP)


@register_builtin(
    "comfyui:ays",
    options=AYSNodeOptions,
    summary="AlignYourStepsScheduler: the AYS 10-step table, log-linearly resampled, last level 0",
    provenance=_node_prov("ays", "AlignYourStepsScheduler.execute"),
)
def _ays_node(steps: int, o: AYSNodeOptions) -> BuiltinGrid:
    if o.model_type not in _AYS_KEYS:
        raise ValueError(f"model_type must be one of SD1, SDXL, SVD; got {o.model_type!r}")
    _node_steps("comfyui:ays", steps, 1, 10_000)
    tool = table_node_sigmas(AYS_SIGMAS[_AYS_KEYS[o.model_type]], steps, o.denoise)
    params: dict[str, object] = {"model_type": o.model_type, "denoise": o.denoise}
    notes = ("the table's last level sigma_min is overwritten by 0",)
    return _node_grid(
        "comfyui:ays", steps, tool, "sigma", params, notes + _denoise_notes(steps, tool)
    )


@dataclass(frozen=True)
class GITSNodeOptions:
    """Inputs of ``GITSScheduler`` (``steps`` is the steps)."""

    coeff: float = option(1.20, "the GITS coefficient: 0.80 .. 1.50 by 0.05", metavar="C")
    denoise: float = option(1.0, _DENOISE_HELP)


@register_builtin(
    "comfyui:gits",
    options=GITSNodeOptions,
    summary="GITSScheduler: GITS SD1.5 tables for 2..20 steps, the 20-step table resampled above",
    provenance=_node_prov("gits", "GITSScheduler.execute"),
)
def _gits_node(steps: int, o: GITSNodeOptions) -> BuiltinGrid:
    _node_steps("comfyui:gits", steps, 2, 1000)
    table = gits_table(o.coeff, min(steps, 20))
    tool = table_node_sigmas(table, steps, o.denoise)
    params: dict[str, object] = {"coeff": round(o.coeff, 2), "denoise": o.denoise}
    notes = ["the table's last level sigma_min is overwritten by 0"]
    if steps > 20:
        notes.append(f"above 20 steps the 20-step table is resampled log-linearly to {steps + 1}")
    return _node_grid(
        "comfyui:gits", steps, tool, "sigma", params, (*notes, *_denoise_notes(steps, tool))
    )


@dataclass(frozen=True)
class OptimalStepsNodeOptions:
    """Inputs of ``OptimalStepsScheduler`` (``steps`` is the steps)."""

    model_type: OptimalStepsModel = option(
        "FLUX", "the table: FLUX (10 steps), Wan (20), Chroma (40)"
    )
    denoise: float = option(1.0, _DENOISE_HELP)


@register_builtin(
    "comfyui:optimal-steps",
    options=OptimalStepsNodeOptions,
    summary="OptimalStepsScheduler: OSS flow-time tables, log-linearly resampled, last level 0",
    provenance=_node_prov("optimal-steps", "OptimalStepsScheduler.execute"),
)
def _optimal_steps_node(steps: int, o: OptimalStepsNodeOptions) -> BuiltinGrid:
    if o.model_type not in OPTIMAL_STEPS_LEVELS:
        raise ValueError(f"model_type must be one of FLUX, Wan, Chroma; got {o.model_type!r}")
    _node_steps("comfyui:optimal-steps", steps, 3, 1000)
    table = OPTIMAL_STEPS_LEVELS[o.model_type]
    tool = table_node_sigmas(table, steps, o.denoise)
    params: dict[str, object] = {"model_type": o.model_type, "denoise": o.denoise}
    notes = ["the table's last flow time is overwritten by 0"]
    if tool[0] >= 1.0:
        notes.append("the first flow time is 1 (pure noise): its VE level is inf")
    return _node_grid(
        "comfyui:optimal-steps",
        steps,
        tool,
        "flow-t",
        params,
        (*notes, *_denoise_notes(steps, tool)),
    )


# -- parametric nodes (nodes_custom_sampler.py) ---------------------------------------------------

_NODE_SIGMA_MAX = 14.614642
_NODE_SIGMA_MIN = 0.0291675


def get_sigmas_laplace(
    n: int, sigma_min: float, sigma_max: float, mu: float = 0.0, beta: float = 0.5
) -> F32Array:
    r"""ComfyUI ``get_sigmas_laplace`` (comfy/k_diffusion/sampling.py) in float32.

    On ``x = linspace(0, 1, n)``: :math:`\lambda = \mu - \beta\,\mathrm{sign}(1/2 - x)
    \log(1 - 2|1/2 - x| + 10^{-5})`, :math:`\sigma = e^\lambda` clamped to
    ``[sigma_min, sigma_max]``; **no** 0 appended (``n`` values). The float32 operations in
    torch's order: ``beta*sign`` first, then times the log; ``log``/``exp`` correctly rounded.
    """
    x = torch_linspace_f32(0.0, 1.0, n)
    d = (F32(0.5) - x).astype(F32)
    inner = ((F32(1.0) - (F32(2.0) * np.abs(d)).astype(F32)).astype(F32) + F32(1e-5)).astype(F32)
    log = np.array([math.log(float(v)) for v in inner], dtype=np.float64).astype(F32)
    lam = (F32(mu) - ((F32(beta) * np.sign(d)).astype(F32) * log).astype(F32)).astype(F32)
    out: F32Array = np.clip(f32_exp(lam), F32(sigma_min), F32(sigma_max)).astype(F32)
    return out


def get_sigmas_vp_expm1(
    n: int, beta_d: float = 19.9, beta_min: float = 0.1, eps_s: float = 1e-3
) -> F32Array:
    r"""ComfyUI ``get_sigmas_vp``: :math:`\sqrt{\mathrm{expm1}(\beta_d t^2/2 + \beta_{\min} t)}`
    on ``t = linspace(1, eps_s, n)``, then 0 (float32).

    ComfyUI's copy of k-diffusion calls ``torch.special.expm1`` where k-diffusion computes
    ``exp(...) - 1`` (:func:`symsched.builtin.kdiffusion.get_sigmas_vp`): the last levels differ.
    """
    t = torch_linspace_f32(1.0, eps_s, n)
    quad = ((F32(beta_d) * (t * t).astype(F32)).astype(F32) / F32(2.0)).astype(F32)
    arg = (quad + (F32(beta_min) * t).astype(F32)).astype(F32)
    e = np.array([math.expm1(float(v)) for v in arg], dtype=np.float64).astype(F32)
    return np.concatenate([np.sqrt(e).astype(F32), np.zeros(1, F32)])


_MAX_NODE_HELP = "sigma_max (the node's default 14.614642)"
_MIN_NODE_HELP = "sigma_min (the node's default 0.0291675)"


@dataclass(frozen=True)
class LaplaceNodeOptions:
    """Inputs of ``LaplaceScheduler`` (``steps`` is the steps)."""

    sigma_max: float = option(_NODE_SIGMA_MAX, _MAX_NODE_HELP, metavar="S")
    sigma_min: float = option(_NODE_SIGMA_MIN, _MIN_NODE_HELP, metavar="S")
    mu: float = option(0.0, "the Laplace location mu (in log sigma)", metavar="M")
    beta: float = option(0.5, "the Laplace scale beta", metavar="B")


@register_builtin(
    "comfyui:laplace",
    options=LaplaceNodeOptions,
    summary="LaplaceScheduler: log sigma on a Laplace quantile ramp, clamped, no final 0",
    provenance=_node_prov("kd", "get_sigmas_laplace (LaplaceScheduler)"),
)
def _laplace_node(steps: int, o: LaplaceNodeOptions) -> BuiltinGrid:
    if steps < 2:
        raise ValueError("comfyui:laplace returns n levels and no final 0: 1 step gives no step")
    lo, hi = check_endpoints(o.sigma_min, o.sigma_max)
    b = check_positive(o.beta, "beta")
    tool = get_sigmas_laplace(steps, lo, hi, o.mu, b)
    params: dict[str, object] = {"sigma_max": hi, "sigma_min": lo, "mu": o.mu, "beta": b}
    notes = (
        f"no 0 is appended: {steps} levels, {steps - 1} steps; the sampler ends at "
        f"{float(tool[-1]):.6g}",
    )
    return _node_grid("comfyui:laplace", steps, tool, "sigma", params, notes)


@dataclass(frozen=True)
class PolyexponentialNodeOptions:
    """Inputs of ``PolyexponentialScheduler`` (``steps`` is the steps)."""

    sigma_max: float = option(_NODE_SIGMA_MAX, _MAX_NODE_HELP, metavar="S")
    sigma_min: float = option(_NODE_SIGMA_MIN, _MIN_NODE_HELP, metavar="S")
    rho: float = option(1.0, "the exponent of the log-sigma ramp", metavar="R")


@register_builtin(
    "comfyui:polyexponential",
    options=PolyexponentialNodeOptions,
    summary="PolyexponentialScheduler: k-diffusion get_sigmas_polyexponential, then 0",
    provenance=_node_prov("kd", "get_sigmas_polyexponential (PolyexponentialScheduler)"),
)
def _polyexponential_node(steps: int, o: PolyexponentialNodeOptions) -> BuiltinGrid:
    lo, hi = check_endpoints(o.sigma_min, o.sigma_max)
    if lo == 0 or math.isinf(hi):
        raise ValueError("sigma_min must be > 0 and sigma_max finite (their logs are taken)")
    rho = check_positive(o.rho, "rho")
    tool = get_sigmas_polyexponential(steps, lo, hi, rho)
    params: dict[str, object] = {"sigma_max": hi, "sigma_min": lo, "rho": rho}
    return _node_grid("comfyui:polyexponential", steps, tool, "sigma", params)


@dataclass(frozen=True)
class VPNodeOptions:
    """Inputs of ``VPScheduler`` (``steps`` is the steps)."""

    beta_d: float = option(19.9, "the VP beta_d", metavar="B")
    beta_min: float = option(0.1, "the VP beta_min", metavar="B")
    eps_s: float = option(0.001, "the last time t (the ramp runs from 1 to eps_s)", metavar="T")


@register_builtin(
    "comfyui:vp",
    options=VPNodeOptions,
    summary="VPScheduler: sqrt(expm1(beta_d t^2/2 + beta_min t)) on linspace(1, eps_s), then 0",
    provenance=_node_prov("kd", "get_sigmas_vp (VPScheduler)"),
)
def _vp_node(steps: int, o: VPNodeOptions) -> BuiltinGrid:
    bd = check_positive(o.beta_d, "beta_d")
    bm = check_positive(o.beta_min, "beta_min", allow_zero=True)
    eps = check_positive(o.eps_s, "eps_s")
    if eps >= 1.0:
        raise ValueError(f"eps_s must be < 1 (the ramp runs from t = 1 down to eps_s), got {eps}")
    tool = get_sigmas_vp_expm1(steps, bd, bm, eps)
    params: dict[str, object] = {"beta_d": bd, "beta_min": bm, "eps_s": eps}
    params.update({"sigma_min": float(tool[-2]), "sigma_max": float(tool[0])})
    notes = ("ComfyUI uses expm1 where k-diffusion's get_sigmas_vp uses exp(...) - 1",)
    return _node_grid("comfyui:vp", steps, tool, "sigma", params, notes)


@dataclass(frozen=True)
class BetaSamplingNodeOptions:
    """Inputs of ``BetaSamplingScheduler`` (``steps`` is the steps) and the model's table."""

    model: Model = option("sd15", "the model_sampling table: sd15/sdxl, sd3, flux, edm")
    zsnr: bool = option(False, "zero terminal SNR (sd15/sdxl only)")
    shift: float | None = option(None, "the flow shift (sd3 3.0, flux 1.15)", metavar="S")
    alpha: float = option(0.6, "the Beta distribution's alpha", metavar="A")
    beta: float = option(0.6, "the Beta distribution's beta", metavar="B")


@register_builtin(
    "comfyui:beta-sampling",
    options=BetaSamplingNodeOptions,
    summary="BetaSamplingScheduler: beta_scheduler on the model's table with alpha, beta",
    provenance=_node_prov("custom", "BetaSamplingScheduler.get_sigmas (samplers.beta_scheduler)"),
)
def _beta_sampling_node(steps: int, o: BetaSamplingNodeOptions) -> BuiltinGrid:
    ms = model_table(o.model, o.zsnr, o.shift)
    a = check_positive(o.alpha, "alpha")
    b = check_positive(o.beta, "beta")
    tool = _beta(ms, steps, a, b)
    flow = ms.is_flow
    params: dict[str, object] = {
        "model": o.model,
        "zsnr": o.zsnr,
        "shift": ms.shift if flow else None,
        "alpha": a,
        "beta": b,
    }
    return _node_grid(
        "comfyui:beta-sampling",
        steps,
        tool,
        "flow-t" if flow else "sigma",
        params,
        _notes("beta", steps, tool),
    )
