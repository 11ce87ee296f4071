r"""Heun's method on the velocity ODE of a rectified flow, in flow time (``flow-heun``).

For :math:`x_t=(1-t)x_0+t\epsilon` the scaled state :math:`\bar x=x/(1-t)` has noise level
:math:`\rho=t/(1-t)` (docs/theory/flow.md), so a grid of flow times is a grid of levels
:math:`t=\rho/(1+\rho)`. A step :math:`t_a\to t_b>0` is the Euler predictor plus the trapezoidal
corrector *in t* (:func:`symsched.flow.derive.heun_flow_step`), as diffusers'
``FlowMatchHeunDiscreteScheduler`` runs it; the final step to :math:`t=0` is the Euler step alone,
which is the DDIM step (:func:`symsched.flow.derive.euler_flow_minus_ddim`). This is not EDM's
Heun in :math:`\rho` (``heun``): the two differ at second order
(:func:`symsched.flow.derive.heun_flow_minus_heun_rho`), and unlike ``heun`` this sampler starts
from pure noise (:math:`\rho=\infty` is :math:`t=1`, where the velocity is finite). Second order;
two velocity evaluations per step, one for a final step to 0
(docs/theory/samplers.md#heun-in-flow-time).

DPM-Solver++ in :math:`\lambda=-\ln\rho` with the data prediction needs no flow counterpart:
written in :math:`\bar x` and :math:`\rho` it *is* the flow-time algorithm (the exponential
integrator is exact for the linear part of the ODE in every time variable), so ``dpmpp-2m`` applies
to flows unchanged (diffusers' ``DPMSolverMultistepScheduler(use_flow_sigmas=True)``; claim
``flow.diffusers-end-to-end``).

The float64 path (:func:`log_step_factor`) is exact to ~1e-13 over the whole input range
(docs/cli.md#input-range), both starts and pure noise. A step changes :math:`\ln r` by
:math:`\ln q` with :math:`q-1=\pi\,[(b-\lambda)A+(a-b)B]` (:func:`flow_heun_step_forms`;
:math:`\pi,A,B>0`): the bracket is evaluated from the logs of its two terms, and where they nearly
cancel (the step neither raises nor lowers r) from its factored form, a quadratic in
:math:`\lambda` with exact coefficients and 40-digit roots, each :math:`\lambda-r` in
double-double, so no digits are lost anywhere.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
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


__all__ = ["FlowHeun", "flow_heun_gain", "flow_heun_step_forms", "log_step_factor", "sample"]

# where the two terms of the bracket are within this distance in log, the bracket is taken from its
# factored form (exact coefficients, 40-digit roots): the float64 difference of two logs good to
# ~1e-13 absolute would give the bracket to ~1e-13 / |t1 - t2| relative, 1e-12 at this edge
_CANCEL_EDGE = 0.1
# a root of the bracket beyond this is out of reach of every eigenvalue (<= 1e300): ln|lam - r|
# then goes through ln|r| + log1p(-lam / r), |lam / r| <= 1e-7
_HUGE_ROOT = 1e307


def flow_time(level: sp.Expr) -> sp.Expr:
    r""":math:`t(\rho)=\rho/(1+\rho)`, the flow time of a level, solved from
    :func:`symsched.flow.derive.noise_level_of_flow_time`."""
    import sympy as sp

    from symsched.flow import derive as flow_derive

    rho_of_t = flow_derive.noise_level_of_flow_time()
    (t_sym,) = rho_of_t.free_symbols
    (sol,) = sp.solve(sp.Eq(rho_of_t, level), t_sym)
    return sp.simplify(sol)


@functools.cache
def flow_heun_gain() -> tuple[sp.Expr, sp.Expr]:
    r"""Gain on :math:`\bar x` of one flow-Heun step ``a -> b > 0`` and of the Euler step to 0.

    :func:`symsched.flow.derive.heun_flow_step` at :math:`t_a=t(a)`, :math:`t_b=t(b)` with the
    exact denoiser :math:`D=\lambda\bar x/(\lambda+\rho^2)` at the state and at the predictor.
    Derived:

    .. math:: g=\frac{2ab^3(1+a)+a^2\lambda(1+3b)+2\lambda^2(1+a)+b^2\lambda(3+b)}
       {2(1+a)(\lambda+a^2)(\lambda+b^2)},\qquad
       g_{\rm heun}-g=\frac{\lambda(a-b)^3}{2(1+a)(\lambda+a^2)(\lambda+b^2)},

    and the step to 0, :math:`\lambda/(\lambda+a^2)`, is the DDIM gain at :math:`b=0`. Returns
    ``(step, to_zero)``; raises ``RuntimeError`` if the predictor is not the DDIM step.
    """
    import sympy as sp

    from symsched.flow import derive as flow_derive
    from symsched.gaussian import derive
    from symsched.samplers._derive import denoiser_at
    from symsched.symbols import a, b, xbar

    pred, corr = flow_derive.heun_flow_step()
    times = {flow_derive.t_a: flow_time(a), flow_derive.t_b: flow_time(b)}
    d_a = denoiser_at(a).subs(xbar, flow_derive.xbar_flow)
    pred_x = pred.subs(flow_derive.denoised_a, d_a).subs(times)
    if sp.simplify(pred_x / flow_derive.xbar_flow - derive.ddim_gain_rho()) != 0:
        raise RuntimeError("flow-heun: the Euler predictor in t differs from the DDIM step")
    d_b = denoiser_at(b).subs(xbar, pred_x)
    step = corr.subs(flow_derive.denoised_b, d_b).subs(flow_derive.denoised_a, d_a).subs(times)
    gain = sp.factor(sp.simplify(step / flow_derive.xbar_flow))
    return gain, derive.ddim_gain_rho().subs(b, 0)


def _split(poly: sp.Expr, rest: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    r"""``(A, B)`` with ``poly`` :math:`=(b-\lambda)A+\mathrm{rest}\cdot B`, B free of a and b."""
    import sympy as sp

    from symsched.symbols import a, b, lam

    base = sp.factor(sp.cancel(poly.subs(b, lam) / rest.subs(b, lam)))
    slope = sp.cancel((poly - rest * base) / (b - lam))
    if base.has(a) or base.has(b) or sp.denom(slope) != 1:
        raise RuntimeError("flow-heun: the bracket does not split as (b - lam) A + rest B")
    return sp.expand(slope), base


@functools.cache
def flow_heun_step_forms() -> dict[str, sp.Expr]:
    r"""The factor :math:`q=g^2(\lambda+a^2)/(\lambda+b^2)` of r per step, cancellation-free.

    Derived from :func:`flow_heun_gain`:

    .. math:: q-1=\pi\,\bigl[(b-\lambda)A+(a-b)B\bigr],\qquad
       \pi=\frac{\lambda(a-b)^3}{4(1+a)^2(\lambda+a^2)(\lambda+b^2)^3},

    :math:`A=4(1+b)(\lambda+b^2)+(a-b)C`, :math:`C=4b^2+b\lambda+\lambda^2+6\lambda`,
    :math:`B=\lambda(1+\lambda)^2`: every factor is positive, and the sign of :math:`q-1` is that of
    the bracket (a step with :math:`b\ge\lambda` always raises r). From pure noise
    (:math:`a=\infty`, :math:`t=1`) the first step leaves
    :math:`r_1=u_1^2/(\lambda+b^2)` (:math:`u_1` the limit of
    :func:`symsched.samplers._linear.pure_noise_limit`), with
    :math:`r_1-1=\pi_0[(b-\lambda)C+B]`, :math:`\pi_0=\lambda/(4(\lambda+b^2)^3)`.

    Returns ``pref, slope, base, keep`` (:math:`\pi, A, B, q`), ``poly`` (the bracket expanded,
    integer coefficients) and the same with suffix ``0`` for the pure-noise step (functions of
    ``b, lam``). Each identity is checked here when the forms are built.
    """
    import sympy as sp

    from symsched.symbols import a, b, lam

    gain, _ = flow_heun_gain()
    ta, tb = lam + a**2, lam + b**2
    keep = sp.factor(sp.cancel(gain**2 * ta / tb))
    pref = lam * (a - b) ** 3 / (4 * (1 + a) ** 2 * ta * tb**3)
    poly = sp.cancel((keep - 1) / pref)
    slope, base = _split(poly, a - b)
    slope_at = sp.factor(slope.subs(a, b))
    c_coef = sp.factor(sp.cancel((slope - slope_at) / (a - b)))
    slope_pos = slope_at + (a - b) * c_coef
    u1 = pure_noise_limit(gain)
    keep0 = sp.factor(sp.cancel(u1**2 / tb))
    pref0 = lam / (4 * tb**3)
    poly0 = sp.cancel((keep0 - 1) / pref0)
    slope0, base0 = _split(poly0, sp.Integer(1))
    checks = (
        sp.denom(poly) == 1 and sp.denom(poly0) == 1,
        sp.expand(poly - (b - lam) * slope_pos - (a - b) * base) == 0,
        sp.expand(poly0 - (b - lam) * slope0 - base0) == 0,
    )
    if not all(checks):
        raise RuntimeError("flow-heun: the split of q - 1 differs from the derived gain")
    for form in (pref, slope_pos, base, keep, pref0, slope0, base0, keep0):
        _stable.log_form(form, [a - b])  # raises unless every factor is positive-structured
    return {
        "pref": pref,
        "slope": slope_pos,
        "base": base,
        "keep": keep,
        "poly": sp.expand(poly),
        "pref0": pref0,
        "slope0": sp.factor(slope0),
        "base0": base0,
        "keep0": keep0,
        "poly0": sp.expand(poly0),
    }


@functools.cache
def _gains(backend: str) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    from symsched.symbols import a, b, lam

    gain, to_zero = flow_heun_gain()
    return (
        numeric.lambdify((a, b, lam), gain, backend),
        numeric.lambdify((a, lam), to_zero, backend),
        numeric.lambdify((b, lam), pure_noise_limit(gain), backend),
    )


@functools.cache
def _step_fns() -> dict[str, Callable[..., Any]]:
    from symsched.symbols import a, b, lam

    f = flow_heun_step_forms()
    out: dict[str, Callable[..., Any]] = {}
    for key in ("pref", "slope", "base", "keep"):
        out[key] = numeric.lambdify((a, b, lam), f[key])
        out["log_" + key] = numeric.lambdify((a, b, lam), _stable.log_form(f[key], [a - b]))
    for key in ("pref0", "slope0", "base0", "keep0"):
        out[key] = numeric.lambdify((b, lam), f[key])
        out["log_" + key] = numeric.lambdify((b, lam), _stable.log_form(f[key]))
    return out


@functools.cache
def _exact_poly(key: str) -> tuple[tuple[int, int, int, int], ...]:
    """The bracket ``poly`` / ``poly0`` as integer terms ``(coef, i, j, k)`` of a^i b^j lam^k."""
    import sympy as sp

    from symsched.symbols import a, b, lam

    p = sp.Poly(flow_heun_step_forms()[key], a, b, lam)
    return tuple((int(c), *m) for m, c in p.terms())


def _log_abs_exact(
    key: str, ak: float, bk: float, lam_v: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``(ln|bracket|, sign)`` per eigenvalue in exact rational arithmetic on the float64 inputs
    (every float64 is a binary fraction, the bracket a polynomial with integer coefficients)."""
    # the bracket as sum_k C_k lam^k: the C_k are exact once per step; each float64 is a binary
    # fraction, so D = max denominator is a common one and D q^K (bracket at lam = p/q) is the
    # integer Horner value below (no gcds per eigenvalue)
    coef = _bracket_coefficients(key, ak, bk)
    deg = len(coef) - 1
    den = max(c.denominator for c in coef)
    num = [int(c * den) for c in coef]
    log_den = math.log(den)
    logs, signs = np.empty_like(lam_v), np.empty_like(lam_v)
    for n, lv in enumerate(lam_v.tolist()):
        p, q = lv.as_integer_ratio()
        acc, q_pow = num[deg], 1
        for k in range(deg - 1, -1, -1):
            q_pow *= q
            acc = acc * p + num[k] * q_pow
        signs[n] = (acc > 0) - (acc < 0)
        logs[n] = math.log(abs(acc)) - log_den - deg * math.log(q) if acc else -math.inf
    return logs, signs


