"""Exact symbolic checks of the derived Gaussian theory (symsched.gaussian)."""

from __future__ import annotations

import sympy as sp

from symsched import gaussian
from symsched.symbols import a, b, lam, r, rho, xbar


def test_tweedie_denoiser_is_posterior_mean() -> None:
    # oracle: Gaussian conditioning E[x0 | x0 + rho eps] = lam/(lam + rho^2) xbar
    assert sp.simplify(gaussian.tweedie_denoiser_rho() - lam * xbar / (lam + rho**2)) == 0


def test_gain_rho_form() -> None:
    assert sp.simplify(gaussian.ddim_gain_rho() - (lam + a * b) / (lam + a**2)) == 0
    assert sp.simplify(gaussian.gain_minus_one_rho() + a * (a - b) / (lam + a**2)) == 0


def test_gain_is_one_for_a_null_step_and_below_exact_flow() -> None:
    g = gaussian.ddim_gain_rho()
    assert sp.simplify(g.subs(b, a)) == 1
    # DDIM keeps less than the exact flow: g^2 <= g_exact^2 (ratio = cos^2 <= 1)
    assert sp.simplify(gaussian.cos2_angle_step() - (g / gaussian.exact_flow_gain_rho()) ** 2) == 0


def test_exact_flow_gain_preserves_marginal_variance() -> None:
    ge = gaussian.exact_flow_gain_rho()
    assert sp.simplify(ge**2 * (lam + a**2) - (lam + b**2)) == 0


def test_angle_identity_and_lagrange_form() -> None:
    assert gaussian.angle_identity_residual() == 0
    loss = gaussian.variance_loss_step()
    assert sp.simplify(loss - lam * (a - b) ** 2 / ((lam + a**2) * (lam + b**2))) == 0


def test_pure_noise_limits() -> None:
    assert sp.simplify(gaussian.pure_noise_first_step_variance() - b**2) == 0
    assert sp.simplify(gaussian.variance_loss_from_pure_noise() - lam / (lam + b**2)) == 0
    assert sp.simplify(gaussian.cos2_pure_noise() + gaussian.variance_loss_from_pure_noise() - 1) == 0


def test_matrix_step_commutes_with_covariance() -> None:
    assert gaussian.matrix_gain_commutator() == sp.zeros(2, 2)


def test_kl_expressions_vanish_only_at_r_equal_one() -> None:
    for f in (gaussian.kl_source_output(), gaussian.kl_output_source()):
        assert f.subs(r, 1) == 0
        assert sp.simplify(sp.diff(f, r).subs(r, 1)) == 0
        assert sp.diff(f, r, 2).subs(r, 1) > 0


def test_derivation_lists_every_step() -> None:
    steps = gaussian.derivation()
    assert len(steps) >= 10
    assert all(isinstance(st.expr, (sp.Basic, sp.MatrixBase)) for st in steps)
