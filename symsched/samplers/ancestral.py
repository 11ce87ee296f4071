r"""Euler ancestral with noise fraction eta (= DDIM(eta); = DDPM ancestral at eta = 1).

k-diffusion's ``sample_euler_ancestral``: a DDIM step to :math:`\sigma_{\rm down}` plus fresh noise
of variance :math:`\sigma_{\rm up}^2` (``get_ancestral_step``). In float64 the ratio :math:`r` and
the deficit :math:`e=1-r` are carried together by recursions of positive terms,
:math:`r'=w\cos^2\!\Delta\varphi\,r+\sigma_{\rm up}^2/(\lambda+b^2)` and :math:`e'=w\,(e+\ell r)`
with :math:`w=(\lambda+\sigma_{\rm down}^2)/(\lambda+b^2)` and :math:`\ell` the DDIM variance loss,
so both keep their digits; the 40-digit path runs the direct recursion
:math:`\mathrm{Var}'=g^2\mathrm{Var}+\sigma_{\rm up}^2`. First order
(docs/theory/samplers.md#euler-ancestral-and-ddim-with-eta).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from symsched import numeric
from symsched._options import option
from symsched._typing import FloatArray, Start
from symsched._validate import check_positive
from symsched.gaussian import derive
from symsched.samplers._base import (
    Sampler,
    register_sampler,
    start_log_ratio,
    start_variance_mp,
    to_np,
)
from symsched.samplers._derive import eta_s
from symsched.symbols import a, b, lam

__all__ = ["Ancestral", "AncestralKnobs", "ancestral_levels"]


@dataclass(frozen=True)
class AncestralKnobs:
    """Knobs of ``ancestral``."""

    eta: float = option(
        1.0, "noise fraction eta in [0, 1] (1: DDPM ancestral, 0: DDIM)", metavar="E"
    )

    def __post_init__(self) -> None:
        e = check_positive(self.eta, "eta", allow_zero=True)
        if e > 1:
            raise ValueError(f"eta must be in [0, 1], got {e}")


@functools.cache
def ancestral_levels() -> tuple[sp.Expr, sp.Expr]:
    r"""``get_ancestral_step(a, b, eta)`` of k-diffusion (no clamp).

    :math:`\sigma_{\rm up}=\eta\,b\sqrt{a^2-b^2}/a`, :math:`\sigma_{\rm down}=\sqrt{b^2-\sigma_{\rm up}^2}`
    (:math:`\sigma_{\rm up}\le b` holds for eta <= 1).
    """
    up = eta_s * sp.sqrt(b**2 * (a**2 - b**2) / a**2)
    down = sp.sqrt(b**2 - up**2)
    return sp.simplify(up), sp.simplify(down)


@functools.cache
def _up(backend: str) -> Callable[..., Any]:
    return numeric.lambdify((a, b, eta_s), ancestral_levels()[0], backend)


def _levels(ak: float, bk: float, eta: float) -> tuple[float, float]:
    """``(down, up)`` of the step ``ak -> bk`` (``ak`` may be inf; a final step to 0 adds no noise)."""
    if bk == 0.0:
        return 0.0, 0.0
    up = min(bk, eta * bk) if math.isinf(ak) else min(bk, float(_up("numpy")(ak, bk, eta)))
    return math.sqrt(max(bk * bk - up * up, 0.0)), up


@register_sampler
class Ancestral(Sampler):
    """Euler ancestral / DDIM(eta)."""

    name = "ancestral"
    summary = "Euler ancestral / DDIM(eta) (eta = 1: DDPM ancestral); first order"
    reference = (
        "Ho et al. 2020 (DDPM); Song et al. 2021 (DDIM eta); k-diffusion sample_euler_ancestral"
    )
    order = 1
    knobs = AncestralKnobs
    stochastic = True

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: AncestralKnobs
    ) -> FloatArray:
        r"""Both :math:`r` and :math:`e=1-r` by recursions of positive terms, so each keeps its
        relative accuracy: :math:`r'=w\cos^2 r+\sigma_{\rm up}^2/(\lambda+b^2)` and
        :math:`e'=w(e+\ell r)`; :math:`\ln r` from the smaller of the two."""
        lam_v, sig = eigenvalues, sigmas
        loss = numeric.lambdify((a, b, lam), derive.variance_loss_step(), "numpy")
        cos2 = numeric.lambdify((a, b, lam), derive.cos2_angle_step(), "numpy")
        loss_inf = numeric.lambdify((b, lam), derive.variance_loss_from_pure_noise(), "numpy")
        cos2_inf = numeric.lambdify((b, lam), derive.cos2_pure_noise(), "numpy")
        base = to_np(start_log_ratio(lam_v, float(sig[0]), start))
        r = np.exp(base)  # Var / target at the start
        e = -np.expm1(base)  # the deficit 1 - r
        for k in range(1, sig.size):
            ak, bk = float(sig[k - 1]), float(sig[k])
            down, up = _levels(ak, bk, knobs.eta)
            if math.isinf(ak):
                ell, c2 = loss_inf(down, lam_v), cos2_inf(down, lam_v)
            else:
                ell, c2 = loss(ak, down, lam_v), cos2(ak, down, lam_v)
            w = (lam_v + down * down) / (lam_v + bk * bk)
            r, e = w * c2 * r + up * up / (lam_v + bk * bk), w * (e + ell * r)
        with np.errstate(divide="ignore"):
            out: FloatArray = np.where(r < 0.5, np.log(r), np.log1p(-e))
        return out

    def variance_ratio_mp(
        self,
        eigenvalue: mpmath.mpf,
        levels: Sequence[mpmath.mpf],
        start: Start,
        knobs: AncestralKnobs,
    ) -> mpmath.mpf:
        gain = numeric.lambdify((a, b, lam), derive.ddim_gain_rho(), "mpmath")
        up_f = _up("mpmath")
        eta = mpmath.mpf(knobs.eta)
        var = None if levels[0] == mpmath.inf else start_variance_mp(eigenvalue, levels[0], start)
        for k in range(1, len(levels)):
            ak, bk = levels[k - 1], levels[k]
            if bk == 0:
                up = mpmath.mpf(0)
            elif ak == mpmath.inf:
                up = min(bk, eta * bk)
            else:
                up = min(bk, up_f(ak, bk, eta))
            down = mpmath.sqrt(max(bk**2 - up**2, 0))
            # a DDIM step to down (from pure noise: variance down^2), then fresh noise up^2
            var = down**2 if var is None else gain(ak, down, eigenvalue) ** 2 * var
            var += up**2
        assert var is not None
        return var / (eigenvalue + levels[-1] ** 2)