def _bracket_coefficients(key: str, ak: float, bk: float) -> list[Fraction]:
    """The bracket ``poly`` / ``poly0`` of the step ``ak -> bk`` as exact coefficients ``C_k`` of
    :math:`\\sum_k C_k\\lambda^k` (float64 inputs are binary fractions)."""
    fa, fb = Fraction(ak) if math.isfinite(ak) else Fraction(0), Fraction(bk)
    terms = _exact_poly(key)
    coef = [Fraction(0)] * (max(k for *_, k in terms) + 1)
    for c, i, j, k in terms:
        coef[k] += c * fa**i * fb**j
    return coef


def _log_abs_minus(lam_v: FloatArray, root: Any) -> tuple[FloatArray, FloatArray]:
    """``(ln|lam - root|, sign(lam - root))`` for a 40-digit ``root``.

    In double-double, ``(lam - hi) - lo`` with ``root = hi + lo`` to about 106 bits: near the root
    (within a factor 2) ``lam - hi`` is exact (Sterbenz), so the difference keeps its relative
    accuracy however close ``lam`` comes; elsewhere nothing cancels. A root beyond 1e307 (out of
    reach of the eigenvalues, <= 1e300) goes through ``ln|root| + log1p(-lam / root)``.
    """
    if abs(root) > _HUGE_ROOT:
        ratio = lam_v * float(1 / root)
        log_abs: FloatArray = float(root.context.log(abs(root))) + np.log1p(-ratio)
        return log_abs, np.full_like(lam_v, -1.0 if root > 0 else 1.0)
    hi = float(root)
    lo = float(root - hi)
    d = (lam_v - hi) - lo
    with np.errstate(divide="ignore"):
        out: FloatArray = np.log(np.abs(d))
    return out, np.sign(d)


