r"""Float64 building blocks that keep every sampler's numerics exact over the whole input range.

The documented input range (docs/cli.md#input-range) lets eigenvalues and noise levels span
:math:`10^{-300}..10^{300}`, so a square like :math:`a^2` or a product like
:math:`(\lambda+a^2)(\lambda+b^2)` overflows or underflows even where the quantity it feeds is an
ordinary number. Two tools handle that:

* **The fast window.** Inside :data:`LEVEL_WINDOW` (levels) and :data:`EIGENVALUE_WINDOW`
  (eigenvalues) no intermediate of the derived rational expressions (degree <= 8) leaves the
  normal float64 range, so the derived expression compiled by :func:`symsched.numeric.lambdify`
  is used as it is (the fast paths and their speed are unchanged).
* **The log form** (:func:`log_form`). Outside the window a derived expression that is
  *positive-structured* (products, quotients and powers of sums of positive terms, and of
  differences ``a - b`` of two inputs) is evaluated through its logarithm: :math:`\ln` of a
  product is a sum, :math:`\ln` of a sum of positive terms is a ``logaddexp``, and
  :math:`\ln(a-b)` is taken of the float difference of the two inputs (exact to one rounding).
  Nothing overflows or underflows, and since every logarithm of an input is at most ~700 in
  magnitude, the absolute error of the log is a few hundred ulps of 1, i.e. a relative error of
  about :math:`10^{-13}` on the expression itself.

The scalar helpers (:func:`log1pmx`, :func:`log1pmx_over_x`, :func:`log1p_over_x`,
:func:`log_ratio`, :func:`log1m_exp`) are cancellation-free evaluations of elementary
functions; tests check each against 50-digit mpmath.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from symsched._typing import BoolArray, FloatArray

if TYPE_CHECKING:
    import sympy as sp


__all__ = [
    "EIGENVALUE_WINDOW",
    "EIGEN_BLOCK",
    "LEVEL_WINDOW",
    "StepFactor",
    "by_window",
    "eigen_blocks",
    "fast_eigenvalues",
    "fast_level",
    "in_log_inputs",
    "log1m_exp",
    "log1p_over_x",
    "log1pmx",
    "log1pmx_over_x",
    "log_abs_form",
    "log_form",
    "log_one_minus",
    "log_one_plus",
    "log_ratio",
    "sum_log_steps",
]

LEVEL_WINDOW = (1e-20, 1e20)
"""Nonzero finite noise levels in this window (and 0) take the fast, directly compiled path."""
EIGENVALUE_WINDOW = (1e-40, 1e40)
r"""Eigenvalues in this window take the fast path: with :math:`\sqrt\lambda` and the levels in
:math:`[10^{-20},10^{20}]`, a degree-8 polynomial in :math:`(\sqrt\lambda,a,b)` stays within
:math:`[10^{-300},10^{300}]` even when :math:`a-b` is one ulp of :math:`a`."""


def fast_level(value: float) -> bool:
    """True if the noise level ``value`` is 0 or inside :data:`LEVEL_WINDOW` (``inf`` is not)."""
    return value == 0.0 or LEVEL_WINDOW[0] <= value <= LEVEL_WINDOW[1]


def fast_eigenvalues(lam: FloatArray) -> BoolArray:
    """Mask of the eigenvalues inside :data:`EIGENVALUE_WINDOW`."""
    out: BoolArray = (lam >= EIGENVALUE_WINDOW[0]) & (lam <= EIGENVALUE_WINDOW[1])
    return out


StepFactor = Callable[[float, float, FloatArray, BoolArray], FloatArray]
r"""``step(a, b, lam, fast)``: a sampler's float64 :math:`\ln` of its per-step factor of r."""


def sum_log_steps(
    step: StepFactor,
    lam: FloatArray,
    sigmas: FloatArray,
    total: FloatArray,
    *,
    first: int = 1,
    fast: BoolArray | None = None,
) -> FloatArray:
    r"""``total`` plus ``step(sigmas[k-1], sigmas[k], lam, fast)`` for k = ``first`` .. N: the
    float64 :math:`\ln r` of a sampler whose step factor is a derived function of one step.

    ``step`` is elementwise in the eigenvalues, so the sum runs over cache-sized blocks of them
    (:func:`eigen_blocks`): every step's temporaries stay in L2 instead of streaming d-vectors
    through memory once per elementwise operation (measured 2-4x at d = 1e6).
    """
    mask = fast_eigenvalues(lam) if fast is None else fast
    levels = [(float(sigmas[k - 1]), float(sigmas[k])) for k in range(first, sigmas.size)]
    out = np.array(total, dtype=np.float64, copy=True)
    for blk in eigen_blocks(lam.size):
        lam_b, mask_b, acc = lam[blk], mask[blk], out[blk]
        for ak, bk in levels:
            acc += step(ak, bk, lam_b, mask_b)
    return out


