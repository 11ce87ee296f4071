"""The tangent law (symsched.gaussian.tangent, [sun2026, §5.1-§5.3(a)]): each derived quantity
against its closed form evaluated here, the dominant KL against a numpy transcription, and the
printed derivation's steps evaluated at numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from symsched.gaussian import exact, tangent
from symsched.symbols import N, gamma, lam, s, u

LAM = np.array([0.04, 0.3, 1.0, 2.5, 9.0])


def _j(g: float, lv: np.ndarray) -> np.ndarray:
    """J_i(gamma) = pi^2/8 (gamma/sqrt(lambda) + sqrt(lambda)/gamma)."""
    return math.pi**2 / 8 * (g / np.sqrt(lv) + np.sqrt(lv) / g)


def test_gamma_star_is_the_fourth_root_of_the_trace_ratio() -> None:
    want = (LAM.sum() / (1 / LAM).sum()) ** 0.25
    assert tangent.gamma_star(LAM) == pytest.approx(want, rel=1e-14)
    # and it minimises the sum of J_i^2 over gamma
    gs = np.linspace(0.5 * want, 1.5 * want, 2001)
    assert gs[np.argmin([np.sum(_j(g, LAM) ** 2) for g in gs])] == pytest.approx(want, rel=1e-3)


@pytest.mark.parametrize("n", [1, 7, 50])
def test_asymptotic_kl_is_the_sum_of_squared_j_over_4_n_squared(n: int) -> None:
    for g in (0.3, 1.0, 4.0):
        want = np.sum(_j(g, LAM) ** 2) / (4 * n * n)
        assert tangent.asymptotic_kl_tangent(LAM, g, n) == pytest.approx(want, rel=1e-13)


def test_asymptotic_kl_is_the_limit_of_n_squared_kl_on_the_tangent_grid() -> None:
    # KL(data || output) of the pure-noise tangent grid over its dominant term is 1 + O(1/N):
    # the relative gap halves when N doubles (first order), and is under 1 % at N = 400
    g = tangent.gamma_star(LAM)
    gap = []
    for n in (200, 400):
        sig = tangent.tangent_sigmas(n, g, 0.0, math.inf)
        gap.append(
            exact.kl(LAM, sig).kl_source_output / tangent.asymptotic_kl_tangent(LAM, g, n) - 1
        )
    assert 0 < gap[1] < 0.01 and gap[0] / gap[1] == pytest.approx(2.0, rel=0.05)


def test_j_tangent_and_its_integrand() -> None:
    j = tangent.J_tangent()
    for gv, sv in ((2.0, 3.0), (0.1, 1.0)):
        want = math.pi**2 / 8 * (gv / sv + sv / gv)
        assert float(j.subs({gamma: gv, s: sv})) == pytest.approx(want, rel=1e-14)
    # phi'(u)^2 for phi = atan(rho(u)/sqrt(lam)): lam rho'^2 / (lam + rho^2)^2; at rho(u) = u
    integrand = tangent.J_integrand_rho().subs(sp.Function("rho")(u), u).doit()
    assert sp.simplify(integrand - lam / (lam + u**2) ** 2) == 0


@pytest.mark.parametrize("n", [1, 2, 5])
def test_optimal_ratio_single_is_cos_power(n: int) -> None:
    assert float(tangent.optimal_ratio_single(n)) == pytest.approx(
        math.cos(math.pi / (2 * n)) ** (2 * n), abs=1e-15
    )
    assert float(tangent.optimal_ratio_single(n, sp.pi / 3)) == pytest.approx(
        math.cos(math.pi / (3 * n)) ** (2 * n), rel=1e-14
    )


@pytest.mark.parametrize("n", [2, 3])
def test_stationarity_residuals_vanish_at_the_tangent_grid(n: int) -> None:
    res = tangent.stationarity_residuals(n)
    assert len(res) == n - 1 and all(sp.simplify(x) == 0 for x in res)


def test_printed_derivation_steps_evaluate_to_their_closed_forms() -> None:
    steps = {st.title.split(":")[0]: st.expr for st in tangent.derivation()}
    assert len(steps) == 7
    by_start = {k.split()[0]: v for k, v in steps.items()}
    # the Euler-Lagrange solution: rho(1/2) = sqrt(lam), rho(1) = 0
    rho_u = by_start["Euler-Lagrange"].rhs
    assert rho_u.subs(u, sp.Rational(1, 2)) == s and rho_u.subs(u, 1) == 0
    # the exact single-eigenvalue optimum at N = 3
    opt = by_start["Exact"].rhs.subs(N, 3)
    assert float(opt) == pytest.approx(math.cos(math.pi / 6) ** 6, rel=1e-14)
    # J_i, J_i^2 and gamma* at numbers
    vals = {gamma: 2.0, s: 3.0, lam: 9.0}
    j = math.pi**2 / 8 * (2.0 / 3.0 + 3.0 / 2.0)
    tangent_family = next(v for k, v in steps.items() if k.startswith("Tangent family"))
    assert float(tangent_family.rhs.subs(vals)) == pytest.approx(j, rel=1e-14)
    assert float(by_start["J_i^2"].rhs.subs(vals)) == pytest.approx(j**2, rel=1e-14)
    tr, tr_inv, d = sp.symbols("tr_Sigma tr_Sigma_inv d", positive=True)
    g_star = float(by_start["gamma*"].rhs.subs({tr: 16.0, tr_inv: 0.25}))
    assert g_star == pytest.approx((16.0 / 0.25) ** 0.25, rel=1e-14)
    # the dominant KL at gamma*: pi^4/64 (2 sqrt(tr tr_inv) + 2 d) / (4 N^2)
    kl = float(by_start["Dominant"].rhs.subs({tr: 16.0, tr_inv: 0.25, d: 3, N: 10}))
    assert kl == pytest.approx(math.pi**4 / 64 * (2 * 2.0 + 6) / 400, rel=1e-14)
    # J as the integral of phi'^2: evaluated at rho(u) = u, lam = 1 over [0, 1]
    integral = by_start["J"].rhs.subs(sp.Function("rho")(u), u).doit().subs(lam, 1)
    assert float(integral) == pytest.approx(0.25 + math.pi / 8, rel=1e-14)


@pytest.mark.parametrize("top", [80.0, math.inf])
def test_interior_gradient_matches_central_differences_of_the_exact_log_ratio(top: float) -> None:
    # d ln r / d rho_j for every interior level j = 1 .. N-1, against central differences of
    # the exact DDIM log ratio (an independent path: the closed-form ratio, not its derivative)
    lam_v = 0.7
    grid = np.array([top, 9.0, 2.5, 0.8, 0.2, 0.0])
    grad = tangent.log_ratio_interior_gradient(lam_v, grid)
    assert grad.shape == (grid.size - 2,)
    for j in range(1, grid.size - 1):
        h = 1e-5 * grid[j]
        up, down = grid.copy(), grid.copy()
        up[j] += h
        down[j] -= h
        f_up = float(exact.log_variance_ratios(np.array([lam_v]), up)[0])
        f_down = float(exact.log_variance_ratios(np.array([lam_v]), down)[0])
        assert grad[j - 1] == pytest.approx((f_up - f_down) / (2 * h), rel=1e-6, abs=1e-10)
