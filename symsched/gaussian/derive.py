r"""Exact Gaussian theory of the deterministic (DDIM, eta = 0) sampler, derived in SymPy.

Nothing here is typed in from the paper: the per-eigenvalue gain is *derived* from Tweedie's
formula and the DDIM update, then transformed. The hand-typed formulas of the paper live in
``symsched_verify.oracles.references`` and serve as independent oracles.

Setting [sun2026, §2] (docs/theory/gaussian.md#setting): source :math:`\mathcal N(0,\Sigma)` with
eigenvalues :math:`\lambda_i`; every object is diagonal in the eigenbasis, so one eigenvalue
``lam`` suffices. In the VE/rho form the scaled state is :math:`\bar x = x/\alpha = x_0 +
\rho\epsilon`.

References
----------
.. [sun2026] Q. Sun, H. V. Poor, W. Zhang, "An Elementary Approach to Scheduling in Generative
   Diffusion Models", arXiv:2601.13602 (v1-v3), §2-§4; the
   equations as this project states them are in docs/theory/gaussian.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from symsched import numeric
from symsched.symbols import a, alpha_bar, alpha_bar_a, alpha_bar_b, b, lam, r, rho, s, x, xbar

__all__ = [
    "Step",
    "angle",
    "angle_identity_residual",
    "cos2_angle_step",
    "cos2_pure_noise",
    "ddim_gain_rho",
    "ddim_gain_vp",
    "derivation",
    "exact_flow_gain_rho",
    "gain_minus_one_rho",
    "gaussian_log_density",
    "kl_output_source",
    "kl_source_output",
    "marginal_variance_rho",
    "marginal_variance_vp",
    "matrix_gain_commutator",
    "prior_start_log_ratio",
    "pure_noise_first_step_variance",
    "tweedie_denoiser_rho",
    "variance_loss_from_pure_noise",
    "variance_loss_step",
]


def gaussian_log_density(z: sp.Expr, variance: sp.Expr) -> sp.Expr:
    r"""Log-density of :math:`\mathcal N(0, v)` at ``z``."""
    return -(z**2) / (2 * variance) - sp.log(2 * sp.pi * variance) / 2


def marginal_variance_rho(level: sp.Expr = rho) -> sp.Expr:
    r"""Variance :math:`\lambda+\rho^2` of :math:`\bar x=x_0+\rho\epsilon` along one
    eigendirection."""
    return lam + level**2


@functools.cache
def prior_start_log_ratio() -> sp.Expr:
    r""":math:`\ln(\mathrm{Var}_0/(\lambda+a^2))` of the prior start :math:`\mathcal N(0,a^2)` at
    level ``a``.

    The prior has variance :math:`a^2` where the marginal has :math:`\lambda+a^2`; the ratio's log
    is returned in the stable form :math:`-\operatorname{log1p}(\lambda/a^2)` (checked equal to
    the plain log of the ratio, so tiny :math:`\lambda/a^2` keeps its digits).
    """
    plain = sp.log(a**2 / marginal_variance_rho(a))
    stable = -numeric.LOG1P(lam / a**2)
    if sp.simplify(sp.expand_log(plain - stable.rewrite(sp.log), force=True)) != 0:
        raise RuntimeError("prior start term: stable form differs from the derived ratio")
    return stable


@functools.cache
def tweedie_denoiser_rho() -> sp.Expr:
    r"""Exact denoiser :math:`D(\bar x,\rho)=E[x_0\mid\bar x]` by Tweedie's formula.

    .. math:: D = \bar x + \rho^2\,\partial_{\bar x}\log p_\rho(\bar x),\qquad
              p_\rho=\mathcal N(0,\lambda+\rho^2)

    which gives :math:`\lambda\bar x/(\lambda+\rho^2)` [sun2026, §2].
    """
    logp = gaussian_log_density(xbar, marginal_variance_rho())
    return sp.simplify(xbar + rho**2 * sp.diff(logp, xbar))


@functools.cache
def ddim_gain_rho() -> sp.Expr:
    r"""Per-eigenvalue DDIM gain of one step ``a -> b`` on :math:`\bar x` (rho form).

    The DDIM (eta = 0) update keeps the predicted noise and moves the level:
    :math:`\bar x_b = D(\bar x_a, a) + b\,\hat\epsilon`, :math:`\hat\epsilon = (\bar x_a - D)/a`.
    Derived result: :math:`(\lambda + ab)/(\lambda + a^2)` [sun2026, §3 "rational rho-form"].
    """
    d_a = tweedie_denoiser_rho().subs(rho, a)
    eps_hat = (xbar - d_a) / a
    return sp.factor(sp.simplify((d_a + b * eps_hat) / xbar))


@functools.cache
def gain_minus_one_rho() -> sp.Expr:
    r"""``ddim_gain_rho() - 1`` in cancellation-free form, :math:`-a(a-b)/(\lambda+a^2)`.

    ``log1p`` of this is the log-gain used by the fast numerics: it stays accurate when steps
    are tiny (N = 1e5), where ``log(gain)`` would lose every digit.
    """
    return sp.factor(sp.cancel(ddim_gain_rho() - 1))


@functools.cache
def exact_flow_gain_rho() -> sp.Expr:
    r"""Gain of the exact probability-flow map ``a -> b`` on :math:`\bar x`.

    The PF-ODE :math:`d\bar x/d\rho = (\bar x - D)/\rho` is solved in closed form (SymPy
    ``dsolve``); for a Gaussian it preserves the marginal, gain
    :math:`\sqrt{(\lambda+b^2)/(\lambda+a^2)}`.
    This is the "exact sampler" whose KL is zero.
    """
    f = sp.Function("f")
    eq = sp.Eq(f(rho).diff(rho), (f(rho) - tweedie_denoiser_rho().subs(xbar, f(rho))) / rho)
    sol = sp.dsolve(eq, f(rho)).rhs
    const = sol.free_symbols - {rho, lam}
    (c1,) = const
    # normalise so that f(a) = 1, then evaluate at b
    gain = sp.simplify((sol / sol.subs(rho, a)).subs(rho, b))
    assert c1 not in gain.free_symbols
    return sp.simplify(gain)


def marginal_variance_vp(ab: sp.Expr = alpha_bar) -> sp.Expr:
    r"""VP marginal variance along one eigendirection,
    :math:`v(\bar\alpha)=\lambda\bar\alpha+1-\bar\alpha`."""
    return lam * ab + 1 - ab


@functools.cache
def ddim_gain_vp() -> sp.Expr:
    r"""Per-eigenvalue DDIM gain :math:`c_k` in VP form (:math:`x_{t_{k-1}} = c_k x_{t_k}`).

    Tweedie for the noise, :math:`\hat\epsilon=-\sqrt{1-\bar\alpha}\,\partial_x\log p(x)`;
    :math:`\hat x_0=(x-\sqrt{1-\bar\alpha}\hat\epsilon)/\sqrt{\bar\alpha}`; DDIM:
    :math:`x'=\sqrt{\bar\alpha'}\hat x_0+\sqrt{1-\bar\alpha'}\hat\epsilon` [song2021, Eq. (12)].
    Step from ``alpha_bar_a`` (noisier) to ``alpha_bar_b``.
    """
    v_a = marginal_variance_vp(alpha_bar_a)
    eps_hat = -sp.sqrt(1 - alpha_bar_a) * sp.diff(gaussian_log_density(x, v_a), x)
    x0_hat = (x - sp.sqrt(1 - alpha_bar_a) * eps_hat) / sp.sqrt(alpha_bar_a)
    x_next = sp.sqrt(alpha_bar_b) * x0_hat + sp.sqrt(1 - alpha_bar_b) * eps_hat
    return sp.simplify(sp.expand(x_next / x))


def angle(level: sp.Expr = rho) -> sp.Expr:
    r"""Angle :math:`\varphi=\arctan(\rho/\sqrt\lambda)` [sun2026, §3] (``s`` = sqrt(lam))."""
    return sp.atan(level / s)


@functools.cache
def angle_identity_residual() -> sp.Expr:
    r"""Residual of :math:`c_k^2 = \frac{v_{k-1}}{v_k}\cos^2(\varphi_k-\varphi_{k-1})`, simplified.

    Evaluated in the rho form (``alpha_bar = 1/(1+rho^2)``) with ``lam = s^2``; SymPy reduces
    the difference to exactly 0, which is the proof [sun2026, §3 "angle form"].
    """
    to_rho = {alpha_bar_a: 1 / (1 + a**2), alpha_bar_b: 1 / (1 + b**2)}
    c2 = ddim_gain_vp().subs(to_rho).subs(lam, s**2) ** 2
    v = marginal_variance_vp
    ratio = (v(alpha_bar_b) / v(alpha_bar_a)).subs(to_rho).subs(lam, s**2)
    cos2 = sp.expand_trig(sp.cos(angle(a) - angle(b))) ** 2
    return sp.simplify(sp.radsimp(c2 - ratio * cos2))


@functools.cache
def cos2_angle_step() -> sp.Expr:
    r""":math:`\cos^2\Delta\varphi` of a step ``a -> b``: DDIM gain over exact-flow gain, squared.

    Each DDIM step keeps a fraction :math:`\cos^2\Delta\varphi` of the variance the exact flow
    would keep [sun2026, §3]; derived as ``(ddim_gain_rho / exact_flow_gain_rho)**2``.
    """
    return sp.factor(sp.simplify((ddim_gain_rho() / exact_flow_gain_rho()) ** 2))


@functools.cache
def variance_loss_step() -> sp.Expr:
    r"""Lagrange form :math:`1-\cos^2\Delta\varphi=\lambda(a-b)^2/((\lambda+a^2)(\lambda+b^2))`.

    ``log1p(-loss)`` summed over steps is :math:`\ln r_i` with no cancellation at all, even for
    N = 1e5 steps from pure noise (the naive ``ln Var_0 + sum ln g^2 - ln target`` cancels 16
    digits).
    """
    return sp.factor(sp.cancel(1 - cos2_angle_step()))


@functools.cache
def variance_loss_from_pure_noise() -> sp.Expr:
    r"""Limit of :func:`variance_loss_step` as :math:`a\to\infty`: :math:`\lambda/(\lambda+b^2)`."""
    return sp.limit(variance_loss_step(), a, sp.oo)


@functools.cache
def cos2_pure_noise() -> sp.Expr:
    r"""Limit of :func:`cos2_angle_step` as :math:`a\to\infty`: :math:`b^2/(\lambda+b^2)`."""
    return sp.limit(cos2_angle_step(), a, sp.oo)


@functools.cache
def pure_noise_first_step_variance() -> sp.Expr:
    r"""Variance of :math:`\bar x` after the first step from :math:`\rho=\infty` to ``b``.

    Limit :math:`a\to\infty` of ``gain^2 * (lam + a^2)`` (exact start) — equal to ``b^2``; the
    same limit holds for the prior start (variance ``a^2``).
    """
    g = ddim_gain_rho()
    return sp.limit(g**2 * (lam + a**2), a, sp.oo)


@functools.cache
def matrix_gain_commutator() -> sp.Matrix:
    r"""``G Sigma - Sigma G`` for the full-matrix DDIM step of a generic 2x2 covariance.

    With the exact matrix denoiser :math:`D=\Sigma(\Sigma+a^2I)^{-1}\bar x` (Tweedie), one DDIM
    step is :math:`G=D_a+b(I-D_a)/a`. It commutes with :math:`\Sigma` (the result is the zero
    matrix), so the covariance trajectory is :math:`U\,\mathrm{diag}(\mathrm{Var}^{(i)}_k)U^\top`
    [sun2026, §3 "trajectory"].
    """
    p, q, w = sp.symbols("p q w", positive=True)
    sigma = sp.Matrix([[p, q], [q, w]])
    eye = sp.eye(2)
    d_a = sigma * (sigma + a**2 * eye).inv()
    g = d_a + b * (eye - d_a) / a
    return (g * sigma - sigma * g).applyfunc(sp.simplify)


def kl_source_output(ratio: sp.Expr = r) -> sp.Expr:
    r"""Per-direction :math:`KL(\text{target}\,\|\,\text{output}) = \tfrac12(1/r-1+\ln r)`
    [sun2026, §4]."""
    return (1 / ratio - 1 + sp.log(ratio)) / 2


def kl_output_source(ratio: sp.Expr = r) -> sp.Expr:
    r"""Per-direction :math:`KL(\text{output}\,\|\,\text{target}) = \tfrac12(r-1-\ln r)` [sun2026,
    §4]."""
    return (ratio - 1 - sp.log(ratio)) / 2


@dataclass(frozen=True)
class Step:
    """One step of a printed derivation: a plain-text title, the expression and, for LaTeX output,
    the title in LaTeX (text with ``$...$`` math; empty: the plain title)."""

    title: str
    expr: sp.Basic
    latex_title: str = ""


def derivation() -> list[Step]:
    """The derivation of the exact Gaussian DDIM theory, step by step (``symsched derive
    gaussian``)."""
    g = ddim_gain_rho()
    k = sp.Symbol("k", positive=True, integer=True)
    return [
        Step(
            "Marginal at noise level rho (scaled state xbar = x0 + rho*eps)",
            sp.Eq(sp.Symbol("p_rho(xbar)"), sp.exp(gaussian_log_density(xbar, lam + rho**2))),
            r"Marginal at noise level $\rho$ (scaled state $\bar x = x_0 + \rho\epsilon$)",
        ),
        Step(
            "Tweedie: D(xbar, rho) = xbar + rho^2 d/dxbar log p_rho",
            sp.Eq(sp.Symbol("D"), tweedie_denoiser_rho()),
            r"Tweedie: $D(\bar x, \rho) = \bar x + \rho^2\,\partial_{\bar x}\log p_\rho$",
        ),
        Step(
            "DDIM step a -> b: xbar_b = D + b*(xbar_a - D)/a; per-eigenvalue gain",
            sp.Eq(sp.Symbol("g"), g),
            r"DDIM step $a \to b$: $\bar x_b = D + b(\bar x_a - D)/a$; per-eigenvalue gain",
        ),
        Step(
            "Gain minus one (stable log-gain = log1p of this)",
            sp.Eq(sp.Symbol("g - 1"), gain_minus_one_rho()),
            r"Gain minus one (stable log-gain: $\operatorname{log1p}$ of this)",
        ),
        Step(
            "VP form of the same step (x = sqrt(alpha_bar) x0 + sqrt(1-alpha_bar) eps)",
            sp.Eq(sp.Symbol("c_k"), ddim_gain_vp()),
            r"VP form of the same step "
            r"($x = \sqrt{\bar\alpha}\,x_0 + \sqrt{1-\bar\alpha}\,\epsilon$)",
        ),
        Step(
            "Angle identity residual c_k^2 - v_{k-1}/v_k cos^2(dphi_k)  (phi = "
            "atan(rho/sqrt(lam)))",
            sp.Eq(sp.Symbol("residual"), angle_identity_residual()),
            r"Angle identity residual $c_k^2 - \frac{v_{k-1}}{v_k}\cos^2\Delta\varphi_k$ "
            r"($\varphi = \arctan(\rho/\sqrt\lambda)$)",
        ),
        Step(
            "Exact probability-flow gain (dsolve of the PF-ODE): the sampler with zero KL",
            sp.Eq(sp.Symbol("g_exact"), exact_flow_gain_rho()),
            "Exact probability-flow gain (dsolve of the PF-ODE): the sampler with zero KL",
        ),
        Step(
            "First step from pure noise (rho = inf): variance after the step",
            sp.Eq(sp.Symbol("Var_1"), pure_noise_first_step_variance()),
            r"First step from pure noise ($\rho = \infty$): variance after the step",
        ),
        Step(
            "Variance recursion and output ratio",
            sp.Eq(
                sp.Symbol("r"),
                sp.Product(sp.Function("g")(k) ** 2, (k, 1, sp.Symbol("N")))
                * sp.Symbol("Var_0")
                / (lam + sp.Symbol("sigma_N") ** 2),
            ),
        ),
        Step(
            "Full covariance: G Sigma - Sigma G for a generic 2x2 Sigma",
            matrix_gain_commutator(),
            r"Full covariance: $G\Sigma - \Sigma G$ for a generic $2\times2$ $\Sigma$",
        ),
        Step(
            "KL(target || output) per eigen-direction",
            sp.Eq(sp.Symbol("KL_so"), kl_source_output()),
            r"$\operatorname{KL}(\text{target}\,\|\,\text{output})$ per eigen-direction",
        ),
        Step(
            "KL(output || target) per eigen-direction",
            sp.Eq(sp.Symbol("KL_os"), kl_output_source()),
            r"$\operatorname{KL}(\text{output}\,\|\,\text{target})$ per eigen-direction",
        ),
    ]


@functools.cache
def log_cos2_step_derivatives() -> tuple[sp.Expr, sp.Expr]:
    r"""Partial derivatives of :math:`\ln\cos^2\Delta\varphi(a,b;\lambda)` in ``a`` and ``b``.

    The gradient of :math:`\ln r_i` with respect to an interior level :math:`\sigma_j` is
    :math:`\partial_b` of step j plus :math:`\partial_a` of step j+1 (used for stationarity
    checks and for gradient-based grid optimisation).
    """
    f = sp.log(cos2_angle_step())
    return sp.simplify(sp.diff(f, a)), sp.simplify(sp.diff(f, b))


@functools.cache
def log_cos2_pure_noise_derivative() -> sp.Expr:
    r""":math:`\partial_b \ln(b^2/(\lambda+b^2))`, the first step from pure noise."""
    return sp.simplify(sp.diff(sp.log(cos2_pure_noise()), b))
