"""Behaviour checks of the closed-form Stein costs and the update schedule (mutation testing).

Each check compares with an independent oracle: mpmath at 30-40 digits of the defining formula or
integral (the VE metric :math:`4\\rho^4/(\\lambda+\\rho^2)^3`, the isotropic length, the
two-point metric and costs [williams2024, §2.3, §3.1]), an elementary identity (scaling, a
geometric schedule for equal costs on a geometric grid [williams2024, Algorithm 1]), or a
validation error naming the argument (docs/theory/stein.md).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator
from typing import Any

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from symsched import stein
from symsched.stein import _closed as C
from symsched.stein import _symbolic as S
from symsched.stein import _update as U


@pytest.fixture(autouse=True)
def _forty_digits() -> Iterator[None]:
    # the mpmath oracles of this module at 40 digits, without changing mpmath's global precision
    # for the other tests of the worker
    with mp.workdps(40):
        yield


# --- as_levels and the input range ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [[1.0], [[2.0, 1.0]]])
def test_as_levels_needs_1d_grid_of_two(bad: list[Any]) -> None:
    with pytest.raises(ValueError, match="levels must be a 1-D grid of at least 2"):
        C.as_levels(bad)


def test_as_levels_refuses_zero_and_nonpositive() -> None:
    with pytest.raises(ValueError, match=r"levels must be finite and > 0"):
        C.as_levels([1.0, 0.0])
    with pytest.raises(ValueError, match=r"levels must be finite and > 0"):
        C.as_levels([2.0, 1.0, np.nan])


@pytest.mark.parametrize("bad", [[3.0, 1.0, 2.0], [2.0, 2.0, 1.0], [1.0, 1.5]])
def test_as_levels_needs_strictly_decreasing(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="strictly decreasing"):
        C.as_levels(bad)


def test_range_error_names_the_first_offending_entry() -> None:
    with pytest.raises(ValueError, match=r"entry 0 is 1e\+301"):
        C.as_levels([1e301, 1.0, 0.5])


# --- the fast (directly compiled) window of the Gaussian metric ----------------------------------


def _ve_metric(rho: float, lam_: float) -> mp.mpf:
    """Per-eigenvalue VE metric sigma^2 mdot^2 / m^3 = 4 rho^4 / (lam + rho^2)^3 (§3.1)."""
    r, lv = mp.mpf(rho), mp.mpf(lam_)
    return 4 * r**4 / (lv + r * r) ** 3


# Inside the window the compiled rational form is exact to a few ulp (measured <= 3e-16); the
# log form used outside it loses ~|ln value| ulp (1e-14 at these magnitudes), so 3e-15 separates.
_FAST_RTOL = 3e-15


@pytest.mark.parametrize(
    ("rho", "lam_"),
    [
        ([1e-10], [3e39]),  # inside the window
        ([1e-20], [1e40]),  # lowest level exactly at the window's edge
        ([1e20], [1e-40]),  # highest level exactly at the window's edge
        ([0.0, 1e-10], [3e39]),  # a zero level does not leave the window
        ([1e-10], [3e39, 1e45]),  # one eigenvalue outside: the other stays on the fast path
    ],
)
def test_metric_inside_window_is_accurate_to_ulps(rho: list[float], lam_: list[float]) -> None:
    got = C.gaussian_local_metric(lam_, rho)
    for i, r in enumerate(rho):
        want = sum(_ve_metric(r, lv) for lv in lam_)
        if want == 0:
            assert got[i] == 0.0
        else:
            assert abs(got[i] / float(want) - 1) < _FAST_RTOL


def test_metric_below_window_uses_log_form() -> None:
    # rho^4 = 1e-400 underflows in the direct form; the exact metric 4e-280 is representable
    got = C.gaussian_local_metric([1e-40], [1e-100, 1.0])
    want = [float(_ve_metric(1e-100, 1e-40)), float(_ve_metric(1.0, 1e-40))]
    np.testing.assert_allclose(got, want, rtol=1e-12)  # log form: ~|ln value| ulp


def test_metric_rho_validation_message() -> None:
    for bad in ([1.0, np.nan], [1.0, -1.0]):
        with pytest.raises(ValueError, match="rho must be finite noise levels >= 0"):
            C.gaussian_local_metric([1.0], bad)


# --- asinh_minus_ratio and isotropic_length -------------------------------------------------------


def _asinh_minus_ratio(x: mp.mpf) -> mp.mpf:
    return mp.asinh(x) - x / mp.sqrt(1 + x * x)


def test_asinh_minus_ratio_at_series_edge() -> None:
    # x = 1/2: the series is summed below the last ulp; the plain difference loses 5 ulp there
    want = float(_asinh_minus_ratio(mp.mpf(0.5)))
    assert abs(float(C.asinh_minus_ratio(0.5)) / want - 1) < 5e-16  # ~2 ulp


def test_asinh_minus_ratio_large_and_infinite() -> None:
    for x in (1e10, 1e300):
        want = float(_asinh_minus_ratio(mp.mpf(x)))
        assert abs(float(C.asinh_minus_ratio(x)) / want - 1) < 1e-15  # ln 2 + ln x - 1, ~ulps
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the limit F(inf) = inf, with no invalid inf/inf
        assert float(C.asinh_minus_ratio(np.inf)) == np.inf


def test_isotropic_length_where_rho_over_c_overflows() -> None:
    # rho / c = 1e310 overflows float64: ln(rho / c) is taken apart (2 sqrt(d) F(rho / c))
    c, dim, rho = 1e-10, 3.0, 1e300
    want = 2 * mp.sqrt(dim) * _asinh_minus_ratio(mp.mpf(rho) / mp.mpf(c))
    got = float(C.isotropic_length(c, dim, rho))
    assert abs(got / float(want) - 1) < 1e-15  # a sum of three logs of ~700: a few ulp


def test_isotropic_length_at_zero_and_validation() -> None:
    assert float(C.isotropic_length(1.0, 4.0, 0.0)) == 0.0  # Lambda(0) = 0
    for bad in ([1.0, np.nan], [1.0, -1.0]):
        with pytest.raises(ValueError, match="rho must be finite noise levels >= 0"):
            C.isotropic_length(1.0, 4.0, bad)


def test_symbolic_isotropic_length_matches_quadrature() -> None:
    # Lambda(sigma) = int_0^sigma sqrt(d * 4 u^4 / (c^2 + u^2)^3) du (docs/theory/stein.md)
    c, d, s = 1.3, 5.0, 0.7
    expr = S.isotropic_length().subs({S.sigma: s, S.c_iso: c, S.dim: d})
    want = mp.quad(lambda u: mp.sqrt(d * 4 * u**4 / (c * c + u * u) ** 3), [0, s])
    assert abs(float(sp.N(expr, 30)) / float(want) - 1) < 1e-13  # double inputs: ~ulps


# --- Gaussian moments behind the symbolic costs ---------------------------------------------------


def test_gauss_expectation_matches_integral() -> None:
    v = sp.Symbol("v", positive=True)
    poly = 1 + 2 * S.xs + 5 * S.xs**2 + 7 * S.xs**3 + S.xs**4
    pdf = sp.exp(-(S.xs**2) / (2 * v)) / sp.sqrt(2 * sp.pi * v)
    want = sp.integrate(poly * pdf, (S.xs, -sp.oo, sp.oo))
    assert sp.simplify(S._gauss_expectation(poly, v) - want) == 0


# --- length_from_metric ---------------------------------------------------------------------------


def test_length_from_metric_exact_for_scale_invariant_metric() -> None:
    # delta = k / rho^2: sqrt(delta) rho is constant, so Lambda_i = sqrt(k) ln(rho_i / rho_{i+1})
    k = 0.25
    rho = np.array([4.0, 2.0, 1.0, 0.1])
    got = C.length_from_metric(k / rho**2, rho)
    want = [float(mp.quad(lambda r: mp.sqrt(k) / r, [b, a])) for a, b in itertools.pairwise(rho)]
    np.testing.assert_allclose(got, want, rtol=1e-14)  # trapezoid exact for a constant integrand
    np.testing.assert_array_equal(C.length_from_metric(-np.ones(4), rho), np.zeros(3))


# --- two-point mixture quadratures ---------------------------------------------------------------


def _score(x: mp.mpf, s: mp.mpf) -> mp.mpf:
    return (mp.tanh(x / s**2) - x) / s**2


def _two_point_metric(sig: float) -> mp.mpf:
    """sigma^2 E[(d_sigma score)^2] by mpmath.quad, the mode at +1 by symmetry (§3.1)."""
    s = mp.mpf(sig)

    def f(x: mp.mpf) -> mp.mpf:
        t = x / s**2
        dsc = -2 * mp.tanh(t) / s**3 - 2 * x * mp.sech(t) ** 2 / s**5 + 2 * x / s**3
        return mp.npdf(x, 1, s) * dsc**2

    pts = sorted({1 - 40 * s, -20 * s**2, -(s**2), mp.mpf(0), s**2, 20 * s**2, 1, 1 + 40 * s})
    return s**2 * mp.quad(f, pts)


def _two_point_cost(src: float, tgt: float) -> mp.mpf:
    """sigma_t^2 E_{p_src}[(score_tgt - score_src)^2] by mpmath.quad (§2.3)."""
    a, b = mp.mpf(src), mp.mpf(tgt)
    lo = min(a, b)
    pts = sorted({1 - 40 * a, -20 * lo**2, -(lo**2), mp.mpf(0), lo**2, 20 * lo**2, 1, 1 + 40 * a})
    return b**2 * mp.quad(lambda x: mp.npdf(x, 1, a) * (_score(x, b) - _score(x, a)) ** 2, pts)


def test_two_point_metric_matches_quadrature() -> None:
    sig = [0.01, 0.3]
    got = C.two_point_local_metric(sig)
    np.testing.assert_allclose(got, [float(_two_point_metric(s)) for s in sig], rtol=1e-10)


def test_two_point_cost_resolves_the_turn_at_the_target_scale() -> None:
    # tanh(x / 1e-6) turns on both sides of x = 0, where p_0.5 still has weight exp(-2)
    got = C.two_point_interval_costs([0.5, 1e-3])
    assert abs(got[0] / float(_two_point_cost(0.5, 1e-3)) - 1) < 1e-10  # documented 1e-11


def test_two_point_range_is_closed_and_enforced() -> None:
    lo, hi = C.TWO_POINT_RANGE
    assert np.all(np.isfinite(C.two_point_local_metric([lo, hi])))  # both ends included
    for bad in ([1e-7], [1e-7, 1.0], [1.0, 1e7], [1e7]):
        with pytest.raises(ValueError, match="two-point quadrature resolves"):
            C.two_point_local_metric(bad)


@pytest.mark.parametrize("bad", [[np.nan], [-1.0], [0.0], [1.0, np.nan], [1.0, 0.0]])
def test_two_point_metric_rho_validation(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="rho must be finite and > 0"):
        C.two_point_local_metric(bad)


# --- probe_levels, cumulative_length, update_schedule, online_update ------------------------------


def test_probe_levels_validation_and_smallest_count() -> None:
    with pytest.raises(ValueError, match="sigma_min must be < sigma_max"):
        U.probe_levels(1.0, 1.0, 10)
    np.testing.assert_allclose(U.probe_levels(0.1, 10.0, 2), [10.0, 1.0, 0.1], rtol=1e-15)


def test_cumulative_length_single_cost_and_validation() -> None:
    np.testing.assert_array_equal(U.cumulative_length([4.0]), [0.0, 2.0])
    for bad in ([1.0, np.nan], [1.0, -1.0]):
        with pytest.raises(ValueError, match="finite, non-negative"):
            U.cumulative_length(bad)


def test_cumulative_length_floor_is_relative() -> None:
    # a relative floor keeps the scaling Lambda(k c) = sqrt(k) Lambda(c)
    c = np.array([0.0, 1.0, 0.0])
    base = U.cumulative_length(c, floor=0.01)
    np.testing.assert_allclose(base, [0.0, 0.1, 1.1, 1.2], rtol=1e-15)  # sqrt(max(c, 0.01))
    np.testing.assert_allclose(U.cumulative_length(100 * c, floor=0.01), 10 * base, rtol=1e-15)


@pytest.mark.parametrize("coord", ["log", "karras"])
def test_equal_costs_on_geometric_grid_give_geometric_schedule(coord: str) -> None:
    # Lambda is linear in ln rho, so equal Stein length is equal ln rho steps (Algorithm 1)
    lev = U.probe_levels(1e-3, 1e2, 2000)
    got = U.update_schedule(lev, np.ones(2000), 10, coord=coord)
    want = np.geomspace(1e2, 1e-3, 11)
    np.testing.assert_allclose(got, want, rtol=1e-7)  # PCHIP on 2000 probes: O(h^3) error


def test_update_schedule_refuses_rounded_ties() -> None:
    # 20 steps between levels 4 ulp apart cannot be strictly decreasing in float64
    lev = np.array([1.0 + 4 * np.finfo(float).eps, 1.0])
    with pytest.raises(ValueError, match="not strictly decreasing"):
        U.update_schedule(lev, [1.0], 20)


def test_online_update_full_step_is_update_schedule() -> None:
    lev = stein.probe_levels(0.01, 10.0, 50)
    costs = np.linspace(1.0, 2.0, 50)
    np.testing.assert_array_equal(
        U.online_update(lev, costs, 1.0), U.update_schedule(lev, costs, 50)
    )
    assert math.isclose(float(U.online_update(lev, costs, 1.0)[0]), 10.0)
