"""The stable forms used by the float64 paths equal the derived expressions.

Each stable form is proved equal to the derived one symbolically (``simplify(a - b) == 0``) and
checked numerically against 50-digit mpmath; the helpers of :mod:`symsched.samplers._stable` are
checked against mpmath on points that exercise every branch.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import sympy as sp

from symsched import numeric
from symsched._typing import FloatArray
from symsched.gaussian import derive
from symsched.gaussian.exact import half_phi
from symsched.samplers import _base, _stable, ancestral, ddim, dpmpp_2m, euler_vp, heun
from symsched.samplers._derive import a_prev, eta_s
from symsched.stein import _closed
from symsched.stein import _symbolic as S
from symsched.symbols import a, b, lam
from symsched_verify import tolerances as tol

d_ = sp.Symbol("d", positive=True)  # a = b + d: the step's positive difference


def _proved_equal(lhs: sp.Expr, rhs: sp.Expr) -> bool:
    return bool(sp.simplify(sp.expand_log((lhs - rhs).subs(a, b + d_), force=True)) == 0)


def _exp_of(log_expr: sp.Expr) -> sp.Expr:
    return sp.exp(log_expr.rewrite(sp.log))


# --- log forms -----------------------------------------------------------------------------------


Case = tuple[sp.Expr, list[sp.Expr]]


def _stein_cost(process: str, weight: str) -> Case:
    cost = _closed.gaussian_interval_cost_rho(process, weight)
    return cost.subs(_closed._rho_s, _closed._rho_t + d_), []


def _stein_metric(process: str) -> Case:
    return _closed.gaussian_local_metric_rho(process), []


def _stein_cases() -> dict[str, Callable[[], Case]]:
    out: dict[str, Callable[[], Case]] = {}
    for process in ("ve", "vp"):
        for weight in ("target", "source"):
            out[f"stein {process} {weight}"] = functools.partial(_stein_cost, process, weight)
        out[f"stein metric {process}"] = functools.partial(_stein_metric, process)
    return out


# Each case derives its expression when its test runs, not at collection (the derivations take
# seconds, and every xdist worker collects every module).
LOG_FORM_CASES: dict[str, Callable[[], Case]] = {
    "ddim loss": lambda: (derive.variance_loss_step(), [a - b]),
    "ddim cos2": lambda: (derive.cos2_angle_step(), [a - b]),
    "ddim loss, pure noise": lambda: (derive.variance_loss_from_pure_noise(), []),
    "ddim cos2, pure noise": lambda: (derive.cos2_pure_noise(), []),
    "heun excess": lambda: (heun.heun_step_forms()[0], [a - b]),
    "heun loss0": lambda: (heun.heun_step_forms()[1], []),
    "heun keep0": lambda: (heun.heun_step_forms()[2], []),
    "euler-vp delta": lambda: (euler_vp.euler_vp_step_forms()["delta"], [a - b]),
    "euler-vp ratio": lambda: (euler_vp.euler_vp_step_forms()["ratio"], [a - b]),
    "euler-vp ratio0": lambda: (euler_vp.euler_vp_step_forms()["ratio0"], []),
    "dpmpp-2m cos": lambda: (dpmpp_2m.dpmpp_2m_ratio_forms()["cos"], [a - b]),
    "dpmpp-2m drift": lambda: (dpmpp_2m.dpmpp_2m_ratio_forms()["drift"], [a - b]),
    "dpmpp-2m k0": lambda: (dpmpp_2m.dpmpp_2m_ratio_forms()["k0"], [a - b]),
    **_stein_cases(),
}


@pytest.mark.parametrize("label", LOG_FORM_CASES)
def test_log_forms_are_the_log_of_the_derived_expression(label: str) -> None:
    expr, positive = LOG_FORM_CASES[label]()
    log_expr = _stable.log_form(expr, positive)
    assert not log_expr.has(sp.exp)
    assert _proved_equal(_exp_of(log_expr), expr), label


@pytest.mark.parametrize("key", ["k", "k_delta", "y", "y0"])
def test_signed_log_forms_of_euler_vp(key: str) -> None:
    expr = euler_vp.euler_vp_step_forms()[key]
    log_expr, sign = _stable.log_abs_form(expr, [a - b])
    assert sign == 0  # the sign of lam - 1, carried by the caller
    assert _proved_equal(_exp_of(log_expr) ** 2, expr**2)


def test_log_form_refuses_what_is_not_positive_structured() -> None:
    with pytest.raises(ValueError, match="not a sum of positive terms"):
        _stable.log_form(a * b - lam - 1)
    with pytest.raises(ValueError, match="not positive"):
        _stable.log_form(-(a + b))
    with pytest.raises(ValueError, match="not positive"):
        _stable.log_form(lam - 1)


def test_log_inputs_replace_every_log() -> None:
    la, lb = sp.symbols("la lb", real=True)
    out = _stable.in_log_inputs(_stable.log_form(a * b / (a + b)), {a: la, b: lb})
    assert out.free_symbols == {la, lb}
    with pytest.raises(ValueError, match="have no log input"):
        _stable.in_log_inputs(_stable.log_form(a * b), {a: la})


def _mp_value(expr: sp.Expr, point: dict[sp.Symbol, float]) -> mpmath.mpf:
    f = sp.lambdify(tuple(point), expr, "mpmath")
    return f(*[mpmath.mpf(v) for v in point.values()])


EXTREME = [1e-300, 3.7e-155, 2.5e-40, 0.3, 1.0, 7.0, 4.1e38, 2.2e154, 1e300]


@pytest.mark.parametrize("label", LOG_FORM_CASES)
def test_log_forms_match_50_digits_over_the_range(label: str) -> None:
    expr, positive = LOG_FORM_CASES[label]()
    log_expr = _stable.log_form(expr, positive)
    syms = sorted(log_expr.free_symbols, key=str)
    fn = numeric.lambdify(syms, log_expr)
    rng = np.random.default_rng(0)
    with mpmath.workdps(tol.SYMBOLIC_DPS):
        for _ in range(40):
            point = {s: float(rng.choice(EXTREME)) for s in syms}
            if a in point and b in point:  # a step a > b: a = b (1 + u) or a independent above b
                lo, hi = sorted((point[a], point[b]))
                point[a], point[b] = (hi, lo) if hi > lo else (lo * (1 + 1e-9), lo)
            got = float(fn(*point.values()))
            want = mpmath.log(abs(_mp_value(_exp_of(log_expr), point)))
            if want == -mpmath.inf:  # lam = 1 zeroes the VP costs: log 0 exactly
                assert got == -math.inf, (label, point)
                continue
            # every log of an input is <= 700 in size: a few hundred ulps of 1, absolute
            assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (label, point)


# --- identities behind the samplers' stable forms -----------------------------------------------


def test_prior_start_log_form_is_the_derived_term() -> None:
    stable = _base.prior_start_log_ratio_stable().rewrite(sp.log)
    assert sp.simplify(sp.expand_log(stable - sp.log(a**2 / (lam + a**2)), force=True)) == 0


def test_heun_excess_is_the_ratio_change_minus_one() -> None:
    gain, gain0 = heun.heun_gain()
    excess, loss0, keep0 = heun.heun_step_forms()
    assert sp.simplify(excess - (gain**2 * (lam + a**2) / (lam + b**2) - 1)) == 0
    assert sp.simplify(keep0 - gain0**2 * (lam + a**2) / lam) == 0
    assert sp.simplify(loss0 + keep0 - 1) == 0


def test_euler_vp_decomposition_is_an_identity() -> None:
    f = euler_vp.euler_vp_step_forms()
    (l1p,) = euler_vp.euler_vp_gain().atoms(numeric.LOG1P)
    big_l = sp.log(1 + f["delta"])
    q = (euler_vp.euler_vp_gain() ** 2 * (lam + a**2) / (lam + b**2)).subs(l1p, big_l)
    x, y, kd, delta = f["k"] * big_l / 2, f["y"], f["k_delta"], f["delta"]
    assert sp.simplify(q - (1 + x) ** 2 * (1 + y)) == 0
    # the small-step form: 2 log1pmx(x) + log1pmx(y) + k delta (log1pmx(delta) / delta - y)
    gentle = 2 * (sp.log(1 + x) - x) + (sp.log(1 + y) - y) + kd * ((big_l - delta) / delta - y)
    assert sp.simplify(sp.expand_log(gentle - 2 * sp.log(1 + x) - sp.log(1 + y), force=True)) == 0
    assert sp.simplify(f["ratio0"] - 1 - f["y0"]) == 0


def test_dpmpp_2m_normalised_recursion_is_the_derived_step() -> None:
    coef_a, coef_b, _ = dpmpp_2m.dpmpp_2m_coefficients()
    g = dpmpp_2m.dpmpp_2m_ratio_forms()
    ta, tb, tp = lam + a**2, lam + b**2, lam + a_prev**2
    m, m_prev = sp.symbols("m m_prev", positive=True)
    h = (sp.log(a) - sp.log(b)) / (sp.log(a_prev) - sp.log(a))
    y, zeta = m / sp.sqrt(ta), sp.sqrt(ta) * (m / ta - m_prev / tp)
    m_next = coef_a * m + coef_b * m_prev
    y_next, zeta_next = m_next / sp.sqrt(tb), sp.sqrt(tb) * (m_next / tb - m / ta)
    k = g["k0"] * h
    assert sp.simplify(sp.expand_log(y_next - (g["cos"] * y + k * zeta), force=True)) == 0
    assert sp.simplify(sp.expand_log(zeta_next - (g["drift"] * y + k * zeta), force=True)) == 0


def test_ancestral_stable_levels_are_the_derived_levels() -> None:
    up, down = ancestral.ancestral_levels()
    up_s, down_s, gap_s = ancestral.ancestral_levels_stable()
    assert sp.simplify(up_s - up) == 0
    assert sp.simplify(down_s**2 - down**2) == 0 and down_s.is_nonnegative is not False
    assert sp.simplify(sp.radsimp(gap_s - (a - down_s))) == 0
    fn = numeric.lambdify((a, b, eta_s), gap_s)
    with mpmath.workdps(tol.SYMBOLIC_DPS):
        for av, bv, ev in [(1.0000003, 1.0000002, 1.0), (1e300, 1e-300, 0.3), (2.0, 1.0, 0.0)]:
            want = _mp_value(a - down, {a: av, b: bv, eta_s: ev})
            assert float(fn(av, bv, ev)) == pytest.approx(float(want), rel=1e-14)


def test_stein_rho_forms_are_the_sigma_forms() -> None:
    rs, rt = _closed._rho_s, _closed._rho_t
    to_vp = {S.sigma: rs / sp.sqrt(1 + rs**2), S.sigma_t: rt / sp.sqrt(1 + rt**2)}
    for weight in ("target", "source"):
        sigma_form = S.gaussian_interval_cost("vp", weight).subs(to_vp, simultaneous=True)
        assert sp.simplify(_closed.gaussian_interval_cost_rho("vp", weight) - sigma_form) == 0
    sig = rs / sp.sqrt(1 + rs**2)
    metric = S.gaussian_local_metric("vp").subs(S.sigma, sig) * sp.diff(sig, rs) ** 2
    assert sp.simplify(_closed.gaussian_local_metric_rho("vp") - metric) == 0


def test_asinh_series_is_the_taylor_series() -> None:
    xs = sp.Symbol("x", positive=True)
    series = sp.series(sp.asinh(xs) - xs / sp.sqrt(1 + xs**2), xs, 0, 2 * 12 + 3).removeO()
    for n, coef in enumerate(_closed._ASINH_COEF[:12]):
        assert float(series.coeff(xs, 2 * n + 3)) == pytest.approx(coef, rel=1e-15)


# --- the fast and the stable evaluation agree inside the window -----------------------------------


LAM_IN = np.array([1e-6, 0.03, 1.0, 17.0, 4e5])
STEPS_IN = [(80.0, 40.0), (2.0, 1.999999), (1.0, 0.0), (5e-3, 1e-3), (1e3, 1e-2)]


@pytest.mark.parametrize(("ak", "bk"), STEPS_IN)
def test_fast_and_stable_step_factors_agree(ak: float, bk: float) -> None:
    on, off = np.ones(LAM_IN.size, dtype=bool), np.zeros(LAM_IN.size, dtype=bool)
    for module in (heun, euler_vp):
        fast = module.log_step_factor(ak, bk, LAM_IN, on)
        slow = module.log_step_factor(ak, bk, LAM_IN, off)
        np.testing.assert_allclose(slow, fast, rtol=1e-12, atol=0, err_msg=module.__name__)
    if bk > 0:
        loss = numeric.lambdify((a, b, lam), derive.variance_loss_step())(ak, bk, LAM_IN)
        fast = np.where(
            loss < 0.5,
            np.log1p(-np.minimum(loss, 0.5)),
            np.log(numeric.lambdify((a, b, lam), derive.cos2_angle_step())(ak, bk, LAM_IN)),
        )
        np.testing.assert_allclose(ddim.log_cos2_stable(ak, bk, LAM_IN), fast, rtol=1e-12)
        for got, want in zip(
            dpmpp_2m._step_logs(ak, bk, LAM_IN, off),
            dpmpp_2m._step_logs(ak, bk, LAM_IN, on),
            strict=True,
        ):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_ancestral_log_and_linear_recursions_agree() -> None:
    sig = np.array([math.inf, 80.0, 10.0, 1.0, 0.999, 0.1, 0.0])
    base = np.zeros_like(LAM_IN)
    smp = ancestral.Ancestral()
    for eta in (0.0, 0.4, 1.0):
        lin = smp._linear_recursion(LAM_IN, sig, base, smp.make_knobs(eta=eta))
        log = ancestral._log_recursion(LAM_IN, sig, base, eta)
        np.testing.assert_allclose(log, lin, rtol=1e-12)


# --- the elementary helpers against mpmath --------------------------------------------------------

HELPER_POINTS = [0.0, 1e-300, 1e-20, 1e-9, 0.1, 0.4999, 0.5, 0.5001, 3.0, 1e10, 1e300]


def _helper_cases() -> list[
    tuple[str, Callable[..., FloatArray], Callable[..., mpmath.mpf], list[float]]
]:
    def mp_l1pmx(x: mpmath.mpf) -> mpmath.mpf:
        return mpmath.log1p(x) - x

    pts = HELPER_POINTS + [-v for v in HELPER_POINTS[1:7]] + [-0.9, 1e-3, 1.01e-3, -1.01e-3]
    return [
        ("log1pmx", _stable.log1pmx, mp_l1pmx, pts),
        (
            "log1pmx_over_x",
            _stable.log1pmx_over_x,
            lambda x: mp_l1pmx(x) / x if x != 0 else mpmath.mpf(0),
            pts,
        ),
        (
            "log1p_over_x",
            _stable.log1p_over_x,
            lambda x: mpmath.log1p(x) / x if x != 0 else mpmath.mpf(1),
            pts,
        ),
        (
            "log1m_exp",
            _stable.log1m_exp,
            lambda v: mpmath.log(-mpmath.expm1(v)),
            [-1e-300, -1e-20, -0.1, -0.69, -0.7, -3.0, -700.0],
        ),
        (
            "asinh_minus_ratio",
            _closed.asinh_minus_ratio,
            lambda x: mpmath.asinh(x) - x / mpmath.sqrt(1 + x * x),
            [v for v in HELPER_POINTS if v > 0],
        ),
        (
            "half_phi",
            half_phi,
            lambda x: (mpmath.expm1(x) - x) / 2,
            [-700.0, -3.0, -0.4, -1e-9, 1e-200, 1e-9, 0.3, 0.6, 5.0, 700.5, 710.3],
        ),
    ]


@pytest.mark.parametrize(("label", "fn", "ref", "points"), _helper_cases())
def test_helpers_match_50_digits(
    label: str, fn: Callable[..., FloatArray], ref: Callable[..., mpmath.mpf], points: list[float]
) -> None:
    got = np.asarray(fn(np.array(points)), dtype=np.float64)
    rtol = tol.LOG1PMX_RTOL if label == "log1pmx" else tol.HELPER_RTOL
    with mpmath.workdps(tol.SYMBOLIC_DPS + 300):
        for x, g in zip(points, got, strict=True):
            want = ref(mpmath.mpf(x))
            assert abs(g - want) <= rtol * abs(want) + 1e-320, (label, x, g, want)


def test_log_ratio_matches_50_digits() -> None:
    pairs = [(1.0000001, 1.0), (2.0, 1.0), (1e300, 1e-300), (1e-300 * 1.5, 1e-300), (3.0, 0.0)]
    got = _stable.log_ratio(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    for (x, y), g in zip(pairs, got, strict=True):
        want = mpmath.log(mpmath.mpf(x) / mpmath.mpf(y)) if y else mpmath.inf
        assert g == want or abs(g - want) <= tol.HELPER_RTOL * abs(want), (x, y)
