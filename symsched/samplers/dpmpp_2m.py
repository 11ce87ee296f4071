r"""DPM-Solver++(2M) [lu2022, Algorithm 2], as k-diffusion's ``sample_dpmpp_2m`` runs it.

A two-state recursion :math:`\bar x_{i+1}=A_i\bar x_i+B_i\bar x_{i-1}` on :math:`t=-\ln\sigma`;
first order on the first step (no history) and on the last step to 0. Second order
(docs/theory/samplers.md#dpm-solver-2m).

The float64 path runs the equivalent recursion of :func:`dpmpp_2m_ratio_forms` (nonnegative
coefficients, in logs) and is exact to ~1e-13 over the whole input range
(docs/cli.md#input-range), both starts and pure noise; only the method's own second-order terms
cancel there, to its third-order error.
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
from symsched.samplers._network import Denoiser, StepCallback, check_network_inputs
from symsched.samplers.ddim import log_cos2_stable

if TYPE_CHECKING:
    import mpmath
    import sympy as sp


__all__ = ["DPMpp2M", "dpmpp_2m_coefficients", "dpmpp_2m_ratio_forms", "sample"]


@functools.cache
def dpmpp_2m_coefficients() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""The step ``a -> b`` with history ``a_prev``: :math:`\bar x'=A\bar x_a+B\bar x_{\rm prev}`.

    :math:`t=-\ln\sigma`, :math:`h=t_b-t_a`, :math:`r=h_{\rm last}/h`; with
    :math:`D_d=(1+\tfrac1{2r})D_a-\tfrac1{2r}D_{\rm prev}`:
    :math:`\bar x'=\frac{b}{a}\bar x-\operatorname{expm1}(-h)D_d`. Returns ``(A, B, first_order)``.
    """
    import sympy as sp

    from symsched.samplers._derive import a_prev, denoiser_at
    from symsched.symbols import a, b, xbar

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
def dpmpp_2m_ratio_forms() -> dict[str, sp.Expr]:
    r"""The 2M recursion on normalised states with nonnegative coefficients, derived from
    :func:`dpmpp_2m_coefficients`.

    With :math:`T(\rho)=\lambda+\rho^2`, :math:`y=m/\sqrt{T(a)}` (:math:`y^2` is the ratio r up to
    the start term) and :math:`\zeta=\sqrt{T(a)}\,(m/T(a)-m_{\rm prev}/T(a_{\rm prev}))` (the
    change of the scaled denoiser output), the step :math:`m'=Am+Bm_{\rm prev}` is

    .. math:: y'=\cos\Delta\varphi\;y+K\zeta,\qquad \zeta'=\frac{b(a-b)}{\sqrt{T(a)T(b)}}\,y+K\zeta,
       \qquad K=\frac{\lambda(a-b)}{2a\sqrt{T(a)T(b)}}\,H,\quad
       H=\frac{\ln(a/b)}{\ln(a_{\rm prev}/a)}=\frac1r ,

    every coefficient :math:`\ge0` (a first-order step has :math:`K=0`). The float64 path
    carries :math:`\ln y` and :math:`\ln(\zeta/y)`, so the large :math:`A\approx-B\approx H/2`
    of the plain recursion never meet (no :math:`1/r` amplification of round-off) and nothing
    overflows. Returns ``cos``, ``drift`` (the coefficient of :math:`y` in :math:`\zeta'`) and
    ``k0`` (:math:`K/H`), and for the fast path ``inv_norm`` :math:`=1/\sqrt{T(a)T(b)}` with the
    polynomial numerators ``cos_num``, ``drift_num``, ``k0_num`` and ``loss_num`` (the loss over
    ``inv_norm**2``); each identity is checked here when the forms are built.
    """
    import sympy as sp

    from symsched.gaussian import derive
    from symsched.samplers._derive import a_prev
    from symsched.symbols import a, b, lam

    coef_a, coef_b, first = dpmpp_2m_coefficients()
    ta, tb, tp = lam + a**2, lam + b**2, lam + a_prev**2
    cos = sp.factor(derive.ddim_gain_rho() * sp.sqrt(ta) / sp.sqrt(tb))
    drift = sp.factor(sp.together(cos - sp.sqrt(tb) / sp.sqrt(ta)))
    h_ratio = (sp.log(a) - sp.log(b)) / (sp.log(a_prev) - sp.log(a))
    k_full = -coef_b * tp / (sp.sqrt(ta) * sp.sqrt(tb))
    k0 = sp.factor(sp.simplify(sp.expand_log(k_full / h_ratio, force=True)))
    y_coef = (coef_a * ta + coef_b * tp) / (sp.sqrt(ta) * sp.sqrt(tb))
    if sp.simplify(sp.expand_log(y_coef - cos, force=True)) != 0 or k0.has(sp.log):
        raise RuntimeError("dpmpp-2m: the normalised recursion differs from A m + B m_prev")
    if sp.simplify(first - derive.ddim_gain_rho()) != 0:
        raise RuntimeError("dpmpp-2m: the first-order step differs from the DDIM step")
    # the fast path shares 1 / sqrt(T(a) T(b)): each form is a polynomial numerator times it
    inv_norm = 1 / (sp.sqrt(ta) * sp.sqrt(tb))
    loss = derive.variance_loss_step()
    out = {"cos": cos, "drift": drift, "k0": k0, "inv_norm": inv_norm}
    forms = (("cos", cos, 1), ("drift", drift, 1), ("k0", k0, 1), ("loss", loss, 2))
    for key, form, power in forms:
        num = sp.factor(sp.cancel(form / inv_norm**power))
        if num.has(sp.sqrt(ta)) or num.has(sp.sqrt(tb)):
            raise RuntimeError(f"dpmpp-2m: {key} is not a numerator times 1 / sqrt(T(a) T(b))")
        out[key + "_num"] = num
    return out