EIGEN_BLOCK = 16384
"""Eigenvalues per block of the per-step loops: the ~10 float64 temporaries of one step that are
alive at a time (128 KiB each) stay in a 2 MiB L2 cache, and the Python and numpy call overhead
of a step is shared by this many eigenvalues (measured best of 8192 .. 32768 at d = 5e5)."""


def eigen_blocks(size: int, block: int = EIGEN_BLOCK) -> list[slice]:
    """Slices cutting ``range(size)`` into consecutive blocks of at most ``block`` eigenvalues."""
    return [slice(s, min(s + block, size)) for s in range(0, size, block)]


# --- the log form ---------------------------------------------------------------------------------


def _log_sign(e: sp.Expr, positive: frozenset[sp.Expr]) -> tuple[sp.Expr, int]:
    """``(log|e|, sign)`` with sign +1, -1, or 0 for "unknown" (a difference of two inputs)."""
    import sympy as sp
    from sympy.codegen.numpy_nodes import logaddexp

    if e.is_Number:
        if e == 0:
            raise ValueError("log form of 0")
        return sp.log(abs(e)), (1 if e > 0 else -1)
    if e.is_Symbol:
        if not e.is_nonnegative:
            raise ValueError(f"log form: symbol {e} is not declared nonnegative")
        return sp.log(e), 1
    if e.is_Pow:
        base, ex = e.as_base_exp()
        if not ex.is_Rational:
            raise ValueError(f"log form: non-rational power {e}")
        lb, sb = _log_sign(base, positive)
        if sb == 1 or (ex.is_integer and ex.is_even):
            return ex * lb, 1
        if ex.is_integer:
            return ex * lb, sb
        if sb != 1:
            raise ValueError(f"log form: fractional power of a base of unknown sign {e}")
        return ex * lb, 1
    if e.is_Mul:
        logs, sign = [], 1
        for f in e.args:
            lf, sf = _log_sign(f, positive)
            logs.append(lf)
            sign *= sf
        return sp.Add(*logs), sign
    if e.is_Add:
        if e in positive:
            return sp.log(e), 1
        if -e in positive:
            return sp.log(-e), -1
        parts = [_try_log_sign(t, positive) for t in e.args]
        if all(p is not None and p[1] == 1 for p in parts):
            return functools.reduce(logaddexp, [p[0] for p in parts if p is not None]), 1
        if all(p is not None and p[1] == -1 for p in parts):
            return functools.reduce(logaddexp, [p[0] for p in parts if p is not None]), -1
        if len(e.args) == 2 and all(t.is_Symbol or t.is_Number or (-t).is_Symbol for t in e.args):
            # a difference of two inputs (e.g. 1 - lam): one float subtraction, sign unknown
            return sp.log(sp.Abs(e)), 0
        raise ValueError(f"log form: {e} is not a sum of positive terms")
    raise ValueError(f"log form: unsupported node {e}")


def _try_log_sign(e: sp.Expr, positive: frozenset[sp.Expr]) -> tuple[sp.Expr, int] | None:
    try:
        return _log_sign(e, positive)
    except ValueError:
        return None


def log_abs_form(expr: sp.Expr, positive: Iterable[sp.Expr] = ()) -> tuple[sp.Expr, int]:
    r"""The log form of a positive-structured ``expr``: ``(log|expr|, sign)``.

    Parameters
    ----------
    expr
        A product / quotient / rational power of: nonnegative symbols, positive numbers, sums of
        positive terms, and two-input differences (``a - b``, ``1 - lam``).
    positive
        Differences known to be positive (e.g. ``a - b`` for a step ``a > b``).

    Returns
    -------
    tuple
        A SymPy expression for :math:`\ln|\mathrm{expr}|` built from ``log`` and ``logaddexp``
        only, and the sign of ``expr`` (+1, -1, or 0 when it depends on a two-input difference of
        unknown sign, which the caller then carries itself).

    Raises
    ------
    ValueError
        If ``expr`` is not positive-structured (a sum whose terms have mixed signs).
    """
    import sympy as sp

    return _log_sign(sp.sympify(expr), frozenset(sp.sympify(p) for p in positive))


