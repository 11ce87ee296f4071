r"""Exact output covariance of more samplers on a Gaussian source, per eigenvalue [sun2026, §3] extended.

Every sampler below is linear in the state along each eigen-direction when the denoiser is the
exact one, :math:`D(\bar x,\sigma)=\lambda\bar x/(\lambda+\sigma^2)` (Tweedie,
:func:`symsched.gaussian.derive.tweedie_denoiser_rho`), so the output variance follows an exact scalar
recursion. The per-step gains are *derived* in SymPy from each sampler's update rule as written in
k-diffusion [crowson, ``k_diffusion/sampling.py``] (peers.md §2.2), on :math:`\bar x=x/\alpha`, noise
level :math:`\sigma=\rho`:

* ``euler-vp`` — Euler on the VP probability-flow ODE *in x*,
  :math:`dx/d\tau=-\tfrac12(x+\nabla_x\log p_\tau(x))`, on the clock :math:`\tau=-\ln\bar\alpha=\ln(1+\rho^2)`
  (:math:`d\tau=\beta(t)dt` for any VP schedule), so it depends only on the visited levels; unlike
  DDIM (Euler in :math:`\bar x` against :math:`\rho`) it is not exact for one step.
* ``heun`` — EDM's second-order Heun (``sample_heun``, no churn; Euler on the last step to 0).
* ``dpmpp-2m`` — DPM-Solver++(2M) (``sample_dpmpp_2m``): a two-state recursion
  :math:`\bar x_{i+1}=A_i\bar x_i+B_i\bar x_{i-1}`, first-order on the first and last step.
* ``ancestral`` — ``sample_euler_ancestral`` with ``eta`` in [0, 1] (= DDIM(eta), = DDPM ancestral at
  eta = 1): a DDIM step to :math:`\sigma_{\rm down}` plus fresh noise of variance :math:`\sigma_{\rm up}^2`.
  With the deficit :math:`e=1-r` the recursion is :math:`e'=w\,(e+\ell(1-e))`,
  :math:`w=(\lambda+\sigma_{\rm down}^2)/(\lambda+\sigma_{\rm next}^2)`, :math:`\ell` the DDIM variance loss —
  cancellation-free.

References
----------
.. [sun2026] arXiv:2601.13602, §3-§4 (the DDIM case).
.. [karras2022] EDM, Algorithm 1 (Heun). .. [lu2022] DPM-Solver++, arXiv:2211.01095, Algorithm 2 (2M).
.. [ho2020] DDPM ancestral sampling; [song2021] DDIM with eta.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import NDArray

from symsched import numeric
from symsched._validate import as_eigenvalues, as_grid, check_choice, check_positive
from symsched.gaussian import derive
from symsched.symbols import a, b, lam, x, xbar

__all__ = [
    "SAMPLERS",
    "ancestral_levels",
    "dpmpp_2m_coefficients",
    "euler_vp_gain",
    "heun_gain",
    "log_variance_ratios",
]

SAMPLERS: tuple[str, ...] = ("euler-vp", "heun", "dpmpp-2m", "ancestral")
a_prev = sp.Symbol("a_prev", positive=True)  # the level before a (multistep history)
eta_s = sp.Symbol("eta", nonnegative=True)


def _denoiser(level: sp.Expr) -> sp.Expr:
    return derive.tweedie_denoiser_rho().subs(sp.Symbol("rho", nonnegative=True), level)


@functools.cache
def euler_vp_gain() -> sp.Expr:
    r"""Gain on :math:`\bar x` of one Euler step ``a -> b`` of the VP PF-ODE in x (clock :math:`\tau=\ln(1+\rho^2)`).

    :math:`x_b=x_a+(\tau_b-\tau_a)f(x_a)`, :math:`f=-\tfrac12(x+\partial_x\log\mathcal N(x;0,v_a))`,
    :math:`v=(\lambda+\rho^2)/(1+\rho^2)`; then :math:`\bar x=x\sqrt{1+\rho^2}`.
    """
    v_a = (lam + a**2) / (1 + a**2)
    score = sp.diff(derive.gaussian_log_density(x, v_a), x)
    drift = -(x + score) / 2
    tau = lambda q: sp.log(1 + q**2)
    x_b = x + (tau(b) - tau(a)) * drift
    return sp.simplify(x_b / x * sp.sqrt(1 + b**2) / sp.sqrt(1 + a**2))


@functools.cache
def heun_gain() -> tuple[sp.Expr, sp.Expr]:
    r"""Gain on :math:`\bar x` of one Heun step ``a -> b`` [karras2022, Alg. 1] and of the Euler step to 0.

    ``to_d``: :math:`d=(\bar x-D(\bar x,\sigma))/\sigma`; :math:`\bar x_2=\bar x+d\,(b-a)`;
    :math:`\bar x'=\bar x+\tfrac12(d+d(\bar x_2,b))(b-a)`. Returns ``(heun, euler_to_zero)``.
    """
    d_a = (xbar - _denoiser(a).subs(xbar, xbar)) / a
    x2 = xbar + d_a * (b - a)
    d_b = (x2 - _denoiser(b).subs(xbar, x2)) / b
    heun = sp.factor(sp.simplify((xbar + (d_a + d_b) / 2 * (b - a)) / xbar))
    euler0 = sp.factor(sp.simplify((xbar + d_a * (0 - a)) / xbar))
    return heun, euler0


@functools.cache
def dpmpp_2m_coefficients() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""DPM-Solver++(2M) step ``a -> b`` with history level ``a_prev`` [lu2022, Alg. 2], as in k-diffusion.

    :math:`t=-\ln\sigma`, :math:`h=t_b-t_a`, :math:`r=h_{\rm last}/h`; with
    :math:`D_d=(1+\tfrac1{2r})D_a-\tfrac1{2r}D_{\rm prev}`: :math:`\bar x'=\frac{b}{a}\bar x-\operatorname{expm1}(-h)D_d`.
    Returns ``(A, B, first_order)`` with :math:`\bar x'=A\bar x_a+B\bar x_{\rm prev}` and the first-order gain.
    """
    x_prev = sp.Symbol("x_prev", real=True)
    t_fn = lambda q: -sp.log(q)
    h = t_fn(b) - t_fn(a)
    r_ = (t_fn(a) - t_fn(a_prev)) / h
    d_a = _denoiser(a)
    d_prev = _denoiser(a_prev).subs(xbar, x_prev)
    dd = (1 + 1 / (2 * r_)) * d_a - 1 / (2 * r_) * d_prev
    new = (
        sp.exp(-h) * xbar - (sp.exp(-h) - 1) * dd
    )  # sigma_fn(t_next)/sigma_fn(t) = exp(-h); expm1(-h)
    # no simplify: it would merge the logs into powers like a**(a**2 + lam) that overflow in float64
    coef_a = sp.together(sp.diff(new, xbar))
    coef_b = sp.together(sp.diff(new, x_prev))
    first = sp.factor(sp.cancel((sp.exp(-h) * xbar - (sp.exp(-h) - 1) * d_a) / xbar))
    return coef_a, coef_b, first


