"""The coupling error, the samplers' linear maps and the sampler-aware optimum
(docs/theory/coupling.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched.gaussian import coupling, exact, sampler_optimum
from symsched.samplers import SAMPLERS, get_sampler
from symsched.samplers._linear import propagate
from symsched_verify import tolerances as tol

SPECTRUM = np.array([0.004, 0.05, 0.3, 1.5, 7.0])


@st.composite
def grids(draw: st.DrawFn, pure: bool) -> np.ndarray:
    n = draw(st.integers(1, 7))
    inner = sorted(
        (draw(st.floats(math.log(0.01), math.log(50.0))) for _ in range(n - 1)), reverse=True
    )
    levels = np.exp(np.array(inner))
    if np.any(np.diff(levels) >= 0):
        levels = np.exp(np.linspace(math.log(50.0), math.log(0.01), n + 1)[1:-1])
    top = math.inf if pure else draw(st.floats(60.0, 100.0))
    bottom = draw(st.sampled_from([0.0, 0.002]))
    return np.concatenate([[top], levels, [bottom]])


@pytest.mark.parametrize("name", sorted(SAMPLERS))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_linear_map_reproduces_each_samplers_variance_ratio(name: str, data: st.DataObject) -> None:
    # the linear-map forms (one generic recursion) vs each sampler's own cancellation-free path
    smp = get_sampler(name)
    grid = data.draw(grids(pure=smp.pure_noise_start and data.draw(st.booleans())))
    knobs = {"eta": data.draw(st.floats(0.0, 1.0))} if name == "ancestral" else {}
    kn = smp.make_knobs(**knobs)
    std0 = None if math.isinf(grid[0]) else np.sqrt(SPECTRUM + grid[0] ** 2)
    u, v = propagate(smp.linear_map_form(), SPECTRUM, list(grid), std0, smp.knob_values(kn))
    r = (u * u + v) / (SPECTRUM + grid[-1] ** 2)
    r0 = exact.variance_ratios(SPECTRUM, grid, sampler=name, **knobs)
    np.testing.assert_allclose(r, r0, rtol=tol.LINEAR_MAP_RTOL, atol=1e-300)


@pytest.mark.parametrize("name", ["ddim", "heun", "dpmpp-2m", "ancestral"])
def test_torch_and_numpy_linear_maps_agree(name: str) -> None:
    smp = get_sampler(name)
    grid = [80.0, 12.0, 3.0, 0.7, 0.1, 0.0]
    kv = smp.knob_values(smp.make_knobs())
    std0 = np.sqrt(SPECTRUM + grid[0] ** 2)
    un, vn = propagate(smp.linear_map_form(), SPECTRUM, grid, std0, kv)
    lam_t = torch.as_tensor(SPECTRUM)
    ut, vt = propagate(
        smp.linear_map_form(), lam_t, grid, torch.sqrt(lam_t + 6400.0), kv, backend="torch"
    )
    np.testing.assert_allclose(ut.numpy(), un, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(vt + 0 * lam_t), vn + 0 * SPECTRUM, rtol=1e-14)


def test_exact_flow_has_zero_coupling_error_and_every_sampler_a_positive_one() -> None:
    grid = [80.0, 5.0, 0.5, 0.0]
    assert coupling.coupling_error(SPECTRUM, grid, sampler="exact-flow") == 0.0
    for name in ("ddim", "heun", "dpmpp-2m", "euler-vp", "ancestral"):
        assert coupling.coupling_error(SPECTRUM, grid, sampler=name) > 1e-6


def test_coupling_error_matches_its_definition_on_the_network_sampler() -> None:
    # C = E||x_N - Phi(x_0)||^2 / E||Phi(x_0)||^2 through the real sampler loop
    # (symsched.samplers.heun.sample on the exact denoiser of GaussianModel), not the linear-map
    # forms: the loop is linear, so the d scaled unit vectors sqrt(lam_i + sigma_0^2) e_i give
    # both expectations exactly
    from symsched.models import GaussianModel
    from symsched.samplers.heun import sample

    grid = np.array([10.0, 2.0, 0.4, 0.05, 0.0])
    x0 = np.diag(np.sqrt(SPECTRUM + grid[0] ** 2))
    out = sample(GaussianModel(SPECTRUM), torch.as_tensor(x0), grid).numpy()
    target = x0 * np.sqrt((SPECTRUM + grid[-1] ** 2) / (SPECTRUM + grid[0] ** 2))
    direct = float(((out - target) ** 2).sum() / (target**2).sum())
    assert direct == pytest.approx(
        coupling.coupling_error(SPECTRUM, grid, sampler="heun"), rel=1e-12
    )


def test_coupling_is_finite_over_the_input_range() -> None:
    for name in ("ddim", "heun", "dpmpp-2m", "euler-vp", "ancestral"):
        c = coupling.coupling_error([1e-300, 1.0, 1e300], [1e300, 1e-100, 0.0], sampler=name)
        ref = float(
            coupling.coupling_error_mpmath([1e-300, 1.0, 1e300], [1e300, 1e-100, 0.0], sampler=name)
        )
        assert math.isfinite(c)
        assert c == pytest.approx(ref, rel=tol.COUPLING_MP_RTOL)


def test_criteria_bundle_both_kls_and_the_coupling_error() -> None:
    grid = [80.0, 3.0, 0.2, 0.0]
    c = coupling.criteria(SPECTRUM, grid, sampler="heun")
    k = exact.kl(SPECTRUM, grid, sampler="heun")
    assert c.kl_source_output == k.kl_source_output
    assert c.kl_output_source == k.kl_output_source
    assert c.coupling == coupling.coupling_error(SPECTRUM, grid, sampler="heun")
    assert set(c.as_dict()) == set(coupling.CRITERIA)


@pytest.mark.parametrize(
    ("hi", "lo", "bound"),
    [(80.0, 0.002, None), (80.0, 0.0, 2.0), (math.inf, 0.002, 2.0), (math.inf, 0.0, None)],
)
def test_optimiser_parametrisation_round_trips_and_stays_monotone(
    hi: float, lo: float, bound: float | None
) -> None:
    gaps = sampler_optimum._Gaps(hi, lo, 7, bound)
    rng = np.random.default_rng(5)
    y = rng.normal(size=6) * 0.3
    x = gaps.to_log_levels(torch.as_tensor(y)).numpy()
    sig = np.concatenate([[hi], np.exp(x), [lo]])
    assert np.all(np.diff(sig) < 0)
    np.testing.assert_allclose(gaps.from_levels(sig), y, atol=1e-12)


def test_dpmpp_2m_optimum_keeps_its_step_ratios_within_the_bound() -> None:
    opt = sampler_optimum.sampler_optimal(SPECTRUM, 6, 0.002, 80.0, sampler="dpmpp-2m")
    assert opt.objective == "coupling"
    assert opt.max_step_ratio <= sampler_optimum.STEP_RATIO_BOUND * (1 + 1e-9)
    # no worse than either start, both evaluated by the independent float64 path
    for start in sampler_optimum._starts(SPECTRUM, 6, 0.002, 80.0, "exact", "kl_source_output"):
        c0 = coupling.coupling_error(SPECTRUM, start, sampler="dpmpp-2m")
        assert opt.objective_value <= c0 * (1 + 1e-12)


def test_ddim_kl_objective_uses_the_analytic_optimiser() -> None:
    from symsched.gaussian.variational import kl_optimal

    opt = sampler_optimum.sampler_optimal(SPECTRUM, 5, 0.002, 80.0, sampler="ddim")
    ref = kl_optimal(SPECTRUM, 5, 0.002, 80.0)
    assert opt.objective == "kl"
    np.testing.assert_array_equal(opt.sigmas, ref.sigmas)


def test_equal_eigenvalues_are_grouped_exactly() -> None:
    lam = np.repeat([0.1, 2.0], [3, 5])
    a = sampler_optimum.objective_and_gradient(lam, [80.0, 4.0, 0.5, 0.0], sampler="heun")
    b = sampler_optimum.objective_and_gradient(
        np.array([0.1, 0.1, 0.1, 2.0, 2.0, 2.0, 2.0, 2.0]) * (1 + 0 * lam),
        [80.0, 4.0, 0.5, 0.0],
        sampler="heun",
    )
    assert a[0] == pytest.approx(
        coupling.coupling_error(lam, [80.0, 4.0, 0.5, 0.0], sampler="heun"), rel=1e-12
    )
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"sampler": "ancestral", "objective": "coupling"}, "does not apply to ancestral"),
        ({"sampler": "exact-flow"}, "exact flow"),
        ({"sampler": "heun", "sigma_max": math.inf}, "finite sigma_0"),
        ({"sampler": "nope"}, "sampler must be one of"),
        ({"sampler": "heun", "objective": "mse"}, "objective"),
    ],
)
def test_bad_requests_are_refused_with_the_fix(kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"sigma_min": 0.002, "sigma_max": 80.0, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        sampler_optimum.sampler_optimal(SPECTRUM, 4, **args)  # type: ignore[arg-type]


_GRIDS = {
    "ends-above-0": [80.0, 5.0, 0.7, 0.05],
    "ends-at-0": [60.0, 2.0, 0.3, 0.0],
    "pure-noise": [math.inf, 4.0, 0.5, 0.02],
}


@pytest.mark.parametrize(
    ("name", "grid"),
    [
        pytest.param(n, g, id=f"{n}-{k}")
        for n in sorted(SAMPLERS)
        for k, g in _GRIDS.items()
        if get_sampler(n).pure_noise_start or not math.isinf(g[0])
    ],
)
def test_coupling_error_and_gain_ratios_match_the_40_digit_reference(
    name: str, grid: list[float]
) -> None:
    # the weights (lambda + sigma_N^2) matter when the grid ends above 0; the start's variance
    # lambda + sigma_0^2 when it is finite; the limit when it is pure noise
    sig = np.array(grid)
    kn = {"eta": 0.6} if name == "ancestral" else {}
    f = coupling.coupling_error(SPECTRUM, sig, sampler=name, **kn)
    m = float(coupling.coupling_error_mpmath(SPECTRUM, sig, sampler=name, knobs=kn))
    q, frac = coupling.gain_ratios(SPECTRUM, sig, sampler=name, **kn)
    assert np.all(q > 0) and np.all((frac > 0) == (name == "ancestral"))
    if name == "exact-flow":
        assert f == 0.0 and m == 0.0 and np.all(q == 1.0)
        return
    bound = tol.dpm_mp_rtol(sig.tolist()) if name == "dpmpp-2m" else tol.COUPLING_MP_RTOL
    assert abs(f / m - 1) <= bound
    # per eigenvalue, c_i = (q_i - 1)^2 + v_i / (lambda_i + sigma_N^2), against mpmath's; a
    # deterministic sampler's q_i^2 is its variance ratio r_i, here from its 40-digit recursion
    c = coupling.coupling_terms(SPECTRUM, sig, sampler=name, **kn)
    for i, lv in enumerate(SPECTRUM):
        mi = float(coupling.coupling_error_mpmath([lv], sig, sampler=name, knobs=kn))
        assert abs(c[i] / mi - 1) <= bound
        if name != "ancestral":
            r = float(exact.kl_mpmath([lv], sig, sampler=name).variance_ratios[0])
            assert abs(q[i] ** 2 / r - 1) <= bound


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_in_range_inputs_never_fall_back_to_mpmath(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the 30-digit fallback is for entries outside the float64 range of the plain recursion; a
    # float64 path that produced a NaN or an infinity in range would be rescued by it silently
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("mpmath fallback on an in-range input")

    monkeypatch.setattr(coupling, "_propagate_mp", refuse)
    kn = {"eta": 0.6} if name == "ancestral" else {}
    for grid in _GRIDS.values():
        if math.isinf(grid[0]) and not get_sampler(name).pure_noise_start:
            continue
        coupling.gain_ratios(SPECTRUM, np.array(grid), sampler=name, **kn)
        coupling.coupling_error(SPECTRUM, np.array(grid), sampler=name, **kn)


@pytest.mark.parametrize("name", ["ddim", "heun", "dpmpp-2m"])
def test_grouped_coupling_error_is_the_sum_over_repeated_eigenvalues(name: str) -> None:
    # a grid ending above 0, so that the weights' sigma_N^2 counts
    values, counts = np.array([0.02, 0.5, 4.0]), np.array([3.0, 1.0, 7.0])
    sig = np.array([80.0, 6.0, 0.8, 0.1])
    full = coupling.coupling_error(np.repeat(values, counts.astype(int)), sig, sampler=name)
    grouped = coupling.grouped_coupling_error(values, counts, sig, sampler=name)
    assert grouped == pytest.approx(full, rel=1e-13)
    # and it is a weighted mean of the per-eigenvalue terms: between their extremes
    c = coupling.coupling_terms(values, sig, sampler=name)
    assert c.min() < grouped < c.max()


@pytest.mark.parametrize("start", ["exact", "prior"])
@pytest.mark.parametrize("name", ["ddim", "dpmpp-2m", "ancestral"])
def test_criteria_coupling_is_the_coupling_error_whatever_the_start(name: str, start: str) -> None:
    # the coupling error is a property of the grid and the sampler (exact start); criteria
    # reuses the exact-start log ratios only when they are the ones it computed
    grid = np.array([80.0, 12.0, 3.0, 0.7, 0.1, 0.0])
    weights = np.array([1.0, 2.0, 1.0, 3.0, 1.0])
    got = coupling.criteria(SPECTRUM, grid, sampler=name, start=start, weights=weights)
    want = coupling.coupling_error(SPECTRUM, grid, sampler=name, weights=weights)
    assert got.coupling == pytest.approx(want, rel=1e-13)
    repeated = np.repeat(SPECTRUM, weights.astype(int))  # the multiplicities spelled out
    kl = exact.kl(repeated, grid, sampler=name, start=start)
    assert got.kl_source_output == pytest.approx(kl.kl_source_output, rel=1e-13)


@pytest.mark.parametrize(
    "weights",
    [[1.0, 1.0], [1.0, 1.0, math.nan, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0, 1.0], [1, -2, 1, 1, 1]],
    ids=["shape", "nan", "zero", "negative"],
)
def test_coupling_weights_must_be_positive_and_one_per_eigenvalue(weights: list[float]) -> None:
    grid = np.array([80.0, 3.0, 0.1, 0.0])
    with pytest.raises(ValueError, match="weights must be 5 finite positive numbers"):
        coupling.coupling_error(SPECTRUM, grid, weights=weights)
