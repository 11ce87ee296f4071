"""``run_claims`` with a previous run's timings: the claims start slowest first (unknown ones
first of all) and the results keep the registry's order; ``previous_timings`` reads a report's
``timings.json`` and is empty for anything else."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from symsched_verify.registry import Budget, Claim, Outcome
from symsched_verify.run import TIMINGS_FILE, previous_timings, run_claims


def _claim(cid: str) -> Claim:
    def check(budget: Budget) -> Outcome:
        return Outcome(True, f"{cid} ran.")

    return Claim(cid, "s", "src", "m", "t", "docs/verification.md#claims", check)


class Recording:
    """An in-order executor that records the order in which it was handed the claims."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def map(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        on_done: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        self.seen = [c.id for c in items]
        return [fn(c) for c in items]


def test_slowest_start_first_and_results_keep_the_input_order() -> None:
    claims = [_claim(c) for c in ("a.fast", "b.slow", "c.new", "d.mid")]
    ex = Recording()
    hint = {"a.fast": 0.5, "b.slow": 40.0, "d.mid": 3.0}
    results = run_claims(claims, Budget(), progress=False, executor=ex, expected_seconds=hint)
    assert ex.seen == ["c.new", "b.slow", "d.mid", "a.fast"]
    assert [r.claim.id for r in results] == ["a.fast", "b.slow", "c.new", "d.mid"]
    assert [r.outcome.measured for r in results] == [f"{c.id} ran." for c in claims]


def test_without_timings_the_registry_order_is_kept() -> None:
    claims = [_claim(c) for c in ("z", "y", "x")]
    ex = Recording()
    run_claims(claims, Budget(), progress=False, executor=ex)
    assert ex.seen == ["z", "y", "x"]


def test_previous_timings_reads_timings_json_and_nothing_else(tmp_path: Path) -> None:
    assert previous_timings(tmp_path) == {}
    (tmp_path / TIMINGS_FILE).write_text("not json")
    assert previous_timings(tmp_path) == {}
    rows = [{"id": "a", "status": "PASS", "seconds": 2.5}, {"id": "b", "seconds": 1}]
    (tmp_path / TIMINGS_FILE).write_text(json.dumps({"claims": rows}))
    assert previous_timings(tmp_path) == {"a": 2.5, "b": 1.0}


class Capturing(Recording):
    """Also keeps the provenance line the tasks would write into their figures."""

    line: str | None = None

    def map(
        self,
        fn: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        on_done: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        self.line = fn.provenance_line
        return super().map(fn, items, on_done=on_done)


def test_the_order_does_not_change_the_recorded_inputs_hash() -> None:
    claims = [_claim(c) for c in ("a", "b", "c")]
    plain, hinted = Capturing(), Capturing()
    run_claims(claims, Budget(), progress=False, executor=plain, command="symsched verify")
    run_claims(
        claims, Budget(), progress=False, executor=hinted, command="symsched verify",
        expected_seconds={"a": 1.0, "b": 9.0, "c": 5.0},
    )  # fmt: skip
    assert hinted.seen == ["b", "c", "a"]
    assert plain.line is not None and "inputs sha256" in plain.line and hinted.line == plain.line
