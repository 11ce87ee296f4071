"""The GM derivation (symbolic), the stable numeric forms, schedules and the Stein grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from symsched.highdim import schedules as S
from symsched.highdim._symbols import c, m, rho, sigma, tau
from symsched.highdim.gm import GaussianMixture, derive_gm, stable_forms
from symsched.highdim.gm_stein import (
    gm_stein_length,
    gm_stein_metric,
    gm_stein_schedule,
    gm_xbar_score,
)


def test_velocity_matches_the_spec_formula() -> None:
    # docs/theory/highdim.md#exact-gm-fields, alpha = 1 - tau, typed in here as the reference
    der = derive_gm()
    dvar = c**2 * (1 - tau) ** 2 + sigma**2 * tau**2
    assert sp.simplify(der.velocity_x - (sigma**2 * tau - c**2 * (1 - tau)) / dvar) == 0
    assert sp.simplify(der.velocity_1 - c**2 * (1 - tau) / dvar) == 0
    assert sp.simplify(der.score_x + 1 / dvar) == 0
    assert sp.simplify(der.score_1 - tau / dvar) == 0
    assert sp.simplify(der.tanh_slope - tau * m / dvar) == 0


def test_velocity_is_finite_at_tau_one() -> None:
    der = derive_gm()
    assert sp.simplify(der.velocity_x.subs(tau, 1) - 1) == 0  # D_1 = sigma^2: b = x at tau = 1
    assert der.velocity_1.subs(tau, 1) == 0


def test_stable_forms_keep_precision_near_tau_one() -> None:
    forms = stable_forms()
    assert set(forms) >= {"velocity_x", "velocity_1", "tanh_slope"}
    gm = GaussianMixture(dim=10**8)
    al = np.array([1e-9])
    a, _, _ = gm.coefficients(1 - al, al, math.sqrt(gm.dim))
    # exact: D = d al^2 + sigma^2 tau^2; A = (sigma^2 tau - d al) / D
    d_ = gm.dim * al**2 + 0.25 * (1 - al) ** 2
    assert a[0] == pytest.approx(((0.25 * (1 - al)) - gm.dim * al)[0] / d_[0], rel=1e-13)


def test_xbar_score_is_the_noised_mixture_score() -> None:
    a, b1, k = gm_xbar_score()
    v = sigma**2 + rho**2
    assert (
        sp.simplify(a + 1 / v) == 0 and sp.simplify(b1 - 1 / v) == 0 and sp.simplify(k - m / v) == 0
    )


def test_stein_metric_reduces_to_the_gaussian_closed_form_far_from_speciation() -> None:
    # for rho << sqrt(d) the modes are resolved, the metric that of N(+-m 1, (sigma^2+rho^2) I):
    # docs/theory/stein.md#isotropic-ve with c -> sigma: 4 d rho^4 / (sigma^2 + rho^2)^3
    gm = GaussianMixture(dim=400)
    r = np.array([0.05, 0.3, 1.0, 2.0])
    ref = 4 * 400 * r**4 / (0.25 + r**2) ** 3
    assert np.allclose(gm_stein_metric(gm, r), ref, rtol=1e-8)


def test_stein_metric_against_monte_carlo() -> None:
    gm = GaussianMixture(dim=50)
    r = 5.0  # near speciation (m sqrt(d) ~ 7): the tanh term matters
    rng = np.random.default_rng(0)
    n = 200_000
    sgn = np.where(rng.random(n) < gm.p, 1.0, -1.0)
    v = 0.25 + r**2
    s_vals = sgn * gm.dim + math.sqrt(gm.dim * v) * rng.standard_normal(n)
    perp2 = v * rng.chisquare(gm.dim - 1, n)
    dv = 2 * r
    th = np.tanh(gm.h + s_vals / v)
    sech2 = 1 - th**2
    da = dv / v**2
    db = -dv / v**2 * th - (1 / v) * sech2 * s_vals * dv / v**2
    sq = da**2 * (perp2 + s_vals**2 / gm.dim) + 2 * da * s_vals * db + gm.dim * db**2
    mc = r**2 * sq.mean()
    se = r**2 * sq.std() / math.sqrt(n)
    assert abs(gm_stein_metric(gm, [r])[0] - mc) <= 5 * se


def test_stein_grid_has_equal_lengths() -> None:
    gm = GaussianMixture(dim=1000)
    g = gm_stein_schedule(gm, 12)
    rhos = g.sigmas(1.0)
    assert math.isinf(rhos[0]) and rhos[-1] == 0 and np.all(np.diff(rhos[1:]) < 0)
    grid, lam = gm_stein_length(gm, rhos[1], 2000)
    pieces = np.diff(np.interp(rhos[1:][::-1], grid, lam))
    assert np.allclose(pieces, pieces.mean(), rtol=2e-3)


@pytest.mark.parametrize("schedule", ["vp-dilated", "ve-dilated"])
def test_dilated_grid_is_the_authors_time_dilation(schedule: str) -> None:
    d, kappa, n = 10_000, 3.0, 40
    g = S.tau_grid(schedule, n, d, kappa)
    r = kappa / math.sqrt(d)
    t = np.arange(n + 1) / n
    if schedule == "vp-dilated":
        ref = np.where(t < 0.5, 2 * r * t, r + (1 - r) * (2 * t - 1))
    else:
        ref = np.where(t < 0.5, 2 * (1 - r) * t, (1 - r) + r * (2 * t - 1))
    assert np.allclose(g.taus, ref, atol=1e-15)
    assert np.allclose(g.alphas, 1 - ref, atol=1e-15)
    # ve-dilated phase 2: the per-coordinate noise sqrt(d)(1 - tau) falls linearly from kappa to 0
    if schedule == "ve-dilated":
        assert np.allclose(
            math.sqrt(d) * g.alphas[n // 2 :], kappa * (2 - 2 * t[n // 2 :]), rtol=1e-12
        )


def test_sigmas_are_descending_noise_levels() -> None:
    g = S.constant(5)
    got = g.sigmas(1.0)
    assert math.isinf(got[0]) and got[-1] == 0.0
    assert np.allclose(got[1:], [4.0, 1.5, 2 / 3, 0.25, 0.0], rtol=1e-15)
