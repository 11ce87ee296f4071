r"""Euler on the VP probability-flow ODE *in x* (not in :math:`\bar x`).

:math:`dx/d\tau=-\tfrac12(x+\nabla_x\log p_\tau(x))` on the clock
:math:`\tau=-\ln\bar\alpha=\ln(1+\rho^2)` (:math:`d\tau=\beta(t)dt` for any VP schedule), so the
result depends only on the visited levels. Unlike DDIM it is not exact for one step; first order
[sun2026, §3 extended] (docs/theory/samplers.md#euler-on-the-vp-pf-ode).

The float64 path (:func:`log_step_factor`) is exact to ~1e-13 over the whole input range
(docs/cli.md#input-range), both starts and pure noise: the log1pmx identity of
:func:`euler_vp_step_forms` for small steps, log forms outside the fast window. For
:math:`\lambda<1` the steps raise r while a prior start lowers it; near an exact cancellation
the error is ~1e-13 of the terms' sum, not of ln r.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from symsched import numeric
from symsched._typing import BoolArray, FloatArray, Start
from symsched.samplers import _stable
from symsched.samplers._base import (
    NoKnobs,
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


__all__ = [
    "EulerVP",
    "euler_vp_gain",
    "euler_vp_step_forms",
    "log_pure_noise_factor",
    "log_step_factor",
]


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
    import sympy as sp

    from symsched.gaussian import derive
    from symsched.symbols import a, b, x

    v_a = derive.marginal_variance_vp(1 / (1 + a**2))
    score = sp.diff(derive.gaussian_log_density(x, v_a), x)
    drift = sp.cancel(-(x + score) / 2 / x)  # f(x) / x, rational in a and lam
    dtau = -numeric.LOG1P((a - b) * (a + b) / (1 + b**2))
    plain = sp.log(1 + b**2) - sp.log(1 + a**2)
    if sp.simplify(sp.expand_log(dtau.rewrite(sp.log) - plain, force=True)) != 0:
        raise RuntimeError("euler-vp: the stable clock step differs from log(1+b^2) - log(1+a^2)")
    return (1 + dtau * drift) * sp.sqrt(1 + b**2) / sp.sqrt(1 + a**2)


@functools.cache
def euler_vp_step_forms() -> dict[str, sp.Expr]:
    r"""The pieces of :math:`\ln q`, :math:`q=g^2(\lambda+a^2)/(\lambda+b^2)`, from the gain.

    With :math:`\delta=(a-b)(a+b)/(1+b^2)` (the ``log1p`` argument of :func:`euler_vp_gain`),
    :math:`L=\operatorname{log1p}\delta`, :math:`k=(\lambda-1)/(\lambda+a^2)`, the gain is
    :math:`g=(1+x)\sqrt{(1+b^2)/(1+a^2)}` with :math:`x=kL/2`, and :math:`q=(1+x)^2(1+y)` with
    :math:`1+y=R=\frac{(1+b^2)(\lambda+a^2)}{(1+a^2)(\lambda+b^2)}`. For small steps
    :math:`2x` and :math:`y` cancel to :math:`O(h^2)`; the identity
    :math:`2x+y=k\delta\,\bigl((\operatorname{log1p}\delta-\delta)/\delta-y\bigr)` removes the
    cancellation:

    .. math:: \ln q=2\,\mathrm{log1pmx}(x)+\mathrm{log1pmx}(y)
       +k\delta\Bigl(\frac{\mathrm{log1pmx}(\delta)}{\delta}-y\Bigr),\qquad
       \mathrm{log1pmx}(z)=\ln(1+z)-z .

    Returns the dict ``delta, k, k_delta, y, ratio`` and, for the first step from pure noise
    (where x keeps variance 1, so :math:`\mathrm{Var}=1+b^2`), ``y0`` and ``ratio0`` with
    :math:`1+y_0=(1+b^2)/(\lambda+b^2)`. Each identity is checked here when the forms are built.
    """
    import sympy as sp

    from symsched.symbols import a, b, lam

    g = euler_vp_gain()
    (l1p,) = g.atoms(numeric.LOG1P)
    delta = l1p.args[0]
    k = (lam - 1) / (lam + a**2)
    bracket = sp.cancel(g * sp.sqrt(1 + a**2) / sp.sqrt(1 + b**2))
    if sp.simplify(bracket - 1 - k * l1p / 2) != 0:
        raise RuntimeError("euler-vp: the gain is not (1 + k L / 2) sqrt((1 + b^2) / (1 + a^2))")
    ratio = sp.factor(sp.cancel((1 + b**2) * (lam + a**2) / ((1 + a**2) * (lam + b**2))))
    q = g**2 * (lam + a**2) / (lam + b**2)
    if sp.simplify(q - (1 + k * l1p / 2) ** 2 * ratio) != 0:
        raise RuntimeError("euler-vp: q differs from (1 + x)^2 R")
    y = sp.factor(sp.cancel(ratio - 1))
    k_delta = sp.factor(k * delta)
    if sp.simplify(k * l1p + y - k_delta * ((l1p - delta) / delta - y)) != 0:
        raise RuntimeError("euler-vp: 2x + y differs from k delta (log1pmx(delta) / delta - y)")
    ratio0 = (1 + b**2) / (lam + b**2)
    return {
        "delta": delta,
        "k": k,
        "k_delta": k_delta,
        "y": y,
        "ratio": ratio,
        "y0": sp.factor(sp.cancel(ratio0 - 1)),
        "ratio0": ratio0,
    }


@functools.cache
def _gain(backend: str) -> Callable[..., Any]:
    from symsched.symbols import a, b, lam

    return numeric.lambdify((a, b, lam), euler_vp_gain(), backend)


@functools.cache
def _step_fns() -> dict[str, Callable[..., Any]]:
    from symsched.symbols import a, b, lam

    f = euler_vp_step_forms()
    pos = [a - b]
    out = {}
    for key in ("k", "k_delta", "y", "ratio", "delta"):
        out[key] = numeric.lambdify((a, b, lam), f[key])
    for key in ("k", "k_delta", "y"):
        out["log_" + key] = numeric.lambdify((a, b, lam), _stable.log_abs_form(f[key], pos)[0])
    out["log_ratio"] = numeric.lambdify((a, b, lam), _stable.log_form(f["ratio"], pos))
    out["log_delta"] = numeric.lambdify((a, b, lam), _stable.log_form(f["delta"], pos))
    out["y0"] = numeric.lambdify((b, lam), f["y0"])
    out["ratio0"] = numeric.lambdify((b, lam), f["ratio0"])
    out["log_y0"] = numeric.lambdify((b, lam), _stable.log_abs_form(f["y0"])[0])
    out["log_ratio0"] = numeric.lambdify((b, lam), _stable.log_form(f["ratio0"]))
    return out


def _signed(log_abs: FloatArray, sign: FloatArray) -> FloatArray:
    with np.errstate(over="ignore"):
        out: FloatArray = sign * np.exp(log_abs)
    return out


@functools.lru_cache(maxsize=1 << 16)
def _step_scalars(ak: float, bk: float) -> tuple[float, float, float]:
    r"""``(ln delta, delta, log1pmx(delta) / delta)`` of the step ``ak -> bk``: functions of the
    levels only, computed once per step (cached: the blocked sum over eigenvalues,
    :func:`symsched.samplers._stable.sum_log_steps`, visits every step once per block)."""
    log_delta = float(np.asarray(_step_fns()["log_delta"](ak, bk, 1.0)))
    with np.errstate(over="ignore"):
        delta = math.exp(log_delta) if log_delta < 709.0 else math.inf
    return log_delta, delta, float(_stable.log1pmx_over_x(delta))


def log_step_factor(ak: float, bk: float, lam_v: FloatArray, fast_lam: BoolArray) -> FloatArray:
    r""":math:`\ln q` of one step ``ak -> bk`` (:func:`euler_vp_step_forms`) anywhere in the range.

    ``2 log1p(x) + ln R`` when :math:`x` or :math:`y` exceeds 1/2 in size (nothing cancels
    there), the ``log1pmx`` identity otherwise. Inside the fast window the pieces are the derived
    forms compiled as they are, outside their log forms (:mod:`symsched.samplers._stable`).
    """
    f = _step_fns()
    log_delta, delta, l1mx_delta = _step_scalars(ak, bk)

    def fast(lv: FloatArray) -> FloatArray:
        k_l = f["k"](ak, bk, lv) * math.log1p(delta)
        log_r = lambda m: np.log(f["ratio"](ak, bk, lv[m]))  # noqa: E731
        return combine(k_l, f["y"](ak, bk, lv), f["k_delta"](ak, bk, lv), log_r)

    def stable(lv: FloatArray) -> FloatArray:
        sign = np.sign(lv - 1.0)
        k_delta = _signed(f["log_k_delta"](ak, bk, lv), sign)
        # k L = (k delta) (L / delta) while delta < 1 (delta may underflow), k L beyond (it may
        # overflow)
        if log_delta < 0.0:
            k_l = k_delta * float(_stable.log1p_over_x(delta))
        else:
            k_l = _signed(f["log_k"](ak, bk, lv), sign) * float(_stable.log_one_plus(log_delta))
        log_r = lambda m: f["log_ratio"](ak, bk, lv[m])  # noqa: E731
        return combine(k_l, _signed(f["log_y"](ak, bk, lv), -sign), k_delta, log_r)

    def combine(
        k_l: FloatArray, y: FloatArray, kd: FloatArray, log_ratio: Callable[[Any], FloatArray]
    ) -> FloatArray:
        x = 0.5 * k_l
        gentle = (np.abs(x) <= 0.5) & (np.abs(y) <= 0.5)
        if gentle.all():  # the common case: no subsets
            out: FloatArray = 2.0 * _stable.log1pmx(x) + _stable.log1pmx(y) + kd * (l1mx_delta - y)
            return out
        out = np.empty_like(x)
        if gentle.any():
            xg, yg = x[gentle], y[gentle]
            out[gentle] = (
                2.0 * _stable.log1pmx(xg) + _stable.log1pmx(yg) + kd[gentle] * (l1mx_delta - yg)
            )
        far = ~gentle
        if far.any():
            xf, yf = x[far], y[far]
            with np.errstate(invalid="ignore", divide="ignore"):
                keep = np.log1p(np.maximum(yf, -0.5))
                low = yf <= -0.5  # R < 1/2: ln R from its own form
                if low.any():
                    keep[low] = log_ratio(np.flatnonzero(far)[low])
                out[far] = 2.0 * np.log1p(xf) + keep
        return out

    step_fast = _stable.fast_level(ak) and _stable.fast_level(bk)
    return _stable.by_window(lam_v, fast_lam, step_fast, fast, stable)


def log_pure_noise_factor(b1: float, lam_v: FloatArray, fast_lam: BoolArray) -> FloatArray:
    r""":math:`\ln((1+b^2)/(\lambda+b^2))`, the ratio after the first step from pure noise."""
    f = _step_fns()

    def keep(y0: FloatArray, log_ratio0: FloatArray) -> FloatArray:
        out: FloatArray = np.where(y0 > -0.5, np.log1p(np.maximum(y0, -0.5)), log_ratio0)
        return out

    return _stable.by_window(
        lam_v,
        fast_lam,
        _stable.fast_level(b1),
        lambda lv: keep(f["y0"](b1, lv), np.log(f["ratio0"](b1, lv))),
        lambda lv: keep(_signed(f["log_y0"](b1, lv), np.sign(1.0 - lv)), f["log_ratio0"](b1, lv)),
    )


@register_sampler
class EulerVP(Sampler):
    """Euler on the VP PF-ODE in x."""

    name = "euler-vp"
    summary = "Euler on the VP probability-flow ODE in x (first order)"
    reference = "Song et al. 2021 (SDE, Eq. 13 PF-ODE); Sun et al. 2026, §3 extended"
    order = 1

    def linear_map_form(self) -> LinearMapForm:
        """The gain :func:`euler_vp_gain`; from pure noise its limit
        (:func:`symsched.samplers._linear.pure_noise_limit`)."""
        g = euler_vp_gain()
        return LinearMapForm(step=g, pure_noise=pure_noise_limit(g))

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: NoKnobs
    ) -> FloatArray:
        lam_v, sig = eigenvalues, sigmas
        fast_lam = _stable.fast_eigenvalues(lam_v)
        total = to_np(start_log_ratio(lam_v, float(sig[0]), start))
        k0 = 1
        if math.isinf(sig[0]):  # from pure noise x keeps variance 1: xbar_1 has 1 + b^2
            total = total + log_pure_noise_factor(float(sig[1]), lam_v, fast_lam)
            k0 = 2
        return _stable.sum_log_steps(log_step_factor, lam_v, sig, total, first=k0, fast=fast_lam)

    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: NoKnobs
    ) -> mpmath.mpf:
        import mpmath

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
