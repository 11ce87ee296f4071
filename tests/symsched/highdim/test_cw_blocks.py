"""The full Curie-Weiss simulation steps blocks of rows through the whole grid in the cache: its
results (final statistics and recorded trajectories) are the same bits whatever the block size,
and the progress callback reaches the total number of steps once per chunk."""

from __future__ import annotations

import numpy as np
import pytest

from symsched.highdim import simulate as sim
from symsched.highdim.cw import CurieWeiss
from symsched.highdim.schedules import tau_grid

FIELDS = (
    "magnetization",
    "sign_magnetization",
    "minority_fraction",
    "within_var",
    "distance_to_spins",
    "trajectories",
)


def _run(monkeypatch: pytest.MonkeyPatch, block: int, calls: list[int]) -> sim.CWRun:
    monkeypatch.setattr(sim, "_BLOCK_ELEMENTS", block)
    model = CurieWeiss(beta=1.1, dim=50)
    grid = tau_grid("vp-constant", 12, 50)
    return sim.cw_full(
        model, grid, 1.0, samples=300, seed=7, record=37, chunk_elements=50 * 128,
        callback=calls.append,
    )  # fmt: skip


def test_results_do_not_depend_on_the_block_size(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = [_run(monkeypatch, block, []) for block in (50, 50 * 7, 10**9)]
    for f in FIELDS:
        ref = getattr(runs[0], f)
        assert ref.size > 0 and all(np.array_equal(getattr(r, f), ref) for r in runs[1:]), f


def test_progress_reaches_every_chunks_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    _run(monkeypatch, 50 * 7, calls)
    chunks = -(-300 // 128)  # 128 rows per chunk
    assert calls == sorted(calls) and calls[-1] == 12 * chunks
    assert [c for c in calls if c % 12 == 0][-chunks:] == [12 * (k + 1) for k in range(chunks)]
