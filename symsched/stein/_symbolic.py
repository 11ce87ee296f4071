r"""Closed forms of the corrector (Stein) cost for Gaussian and two-point data, derived in SymPy.

Nothing here is typed in: each formula is *derived* from a log-density, its score and a Gaussian
expectation, then simplified. The printed forms (docs/theory/stein.md#closed-forms) are used only
as independent oracles in ``verify``.

Setting [williams2024, §2.2-§3.1] (docs/theory/stein.md#corrector-cost): one eigen-direction with
data variance ``lam``; the marginal at a level is :math:`\mathcal N(0, m)`,
:math:`m = s^2\lambda + \sigma^2` (VE: :math:`s = 1`; VP: :math:`s^2 = 1-\sigma^2`), and the
corrector cost of a step from the source level ``sigma`` to the target ``sigma_t`` is

.. math:: \mathcal L_c = v^2\,\mathbb E_{x\sim p_\sigma}
   \|\nabla\log p_{\sigma_t}(x)-\nabla\log p_\sigma(x)\|^2 .

References
----------
.. [williams2024] C. Williams, A. Campbell, A. Doucet, S. Syed, "Score-Optimal Diffusion
   Schedules", NeurIPS 2024, arXiv:2412.07877v1, §2.2 (Eq. 13-15), §3.1 (Thm. 3.1).
"""

from __future__ import annotations

import functools
from typing import Literal

import sympy as sp

from symsched.gaussian.derive import gaussian_log_density
from symsched.symbols import lam

__all__ = [
    "c_iso",
    "dim",
    "gaussian_interval_cost",
    "gaussian_local_metric",
    "gaussian_score",
    "isotropic_length",
    "isotropic_local_metric",
    "marginal_variance",
    "sigma",
    "sigma_t",
    "two_point_score",
    "two_point_score_sigma_derivative",
    "v",
    "xs",
]

sigma = sp.Symbol("sigma", positive=True)  # source (noisier) level in the process's own scale
sigma_t = sp.Symbol("sigma_t", positive=True)  # target level (the one being entered)
v = sp.Symbol("v", positive=True)  # corrector speed v (= sigma at the target by default)
dim = sp.Symbol("dim", positive=True)  # data dimension d
c_iso = sp.Symbol("c_iso", positive=True)  # isotropic data standard deviation c
xs = sp.Symbol("xs", real=True)  # a coordinate of the state

Process = Literal["ve", "vp"]


def marginal_variance(level: sp.Expr, process: Process = "ve", variance: sp.Expr = lam) -> sp.Expr:
    r"""Marginal variance :math:`m = s^2\lambda+\sigma^2` at noise std ``level``.

    See docs/theory/stein.md#gaussian-data.

    Parameters
    ----------
    level
        The process's noise std :math:`\sigma`.
    process
        ``"ve"`` (:math:`s=1`) or ``"vp"`` (:math:`s^2=1-\sigma^2`).
    variance
        The data variance :math:`\lambda` (default the symbol ``lam``).

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        Unknown ``process``.
    """
    if process == "ve":
        return variance + level**2
    if process == "vp":
        return (1 - level**2) * variance + level**2
    raise ValueError(f"process must be 've' or 'vp', got {process!r}")


def gaussian_score(level: sp.Expr, process: Process = "ve") -> sp.Expr:
    r"""Score :math:`\partial_x\log\mathcal N(x;0,m)` of one eigen-direction, by differentiation.

    Parameters
    ----------
    level
        The process's noise std.
    process
        ``"ve"`` or ``"vp"``.

    Returns
    -------
    sympy.Expr
        An expression in ``xs``, ``level`` and ``lam``.
    """
    return sp.diff(gaussian_log_density(xs, marginal_variance(level, process)), xs)


