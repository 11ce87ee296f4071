"""Exact symbolic checks of the derived Gaussian theory (symsched.gaussian.derive)."""

from __future__ import annotations

import pytest
import sympy as sp

from symsched.gaussian import derive
from symsched.symbols import a, b, lam, r, rho, xbar


def test_tweedie_denoiser_is_posterior_mean() -> None:
    # oracle: Gaussian conditioning E[x0 | x0 + rho eps] = lam/(lam + rho^2) xbar
    assert sp.simplify(derive.tweedie_denoiser_rho() - lam * xbar / (lam + rho**2)) == 0


def test_gain_rho_form() -> None:
    assert sp.simplify(derive.ddim_gain_rho() - (lam + a * b) / (lam + a**2)) == 0
    assert sp.simplify(derive.gain_minus_one_rho() + a * (a - b) / (lam + a**2)) == 0


def test_gain_is_one_for_a_null_step_and_below_exact_flow() -> None:
    g = derive.ddim_gain_rho()
    assert sp.simplify(g.subs(b, a)) == 1
    # DDIM keeps less than the exact flow: g^2 <= g_exact^2 (ratio = cos^2 <= 1)
    assert sp.simplify(derive.cos2_angle_step() - (g / derive.exact_flow_gain_rho()) ** 2) == 0


def test_exact_flow_gain_preserves_marginal_variance() -> None:
    ge = derive.exact_flow_gain_rho()
    assert sp.simplify(ge**2 * (lam + a**2) - (lam + b**2)) == 0


def test_angle_identity_and_lagrange_form() -> None:
    assert derive.angle_identity_residual() == 0
    loss = derive.variance_loss_step()
    assert sp.simplify(loss - lam * (a - b) ** 2 / ((lam + a**2) * (lam + b**2))) == 0


def test_pure_noise_limits() -> None:
    assert sp.simplify(derive.pure_noise_first_step_variance() - b**2) == 0
    assert sp.simplify(derive.variance_loss_from_pure_noise() - lam / (lam + b**2)) == 0
    assert sp.simplify(derive.cos2_pure_noise() + derive.variance_loss_from_pure_noise() - 1) == 0


def test_matrix_step_commutes_with_covariance() -> None:
    assert derive.matrix_gain_commutator() == sp.zeros(2, 2)


def test_kl_expressions_vanish_only_at_r_equal_one() -> None:
    for f in (derive.kl_source_output(), derive.kl_output_source()):
        assert f.subs(r, 1) == 0
        assert sp.simplify(sp.diff(f, r).subs(r, 1)) == 0
        assert sp.diff(f, r, 2).subs(r, 1) > 0


def test_derivation_lists_every_step() -> None:
    steps = derive.derivation()
    assert len(steps) >= 10
    assert all(isinstance(st.expr, (sp.Basic, sp.MatrixBase)) for st in steps)


def test_gaussian_log_density_is_the_normal_log_pdf() -> None:
    import scipy.stats

    z, v = sp.symbols("z v", positive=True)
    expr = derive.gaussian_log_density(z, v)
    for zz, vv in ((0.3, 0.5), (2.0, 3.0), (-1.5, 0.01)):
        got = float(expr.subs({z: zz, v: vv}))
        assert got == pytest.approx(scipy.stats.norm.logpdf(zz, scale=vv**0.5), rel=1e-14)


def test_exact_flow_gain_is_the_ratio_of_marginal_standard_deviations() -> None:
    gain = derive.exact_flow_gain_rho()
    for lv, av, bv in ((0.5, 3.0, 1.0), (2.0, 80.0, 0.1), (1e-3, 1.0, 0.5)):
        got = float(gain.subs({lam: lv, a: av, b: bv}))
        assert got == pytest.approx(((lv + bv**2) / (lv + av**2)) ** 0.5, rel=1e-13)


def test_derivation_marginal_is_a_density_of_variance_lam_plus_rho_squared() -> None:
    steps = derive.derivation()
    density = steps[0].expr.rhs
    vals = {lam: sp.Rational(1, 2), rho: sp.Rational(3, 2)}
    d = density.subs(vals)
    assert sp.simplify(sp.integrate(d, (xbar, -sp.oo, sp.oo))) == 1
    assert sp.simplify(sp.integrate(xbar**2 * d, (xbar, -sp.oo, sp.oo))) == sp.Rational(11, 4)
    # the output variance ratio: prod of squared gains times Var_0 over the target's variance
    ratio = next(s for s in steps if s.title.startswith("Variance recursion")).expr.rhs
    gk = sp.Function("g")
    two = ratio.subs(sp.Symbol("N"), 2).doit().subs({gk(1): 2, gk(2): 3})
    # sigma_N = 3, not 2 (where sigma_N^2 = 2 sigma_N would hide a wrong power)
    got = two.subs({sp.Symbol("Var_0"): 5, lam: 1, sp.Symbol("sigma_N"): 3})
    assert got == 18
