"""Behaviour of the samplers' shared core that the mutation run found unchecked
(docs/mutation.md): the 40-digit linear recursion against the float64 one, and the memory
estimate against the arrays a run allocates."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from symsched.gaussian import exact
from symsched.samplers import SAMPLERS, get_sampler
from symsched.samplers._linear import compiled_linear_map, propagate

SPECTRUM = np.array([0.004, 0.05, 0.3, 1.5, 7.0])
GRIDS = {
    "finite-to-zero": [80.0, 12.0, 3.0, 0.7, 0.1, 0.0],
    "finite-to-positive": [60.0, 9.0, 2.0, 0.4, 0.002],
    "pure-to-zero": [math.inf, 20.0, 3.0, 0.5, 0.05, 0.0],
    "pure-to-positive": [math.inf, 15.0, 1.0, 0.01],
    "one-step": [5.0, 0.0],
}


def _mp_propagate(name: str, lv: float, grid: list[float]) -> tuple[float, float]:
    smp = get_sampler(name)
    kv = smp.knob_values(smp.make_knobs())
    with mpmath.workdps(40):
        levels = [mpmath.mpf(g) if math.isfinite(g) else math.inf for g in grid]
        lam = mpmath.mpf(lv)
        std0 = None if math.isinf(grid[0]) else mpmath.sqrt(lam + levels[0] ** 2)
        u, v = propagate(
            compiled_linear_map(name, "mpmath"), lam, levels, std0, kv, backend="mpmath"
        )
        return float(u), float(v)


@pytest.mark.parametrize("grid_name", sorted(GRIDS))
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_mpmath_recursion_equals_float64_recursion_and_each_samplers_ratio(
    name: str, grid_name: str
) -> None:
    # the 40-digit branch of propagate is a second implementation of the same recursion: its
    # (u_N, v_N) must equal the array branch's, and the variance ratio they give must equal the
    # sampler's own cancellation-free ratio (an independent closed form)
    smp = get_sampler(name)
    grid = GRIDS[grid_name]
    if math.isinf(grid[0]) and not smp.pure_noise_start:
        with pytest.raises(ValueError, match="pure noise"):
            _mp_propagate(name, 1.0, grid)
        return
    kv = smp.knob_values(smp.make_knobs())
    std0 = None if math.isinf(grid[0]) else np.sqrt(SPECTRUM + grid[0] ** 2)
    un, vn = propagate(smp.linear_map_form(), SPECTRUM, grid, std0, kv)
    un = np.broadcast_to(un, SPECTRUM.shape)
    vn = np.broadcast_to(vn, SPECTRUM.shape)
    ratio = exact.variance_ratios(SPECTRUM, np.asarray(grid), sampler=name)
    for i, lv in enumerate(SPECTRUM):
        um, vm = _mp_propagate(name, float(lv), grid)
        assert um == pytest.approx(float(un[i]), rel=1e-12, abs=1e-300)
        assert vm == pytest.approx(float(vn[i]), rel=1e-12, abs=1e-300)
        r = (um * um + vm) / (lv + grid[-1] ** 2)
        assert r == pytest.approx(float(ratio[i]), rel=1e-10)


@pytest.mark.parametrize("top", [1 / 3, 0.3, 0.1, 1e-2, 1e-4, 1e-8, 0.0])
def test_atanh_odd_tail_is_correct_to_the_last_ulp_for_every_magnitude(top: float) -> None:
    # sum_j u^(2j) / (2j + 3) = (atanh(u) - u) / u^3; the number of terms adapts to the largest
    # |u| of the array, so each magnitude must still give every element to ~1 ulp
    from symsched.samplers._stable import _atanh_odd_tail

    u = np.array([top, -top / 2, top / 7, top * 1e-3, 0.0])
    got = _atanh_odd_tail(u)
    with mpmath.workdps(50):
        for ui, gi in zip(u, got, strict=True):
            m = mpmath.mpf(float(ui))
            ref = mpmath.mpf(1) / 3 if m == 0 else (mpmath.atanh(m) - m) / m**3
            assert abs(gi - ref) <= 4e-16 * ref, (ui, gi, ref)


def test_memory_estimate_bounds_what_a_run_allocates() -> None:
    # the size guard's estimate (16 float64 d-vectors plus 8 copies of the grid) must cover
    # the peak of an actual run, and not overstate it by more than the budget's headroom
    import tracemalloc

    d = 200_000
    lam = np.geomspace(1e-4, 1e2, d)
    grid = np.geomspace(80.0, 0.002, 21)
    for name in ("ddim", "heun", "dpmpp-2m"):
        smp = get_sampler(name)
        est, driver = smp.memory_estimate(d, 20)
        assert driver == "eigenvalues"
        exact.variance_ratios(lam, grid, sampler=name)  # warm: compiled forms, caches
        tracemalloc.start()
        exact.variance_ratios(lam, grid, sampler=name)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= est, (name, peak, est)
        assert est <= 16 * peak, (name, peak, est)
    est_n, driver_n = get_sampler("ddim").memory_estimate(10, 10**6)
    assert driver_n == "steps" and est_n >= 8.0 * (10**6 + 1)  # at least the grid itself
