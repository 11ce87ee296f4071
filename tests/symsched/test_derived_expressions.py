"""Every derived expression the Gaussian and sampler numerics compile is checked here against an
independent formula: the paper's closed form typed by hand, or the sampler's update rule run on
scalars with the exact denoiser, at 30 digits.

(The Stein closed forms, the GM posterior and the schedule families have their own independent
checks in tests/symsched/stein, tests/symsched/highdim and tests/symsched/schedules.)
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import pytest
import sympy as sp

from symsched import numeric
from symsched.gaussian import derive, tangent
from symsched.samplers._derive import a_prev, eta_s
from symsched.samplers.ancestral import ancestral_levels
from symsched.samplers.dpmpp_2m import dpmpp_2m_coefficients
from symsched.samplers.euler_vp import euler_vp_gain
from symsched.samplers.heun import heun_gain
from symsched.symbols import a, b, gamma, lam, r, s

mpmath.mp.dps = 30
POINTS = [  # (a, b, lam): steps of every size, eigenvalues around and far from the levels
    (80.0, 40.0, 0.25), (2.0, 1.5, 1.0), (1.0, 0.9999, 3.0), (0.5, 0.01, 1e-3), (5.0, 4.0, 1e4),
    (14.6, 0.03, 0.7), (3e3, 2e3, 2.0),
]  # fmt: skip
# The hand-coded oracles cancel digits where the result is small (1 - a d(a) = 2e-7 at a = 3000):
# at 30 digits that leaves ~1e-23 relative; a wrong expression is off at the percent level.
RTOL = mpmath.mpf(10) ** -20


def _close(x: object, y: object) -> bool:
    x, y = mpmath.mpf(x), mpmath.mpf(y)
    return bool(abs(x - y) <= RTOL * max(abs(x), abs(y), mpmath.mpf(10) ** -30))


def _mp(args: tuple[sp.Symbol, ...], expr: sp.Expr) -> Callable[..., object]:
    return numeric.lambdify(args, expr, "mpmath")


def _denoise(x: object, sigma: object, lam_v: object) -> object:
    """E[x0 | x0 + sigma eps = x] for x0 ~ N(0, lam): Gaussian conditioning."""
    return lam_v * x / (lam_v + sigma**2)


@pytest.mark.parametrize(("av", "bv", "lv"), POINTS)
def test_ddim_family(av: float, bv: float, lv: float) -> None:
    A, B, L = (mpmath.mpf(v) for v in (av, bv, lv))
    gain = (L + A * B) / (L + A**2)  # Sun et al. 2026, §3, the rational rho form
    loss = L * (A - B) ** 2 / ((L + A**2) * (L + B**2))
    assert _close(_mp((a, b, lam), derive.ddim_gain_rho())(A, B, L), gain)
    assert _close(_mp((a, b, lam), derive.variance_loss_step())(A, B, L), loss)
    assert _close(_mp((a, b, lam), derive.cos2_angle_step())(A, B, L), 1 - loss)
    assert _close(_mp((b, lam), derive.variance_loss_from_pure_noise())(B, L), L / (L + B**2))
    assert _close(_mp((b, lam), derive.cos2_pure_noise())(B, L), B**2 / (L + B**2))
    assert _close(_mp((b,), derive.pure_noise_first_step_variance())(B), B**2)
    assert _close(
        _mp((a, lam), derive.prior_start_log_ratio())(A, L), mpmath.log(A**2 / (L + A**2))
    )
    da, db = derive.log_cos2_step_derivatives()
    f = lambda x, y: mpmath.log(1 - L * (x - y) ** 2 / ((L + x**2) * (L + y**2)))  # noqa: E731
    assert _close(_mp((a, b, lam), da)(A, B, L), mpmath.diff(lambda x: f(x, B), A))
    assert _close(_mp((a, b, lam), db)(A, B, L), mpmath.diff(lambda y: f(A, y), B))
    d0 = _mp((b, lam), derive.log_cos2_pure_noise_derivative())(B, L)
    assert _close(d0, mpmath.diff(lambda y: mpmath.log(y**2 / (L + y**2)), B))


@pytest.mark.parametrize("rv", [0.01, 0.5, 1.0, 1.7, 40.0])
def test_kl_per_direction(rv: float) -> None:
    R = mpmath.mpf(rv)
    assert _close(_mp((r,), derive.kl_source_output())(R), (1 / R - 1 + mpmath.log(R)) / 2)
    assert _close(_mp((r,), derive.kl_output_source())(R), (R - 1 - mpmath.log(R)) / 2)


@pytest.mark.parametrize(("av", "bv", "lv"), POINTS)
def test_euler_vp_gain_is_the_euler_step_in_x(av: float, bv: float, lv: float) -> None:
    A, B, L = (mpmath.mpf(v) for v in (av, bv, lv))
    ab_a, ab_b = 1 / (1 + A**2), 1 / (1 + B**2)
    x_a = mpmath.sqrt(ab_a)  # xbar = 1 in the VP state
    score = -x_a / (ab_a * L + 1 - ab_a)
    x_b = x_a + (-mpmath.log(ab_b) + mpmath.log(ab_a)) * (-(x_a + score) / 2)
    assert _close(_mp((a, b, lam), euler_vp_gain())(A, B, L), x_b / mpmath.sqrt(ab_b))


@pytest.mark.parametrize(("av", "bv", "lv"), POINTS)
def test_heun_gain_is_the_heun_step(av: float, bv: float, lv: float) -> None:
    A, B, L = (mpmath.mpf(v) for v in (av, bv, lv))

    def d(x: object, sigma: object) -> object:
        return (x - _denoise(x, sigma, L)) / sigma

    x2 = 1 + (B - A) * d(1, A)
    heun, euler0 = heun_gain()
    assert _close(_mp((a, b, lam), heun)(A, B, L), 1 + (B - A) * (d(1, A) + d(x2, B)) / 2)
    assert _close(_mp((a, lam), euler0)(A, L), 1 + (0 - A) * d(1, A))


@pytest.mark.parametrize(("av", "bv", "lv"), POINTS)
def test_dpmpp_2m_coefficients_are_the_multistep_update(av: float, bv: float, lv: float) -> None:
    A, B, L = (mpmath.mpf(v) for v in (av, bv, lv))
    P = A * mpmath.mpf("1.7")  # the previous level
    h = mpmath.log(A) - mpmath.log(B)
    rr = (mpmath.log(P) - mpmath.log(A)) / h

    def step(x: object, x_prev: object) -> object:  # k-diffusion sample_dpmpp_2m, two-step branch
        dd = (1 + 1 / (2 * rr)) * _denoise(x, A, L) - _denoise(x_prev, P, L) / (2 * rr)
        return mpmath.exp(-h) * x - mpmath.expm1(-h) * dd

    ca, cb, first = dpmpp_2m_coefficients()
    args = (a, b, a_prev, lam)
    assert _close(_mp(args, ca)(A, B, P, L), step(1, 0))
    assert _close(_mp(args, cb)(A, B, P, L), step(0, 1))
    one = mpmath.exp(-h) - mpmath.expm1(-h) * _denoise(1, A, L)  # the first-order step
    assert _close(_mp((a, b, lam), first)(A, B, L), one)


@pytest.mark.parametrize(("av", "bv"), [(80.0, 40.0), (2.0, 1.5), (1.0, 0.01)])
@pytest.mark.parametrize("ev", [0.0, 0.5, 1.0])
def test_ancestral_levels_are_get_ancestral_step(av: float, bv: float, ev: float) -> None:
    A, B, E = (mpmath.mpf(v) for v in (av, bv, ev))
    up = min(B, E * mpmath.sqrt(B**2 * (A**2 - B**2) / A**2))  # k-diffusion get_ancestral_step
    down = mpmath.sqrt(B**2 - up**2)
    up_e, down_e = ancestral_levels()
    assert _close(_mp((a, b, eta_s), up_e)(A, B, E), up)
    assert _close(_mp((a, b, eta_s), down_e)(A, B, E), down)


@pytest.mark.parametrize(("gv", "sv"), [(0.2, 1.0), (1.0, 1.0), (3.0, 0.1)])
def test_tangent_coefficients(gv: float, sv: float) -> None:
    G, S = mpmath.mpf(gv), mpmath.mpf(sv)
    j = mpmath.pi**2 * (G**2 + S**2) / (8 * G * S)  # Sun et al. 2026, §5.2
    assert _close(_mp((gamma, s), tangent.J_tangent())(G, S), j)
    tr, tr_inv = sp.symbols("tr_Sigma tr_Sigma_inv", positive=True)
    got = _mp((tr, tr_inv), tangent.gamma_star_expr())(mpmath.mpf(6), mpmath.mpf(2))
    assert _close(got, mpmath.mpf(3) ** mpmath.mpf(0.25))
