"""Shared test configuration: hypothesis profiles, float64 torch, Agg plotting."""

from __future__ import annotations

import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# ci (default): deterministic, no example database, so CI runs are reproducible.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True,
                          max_examples=30, suppress_health_check=[HealthCheck.too_slow])
# dev: a few examples, fast local iteration.
settings.register_profile("dev", max_examples=10, deadline=None)
# nightly: many random examples (the "longer profile").
settings.register_profile("nightly", max_examples=500, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("SYMSCHED_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=["numpy", "torch"])
def backend(request: pytest.FixtureRequest) -> str:
    """Array backend of the fast numerics (torch runs in float64 on the CPU)."""
    if request.param == "torch":
        pytest.importorskip("torch")
    return str(request.param)
