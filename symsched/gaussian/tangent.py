r"""The tangent law: exact single-eigenvalue optimum and the spectrum coefficient gamma*.

[sun2026, §5.2-§5.3(a)] as reconstructed in docs/theory/gaussian.md#tangent-law and
docs/theory/gaussian.md#coefficient-gamma-star; the isotropic case is also
[sabour2024, Thm. 3.1] (Align Your Steps).

* One eigenvalue: equal angle steps :math:`\Delta\varphi_k=(\varphi_{\max}-\varphi_{\min})/N` in
  :math:`\varphi=\arctan(\rho/\sqrt\lambda)` maximise :math:`\prod_k\cos^2\Delta\varphi_k` at every
  N (Jensen, since :math:`\ln\cos` is concave), so :math:`\rho_k=\sqrt\lambda\tan(\cdot)` is
  exactly optimal.
* A spectrum, within the family :math:`\rho=\gamma\tan(\pi(1-u)/2)`: the dominant KL term is
  :math:`\frac1{4N^2}\sum_iJ_i(\gamma)^2` with
  :math:`J_i=\frac{\pi^2}8(\gamma/\sqrt{\lambda_i}+\sqrt{\lambda_i}/\gamma)`, minimised at
  :math:`\gamma^\star=(\mathrm{tr}\Sigma/\mathrm{tr}\Sigma^{-1})^{1/4}`.

References
----------
.. [sun2026] arXiv:2601.13602, §5 (docs/theory/gaussian.md#tangent-law).
.. [sabour2024] A. Sabour, S. Fidler, K. Kreis, "Align Your Steps", arXiv:2404.14507, Thm. 3.1.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from symsched import numeric
from symsched._typing import FloatArray, GridLike, SpectrumLike
from symsched._validate import as_eigenvalues, as_grid, check_positive, check_steps
from symsched.gaussian import derive
from symsched.schedules.families import tangent as tangent_family
from symsched.symbols import N, a, b, gamma, lam, s, u

__all__ = [
    "J_integrand_rho",
    "J_tangent",
    "asymptotic_kl_tangent",
    "derivation",
    "gamma_star",
    "gamma_star_expr",
    "log_ratio_interior_gradient",
    "log_ratio_symbolic",
    "optimal_ratio_single",
    "stationarity_residuals",
    "tangent_sigmas",
]


def tangent_sigmas(
    steps: int, c: float, sigma_min: float = 0.0, sigma_max: float = math.inf
) -> FloatArray:
    r"""N-step tangent grid [sun2026, §5.2].

    :math:`\rho_k=c\tan(\varphi_{\max}+\tfrac kN(\varphi_{\min}-\varphi_{\max}))` with
    :math:`\varphi=\arctan(\sigma/c)` (docs/theory/gaussian.md#tangent-law).

    Parameters
    ----------
    steps
        The number of steps N.
    c
        The scale (``sqrt(lambda)`` for one eigenvalue, :func:`gamma_star` for a spectrum).
    sigma_min, sigma_max
        The end levels, ``0 <= sigma_min < sigma_max <= inf``.

    Returns
    -------
    FloatArray
        The N+1 levels, descending.

    Raises
    ------
    ValueError
        If the arguments are invalid or two levels collide in float64.
    """
    return tangent_family(c, sigma_min, sigma_max).grid(steps)


def gamma_star(eigenvalues: SpectrumLike) -> float:
    r""":math:`\gamma^\star=(\sum_i\lambda_i/\sum_i\lambda_i^{-1})^{1/4}` [sun2026, §5.3(a)].

    Evaluated from the derived :func:`gamma_star_expr`
    (docs/theory/gaussian.md#coefficient-gamma-star).

    Parameters
    ----------
    eigenvalues
        The covariance spectrum (positive).

    Returns
    -------
    float
        :math:`\gamma^\star`.

    Raises
    ------
    ValueError
        If the eigenvalues are not positive and finite.
    """
    lam_v = as_eigenvalues(eigenvalues)
    tr, tr_inv = sp.symbols("tr_Sigma tr_Sigma_inv", positive=True)
    f = numeric.lambdify((tr, tr_inv), gamma_star_expr(), "numpy")
    return float(f(float(np.sum(lam_v)), float(np.sum(1.0 / lam_v))))


def J_integrand_rho() -> sp.Expr:
    r"""Integrand of :math:`J=\int_0^1\dot\varphi^2\,du` in terms of :math:`\rho(u)`.

    It is :math:`\lambda\dot\rho^2/(\lambda+\rho^2)^2` [sun2026, §5.1].

    Returns
    -------
    sympy.Expr
        :math:`\dot\varphi^2` with :math:`\varphi=\arctan(\rho(u)/\sqrt\lambda)`, simplified.
    """
    rho_u = sp.Function("rho")(u)
    phi = derive.angle(rho_u).subs(s, sp.sqrt(lam))
    return sp.simplify(sp.diff(phi, u) ** 2)


@functools.cache
def J_tangent() -> sp.Expr:
    r""":math:`J_i(\gamma)` of the tangent family, integrated symbolically [sun2026, §5.3(a)].

    :math:`\varphi_i(u)=\arctan(\gamma\tan(\pi u/2)/s)`; substituting :math:`x=\tan(\pi u/2)` turns
    :math:`\int_0^1\dot\varphi^2du` into :math:`\frac\pi2\int_0^\infty k^2(1+x^2)/(1+k^2x^2)^2dx`,
    :math:`k=\gamma/s`, which SymPy integrates to :math:`\frac{\pi^2}8(k+1/k)`.
    Returns
    -------
    sympy.Expr
        :math:`J(\gamma)` in terms of ``gamma`` and ``s`` (= sqrt(lambda)).
    """
    xx = sp.Symbol("x", positive=True)
    phi = derive.angle(gamma * sp.tan(sp.pi * u / 2))
    integrand_u = sp.diff(phi, u) ** 2
    # change of variables u -> x = tan(pi u / 2), du = 2/(pi (1 + x^2)) dx
    u_of_x = 2 * sp.atan(xx) / sp.pi
    integrand_x = sp.simplify(integrand_u.subs(u, u_of_x) * sp.diff(u_of_x, xx))
    return sp.simplify(sp.integrate(integrand_x, (xx, 0, sp.oo)))


@functools.cache
def gamma_star_expr() -> sp.Expr:
    r"""Minimiser of :math:`\sum_iJ_i(\gamma)^2` over :math:`\gamma`, derived symbolically.

    :math:`J_i^2` expands into :math:`\gamma^2/\lambda_i`, a constant and :math:`\lambda_i/\gamma^2`
    terms, so
    :math:`\sum_iJ_i^2=(\pi^4/64)(\gamma^2\,\mathrm{tr}\Sigma^{-1}+2d+\mathrm{tr}\Sigma/\gamma^2)`
    [sun2026, §5.3(a)].

    Returns
    -------
    sympy.Expr
        The positive root of its derivative, in the symbols ``tr_Sigma``, ``tr_Sigma_inv``.

    Raises
    ------
    RuntimeError
        If the stationary point is not a minimum (a derivation error).
    """
    tr, tr_inv, d = sp.symbols("tr_Sigma tr_Sigma_inv d", positive=True)
    j2 = sp.expand((J_tangent() ** 2).subs(s, sp.sqrt(lam)))
    # linearity of the sum over eigenvalues: lam -> tr Sigma, 1/lam -> tr Sigma^-1, 1 -> d
    coeff_lam = j2.coeff(lam, 1)
    coeff_lam_inv = j2.coeff(lam, -1)
    const = sp.simplify(j2 - coeff_lam * lam - coeff_lam_inv / lam)
    total = coeff_lam * tr + coeff_lam_inv * tr_inv + const * d
    roots = [q for q in sp.solve(sp.diff(total, gamma), gamma) if q.is_positive]
    (root,) = roots
    if not sp.simplify(sp.diff(total, gamma, 2).subs(gamma, root)).is_positive:
        raise RuntimeError("the stationary point of sum J_i^2 is not a minimum")
    return sp.simplify(root)


def asymptotic_kl_tangent(eigenvalues: SpectrumLike, gamma_value: float, steps: int) -> float:
    r"""Dominant term :math:`\frac1{4N^2}\sum_iJ_i(\gamma)^2` of the KL [sun2026, §5.1].

    Parameters
    ----------
    eigenvalues
        The covariance spectrum.
    gamma_value
        The family's scale :math:`\gamma` (> 0).
    steps
        The number of steps N.

    Returns
    -------
    float
        The leading :math:`N^{-2}` term of the KL of the tangent family at ``gamma_value``
        (docs/theory/gaussian.md#coefficient-gamma-star).

    Raises
    ------
    ValueError
        If an argument is invalid.
    """
    lam_v = as_eigenvalues(eigenvalues)
    n = check_steps(steps)
    g = check_positive(gamma_value, "gamma")
    f = numeric.lambdify((gamma, s), J_tangent(), "numpy")
    return float(np.sum(f(g, np.sqrt(lam_v)) ** 2) / (4 * n * n))


def optimal_ratio_single(steps: int, phi_span: sp.Expr = sp.pi / 2) -> sp.Expr:
    r"""Exact optimum :math:`r^\star=\cos^{2N}(\Delta\Phi/N)` for one eigenvalue.

    Equal angle steps are optimal at every N (docs/theory/gaussian.md#tangent-law).

    Parameters
    ----------
    steps
        The number of steps N.
    phi_span
        :math:`\Delta\Phi=\varphi_{\max}-\varphi_{\min}` (:math:`\pi/2` for pure noise to data).

    Returns
    -------
    sympy.Expr
        :math:`\cos^{2N}(\Delta\Phi/N)` [sun2026, §5.2].
    """
    n = check_steps(steps)
    return sp.cos(phi_span / n) ** (2 * n)


def log_ratio_symbolic(levels: list[sp.Expr], lam_value: sp.Expr) -> sp.Expr:
    """ln r for a pure-noise start through symbolic interior ``levels`` (ending at 0).

    Parameters
    ----------
    levels
        The levels after the first step, :math:`\\rho_1, \\dots, \\rho_N` (the last one 0).
    lam_value
        The eigenvalue.

    Returns
    -------
    sympy.Expr
        :math:`\\ln r` as a sum of the derived per-step log-gains [sun2026, §3].
    """
    cos2 = derive.cos2_angle_step()
    expr = sp.log(derive.cos2_pure_noise().subs({b: levels[0], lam: lam_value}))
    for k in range(1, len(levels)):
        expr += sp.log(cos2.subs({a: levels[k - 1], b: levels[k], lam: lam_value}))
    return expr


def stationarity_residuals(steps: int) -> list[sp.Expr]:
    r"""Gradient of the exact :math:`\ln r` at the tangent grid, pure noise to data, simplified.

    Interior levels :math:`\rho_1..\rho_{N-1}` are symbols; the gradient is evaluated at
    :math:`\rho_j=s\tan(\pi(N-j)/(2N))` and simplified. Every entry is exactly 0 when the tangent
    grid is a stationary point of the exact KL at this N
    (docs/theory/gaussian.md#two-steps-symbolic).

    Parameters
    ----------
    steps
        The number of steps N (at least 2).

    Returns
    -------
    list of sympy.Expr
        One simplified residual per interior level.
    """
    n = check_steps(steps, minimum=2)
    syms = sp.symbols(f"rho1:{n}", positive=True)
    levels = [*syms, sp.Integer(0)]
    lr = log_ratio_symbolic(levels, s**2)
    point = {syms[j - 1]: s * sp.tan(sp.pi * (n - j) / (2 * n)) for j in range(1, n)}
    return [sp.simplify(sp.radsimp(sp.nsimplify(sp.diff(lr, q).subs(point)))) for q in syms]


def log_ratio_interior_gradient(eigenvalue: float, sigmas: GridLike) -> FloatArray:
    r"""Numeric gradient of :math:`\ln r` with respect to the interior levels of ``sigmas``.

    Built from :func:`symsched.gaussian.derive.log_cos2_step_derivatives`. Finite ``sigma_0`` with
    the exact start or :math:`\sigma_0=\infty`; ``sigma_N`` may be 0.

    Parameters
    ----------
    eigenvalue
        One eigenvalue :math:`\lambda > 0`.
    sigmas
        The grid (N+1 levels, descending).

    Returns
    -------
    FloatArray
        :math:`\partial\ln r/\partial\rho_j` for :math:`j = 1..N-1`.

    Raises
    ------
    ValueError
        If the eigenvalue or the grid is invalid.
    """
    lam_v = float(as_eigenvalues([eigenvalue])[0])
    sig = as_grid(sigmas)
    da, db = derive.log_cos2_step_derivatives()
    fa = numeric.lambdify((a, b, lam), da, "numpy")
    fb = numeric.lambdify((a, b, lam), db, "numpy")
    grad = np.zeros(sig.size - 2)
    for j in range(1, sig.size - 1):
        if math.isinf(sig[j - 1]):
            g_in = float(
                numeric.lambdify((b, lam), derive.log_cos2_pure_noise_derivative(), "numpy")(
                    sig[j], lam_v
                )
            )
        else:
            g_in = float(fb(sig[j - 1], sig[j], lam_v))
        grad[j - 1] = g_in + float(fa(sig[j], sig[j + 1], lam_v))
    return grad


def derivation() -> list[derive.Step]:
    """Tangent-law derivation steps (printed by ``symsched derive tangent``).

    Returns
    -------
    list of Step
        The steps from :math:`J` to :math:`\\gamma^\\star` and the dominant KL
        [sun2026, §5.2-§5.3(a)].
    """
    tr, tr_inv, d = sp.symbols("tr_Sigma tr_Sigma_inv d", positive=True)
    g_star = gamma_star_expr()
    j = J_tangent()
    kl_min = sp.simplify((j**2).subs(s, sp.sqrt(lam)))
    return [
        derive.Step(
            "J = int_0^1 phi'(u)^2 du with phi = atan(rho/sqrt(lam))",
            sp.Eq(sp.Symbol("J"), sp.Integral(J_integrand_rho(), (u, 0, 1))),
            r"$J = \int_0^1 \dot\varphi(u)^2\,du$ with $\varphi = \arctan(\rho/\sqrt\lambda)$",
        ),
        derive.Step(
            "Euler-Lagrange for one eigenvalue: phi'' = 0  =>  "
            "rho = sqrt(lam) tan(phi linear in u)",
            sp.Eq(sp.Symbol("rho(u)"), s * sp.tan(sp.pi * (1 - u) / 2)),
            r"Euler-Lagrange for one eigenvalue: $\ddot\varphi = 0 \Rightarrow "
            r"\rho = \sqrt\lambda\tan\varphi$, $\varphi$ linear in $u$",
        ),
        derive.Step(
            "Exact optimum at every N (equal angle steps, Jensen)",
            sp.Eq(sp.Symbol("r*"), sp.cos(sp.pi / (2 * N)) ** (2 * N)),
            "Exact optimum at every $N$ (equal angle steps, Jensen)",
        ),
        derive.Step(
            "Tangent family rho = gamma tan(pi(1-u)/2): J_i(gamma), integrated",
            sp.Eq(sp.Symbol("J_i"), j),
            r"Tangent family $\rho = \gamma\tan(\pi(1-u)/2)$: $J_i(\gamma)$, integrated",
        ),
        derive.Step(
            "J_i^2 in lam",
            sp.Eq(sp.Symbol("J_i^2"), sp.expand(kl_min)),
            r"$J_i^2$ in $\lambda$",
        ),
        derive.Step(
            "gamma* = argmin sum_i J_i^2",
            sp.Eq(sp.Symbol("gamma*"), g_star),
            r"$\gamma^\star = \operatorname{argmin}_\gamma \sum_i J_i^2$",
        ),
        derive.Step(
            "Dominant KL at gamma*: (1/4N^2) sum J_i^2",
            sp.Eq(
                sp.Symbol("KL"),
                sp.simplify(
                    (sp.pi**4 / 64 * (g_star**2 * tr_inv + 2 * d + tr / g_star**2)) / (4 * N**2)
                ),
            ),
            r"Dominant KL at $\gamma^\star$: $\frac{1}{4N^2}\sum_i J_i^2$",
        ),
    ]
