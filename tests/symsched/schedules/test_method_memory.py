"""The methods' memory estimates, which the size guard compares with the budget before anything
is allocated (docs/cli.md#size-guards): upper bounds of the measured peak, growing with the
request, naming the option that drives them."""

from __future__ import annotations

import tracemalloc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import torch

from symsched.schedules import METHODS, get_method

RNG = np.random.default_rng(8)
SPECTRUM = np.exp(RNG.uniform(np.log(1e-3), np.log(10.0), 100_000))  # unsorted, log-uniform

# The estimates are calibrated at 1.3-3x of the measured peaks below (the side to err on: a
# refusal at a few times the need, never an allocation above the budget); 4x leaves room for
# the temporaries of other numpy / torch builds and still fails an estimate whose leading term
# is off by the factor of a wrong operator.
PEAK_FACTOR = 4.0


class _Peak:
    """The larger of two lower bounds of a build's peak memory: tracemalloc's (numpy's
    allocations) and the live bytes of torch's autograd tape (saved tensors, which tracemalloc
    does not see), counted by ``saved_tensors_hooks`` and released when the graph is freed."""

    def __init__(self) -> None:
        self.numpy = 0
        self.tape = 0
        self._live = 0

    def _pack(self, t: torch.Tensor) -> object:
        holder = _Saved(t)
        nbytes = t.numel() * t.element_size()
        self._live += nbytes
        self.tape = max(self.tape, self._live)
        weakref.finalize(holder, self._release, nbytes)
        return holder

    def _release(self, nbytes: int) -> None:
        self._live -= nbytes

    @staticmethod
    def _unpack(holder: object) -> torch.Tensor:
        assert isinstance(holder, _Saved)
        return holder.tensor

    @property
    def bytes(self) -> int:
        return max(self.numpy, self.tape)


class _Saved:
    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor


@contextmanager
def _measured() -> Iterator[_Peak]:
    peak = _Peak()
    tracemalloc.start()
    try:
        with torch.autograd.graph.saved_tensors_hooks(peak._pack, peak._unpack):
            yield peak
        peak.numpy = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _estimate_and_peak(name: str, steps: int, **options: Any) -> tuple[float, int]:
    """The estimate and the measured peak of a build, after a 4-step build of the same options
    on two eigenvalues has done the once-per-process SymPy work (not part of a request's size)."""
    method = get_method(name)
    small = dict(options)
    small["eigenvalues"] = np.asarray(options["eigenvalues"])[:2]
    method.build_with(4, method.make_options(**small))
    opts = method.make_options(**options)
    est, _ = method.memory_estimate(steps, opts)
    with _measured() as peak:
        method.build_with(steps, opts)
    return est, peak.bytes


def _estimate(name: str, steps: int, **options: Any) -> tuple[float, str]:
    method = get_method(name)
    return method.memory_estimate(steps, method.make_options(**options))


SPECTRUM_CASES: list[tuple[str, dict[str, Any]]] = [
    ("kl-optimal", {"sigma_min": 0.002, "sigma_max": 80.0}),
    ("flow", {"shift": "auto"}),
    ("variational", {"sigma_min": 0.002, "sigma_max": 80.0}),
]


