"""A test helper: the results of the sampler-aware search's bounded L-BFGS-B runs."""

from __future__ import annotations

from typing import Any

import pytest


def bounded_runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record the result of every bounded ``scipy.optimize.minimize`` run (the sampler-aware
    search passes ``bounds``; the DDIM start's search does not) for the rest of the test."""
    import scipy.optimize

    calls: list[Any] = []
    real = scipy.optimize.minimize

    def spy(*args: Any, **kwargs: Any) -> Any:
        res = real(*args, **kwargs)
        if "bounds" in kwargs:
            calls.append(res)
        return res

    monkeypatch.setattr(scipy.optimize, "minimize", spy)
    return calls
