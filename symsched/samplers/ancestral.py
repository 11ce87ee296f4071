r"""Euler ancestral with noise fraction eta (= DDIM(eta); = DDPM ancestral at eta = 1).

k-diffusion's ``sample_euler_ancestral``: a DDIM step to :math:`\sigma_{\rm down}` plus fresh noise
of variance :math:`\sigma_{\rm up}^2` (``get_ancestral_step``). In float64 the ratio :math:`r` and
the deficit :math:`e=1-r` are carried together by recursions of positive terms,
:math:`r'=w\cos^2\!\Delta\varphi\,r+\sigma_{\rm up}^2/(\lambda+b^2)` and :math:`e'=w\,(e+\ell r)`
with :math:`w=(\lambda+\sigma_{\rm down}^2)/(\lambda+b^2)` and :math:`\ell` the DDIM variance loss,
so both keep their digits; the 40-digit path runs the direct recursion
:math:`\mathrm{Var}'=g^2\mathrm{Var}+\sigma_{\rm up}^2`. First order
(docs/theory/samplers.md#euler-ancestral-and-ddim-with-eta). Outside the fast window the same
recursion runs in logs with the levels of :func:`ancestral_levels_stable`, so the float64 path is
exact to ~1e-13 over the whole input range (docs/cli.md#input-range), any eta, both starts.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from symsched import numeric
from symsched._options import option
from symsched._typing import FloatArray, Start
from symsched._validate import check_positive
from symsched.samplers import _stable
from symsched.samplers._base import (
    Sampler,
    register_sampler,
    start_log_ratio,
    start_variance_mp,
    to_np,
)
from symsched.samplers._linear import LinearMapForm, pure_noise_limit

if TYPE_CHECKING:
    import mpmath
    import sympy as sp


__all__ = ["Ancestral", "AncestralKnobs", "ancestral_levels", "ancestral_levels_stable"]


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

    :math:`\sigma_{\rm up}=\eta\,b\sqrt{a^2-b^2}/a`,
    :math:`\sigma_{\rm down}=\sqrt{b^2-\sigma_{\rm up}^2}`
    (:math:`\sigma_{\rm up}\le b` holds for eta <= 1).
    """
    import sympy as sp

    from symsched.samplers._derive import eta_s
    from symsched.symbols import a, b

    up = eta_s * sp.sqrt(b**2 * (a**2 - b**2) / a**2)
    down = sp.sqrt(b**2 - up**2)
    return sp.simplify(up), sp.simplify(down)


