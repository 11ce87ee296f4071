r"""DPM-Solver++(2M) [lu2022, Algorithm 2], as k-diffusion's ``sample_dpmpp_2m`` runs it.

A two-state recursion :math:`\bar x_{i+1}=A_i\bar x_i+B_i\bar x_{i-1}` on :math:`t=-\ln\sigma`;
first order on the first step (no history) and on the last step to 0. Second order
(docs/theory/samplers.md#dpm-solver-2m).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from symsched import numeric
from symsched._typing import FloatArray, Start
from symsched.gaussian import derive
from symsched.samplers._base import (
    NoKnobs,
    Sampler,
    register_sampler,
    start_log_ratio,
    start_variance_mp,
    to_np,
)
from symsched.samplers._derive import a_prev, denoiser_at
from symsched.symbols import a, b, lam, xbar

__all__ = ["DPMpp2M", "dpmpp_2m_coefficients"]


@functools.cache
def dpmpp_2m_coefficients() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""The step ``a -> b`` with history level ``a_prev``: :math:`\bar x'=A\bar x_a+B\bar x_{\rm prev}`.

    :math:`t=-\ln\sigma`, :math:`h=t_b-t_a`, :math:`r=h_{\rm last}/h`; with
    :math:`D_d=(1+\tfrac1{2r})D_a-\tfrac1{2r}D_{\rm prev}`:
    :math:`\bar x'=\frac{b}{a}\bar x-\operatorname{expm1}(-h)D_d`. Returns ``(A, B, first_order)``.
    """
    x_prev = sp.Symbol("x_prev", real=True)

    def t_fn(q: sp.Expr) -> sp.Expr:
        return -sp.log(q)

    h = t_fn(b) - t_fn(a)
    r_ = (t_fn(a) - t_fn(a_prev)) / h
    d_a = denoiser_at(a)
    d_prev = denoiser_at(a_prev).subs(xbar, x_prev)
    dd = (1 + 1 / (2 * r_)) * d_a - 1 / (2 * r_) * d_prev
    # sigma_fn(t_next) / sigma_fn(t) = exp(-h)
    new = sp.exp(-h) * xbar - (sp.exp(-h) - 1) * dd
    # no simplify: it would merge the logs into powers like a**(a**2 + lam) that overflow in float64
    coef_a = sp.together(sp.diff(new, xbar))
    coef_b = sp.together(sp.diff(new, x_prev))
    first = sp.factor(sp.cancel((sp.exp(-h) * xbar - (sp.exp(-h) - 1) * d_a) / xbar))
    return coef_a, coef_b, first


@functools.cache
def _funcs(backend: str) -> tuple[Callable[..., Any], ...]:
    ca, cb, first = dpmpp_2m_coefficients()
    return (
        numeric.lambdify((a, b, a_prev, lam), ca, backend),
        numeric.lambdify((a, b, a_prev, lam), cb, backend),
        numeric.lambdify((a, b, lam), first, backend),
        numeric.lambdify((a, b, lam), derive.ddim_gain_rho(), backend),
    )


@register_sampler
class DPMpp2M(Sampler):
    """DPM-Solver++(2M)."""

    name = "dpmpp-2m"
    summary = "DPM-Solver++(2M), second order multistep in log sigma"
    reference = "Lu et al. 2022 (DPM-Solver++), Algorithm 2; k-diffusion sample_dpmpp_2m"
    order = 2

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: NoKnobs
    ) -> FloatArray:
        """Two-state recursion on :math:`y_i=\\bar x_i/\\sqrt{\\lambda+\\sigma_i^2}` (= sqrt(r) in law)."""
        lam_v, sig = eigenvalues, sigmas
        fa, fb, f1, ddim = _funcs("numpy")
        base = to_np(start_log_ratio(lam_v, float(sig[0]), start))
        y_prev = None
        y = np.ones_like(lam_v)
        k0 = 1
        if np.isinf(sig[0]):  # from pure noise (DDIM limit): Var = b^2; the next step first order
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
            out: FloatArray = base + 2 * np.log(np.abs(y))
        return out

    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: NoKnobs
    ) -> mpmath.mpf:
        """The multiplier :math:`m_k` of :math:`\\bar x_k=m_k\\bar x_{\\rm start}` by the recursion."""
        fa, fb, f1, ddim = _funcs("mpmath")
        lev = list(levels)
        if lev[0] == mpmath.inf:
            var = lev[1] ** 2
            lev = lev[1:]
        else:
            var = start_variance_mp(eigenvalue, lev[0], start)
        m_prev: mpmath.mpf | None = None
        m = mpmath.mpf(1)
        for k in range(1, len(lev)):
            ak, bk = lev[k - 1], lev[k]
            if m_prev is None or bk == 0:
                g = ddim(ak, bk, eigenvalue) if bk == 0 else f1(ak, bk, eigenvalue)
                m_new = g * m
            else:
                ap = lev[k - 2]
                m_new = fa(ak, bk, ap, eigenvalue) * m + fb(ak, bk, ap, eigenvalue) * m_prev
            m_prev, m = m, m_new
        return m**2 * var / (eigenvalue + levels[-1] ** 2)
