"""The compressed spectrum (docs/theory/gaussian.md#compressed-spectra): its Gauss rules, its
stated tolerance against the full sums on drawn spectra and grids, and the optimisers' use of it
(re-evaluation on the full spectrum, fallback)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched.flow import shift
from symsched.gaussian import compress, coupling, sampler_optimum, variational
from symsched.gaussian.compress import RTOL, compress_spectrum

SAMPLERS = ("ddim", "euler-vp", "heun", "dpmpp-2m", "ancestral")


def _spectrum(seed: int, d: int, decades: float, slope: float) -> np.ndarray:
    """A power-law spectrum with lognormal scatter over ``decades`` decades (image-like)."""
    rng = np.random.default_rng(seed)
    k = np.arange(1, d + 1, dtype=np.float64)
    lam = k ** (-slope) * np.exp(0.3 * rng.standard_normal(d))
    lam = np.exp(np.interp(np.log(lam), [np.log(lam).min(), np.log(lam).max()], [0, decades]))
    return np.sort(lam * 10.0 ** (2.0 - decades))[::-1].copy()  # top eigenvalue 100


@st.composite
def spectra(draw: st.DrawFn) -> np.ndarray:
    seed = draw(st.integers(0, 2**31))
    d = draw(st.integers(2000, 6000))
    return _spectrum(seed, d, draw(st.floats(4.0, 12.0)), draw(st.floats(0.5, 2.5)))


@st.composite
def grids(draw: st.DrawFn) -> np.ndarray:
    """Grids of the stated class: N steps, levels in [1e-3, 1e3], ends possibly inf and 0."""
    n = draw(st.integers(1, 120))
    lo = 10.0 ** draw(st.floats(-3.0, -0.5))
    hi = 10.0 ** draw(st.floats(0.5, 3.0))
    seed = draw(st.integers(0, 2**31))
    inner = np.sort(np.exp(np.random.default_rng(seed).uniform(math.log(lo), math.log(hi), n)))
    inner = np.unique(inner)[::-1]
    grid = np.concatenate([[hi], inner, [lo]])
    if draw(st.booleans()):
        grid[-1] = 0.0
    return grid


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b) if b else abs(a)


@given(spectra(), grids(), st.sampled_from(SAMPLERS))
@settings(max_examples=40, deadline=None)
def test_every_criterion_of_a_compressed_spectrum_is_within_the_stated_tolerance(
    lam: np.ndarray, grid: np.ndarray, sampler: str
) -> None:
    comp = compress_spectrum(lam)
    assert not comp.exact and comp.nodes.size < lam.size / 10
    full = coupling.criteria(lam, grid, sampler=sampler)
    small = coupling.criteria(comp.nodes, grid, sampler=sampler, weights=comp.weights)
    for name in ("kl_source_output", "kl_output_source", "coupling"):
        assert _rel(getattr(small, name), getattr(full, name)) <= RTOL, name


@given(spectra(), grids(), st.sampled_from(("kl_source_output", "kl_output_source")))
@settings(max_examples=30, deadline=None)
def test_the_ddim_kl_gradient_of_a_compressed_spectrum_is_within_the_stated_tolerance(
    lam: np.ndarray, grid: np.ndarray, objective: str
) -> None:
    # the gradient in the log levels, against the criterion's scale (the gradient of ln KL)
    comp = compress_spectrum(lam)
    f, g = variational.exact_kl_and_gradient(lam, grid, objective=objective)
    fc, gc = variational.exact_kl_and_gradient(
        comp.nodes, grid, objective=objective, weights=comp.weights
    )
    assert _rel(fc, f) <= RTOL
    assert float(np.max(np.abs(gc - g), initial=0.0)) <= RTOL * f


@given(spectra(), st.integers(2, 60), st.sampled_from(("heun", "dpmpp-2m", "euler-vp")))
@settings(max_examples=20, deadline=None)
def test_the_coupling_gradient_of_a_compressed_spectrum_is_within_the_stated_tolerance(
    lam: np.ndarray, n: int, sampler: str
) -> None:
    grid = np.geomspace(80.0, 0.002, n + 1)
    comp = compress_spectrum(lam)
    x = np.log(grid[1:-1])
    args = (80.0, 0.002, sampler, "coupling", "kl_source_output", "exact", {})
    f, g = sampler_optimum._torch_objective(lam, np.ones(lam.size), *args)(x)
    fc, gc = sampler_optimum._torch_objective(comp.nodes, comp.weights, *args)(x)
    assert _rel(fc, f) <= RTOL
    assert float(np.max(np.abs(gc - g))) <= RTOL * f


@given(spectra(), st.integers(1, 6), st.floats(0.2, 2.0))
@settings(max_examples=25, deadline=None)
def test_each_bins_gauss_rule_is_exact_for_polynomials_of_degree_2k_minus_1(
    lam: np.ndarray, k: int, h: float
) -> None:
    comp = compress_spectrum(lam, bin_width=h, nodes_per_bin=k)
    if comp.exact:
        return
    u, t = np.log(lam), np.log(comp.nodes)
    mid, half = (u.max() + u.min()) / 2, (u.max() - u.min()) / 2
    for degree in range(2 * k):
        exact = float(np.sum(((u - mid) / half) ** degree))
        assert float(comp.weights @ (((t - mid) / half) ** degree)) == pytest.approx(
            exact, rel=1e-10, abs=1e-10 * lam.size
        )
    assert (comp.weights > 0).all()
    assert comp.weights.sum() == pytest.approx(lam.size, rel=1e-13)
    assert lam.min() <= comp.nodes.min() and comp.nodes.max() <= lam.max()
    # every node lies in its bin: at most k per bin of width h counted from the smallest value
    bins = np.floor((t - u.min()) / h + 1e-9).astype(int)
    assert np.bincount(bins).max() <= k


def test_the_error_falls_as_the_bin_width_to_the_power_2k() -> None:
    # the bound's factor (h / 4a)^(2k): halving h at k = 4 divides it by 2^8 = 256
    lam = _spectrum(1, 20_000, 9.0, 1.2)
    grid = np.geomspace(80.0, 0.002, 31)
    full = coupling.criteria(lam, grid, sampler="heun").coupling
    errs = []
    for h in (2.0, 1.0):
        c = compress_spectrum(lam, bin_width=h, nodes_per_bin=4)
        errs.append(
            _rel(coupling.criteria(c.nodes, grid, sampler="heun", weights=c.weights).coupling, full)
        )
    assert errs[0] / errs[1] > 256 / 4
    assert compress.error_bound_factor(2.0) / compress.error_bound_factor(1.0) == pytest.approx(256)


def test_a_spectrum_with_few_distinct_values_is_grouped_exactly() -> None:
    lam = np.repeat([0.01, 0.5, 3.0], [100, 2000, 7])
    comp = compress_spectrum(lam)
    assert comp.exact and comp.nodes.tolist() == [3.0, 0.5, 0.01]
    assert comp.weights.tolist() == [7.0, 2000.0, 100.0]
    assert comp.as_dict()["rtol"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"bin_width": 0.0}, "bin_width"),
        ({"bin_width": math.nan}, "bin_width"),
        ({"nodes_per_bin": 0}, "nodes_per_bin"),
        ({"nodes_per_bin": 2.0}, "nodes_per_bin"),
    ],
)
def test_bad_compression_settings_are_refused(kwargs: dict[str, float], flag: str) -> None:
    with pytest.raises(ValueError, match=flag):
        compress_spectrum([1.0, 2.0], **kwargs)  # type: ignore[arg-type]


LAM = _spectrum(3, 8000, 8.0, 1.3)


def test_kl_optimal_on_the_compressed_spectrum_matches_the_full_search() -> None:
    comp = variational.kl_optimal(LAM, 12, 0.002, 80.0)
    full = variational.kl_optimal(LAM, 12, 0.002, 80.0, exact_spectrum=True)
    assert comp.compression is not None and not comp.compression.exact
    assert full.compression is not None and full.compression.exact and full.agreement is None
    assert comp.agreement is not None and comp.agreement.ok and not comp.fell_back
    # the answer's KL is the full spectrum's, and the optimum's KL is the same to the optimiser's
    # stopping tolerance (a flat minimum: the levels agree less closely than the value)
    exact_kl = variational.exact_kl_and_gradient(LAM, comp.sigmas)[0]
    assert comp.kl == pytest.approx(exact_kl, rel=1e-12)
    assert comp.kl == pytest.approx(full.kl, rel=1e-9)
    assert np.allclose(comp.sigmas, full.sigmas, rtol=1e-4)


def _coarse(lam: object, **_: object) -> compress.CompressedSpectrum:
    # a rule far too coarse for the tolerance: one node per bin of 6 e-folds
    return compress_spectrum(lam, bin_width=6.0, nodes_per_bin=1)  # type: ignore[arg-type]


def test_kl_optimal_falls_back_to_the_full_spectrum_when_the_check_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compress, "compress_spectrum", _coarse)
    res = variational.kl_optimal(LAM, 10, 0.002, 80.0)
    assert res.fell_back and res.agreement is not None and not res.agreement.ok
    assert res.compression is not None and res.compression.exact
    assert "full spectrum" in res.message
    full = variational.kl_optimal(LAM, 10, 0.002, 80.0, exact_spectrum=True)
    assert res.kl == pytest.approx(full.kl, rel=1e-9)


def test_sampler_optimal_falls_back_to_the_full_spectrum_when_the_check_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compress, "compress_spectrum", _coarse)
    res = sampler_optimum.sampler_optimal(LAM, 6, 0.002, 80.0, sampler="heun")
    assert res.fell_back and res.agreement is not None and not res.agreement.ok
    full = sampler_optimum.sampler_optimal(LAM, 6, 0.002, 80.0, sampler="heun", exact_spectrum=True)
    assert res.objective_value == pytest.approx(full.objective_value, rel=1e-7)


@pytest.mark.parametrize(
    ("sampler", "objective"), [("ddim", "kl"), ("dpmpp-2m", "coupling"), ("ancestral", "kl")]
)
def test_optimal_shift_on_the_compressed_spectrum_matches_the_exact_search(
    sampler: str, objective: str
) -> None:
    """The flow shift searched on the compressed spectrum: its reported value is the full
    spectrum's criterion, within RTOL of the compressed one, and the shift is the exact search's
    (a 1-D minimum: an O(RTOL) change of the criterion moves it by O(sqrt(RTOL)) at most)."""
    lam = LAM / LAM.mean()
    kw = {"sampler": sampler, "objective": objective}
    comp = shift.optimal_shift(lam, 12, **kw)  # type: ignore[arg-type]
    full = shift.optimal_shift(lam, 12, exact_spectrum=True, **kw)  # type: ignore[arg-type]
    assert comp.compression is not None and comp.compression.nodes.size < 200
    assert full.compression is not None and full.compression.exact
    assert comp.agreement is not None and comp.agreement.ok and not comp.fell_back
    crt = coupling.criteria(lam, comp.sigmas, sampler=sampler)
    value = crt.coupling if objective == "coupling" else crt.kl_source_output
    assert comp.value == value == comp.agreement.full
    assert comp.shift == pytest.approx(full.shift, rel=2e-3)
    assert comp.value == pytest.approx(full.value, rel=1e-6)


def test_optimal_shift_falls_back_to_the_full_spectrum_when_the_check_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compress, "compress_spectrum", _coarse)
    lam = LAM / LAM.mean()
    res = shift.optimal_shift(lam, 10)
    assert res.fell_back and res.agreement is not None and not res.agreement.ok
    assert res.compression is not None and res.compression.exact
    full = shift.optimal_shift(lam, 10, exact_spectrum=True)
    assert res.shift == pytest.approx(full.shift, rel=1e-9)
    sweep = shift.optimal_shifts(lam, [10, 11])  # the warm-started step falls back too
    assert all(o.fell_back for o in sweep)
    assert sweep[1].shift == pytest.approx(shift.optimal_shift(lam, 11, exact_spectrum=True).shift)


@pytest.mark.parametrize(("lo", "hi"), [(0.0, math.inf), (0.002, 80.0)])
def test_geodesic_on_the_compressed_spectrum_matches_the_exact_fixed_point(
    lo: float, hi: float
) -> None:
    """The variational geodesic iterated on the Gauss nodes: every J_i and weight of the full
    spectrum, the dominant coefficient and the grids equal those of the fixed point on the exact
    grouping, far inside RTOL (both fixed points converge to 1e-10 in the weights)."""
    comp = variational.geodesic(LAM, lo, hi)
    full = variational.geodesic(LAM, lo, hi, exact_spectrum=True)
    assert comp.compression is not None and comp.compression.nodes.size < 200
    assert full.compression is not None and full.compression.exact and full.agreement is None
    assert comp.agreement is not None and comp.agreement.ok and not comp.fell_back
    assert 0 < comp.metric_error <= RTOL and full.metric_error == 0.0
    assert comp.dominant_coefficient == pytest.approx(full.dominant_coefficient, rel=RTOL)
    assert comp.dominant_coefficient == pytest.approx(comp.agreement.full, rel=1e-13)
    assert np.allclose(comp.J, full.J, rtol=1e-8, atol=0)
    assert np.allclose(comp.weights, full.weights, rtol=1e-8, atol=0)
    assert comp.weights.sum() == pytest.approx(1.0, rel=1e-13)
    for n in (5, 40):
        assert np.allclose(comp.grid(n), full.grid(n), rtol=1e-8, atol=0)


def test_geodesic_falls_back_to_the_full_spectrum_when_the_check_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compress, "compress_spectrum", _coarse)
    res = variational.geodesic(LAM, 0.002, 80.0)
    assert res.fell_back and res.agreement is not None
    assert not (res.agreement.ok and res.metric_error <= RTOL)
    assert res.compression is not None and res.compression.exact
    full = variational.geodesic(LAM, 0.002, 80.0, exact_spectrum=True)
    assert np.array_equal(res.grid(12), full.grid(12))
    assert np.array_equal(res.J, full.J)


def test_a_fallback_too_large_for_the_memory_budget_is_refused_before_it_allocates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from symsched._budget import MemoryBudgetError

    monkeypatch.setattr(compress, "compress_spectrum", _coarse)
    monkeypatch.setenv("SYMSCHED_MAX_MEMORY", "1M")
    with pytest.raises(MemoryBudgetError, match=r"full spectrum .*failed its check"):
        variational.geodesic(LAM, 0.002, 80.0)
    with pytest.raises(MemoryBudgetError, match="--eigenvalues"):
        variational.kl_optimal(LAM, 10, 0.002, 80.0)


@pytest.mark.parametrize("sampler", ["heun", "dpmpp-2m"])
def test_sampler_optimal_reports_the_full_criterion_and_the_check(sampler: str) -> None:
    res = sampler_optimum.sampler_optimal(LAM, 8, 0.002, 80.0, sampler=sampler)
    assert res.compression is not None and res.compression.nodes.size < 200
    assert res.agreement is not None and res.agreement.ok and not res.fell_back
    assert res.distinct_eigenvalues == LAM.size
    full = coupling.coupling_error(LAM, res.sigmas, sampler=sampler)
    assert res.objective_value == full == res.agreement.full


def test_weighted_criteria_equal_the_criteria_of_the_repeated_spectrum() -> None:
    values, counts = np.array([0.02, 0.7, 5.0]), np.array([3.0, 1.0, 11.0])
    grid = np.array([80.0, 3.0, 0.4, 0.05, 0.0])
    for sampler in SAMPLERS:
        a = coupling.criteria(values, grid, sampler=sampler, weights=counts)
        b = coupling.criteria(np.repeat(values, counts.astype(int)), grid, sampler=sampler)
        assert np.allclose(list(a.as_dict().values()), list(b.as_dict().values()), rtol=1e-13)
    with pytest.raises(ValueError, match="weights"):
        coupling.coupling_error(values, grid, weights=[1.0, -1.0, 2.0])


def test_agreement_treats_values_below_the_floor_as_equal() -> None:
    assert not compress.agreement(1.0e-15, 2.0e-15).ok
    assert compress.agreement(1.0e-15, 2.0e-15, floor=1e-14).ok
    assert compress.agreement(0.0, 0.0).relative_error == 0.0
    assert not compress.agreement(1.0, 0.0).ok


def _full_kl(lam: np.ndarray, grid: np.ndarray) -> float:
    return float(coupling.criteria(lam, grid).kl_source_output)


@pytest.mark.parametrize("coarse", [False, True])
def test_steps_for_target_is_certified_on_the_full_spectrum(
    coarse: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fewest steps searched on the compressed spectrum (or, ``coarse``, on one far too coarse
    for the tolerance, so that the full-spectrum walk has to correct it) meet the target on the
    full spectrum, and one step fewer does not."""
    from symsched import score

    if coarse:
        monkeypatch.setattr(score, "compress_spectrum", _coarse)
    grid = np.array([80.0, 10.0, 1.0, 0.1, 0.01, 0.002])
    target = 0.02 * _full_kl(LAM, score.refine(grid, 40))
    n = score.steps_for_target(LAM, grid, target)
    assert n is not None and n > 40
    assert _full_kl(LAM, score.refine(grid, n)) <= target < _full_kl(LAM, score.refine(grid, n - 1))