@functools.cache
def ancestral_levels() -> tuple[sp.Expr, sp.Expr]:
    r"""``get_ancestral_step(a, b, eta)`` of k-diffusion (no clamp): :math:`\sigma_{\rm up}=\eta\,b\sqrt{a^2-b^2}/a`,
    :math:`\sigma_{\rm down}=\sqrt{b^2-\sigma_{\rm up}^2}`. (:math:`\sigma_{\rm up}\le b` holds for eta <= 1.)"""
    up = eta_s * sp.sqrt(b**2 * (a**2 - b**2) / a**2)
    down = sp.sqrt(b**2 - up**2)
    return sp.simplify(up), sp.simplify(down)


def _f(args: tuple[sp.Symbol, ...], expr: sp.Expr) -> Any:
    return numeric.lambdify(args, expr, "numpy")


def log_variance_ratios(
    eigenvalues: Any, sigmas: Any, *, sampler: str, start: str = "exact", eta: float | None = None
) -> NDArray[np.float64]:
    r"""Exact :math:`\ln r_i` of ``sampler`` on a Gaussian source (numpy, float64).

    Parameters
    ----------
    eigenvalues, sigmas, start
        As :func:`symsched.gaussian.exact.log_variance_ratios`.
    sampler
        One of :data:`SAMPLERS`.
    eta
        Ancestral noise fraction in [0, 1] (``ancestral`` only; default 1 = DDPM).

    Raises
    ------
    ValueError
        Heun needs a finite ``sigma_0`` (from pure noise its first step diverges); ``eta`` is only
        for ``ancestral``.
    """
    check_choice(sampler, "sampler", SAMPLERS)
    check_choice(start, "start", ("exact", "prior"))
    lam_v = as_eigenvalues(eigenvalues)
    sig = as_grid(sigmas)
    if eta is not None and sampler != "ancestral":
        raise ValueError(f"eta applies to the ancestral sampler only, not to {sampler!r}")
    pure = math.isinf(sig[0])
    # ln of Var_0 / (lam + sigma_0^2): the start's boundary term
    base = np.zeros_like(lam_v) if (pure or start == "exact") else -np.log1p(lam_v / sig[0] ** 2)
    if sampler == "ancestral":
        e_v = check_positive(1.0 if eta is None else eta, "eta", allow_zero=True)
        if e_v > 1:
            raise ValueError(f"eta must be in [0, 1], got {e_v}")
        return _ancestral(lam_v, sig, base, e_v)
    if sampler == "heun" and pure:
        raise ValueError(
            "heun needs a finite sigma_0 (sigma_max): from pure noise its first step diverges; pass a finite --sigma-max"
        )
    if sampler == "dpmpp-2m":
        return _dpmpp_2m(lam_v, sig, base)
    gain = _f((a, b, lam), euler_vp_gain() if sampler == "euler-vp" else heun_gain()[0])
    gain0 = _f((a, lam), heun_gain()[1]) if sampler == "heun" else None
    total = base.copy()
    k0 = 1
    if pure:  # euler-vp from pure noise: x keeps variance 1, i.e. xbar_1 has variance 1 + b^2
        b1 = float(sig[1])
        total = total + np.log1p((1.0 - lam_v) / (lam_v + b1 * b1))
        k0 = 2
    for k in range(k0, sig.size):
        ak, bk = float(sig[k - 1]), float(sig[k])
        g = gain0(ak, lam_v) if (gain0 is not None and bk == 0.0) else gain(ak, bk, lam_v)
        # ln(g^2 (lam + a^2) / (lam + b^2)): the step's change of the ratio Var / target
        total = total + 2 * np.log(np.abs(g)) + np.log(lam_v + ak * ak) - np.log(lam_v + bk * bk)
    return total


