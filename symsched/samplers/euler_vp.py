r"""Euler on the VP probability-flow ODE *in x* (not in :math:`\bar x`).

:math:`dx/d\tau=-\tfrac12(x+\nabla_x\log p_\tau(x))` on the clock
:math:`\tau=-\ln\bar\alpha=\ln(1+\rho^2)` (:math:`d\tau=\beta(t)dt` for any VP schedule), so the
result depends only on the visited levels. Unlike DDIM it is not exact for one step; first order
[sun2026, §3 extended] (docs/theory/samplers.md#euler-on-the-vp-pf-ode).
"""

from __future__ import annotations

import functools
import math
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
from symsched.symbols import a, b, lam, x

__all__ = ["EulerVP", "euler_vp_gain"]


@functools.cache
def euler_vp_gain() -> sp.Expr:
    r"""Gain on :math:`\bar x` of one Euler step ``a -> b`` of the VP PF-ODE in x.

    :math:`x_b=x_a+(\tau_b-\tau_a)f(x_a)`, :math:`f=-\tfrac12(x+\partial_x\log\mathcal N(x;0,v_a))`,
    :math:`v_a=\lambda\bar\alpha_a+1-\bar\alpha_a` with :math:`\bar\alpha=1/(1+\rho^2)`; then
    :math:`\bar x=x\sqrt{1+\rho^2}`. The clock step is kept as
    :math:`\tau_b-\tau_a=-\operatorname{log1p}((a-b)(a+b)/(1+b^2))`: SymPy's ``simplify`` would
    merge it with :math:`\lambda-1` into :math:`\log(((1+a^2)/(1+b^2))^{\lambda-1})`, which
    overflows in float64 for large :math:`\lambda`.
    """
    v_a = derive.marginal_variance_vp(1 / (1 + a**2))
    score = sp.diff(derive.gaussian_log_density(x, v_a), x)
    drift = sp.cancel(-(x + score) / 2 / x)  # f(x) / x, rational in a and lam
    dtau = -numeric.LOG1P((a - b) * (a + b) / (1 + b**2))
    plain = sp.log(1 + b**2) - sp.log(1 + a**2)
    if sp.simplify(sp.expand_log(dtau.rewrite(sp.log) - plain, force=True)) != 0:
        raise RuntimeError("euler-vp: the stable clock step differs from log(1+b^2) - log(1+a^2)")
    return (1 + dtau * drift) * sp.sqrt(1 + b**2) / sp.sqrt(1 + a**2)


@functools.cache
def _gain(backend: str) -> Callable[..., Any]:
    return numeric.lambdify((a, b, lam), euler_vp_gain(), backend)


@register_sampler
class EulerVP(Sampler):
    """Euler on the VP PF-ODE in x."""

    name = "euler-vp"
    summary = "Euler on the VP probability-flow ODE in x (first order)"
    reference = "Song et al. 2021 (SDE, Eq. 13 PF-ODE); Sun et al. 2026, §3 extended"
    order = 1

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: NoKnobs
    ) -> FloatArray:
        lam_v, sig = eigenvalues, sigmas
        gain = _gain("numpy")
        total = to_np(start_log_ratio(lam_v, float(sig[0]), start))
        k0 = 1
        if math.isinf(sig[0]):  # from pure noise x keeps variance 1: xbar_1 has 1 + b^2
            b1 = float(sig[1])
            total = total + np.log1p((1.0 - lam_v) / (lam_v + b1 * b1))
            k0 = 2
        for k in range(k0, sig.size):
            ak, bk = float(sig[k - 1]), float(sig[k])
            g = gain(ak, bk, lam_v)
            # ln(g^2 (lam + a^2) / (lam + b^2)): the step's change of the ratio Var / target
            total = total + 2 * np.log(np.abs(g)) + np.log(lam_v + ak * ak)
            total = total - np.log(lam_v + bk * bk)
        return total

    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: NoKnobs
    ) -> mpmath.mpf:
        gain = _gain("mpmath")
        lev = list(levels)
        if lev[0] == mpmath.inf:
            var = 1 + lev[1] ** 2
            lev = lev[1:]
        else:
            var = start_variance_mp(eigenvalue, lev[0], start)
        for k in range(1, len(lev)):
            var *= gain(lev[k - 1], lev[k], eigenvalue) ** 2
        return var / (eigenvalue + levels[-1] ** 2)
