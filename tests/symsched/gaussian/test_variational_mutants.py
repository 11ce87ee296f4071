"""Behaviour of the variational optima and the sampler-aware search, against independent oracles.

Checked here (docs/theory/gaussian.md#three-optima,
docs/theory/coupling.md#the-sampler-aware-optimum, docs/mutation.md):

* the symbolic derivations: the Euler-Lagrange equation of the angle and its tangent-law
  solution with the stated ends, the Beltrami first integral of the geodesic Lagrangian;
* the geodesic (b): every step of its grid has the same metric length, measured by an independent
  adaptive quadrature (scipy.integrate.quad) of the metric density, also in the panel next to a
  finite end; the lengths J_i against the same quadrature; the fixed point's iteration count and
  its stop at the tolerance; the refusal of ends far outside the spectrum;
* the exact finite-N optimum (c): its reported gradient is the largest entry of the exact
  gradient, a zero KL is handled, the one-step case, the init checks, the range checks of
  ``_check_optimiser_range``;
* the sampler-aware optimum: ``max_step_ratio`` and ``min_gap_ratio`` recomputed by hand, the
  gaps parametrisation (every point of its box is a strictly decreasing grid within the ratio
  bound, every such grid is a point of the box), the projected gradient, the plateau stop, the
  projected Newton polish on criteria whose Newton iterates are known in closed form, the starts,
  the torch criterion against the float64 criteria, the ``final_zero`` grids and the optimiser's
  accounting of iterations and restarts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import sympy as sp
from optimiser_spy import bounded_runs
from scipy.integrate import quad

from symsched._typing import FloatArray
from symsched.gaussian import coupling, exact, sampler_optimum, variational
from symsched.gaussian.sampler_optimum import (
    NEWTON_STEPS,
    PLATEAU,
    RESTARTS,
    STATIONARITY,
    SamplerOptimum,
    _Gaps,
    _newton_polish,
    _Plateau,
    _starts,
    objective_and_gradient,
    sampler_optimal,
)
from symsched.gaussian.tangent import tangent_sigmas
from symsched.symbols import lam, u

LAM = np.array([0.01, 0.3, 4.0])
Box = list[tuple[float | None, float | None]]

# ---------------------------------------------------------------------------------------------
# the symbolic derivations


def test_euler_lagrange_of_the_angle_is_linear_with_the_stated_ends() -> None:
    eq, rho = variational.euler_lagrange_single()
    phi = sp.Function("phi")
    # the Euler-Lagrange expression of phi'^2 is -2 phi'' (docstring)
    assert sp.simplify(eq - (-2 * sp.diff(phi(u), u, 2))) == 0
    syms = {s.name: s for s in rho.free_symbols}
    assert set(syms) == {"phi_max", "phi_min", "lambda", "u"} or set(syms) >= {"phi_max", "phi_min"}
    pmax, pmin = syms["phi_max"], syms["phi_min"]
    assert pmax.is_real and pmin.is_real  # the ends are real angles
    # the tangent law: rho(0) = sqrt(lam) tan(phi_max), rho(1) = sqrt(lam) tan(phi_min) and the
    # angle atan(rho / sqrt(lam)) linear in u
    assert sp.simplify(rho.subs(u, 0) - sp.sqrt(lam) * sp.tan(pmax)) == 0
    assert sp.simplify(rho.subs(u, 1) - sp.sqrt(lam) * sp.tan(pmin)) == 0
    vals = {pmax: 1.2, pmin: 0.1, lam: 0.7}
    angle = [math.atan(float(rho.subs({**vals, u: x})) / math.sqrt(0.7)) for x in (0.0, 0.3, 1.0)]
    # rounding only: the three angles of a linear function, evaluated in float64
    assert angle[1] == pytest.approx(angle[0] + 0.3 * (angle[2] - angle[0]), abs=1e-12)


def test_beltrami_first_integral_of_the_geodesic_lagrangian() -> None:
    el, h = variational.beltrami_first_integral()
    rho = sp.Function("rho")(u)
    g = sp.Function("g")
    d1, d2 = sp.diff(rho, u), sp.diff(rho, u, 2)
    gp = sp.diff(g(rho), u) / d1  # g'(rho)
    # H = rho'^2 g(rho); the Euler-Lagrange expression of rho'^2 g is +-(2 g rho'' + g' rho'^2)
    assert sp.simplify(h - d1**2 * g(rho)) == 0
    assert sp.simplify(el**2 - (2 * g(rho) * d2 + sp.simplify(gp) * d1**2) ** 2) == 0


def test_metric_density_is_the_angle_speed_per_level_speed() -> None:
    dens = variational._metric_density()
    r = sp.Symbol("rho_value", positive=True)
    assert sp.simplify(dens - lam / (lam + r**2) ** 2) == 0
    levels, lv = np.array([0.1, 1.0, 7.0]), np.array([0.5, 2.0])
    want = lv[None, :] / (lv[None, :] + levels[:, None] ** 2) ** 2
    np.testing.assert_allclose(variational._m(levels, lv), want, rtol=1e-15)  # rounding only


# ---------------------------------------------------------------------------------------------
# the geodesic (b)


def _metric(geo: variational.Geodesic) -> Callable[[float], float]:
    w, lv = geo.weights, geo.eigenvalues
    return lambda r: math.sqrt(float(np.sum(w * lv / (lv + r * r) ** 2)))


def _length(f: Callable[[float], float], a: float, b: float) -> float:
    # in ln(rho): smooth, so the adaptive rule converges to ~1e-14 relative
    val, _ = quad(
        lambda v: f(math.exp(v)) * math.exp(v),
        math.log(a),
        math.log(b),
        epsabs=0.0,
        epsrel=1e-13,
        limit=200,
    )
    return float(val)


@pytest.mark.parametrize(("lo", "hi", "steps"), [(0.05, 2.5, 24), (0.01, 6.0, 9)])
def test_geodesic_steps_have_equal_metric_length(lo: float, hi: float, steps: int) -> None:
    geo = variational.geodesic(LAM, lo, hi)
    grid = geo.grid(steps)
    assert grid[0] == hi and grid[-1] == lo and grid.size == steps + 1
    assert np.all(np.diff(grid) < 0)
    f = _metric(geo)
    parts = np.array([_length(f, grid[k + 1], grid[k]) for k in range(steps)])
    # the grid's Brent roots (xtol 1e-14) and the Gauss panels (exact to ~1e-15) against the
    # adaptive rule (1e-13): equal to 1e-10 of a step
    np.testing.assert_allclose(parts, parts.sum() / steps, rtol=1e-10)


def test_geodesic_lengths_match_an_independent_quadrature() -> None:
    # a tight fixed point, so that the returned weights are the metric's to ~1e-14
    geo = variational.geodesic(LAM, 0.0, math.inf, tol=1e-14)
    f = _metric(geo)

    def integral(fn: Callable[[float], float]) -> float:
        # over (0, inf) in ln(rho), far enough that the rest is below 1e-20 relative
        a, b = math.log(math.sqrt(LAM.min())) - 40, math.log(math.sqrt(LAM.max())) + 40
        val, _ = quad(
            lambda v: fn(math.exp(v)) * math.exp(v),
            a,
            b,
            epsabs=0.0,
            epsrel=1e-13,
            limit=400,
            points=[math.log(math.sqrt(x)) for x in LAM],
        )
        return float(val)

    length = integral(f)
    for i, li in enumerate(LAM):

        def m_over_sqrt_g(r: float, li: float = float(li)) -> float:
            return li / (li + r * r) ** 2 / f(r)

        ji = length * integral(m_over_sqrt_g)
        # the Gauss panels with the closed-form tails (O(e^-36)) against the adaptive rule
        assert geo.J[i] == pytest.approx(ji, rel=1e-11)
    # self-consistent: the weights are J / sum J
    np.testing.assert_allclose(geo.weights, geo.J / geo.J.sum(), rtol=1e-13)


def test_one_distinct_eigenvalue_is_its_own_fixed_point() -> None:
    # equal weights are exactly the fixed point of a single distinct value: one iteration, a
    # zero residual, even with a zero tolerance
    geo = variational.geodesic([0.5, 0.5, 0.5], 0.0, math.inf, tol=0.0)
    assert geo.iterations == 1 and geo.residual == 0.0
    np.testing.assert_allclose(geo.weights, 1 / 3, rtol=1e-15)


def test_the_fixed_point_stops_at_max_iter() -> None:
    need = variational.geodesic(LAM, 0.0, math.inf).iterations
    assert need > 2
    assert variational.geodesic(LAM, 0.0, math.inf, max_iter=need).iterations == need
    with pytest.raises(RuntimeError, match="did not converge"):
        variational.geodesic(LAM, 0.0, math.inf, max_iter=need - 1)


def test_geodesic_refuses_ends_far_outside_the_spectrum() -> None:
    with pytest.raises(ValueError, match="far below"):
        variational.geodesic([1.0], 1e-12, math.inf)
    with pytest.raises(ValueError, match="far above"):
        variational.geodesic([1.0], 0.0, 1e12)


# ---------------------------------------------------------------------------------------------
# the exact finite-N optimum (c) and the range checks


def test_kl_optimal_reports_the_largest_gradient_entry() -> None:
    res = variational.kl_optimal(LAM, 6, 0.01, 50.0)
    kl, grad = variational.exact_kl_and_gradient(LAM, res.sigmas)
    assert res.kl == pytest.approx(kl, rel=1e-12)  # the same float64 path
    assert res.gradient_norm == pytest.approx(float(np.max(np.abs(grad))), rel=1e-9)
    # stationary: L-BFGS-B on the scaled KL reaches ~1e-9 of the KL (measured 2e-9); 1e-7
    # leaves room, and an unscaled or inconsistently scaled objective stops far above it
    assert res.gradient_norm <= 1e-7 * res.kl
    assert res.iterations > 0 and res.converged
    # a local minimum: no perturbation of one interior level lowers the KL
    for j in range(1, 6):
        for f in (1.001, 0.999):
            sig = res.sigmas.copy()
            sig[j] *= f
            assert variational.exact_kl_and_gradient(LAM, sig)[0] >= res.kl


def test_kl_optimal_of_a_zero_kl_problem() -> None:
    # an eigenvalue far above every level: the derived step losses vanish, the optimiser's KL
    # is 0.0 in float64 (the full-spectrum KL ~1e-158), so nothing moves and nothing divides by it
    start = tangent_sigmas(3, 1e20, 1e-20, 1e-19)
    assert variational.exact_kl_and_gradient([1e40], start)[0] == 0.0
    res = variational.kl_optimal([1e40], 3, 1e-20, 1e-19, init=start)
    np.testing.assert_allclose(res.sigmas, start, rtol=1e-14)  # exp(log(level)) rounding
    assert res.gradient_norm == 0.0 and 0.0 <= res.kl < 1e-150
    opt = sampler_optimal([1e40], 3, 1e-20, 1e-19, sampler="ddim", objective="kl")
    assert opt.gradient_norm == 0.0 and 0.0 <= opt.objective_value < 1e-150


def test_kl_optimal_one_step_and_init_checks() -> None:
    one = variational.kl_optimal(LAM, 1, 0.01, 50.0)
    np.testing.assert_array_equal(one.sigmas, [50.0, 0.01])
    assert one.gradient_norm == 0.0 and one.iterations == 0 and one.converged
    assert one.kl == pytest.approx(exact.kl(LAM, one.sigmas).kl_source_output, rel=1e-14)
    two = variational.kl_optimal(LAM, 2, 0.01, 50.0)
    assert two.sigmas.size == 3 and two.iterations > 0
    good = np.geomspace(50.0, 0.01, 5)
    for bad in (good[:-1].copy(), np.concatenate([[40.0], good[1:]]), np.geomspace(50, 0.02, 5)):
        with pytest.raises(ValueError, match="init must be a grid of 5 levels"):
            variational.kl_optimal(LAM, 4, 0.01, 50.0, init=bad)


def test_the_optimiser_range_is_checked_inclusively() -> None:
    check = variational._check_optimiser_range
    one = np.array([1.0])
    check(one, 1e-20, 1e20, "x")  # the window's ends are inside it
    check(np.array([1e-40, 1e40]), 0.0, math.inf, "x")
    with pytest.raises(
        ValueError, match=r"sigma_min = 1e-21: x works on levels in \[1e-20, 1e\+20\]"
    ):
        check(one, 1e-21, 1.0, "x")
    with pytest.raises(ValueError, match="sigma_max = 2e"):
        check(one, 0.0, 2e20, "x")
    for bad in ([1e-41, 1.0], [1.0, 1e41], [1e-41]):
        with pytest.raises(ValueError, match=r"eigenvalues in .* needs a spectrum in \[1e-40"):
            check(np.array(bad), 0.0, math.inf, "x")
    with pytest.raises(ValueError, match="needs a spectrum"):
        variational.kl_optimal([1e-41, 1.0], 3)


# ---------------------------------------------------------------------------------------------
# SamplerOptimum's ratios, recomputed by hand


@pytest.fixture(scope="module")
def template() -> SamplerOptimum:
    return sampler_optimal(LAM, 1, 0.01, 50.0, sampler="ddim", objective="coupling")


L2 = math.log(2.0)


@pytest.mark.parametrize(
    ("grid", "step_ratio", "gap_ratio"),
    [
        # finite positive levels 8, 4, 1, 0.5: log steps ln2, ln4, ln2
        ([math.inf, 8.0, 4.0, 1.0, 0.5, 0.0], 2.0, L2 / (4 * L2 / 3)),
        # three levels below 1: steps ln2, ln4
        ([0.8, 0.4, 0.1], 2.0, L2 / (1.5 * L2)),
        # steps 2 ln2, ln2, 1.5 ln2: ratios 1/2 and 3/2
        ([16.0, 4.0, 2.0, 2.0**-0.5], 2.0, 1.0 / 1.5),
        # fewer than three finite positive levels: no ratio
        ([math.inf, 2.0, 0.0], 1.0, 1.0),
        ([3.0, 1.0], 1.0, 1.0),
    ],
)
def test_step_and_gap_ratios_by_hand(
    template: SamplerOptimum, grid: list[float], step_ratio: float, gap_ratio: float
) -> None:
    opt = dataclasses.replace(template, sigmas=np.array(grid))
    assert opt.max_step_ratio == pytest.approx(step_ratio, rel=1e-14)  # rounding of logs only
    assert opt.min_gap_ratio == pytest.approx(gap_ratio, rel=1e-14)


# ---------------------------------------------------------------------------------------------
# the gaps parametrisation

ENDS = [(50.0, 0.01), (50.0, 0.0), (math.inf, 0.01), (math.inf, 0.0), (20.0, 0.5)]


def _grid(gaps: _Gaps, y: FloatArray) -> FloatArray:
    import torch

    with torch.no_grad():
        inner = np.exp(gaps.to_log_levels(torch.as_tensor(y, dtype=torch.float64)).numpy())
    return np.concatenate([[gaps.hi], inner, [gaps.lo]])


def _finite_ratios(grid: FloatArray) -> FloatArray:
    pos = grid[np.isfinite(grid) & (grid > 0)]
    h = -np.diff(np.log(pos))
    return np.asarray(h[1:] / h[:-1], dtype=np.float64)


@pytest.mark.parametrize(("hi", "lo"), ENDS)
@pytest.mark.parametrize("bound", [None, 2.0])
@pytest.mark.parametrize("n", [2, 3, 6])
def test_every_point_of_the_box_is_a_grid_within_the_bound(
    hi: float, lo: float, bound: float | None, n: int
) -> None:
    gaps = _Gaps(hi, lo, n, bound)
    box = gaps.box()
    assert len(box) == n - 1  # one free variable per interior level
    rng = np.random.default_rng(n)
    # unbounded steps are exp(w): |w| <= 2.5 keeps every level a normal float64
    cap = math.log(bound) if bound else 2.5
    points = [rng.uniform(-1, 1, n - 1) * s for s in (0.3, 2.5)]
    points += [np.full(n - 1, cap), np.full(n - 1, -cap)]
    for y in points:
        # a free variable takes any value, a ratio one the values of its box
        y = np.array(
            [v if b[0] is None else min(max(v, b[0]), b[1]) for v, b in zip(y, box, strict=True)]
        )
        grid = _grid(gaps, y)
        assert grid.size == n + 1 and np.all(np.diff(grid) < 0), (y, grid)
        if bound is not None:
            r = _finite_ratios(grid)
            # each ratio is exp(w) with |w| <= ln R, in float64
            assert np.all(r <= bound * (1 + 1e-12)) and np.all(r >= (1 - 1e-12) / bound)


@pytest.mark.parametrize(("hi", "lo"), ENDS)
@pytest.mark.parametrize("bound", [None, 2.0])
@pytest.mark.parametrize("n", [2, 3, 6])
def test_every_grid_within_the_bound_is_a_point_of_the_box(
    hi: float, lo: float, bound: float | None, n: int
) -> None:
    gaps = _Gaps(hi, lo, n, bound)
    box = gaps.box()
    # a grid whose finite steps have ratios in [1/2, 2] (1.9 and 1/1.9 alternating), with its
    # first finite level far from the finite end, or an anchor level far out
    top = math.log(hi) if math.isfinite(hi) else 12.0
    steps = [3.0 * (1.9 ** (k % 2)) for k in range(n)]
    logs = top - np.cumsum([0.0, *steps])
    if math.isfinite(hi) and lo > 0:
        logs = math.log(hi) - (math.log(hi) - math.log(lo)) * np.cumsum([0.0, *steps]) / sum(steps)
    elif not math.isfinite(hi) and lo > 0:
        logs = math.log(lo) + np.cumsum([0.0, *steps])[::-1]
    grid = np.exp(logs)
    grid[0], grid[-1] = hi, lo
    y = gaps.from_levels(grid)
    assert y.size == n - 1
    for v, (b0, b1) in zip(y, box, strict=True):
        assert (b0 is None or v >= b0 - 1e-12) and (b1 is None or v <= b1 + 1e-12)
    # and it is the grid of its variables (a round trip, to rounding)
    back = _grid(gaps, y)
    np.testing.assert_allclose(np.log(back[1:-1]), np.log(grid[1:-1]), rtol=1e-12, atol=1e-12)


def test_projected_gradient_zeroes_only_components_pushing_out_of_the_box() -> None:
    gaps = _Gaps(math.inf, 0.0, 6, 2.0)  # anchor level, first step (free), three ratios
    cap = math.log(2.0)
    y = np.array([-1e6, 1e6, -cap, cap, 0.0])
    np.testing.assert_array_equal(
        gaps.projected(y, np.array([1.0, -1.0, 1.0, -1.0, 1.0])), [1.0, -1.0, 0.0, 0.0, 1.0]
    )
    g_in = np.array([-1.0, 1.0, -1.0, 1.0, -1.0])  # pushing into the box: kept
    np.testing.assert_array_equal(gaps.projected(y, g_in), g_in)
    g = np.array([0.5, -0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(gaps.projected(y, g), [0.5, -0.5, 0.0, 0.5, 0.5])
    g = np.array([0.5, 0.5, -0.5, -0.5, -0.5])
    np.testing.assert_array_equal(gaps.projected(y, g), [0.5, 0.5, -0.5, 0.0, -0.5])
    # "at the bound" is within 1e-12 of it, inclusive; 1e-11 inside is inside
    for off, active in ((0.0, True), (1e-13, True), (1e-12, True), (1e-11, False), (0.5, False)):
        y = np.array([0.0, 0.0, -cap + off, cap - off, 0.0])
        got = gaps.projected(y, np.array([1.0, 1.0, 1.0, -1.0, 1.0]))
        want = [1.0, 1.0, 0.0, 0.0, 1.0] if active else [1.0, 1.0, 1.0, -1.0, 1.0]
        np.testing.assert_array_equal(got, want, err_msg=f"offset {off}")


# ---------------------------------------------------------------------------------------------
# the plateau stop


def _feed(values: list[float]) -> tuple[_Plateau, int | None]:
    plateau = _Plateau()
    assert plateau.stopped is False
    for k, v in enumerate(values):
        try:
            plateau(SimpleNamespace(fun=v))
        except StopIteration:
            return plateau, k + 1
    return plateau, None


def test_plateau_stops_after_a_window_of_small_gains() -> None:
    window, drop = PLATEAU
    base = math.log(1e-8)  # a log criterion: negative
    # a steady gain just above the threshold over the window never stops (1.01e-4 per 50
    # iterations; 0.99e-4 per 49)
    rate = drop / window * 1.01
    p, at = _feed([base - k * rate for k in range(4 * window)])
    assert at is None and p.stopped is False
    # a large gain never stops either
    p, at = _feed([base - k * 1e-2 for k in range(4 * window)])
    assert at is None
    # a gain below the threshold stops as soon as the window is full
    p, at = _feed([base - k * rate / 2 for k in range(4 * window)])
    assert at == window + 1 and p.stopped is True
    # "less than": a gain of exactly the threshold over the window does not stop
    p, at = _feed([drop] + [0.0] * window)
    assert at is None


# ---------------------------------------------------------------------------------------------
# the projected Newton polish


def _quadratic(a: FloatArray, c: FloatArray, f0: float = 1.0) -> tuple[Any, Any]:
    def fg(y: FloatArray) -> tuple[float, FloatArray]:
        d = y - c
        return f0 + 0.5 * float(d @ a @ d), a @ d

    return fg, lambda y: a.copy()


FREE: Box = [(None, None)] * 3


def test_newton_lands_on_the_minimum_of_a_quadratic_in_one_step() -> None:
    a = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    c = np.array([-0.8, 0.6, -0.2])
    fg, hess = _quadratic(a, c)
    y0 = c + 1e-5 * np.array([1.0, -1.0, 1.0])  # gradient ~1e-5: above STATIONARITY
    y, f, taken = _newton_polish(fg, hess, FREE, y0)
    assert taken == 1
    np.testing.assert_allclose(y, c, atol=1e-12)  # one exact Newton step, rounding only
    assert f == fg(y)[0]
    y, f, taken = _newton_polish(fg, hess, FREE, c + np.array([0.5, -1.0, 2.0]))
    assert taken == 1
    np.testing.assert_allclose(y, c, atol=1e-12)


def test_newton_on_a_quartic_takes_full_steps_until_stationary() -> None:
    # f = sum y^4: the Newton step is -y/3 in each coordinate, so y_k = (2/3)^k y_0, accepted
    # in full (the Armijo decrease holds), until max 4|y|^3 <= STATIONARITY or NEWTON_STEPS
    def fg(y: FloatArray) -> tuple[float, FloatArray]:
        return float(np.sum(y**4)), 4 * y**3

    def hess(y: FloatArray) -> FloatArray:
        return np.diag(12 * y**2)

    box: Box = [(None, None)] * 2
    for y0 in (np.array([1.0, -0.5]), np.array([100.0, 30.0])):
        k, yk = 0, y0.copy()
        while k < NEWTON_STEPS and np.max(np.abs(4 * yk**3)) > STATIONARITY:
            yk, k = yk * (2 / 3), k + 1
        y, _f, taken = _newton_polish(fg, hess, box, y0)
        assert taken == k
        np.testing.assert_allclose(y, yk, rtol=1e-12)  # the same contraction, rounding only
    assert k == NEWTON_STEPS  # the second start needs more steps than allowed


def test_newton_halves_a_step_whose_decrease_is_too_small() -> None:
    # f = sqrt(1 + y^2): the Newton step from y sends it to -y^3. From just below 1 that
    # decreases f by ~1.4e-5, less than the Armijo fraction 1e-4 of the predicted 1.4; the
    # halved step lands at ~1e-5 and the next Newton step at ~1e-15: two steps
    def fg(y: FloatArray) -> tuple[float, FloatArray]:
        s = math.sqrt(1 + y[0] ** 2)
        return s, np.array([y[0] / s])

    def hess(y: FloatArray) -> FloatArray:
        return np.array([[(1 + y[0] ** 2) ** -1.5]])

    y, _f, taken = _newton_polish(fg, hess, [(None, None)], np.array([1.0 - 1e-5]))
    assert taken == 2
    assert abs(y[0]) < 1e-12


def test_newton_stops_where_no_step_decreases_the_criterion() -> None:
    # flat in float64: a step of 1e-15 at 1000 does not move y at all
    def fg(y: FloatArray) -> tuple[float, FloatArray]:
        return 1.0, np.array([1e-5])

    y0 = np.array([1000.0])
    y, f, taken = _newton_polish(fg, lambda y: np.array([[1e10]]), [(None, None)], y0)
    assert taken == 0 and f == 1.0
    np.testing.assert_array_equal(y, y0)


def test_newton_accepts_a_decrease_of_exactly_the_armijo_fraction() -> None:
    # a criterion that falls along the Newton direction by exactly 1e-4 of the predicted
    # decrease, in float64: the sufficient-decrease condition is inclusive
    y0, g0 = np.array([0.25]), np.array([0.5])

    def fg(y: FloatArray) -> tuple[float, FloatArray]:
        return 1.0 + 1e-4 * float(g0 @ (y - y0)), g0

    _y, f, taken = _newton_polish(fg, lambda y: np.eye(1), [(None, None)], y0)
    assert taken == NEWTON_STEPS and f < 1.0


def test_newton_stops_at_once_at_a_stationary_point() -> None:
    fg, hess = _quadratic(np.eye(1), np.zeros(1), 0.0)
    for y0 in (np.array([STATIONARITY]), np.array([STATIONARITY / 2])):  # gradient <= target
        y, _f, taken = _newton_polish(fg, hess, [(None, None)], y0)
        assert taken == 0
        np.testing.assert_array_equal(y, y0)
    # every variable at its bound, pushed out: nothing is free
    fg, hess = _quadratic(np.eye(2), np.array([5.0, -5.0]))
    y0 = np.array([1.0, -1.0])
    y, _f, taken = _newton_polish(fg, hess, [(-1.0, 1.0)] * 2, y0)
    assert taken == 0
    np.testing.assert_array_equal(y, y0)
    # a non-finite Hessian stops the polish where it is
    fg, _ = _quadratic(np.eye(2), np.zeros(2))
    y, _f, taken = _newton_polish(fg, lambda y: np.full((2, 2), np.nan), FREE[:2], y0)
    assert taken == 0


def test_newton_keeps_active_variables_and_clips_into_the_box() -> None:
    # minimum at (2, 1), box |y0| <= 0.5: y0 stays at its bound, y1 goes to 1 in one step
    fg, hess = _quadratic(np.eye(2), np.array([2.0, 1.0]))
    box: Box = [(-0.5, 0.5), (None, None)]
    for y0 in (np.array([0.5, 0.0]), np.array([0.0, 0.0])):
        y, _f, taken = _newton_polish(fg, hess, box, y0)
        assert taken == 1
        np.testing.assert_allclose(y, [0.5, 1.0], atol=1e-12)


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_newton_frees_a_bound_variable_whose_derivative_is_zero(side: float) -> None:
    # the minimum (0, 0) is inside the box; at (+-0.5, -+1) the derivative in y0 is exactly 0,
    # so y0 is not held at its bound and the full Newton step lands on the minimum
    fg, hess = _quadratic(np.array([[2.0, 1.0], [1.0, 2.0]]), np.zeros(2), 0.0)
    y0 = np.array([0.5, -1.0]) * side
    assert fg(y0)[1][0] == 0.0
    y, _f, taken = _newton_polish(fg, hess, [(-0.5, 0.5), (None, None)], y0)
    assert taken == 1
    np.testing.assert_allclose(y, 0.0, atol=1e-12)


def test_newton_floors_zero_curvature_at_1e_minus_10_of_the_largest() -> None:
    # f = 0.25 y0^2 + 1e-12 y1, Hessian diag(0.5, 0): the y1 curvature is floored at 5e-11, so
    # y1 moves by -1e-12 / 5e-11 = -0.02 while y0 lands on 0
    def fg(y: FloatArray) -> tuple[float, FloatArray]:
        return 0.25 * y[0] ** 2 + 1e-12 * y[1], np.array([0.5 * y[0], 1e-12])

    y, _f, taken = _newton_polish(fg, lambda y: np.diag([0.5, 0.0]), FREE[:2], np.array([1.0, 0.0]))
    assert taken == 1
    np.testing.assert_allclose(y, [0.0, -0.02], rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# the sampler-aware search


def test_starts_are_the_ddim_optimum_and_the_log_uniform_grid() -> None:
    for lo, hi, count in ((0.01, 50.0, 2), (0.5, 50.0, 2), (0.0, 50.0, 1), (0.01, math.inf, 1)):
        got = _starts(LAM, 4, lo, hi, "exact", "kl_source_output")
        assert len(got) == count
        ddim = variational.kl_optimal(LAM, 4, lo, hi, exact_spectrum=True).sigmas
        np.testing.assert_allclose(got[0], ddim, rtol=1e-9)  # the same L-BFGS-B, same start
        if count == 2:
            np.testing.assert_allclose(got[1], np.geomspace(hi, lo, 5), rtol=1e-14)


@pytest.mark.parametrize(
    ("sampler", "objective", "start", "knobs", "hi", "lo"),
    [
        ("ddim", "coupling", "exact", {}, 50.0, 0.01),
        ("ddim", "coupling", "exact", {}, math.inf, 0.0),
        ("dpmpp-2m", "coupling", "exact", {}, 50.0, 0.0),
        ("euler-vp", "kl", "exact", {}, 50.0, 0.01),
        ("euler-vp", "kl", "prior", {}, 50.0, 0.01),
        ("ancestral", "kl", "exact", {"eta": 0.7}, 50.0, 0.01),
        ("ancestral", "kl", "prior", {"eta": 0.7}, 30.0, 0.0),
    ],
)
@pytest.mark.parametrize("direction", ["kl_source_output", "kl_output_source"])
def test_the_torch_criterion_is_the_float64_criterion(
    sampler: str,
    objective: str,
    start: str,
    knobs: dict[str, float],
    hi: float,
    lo: float,
    direction: str,
) -> None:
    grid = tangent_sigmas(5, 0.6, lo, hi)
    val, grad = objective_and_gradient(
        LAM,
        grid,
        sampler=sampler,
        objective=objective,  # type: ignore[arg-type]
        kl_direction=direction,  # type: ignore[arg-type]
        start=start,  # type: ignore[arg-type]
        **knobs,
    )
    crit = coupling.criteria(LAM, grid, sampler=sampler, start=start, **knobs)
    want = crit.coupling if objective == "coupling" else crit.value(direction)
    # autograd's float64 map against the cancellation-free float64 paths
    assert val == pytest.approx(want, rel=1e-9)
    h = 1e-6
    for j in range(grid.size - 2):
        up, dn = grid.copy(), grid.copy()
        up[j + 1] *= math.exp(h)
        dn[j + 1] *= math.exp(-h)
        cu = coupling.criteria(LAM, up, sampler=sampler, start=start, **knobs)
        cd = coupling.criteria(LAM, dn, sampler=sampler, start=start, **knobs)
        fu = cu.coupling if objective == "coupling" else cu.value(direction)
        fd = cd.coupling if objective == "coupling" else cd.value(direction)
        # central differences: truncation h^2 ~ 1e-12, rounding eps / h ~ 1e-10 relative
        assert grad[j] == pytest.approx((fu - fd) / (2 * h), rel=1e-5, abs=1e-9 * want)


def _count(msg: str, what: str) -> int:
    for part in msg.split("; "):
        if part.endswith(what):
            return int(part.split()[0])
    return 0


@pytest.mark.parametrize(
    ("hi", "lo", "kw"),
    [
        (math.inf, 0.01, {"sampler": "ddim", "objective": "coupling"}),
        (50.0, 0.0, {"sampler": "euler-vp", "objective": "kl"}),
        (50.0, 0.01, {"sampler": "dpmpp-2m", "final_zero": True}),
    ],
)
def test_the_search_accounts_for_its_iterations_and_restarts(
    monkeypatch: pytest.MonkeyPatch, hi: float, lo: float, kw: dict[str, Any]
) -> None:
    steps = 5
    m = steps - 1 if kw.get("final_zero") else steps
    init = tangent_sigmas(m, 0.6, lo, hi)
    if kw.get("final_zero"):
        init = np.concatenate([init, [0.0]])
    calls = bounded_runs(monkeypatch)
    opt = sampler_optimal(LAM, steps, lo, hi, init=init, **kw)
    restarts = _count(opt.message, "L-BFGS-B restart(s)")
    newton = _count(opt.message, "Newton step(s)")
    # one start: its run, then restarts while each lowers the criterion and it is not stationary
    assert opt.iterations == sum(int(r.nit) for r in calls) + newton
    assert 0 <= restarts <= RESTARTS
    funs = [float(r.fun) for r in calls]
    lowered = 0
    while lowered + 1 < len(funs) and funs[lowered + 1] < funs[lowered]:
        lowered += 1
    assert restarts == lowered
    assert len(calls) in (restarts + 1, restarts + 2)  # the last run may fail to lower it
    assert opt.gradient_norm <= 2 * STATIONARITY or newton > 0
    if restarts == 0 and newton == 0:
        assert len(calls) == 1  # a stationary first run is not restarted
    assert opt.sigmas[0] == hi and np.all(np.diff(opt.sigmas) < 0)
    assert (opt.sigmas[-2], opt.sigmas[-1]) == (
        (lo, 0.0) if kw.get("final_zero") else (opt.sigmas[-2], lo)
    )


def test_a_plateau_stop_is_neither_restarted_nor_polished(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sampler_optimum, "PLATEAU", (2, 1e9))  # every run stops after 3 steps
    calls = bounded_runs(monkeypatch)
    init = tangent_sigmas(5, 0.6, 0.01, 50.0)
    opt = sampler_optimal(LAM, 5, 0.01, 50.0, sampler="euler-vp", objective="kl", init=init)
    assert len(calls) == 1 and opt.iterations == int(calls[0].nit) == 3
    assert "restart" not in opt.message and "Newton" not in opt.message
    assert opt.gradient_norm > STATIONARITY  # stopped early, far from stationary


def _free_gradient(opt: SamplerOptimum, gaps: _Gaps, lam_v: FloatArray, **kw: Any) -> FloatArray:
    """Central differences of the log criterion (float64 paths) in the gaps' free variables."""
    y = gaps.from_levels(opt.sigmas)
    out = np.empty(y.size)
    h = 1e-5
    for j in range(y.size):
        vals = []
        for s in (h, -h):
            yy = y.copy()
            yy[j] += s
            crit = coupling.criteria(lam_v, _grid(gaps, yy), sampler=opt.sampler, start=opt.start)
            vals.append(
                math.log(crit.value(opt.kl_direction) if opt.objective == "kl" else crit.coupling)
            )
        out[j] = (vals[0] - vals[1]) / (2 * h)
    return out