def _log_abs_by_roots(
    key: str, ak: float, bk: float, lam_v: FloatArray
) -> tuple[FloatArray, FloatArray] | None:
    r"""``(ln|bracket|, sign)`` per eigenvalue from the bracket's factored form.

    The bracket is a quadratic in :math:`\lambda` with exact coefficients
    (:func:`_bracket_coefficients`); with its roots computed once per step at 40 digits (exact
    discriminant, the cancellation-free form of the quadratic formula),
    :math:`C_2(\lambda-r_1)(\lambda-r_2)` (or :math:`C_2((\lambda-p)^2+q^2)` for complex roots,
    :math:`C_1(\lambda-r)` when linear) is evaluated with each :math:`\lambda-r` in
    double-double (:func:`_log_abs_minus`): a relative error of a few eps wherever the
    bracket does not vanish, in one vectorised pass. ``None`` when the bracket is not of degree
    1 or 2 in :math:`\lambda` for this step (a constant: the caller falls back to
    :func:`_log_abs_exact`).
    """
    import mpmath

    coef = _bracket_coefficients(key, ak, bk)
    while len(coef) > 1 and coef[-1] == 0:
        coef.pop()
    if len(coef) not in (2, 3):
        return None
    ctx = mpmath.mp.clone()
    ctx.dps = 40

    def big(x: Fraction) -> Any:
        return ctx.mpf(x.numerator) / x.denominator

    lead = coef[-1]
    log_lead = math.log(abs(lead.numerator)) - math.log(lead.denominator)
    sign = np.full_like(lam_v, 1.0 if lead > 0 else -1.0)
    if len(coef) == 2:
        log_d, sign_d = _log_abs_minus(lam_v, big(-coef[0] / coef[1]))
        return log_lead + log_d, sign * sign_d
    c0, c1, c2 = coef
    disc = c1 * c1 - 4 * c2 * c0  # exact: no cancellation however close the roots
    if disc < 0:  # no real root: C2 ((lam - p)^2 + q^2), q^2 > 0 (no cancellation)
        log_d, _ = _log_abs_minus(lam_v, big(-c1 / (2 * c2)))
        log_q2 = float(ctx.log(big(-disc / (4 * c2 * c2))))
        return log_lead + np.logaddexp(2 * log_d, log_q2), sign
    # the roots without cancellation: q = -(C1 + sign(C1) sqrt(disc)) / 2, r = q / C2 and C0 / q
    q = -(big(c1) + ctx.sqrt(big(disc)) * (1 if c1 >= 0 else -1)) / 2
    roots = (ctx.mpf(0), ctx.mpf(0)) if q == 0 else (q / big(c2), big(c0) / q)  # q = 0: c1 = c0 = 0
    log_1, sign_1 = _log_abs_minus(lam_v, roots[0])
    log_2, sign_2 = _log_abs_minus(lam_v, roots[1])
    logs: FloatArray = log_lead + log_1 + log_2
    return logs, sign * sign_1 * sign_2