@functools.cache
def _funcs(backend: str) -> tuple[Callable[..., Any], ...]:
    from symsched.gaussian import derive
    from symsched.samplers._derive import a_prev
    from symsched.symbols import a, b, lam

    ca, cb, first = dpmpp_2m_coefficients()
    return (
        numeric.lambdify((a, b, a_prev, lam), ca, backend),
        numeric.lambdify((a, b, a_prev, lam), cb, backend),
        numeric.lambdify((a, b, lam), first, backend),
        numeric.lambdify((a, b, lam), derive.ddim_gain_rho(), backend),
    )


@functools.cache
def _step_fns() -> dict[str, Callable[..., Any]]:
    from symsched.gaussian import derive
    from symsched.symbols import a, b, lam

    f = dpmpp_2m_ratio_forms()
    out = {}
    for key in ("cos", "drift", "k0"):
        out[key] = numeric.lambdify((a, b, lam), f[key])
        out["log_" + key] = numeric.lambdify((a, b, lam), _stable.log_form(f[key], [a - b]))
    out["loss"] = numeric.lambdify((a, b, lam), derive.variance_loss_step())
    out["inv_norm"] = numeric.lambdify((a, b, lam), f["inv_norm"])
    for key in ("cos", "drift", "k0", "loss"):
        out[key + "_num"] = numeric.lambdify((a, b, lam), f[key + "_num"])
    out["log_loss"] = numeric.lambdify(
        (a, b, lam), _stable.log_form(derive.variance_loss_step(), [a - b])
    )
    return out


