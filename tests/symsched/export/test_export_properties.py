"""Exporter properties over hypothesis-drawn grids (symsched_verify.strategies)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symsched.export import FORMATS, export, flow_levels, flow_sigmas
from symsched.schedules import Schedule
from symsched.schedules.discrete import TRAIN_SCHEDULES, timesteps_for_grid, training_table
from symsched_verify import strategies as sst
from symsched_verify import tolerances as tol


@given(sst.grids(max_steps=30, to_zero=True), st.floats(0.2, 8.0))
def test_flow_export_round_trips_through_the_scheduler_shift(
    grid: np.ndarray, shift: float
) -> None:
    # explicit grids end at 0 here (one ending above 0 is refused: nothing can rebuild it with N-1
    # steps; tests/symsched/export/test_steps.py)
    ex = export(Schedule("x", grid), "flow-matching", shift=shift)
    t = np.array(json.loads(ex.text))
    assert t.size == grid.size - 1  # N values: the scheduler appends the 0, N steps
    assert np.all((t > 0) & (t <= 1)) and np.all(np.diff(t) < 0)
    shifted = shift * t / (1 + (shift - 1) * t)  # diffusers' map, transcribed
    want = grid[: t.size]
    fin = np.isfinite(want)
    assert np.array_equal(np.isinf(flow_levels(shifted)), ~fin)
    np.testing.assert_allclose(flow_levels(shifted)[fin], want[fin], rtol=tol.CONSUMER_LEVEL_RTOL)
    np.testing.assert_array_equal(ex.levels[: t.size], want)


@given(st.sampled_from(TRAIN_SCHEDULES), st.data())
def test_timesteps_are_unique_in_range_or_refused(name: str, data: st.DataObject) -> None:
    table = training_table(name)
    lo, hi = float(table.sigmas[0]), float(table.sigmas[-1])
    n = data.draw(st.integers(1, 60))
    logs = sorted(
        data.draw(
            st.lists(
                st.floats(math.log(lo), math.log(hi)), min_size=n + 1, max_size=n + 1, unique=True
            )
        ),
        reverse=True,
    )
    grid = np.exp(np.array(logs))
    if not np.all(np.diff(grid) < 0):
        return
    try:
        ts = timesteps_for_grid(grid, table)
    except ValueError as exc:
        assert "both round to training timestep" in str(exc)
        frac = np.interp(np.log(grid), np.log(table.sigmas), np.arange(1000.0))
        assert np.any(np.diff(np.rint(frac)) >= 0)  # refused only when two levels really collide
        return
    t = np.array(ts.timesteps)
    assert t.size == n + 1 and np.all(np.diff(t) < 0) and t[0] <= 999 and t[-1] >= 0
    # rounding to the nearest timestep moves a level by at most half a table step (in log sigma)
    half = 0.5 * np.max(np.diff(np.log(table.sigmas)))
    assert np.all(np.abs(np.log(ts.realised[:-1] / grid)) <= half * (1 + 1e-9))


def test_every_format_states_its_convention() -> None:
    sch = Schedule("x", np.array([14.6, 3.0, 0.5, 0.03, 0.0]))
    for fmt in FORMATS:
        ex = export(sch, fmt)
        assert ex.note.startswith(fmt.split("-")[0]) and ex.text
        assert "4 steps, the last to 0: NFE 4 (" in ex.note and ex.nfe["heun"] == 7


def test_flow_sigmas_rejects_bad_shift() -> None:
    with pytest.raises(ValueError, match="shift"):
        flow_sigmas(np.array([1.0]), 0.0)