LARGE_CASES: list[tuple[str, int, dict[str, Any]]] = [
    # d = 1e5, the DDIM defaults: the full-spectrum passes and the compressed search
    ("kl-optimal", 12, {"eigenvalues": SPECTRUM, "sigma_min": 0.002, "sigma_max": 80.0}),
    ("flow", 12, {"eigenvalues": SPECTRUM, "shift": "auto"}),
    ("variational", 12, {"eigenvalues": SPECTRUM, "sigma_min": 0.002, "sigma_max": 80.0}),
    ("variational", 12, {"eigenvalues": SPECTRUM}),  # both closed-form tails: more nodes
    # 20000 distinct eigenvalues on the exact grouping: the fixed point's (nodes x n) matrices
    # beyond the full-spectrum pass's block
    ("variational", 12, {"eigenvalues": SPECTRUM[:20_000], "exact_spectrum": True}),
    # d = 1e6 between given ends: the full-spectrum vectors outweigh the fixed point's matrices
    (
        "variational",
        12,
        {
            "eigenvalues": np.exp(RNG.uniform(np.log(1e-3), np.log(10.0), 1_000_000)),
            "sigma_min": 0.002,
            "sigma_max": 80.0,
        },
    ),
    # 200 distinct eigenvalues, 2000 steps: the search's (steps x n) arrays
    (
        "flow",
        2000,
        {"eigenvalues": SPECTRUM[:200], "shift": "auto", "exact_spectrum": True},
    ),
    # one eigenvalue, 20000 steps: the steps' terms
    ("kl-optimal", 20_000, {"eigenvalues": [0.5], "sigma_min": 0.002, "sigma_max": 80.0}),
    ("flow", 20_000, {"eigenvalues": [0.5], "shift": "auto"}),
    # a multistep sampler's search that ends in the Newton polish: its second-order tape (522
    # bytes per step and eigenvalue measured, above the one-step samplers' 48 float64)
    (
        "kl-optimal",
        8,
        {
            "eigenvalues": np.geomspace(1e-3, 30.0, 2000),
            "sampler": "dpmpp-2m",
            "exact_spectrum": True,
            "sigma_min": 0.002,
            "sigma_max": 80.0,
        },
    ),
    # the sampler-aware search under another sampler: the autograd tape, ~27 n-vectors per step
    (
        "kl-optimal",
        50,
        {
            "eigenvalues": SPECTRUM[:100],
            "sampler": "euler-vp",
            "exact_spectrum": True,
            "sigma_min": 0.002,
            "sigma_max": 80.0,
        },
    ),
]


@pytest.mark.parametrize(
    ("name", "steps", "options"),
    LARGE_CASES,
    ids=[f"{c[0]}-N{c[1]}-{'-'.join(sorted(c[2]))}" for c in LARGE_CASES],
)
def test_the_estimate_bounds_the_measured_peak(
    name: str, steps: int, options: dict[str, Any]
) -> None:
    # the estimate may be generous but never below what the build really takes
    est, peak = _estimate_and_peak(name, steps, **options)
    assert peak <= est <= PEAK_FACTOR * peak, (peak, est)


def test_the_compressed_search_answers_the_large_kl_optimal_case() -> None:
    # the d = 1e5 case above measures the compressed search: no fallback to the full spectrum
    # (whose memory the estimate does not count)
    method = get_method("kl-optimal")
    opts = method.make_options(eigenvalues=SPECTRUM, sigma_min=0.002, sigma_max=80.0)
    assert method.build_with(12, opts).params["fell_back_to_full_spectrum"] is False


@pytest.mark.parametrize("name", sorted(METHODS))
def test_the_estimate_grows_with_the_steps(name: str) -> None:
    options: dict[str, Any] = {"model": "gaussian", "dim": 64} if name == "stein" else {}
    small, _ = _estimate(name, 20, **options)
    large, _ = _estimate(name, 2000, **options)
    assert 0 < small < large < float("inf")


@pytest.mark.parametrize(("name", "options"), SPECTRUM_CASES, ids=[c[0] for c in SPECTRUM_CASES])
def test_the_estimate_grows_with_the_spectrum(name: str, options: dict[str, Any]) -> None:
    small, _ = _estimate(name, 20, eigenvalues=SPECTRUM[:1000], **options)
    large, _ = _estimate(name, 20, eigenvalues=SPECTRUM, **options)
    assert 0 < small < large


