r"""Euler–Maclaurin asymptotics of the exact Gaussian KL in the number of steps N.

[sun2026, §5.1] (docs/theory/gaussian.md#euler-maclaurin-expansion). For a smooth family
:math:`\rho(u)` on the uniform grid :math:`u_k=k/N` and
:math:`\varphi_i(u)=\arctan(\rho(u)/\sqrt{\lambda_i})`, the exact output ratio is
:math:`\ln r_i=-B_i+\sum_k 2\ln\cos\Delta\varphi_{i,k}` and

.. math:: \ln r_i = -B_i - \frac{J_i}{N} - \frac{K_i}{N^3} + O(N^{-5}),\qquad
          J_i=\int_0^1\dot\varphi_i^2\,du,\quad K_i=\int_0^1\Big(\frac{\dot\varphi_i^4}{6}
          -\frac{\ddot\varphi_i^2}{12}\Big)du .

:math:`B_i=\ln(1+\lambda_i/\sigma_{\max}^2)` is the boundary term of ``start="prior"`` with a finite
:math:`\sigma_{\max}` (0 otherwise). Everything here is *derived* in SymPy:
:func:`log_ratio_expansion` expands :math:`2\ln\cos` of the midpoint-centred angle step, applies the
midpoint Euler–Maclaurin formula (Bernoulli polynomial :math:`B_2(1/2)`) and proves that the
:math:`N^{-3}` boundary terms cancel (an exact total derivative); :func:`kl_expansion` expands both
KL directions to :math:`N^{-4}`. The integrals are closed forms where SymPy integrates them (the
tangent family, as a rational integral in :math:`\rho`) and Gauss–Legendre / mpmath quadrature
otherwise.

Bad input: a family whose angle is not smooth at an endpoint (e.g. ``vp-linear`` or ``cosine``
down to :math:`\sigma_{\min}=0`, where :math:`\rho\propto\sqrt t` and :math:`J` diverges) raises
``ValueError``; see :func:`check_smooth`.

References
----------
.. [sun2026] arXiv:2601.13602, §5.1 (docs/theory/gaussian.md#euler-maclaurin-expansion).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, cast, overload

import mpmath
import numpy as np
import sympy as sp

from symsched import numeric
from symsched._typing import (
    FloatArray,
    MpmathFunction,
    MpmathNumber,
    NumpyFunction,
    SpectrumLike,
    Start,
)
from symsched._validate import as_eigenvalues, check_choice, check_steps
from symsched.gaussian import derive
from symsched.samplers import start_log_ratio
from symsched.schedules.families import Family, level
from symsched.symbols import N, s, u

if TYPE_CHECKING:
    from symsched.gaussian.derive import Step

__all__ = [
    "Coefficients",
    "EMExpansion",
    "angle_derivatives",
    "check_smooth",
    "coefficients",
    "coefficients_mpmath",
    "derivation",
    "kl_expansion",
    "log_ratio_expansion",
    "predicted_kl",
    "predicted_log_ratio",
    "small_n_warnings",
]

_h = sp.Symbol("h", positive=True)  # 1/N
_eps = sp.Symbol("epsilon", positive=True)  # 1/N in the KL series
_B, _J, _K = sp.symbols("B J K", real=True)
_p = sp.symbols("phi1:6", real=True)  # phi', phi'', ..., phi^(5) at the midpoint


@dataclass(frozen=True)
class EMExpansion:
    r"""Result of the symbolic Euler–Maclaurin derivation (expressions in :math:`\varphi^{(k)}`).

    Attributes
    ----------
    step_series
        :math:`2\ln\cos\Delta\varphi` of one step as a series in :math:`h=1/N` (through
        :math:`h^4`).
    j_integrand, k_integrand
        :math:`\dot\varphi^2` and :math:`\dot\varphi^4/6-\ddot\varphi^2/12` in the symbols
        ``phi1..``.
    boundary_primitive
        :math:`G` with :math:`c_4 + k = G'`; the :math:`N^{-3}` boundary terms are
        :math:`[G + B_2(\tfrac12)c_2'/2]_0^1`.
    boundary_residual
        That bracket's integrand, simplified: exactly 0 (the cancellation of
        docs/theory/gaussian.md#euler-maclaurin-expansion).
    """

    step_series: sp.Expr
    j_integrand: sp.Expr
    k_integrand: sp.Expr
    boundary_primitive: sp.Expr
    boundary_residual: sp.Expr


def _ddu(expr: sp.Expr) -> sp.Expr:
    """Total u-derivative of an expression in phi1..phi4 (phi_k' = phi_{k+1})."""
    return sum((sp.diff(expr, _p[k]) * _p[k + 1] for k in range(4)), sp.Integer(0))


@functools.cache
def log_ratio_expansion() -> EMExpansion:
    r"""Derive :math:`\ln r = -J/N - K/N^3 + O(N^{-5})` by the midpoint Euler–Maclaurin formula.

    Step :math:`k` spans :math:`[u_k-h/2,u_k+h/2]` around the midpoint :math:`u_k`; Taylor:
    :math:`\Delta\varphi=\sum_{n\,\mathrm{odd}}2\varphi^{(n)}(h/2)^n/n!`. The summand
    :math:`2\ln\cos\Delta\varphi=c_2h^2+c_4h^4+O(h^6)`; the midpoint rule
    :math:`\sum_k f(u_k)=N\int_0^1f+\tfrac{B_2(1/2)}{2}h[f']_0^1+O(h^3)` [sun2026, §5.1]
    (docs/theory/gaussian.md#euler-maclaurin-expansion).

    Returns
    -------
    EMExpansion
        The step series, the J and K integrands and the proof that the :math:`N^{-3}` boundary
        terms cancel.

    Raises
    ------
    RuntimeError
        If the :math:`N^{-3}` integrand is not of the form :math:`-k+G'` (a derivation error).
    """
    dphi = sum((2 * _p[n - 1] * (_h / 2) ** n / sp.factorial(n) for n in (1, 3, 5)), sp.Integer(0))
    xx = sp.Symbol("x")
    two_log_cos = sp.series(2 * sp.log(sp.cos(xx)), xx, 0, 7).removeO()
    step = sp.expand(sp.series(two_log_cos.subs(xx, dphi), _h, 0, 5).removeO())
    c2, c4 = step.coeff(_h, 2), step.coeff(_h, 4)
    j_int = sp.expand(-c2)
    k_int = _p[0] ** 4 / 6 - _p[1] ** 2 / 12
    # c4 = -k + G' : find G = alpha phi' phi'' and check the identity exactly
    alpha = sp.Symbol("alpha")
    g_try = alpha * _p[0] * _p[1]
    (alpha_v,) = sp.solve(sp.expand(c4 + k_int - _ddu(g_try)).coeff(_p[0] * _p[2]), alpha)
    g_prim = g_try.subs(alpha, alpha_v)
    identity = sp.expand(c4 + k_int - _ddu(g_prim))
    if identity != 0:
        raise RuntimeError(f"the N^-3 integrand is not -k + G' (residual {identity})")
    # midpoint Euler–Maclaurin: sum_k f(u_k) = N int f + (B_2(1/2)/2!) h [f'] + ...;
    # f = c2 h^2 + ...
    em2 = sp.bernoulli(2, sp.Rational(1, 2)) / sp.factorial(2)
    boundary = sp.simplify(g_prim + em2 * _ddu(c2))
    return EMExpansion(step, j_int, k_int, g_prim, boundary)


@functools.cache
def kl_expansion(order: int = 4) -> dict[str, dict[int, sp.Expr]]:
    r"""Both KL directions per eigenvalue as series in :math:`1/N`.

    With :math:`x=-\ln r=B+J\epsilon+K\epsilon^3` (:math:`\epsilon=1/N`):
    :math:`KL(p\|\hat p)=\tfrac12(e^x-1-x)`, :math:`KL(\hat p\|p)=\tfrac12(e^{-x}-1+x)`
    [sun2026, §4-§5.1] (docs/theory/gaussian.md#kl-coefficients).

    Parameters
    ----------
    order
        The last power of :math:`1/N` kept.

    Returns
    -------
    dict
        ``{"kl_source_output": {power: coeff}, "kl_output_source": ...}`` in the symbols ``B``,
        ``J``, ``K``.
    """
    xv = _B + _J * _eps + _K * _eps**3
    out: dict[str, dict[int, sp.Expr]] = {}
    for name, expr in (
        ("kl_source_output", (sp.exp(xv) - 1 - xv) / 2),
        ("kl_output_source", (sp.exp(-xv) - 1 + xv) / 2),
    ):
        ser = sp.expand(sp.series(expr, _eps, 0, order + 1).removeO())
        out[name] = {k: sp.simplify(ser.coeff(_eps, k)) for k in range(order + 1)}
    return out


@functools.cache
def angle_derivatives() -> tuple[sp.Expr, sp.Expr]:
    r""":math:`\dot\varphi` and :math:`\ddot\varphi` of :math:`\varphi=\arctan(\rho(u)/s)`.

    Returns
    -------
    tuple of sympy.Expr
        Both, in the symbols ``rho, rho1, rho2`` (:math:`\rho,\dot\rho,\ddot\rho`) and ``s``.
    """
    f = sp.Function("rho")(u)
    phi = derive.angle(f)
    r0, r1, r2 = sp.symbols("rho rho1 rho2", real=True)
    subs = {sp.Derivative(f, (u, 2)): r2, sp.Derivative(f, u): r1}
    d1 = sp.simplify(sp.diff(phi, u).subs(subs).subs(f, r0))
    d2 = sp.simplify(sp.diff(phi, u, 2).subs(subs).subs(f, r0))
    return d1, d2


# ---------------------------------------------------------------------------------------------
# Numerics


@dataclass(frozen=True)
class Coefficients:
    r"""Asymptotic coefficients of one family on one spectrum.

    Attributes
    ----------
    J, K, B
        Per eigenvalue (arrays): :math:`\ln r_i=-B_i-J_i/N-K_i/N^3+O(N^{-5})`.
    kl_source_output, kl_output_source
        Coefficients of :math:`N^{-p}`, ``{p: value}`` for p = 0..4 (p = 0, 1 vanish unless B != 0).
    method
        ``"closed-form"`` or ``"quadrature"``.
    warnings
        Human-readable caveats (e.g. N too small), also written to the JSON output.
    """

    J: FloatArray
    K: FloatArray
    B: FloatArray
    kl_source_output: dict[int, float]
    kl_output_source: dict[int, float]
    method: str
    warnings: list[str] = field(default_factory=list)

    @property
    def onset_steps(self) -> float:
        r"""N above which :math:`K_i/N^3` is below 1% of :math:`J_i/N` in :math:`\ln r_i`.

        :math:`10\sqrt{\max_i|K_i|/J_i}` (the asymptotic regime; near-singular ends push it up).
        """
        return float(10 * np.sqrt(np.max(np.abs(self.K) / self.J)))


def _family_syms(fam: Family) -> tuple[tuple[sp.Symbol, ...], tuple[float, ...]]:
    syms = tuple(sorted(fam.values, key=lambda q: q.name))
    return syms, tuple(float(fam.values[q]) for q in syms)


@functools.cache
def _rho_derivs(rho_expr: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    return rho_expr, sp.diff(rho_expr, u), sp.diff(rho_expr, u, 2)


@overload
def _angle_funcs(
    fam: Family, backend: Literal["numpy"]
) -> tuple[NumpyFunction, NumpyFunction, tuple[float, ...]]: ...
@overload
def _angle_funcs(
    fam: Family, backend: Literal["mpmath"]
) -> tuple[MpmathFunction, MpmathFunction, tuple[float, ...]]: ...
def _angle_funcs(
    fam: Family, backend: Literal["numpy", "mpmath"]
) -> (
    tuple[NumpyFunction, NumpyFunction, tuple[float, ...]]
    | tuple[MpmathFunction, MpmathFunction, tuple[float, ...]]
):
    syms, vals = _family_syms(fam)
    r0, r1, r2 = sp.symbols("rho rho1 rho2", real=True)
    d1, d2 = angle_derivatives()
    rho_e, rho1_e, rho2_e = _rho_derivs(fam.rho)
    e1 = d1.subs({r0: rho_e, r1: rho1_e})
    e2 = d2.subs({r0: rho_e, r1: rho1_e, r2: rho2_e})
    if backend == "mpmath":
        return (
            numeric.lambdify((u, s, *syms), e1, "mpmath"),
            numeric.lambdify((u, s, *syms), e2, "mpmath"),
            vals,
        )
    return (
        numeric.lambdify((u, s, *syms), e1, "numpy"),
        numeric.lambdify((u, s, *syms), e2, "numpy"),
        vals,
    )


# numpy ships leggauss untyped: the nodes and weights of the n-point Gauss–Legendre rule
_leggauss = cast(Callable[[int], tuple[FloatArray, FloatArray]], np.polynomial.legendre.leggauss)


@functools.cache
def _gl(n: int) -> tuple[FloatArray, FloatArray]:
    return _leggauss(n)


INTERPOLATE_ABOVE = 16_384
"""Spectra with more distinct eigenvalues than this get J and K by interpolation in log lambda.

The quadrature costs (nodes x eigenvalues) evaluations, about 1 700 per eigenvalue: a million
eigenvalues took minutes. Above this size :func:`_quadrature_numpy` evaluates J and K on a
log-spaced grid of eigenvalues and interpolates (:func:`_interpolated`)."""
INTERPOLATION_RTOL = 1e-10
"""Accuracy the interpolation must reach at its check points: ``log J`` to this absolute error
(so J to this relative error) and ``K / J`` to this times ``max(1, |K / J|)``: the agreement the
project asks of every float64 path with its 40-digit reference."""
_MAX_GRID = 65_537  # largest interpolation grid (then the direct quadrature is used)


def _quadrature_numpy(
    fam: Family, lam_v: FloatArray, panels: int, order: int
) -> tuple[FloatArray, FloatArray]:
    r"""Composite Gauss–Legendre in u (``panels`` x ``order`` interior nodes).

    Endpoints are never evaluated.

    The family's :math:`\rho,\dot\rho,\ddot\rho` are evaluated once per node; only the derived
    angle derivatives :func:`angle_derivatives` are evaluated per (node, eigenvalue). A spectrum
    of more than :data:`INTERPOLATE_ABOVE` distinct eigenvalues is interpolated from a checked
    grid (:func:`_interpolated`).
    """
    if lam_v.size <= INTERPOLATE_ABOVE:
        return _quadrature_direct(fam, lam_v, panels, order)
    lam_u, inverse = np.unique(lam_v, return_inverse=True)
    if lam_u.size <= INTERPOLATE_ABOVE:
        J, K = _quadrature_direct(fam, lam_u, panels, order)
    else:
        J, K = _interpolated(fam, lam_u, panels, order)
    return J[inverse], K[inverse]


def _interpolated(
    fam: Family, lam_u: FloatArray, panels: int, order: int
) -> tuple[FloatArray, FloatArray]:
    r"""J and K of sorted distinct ``lam_u`` by cubic-spline interpolation in :math:`\log\lambda`.

    :math:`\log J` and :math:`K/J` are smooth and bounded functions of :math:`\log\lambda` (both
    J and K scale as :math:`\lambda` for :math:`\lambda\to0` and as :math:`1/\lambda` for
    :math:`\lambda\to\infty`). They are computed by the quadrature on a log-spaced grid spanning
    the spectrum, checked at the grid's midpoints against the quadrature itself, and the grid is
    refined (the checked midpoints join it) until the check passes to
    :data:`INTERPOLATION_RTOL`. If it does not by ``_MAX_GRID`` points, or J underflows to 0, the
    direct quadrature is used.
    """
    from scipy.interpolate import CubicSpline

    t_lo, t_hi = math.log(lam_u[0]), math.log(lam_u[-1])
    m = max(257, 2 * math.ceil(16 * (t_hi - t_lo)) + 1)
    t = np.linspace(t_lo, t_hi, m)
    ends = np.exp(t)
    ends[[0, -1]] = lam_u[[0, -1]]  # the spectrum's own extremes, not their exp(log(.))
    J, K = _quadrature_direct(fam, ends, panels, order)
    while m <= min(_MAX_GRID, lam_u.size // 2):  # else the direct quadrature is cheaper
        mid = (t[:-1] + t[1:]) / 2
        Jm, Km = _quadrature_direct(fam, np.exp(mid), panels, order)
        if not ((J > 0).all() and (Jm > 0).all()):
            break
        log_j, k_over_j = CubicSpline(t, np.log(J)), CubicSpline(t, K / J)
        err_j = np.abs(log_j(mid) - np.log(Jm)).max()
        err_k = (np.abs(k_over_j(mid) - Km / Jm) / np.maximum(1.0, np.abs(Km / Jm))).max()
        if max(err_j, err_k) <= INTERPOLATION_RTOL:
            tu = np.log(lam_u)
            J_u = np.exp(log_j(tu))
            J_u[[0, -1]] = J[[0, -1]]  # the ends are grid points: exact
            K_u = J_u * k_over_j(tu)
            K_u[[0, -1]] = K[[0, -1]]
            return J_u, K_u
        # refine: the midpoints join the grid (already evaluated), the next check is at the new
        # midpoints
        m = 2 * m - 1
        t_new = np.empty(m)
        t_new[0::2], t_new[1::2] = t, mid
        J_new, K_new = np.empty(m), np.empty(m)
        J_new[0::2], J_new[1::2] = J, Jm
        K_new[0::2], K_new[1::2] = K, Km
        t, J, K = t_new, J_new, K_new
    return _quadrature_direct(fam, lam_u, panels, order)


def _quadrature_direct(
    fam: Family, lam_v: FloatArray, panels: int, order: int
) -> tuple[FloatArray, FloatArray]:
    """The composite Gauss–Legendre quadrature of J and K at every eigenvalue of ``lam_v``."""
    syms, vals = _family_syms(fam)
    r0, r1, r2 = sp.symbols("rho rho1 rho2", real=True)
    d1, d2 = angle_derivatives()
    g1 = numeric.lambdify((r0, r1, s), d1, "numpy")
    g2 = numeric.lambdify((r0, r1, r2, s), d2, "numpy")
    rho_fs = [numeric.lambdify((u, *syms), e, "numpy") for e in _rho_derivs(fam.rho)]
    x, w = _gl(order)
    # uniform panels plus geometrically graded ones towards both ends (ratio 2 down to 2^-40 of a
    # panel): near-singular ends (rho ~ sqrt(t - t_min)) have features as narrow as t_min in u
    grade = 2.0 ** -np.arange(1, 41) / panels
    edges = np.unique(np.concatenate([np.linspace(0.0, 1.0, panels + 1), grade, 1.0 - grade]))
    half = np.diff(edges) / 2
    nodes = (edges[:-1, None] + half[:, None] * (x[None, :] + 1)).ravel()
    weights = (half[:, None] * w[None, :]).ravel()
    s_v = np.sqrt(lam_v)
    J = np.zeros_like(lam_v)
    K = np.zeros_like(lam_v)
    chunk = max(1, (1 << 20) // nodes.size)
    rv, rv1, rv2 = (np.asarray(f(nodes, *vals), dtype=np.float64)[None, :] for f in rho_fs)
    for c0 in range(0, lam_v.size, chunk):
        sc = s_v[c0 : c0 + chunk, None]
        p1 = g1(rv, rv1, sc)
        p2 = g2(rv, rv1, rv2, sc)
        J[c0 : c0 + chunk] = (p1**2) @ weights
        K[c0 : c0 + chunk] = (p1**4 / 6 - p2**2 / 12) @ weights
    bad = ~(np.isfinite(J) & np.isfinite(K))
    if bad.any():
        raise ValueError(
            f"{fam.name}: the angle derivatives are not finite on (0, 1) at eigenvalue "
            f"{float(lam_v[bad][0]):g}: the expansion does not apply there, or that eigenvalue is "
            "too extreme for the float64 quadrature"
        )
    return J, K


def _quadrature_mpmath(
    fam: Family, lam_v: FloatArray, dps: int
) -> tuple[list[MpmathNumber], list[MpmathNumber]]:
    """tanh-sinh quadrature at ``dps`` digits, split where rho = sqrt(lam) (the fastest turn)."""
    _syms, vals = _family_syms(fam)
    f1, f2, _ = _angle_funcs(fam, "mpmath")
    Js: list[MpmathNumber] = []
    Ks: list[MpmathNumber] = []
    with mpmath.workdps(dps):
        mvals = [mpmath.mpf(v) if math.isfinite(v) else mpmath.inf for v in vals]
        for lv in lam_v:
            sv = mpmath.sqrt(mpmath.mpf(float(lv)))
            pts = [mpmath.mpf(0)]
            try:
                um = float(fam.progress_of([math.sqrt(float(lv))])[0])
                if 0 < um < 1:
                    pts.append(mpmath.mpf(um))
            except (ValueError, TypeError, ZeroDivisionError):
                pass
            pts.append(mpmath.mpf(1))
            Js.append(mpmath.quad(lambda q, sv=sv: f1(q, sv, *mvals) ** 2, pts))
            Ks.append(
                mpmath.quad(
                    lambda q, sv=sv: f1(q, sv, *mvals) ** 4 / 6 - f2(q, sv, *mvals) ** 2 / 12, pts
                )
            )
    return Js, Ks


_k = sp.Symbol("k", positive=True)  # c / sqrt(lam)
_x = sp.Symbol("x", positive=True)  # level / c
_D = sp.Symbol("D", positive=True)  # angle span atan(sigma_max/c) - atan(sigma_min/c)


@functools.cache
def _tangent_closed_form() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    r"""J and K of the tangent family as antiderivatives in :math:`x=\rho/c` (SymPy ``integrate``).

    :math:`|\dot\rho|` and :math:`\ddot\rho` as functions of the level come from the family's
    closed-form inverse :math:`u(\rho)` (:math:`|\dot\rho|=D(c^2+\rho^2)/c`), so that
    :math:`J=\int\dot\varphi^2\,d\rho/|\dot\rho|` and
    :math:`K=\int(\dot\varphi^4/6-\ddot\varphi^2/12)\,d\rho/|\dot\rho|` are rational integrals in
    :math:`x` with :math:`k=c/\sqrt\lambda`. Returns ``(FJ, FK, FJ_inf, FK_inf)`` in ``x, k, D``:
    antiderivatives and their limits at infinity.
    """
    from symsched.schedules.families import tangent as tangent_family
    from symsched.symbols import c, sigma_max, sigma_min

    fam = tangent_family(1.0, 0.5, 2.0)  # only the symbolic form is used
    inv = fam.progress_of_rho
    r1 = sp.simplify(
        -sp.diff(fam.rho, u).subs(u, inv)
    )  # |rho'| as a function of the level (rho' < 0)
    r2 = sp.simplify(sp.diff(-r1, level) * (-r1))  # rho'' = d(rho')/d rho * rho'
    span = sp.atan(sigma_max / c) - sp.atan(sigma_min / c)
    d1, d2 = angle_derivatives()
    rr0, rr1, rr2 = sp.symbols("rho rho1 rho2", real=True)
    p1 = d1.subs({rr0: level, rr1: -r1})
    p2 = d2.subs({rr0: level, rr1: -r1, rr2: r2})
    to_x = {level: c * _x, s: c / _k}
    # d rho = c dx
    jint = sp.factor(sp.cancel((p1**2 / r1).subs(span, _D).subs(to_x) * c))
    kint = sp.factor(sp.cancel(((p1**4 / 6 - p2**2 / 12) / r1).subs(span, _D).subs(to_x) * c))
    if not ({_x, _k, _D} >= jint.free_symbols | kint.free_symbols):
        raise RuntimeError("the tangent-family integrands did not reduce to x, k, D")
    fj = sp.integrate(jint, _x)
    fk = sp.integrate(kint, _x)
    return fj, fk, sp.limit(fj, _x, sp.oo), sp.limit(fk, _x, sp.oo)


def _tangent_coefficients(fam: Family, lam_v: FloatArray) -> tuple[FloatArray, FloatArray]:
    fj, fk, fj_inf, fk_inf = _tangent_closed_form()
    cv = float(fam.params["c"])
    lo, hi = fam.sigma_min, fam.sigma_max
    kv = cv / np.sqrt(lam_v)
    dv = (math.pi / 2 if math.isinf(hi) else math.atan(hi / cv)) - math.atan(lo / cv)
    out = []
    for f_expr, f_inf in ((fj, fj_inf), (fk, fk_inf)):
        f = numeric.lambdify((_x, _k, _D), f_expr, "numpy")
        top = (
            numeric.lambdify((_k, _D), f_inf, "numpy")(kv, dv)
            if math.isinf(hi)
            else f(hi / cv, kv, dv)
        )
        out.append(np.asarray(top - f(lo / cv, kv, dv), dtype=np.float64))
    return out[0], out[1]


def check_smooth(fam: Family, eigenvalues: SpectrumLike) -> None:
    r"""Raise ``ValueError`` unless :math:`\dot\varphi_i,\ddot\varphi_i` stay bounded at both ends.

    Probes :math:`u=10^{-4},10^{-6},10^{-8}` from each end: a growth of :math:`|\ddot\varphi|` by
    more than 10x over those four decades means a singular endpoint (e.g.
    :math:`\rho\propto\sqrt{t}`), where :math:`J` or :math:`K` diverges and the KL is not
    :math:`\Theta(N^{-2})` with these terms (docs/theory/gaussian.md#smoothness-condition).

    Parameters
    ----------
    fam
        The schedule family.
    eigenvalues
        The eigenvalues to probe (typically the smallest and the largest of the spectrum).

    Raises
    ------
    ValueError
        If an angle derivative is not finite or grows without bound at an end.
    """
    lam_v = as_eigenvalues(eigenvalues)
    # in 30-digit arithmetic: at an extreme eigenvalue (1e-300) the float64 terms of the second
    # derivative underflow and would read as a singularity
    f1, f2, vals = _angle_funcs(fam, "mpmath")
    probes = [mpmath.mpf("1e-4"), mpmath.mpf("1e-6"), mpmath.mpf("1e-8")]
    with mpmath.workdps(30):
        pars = [mpmath.mpf(v) for v in vals]  # floats would underflow in products such as c**4
        for end, uu in (("sigma_max", probes), ("sigma_min", [1 - p for p in probes])):
            for lv in lam_v:
                sv = mpmath.sqrt(mpmath.mpf(float(lv)))
                d1 = [abs(f1(x, sv, *pars)) for x in uu]
                d2 = [abs(f2(x, sv, *pars)) for x in uu]
                bad = not all(mpmath.isfinite(v) for v in d1 + d2)
                # floor: round-off of a vanishing second derivative must not count as growth
                floor = 1e-3 * (1 + max(d1)) if not bad else 0
                if bad or d2[2] > 10 * d2[0] + floor or d1[2] > 10 * d1[0] + floor:
                    raise ValueError(
                        f"{fam.name} with {dict(fam.params)} is not smooth at {end} (the angle "
                        "derivative grows without bound there), so the Euler–Maclaurin expansion "
                        "does not apply; use a positive --sigma-min / a t_min > 0 or a smooth "
                        "family"
                    )


def coefficients(
    eigenvalues: SpectrumLike,
    fam: Family,
    *,
    start: str = "exact",
    method: str = "auto",
    panels: int = 128,
    order: int = 8,
) -> Coefficients:
    r"""J, K, B per eigenvalue and the KL coefficients of :math:`N^{0..-4}` [sun2026, §5.1].

    Parameters
    ----------
    eigenvalues
        Covariance eigenvalues.
    fam
        A schedule family (:mod:`symsched.schedules.families`), evaluated on the uniform grid
        ``u = k/N``.
    start
        ``"exact"`` or ``"prior"``; ``"prior"`` with a finite sigma_max adds :math:`B_i`.
    method
        ``"auto"`` (closed form for the tangent family, quadrature otherwise), ``"closed-form"``,
        ``"quadrature"``.
    panels, order
        Composite Gauss–Legendre size for quadrature.

    Returns
    -------
    Coefficients
        J, K, B per eigenvalue and the KL coefficients of both directions
        (docs/theory/gaussian.md#kl-coefficients).

    Raises
    ------
    ValueError
        If an argument is invalid, the family is not smooth at an end
        (:func:`check_smooth`), or ``method="closed-form"`` for a family without one.
    TypeError
        If ``fam`` is not a :class:`~symsched.schedules.families.Family`.
    """
    lam_v = as_eigenvalues(eigenvalues)
    start_v = cast("Start", check_choice(start, "start", ("exact", "prior")))
    check_choice(method, "method", ("auto", "closed-form", "quadrature"))
    if not isinstance(fam, Family):
        raise TypeError(
            f"fam must be a symsched.schedules.families.Family, got {type(fam).__name__}"
        )
    check_smooth(fam, lam_v[[int(np.argmin(lam_v)), int(np.argmax(lam_v))]])
    use_closed = fam.name == "tangent" and method in ("auto", "closed-form")
    if method == "closed-form" and fam.name != "tangent":
        raise ValueError(f"no closed form for family {fam.name!r}; use method='quadrature'")
    if use_closed:
        J, K = _tangent_coefficients(fam, lam_v)
    else:
        J, K = _quadrature_numpy(
            fam, lam_v, check_steps(panels, "panels"), check_steps(order, "order")
        )
    hi = fam.sigma_max
    B = -np.asarray(start_log_ratio(lam_v, hi, start_v), dtype=np.float64)  # 0 unless prior start
    kl_c = _kl_coefficients(J, K, B)
    return Coefficients(
        J,
        K,
        B,
        kl_c["kl_source_output"],
        kl_c["kl_output_source"],
        "closed-form" if use_closed else "quadrature",
    )


def _kl_coefficients(J: FloatArray, K: FloatArray, B: FloatArray) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for name, coeffs in kl_expansion().items():
        out[name] = {}
        for p, expr in coeffs.items():
            f = numeric.lambdify((_B, _J, _K), expr, "numpy")
            out[name][p] = float(np.sum(f(B, J, K)))
    return out


def coefficients_mpmath(
    eigenvalues: SpectrumLike, fam: Family, *, dps: int = 40
) -> tuple[list[MpmathNumber], list[MpmathNumber]]:
    """J and K at ``dps`` digits by tanh-sinh quadrature.

    The high-precision path of :func:`coefficients`.

    Parameters
    ----------
    eigenvalues
        The covariance spectrum.
    fam
        The schedule family.
    dps
        The working precision in decimal digits.

    Returns
    -------
    tuple of list of MpmathNumber
        ``(J, K)``, one mpmath number per eigenvalue.

    Raises
    ------
    ValueError
        If the eigenvalues are invalid.
    """
    lam_v = as_eigenvalues(eigenvalues)
    return _quadrature_mpmath(fam, lam_v, dps)


def predicted_log_ratio(coef: Coefficients, steps: int, order: int = 3) -> FloatArray:
    """Truncated expansion of ln r_i at N = ``steps``: through N^-1 (order 1) or N^-3 (order 3).

    Parameters
    ----------
    coef
        The coefficients of :func:`coefficients`.
    steps
        The number of steps N.
    order
        1 or 3.

    Returns
    -------
    FloatArray
        :math:`-B_i-J_i/N` (order 1) or :math:`-B_i-J_i/N-K_i/N^3` (order 3), per eigenvalue.

    Raises
    ------
    ValueError
        If ``steps`` or ``order`` is invalid.
    """
    n = check_steps(steps)
    if order not in (1, 3):
        raise ValueError(f"order must be one of 1, 3; got {order!r}")
    out = -coef.B - coef.J / n
    return out - coef.K / n**3 if order == 3 else out


def predicted_kl(
    coef: Coefficients, steps: int, order: int = 4, direction: str = "kl_source_output"
) -> float:
    """Truncated KL expansion at N = ``steps`` through N^-``order`` (0..4).

    Parameters
    ----------
    coef
        The coefficients of :func:`coefficients`.
    steps
        The number of steps N.
    order
        The last power of :math:`1/N` kept (0..4).
    direction
        ``"kl_source_output"`` or ``"kl_output_source"``.

    Returns
    -------
    float
        The truncated series.

    Raises
    ------
    ValueError
        If ``steps`` or ``direction`` is invalid.
    """
    n = check_steps(steps)
    check_choice(direction, "direction", ("kl_source_output", "kl_output_source"))
    c = getattr(coef, direction)
    return float(sum(c[p] / n**p for p in range(order + 1)))


def small_n_warnings(coef: Coefficients, steps: int) -> list[str]:
    r"""Warn when N is too small: the expansion parameter is the angle step :math:`\sqrt{J_i}/N`.

    Parameters
    ----------
    coef
        The coefficients of :func:`coefficients`.
    steps
        The number of steps N.

    Returns
    -------
    list of str
        The warnings (each also issued with :func:`warnings.warn`): the largest angle step above
        0.5 rad, or N below :attr:`Coefficients.onset_steps`.
    """
    n = check_steps(steps)
    worst = float(np.sqrt(coef.J.max())) / n
    out = []
    if worst > 0.5:
        out.append(
            f"N = {n} is too small for the expansion: the largest angle step sqrt(J)/N = "
            f"{worst:.2f} rad exceeds 0.5, so the truncated series is not accurate"
        )
    if n < coef.onset_steps:
        out.append(
            f"N = {n} is below the asymptotic onset N* = {coef.onset_steps:.3g} "
            "(10 sqrt(max |K|/J)): the N^-3 term is not yet small; expect a large remainder"
        )
    for msg in out:
        warnings.warn(msg, stacklevel=2)
    return out


def derivation() -> list[Step]:
    """Steps of the Euler–Maclaurin derivation (printed by the notebook and the CLI).

    Returns
    -------
    list of Step
        From the step series to the KL coefficients [sun2026, §5.1].
    """
    from symsched.gaussian.derive import Step

    em = log_ratio_expansion()
    kls = kl_expansion()
    p1, p2 = sp.symbols("phi' phi''")
    ren = {_p[0]: p1, _p[1]: p2, _p[2]: sp.Symbol("phi'''")}
    return [
        Step(
            "2 ln cos(dphi) of one step, dphi Taylor-expanded about the midpoint (h = 1/N)",
            sp.Eq(sp.Symbol("2 ln cos dphi"), em.step_series.subs(ren)),
        ),
        Step("J integrand (coefficient of -h^2)", sp.Eq(sp.Symbol("j"), em.j_integrand.subs(ren))),
        Step(
            "K integrand after integrating phi' phi''' by parts",
            sp.Eq(sp.Symbol("k"), em.k_integrand.subs(ren)),
        ),
        Step(
            "N^-3 boundary terms: [G + B_2(1/2)/2 (c_2)']_0^1 with integrand",
            sp.Eq(sp.Symbol("residual"), em.boundary_residual),
        ),
        Step(
            "ln r = -B - J/N - K/N^3 + O(N^-5)", sp.Eq(sp.Symbol("ln r"), -_B - _J / N - _K / N**3)
        ),
        *[
            Step(f"{name}: coefficient of N^-{p}", sp.Eq(sp.Symbol(f"c_{p}"), e))
            for name, cs in kls.items()
            for p, e in cs.items()
        ],
    ]