def _gauss_expectation(poly: sp.Expr, variance: sp.Expr) -> sp.Expr:
    """E[poly(xs)] for xs ~ N(0, variance), poly a polynomial in xs (moments 1, 0, v, 0, 3v^2)."""
    p = sp.Poly(sp.expand(poly), xs)
    out = sp.Integer(0)
    for (k,), coeff in p.terms():
        if k % 2 == 0:
            out += coeff * sp.factorial2(k - 1) * variance ** (k // 2)
    return out


@functools.cache
def gaussian_interval_cost(
    process: Process = "ve", weight: Literal["target", "source"] = "target"
) -> sp.Expr:
    r"""Per-eigenvalue corrector cost :math:`\mathcal L_c(\sigma\to\sigma_t)` [williams2024, §2.3].

    .. math:: \mathcal L_c = v^2\, m(\sigma)\Big(\frac1{m(\sigma_t)}-\frac1{m(\sigma)}\Big)^2,
              \quad v = \sigma_t\ (\text{target}) \text{ or } \sigma\ (\text{source}).

    Derived: the squared score difference is a quadratic in ``xs`` whose expectation under
    :math:`p_\sigma` is taken moment by moment. Sum over eigenvalues for a spectrum.

    Parameters
    ----------
    process
        ``"ve"`` or ``"vp"``.
    weight
        ``"target"`` (:math:`v=\sigma_t`) or ``"source"`` (:math:`v=\sigma`).

    Returns
    -------
    sympy.Expr
        An expression in ``sigma``, ``sigma_t`` and ``lam`` (factored).
    """
    diff = gaussian_score(sigma_t, process) - gaussian_score(sigma, process)
    w = sigma_t if weight == "target" else sigma
    return sp.factor(w**2 * _gauss_expectation(diff**2, marginal_variance(sigma, process)))


@functools.cache
def gaussian_local_metric(process: Process = "ve") -> sp.Expr:
    r"""Per-eigenvalue local metric, derived [williams2024, §3.1].

    :math:`\delta_c(\sigma)=\sigma^2\mathbb E\|\partial_\sigma\nabla\log p_\sigma\|^2`, derived
    as the second-order coefficient of :math:`\mathcal L_c(\sigma\to\sigma+h)` in ``h``, which
    the same derivation checks equals :math:`\sigma^2\dot m^2/m^3`
    (docs/theory/stein.md#local-metric).

    Parameters
    ----------
    process
        ``"ve"`` or ``"vp"``.

    Returns
    -------
    sympy.Expr
        An expression in ``sigma`` and ``lam`` (metric with respect to the process's ``sigma``).
    """
    h = sp.Symbol("h", real=True)
    cost = gaussian_interval_cost(process).subs(sigma_t, sigma + h)
    second = sp.diff(cost, h, 2).subs(h, 0) / 2
    return sp.factor(sp.simplify(second))


@functools.cache
def isotropic_local_metric() -> sp.Expr:
    r""":math:`\delta_c(\sigma)` for VE isotropic data :math:`\mathcal N(0,c^2I_d)`.

    See docs/theory/stein.md#isotropic-ve.

    Returns
    -------
    sympy.Expr
        ``dim`` times the per-eigenvalue metric at :math:`\lambda=c^2`.
    """
    return sp.factor(dim * gaussian_local_metric("ve").subs(lam, c_iso**2))


@functools.cache
def isotropic_length() -> sp.Expr:
    r"""Closed-form length :math:`\Lambda(\sigma)=\int_0^\sigma\sqrt{\delta_c}` (VE, isotropic).

    Integrated by SymPy [williams2024, §3.1]; the result is
    :math:`2\sqrt d\,[\operatorname{asinh}(\sigma/c)-\sigma/\sqrt{\sigma^2+c^2}]`.

    Returns
    -------
    sympy.Expr
        An expression in ``sigma``, ``c_iso`` and ``dim``.
    """
    u_ = sp.Symbol("u_", positive=True)
    integrand = sp.sqrt(isotropic_local_metric()).subs(sigma, u_)
    return sp.simplify(sp.integrate(sp.simplify(integrand), (u_, 0, sigma)))


@functools.cache
def two_point_score() -> sp.Expr:
    r"""Score of :math:`\tfrac12\mathcal N(-1,\sigma^2)+\tfrac12\mathcal N(1,\sigma^2)`.

    See docs/theory/stein.md#two-point-data.

    Derived from the mixture log-density (a sum of two exponentials); the stable form
    :math:`(\tanh(x/\sigma^2)-x)/\sigma^2` is returned only after SymPy proves it equal to the
    derivative (their difference, rewritten in exponentials, simplifies to 0).

    Returns
    -------
    sympy.Expr
        An expression in ``xs`` and ``sigma``.

    Raises
    ------
    AssertionError
        If the stable form does not match the derivative (a derivation bug).
    """
    dens = sp.exp(-((xs - 1) ** 2) / (2 * sigma**2)) + sp.exp(-((xs + 1) ** 2) / (2 * sigma**2))
    derived = sp.diff(sp.log(dens), xs)
    stable = (sp.tanh(xs / sigma**2) - xs) / sigma**2
    if sp.simplify((derived - stable).rewrite(sp.exp)) != 0:  # pragma: no cover - a derivation bug
        raise AssertionError("two-point score: tanh form does not match the derivative")
    return stable


@functools.cache
def two_point_score_sigma_derivative() -> sp.Expr:
    r""":math:`\partial_\sigma\nabla\log p_\sigma(x)` for the two-point mixture (for the metric).

    Returns
    -------
    sympy.Expr
        The derivative of :func:`two_point_score` in ``sigma``, simplified.
    """
    return sp.simplify(sp.diff(two_point_score(), sigma))
