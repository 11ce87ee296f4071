"""The standard-library executor (``symsched verify --jobs J``): results in input order, one
``on_done`` per task, single-threaded workers, the parent's environment left as it was, and a
task's exception raised here."""

from __future__ import annotations

import math
import os

import pytest

from symsched.parallel import InProcess, ProcessPool, usable_cores


def test_results_come_back_in_input_order_with_one_on_done_each() -> None:
    items = [7, 0, 12, 3, 5, 1]
    seen: list[tuple[int, int]] = []
    out = ProcessPool(2).map(math.factorial, items, on_done=lambda i, r: seen.append((i, r)))
    assert out == [math.factorial(x) for x in items] == InProcess().map(math.factorial, items)
    assert sorted(seen) == sorted(enumerate(out))


def test_workers_run_single_threaded_and_the_parent_environment_is_restored() -> None:
    before = os.environ.get("OMP_NUM_THREADS")
    assert ProcessPool(2).map(os.getenv, ["OMP_NUM_THREADS", "MKL_NUM_THREADS"]) == ["1", "1"]
    assert os.environ.get("OMP_NUM_THREADS") == before


def test_a_task_exception_is_raised_in_the_caller() -> None:
    with pytest.raises(ValueError, match="math domain error"):
        ProcessPool(2).map(math.sqrt, [4.0, -1.0])


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_worker_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="--jobs"):
        ProcessPool(bad)  # type: ignore[arg-type]


def test_no_items_start_no_pool() -> None:
    assert ProcessPool(3).map(math.factorial, []) == []
    assert usable_cores() >= 1
