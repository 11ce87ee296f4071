"""The symmetric finite-step length is second order in the probe step, the forward one first order
(docs/theory/stein.md#second-order-length-estimate)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq

from symsched import stein
from symsched.models import GaussianModel, load_model
from symsched.stein import _closed
from symsched_verify import tolerances as tol

LO, HI, C = 0.002, 80.0, 0.5


def _optimum(n: int) -> np.ndarray:
    """Root-found Lambda^-1(k Lambda / N) of N(0, C^2) from the closed-form length."""

    def length(s: float) -> float:
        return float(stein.isotropic_length(C, 1, s))

    la, lb = length(LO), length(HI)
    inner = [
        brentq(lambda s, t=t: length(s) - t, LO, HI, xtol=1e-15, rtol=1e-15)
        for t in lb + (la - lb) * np.arange(1, n) / n
    ]
    return np.array([HI, *inner, LO])


def _errors(symmetric: bool, k: int, n: int = 9) -> tuple[float, float]:
    """Largest error of the cumulative length (relative to Lambda) and of the N-step schedule."""
    model = GaussianModel.isotropic(C, 1)
    lev = stein.probe_levels(LO, HI, k)
    costs = stein.estimate_costs(model, lev, estimator="exact", symmetric=symmetric).costs
    cum = stein.cumulative_length(costs[::-1])
    exact = stein.isotropic_length(C, 1, lev[::-1]) - stein.isotropic_length(C, 1, LO)
    cum_err = float(np.max(np.abs(cum - exact)) / exact[-1])
    return cum_err, stein.schedule_error(stein.update_schedule(lev, costs, n), _optimum(n))


@pytest.mark.parametrize(("symmetric", "order"), [(False, 1), (True, 2)])
def test_length_error_falls_like_k_to_the_order(symmetric: bool, order: int) -> None:
    # e(K) / e(2K) = 2^p (1 + O(1/K)): the observed order log2 of the ratio, for the cumulative
    # length and for the schedule, at K = 256 -> 512 -> 1024 (measured: forward 0.96-1.03,
    # symmetric 2.000-2.003)
    errs = [_errors(symmetric, k) for k in (256, 512, 1024)]
    lo_b, hi_b = tol.STEIN_LENGTH_ORDER_BAND
    for coarse, fine in itertools.pairwise(errs):
        for a, b in zip(coarse, fine, strict=True):
            assert order + lo_b <= math.log2(a / b) <= order + hi_b, (symmetric, errs)


def test_symmetric_default_is_much_closer_than_forward() -> None:
    # the measured gap: forward 1.2e-2 at the default K = 128, symmetric 5.7e-4
    fwd, sym = _errors(False, 128)[1], _errors(True, 128)[1]
    assert sym <= tol.STEIN_DEFAULT_SCHEDULE_RTOL < fwd
    assert fwd > 10 * sym


def test_forward_cost_has_an_odd_term_and_the_symmetric_one_has_none() -> None:
    # the derived (not hand-typed) VE costs about the midpoint m of a step of width h: the forward
    # cost's h^3 coefficient is -4 c^2 m^3 / (c^2 + m^2)^4, the symmetric cost's odd terms vanish
    m, h = sp.symbols("m h", positive=True)
    lam = sp.Symbol("lam", positive=True)
    rho_s, rho_t = _closed._rho_s, _closed._rho_t

    def about_mid(e: sp.Expr) -> sp.Expr:
        return e.subs({rho_s: m + h / 2, rho_t: m - h / 2, _closed.lam: lam}, simultaneous=True)

    fwd = about_mid(_closed.gaussian_interval_cost_rho("ve", "target"))
    rev = about_mid(_closed.gaussian_interval_cost_rho("ve", "target", reverse=True))
    ser_f = sp.series(fwd, h, 0, 4).removeO()
    ser_s = sp.series((fwd + rev) / 2, h, 0, 6).removeO()
    assert sp.simplify(ser_f.coeff(h, 2) - 4 * m**4 / (lam + m**2) ** 3) == 0
    assert sp.simplify(ser_f.coeff(h, 3) + 4 * lam * m**3 / (lam + m**2) ** 4) == 0
    assert sp.simplify(ser_s.coeff(h, 3)) == 0 and sp.simplify(ser_s.coeff(h, 5)) == 0


@pytest.mark.parametrize(("process", "weight"), [("ve", "target"), ("vp", "source")])
def test_symmetric_monte_carlo_is_unbiased_for_the_symmetric_cost(
    process: str, weight: str
) -> None:
    m = GaussianModel(np.array([0.05, 0.3, 1.0, 4.0]))
    lev = stein.probe_levels(0.01, 20.0, 6)
    kw = {"process": process, "weight": weight}
    exact = stein.estimate_costs(m, lev, estimator="exact", symmetric=True, **kw).costs
    fwd = stein.estimate_costs(m, lev, estimator="exact", **kw).costs
    mc = stein.estimate_costs(
        m, lev, estimator="monte-carlo", samples=8000, seed=1, symmetric=True, **kw
    )
    assert mc.stderr is not None and mc.evaluations == 2 * 8000 * 6
    z = (mc.costs - exact) / mc.stderr
    assert np.all(np.abs(z) < 5)
    # the forward cost differs from it by many standard errors (so the test could fail)
    assert np.max(np.abs(mc.costs - fwd) / mc.stderr) > 10


def test_reverse_two_point_cost_swaps_the_levels() -> None:
    # the reversed step of [s > t] goes t -> s: its target weight is the upper level s and its
    # measure p_t; an independent adaptive quadrature of the hand-typed score difference
    from scipy.integrate import quad

    s, t = 0.7, 0.5

    def score(x: float, r: float) -> float:
        return (math.tanh(x / r**2) - x) / r**2

    def integrand(x: float) -> float:
        dens = math.exp(-((x - 1) ** 2) / (2 * t * t)) / math.sqrt(2 * math.pi * t * t)
        return (score(x, s) - score(x, t)) ** 2 * dens

    ref = s**2 * quad(integrand, 1 - 12 * t, 1 + 12 * t, epsrel=1e-12, limit=400)[0]
    got = _closed.two_point_interval_costs([s, t], reverse=True)[0]
    assert got == pytest.approx(ref, rel=tol.STEIN_QUADRATURE_RTOL)


def test_default_estimator_and_options() -> None:
    gauss = load_model("gaussian", c=0.5, dim=2)
    assert stein.default_estimator(gauss) == "exact"
    assert stein.default_estimator(load_model("gm")) == stein.DEFAULT_ESTIMATOR
    res = stein.stein_schedule(gauss, 6)
    assert res.schedule.params["estimator"] == "exact"
    assert res.schedule.params["length"] == "symmetric"
    fwd = stein.stein_schedule(gauss, 6, symmetric=False)
    assert fwd.schedule.params["length"] == "forward"
    assert stein.schedule_error(res.schedule.sigmas, fwd.schedule.sigmas) > 1e-3
    with pytest.raises(ValueError, match="applies to the exact and monte-carlo"):
        stein.stein_schedule(gauss, 6, estimator="jvp", symmetric=False)
    with pytest.raises(ValueError, match="finite-step estimators"):
        stein.estimate_costs(gauss, [2.0, 1.0], estimator="jvp", symmetric=True)
    with pytest.raises(ValueError, match="samples >= 4"):
        stein.estimate_costs(gauss, [2.0, 1.0], estimator="monte-carlo", samples=3, symmetric=True)