def log_form(expr: sp.Expr, positive: Iterable[sp.Expr] = ()) -> sp.Expr:
    """:math:`\\ln(\\mathrm{expr})` of a positive ``expr`` (:func:`log_abs_form` with sign +1)."""
    out, sign = log_abs_form(expr, positive)
    if sign != 1:
        raise ValueError(f"log form: {expr} is not positive")
    return out


# --- cancellation-free elementary functions -------------------------------------------------------

_ATANH_TERMS = 22  # u^2 <= 1/9 for |x| <= 1/2: (1/9)^22 / 45 ~ 1e-23, below the last ulp


def _atanh_odd_tail(u: Any) -> Any:
    r""":math:`\sum_{j\ge0}u^{2j}/(2j+3)` by Horner (|u| <= 1/3).

    The series is cut where the next term falls below :math:`10^{-17}` of the first for the
    largest :math:`|u|` given (22 terms at :math:`|u|=1/3`, 4 at :math:`|u|=10^{-2}`).
    """
    u2 = u * u
    top = float(np.max(u2)) if np.size(u2) else 0.0
    terms = _ATANH_TERMS if top >= 1.0 / 9.0 else 1
    if 0.0 < top < 1.0 / 9.0:
        terms = min(_ATANH_TERMS, max(1, math.ceil(-17.0 * math.log(10.0) / math.log(top))))
    acc = np.full_like(u2, 1.0 / (2 * terms + 3))
    for j in range(terms - 1, -1, -1):  # in place: one pass per term
        acc *= u2
        acc += 1.0 / (2 * j + 3)
    return acc


_SERIES_EDGE = 1e-3  # log1p(x) - x loses a factor 3 / |x|: beyond |x| = 1e-3, <= 7e-13 relative


