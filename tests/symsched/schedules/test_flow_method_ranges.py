"""The ``flow`` method's option ranges, at their ends (docs/cli.md; [esser2024, §5.3.2] for the
shift): each end accepted, just beyond refused with the range in the message."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from symsched.schedules import get_method

FLOW = get_method("flow")
LAM = np.array([0.05, 0.3, 1.0, 2.65])


def _build(steps: int = 6, **options: Any) -> Any:
    return FLOW.build_with(steps, FLOW.make_options(**options))


@pytest.mark.parametrize("exponent", [0.05, 20.0])
def test_the_exponent_range_includes_its_ends(exponent: float) -> None:
    sched = _build(mu="0.5", exponent=exponent)
    assert sched.params["exponent"] == exponent and sched.sigmas[0] == math.inf


@pytest.mark.parametrize("exponent", [0.0499, 20.01, math.inf])
def test_an_exponent_outside_its_range_is_refused(exponent: float) -> None:
    with pytest.raises(ValueError, match=r"exponent must be in \[0.05, 20\]"):
        _build(mu="0.5", exponent=exponent)


@pytest.mark.parametrize("mu", [-9.21, 9.21])
def test_the_mu_range_includes_its_ends(mu: float) -> None:
    assert _build(mu=str(mu)).params["mu"] == mu


@pytest.mark.parametrize("mu", [-9.2101, 9.2101])
def test_a_mu_outside_its_range_is_refused(mu: float) -> None:
    with pytest.raises(ValueError, match=r"mu must be in \[-9.21, 9.21\]"):
        _build(mu=str(mu))


def test_a_shift_must_be_positive_and_a_tiny_one_is_a_shift() -> None:
    with pytest.raises(ValueError, match="shift must be a number > 0"):
        _build(shift="0")
    assert _build(shift="1e-3").params["shift"] == 1e-3


@pytest.mark.parametrize("resolution", [16, 16384])
def test_the_resolution_range_includes_its_ends(resolution: int) -> None:
    sched = _build(eigenvalues=LAM, shift="3", resolution=resolution)
    assert sched.params["rules"]


@pytest.mark.parametrize("resolution", [15, 16385])
def test_a_resolution_outside_its_range_is_refused(resolution: int) -> None:
    with pytest.raises(ValueError, match=r"resolution must be in \[16, 16384\]"):
        _build(eigenvalues=LAM, shift="3", resolution=resolution)


def test_a_given_shift_scores_two_steps_and_refuses_one_on_a_spectrum() -> None:
    two = _build(2, eigenvalues=LAM, shift="3")
    assert two.sigmas.size == 3 and two.params["objective_value"] > 0
    with pytest.raises(ValueError, match="steps must be >= 2"):
        _build(1, eigenvalues=LAM, shift="3")
    assert _build(1, shift="3").sigmas.size == 2  # without a spectrum, one step is a grid


def test_the_objective_defaults_to_the_samplers_own() -> None:
    from symsched.gaussian.sampler_optimum import default_objective

    for sampler in ("ddim", "dpmpp-2m", "flow-heun"):
        sched = _build(eigenvalues=LAM, shift="3", sampler=sampler)
        assert sched.params["objective"] == default_objective(sampler)
