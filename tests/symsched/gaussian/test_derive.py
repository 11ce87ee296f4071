"""Exact symbolic checks of the derived Gaussian theory (symsched.gaussian.derive)."""

from __future__ import annotations

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
