"""The methods' memory estimates, which the size guard compares with the budget before anything
is allocated (docs/cli.md#size-guards): upper bounds of the measured peak, growing with the
request, naming the option that drives them."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from symsched.schedules import METHODS, get_method

RNG = np.random.default_rng(8)
SPECTRUM = np.exp(RNG.uniform(np.log(1e-3), np.log(10.0), 100_000))  # unsorted, log-uniform


def _estimate(name: str, steps: int, **options: Any) -> tuple[float, str]:
    method = get_method(name)
    return method.memory_estimate(steps, method.make_options(**options))


SPECTRUM_CASES: list[tuple[str, dict[str, Any]]] = [
    ("kl-optimal", {"sigma_min": 0.002, "sigma_max": 80.0}),
    ("flow", {"shift": "auto"}),
    ("variational", {"sigma_min": 0.002, "sigma_max": 80.0}),
]


@pytest.mark.parametrize(("name", "options"), SPECTRUM_CASES, ids=[c[0] for c in SPECTRUM_CASES])
def test_the_estimate_bounds_the_measured_peak_of_a_large_spectrum(
    name: str, options: dict[str, Any]
) -> None:
    # d = 1e5 with the DDIM defaults: numpy work only, which tracemalloc sees. The estimate
    # may be generous (a refusal at a few times the need is the documented side to err on) but
    # never below what the build really takes
    method = get_method(name)
    # a first small build derives and caches the method's functions (SymPy work, once per
    # process, not part of a request's size)
    method.build_with(12, method.make_options(eigenvalues=SPECTRUM[:500], **options))
    opts = method.make_options(eigenvalues=SPECTRUM, **options)
    est, _ = method.memory_estimate(12, opts)
    tracemalloc.start()
    try:
        sched = method.build_with(12, opts)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= est <= 10 * peak, (peak, est)
    if name == "kl-optimal":  # the compressed search answered: no fallback to budget for
        assert sched.params["fell_back_to_full_spectrum"] is False


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
