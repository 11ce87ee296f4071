r"""Calculus of variations for the dominant KL term, and the exact finite-N optimum.

[sun2026, §5.2-§5.3] (docs/theory/gaussian.md#three-optima). The dominant KL term is
:math:`\frac1{4N^2}\sum_iJ_i^2`, :math:`J_i=\int_0^1\dot\varphi_i^2du`
(:mod:`symsched.gaussian.asymptotics`).

* One eigenvalue: the Euler–Lagrange equation of :math:`\int\dot\varphi^2` is :math:`\ddot\varphi=0`
  (:func:`euler_lagrange_single`), so :math:`\varphi` is linear in u: the tangent law.
* (a) Tangent family with :math:`\gamma^\star` (:mod:`symsched.gaussian.tangent`).
* (b) Unrestricted optimum (:func:`geodesic`): stationarity of :math:`\sum_iJ_i^2` is the
  Euler–Lagrange equation of :math:`\int\dot\rho^2g_w(\rho)du`,
  :math:`g_w=\sum_iw_i\lambda_i/(\lambda_i+\rho^2)^2`, with self-consistent weights
  :math:`w_i\propto J_i`; its Beltrami first integral
  (:func:`beltrami_first_integral`) makes the schedule a constant-speed geodesic of the metric
  :math:`g_w`: :math:`\int_\rho^{\sigma_{\max}}\sqrt{g_w}\,d\rho=u\,L_w`. Then
  :math:`J_i(w)=L_w\int m_i/\sqrt{g_w}\,d\rho` (:math:`m_i=\lambda_i/(\lambda_i+\rho^2)^2`), and the
  weights are found by the fixed point :math:`w\leftarrow J(w)/\sum J(w)` to 1e-10.
* (c) Exact finite-N optimum (:func:`kl_optimal`): the exact KL minimised over the N-1 interior
  levels in :math:`x_j=\ln\rho_j` by L-BFGS with the analytic gradient assembled from the derived
  step derivatives :func:`symsched.gaussian.derive.log_cos2_step_derivatives`.

References
----------
.. [sun2026] arXiv:2601.13602, §5.2-§5.3 (docs/theory/gaussian.md#three-optima).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import numpy as np
import sympy as sp
from threadpoolctl import threadpool_limits

from symsched import numeric
from symsched._typing import ArrayLike, FloatArray, GridLike, NumpyFunction, SpectrumLike
from symsched._validate import (
    as_eigenvalues,
    as_grid,
    check_choice,
    check_endpoints,
    check_steps,
)
from symsched.gaussian import derive
from symsched.gaussian.compress import (
    RTOL,
    Agreement,
    CompressedSpectrum,
    agreement,
    check_fallback_memory,
    exact_grouping,
    spectrum_for_optimiser,
)
from symsched.samplers import start_log_ratio
from symsched.samplers._stable import EIGENVALUE_WINDOW, LEVEL_WINDOW
from symsched.symbols import a, b, lam, s, u

__all__ = [
    "GEODESIC_BLOCK",
    "Geodesic",
    "KLOptimum",
    "beltrami_first_integral",
    "euler_lagrange_single",
    "exact_kl_and_gradient",
    "geodesic",
    "kl_optimal",
    "quadrature_size",
]


# ---------------------------------------------------------------------------------------------
# Symbolic Euler–Lagrange


@functools.cache
def euler_lagrange_single() -> tuple[sp.Expr, sp.Expr]:
    r"""Euler–Lagrange equation of :math:`\int_0^1\dot\varphi^2du` and its solution [sun2026, §5.2].

    Returns
    -------
    tuple of sympy.Expr
        ``(equation_lhs, rho_of_u)``: :math:`-2\ddot\varphi` (= 0) and the solution with
        :math:`\varphi(0)=\varphi_{\max}`, :math:`\varphi(1)=\varphi_{\min}` mapped back to
        :math:`\rho=\sqrt\lambda\tan\varphi` — the tangent law
        (docs/theory/gaussian.md#tangent-law).
    """
    from sympy.calculus.euler import euler_equations

    phi = sp.Function("phi")
    (eq,) = euler_equations(sp.diff(phi(u), u) ** 2, phi(u), u)
    pmax, pmin = sp.symbols("phi_max phi_min", real=True)
    sol = sp.dsolve(eq, phi(u), ics={phi(0): pmax, phi(1): pmin}).rhs
    return eq.lhs, sp.sqrt(lam) * sp.tan(sp.expand(sol))


@functools.cache
def beltrami_first_integral() -> tuple[sp.Expr, sp.Expr]:
    r"""Euler–Lagrange residual and Beltrami identity of :math:`\int\dot\rho^2g(\rho)du`.

    :math:`H=\dot\rho\,\partial L/\partial\dot\rho-L=\dot\rho^2g(\rho)`; ``dH/du`` equals
    :math:`\dot\rho\times` the EL expression, so H is constant on solutions: constant speed in the
    metric g, i.e. :math:`\int\sqrt g\,d\rho\propto u` [sun2026, §5.3(b)]
    (docs/theory/gaussian.md#b-self-consistent-weighted-geodesic).

    Returns
    -------
    tuple of sympy.Expr
        ``(el_residual, beltrami)``: the Euler–Lagrange expression and :math:`H`.

    Raises
    ------
    RuntimeError
        If the Beltrami identity does not simplify to 0 (a derivation error).
    """
    from sympy.calculus.euler import euler_equations

    rho_f = sp.Function("rho")(u)
    g = sp.Function("g")
    lagr = sp.diff(rho_f, u) ** 2 * g(rho_f)
    (eq,) = euler_equations(lagr, rho_f, u)
    h = sp.simplify(sp.diff(rho_f, u) * sp.diff(lagr, sp.diff(rho_f, u)) - lagr)
    check = sp.simplify(sp.diff(h, u) + sp.diff(rho_f, u) * eq.lhs)
    if check != 0:
        raise RuntimeError(f"Beltrami identity failed: {check}")
    return eq.lhs, h


# ---------------------------------------------------------------------------------------------
# (b) the self-consistent weighted geodesic

_TAIL = 18.0  # e-folds beyond sqrt(lam_min), sqrt(lam_max): tail corrections are exact to O(e^-36)
_PANEL = 0.25  # panel width in ln(rho)
_ORDER = 8  # Gauss–Legendre nodes per panel
# numpy ships leggauss untyped: the nodes and weights of the n-point Gauss–Legendre rule
_leggauss = cast(Callable[[int], tuple[FloatArray, FloatArray]], np.polynomial.legendre.leggauss)


@functools.cache
def _metric_density() -> sp.Expr:
    r""":math:`m(\rho;\lambda)=\dot\varphi^2/\dot\rho^2=\lambda/(\lambda+\rho^2)^2`, derived."""
    rho_f = sp.Function("rho")(u)
    phi = derive.angle(rho_f).subs(s, sp.sqrt(lam))
    r = sp.Symbol("rho_value", positive=True)
    dens = sp.simplify(sp.diff(phi, u) ** 2 / sp.diff(rho_f, u) ** 2).subs(rho_f, r)
    return sp.simplify(dens)


def _m(levels: FloatArray, lam_v: FloatArray) -> FloatArray:
    r = sp.Symbol("rho_value", positive=True)
    return numeric.lambdify((r, lam), _metric_density(), "numpy")(levels[:, None], lam_v[None, :])


@dataclass(frozen=True)
class Geodesic:
    r"""The unrestricted optimum (b) of the dominant term on ``[sigma_min, sigma_max]``.

    Attributes
    ----------
    eigenvalues, sigma_min, sigma_max
        The problem.
    weights
        Self-consistent weights :math:`w_i=J_i/\sum_jJ_j`.
    J
        :math:`J_i` of the optimal schedule.
    residual
        :math:`\max_i|w_i-J_i/\sum J|` of the fixed point on the spectrum it iterated on
        (:attr:`compression`).
    iterations
        Fixed-point iterations used.
    compression
        The spectrum the fixed point iterated on: the compressed spectrum
        (:func:`symsched.gaussian.compress.compress_spectrum`) or the exact grouping of equal
        eigenvalues (``exact_spectrum``, a spectrum too small to compress, or after a fallback).
        :attr:`weights`, :attr:`J` and :attr:`dominant_coefficient` are always those of the full
        spectrum, in the metric the fixed point found; the grids use that metric.
    agreement
        The dominant coefficient on the compressed spectrum against the full one (``None`` when
        the fixed point iterated on the exact grouping from the start).
    metric_error
        The largest relative difference, over the quadrature nodes, between the metric of the
        compressed fixed point and the metric of the full spectrum's weights :math:`J_i/\sum J`
        (0 for the exact grouping): with :attr:`agreement`, the check that the compression did not
        move the fixed point.
    fell_back
        Whether a check exceeded :data:`~symsched.gaussian.compress.RTOL`, so the fixed point was
        redone on the exact grouping.
    """

    eigenvalues: FloatArray
    sigma_min: float
    sigma_max: float
    weights: FloatArray
    J: FloatArray
    residual: float
    iterations: int
    _nodes: FloatArray
    _qw: FloatArray
    _edges: FloatArray
    _panel_integrals: FloatArray
    _length: float
    _tails: tuple[float, float, float]
    _distinct: FloatArray  # the values of the metric (distinct eigenvalues or compressed nodes)
    _distinct_weights: FloatArray  # and the total weight of each: g = sum_j w_j m(rho; lambda_j)
    compression: CompressedSpectrum | None = field(default=None, repr=False)
    agreement: Agreement | None = None
    metric_error: float = 0.0
    fell_back: bool = False

    @property
    def dominant_coefficient(self) -> float:
        r""":math:`\tfrac14\sum_iJ_i^2`, the coefficient of :math:`N^{-2}` of both KL directions."""
        return float(np.sum(self.J**2) / 4)

    def grid(self, steps: int) -> FloatArray:
        r"""N-step grid: levels :math:`\rho_k` at equal steps of the length :math:`L`.

        :math:`\int_{\rho_k}^{\sigma_{\max}}\sqrt{g}\,d\rho=kL/N`.

        :math:`S(\rho)` is exact panel sums plus Gauss–Legendre on the partial panel; each level is
        the root of the monotone :math:`S(\rho)-kL/N` (Brent), or the closed-form tail inverse.

        Parameters
        ----------
        steps
            The number of steps N.

        Returns
        -------
        FloatArray
            The N+1 levels from ``sigma_max`` to ``sigma_min``, descending.

        Raises
        ------
        ValueError
            If ``steps`` is not a positive integer.
        """
        from scipy.optimize import brentq

        n = check_steps(steps)
        top_tail, bottom_tail, g0 = self._tails
        edges, pan_int = self._edges, self._panel_integrals
        above = top_tail + np.concatenate([np.cumsum(pan_int[::-1])[::-1], [0.0]])  # S at each edge
        lam_u, w_u = self._distinct, self._distinct_weights
        s_top = math.sqrt(float(np.sum(w_u * lam_u)))
        x, wq = _leggauss(_ORDER)

        def s_of(v: float, p: int) -> float:
            half = (edges[p + 1] - v) / 2
            vv = v + half * (x + 1)
            rr = np.exp(vv)
            sg = np.sqrt(_m(rr, lam_u) @ w_u)
            return float(above[p + 1] + half * (wq @ (sg * rr)))

        out = [self.sigma_max]
        for k in range(1, n):
            tgt = k / n * self._length
            if tgt <= top_tail:  # above rho_hi: S(rho) = sqrt(sum w lam) / rho (g ~ rho^-4 tail)
                out.append(s_top / tgt)
                continue
            if tgt >= self._length - bottom_tail:  # below rho_lo: L - S(rho) = rho sqrt(g(0))
                out.append((self._length - tgt) / g0)
                continue
            p = int(np.searchsorted(-above, -tgt, side="right")) - 1  # above[p] >= tgt > above[p+1]
            p = min(max(p, 0), edges.size - 2)
            v = brentq(
                lambda vv, p=p, tgt=tgt: s_of(vv, p) - tgt,
                edges[p],
                edges[p + 1],
                xtol=1e-14,
                rtol=1e-15,
            )
            out.append(math.exp(v))
        out.append(self.sigma_min)
        return as_grid(np.array(out))


def _quadrature_range(lam: FloatArray, lo: float, hi: float) -> tuple[float, float, bool, bool]:
    """The ln(rho) interval the geodesic's Gauss rule covers and whether each end has its
    closed-form tail: [ln lo, ln hi], an end replaced by :data:`_TAIL` e-folds beyond
    sqrt(lam_min) or sqrt(lam_max) where it lies further out (0 and inf included)."""
    v_lo = math.log(math.sqrt(lam.min())) - _TAIL
    v_hi = math.log(math.sqrt(lam.max())) + _TAIL
    tail_lo = lo == 0.0 or math.log(lo) < v_lo
    tail_hi = math.isinf(hi) or math.log(hi) > v_hi
    a_lo = v_lo if tail_lo else math.log(lo)
    a_hi = v_hi if tail_hi else math.log(hi)
    return a_lo, a_hi, tail_lo, tail_hi


def _panels(lo: float, hi: float) -> int:
    return max(1, math.ceil((hi - lo) / _PANEL))


def quadrature_size(eigenvalues: FloatArray, sigma_min: float, sigma_max: float) -> int:
    """The number of Gauss nodes of :func:`geodesic`'s quadrature in ln(rho) for a (valid,
    positive) spectrum and ends: :data:`_ORDER` per :data:`_PANEL` of its interval.

    Parameters
    ----------
    eigenvalues
        The spectrum (finite, positive).
    sigma_min, sigma_max
        The ends, as :func:`geodesic` takes them (0 and inf: the closed-form tails).

    Returns
    -------
    int
        The node count, which sizes the fixed point's (nodes x spectrum) matrices.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    a_lo, a_hi, _, _ = _quadrature_range(lam, sigma_min, sigma_max)
    return _ORDER * _panels(a_lo, a_hi)


def _nodes_weights(lo: float, hi: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    n_pan = _panels(lo, hi)
    x, w = _leggauss(_ORDER)
    edges = np.linspace(lo, hi, n_pan + 1)
    half = np.diff(edges) / 2
    v = (edges[:-1, None] + half[:, None] * (x[None, :] + 1)).ravel()
    wt = (half[:, None] * w[None, :]).ravel()
    return np.exp(v), wt, edges


def geodesic(
    eigenvalues: SpectrumLike,
    sigma_min: float = 0.0,
    sigma_max: float = math.inf,
    *,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    exact_spectrum: bool = False,
) -> Geodesic:
    r"""Unrestricted optimum (b): the self-consistent weighted geodesic [sun2026, §5.3(b)].

    Fixed point :math:`w\leftarrow J(w)/\sum J(w)` on the simplex, with the quadrature of
    :math:`J_i(w)=L_w\int m_i/\sqrt{g_w}d\rho` in :math:`\ln\rho` (Gauss–Legendre, 32 nodes per
    e-fold) plus closed-form tails below :math:`\sqrt{\lambda_{\min}}e^{-18}` and above
    :math:`\sqrt{\lambda_{\max}}e^{18}`. Stops when :math:`\max|w-J/\sum J|\le` ``tol``
    (docs/theory/gaussian.md#b-self-consistent-weighted-geodesic).

    Equal eigenvalues are grouped exactly: :math:`J_i` depends on :math:`\lambda_i` alone, so the
    fixed point keeps equal weights on equal eigenvalues, and the iteration runs once per distinct
    value with its multiplicity. A large spectrum is compressed further
    (:func:`symsched.gaussian.compress.compress_spectrum`): the metric
    :math:`g_w=\sum_iw_im_i` is a sum over eigenvalues of a function analytic in
    :math:`\ln\lambda` (the weights are, being integrals of :math:`m_i`), so the fixed point
    iterates on the Gauss nodes, and one blocked pass over the full spectrum then computes every
    :math:`J_i`, the dominant coefficient and the metric of the full weights, both checked
    against the compressed ones (docs/theory/gaussian.md#compressed-spectra); a check beyond
    :data:`~symsched.gaussian.compress.RTOL` redoes the fixed point on the exact grouping.

    Parameters
    ----------
    eigenvalues
        The covariance spectrum.
    sigma_min, sigma_max
        The end levels, ``0 <= sigma_min < sigma_max <= inf``; a finite end far outside the
        spectrum (more than 18 e-folds) is refused.
    tol
        Tolerance of the fixed point.
    max_iter
        Most fixed-point iterations.
    exact_spectrum
        Iterate on the exact grouping of equal eigenvalues instead of the compressed spectrum.

    Returns
    -------
    Geodesic
        The weights, the :math:`J_i` and the grid builder :meth:`Geodesic.grid`.

    Raises
    ------
    ValueError
        If an argument is invalid or an end lies far outside the spectrum.
    RuntimeError
        If the iteration does not reach ``tol`` within ``max_iter`` steps.
    """
    lam_v = as_eigenvalues(eigenvalues)
    lo, hi = check_endpoints(sigma_min, sigma_max)
    _check_optimiser_range(lam_v, lo, hi, "the variational geodesic")
    a_lo, a_hi, tail_lo, tail_hi = _quadrature_range(lam_v, lo, hi)
    if lo > 0 and tail_lo:
        raise ValueError(
            f"sigma_min = {lo} lies far below every sqrt(eigenvalue); use sigma_min = 0 or a "
            "larger value"
        )
    if math.isfinite(hi) and tail_hi:
        raise ValueError(
            f"sigma_max = {hi} lies far above every sqrt(eigenvalue); use sigma_max = inf or a "
            "smaller value"
        )
    quad = _Quadrature(*_nodes_weights(a_lo, a_hi), tail_lo, tail_hi)
    comp = spectrum_for_optimiser(lam_v, 1, exact_spectrum)
    w, it, _ = quad.fixed_point(comp.nodes, comp.weights, lam_v.size, tol, max_iter)
    found = quad.on_full(lam_v, comp, w)
    agree, fell_back = None, False
    if not comp.exact:
        agree = agreement(found.dominant_searched, found.dominant)
        if not (agree.ok and found.metric_error <= RTOL):
            comp, fell_back = exact_grouping(lam_v), True
            check_fallback_memory(3 * 8.0 * quad.nodes.size, comp, "the variational geodesic")
            w, it, _ = quad.fixed_point(comp.nodes, comp.weights, lam_v.size, tol, max_iter)
            found = quad.on_full(lam_v, comp, w)
    return Geodesic(
        lam_v,
        lo,
        hi,
        found.weights[found.inverse],
        found.J[found.inverse],
        found.residual,
        it,
        quad.nodes,
        quad.qw,
        quad.edges,
        found.panel_integrals,
        found.length,
        found.tails,
        comp.nodes,
        found.node_weights,
        compression=comp,
        agreement=agree,
        fell_back=fell_back,
        metric_error=found.metric_error,
    )


def _dominant(counts: FloatArray, j: FloatArray) -> float:
    return float(counts @ j**2 / 4)


_KL_BYTES = 96.0  # bytes per step and eigenvalue of the exact KL and its gradient (kl-optimal)
GEODESIC_BLOCK = 4096  # eigenvalues per block of the full-spectrum pass (nodes x block in cache)


@dataclass(frozen=True)
class _Quadrature:
    r"""The quadrature of the geodesic's integrals in :math:`\ln\rho` and its closed-form tails."""

    nodes: FloatArray
    qw: FloatArray
    edges: FloatArray
    tail_lo: bool
    tail_hi: bool

    @property
    def rho_lo(self) -> float:
        return math.exp(float(self.edges[0]))

    @property
    def rho_hi(self) -> float:
        return math.exp(float(self.edges[-1]))

    def metric(self, m: FloatArray, lam_n: FloatArray, w_n: FloatArray) -> _Metric:
        """The metric of the total weights ``w_n`` (per-copy weights times the multiplicities) of
        the values ``lam_n``, whose kernel on the nodes is ``m``."""
        sg = np.sqrt(m @ w_n)
        length = float(self.qw @ (sg * self.nodes))
        g0, s_top = math.sqrt(float(np.sum(w_n / lam_n))), math.sqrt(float(w_n @ lam_n))
        bottom = self.rho_lo * g0 if self.tail_lo else 0.0
        top = s_top / self.rho_hi if self.tail_hi else 0.0
        return _Metric(sg, length + top + bottom, top, bottom, g0, s_top)

    def lengths(self, g: _Metric, lam_b: FloatArray, m: FloatArray) -> FloatArray:
        r""":math:`J_i=L\int m_i/\sqrt g\,d\rho` of the eigenvalues ``lam_b`` (kernel ``m`` on the
        nodes), tails included."""
        integ = (self.qw * self.nodes / g.sg) @ m
        if self.tail_lo:
            integ = integ + self.rho_lo / (lam_b * g.g0)
        if self.tail_hi:
            integ = integ + lam_b / (g.s_top * self.rho_hi)
        return np.asarray(g.length * integ, dtype=np.float64)

    def fixed_point(
        self, lam_n: FloatArray, mult: FloatArray, d: int, tol: float, max_iter: int
    ) -> tuple[FloatArray, int, float]:
        r"""The fixed point :math:`w\leftarrow J(w)/\sum J(w)` on the weighted spectrum (one
        weight per copy of each value): the weights, the iterations and the last residual."""
        m = _m(self.nodes, lam_n)  # (nodes, values)
        w = np.full(lam_n.size, 1.0 / d)
        resid = math.inf
        for it in range(1, max_iter + 1):
            j = self.lengths(self.metric(m, lam_n, mult * w), lam_n, m)
            w_new = j / (mult @ j)
            resid = float(np.max(np.abs(w_new - w)))
            w = w_new
            if resid <= tol:
                return w, it, resid
        raise RuntimeError(
            f"geodesic fixed point did not converge: residual {resid:.2e} after {max_iter} "
            "iterations"
        )

    def on_full(self, lam_v: FloatArray, comp: CompressedSpectrum, w: FloatArray) -> _FullPass:
        r"""The metric of the fixed point ``w`` on ``comp`` and, in one blocked pass over the full
        spectrum's distinct values, their :math:`J_i`, the metric of the weights
        :math:`J_i/\sum J` and its largest relative difference from the metric of the same map on
        ``comp`` (0 when ``comp`` is exact)."""
        wt = comp.weights * w
        m_nodes = _m(self.nodes, comp.nodes)
        g = self.metric(m_nodes, comp.nodes, wt)
        j_nodes = self.lengths(g, comp.nodes, m_nodes)
        lam_u, inverse, counts = np.unique(lam_v, return_inverse=True, return_counts=True)
        j_u = np.empty(lam_u.size)
        g_full = np.zeros(self.nodes.size)
        for i in range(0, lam_u.size, GEODESIC_BLOCK):
            block = slice(i, i + GEODESIC_BLOCK)
            mb = _m(self.nodes, lam_u[block])
            j_u[block] = self.lengths(g, lam_u[block], mb)
            g_full += mb @ (counts[block] * j_u[block])
        cnt = counts.astype(np.float64)
        total = float(cnt @ j_u)
        if comp.exact:  # the same values (nodes descending, lam_u ascending): the residual at the
            # returned weights, as the fixed point iterated
            metric_error = 0.0
            resid = float(np.max(np.abs(j_u / total - w[::-1])))
        else:
            # against the compressed metric of the same map applied once more (J / sum J on the
            # nodes): the difference is the compression's alone, not the fixed point's tolerance
            nxt = m_nodes @ (comp.weights * j_nodes)
            metric_error = float(
                np.max(np.abs(g_full / total / (nxt / (comp.weights @ j_nodes)) - 1.0))
            )
            resid = float(np.max(np.abs(j_nodes / float(comp.weights @ j_nodes) - w)))
        panel = (self.qw * g.sg * self.nodes).reshape(self.edges.size - 1, _ORDER).sum(1)
        return _FullPass(
            inverse,
            j_u / total,
            j_u,
            _dominant(cnt, j_u),
            _dominant(comp.weights, j_nodes),
            metric_error,
            resid,
            panel,
            g.length,
            (g.top, g.bottom, g.g0),
            wt,
        )


class _Metric(NamedTuple):
    """The geodesic's metric: sqrt(g) on the quadrature nodes, the length L with its two closed-form
    tails, and sqrt(g(0)) and sqrt(sum w lambda) of those tails."""

    sg: FloatArray
    length: float
    top: float
    bottom: float
    g0: float
    s_top: float


class _FullPass(NamedTuple):
    """What :meth:`_Quadrature.on_full` computes (per distinct value of the full spectrum:
    ``weights`` and ``J``, mapped to the eigenvalues by ``inverse``)."""

    inverse: Any
    weights: FloatArray
    J: FloatArray
    dominant: float
    dominant_searched: float
    metric_error: float
    residual: float
    panel_integrals: FloatArray
    length: float
    tails: tuple[float, float, float]
    node_weights: FloatArray


# ---------------------------------------------------------------------------------------------
# (c) the exact finite-N optimum


@functools.cache
def _step_funcs() -> tuple[
    NumpyFunction, NumpyFunction, NumpyFunction, NumpyFunction, NumpyFunction, NumpyFunction
]:
    da, db = derive.log_cos2_step_derivatives()
    return (
        numeric.lambdify((a, b, lam), derive.variance_loss_step(), "numpy"),
        numeric.lambdify((a, b, lam), derive.cos2_angle_step(), "numpy"),
        numeric.lambdify((a, b, lam), da, "numpy"),
        numeric.lambdify((a, b, lam), db, "numpy"),
        numeric.lambdify((b, lam), derive.cos2_pure_noise(), "numpy"),
        numeric.lambdify((b, lam), derive.log_cos2_pure_noise_derivative(), "numpy"),
    )


def exact_kl_and_gradient(
    eigenvalues: SpectrumLike,
    levels: ArrayLike,
    *,
    start: str = "exact",
    objective: str = "kl_source_output",
    weights: ArrayLike | None = None,
) -> tuple[float, FloatArray]:
    r"""Exact KL of a grid and its gradient with respect to :math:`\ln\rho_j` of interior levels.

    :math:`\partial\ln r_i/\partial\rho_j` is :math:`\partial_b` of step j plus :math:`\partial_a`
    of step j+1 (derived step derivatives, [sun2026, §3]); the chain rule goes through
    :math:`dKL/d\ln r_i=\tfrac12(1-1/r_i)` (source||output) or :math:`\tfrac12(r_i-1)`
    (output||source) [sun2026, §4] (docs/theory/gaussian.md#c-exact-finite-n-optimum).

    Parameters
    ----------
    eigenvalues
        The covariance spectrum.
    levels
        The full grid (sigma_0 may be inf, sigma_N may be 0); only the interior levels must be
        positive, and they need not be monotone (every step's loss stays in [0, 1)).
    start
        ``"exact"`` or ``"prior"``.
    objective
        ``"kl_source_output"`` or ``"kl_output_source"``.
    weights
        Multiplicities of the eigenvalues (default 1 each): a spectrum with repeated values,
        given once each with its count, has exactly the same KL and gradient.

    Returns
    -------
    tuple of (float, FloatArray)
        The KL and its gradient with respect to the log of each interior level.

    Raises
    ------
    ValueError
        If ``start``, ``objective`` or the eigenvalues are invalid.
    """
    check_choice(start, "start", ("exact", "prior"))
    check_choice(objective, "objective", ("kl_source_output", "kl_output_source"))
    lam_v = as_eigenvalues(eigenvalues)
    sig = np.asarray(levels, dtype=np.float64)
    loss_f, cos2_f, da_f, db_f, cos2_inf, db_inf = _step_funcs()
    pure = math.isinf(sig[0])
    lam_r = lam_v[None, :]
    first = 1 if pure else 0
    a_k, b_k = sig[first:-1, None], sig[first + 1 :, None]
    loss = loss_f(a_k, b_k, lam_r)
    big = loss >= 0.5
    with np.errstate(divide="ignore"):
        lc = np.where(big, np.log(cos2_f(a_k, b_k, lam_r)), np.log1p(-np.minimum(loss, 0.5)))
    log_r = lc.sum(0)
    d_a = da_f(a_k, b_k, lam_r)  # (steps, d): derivative of step k w.r.t. its start level
    d_b = db_f(a_k, b_k, lam_r)
    if pure:
        log_r = log_r + np.log(cos2_inf(sig[1], lam_v))
        d_b = np.vstack([db_inf(sig[1], lam_v)[None, :], d_b])
        d_a = np.vstack([np.zeros((1, lam_v.size)), d_a])
    elif start == "prior":
        log_r = log_r + start_log_ratio(lam_v, float(sig[0]), "prior")
    # interior level j (1..N-1) ends step j (index j-1) and starts step j+1 (index j)
    dlr = d_b[:-1] + d_a[1:]  # (N-1, d)
    w = np.ones_like(lam_v) if weights is None else np.asarray(weights, dtype=np.float64)
    if objective == "kl_source_output":
        kl_v = 0.5 * float(np.sum(w * (np.expm1(-log_r) + log_r)))
        dk = 0.5 * w * (1 - np.exp(-log_r))
    else:
        kl_v = 0.5 * float(np.sum(w * (np.expm1(log_r) - log_r)))
        dk = 0.5 * w * np.expm1(log_r)
    grad = (dlr @ dk) * sig[1:-1]
    return kl_v, grad


@dataclass(frozen=True)
class KLOptimum:
    """Result of :func:`kl_optimal`: the grid, its exact KL, its gradient, the optimiser's report.

    Attributes
    ----------
    sigmas
        The optimal grid.
    kl
        Its exact KL (the objective's direction).
    gradient_norm
        The largest absolute entry of the final gradient (w.r.t. the log levels).
    iterations
        L-BFGS-B iterations.
    converged, message
        The optimiser's report.
    compression
        The spectrum the optimiser worked on (:func:`~symsched.gaussian.compress.compress_spectrum`;
        exact grouping with ``exact_spectrum=True``, where the spectrum has few distinct values,
        or outside the compression's grid class). ``gradient_norm`` is of that spectrum's KL.
    agreement
        The KL of the answer on the compressed and on the full spectrum (``None`` when exact).
    fell_back
        ``True`` when the two differed by more than :data:`~symsched.gaussian.compress.RTOL` and
        the optimum was searched again on the full spectrum (exact grouping), from the answer.
    """

    sigmas: FloatArray
    kl: float
    gradient_norm: float
    iterations: int
    converged: bool
    message: str
    compression: CompressedSpectrum | None = None
    agreement: Agreement | None = None
    fell_back: bool = False


def _check_optimiser_range(lam_v: FloatArray, lo: float, hi: float, what: str) -> None:
    r"""Refuse ends and eigenvalues outside the range where the optima's float64 numerics hold.

    :func:`exact_kl_and_gradient` evaluates the derived step derivatives directly, and the
    geodesic's metric :math:`\lambda/(\lambda+\rho^2)^2` is integrated as it is; both stay in
    the normal float64 range for levels in :data:`~symsched.samplers._stable.LEVEL_WINDOW` (and
    0 and inf) and eigenvalues in :data:`~symsched.samplers._stable.EIGENVALUE_WINDOW`.
    """
    (l_lo, l_hi), (e_lo, e_hi) = LEVEL_WINDOW, EIGENVALUE_WINDOW
    for name, v in (("sigma_min", lo), ("sigma_max", hi)):
        if v != 0 and math.isfinite(v) and not l_lo <= v <= l_hi:
            raise ValueError(
                f"{name} = {v:g}: {what} works on levels in [{l_lo:g}, {l_hi:g}] (plus 0 "
                "and inf), where its float64 numerics are exact"
            )
    if lam_v.min() < e_lo or lam_v.max() > e_hi:
        raise ValueError(
            f"eigenvalues in [{lam_v.min():g}, {lam_v.max():g}]: {what} needs a spectrum in "
            f"[{e_lo:g}, {e_hi:g}], where its float64 numerics are exact"
        )


def _kl_minimise(
    values: FloatArray,
    w: FloatArray,
    x0_grid: FloatArray,
    start: str,
    objective: str,
    max_iter: int,
) -> tuple[FloatArray, int, bool, str, float, float]:
    """L-BFGS-B of the exact KL over the log interior levels of ``x0_grid`` (ends kept) on the
    weighted spectrum ``(values, w)``: the grid, iterations, success, message, the largest
    gradient entry and the KL at the answer (on that spectrum)."""
    from scipy.optimize import minimize

    hi, lo = float(x0_grid[0]), float(x0_grid[-1])
    x0 = np.log(x0_grid[1:-1])
    k0, _ = exact_kl_and_gradient(values, x0_grid, start=start, objective=objective, weights=w)
    scale = 1.0 / k0 if k0 > 0 else 1.0

    def full(xv: FloatArray) -> FloatArray:
        return np.concatenate([[hi], np.exp(xv), [lo]])

    def fg(xv: FloatArray) -> tuple[float, FloatArray]:
        kv, gv = exact_kl_and_gradient(
            values, full(xv), start=start, objective=objective, weights=w
        )
        return kv * scale, gv * scale

    opts = {"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 30}
    # one BLAS thread: the optimiser's matrices are small, and threads cost 7x (measured: N = 49
    # on the SDXL proxy, 1.16 s with the default threads, 0.16 s with one)
    with threadpool_limits(1, user_api="blas"):
        res = minimize(fg, x0, jac=True, method="L-BFGS-B", options=opts)
    sig = full(res.x)
    order = np.argsort(-sig[1:-1])
    if not np.all(np.diff(sig) < 0):
        # the optimum is monotone; a non-monotone iterate is re-sorted and polished once
        sig = np.concatenate([[hi], sig[1:-1][order], [lo]])
        with threadpool_limits(1, user_api="blas"):
            res = minimize(fg, np.log(sig[1:-1]), jac=True, method="L-BFGS-B", options=opts)
        sig = full(res.x)
    sig = as_grid(sig)
    kv, gv = exact_kl_and_gradient(values, sig, start=start, objective=objective, weights=w)
    return sig, int(res.nit), bool(res.success), str(res.message), float(np.max(np.abs(gv))), kv


def kl_optimal(
    eigenvalues: SpectrumLike,
    steps: int,
    sigma_min: float = 0.0,
    sigma_max: float = math.inf,
    *,
    start: str = "exact",
    objective: str = "kl_source_output",
    init: GridLike | None = None,
    max_iter: int = 20_000,
    exact_spectrum: bool = False,
) -> KLOptimum:
    r"""Exact finite-N optimum (c): minimise the exact KL over the N-1 interior levels.

    [sun2026, §3-§4] (docs/theory/gaussian.md#c-exact-finite-n-optimum). L-BFGS-B on
    :math:`x_j=\ln\rho_j` with the analytic gradient of :func:`exact_kl_and_gradient`. The default
    start is the tangent grid with :math:`\gamma^\star` (a different point from the geodesic (b), so
    that "(c) <= (b)" is a finding, not a consequence of the start). The search runs on the
    compressed spectrum (docs/theory/gaussian.md#compressed-spectra); the answer's KL is evaluated
    on the full spectrum, and if the two differ by more than
    :data:`~symsched.gaussian.compress.RTOL` the search is repeated on the full spectrum.

    Parameters
    ----------
    eigenvalues
        The covariance spectrum.
    steps
        The number of steps N.
    sigma_min, sigma_max
        The end levels (kept exactly).
    start, objective
        As :func:`exact_kl_and_gradient`.
    init
        The starting grid (N+1 levels from ``sigma_max`` to ``sigma_min``); default the tangent
        grid at :math:`\gamma^\star`.
    max_iter
        Most L-BFGS-B iterations.
    exact_spectrum
        Search on the full spectrum (equal eigenvalues grouped exactly), not the compressed one.

    Returns
    -------
    KLOptimum
        The optimal grid and the optimiser's report.

    Raises
    ------
    ValueError
        If an argument is invalid or ``init`` does not match ``steps`` and the endpoints.
    """
    from symsched.gaussian.exact import kl as exact_kl
    from symsched.gaussian.tangent import gamma_star, tangent_sigmas

    check_choice(start, "start", ("exact", "prior"))
    check_choice(objective, "objective", ("kl_source_output", "kl_output_source"))
    lam_v = as_eigenvalues(eigenvalues)
    n = check_steps(steps)
    lo, hi = check_endpoints(sigma_min, sigma_max)
    _check_optimiser_range(lam_v, lo, hi, "the kl-optimal optimiser")

    def full_kl(sig: FloatArray) -> float:
        k = exact_kl(lam_v, sig, start=start)  # type: ignore[arg-type]
        return float(getattr(k, objective))

    if n == 1:
        sig = as_grid([hi, lo])
        return KLOptimum(sig, full_kl(sig), 0.0, 0, True, "one step: no free level")
    x0_grid = as_grid(init) if init is not None else tangent_sigmas(n, gamma_star(lam_v), lo, hi)
    if x0_grid.size != n + 1 or x0_grid[0] != hi or x0_grid[-1] != lo:
        raise ValueError(
            f"init must be a grid of {n + 1} levels from sigma_max={hi} to sigma_min={lo}"
        )
    comp = spectrum_for_optimiser(lam_v, n, exact_spectrum)
    return _kl_optimal_on(lam_v, comp, x0_grid, start, objective, max_iter, full_kl)


def _kl_optimal_on(
    lam_v: FloatArray,
    comp: CompressedSpectrum,
    x0_grid: FloatArray,
    start: str,
    objective: str,
    max_iter: int,
    full_kl: Callable[[FloatArray], float],
) -> KLOptimum:
    """:func:`kl_optimal` of validated arguments, searching on ``comp`` (the spectrum of
    :func:`~symsched.gaussian.compress.spectrum_for_optimiser`); ``full_kl`` is the KL of a grid
    on the full spectrum ``lam_v`` (a caller that evaluates the full criteria anyway passes its
    own, so it runs once)."""
    sig, nit, ok, msg, gnorm, kc = _kl_minimise(
        comp.nodes, comp.weights, x0_grid, start, objective, max_iter
    )
    kv = full_kl(sig)
    if comp.exact:
        return KLOptimum(sig, kv, gnorm, nit, ok, msg, comp)
    agree = agreement(kc, kv)
    if agree.ok:
        return KLOptimum(sig, kv, gnorm, nit, ok, msg, comp, agree)
    exact = exact_grouping(lam_v)
    check_fallback_memory(_KL_BYTES * (x0_grid.size - 1), exact, "the kl-optimal search")
    sig, nit2, ok, msg, gnorm, _ = _kl_minimise(
        exact.nodes, exact.weights, sig, start, objective, max_iter
    )
    msg += (
        f"; searched again on the full spectrum (compressed KL off by {agree.relative_error:.1e})"
    )
    return KLOptimum(sig, full_kl(sig), gnorm, nit + nit2, ok, msg, exact, agree, True)
