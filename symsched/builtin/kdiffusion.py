r"""k-diffusion's schedule constructors, reproduced in float32 as torch computes them on the CPU.

``k_diffusion/sampling.py`` (crowsonkb/k-diffusion) builds every schedule with
``torch.linspace`` in the default dtype (float32), applies float32 arithmetic and appends a 0
(``append_zero``). This module reproduces

* ``torch.linspace`` on the CPU **bit for bit** (:func:`torch_linspace_f32`): the CPU kernel
  (``aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp``, ``linspace_kernel``) evaluates
  ``start + step*i`` for the first half and ``end - step*(n-1-i)`` for the second half, one
  element at a time, and the compiler contracts each into one fused multiply-add;
* the float32 multiplications and additions bit for bit;
* ``pow`` and ``exp`` as the correctly rounded float32 of the float64 result. torch evaluates these
  with vectorised approximations (SLEEF / MKL, within about one ulp), which numpy cannot match bit
  for bit; the tests bound the difference (tests/symsched/builtin/test_kdiffusion_builtins.py).

On CUDA, ``get_sigmas_exponential``, ``get_sigmas_polyexponential`` and ``get_sigmas_vp`` call
``linspace`` on the device, whose kernel rounds differently; ``get_sigmas_karras`` always builds its
ramp on the CPU. What is reproduced is the CPU result (``device='cpu'``, k-diffusion's default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from symsched._options import option
from symsched._typing import FloatArray
from symsched._validate import check_endpoints, check_positive
from symsched.builtin._registry import BuiltinGrid, Provenance, grid_from_levels, register_builtin

__all__ = [
    "ExponentialOptions",
    "F32Array",
    "KarrasOptions",
    "PolyexponentialOptions",
    "VPOptions",
    "f32_exp",
    "f32_pow",
    "fma_f32",
    "get_sigmas_exponential",
    "get_sigmas_karras",
    "get_sigmas_polyexponential",
    "get_sigmas_vp",
    "tool_grid",
    "torch_linspace_f32",
]

F32 = np.float32
F32Array: TypeAlias = NDArray[np.float32]
"""A float32 array (torch's default dtype)."""
_REPO = "crowsonkb/k-diffusion"
_PATH = "k_diffusion/sampling.py"
_REVISION = "k-diffusion 0.1.1.post1"


def _prov(symbol: str) -> Provenance:
    return Provenance(_REPO, _PATH, symbol, _REVISION)


# -- float32 primitives ---------------------------------------------------------------------------


def fma_f32(a: F32Array, b: F32Array, c: F32Array) -> F32Array:
    """The correctly rounded float32 fused multiply-add ``a*b + c`` of float32 operands.

    The product of two float32 values is exact in float64; the float64 sum is corrected for the
    rare double rounding (a float64 sum lying exactly halfway between two float32 values while the
    exact sum does not) with the exact residual of the addition (TwoSum).

    Parameters
    ----------
    a, b, c
        float32 arrays (broadcast together).

    Returns
    -------
    numpy.ndarray
        ``fl32(a*b + c)``, float32.
    """
    p = np.asarray(a, np.float64) * np.asarray(b, np.float64)
    c64 = np.asarray(c, np.float64) + np.zeros_like(p)
    s = p + c64
    bb = s - p
    err = (p - (s - bb)) + (c64 - bb)
    r = s.astype(F32)
    r64 = r.astype(np.float64)
    toward = np.where(s > r64, F32(np.inf), F32(-np.inf)).astype(F32)
    nb = np.nextafter(r, toward)
    mid = (r64 + nb.astype(np.float64)) / 2.0
    at_mid = (s != r64) & (s == mid) & (err != 0)
    # at a midpoint the exact value lies on the side of err: keep r if that is r's side
    keep = (err > 0) == (r64 > s)
    out: F32Array = np.where(at_mid & ~keep, nb, r).astype(F32)
    return out


def torch_linspace_f32(start: float, end: float, steps: int) -> F32Array:
    """``torch.linspace(start, end, steps)`` in float32 on the CPU, bit for bit.

    Source: ``aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp``, ``linspace_kernel`` (torch 2.x):
    ``step = (end - start)/(steps - 1)`` in float32; element ``i < steps//2`` is
    ``start + step*i``, the others ``end - step*(steps-1-i)``, each a fused multiply-add; one step
    gives ``[start]``.

    Parameters
    ----------
    start, end
        The end points (rounded to float32 first, as torch does).
    steps
        The number of points (at least 1).

    Returns
    -------
    numpy.ndarray
        float32, ``steps`` points.
    """
    a, b = F32(start), F32(end)
    if steps == 1:
        return np.array([a], dtype=F32)
    step = F32(F32(b - a) / F32(steps - 1))
    half = steps // 2
    i = np.arange(steps)
    lo = fma_f32(np.full(half, step), i[:half].astype(F32), np.full(half, a))
    k = (steps - 1 - i[half:]).astype(F32)
    hi = fma_f32(np.full(k.size, -step), k, np.full(k.size, b))
    return np.concatenate([lo, hi]).astype(F32)


def f32_pow(x: F32Array, p: float) -> F32Array:
    """``x ** p`` of a float32 array as torch's ``pow(Tensor, Scalar)``, correctly rounded.

    torch special-cases the exponents 1 (a copy) and 2 (``x*x``), both exact here; other exponents
    are the float32 rounding of the float64 power (torch's vectorised ``pow`` is within about one
    ulp of it).
    """
    if p == 1.0:
        return np.asarray(x, F32).copy()
    if p == 2.0:
        return (np.asarray(x, F32) * np.asarray(x, F32)).astype(F32)
    return np.array([math.pow(float(v), p) for v in np.asarray(x, F32)], dtype=np.float64).astype(
        F32
    )


def f32_exp(x: F32Array) -> F32Array:
    """``torch.exp`` of a float32 array: the float32 rounding of the float64 exponential.

    Element by element with :func:`math.exp` (numpy's vectorised exp may change by an ulp with the
    array's alignment); torch's vectorised exp is within about one ulp of this.
    """
    return np.array([math.exp(float(v)) for v in np.asarray(x, F32)], dtype=np.float64).astype(F32)


def _append_zero(x: F32Array) -> F32Array:
    return np.concatenate([np.asarray(x, F32), np.zeros(1, F32)])


# -- the four constructors ------------------------------------------------------------------------


def get_sigmas_karras(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> F32Array:
    r"""k-diffusion ``get_sigmas_karras``: :math:`(\sigma_{\max}^{1/\rho} + r(\sigma_{\min}^{1/\rho}
    - \sigma_{\max}^{1/\rho}))^\rho` on ``r = linspace(0, 1, n)``, then 0.

    ``sigma ** (1/rho)`` is taken on Python floats (float64), the ramp arithmetic in float32.

    Returns
    -------
    numpy.ndarray
        float32, ``n + 1`` values ending with 0.
    """
    ramp = torch_linspace_f32(0.0, 1.0, n)
    min_inv_rho = sigma_min ** (1.0 / rho)
    max_inv_rho = sigma_max ** (1.0 / rho)
    base = (F32(max_inv_rho) + (ramp * F32(min_inv_rho - max_inv_rho)).astype(F32)).astype(F32)
    return _append_zero(f32_pow(base, rho))


def get_sigmas_exponential(n: int, sigma_min: float, sigma_max: float) -> F32Array:
    """k-diffusion ``get_sigmas_exponential``: ``exp(linspace(log sigma_max, log sigma_min, n))``,
    then 0 (float32, ``n + 1`` values)."""
    return _append_zero(f32_exp(torch_linspace_f32(math.log(sigma_max), math.log(sigma_min), n)))


def get_sigmas_polyexponential(
    n: int, sigma_min: float, sigma_max: float, rho: float = 1.0
) -> F32Array:
    """k-diffusion ``get_sigmas_polyexponential``: ``ramp = linspace(1, 0, n) ** rho``,
    ``exp(ramp*(log sigma_max - log sigma_min) + log sigma_min)``, then 0 (float32)."""
    ramp = f32_pow(torch_linspace_f32(1.0, 0.0, n), rho)
    lo = math.log(sigma_min)
    y = ((ramp * F32(math.log(sigma_max) - lo)).astype(F32) + F32(lo)).astype(F32)
    return _append_zero(f32_exp(y))


def get_sigmas_vp(
    n: int, beta_d: float = 19.9, beta_min: float = 0.1, eps_s: float = 1e-3
) -> F32Array:
    r"""k-diffusion ``get_sigmas_vp``: :math:`\sqrt{e^{\beta_d t^2/2 + \beta_{\min} t} - 1}` on
    ``t = linspace(1, eps_s, n)``, then 0 (float32).

    The float32 ``exp(...) - 1`` cancels near ``t = eps_s``: a one-ulp difference in the
    exponential moves the last level by many ulps (the tests propagate it).
    """
    t = torch_linspace_f32(1.0, eps_s, n)
    quad = ((F32(beta_d) * (t * t).astype(F32)).astype(F32) / F32(2.0)).astype(F32)
    lin = (F32(beta_min) * t).astype(F32)
    e = f32_exp((quad + lin).astype(F32))
    return _append_zero(np.sqrt((e - F32(1.0)).astype(F32)).astype(F32))


# -- registry -------------------------------------------------------------------------------------


def tool_grid(tool: NDArray[Any], name: str) -> tuple[FloatArray, tuple[str, ...]]:
    """The project grid of a tool array, and a note when exact repeats were merged.

    Parameters
    ----------
    tool
        The tool's levels (descending, repeats allowed).
    name
        The built-in's name (for the messages).

    Returns
    -------
    tuple
        The strictly decreasing float64 grid and the notes (empty, or one sentence on the merge).
    """
    grid = grid_from_levels(tool, name)
    merged = int(np.asarray(tool).size - grid.size)
    notes: tuple[str, ...] = ()
    if merged:
        notes = (
            f"the tool's array repeats {merged} level(s) exactly (float32 rounding); "
            f"the repeats are merged: {grid.size - 1} distinct steps",
        )
    return grid, notes


def _result(
    name: str, steps: int, tool: F32Array, params: Mapping[str, object], notes: tuple[str, ...] = ()
) -> BuiltinGrid:
    tool.setflags(write=False)
    grid, merge_notes = tool_grid(tool, name)
    return BuiltinGrid(name, steps, tool, None, grid, "sigma", params, notes + merge_notes)


_MIN_HELP = "sigma_min (k-diffusion has no default; EDM's 0.002)"
_MAX_HELP = "sigma_max (k-diffusion has no default; EDM's 80)"


@dataclass(frozen=True)
class KarrasOptions:
    """Arguments of ``get_sigmas_karras`` (``n`` is the steps)."""

    sigma_min: float = option(0.002, _MIN_HELP, metavar="S")
    sigma_max: float = option(80.0, _MAX_HELP, metavar="S")
    rho: float = option(7.0, "the Karras exponent rho", metavar="R")


@dataclass(frozen=True)
class ExponentialOptions:
    """Arguments of ``get_sigmas_exponential`` (``n`` is the steps)."""

    sigma_min: float = option(0.002, _MIN_HELP, metavar="S")
    sigma_max: float = option(80.0, _MAX_HELP, metavar="S")


@dataclass(frozen=True)
class PolyexponentialOptions:
    """Arguments of ``get_sigmas_polyexponential`` (``n`` is the steps)."""

    sigma_min: float = option(0.002, _MIN_HELP, metavar="S")
    sigma_max: float = option(80.0, _MAX_HELP, metavar="S")
    rho: float = option(1.0, "the exponent of the log-sigma ramp", metavar="R")


@dataclass(frozen=True)
class VPOptions:
    """Arguments of ``get_sigmas_vp`` (``n`` is the steps)."""

    beta_d: float = option(19.9, "the VP beta_d", metavar="B")
    beta_min: float = option(0.1, "the VP beta_min", metavar="B")
    eps_s: float = option(1e-3, "the last time t (the ramp runs from 1 to eps_s)", metavar="T")


@register_builtin(
    "k-diffusion:karras",
    options=KarrasOptions,
    summary="get_sigmas_karras: rho-power ramp between sigma_max and sigma_min, then 0",
    provenance=_prov("get_sigmas_karras"),
)
def _karras(steps: int, o: KarrasOptions) -> BuiltinGrid:
    lo, hi = check_endpoints(o.sigma_min, o.sigma_max)
    if math.isinf(hi):
        raise ValueError("sigma_max must be finite for k-diffusion:karras")
    rho = check_positive(o.rho, "rho")
    tool = get_sigmas_karras(steps, lo, hi, rho)
    params = {"sigma_min": lo, "sigma_max": hi, "rho": rho}
    return _result("k-diffusion:karras", steps, tool, params)


@register_builtin(
    "k-diffusion:exponential",
    options=ExponentialOptions,
    summary="get_sigmas_exponential: log-uniform between sigma_max and sigma_min, then 0",
    provenance=_prov("get_sigmas_exponential"),
)
def _exponential(steps: int, o: ExponentialOptions) -> BuiltinGrid:
    lo, hi = _positive_endpoints(o.sigma_min, o.sigma_max)
    tool = get_sigmas_exponential(steps, lo, hi)
    return _result("k-diffusion:exponential", steps, tool, {"sigma_min": lo, "sigma_max": hi})


@register_builtin(
    "k-diffusion:polyexponential",
    options=PolyexponentialOptions,
    summary="get_sigmas_polyexponential: log sigma on a rho-power ramp, then 0",
    provenance=_prov("get_sigmas_polyexponential"),
)
def _polyexponential(steps: int, o: PolyexponentialOptions) -> BuiltinGrid:
    lo, hi = _positive_endpoints(o.sigma_min, o.sigma_max)
    rho = check_positive(o.rho, "rho")
    tool = get_sigmas_polyexponential(steps, lo, hi, rho)
    params = {"sigma_min": lo, "sigma_max": hi, "rho": rho}
    return _result("k-diffusion:polyexponential", steps, tool, params)


@register_builtin(
    "k-diffusion:vp",
    options=VPOptions,
    summary="get_sigmas_vp: the continuous VP schedule on t = linspace(1, eps_s, n), then 0",
    provenance=_prov("get_sigmas_vp"),
)
def _vp(steps: int, o: VPOptions) -> BuiltinGrid:
    bd = check_positive(o.beta_d, "beta_d")
    bm = check_positive(o.beta_min, "beta_min", allow_zero=True)
    eps = check_positive(o.eps_s, "eps_s")
    if eps >= 1.0:
        raise ValueError(f"eps_s must be < 1 (the ramp runs from t = 1 down to eps_s), got {eps}")
    tool = get_sigmas_vp(steps, bd, bm, eps)
    if not (tool[:-1] > 0).all():
        raise ValueError(
            "k-diffusion's float32 exp(...) - 1 rounds to 0 at t = eps_s for these parameters "
            f"(beta_d={bd}, beta_min={bm}, eps_s={eps}): the schedule has a zero level before "
            "its end"
        )
    params = {"beta_d": bd, "beta_min": bm, "eps_s": eps}
    params.update({"sigma_min": float(tool[-2]), "sigma_max": float(tool[0])})
    return _result("k-diffusion:vp", steps, tool, params)


def _positive_endpoints(sigma_min: float, sigma_max: float) -> tuple[float, float]:
    """Endpoints for the log-based constructors: ``0 < sigma_min < sigma_max < inf``."""
    lo, hi = check_endpoints(sigma_min, sigma_max)
    if lo == 0 or math.isinf(hi):
        raise ValueError(
            "sigma_min must be > 0 and sigma_max finite: k-diffusion takes their logarithms "
            f"(got sigma_min={lo}, sigma_max={hi})"
        )
    return lo, hi
