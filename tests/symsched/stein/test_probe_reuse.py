"""The probe estimate of one Stein build reused by the exporters' (N-1)-step rebuild: the same
levels as a fresh build, and ignored whenever the probe grid or the draws would differ."""

from __future__ import annotations

import numpy as np
import pytest

from symsched import build
from symsched.models import load_model
from symsched.stein import _schedule as S
from symsched.stein import stein_schedule

pytest.importorskip("torch")


@pytest.mark.parametrize("estimator", ["exact", "monte-carlo", "jvp"])
def test_ending_at_zero_equals_a_fresh_shorter_build(
    estimator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opts = {"model": "two-point", "estimator": estimator, "samples": 8, "probe_levels": 48}
    ten = build("stein", 10, **opts)
    calls: list[int] = []
    real = S.estimate_costs

    def counted(*args: object, **kw: object) -> object:
        calls.append(np.size(args[1]))
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(S, "estimate_costs", counted)
    exported = ten.ending_at_zero
    assert calls == [10]  # only the 9 output intervals' costs: the 48 probe intervals are reused
    monkeypatch.undo()
    nine = build("stein", 9, **opts)  # its own options object: estimated afresh
    assert exported.sigmas[-1] == 0.0
    assert np.array_equal(exported.sigmas[:-1], nine.sigmas)


def test_reuse_is_taken_only_for_the_same_grid_and_draws() -> None:
    model = load_model("two-point")
    first = stein_schedule(model, 6, estimator="monte-carlo", samples=8, probe=48, seed=3)
    # the same call again: the probe numbers are taken as they are
    again = stein_schedule(
        model, 5, estimator="monte-carlo", samples=8, probe=48, seed=3, reuse=first.probe
    )
    assert again.probe is first.probe
    # another seed, sample count or probe grid would draw other numbers: estimated afresh, and
    # equal to a run without reuse
    for kw in ({"seed": 4}, {"samples": 12}, {"probe": 64}):
        args = {"estimator": "monte-carlo", "samples": 8, "probe": 48, "seed": 3, **kw}
        got = stein_schedule(model, 5, reuse=first.probe, **args)  # type: ignore[arg-type]
        fresh = stein_schedule(model, 5, **args)  # type: ignore[arg-type]
        assert got.probe is not first.probe
        assert np.array_equal(got.schedule.sigmas, fresh.schedule.sigmas)
