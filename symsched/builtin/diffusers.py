r"""Built-in schedules of diffusers 0.42.1, reproduced in numpy in the dtype diffusers computes in.

Each entry reproduces what ``Scheduler(**config).set_timesteps(N)`` leaves in
``scheduler.sigmas`` and ``scheduler.timesteps`` (read from the installed
``diffusers/schedulers/scheduling_*.py``; docs/conformance.md). diffusers is not imported here:
tests/symsched/builtin/test_diffusers_builtins.py proves the arrays equal to the real schedulers.

How the torch float32 arithmetic of the schedulers is reproduced
----------------------------------------------------------------
* ``torch.linspace(a, b, n, dtype=float32)`` (the beta tables): torch's CPU kernel evaluates
  ``a + step * i`` on the first half and ``b - step * (n - 1 - i)`` on the second, with ``step``
  in float32, and the compiler fuses each into one multiply-add (one rounding). Emulated by the
  exact float64 product and sum, rounded to float32 through round-to-odd (:func:`_fma_to_float32`).
* ``torch.cumprod`` of a float32 tensor accumulates in float64 and rounds each partial product
  to float32 (:func:`_cumprod_float32`); numpy's float32 cumprod does not.
* ``(1 - a) / a`` and ``sqrt`` are correctly rounded float32 operations here. torch's CPU
  ``sqrt``/``** 0.5`` (Intel MKL's vector math in the wheels) is *not* correctly rounded: about one
  level in a hundred of the training table :math:`\sqrt{(1-\bar\alpha)/\bar\alpha}` comes out one
  float32 ulp lower. That table is the only input that can differ; everything after it is
  reproduced operation for operation, so given diffusers' own table the arrays are bit-identical
  (the tests check both statements), with two exceptions computed by torch's own float32 exp/log
  and reproduced here with correctly rounded ones: Euler's ``interpolation_type=log_linear``
  levels (within one ulp) and its ``timestep_type=continuous`` timesteps ``log(sigma)/4``.
* The float64 parts (``np.interp``, ``_sigma_to_t``, the Karras / exponential / beta conversions,
  the flow shifts) are numpy in diffusers too and are written with the same operations in the
  same order, hence bit-identical on the same numpy.

These statements were measured against torch 2.14.1 on x86-64 CPUs with AVX-512 (torch's FMA
kernels, MKL's vector math); how many table levels torch's sqrt misrounds depends on the CPU
(about 1 % on one, 20 % on another).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray

from symsched._options import option
from symsched.builtin._registry import BuiltinGrid, Provenance, grid_from_levels, register_builtin
from symsched.export.flow_matching import flow_levels

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "AYS_DIFFUSERS",
    "DIFFUSERS_REVISION",
    "DDIMOptions",
    "DPMSolverMultistepOptions",
    "EulerAncestralOptions",
    "EulerOptions",
    "FlowMatchEulerOptions",
    "FlowMatchHeunOptions",
    "HeunOptions",
    "TrainingTables",
    "UniPCOptions",
    "UnrepresentableGrid",
    "alphas_cumprod_float32",
    "training_betas_float32",
    "training_tables",
]

DIFFUSERS_REVISION = "diffusers 0.42.1"
"""The release every formula here was read from."""

F32: TypeAlias = NDArray[np.float32]
F64: TypeAlias = NDArray[np.float64]
BetaSchedule: TypeAlias = Literal["linear", "scaled_linear", "squaredcos_cap_v2"]
Spacing: TypeAlias = Literal["linspace", "leading", "trailing"]
FinalSigmas: TypeAlias = Literal["zero", "sigma_min"]

_ZERO_SNR_TERMINAL = 2.0**-24
"""diffusers' stand-in for the zero terminal alphas_cumprod (the smallest float16 subnormal), set
by Euler, Euler-ancestral, DPM-Solver and UniPC so that sigma_max stays finite (4096)."""


def _provenance(file: str, cls: str) -> Provenance:
    return Provenance(
        repository="huggingface/diffusers",
        path=f"src/diffusers/schedulers/{file}.py",
        symbol=f"{cls}.set_timesteps",
        revision=DIFFUSERS_REVISION,
    )


# --------------------------------------------------------------------------------------------
# torch float32 arithmetic in numpy


def _fma_to_float32(hi: F64, lo: F64) -> F32:
    """``hi + lo`` (an exact float64 pair) rounded once to float32, via round-to-odd."""
    inexact = lo != 0
    odd = (hi.view(np.int64) & 1) == 1
    nudge = inexact & ~odd
    toward = np.where(lo > 0, np.inf, -np.inf)
    sticky = np.where(nudge, np.nextafter(hi, toward), hi)
    return sticky.astype(np.float32)


def _two_sum(a: F64, b: F64) -> tuple[F64, F64]:
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    return s, err


def _torch_linspace_float32(start: float, end: float, n: int) -> F32:
    """``torch.linspace(start, end, n, dtype=torch.float32)`` on the CPU, bit for bit.

    torch (aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp) converts both ends to float32,
    takes ``step = (end - start) / (n - 1)`` in float32 and fills the first ``n // 2`` entries with
    ``start + step * i``, the rest with ``end - step * (n - 1 - i)``, each one fused multiply-add.
    """
    a, b = np.float32(start), np.float32(end)
    if n == 1:
        return np.array([a], dtype=np.float32)
    step = np.float64((b - a) / np.float32(n - 1))
    i = np.arange(n, dtype=np.float64)
    first = i < n // 2
    base = np.where(first, np.float64(a), np.float64(b))
    prod = np.where(first, step * i, -step * (n - 1 - i))  # exact: 24 x 24 bits
    hi, lo = _two_sum(base, prod)
    return _fma_to_float32(hi, lo)


def _cumprod_float32(x: F32) -> F32:
    """``torch.cumprod`` of a float32 tensor on the CPU: float64 accumulator, float32 results."""
    return np.cumprod(x.astype(np.float64)).astype(np.float32)


def _ve_float32(alphas_cumprod: F32) -> F32:
    r""":math:`\sqrt{(1-\bar\alpha)/\bar\alpha}` in float32, correctly rounded (``inf`` at 0)."""
    with np.errstate(divide="ignore"):
        out: F32 = np.sqrt((np.float32(1) - alphas_cumprod) / alphas_cumprod)
    return out


# --------------------------------------------------------------------------------------------
# training tables


def _glide_betas(num_train_timesteps: int, transform: Literal["cosine", "exp"]) -> F32:
    """``betas_for_alpha_bar``: ``min(1 - f(t2)/f(t1), 0.999)`` in Python floats, then float32."""

    def alpha_bar(t: float) -> float:
        if transform == "exp":
            return math.exp(t * -12.0)
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    n = num_train_timesteps
    betas = [min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)]
    return np.array(betas, dtype=np.float32)


def training_betas_float32(
    num_train_timesteps: int,
    beta_start: float,
    beta_end: float,
    beta_schedule: str,
) -> F32:
    """The float32 beta table diffusers' discrete schedulers build in ``__init__``.

    Parameters
    ----------
    num_train_timesteps, beta_start, beta_end
        diffusers' config values.
    beta_schedule
        ``linear`` (``torch.linspace`` in float32), ``scaled_linear`` (the same between the square
        roots, squared in float32), ``squaredcos_cap_v2`` (GLIDE cosine) or ``exp``
        (``HeunDiscreteScheduler`` only).

    Returns
    -------
    numpy.ndarray
        float32 betas, bit-identical to ``scheduler.betas.numpy()``.

    Raises
    ------
    ValueError
        If ``beta_schedule`` is not one of those (diffusers raises ``NotImplementedError``).
    """
    if num_train_timesteps < 1:
        raise ValueError(f"num_train_timesteps must be at least 1, got {num_train_timesteps}")
    if beta_schedule == "linear":
        return _torch_linspace_float32(beta_start, beta_end, num_train_timesteps)
    if beta_schedule == "scaled_linear":
        root = _torch_linspace_float32(beta_start**0.5, beta_end**0.5, num_train_timesteps)
        return root * root
    if beta_schedule == "squaredcos_cap_v2":
        return _glide_betas(num_train_timesteps, "cosine")
    if beta_schedule == "exp":
        return _glide_betas(num_train_timesteps, "exp")
    raise ValueError(f"diffusers does not implement beta_schedule {beta_schedule!r}")


def _rescale_zero_terminal_snr(betas: F32) -> F32:
    """``rescale_zero_terminal_snr`` (Lin et al. 2024, Algorithm 1) in float32 (numpy sqrt)."""
    root = np.sqrt(_cumprod_float32(np.float32(1) - betas))
    first, last = root[0], root[-1]
    root = (root - last) * (first / (first - last))
    bar = root * root
    alphas = np.concatenate([bar[:1], bar[1:] / bar[:-1]])
    out: F32 = np.float32(1) - alphas
    return out


def alphas_cumprod_float32(
    num_train_timesteps: int,
    beta_start: float,
    beta_end: float,
    beta_schedule: str,
    *,
    rescale_betas_zero_snr: bool = False,
    clamp_terminal: bool = True,
) -> F32:
    r""":math:`\bar\alpha_t` as diffusers tabulates it (``scheduler.alphas_cumprod``), float32.

    ``clamp_terminal`` sets the last entry to :math:`2^{-24}` after a zero-SNR rescale, as Euler,
    Euler-ancestral, DPM-Solver and UniPC do (DDIM does not: its last entry stays 0).
    Bit-identical to diffusers without the rescale; with it, within the sqrt ulp of the module
    docstring.
    """
    betas = training_betas_float32(num_train_timesteps, beta_start, beta_end, beta_schedule)
    if rescale_betas_zero_snr:
        betas = _rescale_zero_terminal_snr(betas)
    ac = _cumprod_float32(np.float32(1) - betas)
    if rescale_betas_zero_snr and clamp_terminal:
        ac[-1] = _ZERO_SNR_TERMINAL
    return ac


@dataclass(frozen=True)
class TrainingTables:
    r"""A discrete scheduler's training tables: :math:`\bar\alpha_t` and its VE levels.

    Attributes
    ----------
    alphas_cumprod
        float32 :math:`\bar\alpha_t`, ``t = 0 .. T-1``.
    sigmas
        float32 :math:`\sqrt{(1-\bar\alpha_t)/\bar\alpha_t}` (ascending in ``t``): the table
        ``set_timesteps`` interpolates. The tests substitute diffusers' own table here to prove the
        rest bit-exact.
    """

    alphas_cumprod: F32
    sigmas: F32


def training_tables(
    num_train_timesteps: int,
    beta_start: float,
    beta_end: float,
    beta_schedule: str,
    *,
    rescale_betas_zero_snr: bool = False,
    clamp_terminal: bool = True,
) -> TrainingTables:
    """:class:`TrainingTables` of a config (see :func:`alphas_cumprod_float32`)."""
    ac = alphas_cumprod_float32(
        num_train_timesteps,
        beta_start,
        beta_end,
        beta_schedule,
        rescale_betas_zero_snr=rescale_betas_zero_snr,
        clamp_terminal=clamp_terminal,
    )
    return TrainingTables(ac, _ve_float32(ac))


# --------------------------------------------------------------------------------------------
# timestep spacings (Table 2 of Lin et al. 2024, as each scheduler family implements it)


def _k_spacing(spacing: str, train: int, n: int, steps_offset: int) -> F32:
    """Euler / Euler-ancestral / Heun: ``n`` float32 timesteps, descending."""
    if spacing == "linspace":
        out: F32 = np.linspace(0, train - 1, n, dtype=np.float32)[::-1].copy()
        return out
    if spacing == "leading":
        ratio = train // n
        out = (np.arange(0, n) * ratio).round()[::-1].copy().astype(np.float32)
        return out + np.float32(steps_offset)
    if spacing == "trailing":
        out = np.arange(train, 0, -train / n).round().copy().astype(np.float32)
        return out - np.float32(1)
    raise ValueError(f"timestep_spacing must be linspace, leading or trailing, got {spacing!r}")


def _multistep_spacing(
    spacing: str, last: int, train: int, n: int, steps_offset: int
) -> NDArray[np.int64]:
    """DPM-Solver / UniPC: ``n + 1`` points with the last dropped, rounded, int64."""
    if spacing == "linspace":
        pts = np.linspace(0, last - 1, n + 1).round()[::-1][:-1]
        return pts.copy().astype(np.int64)
    if spacing == "leading":
        ratio = last // (n + 1)
        lead = (np.arange(0, n + 1) * ratio).round()[::-1][:-1]
        return lead.copy().astype(np.int64) + steps_offset
    if spacing == "trailing":
        return np.arange(last, 0, -train / n).round().astype(np.int64) - 1
    raise ValueError(f"timestep_spacing must be linspace, leading or trailing, got {spacing!r}")


def _ddim_spacing(spacing: str, train: int, n: int, steps_offset: int) -> NDArray[np.int64]:
    """DDIM: ``n`` int64 timesteps."""
    if spacing == "linspace":
        return np.linspace(0, train - 1, n).round()[::-1].copy().astype(np.int64)
    if spacing == "leading":
        ratio = train // n
        pts = (np.arange(0, n) * ratio).round()[::-1].copy().astype(np.int64)
        return pts + steps_offset
    if spacing == "trailing":
        return np.arange(train, 0, -train / n).round().astype(np.int64) - 1
    raise ValueError(f"timestep_spacing must be linspace, leading or trailing, got {spacing!r}")


# --------------------------------------------------------------------------------------------
# sigma conversions shared by the schedulers (float64)


def _karras(sigma_min: float, sigma_max: float, n: int, rho: float = 7.0) -> F64:
    """Karras et al. (2022) levels between the two ends (diffusers' ``_convert_to_karras``)."""
    ramp = np.linspace(0, 1, n)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    out: F64 = (hi + ramp * (lo - hi)) ** rho
    return out


def _exponential(sigma_min: float, sigma_max: float, n: int) -> F64:
    """Log-uniform levels (diffusers' ``_convert_to_exponential``)."""
    out: F64 = np.exp(np.linspace(math.log(sigma_max), math.log(sigma_min), n))
    return out


def _beta_levels(sigma_min: float, sigma_max: float, n: int, a: float = 0.6, b: float = 0.6) -> F64:
    """Beta(0.6, 0.6) quantile levels (Lee et al. 2024; diffusers' ``_convert_to_beta``)."""
    from scipy import stats  # scipy is a dependency of symsched

    qs = 1 - np.linspace(0, 1, n)
    ppf = [stats.beta.ppf(q, a, b) for q in qs]
    return np.array([sigma_min + p * (sigma_max - sigma_min) for p in ppf])


def _converted(kind: str, sigma_min: float, sigma_max: float, n: int) -> F64:
    fns: dict[str, Callable[[float, float, int], F64]] = {
        "karras": _karras,
        "exponential": _exponential,
        "beta": _beta_levels,
    }
    return fns[kind](sigma_min, sigma_max, n)


def _one_sigma_to_t(sigma: np.float64, log_table: F32) -> np.float64:
    """Fractional training index of one level: linear in log sigma between table neighbours."""
    log_sigma = np.log(np.maximum(sigma, 1e-10))
    above = (log_sigma - log_table[:, np.newaxis]) >= 0
    low = np.cumsum(above, axis=0).argmax(axis=0).clip(max=log_table.shape[0] - 2)
    lo, hi = log_table[low], log_table[low + 1]
    w = np.clip((lo - log_sigma) / (lo - hi), 0, 1)
    t: np.float64 = ((1 - w) * low + w * (low + 1)).reshape(np.shape(sigma))
    return t


def _sigmas_to_t(sigmas: F64, log_table: F32) -> F64:
    """``_sigma_to_t`` element by element, as diffusers calls it (float64)."""
    return np.array([_one_sigma_to_t(s, log_table) for s in sigmas])


def _count_conversions(*flags: bool) -> None:
    if sum(flags) > 1:
        raise ValueError(
            "diffusers allows only one of use_beta_sigmas, use_exponential_sigmas and "
            "use_karras_sigmas"
        )


def _conversion(karras: bool, exponential: bool, beta: bool) -> str | None:
    if karras:
        return "karras"
    if exponential:
        return "exponential"
    return "beta" if beta else None


class UnrepresentableGrid(ValueError):
    """diffusers builds this grid without complaint, but it is not a decreasing grid of distinct
    levels (a level repeats or rises at the end), so it has no place in this project's
    convention."""


def _grid(tool_sigmas: F32 | F64, name: str, units: Literal["sigma", "flow-t"]) -> F64:
    """The distinct levels in this project's convention (flow times mapped by rho = t/(1-t)).

    Raises
    ------
    UnrepresentableGrid
        If the tool's levels, repeats merged, are not strictly decreasing or fewer than two.
    """
    levels = np.asarray(flow_levels(tool_sigmas) if units == "flow-t" else tool_sigmas)
    try:
        return grid_from_levels(levels, name)
    except ValueError as err:
        raise UnrepresentableGrid(
            f"diffusers' own grid for this configuration is not a decreasing grid: {err}"
        ) from None


def _no_nan(levels: F64 | F32) -> None:
    """Refuse NaN levels before they are cast (``shift_terminal`` with one step: 0 / 0)."""
    if np.isnan(np.asarray(levels, dtype=np.float64)).any():
        raise UnrepresentableGrid(
            "diffusers' own grid for this configuration holds NaN (shift_terminal with a single "
            "step divides 0 by 0)"
        )


def _result(
    name: str,
    n: int,
    tool: NDArray[Any],
    timesteps: NDArray[Any] | None,
    grid: F64,
    units: Literal["sigma", "flow-t"],
    params: Mapping[str, object],
    notes: tuple[str, ...],
) -> BuiltinGrid:
    """The :class:`BuiltinGrid` with the tool's arrays made read-only."""
    for arr in (tool, timesteps):
        if arr is not None:
            arr.setflags(write=False)
    return BuiltinGrid(name, n, tool, timesteps, grid, units, params, notes)


def _discrete_notes(
    grid: F64, levels: F32 | F64, n: int, timesteps: NDArray[Any], train: int
) -> list[str]:
    """Notes on where the timesteps start, how many there are, and merged repeats.

    ``levels`` is the tool's level array without Heun-type repetition.
    """
    notes = []
    top = float(timesteps[0]) if timesteps.size else float(train - 1)
    if top < train - 1.5:
        notes.append(
            f"the first timestep is {top:g}, not the top training level {train - 1}: the grid "
            "starts below the table's sigma_max (leading spacing does this, with steps_offset=0 "
            "most)."
        )
    if timesteps.size != n:
        notes.append(
            f"{timesteps.size} timesteps for {n} steps asked (the float step of trailing spacing "
            "does not divide T exactly)."
        )
    if grid.size < levels.size:
        notes.append(
            f"{levels.size - grid.size} repeated level(s) of the tool's array are merged: the "
            "sampler makes fewer distinct steps than asked."
        )
    return notes


# --------------------------------------------------------------------------------------------
# Euler, Euler-ancestral, Heun


@dataclass(frozen=True)
class EulerOptions:
    """``EulerDiscreteScheduler`` config (diffusers' names and defaults)."""

    num_train_timesteps: int = option(1000, "training timesteps T", metavar="T")
    beta_start: float = option(0.0001, "first beta", metavar="B")
    beta_end: float = option(0.02, "last beta", metavar="B")
    beta_schedule: BetaSchedule = option("linear", "beta table")
    prediction_type: Literal["epsilon", "sample", "v_prediction"] = option(
        "epsilon", "model output (changes the timesteps only with timestep_type=continuous)"
    )
    interpolation_type: Literal["linear", "log_linear"] = option(
        "linear", "how the N levels are read off the training table"
    )
    use_karras_sigmas: bool = option(False, "Karras rho=7 levels")
    use_exponential_sigmas: bool = option(False, "log-uniform levels")
    use_beta_sigmas: bool = option(False, "Beta(0.6, 0.6) levels")
    sigma_min: float | None = option(None, "lowest level of the converted levels", metavar="S")
    sigma_max: float | None = option(None, "highest level of the converted levels", metavar="S")
    timestep_spacing: Spacing = option("linspace", "timestep spacing")
    timestep_type: Literal["discrete", "continuous"] = option("discrete", "timestep type")
    steps_offset: int = option(0, "offset added to leading timesteps", metavar="K")
    rescale_betas_zero_snr: bool = option(False, "rescale to zero terminal SNR")
    final_sigmas_type: FinalSigmas = option("zero", "level appended after the last step")


@dataclass(frozen=True)
class EulerAncestralOptions:
    """``EulerAncestralDiscreteScheduler`` config (diffusers' names and defaults)."""

    num_train_timesteps: int = option(1000, "training timesteps T", metavar="T")
    beta_start: float = option(0.0001, "first beta", metavar="B")
    beta_end: float = option(0.02, "last beta", metavar="B")
    beta_schedule: BetaSchedule = option("linear", "beta table")
    timestep_spacing: Spacing = option("linspace", "timestep spacing")
    steps_offset: int = option(0, "offset added to leading timesteps", metavar="K")
    rescale_betas_zero_snr: bool = option(False, "rescale to zero terminal SNR")


@dataclass(frozen=True)
class HeunOptions:
    """``HeunDiscreteScheduler`` config (diffusers' names and defaults)."""

    num_train_timesteps: int = option(1000, "training timesteps T", metavar="T")
    beta_start: float = option(0.00085, "first beta", metavar="B")
    beta_end: float = option(0.012, "last beta", metavar="B")
    beta_schedule: Literal["linear", "scaled_linear", "squaredcos_cap_v2", "exp"] = option(
        "linear", "beta table"
    )
    use_karras_sigmas: bool = option(False, "Karras rho=7 levels")
    use_exponential_sigmas: bool = option(False, "log-uniform levels")
    use_beta_sigmas: bool = option(False, "Beta(0.6, 0.6) levels")
    timestep_spacing: Spacing = option("linspace", "timestep spacing")
    steps_offset: int = option(0, "offset added to leading timesteps", metavar="K")


def _tables_of(o: EulerOptions | EulerAncestralOptions | HeunOptions) -> TrainingTables:
    rescale = getattr(o, "rescale_betas_zero_snr", False)
    return training_tables(
        o.num_train_timesteps,
        o.beta_start,
        o.beta_end,
        o.beta_schedule,
        rescale_betas_zero_snr=rescale,
    )


def _interp(timesteps: NDArray[Any], table: F32) -> F64:
    out: F64 = np.interp(timesteps, np.arange(0, len(table)), table)
    return out


def _euler_levels(
    n: int, o: EulerOptions, tab: TrainingTables, params: dict[str, object]
) -> tuple[F32, F32]:
    """Euler's float32 sigmas (N+1, or N+2 with log_linear) and float32 timesteps."""
    timesteps = _k_spacing(o.timestep_spacing, o.num_train_timesteps, n, o.steps_offset)
    table = tab.sigmas
    log_table = np.log(table)
    sig: F32 | F64
    if o.interpolation_type == "linear":
        sig = _interp(timesteps, table)
    else:  # torch.linspace of the log ends, exponentiated in float32
        logs = _torch_linspace_float32(float(np.log(table[-1])), float(np.log(table[0])), n + 1)
        sig = np.exp(logs.astype(np.float64)).astype(np.float32)
    kind = _conversion(o.use_karras_sigmas, o.use_exponential_sigmas, o.use_beta_sigmas)
    t_out: F32 | F64 = timesteps
    if kind is not None:
        lo = o.sigma_min if o.sigma_min is not None else float(sig[-1])
        hi = o.sigma_max if o.sigma_max is not None else float(sig[0])
        params.update(sigma_min_used=lo, sigma_max_used=hi)
        sig = _converted(kind, lo, hi, n)
        t_out = _sigmas_to_t(sig, log_table)
    last = table[0] if o.final_sigmas_type == "sigma_min" else np.float32(0)
    sigmas = np.concatenate([sig, [last]]).astype(np.float32)
    if o.timestep_type == "continuous" and o.prediction_type == "v_prediction":
        logs32 = np.log(sigmas[:-1].astype(np.float64)).astype(np.float32)
        return sigmas, np.float32(0.25) * logs32
    return sigmas, np.asarray(t_out).astype(np.float32)


def euler_from_tables(n: int, o: EulerOptions, tab: TrainingTables) -> BuiltinGrid:
    """``diffusers:euler`` from given training tables (the builder passes its own)."""
    _count_conversions(o.use_beta_sigmas, o.use_exponential_sigmas, o.use_karras_sigmas)
    params: dict[str, object] = {**_asdict(o)}
    sigmas, timesteps = _euler_levels(n, o, tab, params)
    visited = sigmas[: timesteps.size + 1]
    grid = _grid(visited, "diffusers:euler sigmas", "sigma")
    notes = _discrete_notes(grid, visited, n, timesteps, o.num_train_timesteps)
    if visited.size < sigmas.size:
        notes.append(
            "interpolation_type=log_linear makes N+1 levels for N timesteps: the sampler stops at "
            "the training sigma_min and never reaches the appended final level."
        )
    if o.final_sigmas_type == "sigma_min":
        notes.append("the final level is the training sigma_min, not 0.")
    params.update(final_sigma=float(sigmas[-1]), sigma_max_table=float(tab.sigmas[-1]))
    return _result("diffusers:euler", n, sigmas, timesteps, grid, "sigma", params, tuple(notes))


def _asdict(o: DataclassInstance) -> dict[str, object]:
    """Every option as resolved (defaults included), for ``BuiltinGrid.params``."""
    return {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}


# Constructor arguments that do not change the grid (prediction, solver and thresholding
# settings; stochastic_sampling changes the step, not the levels): a scheduler_config.json may set
# them and they are ignored (symsched.builtin.config). trained_betas is refused there instead.
_GRID_NEUTRAL: dict[str, frozenset[str]] = {
    "euler-ancestral": frozenset({"prediction_type"}),
    "heun": frozenset({"clip_sample", "clip_sample_range", "prediction_type"}),
    "dpmpp-2m": frozenset(
        {
            "dynamic_thresholding_ratio",
            "euler_at_final",
            "lower_order_final",
            "prediction_type",
            "sample_max_value",
            "solver_order",
            "solver_type",
            "thresholding",
            "time_shift_type",
            "variance_type",
        }
    ),
    "unipc": frozenset(
        {
            "disable_corrector",
            "dynamic_thresholding_ratio",
            "lower_order_final",
            "predict_x0",
            "prediction_type",
            "sample_max_value",
            "solver_order",
            "solver_p",
            "solver_type",
            "thresholding",
        }
    ),
    "ddim": frozenset(
        {
            "clip_sample",
            "clip_sample_range",
            "dynamic_thresholding_ratio",
            "prediction_type",
            "sample_max_value",
            "thresholding",
        }
    ),
    "flow-euler": frozenset({"stochastic_sampling"}),
}


def _config_keys(
    short: str, options: type[Any], set_timesteps_only: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Every constructor argument of the class: the options that are constructor arguments
    (not ``set_timesteps``' own ``mu`` / the pipelines' ``sigmas``) and the grid-neutral ones."""
    own = frozenset(options.__dataclass_fields__) - set_timesteps_only
    return own | _GRID_NEUTRAL.get(short, frozenset())


_EULER_KEYS = _config_keys("euler", EulerOptions)


@register_builtin(
    "diffusers:euler",
    options=EulerOptions,
    summary="EulerDiscreteScheduler.set_timesteps: training table read at spaced timesteps",
    provenance=_provenance("scheduling_euler_discrete", "EulerDiscreteScheduler"),
    config_keys=_EULER_KEYS,
)
def _euler(n: int, o: EulerOptions) -> BuiltinGrid:
    """``EulerDiscreteScheduler(**o).set_timesteps(n)``: float32 sigmas with the final level,
    float32 timesteps (``log(sigma)/4`` with ``timestep_type=continuous`` and ``v_prediction``)."""
    _count_conversions(o.use_beta_sigmas, o.use_exponential_sigmas, o.use_karras_sigmas)
    return euler_from_tables(n, o, _tables_of(o))


def euler_ancestral_from_tables(
    n: int, o: EulerAncestralOptions, tab: TrainingTables
) -> BuiltinGrid:
    """``diffusers:euler-ancestral`` from given training tables."""
    timesteps = _k_spacing(o.timestep_spacing, o.num_train_timesteps, n, o.steps_offset)
    sigmas = np.concatenate([_interp(timesteps, tab.sigmas), [0.0]]).astype(np.float32)
    grid = _grid(sigmas, "diffusers:euler-ancestral sigmas", "sigma")
    notes = _discrete_notes(grid, sigmas, n, timesteps, o.num_train_timesteps)
    params = {**_asdict(o), "sigma_max_table": float(tab.sigmas[-1])}
    return _result(
        "diffusers:euler-ancestral", n, sigmas, timesteps, grid, "sigma", params, tuple(notes)
    )


@register_builtin(
    "diffusers:euler-ancestral",
    options=EulerAncestralOptions,
    summary="EulerAncestralDiscreteScheduler.set_timesteps: the table at spaced timesteps, then 0",
    provenance=_provenance(
        "scheduling_euler_ancestral_discrete", "EulerAncestralDiscreteScheduler"
    ),
    config_keys=_config_keys("euler-ancestral", EulerAncestralOptions),
)
def _euler_ancestral(n: int, o: EulerAncestralOptions) -> BuiltinGrid:
    """``EulerAncestralDiscreteScheduler(**o).set_timesteps(n)``."""
    return euler_ancestral_from_tables(n, o, _tables_of(o))


def heun_from_tables(n: int, o: HeunOptions, tab: TrainingTables) -> BuiltinGrid:
    """``diffusers:heun`` from given training tables."""
    _count_conversions(o.use_beta_sigmas, o.use_exponential_sigmas, o.use_karras_sigmas)
    timesteps: F32 | F64 = _k_spacing(o.timestep_spacing, o.num_train_timesteps, n, o.steps_offset)
    sig = _interp(np.asarray(timesteps, dtype=np.float32), tab.sigmas)
    params: dict[str, object] = {**_asdict(o)}
    kind = _conversion(o.use_karras_sigmas, o.use_exponential_sigmas, o.use_beta_sigmas)
    if kind is not None:
        lo, hi = float(sig[-1]), float(sig[0])
        params.update(sigma_min_used=lo, sigma_max_used=hi)
        sig = _converted(kind, lo, hi, n)
        timesteps = _sigmas_to_t(sig, np.log(tab.sigmas))
    levels = np.concatenate([sig, [0.0]]).astype(np.float32)
    tool = np.concatenate([levels[:1], np.repeat(levels[1:-1], 2), levels[-1:]])
    t32 = np.asarray(timesteps).astype(np.float32)
    tool_t = np.concatenate([t32[:1], np.repeat(t32[1:], 2)])
    grid = _grid(levels, "diffusers:heun sigmas", "sigma")
    notes = _discrete_notes(grid, levels, n, t32, o.num_train_timesteps)
    notes.append(
        "tool_sigmas repeats every interior level (one Heun step is two model calls); sigmas holds "
        "each level once."
    )
    return _result("diffusers:heun", n, tool, tool_t, grid, "sigma", params, tuple(notes))


@register_builtin(
    "diffusers:heun",
    options=HeunOptions,
    summary="HeunDiscreteScheduler.set_timesteps: Euler's levels with the interior ones repeated",
    provenance=_provenance("scheduling_heun_discrete", "HeunDiscreteScheduler"),
    config_keys=_config_keys("heun", HeunOptions),
)
def _heun(n: int, o: HeunOptions) -> BuiltinGrid:
    """``HeunDiscreteScheduler(**o).set_timesteps(n)``."""
    _count_conversions(o.use_beta_sigmas, o.use_exponential_sigmas, o.use_karras_sigmas)
    return heun_from_tables(n, o, _tables_of(o))


# --------------------------------------------------------------------------------------------
# DPM-Solver multistep (DPM-Solver++ 2M by default)


@dataclass(frozen=True)
class DPMSolverMultistepOptions:
    """``DPMSolverMultistepScheduler`` config plus ``set_timesteps``' ``mu`` (diffusers' names)."""

    num_train_timesteps: int = option(1000, "training timesteps T", metavar="T")
    beta_start: float = option(0.0001, "first beta", metavar="B")
    beta_end: float = option(0.02, "last beta", metavar="B")
    beta_schedule: BetaSchedule = option("linear", "beta table")
    algorithm_type: Literal["dpmsolver", "dpmsolver++", "sde-dpmsolver", "sde-dpmsolver++"] = (
        option("dpmsolver++", "solver (only the refusal of final_sigmas_type=zero depends on it)")
    )
    use_karras_sigmas: bool = option(False, "Karras rho=7 levels")
    use_exponential_sigmas: bool = option(False, "log-uniform levels")
    use_beta_sigmas: bool = option(False, "Beta(0.6, 0.6) levels")
    use_lu_lambdas: bool = option(False, "levels uniform in log sigma between the table ends")
    use_flow_sigmas: bool = option(False, "flow-matching times instead of VE levels")
    flow_shift: float = option(1.0, "shift of the flow times", metavar="S")
    final_sigmas_type: FinalSigmas = option("zero", "level appended after the last step")
    lambda_min_clipped: float = option(-math.inf, "clip of the half-log-SNR lambda", metavar="L")
    timestep_spacing: Spacing = option("linspace", "timestep spacing")
    steps_offset: int = option(0, "offset added to leading timesteps", metavar="K")
    rescale_betas_zero_snr: bool = option(False, "rescale to zero terminal SNR")
    use_dynamic_shifting: bool = option(False, "flow_shift = exp(mu) (needs mu)")
    mu: float | None = option(None, "set_timesteps' mu (with use_dynamic_shifting)", metavar="MU")


def _clipped_last(o: DPMSolverMultistepOptions, tab: TrainingTables) -> int:
    """``T - searchsorted(flip(lambda_t), lambda_min_clipped)``: the last usable training step."""
    ac = tab.alphas_cumprod.astype(np.float32)
    lam = np.log(np.sqrt(ac)) - np.log(np.sqrt(np.float32(1) - ac))
    idx = int(np.searchsorted(lam[::-1], o.lambda_min_clipped))
    return o.num_train_timesteps - idx


def _dpm_check(o: DPMSolverMultistepOptions) -> None:
    _count_conversions(o.use_beta_sigmas, o.use_exponential_sigmas, o.use_karras_sigmas)
    if o.algorithm_type not in ("dpmsolver++", "sde-dpmsolver++") and o.final_sigmas_type == "zero":
        raise ValueError(
            f"diffusers refuses final_sigmas_type='zero' with algorithm_type {o.algorithm_type!r} "
            "(choose 'sigma_min')"
        )
    if o.mu is not None and not o.use_dynamic_shifting:
        raise ValueError("diffusers asserts use_dynamic_shifting when mu is passed")


def _dpm_levels(
    n: int, o: DPMSolverMultistepOptions, tab: TrainingTables, params: dict[str, object]
) -> tuple[F64 | F32, F64 | NDArray[np.int64]]:
    last = _clipped_last(o, tab)
    params["last_timestep"] = last
    ts: F64 | NDArray[np.int64] = _multistep_spacing(
        o.timestep_spacing, last, o.num_train_timesteps, n, o.steps_offset
    )
    table = tab.sigmas
    log_table = np.log(table)
    if o.use_karras_sigmas or o.use_lu_lambdas or o.use_exponential_sigmas or o.use_beta_sigmas:
        top = table[::-1].copy()
        params.update(sigma_min_used=float(top[-1]), sigma_max_used=float(top[0]))
        if o.use_karras_sigmas:
            sig = _karras(float(top[-1]), float(top[0]), n)
        elif o.use_lu_lambdas:  # diffusers' "lambdas" here are log sigmas, uniform in between
            logs = np.flip(log_table.copy())
            sig = np.exp(_karras(float(logs[-1]), float(logs[0]), n, rho=1.0))
        else:
            kind = "exponential" if o.use_exponential_sigmas else "beta"
            sig = _converted(kind, float(top[-1]), float(top[0]), n)
        ts = _sigmas_to_t(sig, log_table)
        if (o.use_karras_sigmas or o.use_lu_lambdas) and o.beta_schedule != "squaredcos_cap_v2":
            ts = ts.round()
        return sig, ts
    if o.use_flow_sigmas:
        shift = float(np.exp(o.mu)) if o.mu is not None else o.flow_shift
        params["flow_shift_used"] = shift
        up = 1.0 - np.linspace(1, 1 / o.num_train_timesteps, n + 1)
        sig = np.flip(shift * up / (1 + (shift - 1) * up))[:-1].copy()
        return sig, (sig * o.num_train_timesteps).copy()
    return _interp(ts, table), ts


def dpm_from_tables(n: int, o: DPMSolverMultistepOptions, tab: TrainingTables) -> BuiltinGrid:
    """``diffusers:dpmpp-2m`` from given training tables."""
    _dpm_check(o)
    params: dict[str, object] = {**_asdict(o)}
    sig, ts = _dpm_levels(n, o, tab, params)
    last = tab.sigmas[0] if o.final_sigmas_type == "sigma_min" else np.float32(0)
    sigmas = np.concatenate([sig, [last]]).astype(np.float32)
    timesteps = np.asarray(ts).astype(np.int64)
    flow = o.use_flow_sigmas and not (
        o.use_karras_sigmas or o.use_lu_lambdas or o.use_exponential_sigmas or o.use_beta_sigmas
    )
    units: Literal["sigma", "flow-t"] = "flow-t" if flow else "sigma"
    grid = _grid(sigmas, "diffusers:dpmpp-2m sigmas", units)
    notes = _discrete_notes(grid, sigmas, n, timesteps, o.num_train_timesteps)
    if o.final_sigmas_type == "sigma_min":
        notes.append("the final level is the training VE sigma_min, not 0 (also with flow sigmas).")
    if o.use_lu_lambdas:
        notes.append(
            "use_lu_lambdas spaces the levels uniformly in log sigma between the table ends "
            "(diffusers' _convert_to_lu applied to log sigmas)."
        )
    params["final_sigma"] = float(sigmas[-1])
    return _result("diffusers:dpmpp-2m", n, sigmas, timesteps, grid, units, params, tuple(notes))


def _multistep_tables(o: DPMSolverMultistepOptions | UniPCOptions) -> TrainingTables:
    return training_tables(
        o.num_train_timesteps,
        o.beta_start,
        o.beta_end,
        o.beta_schedule,
        rescale_betas_zero_snr=o.rescale_betas_zero_snr,
    )


@register_builtin(
    "diffusers:dpmpp-2m",
    options=DPMSolverMultistepOptions,
    summary="DPMSolverMultistepScheduler.set_timesteps: int64 timesteps, float32 sigmas",
    provenance=_provenance("scheduling_dpmsolver_multistep", "DPMSolverMultistepScheduler"),
    config_keys=_config_keys("dpmpp-2m", DPMSolverMultistepOptions, frozenset({"mu"})),
)
def _dpm(n: int, o: DPMSolverMultistepOptions) -> BuiltinGrid:
    """``DPMSolverMultistepScheduler(**o).set_timesteps(n, mu=o.mu)``."""
    _dpm_check(o)
    return dpm_from_tables(n, o, _multistep_tables(o))


# --------------------------------------------------------------------------------------------
# UniPC multistep


@dataclass(frozen=True)
class UniPCOptions:
    """``UniPCMultistepScheduler`` config plus ``set_timesteps``' ``mu`` (diffusers' names)."""

    num_train_timesteps: int = option(1000, "training timesteps T", metavar="T")
    beta_start: float = option(0.0001, "first beta", metavar="B")
    beta_end: float = option(0.02, "last beta", metavar="B")
    beta_schedule: BetaSchedule = option("linear", "beta table")
    use_karras_sigmas: bool = option(False, "Karras rho=7 levels")
    use_exponential_sigmas: bool = option(False, "log-uniform levels")
    use_beta_sigmas: bool = option(False, "Beta(0.6, 0.6) levels")
    use_flow_sigmas: bool = option(False, "flow-matching times instead of VE levels")
    flow_shift: float = option(1.0, "shift of the flow times", metavar="S")
    timestep_spacing: Spacing = option("linspace", "timestep spacing")
    steps_offset: int = option(0, "offset added to leading timesteps", metavar="K")
    final_sigmas_type: FinalSigmas = option("zero", "level appended after the last step")
    rescale_betas_zero_snr: bool = option(False, "rescale to zero terminal SNR")
    use_dynamic_shifting: bool = option(False, "shift by time_shift(mu) (needs mu)")
    time_shift_type: Literal["exponential", "linear"] = option("exponential", "dynamic shift")
    sigma_min: float | None = option(None, "lowest level of the converted levels", metavar="S")
    sigma_max: float | None = option(None, "highest level of the converted levels", metavar="S")
    shift_terminal: float | None = option(None, "stretch flow times to end here", metavar="T")
    mu: float | None = option(None, "set_timesteps' mu (with use_dynamic_shifting)", metavar="MU")


def _unipc_check(o: UniPCOptions) -> None:
    _count_conversions(o.use_beta_sigmas, o.use_exponential_sigmas, o.use_karras_sigmas)
    if o.shift_terminal is not None and not o.use_flow_sigmas:
        raise ValueError("diffusers supports shift_terminal only with use_flow_sigmas=True")
    if o.use_dynamic_shifting and o.mu is None:
        raise ValueError("diffusers needs mu when use_dynamic_shifting is True")


def _time_shift(kind: str, mu: float, t: F64 | F32) -> F64 | F32:
    """diffusers' ``time_shift(mu, 1.0, t)``: exponential ``e^mu / (e^mu + (1/t - 1))`` or
    linear ``mu / (mu + (1/t - 1))``."""
    scale = math.exp(mu) if kind == "exponential" else mu
    out: F64 | F32 = scale / (scale + (1 / t - 1) ** 1.0)
    return out


def _stretch_to_terminal(t: F64 | F32, terminal: float) -> F64 | F32:
    """``stretch_shift_to_terminal``: rescale ``1 - t`` so that the last time is ``terminal``."""
    rest = 1 - t
    with np.errstate(divide="ignore", invalid="ignore"):  # one step: 0 / 0, as in diffusers
        out: F64 | F32 = 1 - rest / (rest[-1] / (1 - terminal))
    return out


def _unipc_converted(n: int, o: UniPCOptions, tab: TrainingTables, kind: str) -> tuple[F64, F64]:
    table = tab.sigmas
    log_table = np.log(table)
    top = table[::-1].copy()
    lo = o.sigma_min if o.sigma_min is not None else float(top[-1])
    hi = o.sigma_max if o.sigma_max is not None else float(top[0])
    sig = _converted(kind, lo, hi, n)
    if kind == "karras" and o.use_flow_sigmas:
        sig = sig / (sig + 1)
        return sig, (sig * o.num_train_timesteps).copy()
    ts = _sigmas_to_t(sig, log_table)
    return sig, (ts.round() if kind == "karras" else ts)


def _unipc_flow(n: int, o: UniPCOptions) -> tuple[F64, F64]:
    sig: F64 = np.linspace(1, 1 / o.num_train_timesteps, n + 1)[:-1]
    if o.use_dynamic_shifting:
        assert o.mu is not None  # _unipc_check
        sig = np.asarray(_time_shift(o.time_shift_type, o.mu, sig), dtype=np.float64)
    else:
        sig = o.flow_shift * sig / (1 + (o.flow_shift - 1) * sig)
    if o.shift_terminal:
        sig = np.asarray(_stretch_to_terminal(sig, o.shift_terminal), dtype=np.float64)
    if np.fabs(sig[0] - 1) < 1e-6:
        sig[0] -= 1e-6
    return sig, (sig * o.num_train_timesteps).copy()


def unipc_from_tables(n: int, o: UniPCOptions, tab: TrainingTables) -> BuiltinGrid:
    """``diffusers:unipc`` from given training tables."""
    _unipc_check(o)
    ts: F64 | NDArray[np.int64] = _multistep_spacing(
        o.timestep_spacing, o.num_train_timesteps, o.num_train_timesteps, n, o.steps_offset
    )
    kind = _conversion(o.use_karras_sigmas, o.use_exponential_sigmas, o.use_beta_sigmas)
    units: Literal["sigma", "flow-t"] = "sigma"
    if kind is not None:
        sig, ts = _unipc_converted(n, o, tab, kind)
        units = "flow-t" if kind == "karras" and o.use_flow_sigmas else "sigma"
        last = sig[-1] if o.final_sigmas_type == "sigma_min" else 0
    elif o.use_flow_sigmas:
        sig, ts = _unipc_flow(n, o)
        units = "flow-t"
        last = sig[-1] if o.final_sigmas_type == "sigma_min" else 0
    else:
        sig = _interp(ts, tab.sigmas)
        last = tab.sigmas[0] if o.final_sigmas_type == "sigma_min" else 0
    _no_nan(sig)
    sigmas = np.concatenate([sig, [last]]).astype(np.float32)
    timesteps = np.asarray(ts).astype(np.int64)
    grid = _grid(sigmas, "diffusers:unipc sigmas", units)
    notes = _discrete_notes(grid, sigmas, n, timesteps, o.num_train_timesteps)
    if o.final_sigmas_type == "sigma_min":
        notes.append("final_sigmas_type=sigma_min repeats a level: the last step is merged away.")
    params = {**_asdict(o), "final_sigma": float(sigmas[-1])}
    return _result("diffusers:unipc", n, sigmas, timesteps, grid, units, params, tuple(notes))


@register_builtin(
    "diffusers:unipc",
    options=UniPCOptions,
    summary="UniPCMultistepScheduler.set_timesteps: int64 timesteps, float32 sigmas",
    provenance=_provenance("scheduling_unipc_multistep", "UniPCMultistepScheduler"),
    config_keys=_config_keys("unipc", UniPCOptions, frozenset({"mu"})),
)
def _unipc(n: int, o: UniPCOptions) -> BuiltinGrid:
    """``UniPCMultistepScheduler(**o).set_timesteps(n, mu=o.mu)``."""
    _unipc_check(o)
    return unipc_from_tables(n, o, _multistep_tables(o))


# --------------------------------------------------------------------------------------------
# DDIM


@dataclass(frozen=True)
class DDIMOptions:
    """``DDIMScheduler`` config (diffusers' names and defaults)."""

    num_train_timesteps: int = option(1000, "training timesteps T", metavar="T")
    beta_start: float = option(0.0001, "first beta", metavar="B")
    beta_end: float = option(0.02, "last beta", metavar="B")
    beta_schedule: BetaSchedule = option("linear", "beta table")
    set_alpha_to_one: bool = option(True, "final alphas_cumprod 1 (else alphas_cumprod[0])")
    steps_offset: int = option(0, "offset added to leading timesteps", metavar="K")
    timestep_spacing: Literal["leading", "trailing", "linspace"] = option(
        "leading", "timestep spacing"
    )
    rescale_betas_zero_snr: bool = option(False, "rescale to zero terminal SNR (no 2^-24 clamp)")


def _ddim_tables(o: DDIMOptions) -> TrainingTables:
    return training_tables(
        o.num_train_timesteps,
        o.beta_start,
        o.beta_end,
        o.beta_schedule,
        rescale_betas_zero_snr=o.rescale_betas_zero_snr,
        clamp_terminal=False,
    )


def ddim_from_tables(n: int, o: DDIMOptions, tab: TrainingTables) -> BuiltinGrid:
    """``diffusers:ddim`` from given training tables (``tab.alphas_cumprod`` is what is read)."""
    if n > o.num_train_timesteps:
        raise ValueError(
            f"diffusers refuses num_inference_steps {n} > "
            f"num_train_timesteps {o.num_train_timesteps}"
        )
    ts = _ddim_spacing(o.timestep_spacing, o.num_train_timesteps, n, o.steps_offset)
    ac = tab.alphas_cumprod
    if ts.max() >= ac.size or ts.min() < 0:
        bad = int(ts.max()) if ts.max() >= ac.size else int(ts.min())
        raise ValueError(
            f"timestep {bad} is outside the training table 0..{ac.size - 1}: diffusers' "
            "DDIMScheduler.step would fail to index it (too large a steps_offset) or read the "
            "noisiest level for it (trailing spacing rounding to -1)"
        )
    final = np.float32(1.0) if o.set_alpha_to_one else ac[0]
    sigmas = _ve_float32(np.concatenate([ac[ts], [final]]).astype(np.float32))
    grid = _grid(sigmas, "diffusers:ddim sigmas", "sigma")
    notes = _discrete_notes(grid, sigmas, n, ts, o.num_train_timesteps)
    ratio = o.num_train_timesteps // n
    if o.timestep_spacing != "leading" and not np.array_equal(ts[1:], ts[:-1] - ratio):
        notes.append(
            "DDIMScheduler.step goes from t to t - T//N, not to the next listed timestep: with "
            f"{o.timestep_spacing} spacing the sampler visits other levels than these."
        )
    if o.rescale_betas_zero_snr and ts[0] == ac.size - 1:
        notes.append("zero terminal SNR without a clamp: the first level is infinite.")
    params = {**_asdict(o), "final_alpha_cumprod": float(final)}
    return _result("diffusers:ddim", n, sigmas, ts, grid, "sigma", params, tuple(notes))


@register_builtin(
    "diffusers:ddim",
    options=DDIMOptions,
    summary="DDIMScheduler.set_timesteps: int64 timesteps; VE levels of their alphas_cumprod",
    provenance=_provenance("scheduling_ddim", "DDIMScheduler"),
    config_keys=_config_keys("ddim", DDIMOptions),
)
def _ddim(n: int, o: DDIMOptions) -> BuiltinGrid:
    r"""``DDIMScheduler(**o).set_timesteps(n)``: ``tool_timesteps`` is ``scheduler.timesteps``
    (int64); DDIM keeps no sigmas, so ``tool_sigmas`` is defined here as the float32
    :math:`\sqrt{(1-\bar\alpha_t)/\bar\alpha_t}` (numpy, correctly rounded) of
    ``scheduler.alphas_cumprod[t]`` at each timestep, followed by the same of
    ``final_alpha_cumprod`` (0 with ``set_alpha_to_one``, else the level of ``alphas_cumprod[0]``).
    """
    if n > o.num_train_timesteps:
        raise ValueError(
            f"diffusers refuses num_inference_steps {n} > "
            f"num_train_timesteps {o.num_train_timesteps}"
        )
    return ddim_from_tables(n, o, _ddim_tables(o))


# --------------------------------------------------------------------------------------------
# FlowMatch Euler and Heun


@dataclass(frozen=True)
class FlowMatchEulerOptions:
    """``FlowMatchEulerDiscreteScheduler`` config plus ``set_timesteps``' ``mu`` and a switch for
    the pipelines' default ``sigmas`` (diffusers' names and defaults)."""

    num_train_timesteps: int = option(1000, "training timesteps T", metavar="T")
    shift: float = option(1.0, "static shift s: t -> s t / (1 + (s-1) t)", metavar="S")
    use_dynamic_shifting: bool = option(False, "shift by time_shift(mu) instead (needs mu)")
    base_shift: float | None = option(0.5, "pipelines' mu at base_image_seq_len", metavar="M")
    max_shift: float | None = option(1.15, "pipelines' mu at max_image_seq_len", metavar="M")
    base_image_seq_len: int = option(256, "pipelines' base sequence length", metavar="L")
    max_image_seq_len: int = option(4096, "pipelines' max sequence length", metavar="L")
    invert_sigmas: bool = option(False, "1 - t (refused: an increasing grid)")
    shift_terminal: float | None = option(None, "stretch the times to end here", metavar="T")
    use_karras_sigmas: bool = option(False, "Karras rho=7 times")
    use_exponential_sigmas: bool = option(False, "log-uniform times")
    use_beta_sigmas: bool = option(False, "Beta(0.6, 0.6) times")
    time_shift_type: Literal["exponential", "linear"] = option("exponential", "dynamic shift")
    mu: float | None = option(None, "set_timesteps' mu (with use_dynamic_shifting)", metavar="MU")
    sigmas: Literal["scheduler", "linspace"] = option(
        "scheduler",
        "scheduler: set_timesteps(N) alone; linspace: the sigmas=np.linspace(1, 1/N, N) that "
        "the Flux and Qwen-Image pipelines pass",
    )


def _flow_init_ends(train: int, shift: float, dynamic: bool) -> tuple[float, float]:
    """The scheduler's ``sigma_max``, ``sigma_min`` from ``__init__`` (torch float32 arithmetic)."""
    t = np.linspace(1, train, train, dtype=np.float32)[::-1].copy() / np.float32(train)
    if not dynamic:
        s = np.float32(shift)
        t = s * t / (np.float32(1) + np.float32(shift - 1) * t)
    return float(t[0]), float(t[-1])


def _flow_check(o: FlowMatchEulerOptions) -> None:
    _count_conversions(o.use_beta_sigmas, o.use_exponential_sigmas, o.use_karras_sigmas)
    if o.use_dynamic_shifting and o.mu is None:
        raise ValueError("diffusers needs mu when use_dynamic_shifting is True")
    if o.invert_sigmas:
        raise ValueError(
            "invert_sigmas gives increasing times 1 - t with a final 1: not a noise-level grid"
        )


def _flow_euler_times(n: int, o: FlowMatchEulerOptions, params: dict[str, object]) -> F64 | F32:
    hi, lo = _flow_init_ends(o.num_train_timesteps, o.shift, o.use_dynamic_shifting)
    params.update(sigma_max=hi, sigma_min=lo)
    sig: F64 | F32
    if o.sigmas == "linspace":
        sig = np.linspace(1.0, 1 / n, n).astype(np.float32)
    else:
        train = o.num_train_timesteps
        sig = np.linspace(hi * train, lo * train, n) / train
    if o.use_dynamic_shifting:
        assert o.mu is not None  # _flow_check
        sig = _time_shift(o.time_shift_type, o.mu, sig)
        params["shift_applied"] = f"time_shift({o.time_shift_type}, mu={o.mu})"
    else:
        sig = o.shift * sig / (1 + (o.shift - 1) * sig)
        params["shift_applied"] = o.shift
    if o.shift_terminal:
        sig = _stretch_to_terminal(sig, o.shift_terminal)
    kind = _conversion(o.use_karras_sigmas, o.use_exponential_sigmas, o.use_beta_sigmas)
    if kind is not None:
        sig = _converted(kind, float(sig[-1]), float(sig[0]), n)
    return sig


def flow_euler_grid(n: int, o: FlowMatchEulerOptions) -> BuiltinGrid:
    """``diffusers:flow-euler`` (no training table: everything is reproduced)."""
    _flow_check(o)
    params: dict[str, object] = {**_asdict(o)}
    sig = _flow_euler_times(n, o, params)
    _no_nan(sig)
    sig32 = np.asarray(sig).astype(np.float32)
    timesteps = sig32 * np.float32(o.num_train_timesteps)
    tool = np.concatenate([sig32, np.zeros(1, dtype=np.float32)])
    grid = _grid(tool, "diffusers:flow-euler sigmas", "flow-t")
    notes = ["a final flow time 0 is appended (the sampler's last step lands on the data)."]
    if o.mu is not None and not o.use_dynamic_shifting:
        notes.append("mu is ignored without use_dynamic_shifting (the static shift applies).")
    if grid.size < tool.size:
        notes.append(f"{tool.size - grid.size} repeated level(s) merged.")
    return _result("diffusers:flow-euler", n, tool, timesteps, grid, "flow-t", params, tuple(notes))


@register_builtin(
    "diffusers:flow-euler",
    options=FlowMatchEulerOptions,
    summary="FlowMatchEulerDiscreteScheduler.set_timesteps: shifted flow times, then 0",
    provenance=_provenance(
        "scheduling_flow_match_euler_discrete", "FlowMatchEulerDiscreteScheduler"
    ),
    config_keys=_config_keys("flow-euler", FlowMatchEulerOptions, frozenset({"mu", "sigmas"})),
)
def _flow_euler(n: int, o: FlowMatchEulerOptions) -> BuiltinGrid:
    """``FlowMatchEulerDiscreteScheduler(**o).set_timesteps(n, mu=o.mu)`` (or with the pipelines'
    ``sigmas=np.linspace(1, 1/n, n)`` when ``o.sigmas == "linspace"``)."""
    return flow_euler_grid(n, o)


@dataclass(frozen=True)
class FlowMatchHeunOptions:
    """``FlowMatchHeunDiscreteScheduler`` config (diffusers' names and defaults)."""

    num_train_timesteps: int = option(1000, "training timesteps T", metavar="T")
    shift: float = option(1.0, "static shift s: t -> s t / (1 + (s-1) t)", metavar="S")


@register_builtin(
    "diffusers:flow-heun",
    options=FlowMatchHeunOptions,
    summary="FlowMatchHeunDiscreteScheduler.set_timesteps: shifted flow times, interior repeated",
    provenance=_provenance("scheduling_flow_match_heun_discrete", "FlowMatchHeunDiscreteScheduler"),
    config_keys=_config_keys("flow-heun", FlowMatchHeunOptions),
)
def _flow_heun(n: int, o: FlowMatchHeunOptions) -> BuiltinGrid:
    """``FlowMatchHeunDiscreteScheduler(**o).set_timesteps(n)``: flow times with every interior
    one repeated, a final 0, float32."""
    train = o.num_train_timesteps
    hi, lo = _flow_init_ends(train, o.shift, False)
    sig = np.linspace(hi * train, lo * train, n) / train
    sig32 = (o.shift * sig / (1 + (o.shift - 1) * sig)).astype(np.float32)
    t32 = sig32 * np.float32(train)
    levels = np.concatenate([sig32, np.zeros(1, dtype=np.float32)])
    tool = np.concatenate([levels[:1], np.repeat(levels[1:-1], 2), levels[-1:]])
    tool_t = np.concatenate([t32[:1], np.repeat(t32[1:], 2)])
    grid = _grid(levels, "diffusers:flow-heun sigmas", "flow-t")
    params = {**_asdict(o), "sigma_max": hi, "sigma_min": lo}
    notes = (
        "tool_sigmas repeats every interior flow time (one Heun step is two model calls); sigmas "
        "holds each level once.",
    )
    return _result("diffusers:flow-heun", n, tool, tool_t, grid, "flow-t", params, notes)


# --------------------------------------------------------------------------------------------
# Align Your Steps tables as diffusers ships them


AYS_DIFFUSERS: dict[str, tuple[str, str | None]] = {
    "sd15": ("StableDiffusionSigmas", "StableDiffusionTimesteps"),
    "sdxl": ("StableDiffusionXLSigmas", "StableDiffusionXLTimesteps"),
    "svd": ("StableDiffusionVideoSigmas", None),
}
"""The keys of ``diffusers.schedulers.scheduling_utils.AysSchedules`` per model."""

_AYS_TABLES: dict[str, tuple[float, ...]] = {
    # diffusers' 3-decimal values, last level 0 (scheduling_utils.py); symsched.schedules.ays holds
    # ComfyUI's longer decimals, which differ (SDXL's tenth level most: 0.1114 vs 0.113)
    "StableDiffusionSigmas": (
        14.615,
        6.475,
        3.861,
        2.697,
        1.886,
        1.396,
        0.963,
        0.652,
        0.399,
        0.152,
        0.0,
    ),
    "StableDiffusionXLSigmas": (
        14.615,
        6.315,
        3.771,
        2.181,
        1.342,
        0.862,
        0.555,
        0.380,
        0.234,
        0.113,
        0.0,
    ),
    "StableDiffusionVideoSigmas": (
        700.00,
        54.5,
        15.886,
        7.977,
        4.248,
        1.789,
        0.981,
        0.403,
        0.173,
        0.034,
        0.0,
    ),
    "StableDiffusionTimesteps": (999, 850, 736, 645, 545, 455, 343, 233, 124, 24),
    "StableDiffusionXLTimesteps": (999, 845, 730, 587, 443, 310, 193, 116, 53, 13),
}


@dataclass(frozen=True)
class AYSOptions:
    """The AYS tables take no options."""


def _ays_builder(model: str) -> Callable[[int, AYSOptions], BuiltinGrid]:
    sig_key, ts_key = AYS_DIFFUSERS[model]
    name = f"diffusers:ays-{model}"

    def build(n: int, o: AYSOptions) -> BuiltinGrid:
        if n != 10:
            raise ValueError(
                f"diffusers ships only the 10-step AYS table; {name} cannot make {n} steps"
            )
        tool = np.array(_AYS_TABLES[sig_key], dtype=np.float64)
        ts = None if ts_key is None else np.array(_AYS_TABLES[ts_key], dtype=np.int64)
        notes = ["the paper's levels rounded to 3 decimals, with the last level replaced by 0."]
        if ts_key is None:
            notes.append("no timestep table for this model: pass the sigmas.")
        params = {"sigmas_key": sig_key, "timesteps_key": ts_key}
        grid = _grid(tool, f"{name} sigmas", "sigma")
        return _result(name, n, tool, ts, grid, "sigma", params, tuple(notes))

    build.__doc__ = f"``AysSchedules[{sig_key!r}]`` (and {ts_key!r}): 10 steps only."
    return build


for _model in AYS_DIFFUSERS:
    register_builtin(
        f"diffusers:ays-{_model}",
        options=AYSOptions,
        summary=f"AysSchedules {AYS_DIFFUSERS[_model][0]}: the 10-step Align Your Steps table",
        provenance=Provenance(
            repository="huggingface/diffusers",
            path="src/diffusers/schedulers/scheduling_utils.py",
            symbol="AysSchedules",
            revision=DIFFUSERS_REVISION,
        ),
    )(_ays_builder(_model))