@functools.cache
def ancestral_levels_stable() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""``(up, down, gap)`` of :func:`ancestral_levels`, free of overflow and cancellation.

    :math:`\sigma_{\rm up}=\eta\,b\sqrt{a-b}\sqrt{a+b}/a`, and with :math:`t=b/a`,
    :math:`\sigma_{\rm down}=b\sqrt{(1-\eta)(1+\eta)+\eta^2t^2}` (no :math:`a^2`, no :math:`1-t`
    of close levels, no :math:`1-\eta^2(1-t^2)` that cancels to :math:`t^2` at :math:`\eta=1`),
    and the DDIM part's step :math:`a-\sigma_{\rm down}=(a-b)\bigl(1+\eta^2\,t\,\tfrac{a+b}{a}
    /(1+\sigma_{\rm down}/b)\bigr)`, a sum of positive terms where the plain difference of two
    close levels would lose digits. Each equals the derived form (checked here). At
    :math:`a=\infty` the caller takes the pure-noise limits :math:`\eta b` and
    :math:`b\sqrt{1-\eta^2}`.
    """
    import sympy as sp

    from symsched.samplers._derive import eta_s
    from symsched.symbols import a, b

    t = b / a
    ratio = sp.sqrt((1 - eta_s) * (1 + eta_s) + eta_s**2 * t**2)  # sigma_down / b
    up_s = eta_s * b * sp.sqrt(a - b) * sp.sqrt(a + b) / a
    down_s = b * ratio
    gap_s = (a - b) * (1 + eta_s**2 * t * ((a + b) / a) / (1 + ratio))
    up, down = ancestral_levels()
    if (
        sp.simplify(up_s - up) != 0
        or sp.simplify(down_s**2 - down**2) != 0
        or sp.simplify(sp.radsimp(gap_s - (a - down_s))) != 0
    ):
        raise RuntimeError("ancestral: the stable sigma_up / sigma_down differ from the derived")
    return up_s, down_s, gap_s


@functools.cache
def _up(backend: str) -> Callable[..., Any]:
    from symsched.samplers._derive import eta_s
    from symsched.symbols import a, b

    return numeric.lambdify((a, b, eta_s), ancestral_levels()[0], backend)


@functools.cache
def _levels_fns() -> tuple[Callable[..., Any], ...]:
    from symsched.samplers._derive import eta_s
    from symsched.symbols import a, b

    return tuple(numeric.lambdify((a, b, eta_s), e) for e in ancestral_levels_stable())


def _levels(ak: float, bk: float, eta: float) -> tuple[float, float, float]:
    """``(down, up, a - down)`` of the step ``ak -> bk`` (``ak`` may be inf; a final step to 0
    adds no noise)."""
    if bk == 0.0:
        return 0.0, 0.0, ak
    up_f, down_f, gap_f = _levels_fns()
    if math.isinf(ak):
        return bk * math.sqrt((1.0 - eta) * (1.0 + eta)), min(bk, eta * bk), math.inf
    return float(down_f(ak, bk, eta)), min(bk, float(up_f(ak, bk, eta))), float(gap_f(ak, bk, eta))


def _log_levels(ak: float, bk: float, eta: float) -> tuple[float, float, float]:
    """``(ln down, ln up, ln(a - down))`` of the step (:func:`ancestral_levels_stable` in logs),
    exact even where ``down`` = :math:`b^2/a` underflows."""
    if bk == 0.0:
        return -math.inf, -math.inf, math.log(ak)
    with np.errstate(divide="ignore"):
        lb, la = math.log(bk), math.log(ak)
        le = float(np.log(eta))
        lt2 = 2.0 * (lb - la)  # ln t^2, -inf at a = inf
        lratio = 0.5 * float(np.logaddexp(np.log((1.0 - eta) * (1.0 + eta)), 2.0 * le + lt2))
        if math.isinf(ak):
            return lb + lratio, min(le + lb, lb), math.inf
        lab, lapb = math.log(ak - bk), math.log(ak + bk)
        lu = le + lb + 0.5 * (lab + lapb) - la
        lgap = lab + float(
            np.logaddexp(0.0, 2.0 * le + lb - la + lapb - la - math.log1p(math.exp(lratio)))
        )
    return lb + lratio, min(lu, lb), lgap


@functools.cache
def _log_step_fns() -> dict[str, Callable[..., Any]]:
    r"""Log forms of one ancestral step in the logs of its inputs (:func:`_stable.in_log_inputs`):
    the DDIM loss and :math:`\cos^2` of ``a -> down``, :math:`w=(\lambda+d^2)/(\lambda+b^2)` and
    :math:`\sigma_{\rm up}^2/(\lambda+b^2)`."""
    from symsched.gaussian import derive
    from symsched.samplers._derive import ancestral_down as _d
    from symsched.samplers._derive import ancestral_gap as _g
    from symsched.samplers._derive import ancestral_log_a as _la
    from symsched.samplers._derive import ancestral_log_ab as _lab
    from symsched.samplers._derive import ancestral_log_b as _lb
    from symsched.samplers._derive import ancestral_log_d as _ld
    from symsched.samplers._derive import ancestral_log_lam as _llam
    from symsched.samplers._derive import ancestral_log_u as _lu
    from symsched.samplers._derive import ancestral_up as _u
    from symsched.symbols import a, b, lam

    to_d = {a: _la, b: _ld, _g: _lab, lam: _llam}
    ll = _stable.log_form(derive.variance_loss_step().xreplace({a - b: _g}))
    lc = _stable.log_form(derive.cos2_angle_step(), [a - b])
    ll_inf = _stable.log_form(derive.variance_loss_from_pure_noise())
    lc_inf = _stable.log_form(derive.cos2_pure_noise())
    lw = _stable.log_form((lam + _d**2) / (lam + b**2))
    lu2 = _stable.log_form(_u**2 / (lam + b**2))
    step = (_la, _ld, _lab, _llam)
    return {
        "loss": numeric.lambdify(step, _stable.in_log_inputs(ll, to_d)),
        "cos2": numeric.lambdify(step, _stable.in_log_inputs(lc, to_d)),
        "loss_inf": numeric.lambdify((_ld, _llam), _stable.in_log_inputs(ll_inf, to_d)),
        "cos2_inf": numeric.lambdify((_ld, _llam), _stable.in_log_inputs(lc_inf, to_d)),
        "w": numeric.lambdify(
            (_ld, _lb, _llam), _stable.in_log_inputs(lw, {_d: _ld, b: _lb, lam: _llam})
        ),
        "up2": numeric.lambdify(
            (_lu, _lb, _llam), _stable.in_log_inputs(lu2, {_u: _lu, b: _lb, lam: _llam})
        ),
    }


def _log_recursion(lam_v: FloatArray, sig: FloatArray, base: FloatArray, eta: float) -> FloatArray:
    r"""The r / e recursion in logs: :math:`\ln r'=\operatorname{logaddexp}(\ln w+\ln\cos^2+\ln r,
    \ln(\sigma_{\rm up}^2/(\lambda+b^2)))`, :math:`\ln e'=\ln w+\operatorname{logaddexp}(\ln e,
    \ln\ell+\ln r)`; nothing over- or underflows anywhere in the input range."""
    f = _log_step_fns()
    llam = np.log(lam_v)
    log_r = base.copy()
    log_e = _stable.log1m_exp(np.minimum(base, 0.0))
    for k in range(1, sig.size):
        ak, bk = float(sig[k - 1]), float(sig[k])
        ld, lu, lab = _log_levels(ak, bk, eta)
        with np.errstate(divide="ignore"):
            lb = math.log(bk) if bk > 0 else -math.inf
        if math.isinf(ak):
            ll, lc = f["loss_inf"](ld, llam), f["cos2_inf"](ld, llam)
        else:
            la = math.log(ak)
            ll, lc = f["loss"](la, ld, lab, llam), f["cos2"](la, ld, lab, llam)
        lw = f["w"](ld, lb, llam) if bk > 0 else np.zeros_like(lam_v)
        lu2 = f["up2"](lu, lb, llam) if bk > 0 else np.full_like(lam_v, -np.inf)
        log_r, log_e = np.logaddexp(lw + lc + log_r, lu2), lw + np.logaddexp(log_e, ll + log_r)
    out: FloatArray = np.where(log_r < -math.log(2.0), log_r, _stable.log1m_exp(log_e))
    return out


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

    def linear_map_form(self) -> LinearMapForm:
        r"""A DDIM step to :math:`\sigma_{\rm down}`, then noise :math:`\sigma_{\rm up}^2`
        (:func:`ancestral_levels`); from pure noise :math:`u_1=\sigma_{\rm down}=b\sqrt{1-\eta^2}`
        (the DDIM limit at the level :math:`\sigma_{\rm down}`) and noise :math:`\eta^2b^2`."""
        import sympy as sp

        from symsched.gaussian import derive
        from symsched.samplers._derive import eta_s
        from symsched.symbols import a, b

        up, down = ancestral_levels()
        g = derive.ddim_gain_rho().subs(b, down)
        pn = pure_noise_limit(derive.ddim_gain_rho()).subs(b, sp.limit(down, a, sp.oo))
        return LinearMapForm(
            step=g,
            noise=up**2,
            to_zero=derive.ddim_gain_rho().subs(b, 0),
            pure_noise=pn,
            pure_noise_noise=sp.limit(up**2, a, sp.oo),
            knob_symbols=(eta_s,),
        )

    def knob_values(self, knobs: AncestralKnobs) -> tuple[float, ...]:
        return (float(knobs.eta),)

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: AncestralKnobs
    ) -> FloatArray:
        r"""Both :math:`r` and :math:`e=1-r` by recursions of positive terms, so each keeps its
        relative accuracy: :math:`r'=w\cos^2 r+\sigma_{\rm up}^2/(\lambda+b^2)` and
        :math:`e'=w(e+\ell r)`; :math:`\ln r` from the smaller of the two."""
        lam_v, sig = eigenvalues, sigmas
        base = to_np(start_log_ratio(lam_v, float(sig[0]), start))
        fast_lam = _stable.fast_eigenvalues(lam_v)
        if not all(math.isinf(v) or _stable.fast_level(float(v)) for v in sig):
            fast_lam = np.zeros_like(fast_lam)
        out = np.empty_like(lam_v)
        if not fast_lam.all():
            slow = ~fast_lam
            out[slow] = _log_recursion(lam_v[slow], sig, base[slow], knobs.eta)
        if fast_lam.any():
            out[fast_lam] = self._linear_recursion(lam_v[fast_lam], sig, base[fast_lam], knobs)
        return out

    def _linear_recursion(
        self, lam_v: FloatArray, sig: FloatArray, base: FloatArray, knobs: AncestralKnobs
    ) -> FloatArray:
        """The recursion on r and e in float64, for eigenvalues and levels in the fast window."""
        from symsched.gaussian import derive
        from symsched.samplers._derive import ancestral_gap as _g
        from symsched.symbols import a, b, lam

        loss = numeric.lambdify((a, b, _g, lam), derive.variance_loss_step().xreplace({a - b: _g}))
        cos2 = numeric.lambdify((a, b, lam), derive.cos2_angle_step(), "numpy")
        loss_inf = numeric.lambdify((b, lam), derive.variance_loss_from_pure_noise(), "numpy")
        cos2_inf = numeric.lambdify((b, lam), derive.cos2_pure_noise(), "numpy")
        # the levels of every step once; the recursion, elementwise in the eigenvalues, runs over
        # cache-sized blocks of them with its arithmetic in place (same operations, same order)
        pairs = zip(sig[:-1].tolist(), sig[1:].tolist(), strict=True)
        steps = [(ak, bk, *_levels(ak, bk, knobs.eta)) for ak, bk in pairs]
        out: FloatArray = np.empty_like(lam_v)
        for blk in _stable.eigen_blocks(lam_v.size):
            lv = np.ascontiguousarray(lam_v[blk])
            r = np.exp(base[blk])  # Var / target at the start
            e = -np.expm1(base[blk])  # the deficit 1 - r
            tb, w, t = (np.empty_like(lv) for _ in range(3))
            for ak, bk, down, up, gap in steps:
                if math.isinf(ak):
                    ell, c2 = loss_inf(down, lv), cos2_inf(down, lv)
                else:
                    ell, c2 = loss(ak, down, gap, lv), cos2(ak, down, lv)
                np.add(lv, bk * bk, out=tb)
                np.add(lv, down * down, out=w)
                w /= tb  # w = (lam + down^2) / (lam + b^2)
                np.multiply(ell, r, out=t)  # e' = w (e + ell r)
                e += t
                e *= w
                np.multiply(w, c2, out=t)  # r' = w c2 r + up^2 / (lam + b^2)
                r *= t
                np.divide(up * up, tb, out=tb)
                r += tb
            with np.errstate(divide="ignore"):  # r = 0 after one step from pure noise to 0
                out[blk] = np.where(r < 0.5, np.log(r), np.log1p(-np.minimum(e, 0.5)))
        return out

    def variance_ratio_mp(
        self,
        eigenvalue: mpmath.mpf,
        levels: Sequence[mpmath.mpf],
        start: Start,
        knobs: AncestralKnobs,
    ) -> mpmath.mpf:
        import mpmath

        from symsched.gaussian import derive
        from symsched.symbols import a, b, lam

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