def _step_logs(
    ak: float, bk: float, lam_v: FloatArray, fast_lam: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(ln cos, ln loss, ln drift, ln k0)`` of the step ``ak -> bk``, anywhere in the range."""
    f = _step_fns()
    step_fast = _stable.fast_level(ak) and _stable.fast_level(bk)

    def log_of(key: str) -> FloatArray:
        def direct(lv: FloatArray) -> FloatArray:
            out: FloatArray = np.log(f[key](ak, bk, lv))
            return out

        def log_form(lv: FloatArray) -> FloatArray:
            out: FloatArray = f["log_" + key](ak, bk, lv)
            return out

        return _stable.by_window(lam_v, fast_lam, step_fast, direct, log_form)

    with np.errstate(divide="ignore"):
        return log_of("cos"), log_of("loss"), log_of("drift"), log_of("k0")


def _inv_step_ratio(sig: FloatArray, k: int) -> float:
    r""":math:`H=1/r=\ln(a/b)/\ln(a_{\rm prev}/a)` of step k (``log_ratio`` keeps close levels)."""
    ak, bk = float(sig[k - 1]), float(sig[k])
    return float(_stable.log_ratio(ak, bk)) / float(_stable.log_ratio(float(sig[k - 2]), ak))


def _log_y_linear(lam_v: FloatArray, sig: FloatArray) -> FloatArray:
    r""":math:`\ln y_N` with :math:`\zeta/y` carried linearly (eigenvalues, levels in window).

    The recursion is elementwise in the eigenvalues: it runs over cache-sized blocks of them
    (:func:`symsched.samplers._stable.eigen_blocks`), every step's scalars (the levels, the
    step-size ratio :math:`H`) computed once, the arithmetic in place in per-block buffers.
    """
    f = _step_fns()
    k0 = 2 if math.isinf(sig[0]) else 1
    # (a, b, H * [second order]) per step; H = 0 marks a first-order step (kz = 0 exactly)
    steps = [
        (
            float(sig[k - 1]),
            float(sig[k]),
            0.0 if k == k0 or sig[k] == 0.0 else _inv_step_ratio(sig, k),
        )
        for k in range(k0, sig.size)
    ]
    out = np.empty_like(lam_v)
    for blk in _stable.eigen_blocks(lam_v.size):
        out[blk] = _log_y_block(np.ascontiguousarray(lam_v[blk]), sig, k0, steps, f)
    return out


def _log_y_block(
    lam_v: FloatArray,
    sig: FloatArray,
    k0: int,
    steps: list[tuple[float, float, float]],
    f: dict[str, Callable[..., Any]],
) -> FloatArray:
    """:func:`_log_y_linear` on one block of eigenvalues (the recursion, buffers reused)."""
    if k0 == 2:  # from pure noise (DDIM limit): Var = b^2; the next step first order
        log_y = np.asarray(0.5 * log_cos2_stable(math.inf, float(sig[1]), lam_v), dtype=np.float64)
    else:
        log_y = np.zeros_like(lam_v)
    z = np.zeros_like(lam_v)  # zeta / y; zeta = 0 before the first step
    inv, cos, loss, kz, u = (np.empty_like(lam_v) for _ in range(5))
    for ak, bk, h in steps:
        np.copyto(inv, f["inv_norm"](ak, bk, lam_v))  # the forms share 1 / sqrt(T(a) T(b))
        np.multiply(f["cos_num"](ak, bk, lam_v), inv, out=cos)
        np.multiply(inv, inv, out=loss)
        np.multiply(f["loss_num"](ak, bk, lam_v), loss, out=loss)
        second = h != 0.0  # first order (kz = 0): the first step and the last step to 0
        if second:
            np.multiply(f["k0_num"](ak, bk, lam_v), inv, out=kz)
            np.multiply(z, h, out=u)
            kz *= u
        # u = kz - loss / (1 + cos)
        np.add(cos, 1.0, out=u)
        np.divide(loss, u, out=u)
        if second:
            np.subtract(kz, u, out=u)
        else:
            np.negative(u, out=u)
        if float(loss.max()) < 0.25 and (not second or float(kz.max()) < 0.25):
            np.log1p(u, out=u)
        else:
            k_z = kz if second else np.zeros_like(lam_v)
            gentle = (loss < 0.25) & (k_z < 0.25)
            with np.errstate(divide="ignore"):  # cos = kz = 0 only after pure noise -> 0
                u[...] = np.where(gentle, np.log1p(np.where(gentle, u, 0.0)), np.log(cos + k_z))
        log_y += u
        # z = (drift + kz) / (cos + kz)
        np.multiply(f["drift_num"](ak, bk, lam_v), inv, out=z)
        if second:
            z += kz
            cos += kz
        z /= cos
    return log_y


def _log_y_logs(lam_v: FloatArray, sig: FloatArray) -> FloatArray:
    r""":math:`\ln y_N` with every quantity in logs: anywhere in the input range."""
    off = np.zeros(lam_v.shape, dtype=bool)
    log_y = np.zeros_like(lam_v)
    log_z = np.full_like(lam_v, -np.inf)  # ln(zeta / y); zeta = 0 before the first step
    k0 = 1
    if math.isinf(sig[0]):
        log_y = 0.5 * log_cos2_stable(math.inf, float(sig[1]), lam_v)
        k0 = 2
    for k in range(k0, sig.size):
        ak, bk = float(sig[k - 1]), float(sig[k])
        lc, ll, ld, lk0 = _step_logs(ak, bk, lam_v, off)
        if k == k0 or bk == 0.0:
            lb = np.full_like(lam_v, -np.inf)
        else:
            lb = lk0 + math.log(_inv_step_ratio(sig, k)) + log_z  # ln(K zeta / y)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            cos, loss, kz = np.exp(lc), np.exp(ll), np.exp(lb)
            gentle = (loss < 0.25) & (lb < math.log(0.25))
            u = np.where(gentle, kz - loss / (1.0 + cos), 0.0)
            dly = np.where(gentle, np.log1p(u), np.logaddexp(lc, lb))
        log_z = np.logaddexp(ld, lb) - dly
        log_y = log_y + dly
    return log_y


@register_sampler
class DPMpp2M(Sampler):
    """DPM-Solver++(2M)."""

    name = "dpmpp-2m"
    summary = "DPM-Solver++(2M), second order multistep in log sigma"
    reference = "Lu et al. 2022 (DPM-Solver++), Algorithm 2; k-diffusion sample_dpmpp_2m"
    order = 2
    multistep = True

    def linear_map_form(self) -> LinearMapForm:
        r""":math:`A\bar x_a+B\bar x_{\rm prev}` of :func:`dpmpp_2m_coefficients`; the first step
        (no history) and the last step to 0 are the DDIM step."""
        from symsched.gaussian import derive
        from symsched.symbols import b

        coef_a, coef_b, _ = dpmpp_2m_coefficients()
        g = derive.ddim_gain_rho()
        return LinearMapForm(
            step=coef_a,
            history=coef_b,
            first=g,
            to_zero=g.subs(b, 0),
            pure_noise=pure_noise_limit(g),
        )

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: NoKnobs
    ) -> FloatArray:
        r"""The recursion of :func:`dpmpp_2m_ratio_forms` on :math:`\ln y` and :math:`\ln(\zeta/y)`.

        A step changes :math:`\ln y` by :math:`\ln(\cos\Delta\varphi+K\zeta/y)`; when both
        :math:`\ell=1-\cos^2` and :math:`K\zeta/y` are below 1/4 this is
        ``log1p(K zeta / y - l / (1 + cos))``, the two second-order terms whose difference is the
        method's third-order error (their cancellation, of relative size ~1/h for a log-sigma
        step h, is the only loss of digits left).
        """
        lam_v, sig = eigenvalues, sigmas
        base = to_np(start_log_ratio(lam_v, float(sig[0]), start))
        fast = _stable.fast_eigenvalues(lam_v)
        if not all(math.isinf(v) or _stable.fast_level(float(v)) for v in sig):
            fast = np.zeros_like(fast)
        out = np.empty_like(lam_v)
        if fast.any():
            out[fast] = base[fast] + 2.0 * _log_y_linear(lam_v[fast], sig)
        if not fast.all():
            out[~fast] = base[~fast] + 2.0 * _log_y_logs(lam_v[~fast], sig)
        return out

    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: NoKnobs
    ) -> mpmath.mpf:
        r"""The multiplier :math:`m_k` of :math:`\bar x_k=m_k\bar x_{\rm start}` (the recursion)."""
        import mpmath

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


def sample(model: Denoiser, x: Any, sigmas: Any, *, callback: StepCallback | None = None) -> Any:
    r"""DPM-Solver++(2M) on a denoiser, the loop of k-diffusion's ``sample_dpmpp_2m``
    [lu2022, Algorithm 2].

    With :math:`t=-\ln\sigma`, :math:`h_i=t_{i+1}-t_i` and :math:`r=h_{i-1}/h_i`,

    .. math:: D_d=\Bigl(1+\tfrac1{2r}\Bigr)D(x_i,\sigma_i)-\tfrac1{2r}D(x_{i-1},\sigma_{i-1}),
       \qquad x_{i+1}=\frac{\sigma_{i+1}}{\sigma_i}x_i
       +\Bigl(1-\frac{\sigma_{i+1}}{\sigma_i}\Bigr)D_d,

    first order (:math:`D_d=D(x_i,\sigma_i)`, the DDIM step) on the first step and on a step to
    0 (docs/theory/samplers.md#dpm-solver-2m); N evaluations. The symbolic step on the exact
    denoiser is :func:`dpmpp_2m_coefficients`. Parameters and return value as
    :func:`symsched.samplers.ddim.sample`.
    """
    x, sig = check_network_inputs(model, x, sigmas)
    old: Any = None
    for i in range(sig.size - 1):
        s, t = float(sig[i]), float(sig[i + 1])
        den = model(x, s)
        if old is None or t == 0.0:
            dd = den
        else:
            r = (math.log(float(sig[i - 1])) - math.log(s)) / (math.log(s) - math.log(t))
            dd = (1.0 + 1.0 / (2.0 * r)) * den - (1.0 / (2.0 * r)) * old
        # sigma_fn(t_next) / sigma_fn(t) = t / s and -expm1(-h) = 1 - t / s, exactly 1 at t = 0
        keep = -math.expm1(math.log(t) - math.log(s)) if t > 0.0 else 1.0
        x = (t / s) * x + keep * dd
        old = den
        if callback is not None:
            callback({"i": i, "sigma": s, "sigma_next": t, "x": x})
    return x
