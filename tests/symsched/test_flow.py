"""Flow-matching models in the Gaussian theory (docs/theory/flow.md)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import sympy as sp

from symsched.export import export, flow_levels
from symsched.flow import derive, shift
from symsched.gaussian import exact
from symsched.schedules import Schedule


def test_noise_level_and_shift_maps() -> None:
    t, rho, s, mu, sig = sp.symbols("t rho s mu sigma", positive=True)
    assert sp.simplify(derive.noise_level_of_flow_time() - t / (1 - t)) == 0
    assert sp.simplify(derive.linear_shift_rho() - s * rho) == 0
    assert sp.simplify(derive.exponential_shift_rho() - sp.exp(mu) * rho**sig) == 0


def test_euler_in_flow_time_is_ddim_and_heun_is_not_heun_in_rho() -> None:
    assert derive.euler_flow_minus_ddim() == 0
    ta, tb = derive.t_a, derive.t_b
    d_a, d_b = sp.symbols("D_a D_b", real=True)
    typed = (d_a - d_b) * (ta - tb) ** 2 / (2 * tb * (1 - ta) * (1 - tb))  # written here
    assert sp.simplify(derive.heun_flow_minus_heun_rho() - typed) == 0


def _euler_flow_variance(lam: float, t: np.ndarray) -> float:
    """Euler on the exact Gaussian velocity in flow time, written from x_t = (1-t) x0 + t eps
    alone: v(x, t) = E[eps - x0 | x_t] = c(t) x, c from the joint Gaussian of (x_t, eps - x0)."""
    var = t[0] ** 2 + (1 - t[0]) ** 2 * lam  # Var x_t at the start (the marginal)
    for a, b in itertools.pairwise(t):
        vx = (1 - a) ** 2 * lam + a**2  # Var x_a
        cov = a - (1 - a) * lam  # Cov(x_a, eps - x0)
        g = 1 + (b - a) * cov / vx
        var *= g * g
    return float(var)


@pytest.mark.parametrize("lam", [0.01, 0.3, 4.0])
def test_euler_flow_matches_the_exact_ddim_ratio(lam: float) -> None:
    t = np.array([0.999, 0.8, 0.5, 0.2, 0.05])
    rho = flow_levels(t)
    r = exact.variance_ratios([lam], rho, sampler="ddim")[0]
    var_scaled = _euler_flow_variance(lam, t) / (1 - t[-1]) ** 2  # in xbar = x / (1 - t)
    assert var_scaled / (lam + rho[-1] ** 2) == pytest.approx(r, rel=1e-12)


def test_shifted_grid_exports_as_uniform_flow_time() -> None:
    grid = shift.shifted_uniform_grid(8, 3.0)
    assert math.isinf(grid[0]) and grid[-1] == 0.0
    np.testing.assert_allclose(grid[1:-1], 3.0 * flow_levels(np.linspace(1, 0, 9))[1:-1])
    ex = export(Schedule("explicit", grid, {}), "flow-matching", shift=3.0)
    np.testing.assert_allclose(json.loads(ex.text), np.linspace(1, 0, 9)[:-1], rtol=1e-12)


def test_optimal_shift_is_certified() -> None:
    lam = np.geomspace(1e-2, 10.0, 40)
    opt = shift.optimal_shift(lam, 10)
    kl = exact.kl(lam, opt.sigmas).kl_source_output
    assert opt.kl == pytest.approx(kl, rel=1e-12)
    for factor in (math.exp(-0.01), math.exp(0.01)):
        grid = shift.shifted_uniform_grid(10, opt.shift * factor)
        assert exact.kl(lam, grid).kl_source_output > kl
    assert opt.curvature > 0
    assert (
        abs(math.log(opt.scan_best / opt.shift))
        <= (shift.LOG_SHIFT_RANGE[1] - shift.LOG_SHIFT_RANGE[0]) / 240
    )
    # a spectrum ten times larger wants a larger shift (the levels scale with the data std)
    assert shift.optimal_shift(lam * 100.0, 10).shift > opt.shift


def test_bad_shift_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="shift"):
        shift.shifted_uniform_grid(4, -1.0)
    with pytest.raises(ValueError, match="outside"):
        shift.optimal_shift(np.full(3, 1e-30), 4)


def test_closed_form_angle_length_matches_the_quadrature() -> None:
    from symsched.gaussian import asymptotics

    lam = np.array([0.01, 0.2, 3.0])
    s_value = 0.7
    co = asymptotics.coefficients(lam, shift.flow_shift_family(s_value), method="quadrature")
    a = sp.Symbol("a", positive=True)
    j = sp.lambdify(a, derive.shifted_flow_angle_length())(s_value / np.sqrt(lam))
    np.testing.assert_allclose(co.J, j, rtol=1e-9)


def test_optimal_shift_converges_to_the_limit_and_the_expansion_corrects_it() -> None:
    from symsched.datasets import dataset_spectrum

    lam = dataset_spectrum("digits")
    s_inf = shift.limit_shift(lam)
    gaps = []
    for n in (10, 20, 40):
        s_n = shift.optimal_shift(lam, n).shift
        s_em = shift.expansion_shift(lam, n)
        gap_limit, gap_em = abs(math.log(s_n / s_inf)), abs(math.log(s_n / s_em))
        assert gap_em < gap_limit  # the N^-3, N^-4 terms move the optimum the right way
        gaps.append(gap_limit)
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-4
