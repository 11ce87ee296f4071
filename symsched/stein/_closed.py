r"""Numeric closed forms and quadratures of the corrector cost (compiled from :mod:`._symbolic`).

Every public function takes noise levels :math:`\rho=\sigma/\alpha` (docs/conventions.md) and a
``process``: ``"ve"`` measures scores and the weight :math:`v=\sigma` in the VE scale
(:math:`\sigma=\rho`, EDM's convention, docs/theory/stein.md#closed-forms); ``"vp"`` in the VP scale
(:math:`\sigma_{VP}=\rho/\sqrt{1+\rho^2}`, states :math:`x_{VP}=\alpha x`,
docs/theory/stein.md#vp-gaussian).
Local metrics are returned with respect to :math:`\rho`, so
:math:`\Lambda=\int\sqrt{\delta}\,d\rho` in either process [williams2024, §3.1].

Grids here are *descending* like every grid of the project: ``levels = [rho_0 > ... > rho_K]``,
and ``costs[i]`` is the cost of the step ``rho_i -> rho_{i+1}`` (source ``rho_i``, target
``rho_{i+1}``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import sympy as sp

from symsched import numeric
from symsched._typing import ArrayLike, BoolArray, FloatArray, GridLike, SpectrumLike
from symsched._validate import INPUT_MAX, INPUT_MIN, as_eigenvalues, check_choice, check_positive
from symsched.samplers import _stable
from symsched.stein import _symbolic as S
from symsched.symbols import lam

__all__ = [
    "PROCESSES",
    "WEIGHTS",
    "Process",
    "Weight",
    "as_levels",
    "asinh_minus_ratio",
    "gaussian_interval_cost_rho",
    "gaussian_interval_costs",
    "gaussian_local_metric",
    "gaussian_local_metric_rho",
    "isotropic_length",
    "length_from_metric",
    "process_sigma",
    "two_point_interval_costs",
    "two_point_local_metric",
]

Process = Literal["ve", "vp"]
Weight = Literal["target", "source"]
PROCESSES: tuple[str, ...] = ("ve", "vp")
WEIGHTS: tuple[str, ...] = ("target", "source")
_GL_POINTS = 16  # Gauss-Legendre nodes per panel for the two-point expectations (§5.4)
# Gauss-Legendre nodes and weights on [-1, 1]; numpy's stubs leave leggauss untyped
_leggauss: Callable[[int], tuple[FloatArray, FloatArray]] = np.polynomial.legendre.leggauss


def as_levels(levels: GridLike, name: str = "levels") -> FloatArray:
    """A descending probe grid of finite, strictly positive noise levels (at least 2).

    Parameters
    ----------
    levels
        The grid ``[rho_0 > ... > rho_K]``.
    name
        Name used in error messages.

    Returns
    -------
    FloatArray
        The levels as float64.

    Raises
    ------
    ValueError
        If the grid is not 1-D with at least 2 levels, not finite and > 0, or not strictly
        decreasing.
    """
    arr = np.asarray(levels, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(
            f"{name} must be a 1-D grid of at least 2 noise levels, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(
            f"{name} must be finite and > 0 (the Stein cost needs 0 < sigma_min, sigma_max < inf)"
        )
    if not np.all(np.diff(arr) < 0):
        raise ValueError(f"{name} must be strictly decreasing (sigma_max first)")
    _check_range(arr, name)
    return arr


_RANGE = f"[{INPUT_MIN:g}, {INPUT_MAX:g}] (the documented input range)"


def _check_range(arr: FloatArray, name: str) -> None:
    """``ValueError`` naming ``name`` if a nonzero entry lies outside the documented input range."""
    out = (arr != 0) & ((arr < INPUT_MIN) | (arr > INPUT_MAX))
    if out.any():
        i = int(np.argmax(out.ravel()))
        raise ValueError(f"{name} must lie in {_RANGE}; entry {i} is {float(arr.ravel()[i])!r}")


# --- the costs as functions of rho, and their stable evaluation ---------------------------------
_rho_s, _rho_t = sp.symbols("rho_s rho_t", positive=True)  # source and target noise levels rho


def _vp_sigma(level: sp.Expr) -> sp.Expr:
    return level / sp.sqrt(1 + level**2)


@functools.cache
def gaussian_interval_cost_rho(
    process: str = "ve", weight: str = "target", reverse: bool = False
) -> sp.Expr:
    r"""The derived per-eigenvalue interval cost
    (:func:`symsched.stein._symbolic.gaussian_interval_cost`) as a function of the levels
    :math:`\rho_s` (source), :math:`\rho_t` (target) and :math:`\lambda`.

    VE: :math:`\sigma=\rho`. VP: :math:`\sigma_{VP}=\rho/\sqrt{1+\rho^2}` substituted and
    simplified, which removes the :math:`1-\sigma_{VP}^2` that cancels for large :math:`\rho`:
    the target-weighted cost becomes
    :math:`\rho_t^2(\lambda-1)^2(\rho_s^2-\rho_t^2)^2/((\lambda+\rho_s^2)(\lambda+\rho_t^2)^2
    (1+\rho_s^2)(1+\rho_t^2))`, a positive-structured form (tests check it equals the
    substitution).

    With ``reverse=True`` the same expression with the roles of :math:`\rho_s` and
    :math:`\rho_t` exchanged: the cost of the step :math:`\rho_t\to\rho_s` (expectation under
    :math:`p_{\rho_t}`), the backward half of the symmetric length estimate
    (docs/theory/stein.md#second-order-length-estimate).
    """
    e = S.gaussian_interval_cost(process, weight)
    if process == "ve":
        e = e.subs({S.sigma: _rho_s, S.sigma_t: _rho_t}, simultaneous=True)
    else:
        e = e.subs({S.sigma: _vp_sigma(_rho_s), S.sigma_t: _vp_sigma(_rho_t)}, simultaneous=True)
        num, den = sp.fraction(sp.together(e))
        e = sp.factor(sp.factor(sp.expand(num)) / sp.factor(sp.expand(den)))
    if reverse:
        e = e.subs({_rho_s: _rho_t, _rho_t: _rho_s}, simultaneous=True)
    return e


@functools.cache
def gaussian_local_metric_rho(process: str = "ve") -> sp.Expr:
    r"""The derived per-eigenvalue local metric with respect to :math:`\rho`, a function of
    :math:`\rho` (the symbol ``rho_s``) and :math:`\lambda`.

    :func:`symsched.stein._symbolic.gaussian_local_metric` at :math:`\sigma(\rho)` times
    :math:`(d\sigma/d\rho)^2`; VP: :math:`4\rho^4(\lambda-1)^2/((\lambda+\rho^2)^3(1+\rho^2)^2)`.
    """
    m = S.gaussian_local_metric(process)
    if process == "ve":
        return m.subs(S.sigma, _rho_s)
    sig = _vp_sigma(_rho_s)
    return sp.factor(sp.simplify(m.subs(S.sigma, sig) * sp.diff(sig, _rho_s) ** 2))


@functools.cache
def _cost_fns(
    process: str, weight: str, reverse: bool = False
) -> tuple[Callable[..., FloatArray], Callable[..., FloatArray]]:
    e = gaussian_interval_cost_rho(process, weight, reverse)
    args = (_rho_s, _rho_t, lam)
    return (
        numeric.lambdify(args, e),
        numeric.lambdify(args, _stable.log_form(e, [_rho_s - _rho_t])),
    )


@functools.cache
def _metric_fns(process: str) -> tuple[Callable[..., FloatArray], Callable[..., FloatArray]]:
    e = gaussian_local_metric_rho(process)
    return numeric.lambdify((_rho_s, lam), e), numeric.lambdify((_rho_s, lam), _stable.log_form(e))


def _fast_lam(lam_v: FloatArray, levels: FloatArray) -> BoolArray:
    """Eigenvalues that take the compiled form (those inside the window, if the levels are)."""
    lev = levels[levels != 0]
    if lev.size and not (
        lev.min() >= _stable.LEVEL_WINDOW[0] and lev.max() <= _stable.LEVEL_WINDOW[1]
    ):
        return np.zeros(lam_v.shape, dtype=bool)
    return _stable.fast_eigenvalues(lam_v)


def _by_eigenvalue(
    lam_v: FloatArray,
    fast: BoolArray,
    direct: Callable[[FloatArray], FloatArray],
    log_form: Callable[[FloatArray], FloatArray],
) -> FloatArray:
    """Per-eigenvalue terms (last axis): ``direct`` where ``fast``, ``exp(log_form)`` elsewhere."""
    if fast.all():
        return direct(lam_v)
    with np.errstate(over="ignore"):
        out = np.exp(log_form(lam_v))
    if fast.any():
        out[..., fast] = direct(lam_v[fast])
    return out


def asinh_minus_ratio(x: ArrayLike) -> FloatArray:
    r""":math:`F(x)=\operatorname{asinh}x-x/\sqrt{1+x^2}` for :math:`x\ge0`, without cancellation.

    The bracket of :func:`isotropic_length` (:math:`x=\rho/c`). For :math:`x\le1/2` its Taylor
    series :math:`F=\sum_n\binom{-3/2}{n}x^{2n+3}/(2n+3)` (:math:`F'=x^2(1+x^2)^{-3/2}`), where the
    plain difference cancels like :math:`x^2`; for :math:`x>10^8`,
    :math:`\ln2+\ln x-1` (the next term is :math:`3/(4x^2)<10^{-16}`); the plain form between.
    """
    xv = np.asarray(x, dtype=np.float64)
    small = xv <= 0.5
    xs = np.where(small, xv, 0.0)
    x2 = xs * xs
    acc = np.zeros_like(xs)
    for n in range(_ASINH_TERMS - 1, -1, -1):
        acc = acc * x2 + _ASINH_COEF[n]
    series = acc * xs * x2
    huge = xv > 1e8
    xm = np.where(small | huge, 1.0, xv)
    mid = np.arcsinh(xm) - xm / np.hypot(1.0, xm)
    with np.errstate(divide="ignore"):
        tail = math.log(2.0) + np.log(np.where(huge, xv, 1.0)) - 1.0
    out: FloatArray = np.where(small, series, np.where(huge, tail, mid))
    return out


_ASINH_TERMS = 30  # (1/4)^30 ~ 1e-18: below the last ulp for x <= 1/2
_ASINH_COEF = [float(sp.binomial(sp.Rational(-3, 2), n) / (2 * n + 3)) for n in range(_ASINH_TERMS)]


def process_sigma(rho: ArrayLike, process: str) -> FloatArray:
    r"""Noise std of the process at noise level ``rho``.

    VE: :math:`\sigma=\rho`; VP: :math:`\sigma_{VP}=\rho/\sqrt{1+\rho^2}`
    (docs/theory/stein.md#vp-gaussian).

    Parameters
    ----------
    rho
        Noise levels :math:`\rho=\sigma/\alpha`.
    process
        ``"ve"`` or ``"vp"``.

    Returns
    -------
    FloatArray
        The process's noise std, same shape as ``rho``.

    Raises
    ------
    ValueError
        Unknown ``process``.
    """
    check_choice(process, "process", PROCESSES)
    r = np.asarray(rho, dtype=np.float64)
    if process == "ve":
        return r
    out: FloatArray = r / np.hypot(1.0, r)  # no overflow of rho^2 above 1.3e154
    return out


def gaussian_interval_costs(
    eigenvalues: SpectrumLike,
    levels: GridLike,
    *,
    process: str = "ve",
    weight: str = "target",
    reverse: bool = False,
) -> FloatArray:
    r"""Exact :math:`\mathcal L_c(\rho_i\to\rho_{i+1})` for Gaussian data.

    Data :math:`\mathcal N(0,\mathrm{diag}\,\lambda)`. The per-eigenvalue form of
    :func:`symsched.stein.gaussian_interval_cost` summed over the spectrum [williams2024, §2.3]
    (docs/theory/stein.md#gaussian-data). ``eigenvalues`` are in the data scale the model sees; a
    repeated eigenvalue may be passed once with its multiplicity folded into ``dim`` by the
    caller (see :func:`isotropic_length`).

    Parameters
    ----------
    eigenvalues
        Data covariance eigenvalues (> 0).
    levels
        Descending probe grid (:func:`as_levels`).
    process
        ``"ve"`` or ``"vp"``.
    weight
        ``"target"`` (:math:`v=\sigma_{i+1}`, the paper) or ``"source"`` (:math:`v=\sigma_i`).
    reverse
        The costs of the reversed steps :math:`\rho_{i+1}\to\rho_i` instead (expectation under
        :math:`p_{\rho_{i+1}}`, the weight at that step's target or source): the backward half of
        the symmetric length estimate (docs/theory/stein.md#second-order-length-estimate).

    Returns
    -------
    FloatArray
        The ``K`` interval costs.

    Raises
    ------
    ValueError
        Invalid eigenvalues, levels, process or weight.
    """
    lam_v = as_eigenvalues(eigenvalues)
    lev = as_levels(levels)
    check_choice(process, "process", PROCESSES)
    check_choice(weight, "weight", WEIGHTS)
    direct, log_f = _cost_fns(process, weight, bool(reverse))
    src, tgt = lev[:-1, None], lev[1:, None]
    costs = _by_eigenvalue(
        lam_v,
        _fast_lam(lam_v, lev),
        lambda lv: np.asarray(direct(src, tgt, lv[None, :]), dtype=np.float64),
        lambda lv: np.asarray(log_f(src, tgt, lv[None, :]), dtype=np.float64),
    )
    with np.errstate(over="ignore"):
        out: FloatArray = costs.sum(axis=1)
    return out


def gaussian_local_metric(
    eigenvalues: SpectrumLike, rho: ArrayLike, *, process: str = "ve"
) -> FloatArray:
    r"""Exact local metric :math:`\delta_c` with respect to :math:`\rho`.

    See docs/theory/stein.md#local-metric and docs/theory/stein.md#gaussian-data.

    :math:`\delta_c(\rho)=\sigma^2\sum_k \dot m_k^2/m_k^3\,(d\sigma/d\rho)^2`, derived as the
    second-order coefficient of the interval cost [williams2024, §3.1]; the VP chain rule factor
    :math:`(d\sigma/d\rho)^2` is docs/theory/stein.md#vp-gaussian.

    Parameters
    ----------
    eigenvalues
        Data covariance eigenvalues (> 0).
    rho
        Noise levels (any shape).
    process
        ``"ve"`` or ``"vp"``.

    Returns
    -------
    FloatArray
        :math:`\delta_c(\rho)`, same shape as ``rho``.

    Raises
    ------
    ValueError
        Invalid eigenvalues or process.
    """
    lam_v = as_eigenvalues(eigenvalues)
    check_choice(process, "process", PROCESSES)
    r = np.asarray(rho, dtype=np.float64)
    if np.iscomplexobj(rho) or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError("rho must be finite noise levels >= 0")
    _check_range(r, "rho")
    direct, log_f = _metric_fns(process)
    vals = _by_eigenvalue(
        lam_v,
        _fast_lam(lam_v, r.ravel()),
        lambda lv: np.asarray(direct(r[..., None], lv), dtype=np.float64),
        lambda lv: np.asarray(log_f(r[..., None], lv), dtype=np.float64),
    )
    with np.errstate(over="ignore"):
        out: FloatArray = vals.sum(axis=-1)
    return out


def isotropic_length(c: float, dim: float, rho: ArrayLike) -> FloatArray:
    r"""Closed-form length :math:`\Lambda(\rho)=\int_0^\rho\sqrt{\delta_c}`, VE isotropic data.

    For :math:`\mathcal N(0,c^2I_d)`:
    :math:`2\sqrt d\,[\operatorname{asinh}(\rho/c)-\rho/\sqrt{\rho^2+c^2}]`, integrated by SymPy
    [williams2024, §3.1] (docs/theory/stein.md#isotropic-ve).

    Parameters
    ----------
    c
        Data standard deviation (> 0).
    dim
        Dimension d (> 0).
    rho
        Noise levels.

    Returns
    -------
    FloatArray
        :math:`\Lambda(\rho)`, same shape as ``rho``.

    Raises
    ------
    ValueError
        If ``c`` or ``dim`` is not > 0.
    """
    c = check_positive(c, "c")
    dim = check_positive(dim, "dim")
    r = np.asarray(rho, dtype=np.float64)
    if not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ValueError("rho must be finite noise levels >= 0")
    _check_range(r, "rho")
    # 2 sqrt(d) F(rho / c) with ln(rho / c) taken apart where rho / c overflows
    with np.errstate(over="ignore", divide="ignore"):
        x = r / c
        big = ~np.isfinite(x)
        f_x = np.where(
            big,
            math.log(2.0) + np.log(np.where(big, r, 1.0)) - math.log(c) - 1.0,
            asinh_minus_ratio(np.where(big, 1.0, x)),
        )
    out: FloatArray = 2.0 * math.sqrt(dim) * f_x
    return out


def length_from_metric(delta: ArrayLike, rho: GridLike) -> FloatArray:
    r"""Interval lengths from a sampled metric by the trapezoid rule in :math:`\log\rho`.

    .. math::
       \Delta\Lambda_i=\tfrac12(\sqrt{\delta_i}\rho_i+\sqrt{\delta_{i+1}}\rho_{i+1})
       \ln(\rho_i/\rho_{i+1})

    on a descending grid: the trapezoid rule in :math:`\log\rho` [williams2024, §3.1]
    (docs/theory/stein.md#length-and-geodesic-schedules).

    Parameters
    ----------
    delta
        The metric :math:`\delta_c` at each level (negative values count as 0).
    rho
        Descending grid of ``K + 1`` levels.

    Returns
    -------
    FloatArray
        The ``K`` interval lengths.

    Raises
    ------
    ValueError
        If ``rho`` is not a valid descending grid.
    """
    r = as_levels(rho, "rho")
    g = np.sqrt(np.maximum(np.asarray(delta, dtype=np.float64), 0.0)) * r
    out: FloatArray = 0.5 * (g[:-1] + g[1:]) * np.log(r[:-1] / r[1:])
    return out


def _panels(sigma: float, width: float) -> FloatArray:
    """Panel edges on [1 - 14 sigma, 1 + 14 sigma], graded toward x = 0 (tanh(x / width) turns)."""
    a, b = 1.0 - 14.0 * sigma, 1.0 + 14.0 * sigma
    edges = list(np.linspace(a, b, 161))
    if a < 0.0 < b:
        grade = width * 2.0 ** np.arange(-4, 40)
        edges += [e for g in grade for e in (g, -g) if a < e < b] + [0.0]
    out: FloatArray = np.unique(np.asarray(edges))
    return out


TWO_POINT_RANGE = (1e-6, 1e6)
"""Noise levels the two-point quadrature resolves to 1e-11 relative: below, the mixture is two
separated point masses whose Gaussian weights the panels no longer resolve (measured 7e-4 off at
1e-15, 0 at 1e-18); above, the metric underflows (0 from 1e63, NaN from 1e108)."""


def _check_two_point_levels(levels: FloatArray) -> None:
    lo, hi = TWO_POINT_RANGE
    if levels.size and (float(levels.min()) < lo or float(levels.max()) > hi):
        raise ValueError(
            f"the two-point quadrature resolves noise levels in [{lo:g}, {hi:g}] "
            f"(--sigma-min/--sigma-max, --from/--to); got [{float(levels.min()):g}, "
            f"{float(levels.max()):g}]"
        )


def _two_point_expect(
    fn: Callable[[FloatArray, int], FloatArray], sigma: FloatArray, width: FloatArray
) -> FloatArray:
    r"""E_{x ~ p_sigma} fn(x, i) for ½δ₋₁+½δ₊₁ noised to ``sigma[i]``; by symmetry, the mode at +1.

    Composite 16-point Gauss–Legendre on panels graded toward :math:`x=0`, where the integrands'
    :math:`\tanh(x/\sigma^2)` factors turn over on a scale ``width`` (a plain Gauss–Hermite rule
    misses that turn by 1e-4 relative at sigma ~ 0.3).
    """
    z, w = _leggauss(_GL_POINTS)
    out = np.empty(sigma.size)
    for i, (s, wd) in enumerate(zip(sigma, width, strict=True)):
        e = _panels(float(s), float(wd))
        mid, half = 0.5 * (e[1:] + e[:-1]), 0.5 * (e[1:] - e[:-1])
        x = (mid[:, None] + half[:, None] * z).ravel()
        wt = (
            (half[:, None] * w).ravel()
            * np.exp(-((x - 1.0) ** 2) / (2 * s * s))
            / np.sqrt(2 * np.pi * s * s)
        )
        out[i] = np.sum(wt * fn(x, i))
    return out


def two_point_local_metric(rho: ArrayLike) -> FloatArray:
    r"""Local metric of the two-point mixture ½δ₋₁+½δ₊₁ (VE), by quadrature.

    :math:`\delta_c(\sigma)=\sigma^2\mathbb E[\partial_\sigma\nabla\log p_\sigma]^2`
    [williams2024, §3.1]: composite Gauss–Legendre
    quadrature of the SymPy-derived derivative (docs/theory/stein.md#two-point-data); a single
    Gauss–Hermite rule is not used, :func:`_two_point_expect` says why.

    Parameters
    ----------
    rho
        Noise levels (finite, > 0).

    Returns
    -------
    FloatArray
        :math:`\delta_c` at each level (1-D).

    Raises
    ------
    ValueError
        If a level is not finite and > 0, or outside :data:`TWO_POINT_RANGE`.
    """
    r = np.atleast_1d(np.asarray(rho, dtype=np.float64))
    if np.any(~np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("rho must be finite and > 0")
    _check_two_point_levels(r)
    ds = numeric.lambdify((S.xs, S.sigma), S.two_point_score_sigma_derivative())

    def squared(x: FloatArray, i: int) -> FloatArray:
        out: FloatArray = ds(x, r[i]) ** 2
        return out

    res: FloatArray = r**2 * _two_point_expect(squared, r, r**2)
    return res


def two_point_interval_costs(
    levels: GridLike, *, weight: str = "target", reverse: bool = False
) -> FloatArray:
    r"""Finite-step :math:`\mathcal L_c(\rho_i\to\rho_{i+1})` for the two-point mixture.

    By quadrature [williams2024, §2.3] (docs/theory/stein.md#corrector-cost,
    docs/theory/stein.md#two-point-data), under the source level:

    .. math::
       v^2\,\mathbb E_{x\sim p_{\rho_i}}
       [\nabla\log p_{\rho_{i+1}}(x)-\nabla\log p_{\rho_i}(x)]^2 .

    Parameters
    ----------
    levels
        Descending probe grid (VE).
    weight
        ``"target"`` or ``"source"``.
    reverse
        The reversed steps :math:`\rho_{i+1}\to\rho_i` instead: expectation under
        :math:`p_{\rho_{i+1}}`, weight at that step's target (:math:`\rho_i`) or source
        (docs/theory/stein.md#second-order-length-estimate).

    Returns
    -------
    FloatArray
        The ``K`` interval costs.

    Raises
    ------
    ValueError
        Invalid levels (or outside :data:`TWO_POINT_RANGE`) or weight.
    """
    lev = as_levels(levels)
    check_choice(weight, "weight", WEIGHTS)
    _check_two_point_levels(lev)
    sc = numeric.lambdify((S.xs, S.sigma), S.two_point_score())
    src, tgt = (lev[1:], lev[:-1]) if reverse else (lev[:-1], lev[1:])
    v = tgt if weight == "target" else src

    def diff2(x: FloatArray, i: int) -> FloatArray:
        out: FloatArray = (sc(x, tgt[i]) - sc(x, src[i])) ** 2
        return out

    # the integrand turns over on the scale of the lower level's variance, either direction
    res: FloatArray = v**2 * _two_point_expect(diff2, src, lev[1:] ** 2)
    return res