def _log_form_of(
    key: str, ak: float, bk: float, lam_v: FloatArray, fast_lam: BoolArray, step_fast: bool
) -> FloatArray:
    """``ln`` of the positive form ``key``: compiled inside the fast window, log form outside."""
    f = _step_fns()
    args: tuple[float, ...] = (bk,) if key.endswith("0") else (ak, bk)

    def direct(lv: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore"):
            out: FloatArray = np.log(f[key](*args, lv))
        return out

    def log_form(lv: FloatArray) -> FloatArray:
        out: FloatArray = f["log_" + key](*args, lv)
        return out

    return _stable.by_window(lam_v, fast_lam, step_fast, direct, log_form)


def log_step_factor(ak: float, bk: float, lam_v: FloatArray, fast_lam: BoolArray) -> FloatArray:
    r""":math:`\ln q` of the step ``ak -> bk`` (``ak`` may be inf) anywhere in the input range.

    A step to 0 is the DDIM step (:func:`symsched.samplers.ddim.log_cos2_stable`). Otherwise
    :math:`\ln|q-1|=\ln\pi+\ln|(b-\lambda)A+(a-b)B|` (:func:`flow_heun_step_forms`): the bracket
    from the logs of its two terms (``logaddexp`` when they have the same sign), from its factored
    form where they nearly cancel (:func:`_log_abs_by_roots`); then ``logaddexp(0, ln(q-1))``
    for :math:`q>1`, ``log1m_exp`` for :math:`\tfrac12\le q<1` and the log form of :math:`q`
    itself below.
    """
    if bk == 0.0:
        return log_cos2_stable(ak, 0.0, lam_v)
    pure = math.isinf(ak)
    sfx = "0" if pure else ""
    step_fast = (pure or _stable.fast_level(ak)) and _stable.fast_level(bk)

    def log_of(key: str) -> FloatArray:
        return _log_form_of(key + sfx, ak, bk, lam_v, fast_lam, step_fast)

    diff = bk - lam_v  # one rounding of two inputs
    with np.errstate(divide="ignore"):
        t1 = np.log(np.abs(diff)) + log_of("slope")
        t2 = log_of("base") + (0.0 if pure else math.log(ak - bk))
    hi, lo = np.maximum(t1, t2), np.minimum(t1, t2)
    with np.errstate(invalid="ignore"):
        same = diff >= 0
        log_bracket = np.where(same, np.logaddexp(t1, t2), hi + _stable.log1m_exp(lo - hi))
    sign = np.where(same | (t2 > t1), 1.0, -1.0)
    near = ~same & (hi - lo < _CANCEL_EDGE)
    if near.any():
        exact = _log_abs_by_roots("poly" + sfx, ak, bk, lam_v[near])
        if exact is None:
            exact = _log_abs_exact("poly" + sfx, ak, bk, lam_v[near])
        ex_log, ex_sign = exact
        log_bracket[near], sign[near] = ex_log, ex_sign
    log_excess = log_of("pref") + log_bracket
    with np.errstate(divide="ignore"):
        small_loss = (sign < 0) & (log_excess < -math.log(2.0))
        out: FloatArray = np.where(
            sign >= 0,
            _stable.log_one_plus(log_excess),
            np.where(small_loss, _stable.log1m_exp(np.minimum(log_excess, 0.0)), log_of("keep")),
        )
    return out


@register_sampler
class FlowHeun(Sampler):
    """Heun in flow time (diffusers' FlowMatchHeunDiscreteScheduler on the exact velocity)."""

    name = "flow-heun"
    summary = "Heun on the flow velocity ODE in t = rho/(1+rho), second order (Euler to t = 0)"
    reference = (
        "Liu et al. 2023 / Lipman et al. 2023 (rectified flow); Karras et al. 2022, Algorithm 1 "
        "applied in flow time; diffusers FlowMatchHeunDiscreteScheduler"
    )
    order = 2
    nfe_per_step = 2

    def nfe(self, sigmas: FloatArray) -> int:
        """Two evaluations per step, one for a final step to 0."""
        return 2 * int(sigmas.size - 1) - (1 if sigmas[-1] == 0.0 else 0)

    def linear_map_form(self) -> LinearMapForm:
        """The gains of :func:`flow_heun_gain`; from pure noise the limit of the flow-Heun gain
        (:func:`symsched.samplers._linear.pure_noise_limit`), or the DDIM limit 0 for a single
        Euler step from :math:`t=1` to :math:`t=0`."""
        import sympy as sp

        from symsched.gaussian import derive
        from symsched.symbols import b

        gain, to_zero = flow_heun_gain()
        to_zero_pn = pure_noise_limit(derive.ddim_gain_rho()).subs(b, 0)
        pn = sp.Piecewise((to_zero_pn, sp.Eq(b, 0)), (pure_noise_limit(gain), True))
        return LinearMapForm(step=gain, to_zero=to_zero, pure_noise=pn)

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: NoKnobs
    ) -> FloatArray:
        start_total = to_np(start_log_ratio(eigenvalues, float(sigmas[0]), start))
        return _stable.sum_log_steps(log_step_factor, eigenvalues, sigmas, start_total)

    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: NoKnobs
    ) -> mpmath.mpf:
        r"""The derived gains multiplied, :math:`\mathrm{Var}_k=g_k^2\mathrm{Var}_{k-1}`; from pure
        noise :math:`\mathrm{Var}_1=u_1^2` (0 for a single Euler step to 0)."""
        import mpmath

        gain, gain0, first = _gains("mpmath")
        lev = list(levels)
        if lev[0] == mpmath.inf:
            var = mpmath.mpf(0) if lev[1] == 0 else first(lev[1], eigenvalue) ** 2
            lev = lev[1:]
        else:
            var = start_variance_mp(eigenvalue, lev[0], start)
        for k in range(1, len(lev)):
            ak, bk = lev[k - 1], lev[k]
            g = gain0(ak, eigenvalue) if bk == 0 else gain(ak, bk, eigenvalue)
            var *= g**2
        return var / (eigenvalue + levels[-1] ** 2)