def _dpmpp_2m(
    lam_v: NDArray[np.float64], sig: NDArray[np.float64], base: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Two-state recursion on y_i = xbar_i / sqrt(lam + sigma_i^2) (unit-free, = sqrt(r) in law)."""
    ca, cb, first = dpmpp_2m_coefficients()
    fa, fb, f1 = _f((a, b, a_prev, lam), ca), _f((a, b, a_prev, lam), cb), _f((a, b, lam), first)
    ddim = _f((a, b, lam), derive.ddim_gain_rho())
    pure = math.isinf(sig[0])
    y_prev = None
    y = np.ones_like(lam_v)
    k0 = 1
    if pure:  # first step from pure noise (DDIM limit): Var = b^2; the next step has r = inf (first order)
        b1 = float(sig[1])
        y = np.sqrt(b1 * b1 / (lam_v + b1 * b1)) * np.ones_like(lam_v)
        k0 = 2
    for k in range(k0, sig.size):
        ak, bk = float(sig[k - 1]), float(sig[k])
        scale = np.sqrt((lam_v + ak * ak) / (lam_v + bk * bk))
        if y_prev is None or bk == 0.0:
            g = ddim(ak, bk, lam_v) if bk == 0.0 else f1(ak, bk, lam_v)
            y_new = g * scale * y
        else:
            ap = float(sig[k - 2])
            scale_p = np.sqrt((lam_v + ap * ap) / (lam_v + bk * bk))
            y_new = fa(ak, bk, ap, lam_v) * scale * y + fb(ak, bk, ap, lam_v) * scale_p * y_prev
        y_prev, y = y, y_new
    with np.errstate(divide="ignore"):
        return base + 2 * np.log(np.abs(y))


def _ancestral(
    lam_v: NDArray[np.float64], sig: NDArray[np.float64], base: NDArray[np.float64], eta: float
) -> NDArray[np.float64]:
    up_e, _down_e = ancestral_levels()
    loss = _f((a, b, lam), derive.variance_loss_step())
    loss_inf = _f((b, lam), derive.variance_loss_from_pure_noise())
    e = -np.expm1(base)  # deficit 1 - Var/target at the start
    for k in range(1, sig.size):
        ak, bk = float(sig[k - 1]), float(sig[k])
        if bk == 0.0:
            down, up = 0.0, 0.0
        elif math.isinf(ak):
            up = min(bk, eta * bk)
            down = math.sqrt(max(bk * bk - up * up, 0.0))
        else:
            up = min(bk, float(_f((a, b, eta_s), up_e)(ak, bk, eta)))
            down = math.sqrt(max(bk * bk - up * up, 0.0))
        ell = loss_inf(down, lam_v) if math.isinf(ak) else loss(ak, down, lam_v)
        w = (lam_v + down * down) / (lam_v + bk * bk)
        e = w * (e + ell * (1 - e))
    with np.errstate(divide="ignore"):
        return np.log1p(-e)