def log1pmx(x: Any) -> FloatArray:
    r""":math:`\ln(1+x)-x` with a relative error below 7e-13, for :math:`x>-1`.

    For :math:`|x|\le10^{-3}`, with :math:`u=x/(2+x)`, :math:`\ln(1+x)=2\operatorname{atanh}u`
    and :math:`x=2u/(1-u)` give :math:`\ln(1+x)-x=u^2\,(2u\sum_j u^{2j}/(2j+3)-2/(1-u))`, two
    terms that differ in size by a factor :math:`\ge10^3`, so no digits cancel (3 terms of the
    sum). Beyond, ``log1p(x) - x`` loses at most a factor :math:`3/|x|\le3000` of the last ulp.
    """
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) <= _SERIES_EDGE
    if small.all():
        return _log1pmx_series(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = np.log1p(x) - x
    if small.any():
        out[small] = _log1pmx_series(x[small])
    return out


def _log1pmx_series(x: FloatArray) -> FloatArray:
    u = x / (2.0 + x)
    tail = _atanh_odd_tail(u)
    tail *= u
    tail -= 1.0 / (1.0 - u)
    tail *= 2.0 * u * u
    out: FloatArray = tail
    return out


def log1pmx_over_x(x: Any) -> FloatArray:
    r""":math:`(\ln(1+x)-x)/x`, continuous at 0 (value 0), :math:`\to-1` as :math:`x\to\infty`."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) <= 0.5
    xs = np.where(small, x, 0.0)
    u = xs / (2.0 + xs)
    # divide the series of log1pmx by x = 2u / (1 - u): exact in u, no 0/0 at x = 0
    series = -u + u * u * (1.0 - u) * _atanh_odd_tail(u)
    xb = np.where(small, 1.0, x)
    with np.errstate(over="ignore", invalid="ignore"):
        big = np.where(np.isinf(xb), -1.0, np.log1p(xb) / xb - 1.0)
    out: FloatArray = np.where(small, series, big)
    return out


def log1p_over_x(x: Any) -> FloatArray:
    r""":math:`\ln(1+x)/x`, continuous at 0 (value 1), 0 at :math:`x=\infty`: ``1 +``
    :func:`log1pmx_over_x` for :math:`|x|\le\tfrac12`, ``log1p(x) / x`` beyond."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) <= 0.5
    xb = np.where(small, 1.0, x)
    with np.errstate(over="ignore", invalid="ignore"):
        big = np.where(np.isinf(xb), 0.0, np.log1p(xb) / xb)
    out: FloatArray = np.where(small, 1.0 + log1pmx_over_x(np.where(small, x, 0.0)), big)
    return out


def log_ratio(x: Any, y: Any) -> FloatArray:
    r""":math:`\ln(x/y)` for :math:`x\ge y\ge0`: ``log1p((x-y)/y)`` when :math:`x<2y` (no
    cancellation for close levels), ``log(x) - log(y)`` otherwise (no overflow of :math:`x/y`);
    ``inf`` for :math:`y=0`."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    close = x < 2.0 * y
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.log1p((x - y) / np.where(close, y, 1.0))
        far = np.log(x) - np.log(y)
    out: FloatArray = np.where(close, near, far)
    return out


def log1m_exp(lv: Any) -> FloatArray:
    r""":math:`\ln(1-e^{l})` for :math:`l\le0` (Mächler's two branches), ``-inf`` at :math:`l=0`."""
    lv = np.asarray(lv, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(
            lv > -math.log(2.0), np.log(-np.expm1(lv)), np.log1p(-np.exp(lv))
        )
    return out


def by_window(
    lam_v: FloatArray,
    fast_lam: BoolArray,
    step_fast: bool,
    fast_fn: Callable[[FloatArray], FloatArray],
    stable_fn: Callable[[FloatArray], FloatArray],
) -> FloatArray:
    """``fast_fn`` on the eigenvalues inside the window (if the step is), ``stable_fn`` on the rest.

    Both compute the same quantity; ``fast_lam`` is :func:`fast_eigenvalues` of ``lam_v``.
    """
    if step_fast and bool(fast_lam.all()):
        return np.asarray(fast_fn(lam_v), dtype=np.float64)
    if not step_fast or not bool(fast_lam.any()):
        return np.asarray(stable_fn(lam_v), dtype=np.float64)
    out = np.empty_like(lam_v)
    out[fast_lam] = fast_fn(lam_v[fast_lam])
    out[~fast_lam] = stable_fn(lam_v[~fast_lam])
    return out


def log_one_minus(log_loss: Any, log_keep: Any) -> FloatArray:
    r""":math:`\ln(1-\ell)` from the log forms of :math:`\ell` and of :math:`1-\ell` (both given).

    ``log1p(-exp(ln l))`` while :math:`\ell<\tfrac12` (relative accuracy of :math:`\ell` kept),
    the log form of :math:`1-\ell` beyond (a value of magnitude :math:`\ge\ln2`).
    """
    ll = np.asarray(log_loss, dtype=np.float64)
    out: FloatArray = np.where(
        ll < -math.log(2.0), log1m_exp(np.minimum(ll, 0.0)), np.asarray(log_keep, dtype=np.float64)
    )
    return out


def log_one_plus(log_excess: Any) -> FloatArray:
    r""":math:`\ln(1+u)` from the log form of :math:`u>0`: ``logaddexp(0, ln u)``, which is
    ``log1p(exp(ln u))`` for small :math:`u` (relative accuracy kept) and never overflows."""
    out: FloatArray = np.logaddexp(0.0, np.asarray(log_excess, dtype=np.float64))
    return out


def in_log_inputs(log_expr: sp.Expr, logs: dict[sp.Expr, sp.Symbol]) -> sp.Expr:
    r"""A log form written in the logarithms of its inputs: each ``log(key)`` becomes ``logs[key]``.

    For inputs that are themselves only known through their logarithm (a level :math:`b^2/a`
    below the float64 range, say): ``logs`` maps an input (``b``) or a difference (``a - b``) to
    the symbol that carries its log. Raises ``ValueError`` if a ``log`` of anything else is left.
    """
    import sympy as sp

    out = log_expr.xreplace({sp.log(k): v for k, v in logs.items()})
    left = [n for n in out.atoms(sp.log) if not n.args[0].is_Number]
    if left:
        raise ValueError(f"in_log_inputs: {left} have no log input")
    return out
