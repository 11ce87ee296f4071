"""The optimisers' less travelled paths, driven on purpose (docs/theory/gaussian.md#three-optima,
docs/theory/coupling.md#the-sampler-aware-optimum, docs/mutation.md).

* the exact finite-N optimum (c): an L-BFGS-B answer that is not monotone (two levels swapped,
  or two equal) is re-sorted and polished into the same optimum the direct search finds; the KL
  is scaled by its starting value, so the search stops at a relative stationarity also where the
  KL is small;
* the fallbacks to the full spectrum report the spectrum they ended on and the iterations of
  both searches;
* the sampler-aware optimum honours a step-ratio bound given by the caller (also for a one-step
  sampler, which has none by default) and refuses a bound that is not above 1;
* the geodesic (b) reports the residual of the weights it returns (exact grouping and compressed
  spectrum), its size guard counts the Gauss nodes its quadrature really has, and on a spectrum
  wider than its closed-form tails its J_i match an independent adaptive quadrature;
* the sampler-aware search ends at a restart that stops on a plateau (no further restart, no
  Newton polish) and never returns a grid whose levels merged in float64.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
from optimiser_spy import bounded_runs

from symsched._typing import FloatArray
from symsched.gaussian import compress, sampler_optimum, variational
from symsched.gaussian.compress import compress_spectrum

LAM = np.array([0.01, 0.3, 4.0])
ENDS = (0.01, 50.0)  # sigma_min, sigma_max


def _spoil_first_answer(monkeypatch: pytest.MonkeyPatch, spoil: Any) -> list[FloatArray]:
    """Make the first L-BFGS-B answer ``spoil(x)``; record the start of every call."""
    real = scipy.optimize.minimize
    starts: list[FloatArray] = []

    def fake(fun: Any, x0: Any, *args: Any, **kwargs: Any) -> Any:
        starts.append(np.array(x0, dtype=np.float64))
        res = real(fun, x0, *args, **kwargs)
        if len(starts) == 1:
            res.x = spoil(np.array(res.x, dtype=np.float64))
        return res

    monkeypatch.setattr(scipy.optimize, "minimize", fake)
    return starts


def _swap(x: FloatArray) -> FloatArray:
    y = x.copy()
    y[[1, 2]] = y[[2, 1]]  # two interior log levels out of order
    return y


def _tie(x: FloatArray) -> FloatArray:
    y = x.copy()
    y[2] = y[1]  # two interior levels equal
    return y


@pytest.mark.parametrize("spoil", [_swap, _tie], ids=["swapped", "equal"])
def test_a_non_monotone_answer_is_resorted_and_polished_to_the_optimum(
    monkeypatch: pytest.MonkeyPatch, spoil: Any
) -> None:
    want = variational.kl_optimal(LAM, 6, *ENDS, exact_spectrum=True)
    starts = _spoil_first_answer(monkeypatch, spoil)
    got = variational.kl_optimal(LAM, 6, *ENDS, exact_spectrum=True)
    assert len(starts) == 2  # the search, then one polish
    # the polish starts from the spoiled answer's levels, sorted decreasing
    spoiled = spoil(np.log(want.sigmas[1:-1]))
    np.testing.assert_allclose(starts[1], np.sort(spoiled)[::-1], rtol=0, atol=1e-6)
    assert got.sigmas[0] == ENDS[1] and got.sigmas[-1] == ENDS[0]
    assert np.all(np.diff(got.sigmas) < 0)
    # the same optimum as the undisturbed search (a flat minimum: the value agrees closer)
    assert got.kl == pytest.approx(want.kl, rel=1e-10)
    np.testing.assert_allclose(got.sigmas, want.sigmas, rtol=1e-4)
    assert got.gradient_norm <= 1e-7 * got.kl


def test_a_small_kl_is_searched_to_a_relative_stationarity() -> None:
    # N = 200: the exact KL is 2.2e-4 here. The search scales it by its starting value, so the
    # stopping rules (ftol 1e-15, gtol 1e-12 on the scaled KL) are relative ones: measured, the
    # largest gradient entry is 7.5e-8 of the KL. An unscaled KL, one scaled by the KL instead
    # of its inverse, or gradients scaled unlike the values stop at 1.3e-5 to 2.4e-2 of it
    # (measured); 1e-6 lies between
    res = variational.kl_optimal(LAM, 200, *ENDS, exact_spectrum=True)
    assert 1e-4 < res.kl < 1e-3
    kl, grad = variational.exact_kl_and_gradient(LAM, res.sigmas)
    assert res.kl == pytest.approx(kl, rel=1e-12)
    assert float(np.max(np.abs(grad))) <= 1e-6 * res.kl
    assert res.gradient_norm == pytest.approx(float(np.max(np.abs(grad))), rel=1e-9)


def _coarse(lam: object, **_: object) -> compress.CompressedSpectrum:
    # far too coarse for the tolerance: the compressed answer fails its check on the full
    # spectrum, so every optimiser searches again on the exact grouping
    return compress_spectrum(lam, bin_width=6.0, nodes_per_bin=1)  # type: ignore[arg-type]


def _wide() -> FloatArray:
    return np.geomspace(1e-3, 30.0, 400)


def test_the_kl_fallback_counts_the_iterations_of_both_searches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compress, "compress_spectrum", _coarse)
    real = variational._kl_minimise
    nits: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        nits.append(out[1])
        return out

    monkeypatch.setattr(variational, "_kl_minimise", spy)
    res = variational.kl_optimal(_wide(), 10, 0.002, 80.0)
    assert res.fell_back and len(nits) == 2 and min(nits) >= 1
    assert res.iterations == sum(nits)


def test_the_ddim_kl_fallback_reports_the_spectrum_it_ended_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compress, "compress_spectrum", _coarse)
    res = sampler_optimum.sampler_optimal(_wide(), 10, 0.002, 80.0, sampler="ddim", objective="kl")
    assert res.fell_back and res.agreement is not None and not res.agreement.ok
    assert res.compression is not None and res.compression.exact
    assert res.compression.nodes.size == 400
    assert "full spectrum" in res.message


def test_the_sampler_aware_fallback_counts_the_iterations_of_both_searches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compress, "compress_spectrum", _coarse)
    real = sampler_optimum._Search.run
    nits: list[int] = []

    def spy(self: Any, comp: Any, starts: Any) -> Any:
        out = real(self, comp, starts)
        assert out is not None
        nits.append(out[2])
        return out

    monkeypatch.setattr(sampler_optimum._Search, "run", spy)
    res = sampler_optimum.sampler_optimal(_wide(), 6, 0.002, 80.0, sampler="heun")
    assert res.fell_back and len(nits) == 2 and min(nits) >= 1
    assert res.iterations == sum(nits)


def test_a_step_ratio_bound_of_the_caller_is_honoured() -> None:
    # Heun (one-step) has no bound by default; its optimum here has consecutive log-step ratios
    # well above 1.1, so a bound of 1.1 is active and the answer sits on it
    free = sampler_optimum.sampler_optimal(LAM, 8, *ENDS, sampler="heun")
    assert free.max_step_ratio > 1.2
    bound = sampler_optimum.sampler_optimal(LAM, 8, *ENDS, sampler="heun", step_ratio_bound=1.1)
    assert bound.max_step_ratio <= 1.1 * (1 + 1e-9)
    assert bound.max_step_ratio == pytest.approx(1.1, rel=1e-6)  # on the bound
    assert bound.objective_value >= free.objective_value * (1 - 1e-9)


@pytest.mark.parametrize("bad", [1.0, 0.5])
def test_a_step_ratio_bound_not_above_one_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"step_ratio_bound must be > 1, got"):
        sampler_optimum.sampler_optimal(LAM, 8, *ENDS, sampler="dpmpp-2m", step_ratio_bound=bad)
    with pytest.raises(ValueError, match=r"step_ratio_bound must be > 1, got"):
        sampler_optimum.sampler_optimal(LAM, 8, *ENDS, sampler="heun", step_ratio_bound=bad)


def test_an_infinite_step_ratio_bound_is_no_bound() -> None:
    free = sampler_optimum.sampler_optimal(LAM, 8, *ENDS, sampler="heun")
    inf = sampler_optimum.sampler_optimal(LAM, 8, *ENDS, sampler="heun", step_ratio_bound=math.inf)
    np.testing.assert_array_equal(inf.sigmas, free.sigmas)


@pytest.mark.parametrize(
    "lam", [LAM, np.geomspace(1e-3, 30.0, 4000)], ids=["exact-grouping", "compressed"]
)
def test_the_geodesic_reports_the_residual_of_the_weights_it_returns(
    monkeypatch: pytest.MonkeyPatch, lam: FloatArray
) -> None:
    # residual = max_k |J_k(w) / sum J(w) - w_k| at the fixed point's last weights w, on the
    # spectrum it iterated on: the next iterate's distance, recomputed here from the kernel,
    # the metric and the lengths of the same quadrature
    real = variational._Quadrature.fixed_point
    seen: list[tuple[Any, FloatArray, np.ndarray[Any, Any]]] = []

    def spy(self: Any, lam_n: Any, mult: Any, d: int, tol: float, max_iter: int) -> Any:
        out = real(self, lam_n, mult, d, tol, max_iter)
        seen.append((self, np.array(lam_n), np.array(mult)))
        seen.append((out[0], np.array(lam_n), np.array(mult)))
        return out

    monkeypatch.setattr(variational._Quadrature, "fixed_point", spy)
    geo = variational.geodesic(lam, 0.0, math.inf, tol=1e-6)
    assert len(seen) == 2 and not geo.fell_back
    quad_, nodes, mult = seen[0]
    w = seen[1][0]
    assert geo.compression is not None and geo.compression.exact == (lam is LAM)
    m = variational._m(quad_.nodes, nodes)
    j = quad_.lengths(quad_.metric(m, nodes, mult * w), nodes, m)
    want = float(np.max(np.abs(j / (mult @ j) - w)))
    assert 0 < geo.residual <= 1e-6  # converged to tol, not to zero
    assert geo.residual == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(
    ("lam", "lo", "hi"),
    [
        (LAM, 0.0, math.inf),
        (LAM, 0.002, 80.0),
        (LAM, 0.05, 0.06),  # a range narrower than one panel
        (np.geomspace(1e-12, 1e12, 7), 0.0, math.inf),
    ],
)
def test_the_size_guard_counts_the_nodes_the_quadrature_has(
    monkeypatch: pytest.MonkeyPatch, lam: FloatArray, lo: float, hi: float
) -> None:
    # quadrature_size sizes the memory guard's estimate; it must be the node count the geodesic
    # really integrates with (_ORDER Gauss nodes per panel of at most _PANEL e-folds)
    real = variational._Quadrature.fixed_point
    sizes: list[int] = []

    def spy(self: Any, *args: Any) -> Any:
        sizes.append(int(self.nodes.size))
        assert self.nodes.size == self.qw.size == variational._ORDER * (self.edges.size - 1)
        widths = np.diff(self.edges)
        assert np.all(widths <= variational._PANEL * (1 + 1e-12))
        return real(self, *args)

    monkeypatch.setattr(variational._Quadrature, "fixed_point", spy)
    variational.geodesic(lam, lo, hi, exact_spectrum=True)
    assert sizes == [variational.quadrature_size(lam, lo, hi)]


def test_the_geodesic_of_a_spectrum_wider_than_its_tails_matches_an_independent_quadrature() -> (
    None
):
    # eigenvalues over 24 decades: sqrt(lam) spans 27.6 e-folds, more than the 18 e-folds of the
    # closed-form tails, so a tail anchored at the wrong end of the spectrum would cut through it
    lam = np.geomspace(1e-12, 1e12, 7)
    geo = variational.geodesic(lam, 0.0, math.inf, tol=1e-13, exact_spectrum=True)
    w = geo.weights

    def metric(r: float) -> float:
        return math.sqrt(float(np.sum(w * lam / (lam + r * r) ** 2)))

    def integral(fn: Any) -> float:
        a = math.log(math.sqrt(lam.min())) - 40
        b = math.log(math.sqrt(lam.max())) + 40
        pts = [math.log(math.sqrt(x)) for x in lam]
        total = 0.0
        for lo_, hi_ in zip([a, *pts], [*pts, b], strict=True):
            val, _ = scipy.integrate.quad(
                lambda v: fn(math.exp(v)) * math.exp(v), lo_, hi_, epsabs=0.0, epsrel=1e-12
            )
            total += val
        return total

    length = integral(metric)
    for i, li in enumerate(lam):
        ji = length * integral(lambda r, li=float(li): li / (li + r * r) ** 2 / metric(r))
        assert geo.J[i] == pytest.approx(ji, rel=1e-9)


class _PlateauFromSecondRun:
    """A plateau callback that never stops the first L-BFGS-B run and stops every later one
    after two iterations, as :class:`~symsched.gaussian.sampler_optimum._Plateau` does at a
    plateau."""

    made = 0

    def __init__(self) -> None:
        type(self).made += 1
        self.index, self.calls, self.stopped = type(self).made, 0, False

    def __call__(self, intermediate_result: Any) -> None:
        self.calls += 1
        if self.index >= 2 and self.calls >= 2:
            self.stopped = True
            raise StopIteration


def test_a_restart_that_ends_on_a_plateau_ends_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    # the first run stops at max_iter = 3, far from stationary, so the search restarts it; the
    # restart lowers the criterion and then stops on a plateau: the search keeps that answer and
    # neither restarts again nor polishes it with Newton steps (a plateau's gains are below what
    # changes a schedule, PLATEAU)
    from symsched.gaussian.tangent import tangent_sigmas

    monkeypatch.setattr(_PlateauFromSecondRun, "made", 0)
    monkeypatch.setattr(sampler_optimum, "_Plateau", _PlateauFromSecondRun)
    runs = bounded_runs(monkeypatch)
    init = tangent_sigmas(5, 0.6, *ENDS)
    opt = sampler_optimum.sampler_optimal(
        LAM, 5, *ENDS, sampler="euler-vp", objective="kl", init=init, max_iter=3
    )
    assert len(runs) == 2 and float(runs[1].fun) < float(runs[0].fun)
    assert "1 L-BFGS-B restart(s)" in opt.message and "Newton" not in opt.message
    assert opt.iterations == int(runs[0].nit) + int(runs[1].nit)
    assert opt.gradient_norm > sampler_optimum.STATIONARITY  # stopped short, as asked


def test_an_answer_that_merges_two_levels_is_never_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # to 0 at the bottom, the free variables are the log of each log step; a step of
    # exp(-800) = 0 merges two levels in float64. Every L-BFGS-B answer is made to do that: the
    # search must keep no such grid and say so, not return it
    real = scipy.optimize.minimize

    def merging(*args: Any, **kwargs: Any) -> Any:
        res = real(*args, **kwargs)
        if "bounds" in kwargs:
            res.x = np.array(res.x, dtype=np.float64)
            res.x[1] = -800.0
        return res

    monkeypatch.setattr(scipy.optimize, "minimize", merging)
    with pytest.raises(ValueError, match=r"merges two levels \(equal in float64\)"):
        sampler_optimum.sampler_optimal(LAM, 5, 0.0, 50.0, sampler="euler-vp", objective="kl")


def test_ends_exactly_at_the_tails_are_accepted_and_just_beyond_refused() -> None:
    # a finite end more than 18 e-folds beyond sqrt(lam_min) or sqrt(lam_max) is refused (the
    # closed-form tails take over there); exactly 18 is inside. Here exp and log round-trip
    # these two ends exactly, so the boundary itself is tested (1e-12 beyond moves the log by
    # more than its rounding)
    v_lo = math.log(math.sqrt(LAM.min())) - variational._TAIL
    v_hi = math.log(math.sqrt(LAM.max())) + variational._TAIL
    lo, hi = math.exp(v_lo), math.exp(v_hi)
    assert (math.log(lo), math.log(hi)) == (v_lo, v_hi)
    grid = variational.geodesic(LAM, lo, hi).grid(4)
    assert (grid[0], grid[-1]) == (hi, lo)
    with pytest.raises(ValueError, match="far below every sqrt"):
        variational.geodesic(LAM, lo * (1 - 1e-12), hi)
    with pytest.raises(ValueError, match="far above every sqrt"):
        variational.geodesic(LAM, lo, hi * (1 + 1e-12))