def test_the_reported_gradient_is_the_largest_free_gradient() -> None:
    opt = sampler_optimal(LAM, 5, 0.0, 50.0, sampler="euler-vp", objective="kl")
    g = _free_gradient(opt, _Gaps(50.0, 0.0, 5, None), LAM)
    # truncation h^2 f''' ~ 1e-10 and rounding eps |log C| / h ~ 1e-10: 3e-9 absolute
    assert opt.gradient_norm == pytest.approx(float(np.max(np.abs(g))), abs=3e-9)
    assert opt.gradient_norm <= STATIONARITY
    assert float(np.max(np.abs(g))) > 3 * float(np.min(np.abs(g)))  # distinguishes max from min


def test_the_ddim_kl_path_reports_the_relative_gradient() -> None:
    opt = sampler_optimal(LAM, 6, 0.01, 50.0, sampler="ddim", objective="kl")
    kl, grad = variational.exact_kl_and_gradient(LAM, opt.sigmas)
    assert opt.objective_value == pytest.approx(kl, rel=1e-12)
    assert opt.gradient_norm == pytest.approx(float(np.max(np.abs(grad))) / kl, rel=1e-9)


def test_final_zero_grids_end_at_sigma_min_then_zero() -> None:
    one = sampler_optimal(LAM, 1, 0.01, 50.0, sampler="ddim", objective="coupling", final_zero=True)
    np.testing.assert_array_equal(one.sigmas, [50.0, 0.0])
    two = sampler_optimal(LAM, 2, 0.5, 50.0, sampler="ddim", objective="coupling", final_zero=True)
    np.testing.assert_array_equal(two.sigmas, [50.0, 0.5, 0.0])
    for opt in (one, two):
        assert opt.iterations == 0 and opt.gradient_norm == 0.0 and opt.converged
        assert opt.message == "no free level"
    full = sampler_optimal(
        LAM, 4, 0.01, 50.0, sampler="ddim", objective="coupling", final_zero=True
    )
    assert full.sigmas.size == 5 and full.sigmas[-2] == 0.01 and full.sigmas[-1] == 0.0
    assert np.all(np.diff(full.sigmas) < 0)
    # stationary in the two free levels for the true criterion of the grid ending at 0
    val, grad = objective_and_gradient(LAM, full.sigmas, sampler="ddim", objective="coupling")
    assert val == pytest.approx(full.objective_value, rel=1e-9)
    # STATIONARITY (1e-6) in log-step ratios is ~1e-6 in log levels: 1e-5 relative
    assert float(np.max(np.abs(grad[:2]))) <= 1e-5 * val
    with pytest.raises(ValueError, match="final_zero needs sigma_min > 0"):
        sampler_optimal(LAM, 3, 0.0, 50.0, sampler="ddim", objective="coupling", final_zero=True)


def test_one_and_two_steps_without_final_zero() -> None:
    one = sampler_optimal(LAM, 1, 0.0, 50.0, sampler="euler-vp", objective="kl")
    np.testing.assert_array_equal(one.sigmas, [50.0, 0.0])
    assert one.iterations == 0 and one.message == "no free level"
    two = sampler_optimal(LAM, 2, 0.0, 50.0, sampler="euler-vp", objective="kl")
    assert two.sigmas.size == 3 and two.iterations > 0 and two.message != "no free level"
    with pytest.raises(ValueError, match="init must be a grid of 4 levels"):
        sampler_optimal(LAM, 3, 0.01, 50.0, sampler="euler-vp", init=np.geomspace(50, 0.01, 3))