def sample(model: Denoiser, x: Any, sigmas: Any, *, callback: StepCallback | None = None) -> Any:
    r"""Heun in flow time on a denoiser :math:`D(\bar x,\rho)` (EDM scale), in the flow state.

    With :math:`t_i=\sigma_i/(1+\sigma_i)`, :math:`x=(1-t)\bar x` and the velocity
    :math:`v(x,t)=(\bar x-D(\bar x,\rho))/\rho-D(\bar x,\rho)` (:math:`\hat\epsilon-\hat x_0`),

    .. math:: \tilde x=x_i+h\,v(x_i,t_i),\quad x_{i+1}=x_i+\tfrac h2\bigl(v(x_i,t_i)+
       v(\tilde x,t_{i+1})\bigr),\quad h=t_{i+1}-t_i,

    with the Euler step alone when :math:`\sigma_{i+1}=0` (diffusers'
    ``FlowMatchHeunDiscreteScheduler``). Input and output are in :math:`\bar x` (the EDM state,
    as :func:`symsched.samplers.ddim.sample`); parameters and return value as there.
    """
    x, sig = check_network_inputs(model, x, sigmas)

    def vel(xt: Any, level: float) -> Any:
        t = level / (1.0 + level)
        xb = xt / (1.0 - t)
        den = model(xb, level)
        return (xb - den) / level - den

    for i in range(sig.size - 1):
        s, t_next = float(sig[i]), float(sig[i + 1])
        ts, tn = s / (1.0 + s), t_next / (1.0 + t_next)
        xt = x * (1.0 - ts)
        v = vel(xt, s)
        if t_next > 0.0:
            pred = xt + (tn - ts) * v
            xt = xt + (tn - ts) / 2.0 * (v + vel(pred, t_next))
        else:
            xt = xt + (tn - ts) * v
        x = xt / (1.0 - tn)
        if callback is not None:
            callback({"i": i, "sigma": s, "sigma_next": t_next, "x": x})
    return x
