"""Closed forms of the corrector cost: derivations, compiled forms, quadratures (§5)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symsched import stein
from symsched.stein import _symbolic as S
from symsched.symbols import lam


def test_metric_is_second_order_coefficient_of_both_weights() -> None:
    # delta is the h^2 coefficient of L_c(sigma -> sigma + h), for target and source weight alike
    h = sp.Symbol("h", real=True)
    for w in ("target", "source"):
        cost = S.gaussian_interval_cost("ve", w).subs(S.sigma_t, S.sigma + h)
        coeff = sp.series(cost, h, 0, 3).removeO().coeff(h, 2)
        assert sp.simplify(coeff - S.gaussian_local_metric("ve")) == 0


def test_metric_equals_v2_mdot2_over_m3() -> None:
    for proc in ("ve", "vp"):
        m = S.marginal_variance(S.sigma, proc)
        assert (
            sp.simplify(
                S.gaussian_local_metric(proc) - S.sigma**2 * sp.diff(m, S.sigma) ** 2 / m**3
            )
            == 0
        )


def test_compiled_costs_sum_eigenvalues_and_scale_with_dim() -> None:
    lev = stein.probe_levels(0.01, 20.0, 30)
    one = stein.gaussian_interval_costs([0.3], lev)
    assert np.allclose(stein.gaussian_interval_costs([0.3] * 5, lev), 5 * one, rtol=1e-13)
    both = stein.gaussian_interval_costs([0.3, 2.0], lev)
    assert np.allclose(both, one + stein.gaussian_interval_costs([2.0], lev), rtol=1e-13)


def test_length_is_integral_of_sqrt_metric() -> None:
    from scipy.integrate import quad

    val = quad(
        lambda s: np.sqrt(stein.gaussian_local_metric([0.49] * 3, np.array([s]))[0]),
        0.01,
        5.0,
        epsabs=0,
        epsrel=1e-12,
    )[0]
    closed = stein.isotropic_length(0.7, 3, 5.0) - stein.isotropic_length(0.7, 3, 0.01)
    assert val == pytest.approx(float(closed), rel=1e-10)


def test_vp_metric_chain_rule_matches_finite_steps() -> None:
    # finite-step VP costs / step^2 -> metric (w.r.t. rho) as the step shrinks
    rho, h = 0.8, 1e-5
    cost = stein.gaussian_interval_costs([0.3, 1.7], [rho + h, rho], process="vp")[0]
    assert cost / h**2 == pytest.approx(
        stein.gaussian_local_metric([0.3, 1.7], rho, process="vp"), rel=1e-4
    )


def test_two_point_metric_limits() -> None:
    small = np.array([0.05, 0.02])
    assert np.allclose(stein.two_point_local_metric(small) * small**2 / 4, 1.0, rtol=1e-6)
    # large sigma: the mixture looks like N(0, 1): delta -> 4 sigma^4/(1 + sigma^2)^3
    big = np.array([200.0])
    assert stein.two_point_local_metric(big)[0] == pytest.approx(
        4 * big[0] ** 4 / (1 + big[0] ** 2) ** 3, rel=1e-3
    )


def test_two_point_finite_steps_approach_metric() -> None:
    r, h = 0.4, 1e-4
    cost = stein.two_point_interval_costs([r + h, r])[0]
    assert cost / h**2 == pytest.approx(stein.two_point_local_metric(np.array([r]))[0], rel=1e-3)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="process"):
        stein.gaussian_interval_costs([1.0], [2.0, 1.0], process="sub-vp")
    with pytest.raises(ValueError, match="weight"):
        stein.gaussian_interval_costs([1.0], [2.0, 1.0], weight="middle")
    with pytest.raises(ValueError, match="eigenvalues"):
        stein.gaussian_interval_costs([-1.0], [2.0, 1.0])
    with pytest.raises(ValueError, match="strictly decreasing"):
        stein.gaussian_interval_costs([1.0], [1.0, 2.0])
    assert lam in S.gaussian_interval_cost("ve").free_symbols
