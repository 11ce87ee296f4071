"""Parameter sweeps (steps-needed, simulate) through the executor: identical in-process and on a
real Dask LocalCluster; a task whose worker dies is retried, none is lost or counted twice;
per-point seeds depend only on (seed, d, schedule); an unreachable scheduler is a one-line error,
exit 2."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from symsched.cli import main
from symsched.highdim import measure as ms
from symsched.highdim.search import (
    Point,
    feature_errors,
    steps_needed,
    steps_needed_sweep,
    task_seed,
)
from symsched.parallel import DaskExecutor, InProcess

distributed = pytest.importorskip(
    "distributed", reason="dask[distributed] is the distributed engine under test"
)
cloudpickle = pytest.importorskip("cloudpickle")  # ships with distributed

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/

CW = (("beta", 1.1), ("p", 0.8))  # beta = 1.1: small default sample counts, cheap
GRID = tuple(n for n in ms.SEARCH_GRID if n <= 32)


def _point(key: tuple[str, int], n: int) -> Point:
    schedule, d = key
    return Point("cw", CW, d, schedule, n, 3.0, 60, 7)


class DieOnce:
    """``feature_errors``, but kills its worker process the first time it runs point ``victim``."""

    def __init__(self, marker_dir: str, victim: str) -> None:
        self.marker_dir = marker_dir
        self.victim = victim

    def __call__(self, pt: Point) -> dict[str, float]:
        if pt.id == self.victim:
            marker = Path(self.marker_dir) / "died"
            if not marker.exists():
                marker.write_text(str(os.getpid()))
                os._exit(1)  # the worker dies mid-task
            (
                Path(self.marker_dir)
                / f"done-{os.getpid()}-{len(list(Path(self.marker_dir).iterdir()))}"
            ).write_text("")
        return feature_errors(pt)


@pytest.fixture(scope="module")
def cluster() -> DaskExecutor:
    ex = DaskExecutor(workers=2)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def in_process_sweep() -> dict:
    keys = [("vp-dilated", 16), ("ve-constant", 16), ("vp-constant", 36)]
    return steps_needed_sweep(keys, _point, 0.2, GRID, InProcess())


def test_task_seed_depends_on_d_and_schedule_not_on_n_or_model() -> None:
    a = Point("cw", CW, 100, "vp-dilated", 8, 3.0, 50, 5)
    assert (
        a.task_seed
        == Point("cw", (("beta", 1.1), ("p", 0.8)), 100, "vp-dilated", 64, 6.0, 900, 5).task_seed
    )
    assert (
        len(
            {
                a.task_seed,
                task_seed(5, 101, "vp-dilated"),
                task_seed(5, 100, "ve-dilated"),
                task_seed(6, 100, "vp-dilated"),
            }
        )
        == 4
    )
    with pytest.raises(ValueError, match="seed"):
        task_seed(-1, 100, "vp-dilated")


def test_lockstep_search_equals_the_sequential_search(in_process_sweep: dict) -> None:
    for key, (n, trace) in in_process_sweep.items():
        alone = steps_needed(lambda k, key=key: feature_errors(_point(key, k)), 0.2, GRID)
        assert (n, trace) == alone
        assert n is not None and n in GRID


@pytest.mark.integration  # starts a local Dask cluster (~10 s)
def test_steps_needed_sweep_on_dask_equals_in_process(
    cluster: DaskExecutor, in_process_sweep: dict
) -> None:
    seen: list[tuple[int, int]] = []
    out = steps_needed_sweep(
        list(in_process_sweep), _point, 0.2, GRID, cluster, on_done=lambda k, s: seen.append((k, s))
    )
    assert out == in_process_sweep  # bit-identical errors, traces and N
    n_evals = sum(len(trace) for _, trace in out.values())
    assert [k for k, _ in seen] == list(range(1, n_evals + 1)) and seen[-1][
        1
    ] == n_evals  # progress per finished task


def test_dead_worker_in_a_sweep_is_retried_nothing_lost_or_doubled(
    cluster: DaskExecutor, in_process_sweep: dict, tmp_path: Path
) -> None:
    victim = _point(("ve-constant", 16), 5).id  # evaluated in the third galloping round
    out = steps_needed_sweep(
        list(in_process_sweep), _point, 0.2, GRID, cluster, evaluate=DieOnce(str(tmp_path), victim)
    )
    assert (tmp_path / "died").exists()  # the worker really died
    assert out == in_process_sweep
    assert (
        len(list(tmp_path.glob("done-*"))) == 1
    )  # the killed task completed exactly once, after the retry
    _, trace = out[("ve-constant", 16)]
    assert [t["steps"] for t in trace].count(5) == 1


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_steps_needed_cli_on_a_scheduler_equals_in_process(
    cluster: DaskExecutor, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "steps-needed",
        "cw",
        "--beta",
        "1.1",
        "--schedule",
        "vp-dilated,ve-constant",
        "--dims",
        "16,25",
        "--tolerance",
        "0.25",
        "--max-steps",
        "16",
        "--seed",
        "3",
        "--json",
        "--no-progress",
    ]
    here = _json(capsys, *argv)
    there = _json(capsys, *argv, "--scheduler", cluster.client.scheduler.address)
    assert here == there
    assert set(here["results"]) == {"vp-dilated", "ve-constant"}
    assert here["results"]["ve-constant"]["task_seeds"]["16"] == task_seed(3, 16, "ve-constant")


def test_simulate_sweep_on_local_cluster_equals_in_process_and_single_runs(
    cluster: DaskExecutor, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "simulate",
        "cw",
        "--dim",
        "16,25",
        "--steps",
        "4,8",
        "--schedule",
        "vp-dilated",
        "--samples",
        "40",
        "--seed",
        "2",
        "--json",
        "--no-progress",
    ]
    here = _json(capsys, *argv)
    there = _json(capsys, *argv, "--scheduler", cluster.client.scheduler.address)
    assert here == there and len(here["runs"]) == 4
    single = _json(
        capsys,
        "simulate",
        "cw",
        "--dim",
        "25",
        "--steps",
        "8",
        "--schedule",
        "vp-dilated",
        "--samples",
        "40",
        "--seed",
        "2",
        "--json",
        "--no-progress",
    )
    assert single == here["runs"][3]  # a point gives the same numbers alone as inside a sweep
    assert single["task_seed"] == task_seed(2, 25, "vp-dilated")


def test_unreachable_scheduler_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    command = ["simulate", "gm", "--dim", "100,1000", "--steps", "8", "--schedule", "vp-constant"]
    code = main([*command, "--scheduler", "tcp://127.0.0.1:9", "--no-progress"])
    _, err = capsys.readouterr()
    assert (
        code == 2 and len(err.strip().splitlines()) == 1 and "--scheduler tcp://127.0.0.1:9" in err
    )


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (
            [
                "simulate",
                "cw",
                "--dim",
                "100",
                "--steps",
                "8",
                "--schedule",
                "vp-dilated",
                "--seed",
                "-1",
            ],
            "--seed",
        ),
        (
            ["simulate", "cw", "--dim", "100", "--steps", "8,0", "--schedule", "vp-dilated"],
            "--steps",
        ),
        (
            ["simulate", "cw", "--dim", "100", "--steps", "8", "--schedule", "vp-dilated,bogus"],
            "--schedule",
        ),
        (
            [
                "simulate",
                "gm",
                "--dim",
                "100,1000",
                "--steps",
                "8",
                "--schedule",
                "vp-dilated",
                "--plot",
                "x.png",
            ],
            "--plot",
        ),
        (
            ["steps-needed", "cw", "--schedule", "vp-dilated", "--dims", "100", "--workers", "0"],
            "--workers",
        ),
        (
            ["steps-needed", "cw", "--schedule", "ve-dilated", "--dims", "100", "--kappa", "11"],
            "--kappa",
        ),
        (
            [
                "steps-needed",
                "cw",
                "--schedule",
                "ve-dilated",
                "--dims",
                "100",
                "--samples",
                "1000",
            ],
            "--samples",
        ),
    ],
)
def test_bad_sweep_input_is_exit_2_naming_the_argument(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