@pytest.mark.parametrize("name", ["kl-optimal", "flow"])
def test_the_searches_name_the_eigenvalues_or_the_steps_whichever_drives_the_estimate(
    name: str,
) -> None:
    options: dict[str, Any] = dict(SPECTRUM_CASES)[name]
    assert _estimate(name, 10, eigenvalues=SPECTRUM, **options)[1] == "eigenvalues"
    assert _estimate(name, 100_000, eigenvalues=SPECTRUM[:10], **options)[1] == "steps"
    assert _estimate(name, 100_000, **options)[1] == "steps"  # no spectrum yet


def test_stein_names_the_option_that_drives_its_estimate() -> None:
    base = {"model": "gaussian", "dim": 64}
    assert _estimate("stein", 10, **base, samples=100_000)[1] == "samples"
    assert _estimate("stein", 10, **base, probe_levels=10**7)[1] == "probe_levels"
    assert _estimate("stein", 10, model="gaussian", dim=10**7)[1] == "dim"
    assert _estimate("stein", 10, model="gaussian", eigenvalues=SPECTRUM)[1] == "eigenvalues"
    # samples below the dimension: the (samples x d) arrays are counted under the dimension
    est_few, name_few = _estimate("stein", 10, model="gaussian", dim=10**6, samples=8)
    assert name_few == "dim"
    # and each (samples x d) array is counted: more samples, a larger estimate
    assert _estimate("stein", 10, model="gaussian", dim=10**6, samples=16)[0] > est_few


@pytest.mark.parametrize("bad", [[1.0, float("inf")], [1.0, 0.0], [1.0, -2.0], []])
def test_variational_leaves_an_invalid_spectrum_to_the_builders_refusal(bad: list[float]) -> None:
    # the guard runs first: it must not raise on a spectrum the builder refuses by name (an
    # infinite eigenvalue between finite ends once overflowed the quadrature's node count)
    method = get_method("variational")
    opts = method.make_options(eigenvalues=np.array(bad), sigma_min=0.002, sigma_max=80.0)
    assert method.memory_estimate(12, opts) == (0.0, "eigenvalues")
    with pytest.raises(ValueError, match="eigenvalues"):
        method.build_with(12, opts)


def test_the_sampler_aware_fallback_estimate_bounds_its_peak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a compressed spectrum far too coarse fails its check, so the search runs again on the
    # exact grouping; the size guard's estimate of that fallback (checked before it allocates)
    # must cover the peak of the whole call, DPM-Solver++(2M)'s Newton polish included
    from symsched.gaussian import compress, sampler_optimum

    real = compress.compress_spectrum
    monkeypatch.setattr(
        compress,
        "compress_spectrum",
        lambda lam, **_: real(lam, bin_width=6.0, nodes_per_bin=1),
    )
    seen: list[float] = []
    check = sampler_optimum.check_fallback_memory

    def spy(per_value: float, exact: Any, what: str) -> None:
        seen.append(per_value * exact.nodes.size)
        check(per_value, exact, what)

    monkeypatch.setattr(sampler_optimum, "check_fallback_memory", spy)
    lam = np.geomspace(1e-3, 30.0, 2000)
    sampler_optimum.sampler_optimal(lam[:4], 8, 0.002, 80.0, sampler="dpmpp-2m")  # warm
    seen.clear()
    with _measured() as peak:
        res = sampler_optimum.sampler_optimal(lam, 8, 0.002, 80.0, sampler="dpmpp-2m")
    assert res.fell_back and len(seen) == 1
    assert peak.bytes <= seen[0] <= PEAK_FACTOR * peak.bytes, (peak.bytes, seen[0])


def test_the_multistep_flag_is_the_linear_map_s_history() -> None:
    # the size guards read Sampler.multistep so as not to derive the map; it must say what the
    # derived map says
    from symsched.samplers import SAMPLERS

    checked = 0
    for smp in SAMPLERS.values():
        try:
            form = smp.linear_map_form()
        except NotImplementedError:
            continue
        assert smp.multistep == (form.history is not None), smp.name
        checked += 1
    assert checked >= 5 and any(s.multistep for s in SAMPLERS.values())
