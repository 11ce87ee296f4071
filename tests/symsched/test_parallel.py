"""Executors: in-process and Dask distributed give identical results; a dying worker is retried,
nothing is lost or counted twice; an unreachable scheduler is a one-line error, exit 2."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from symsched.cli import main
from symsched.parallel import DaskExecutor, InProcess, make_executor, sweep

distributed = pytest.importorskip(
    "distributed", reason="dask[distributed] is the distributed engine under test"
)
import cloudpickle  # noqa: E402  (after the importorskip of distributed, which brings it)

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/


def square_plus(x: int) -> tuple[int, int]:
    return x, x * x + 1


class DieOnce:
    """Kills its worker process the first time it runs item ``victim`` (marker file), then works."""

    def __init__(self, marker_dir: str, victim: int) -> None:
        self.marker_dir = marker_dir
        self.victim = victim

    def __call__(self, x: int) -> tuple[int, int]:
        if x == self.victim:
            marker = Path(self.marker_dir) / "died"
            if not marker.exists():
                marker.write_text(str(os.getpid()))
                os._exit(1)  # the worker dies mid-task
        (Path(self.marker_dir) / f"done-{x}-{os.getpid()}").write_text("")
        return x, x * x + 1


@pytest.fixture(scope="module")
def dask_executor() -> DaskExecutor:
    ex = DaskExecutor(workers=2)
    yield ex
    ex.close()


def test_sweep_in_process_equals_dask(dask_executor: DaskExecutor) -> None:
    grid = list(range(12))
    assert (
        sweep(square_plus, grid)
        == sweep(square_plus, grid, dask_executor)
        == [square_plus(x) for x in grid]
    )


def test_dead_worker_is_retried_nothing_lost_or_doubled(
    dask_executor: DaskExecutor, tmp_path: Path
) -> None:
    seen: list[int] = []
    items = list(range(8))
    out = dask_executor.map(
        DieOnce(str(tmp_path), victim=3), items, on_done=lambda i, r: seen.append(i)
    )
    assert (tmp_path / "died").exists()  # the worker really died
    assert out == [square_plus(x) for x in items]
    assert sorted(seen) == items  # each result reported exactly once
    done = sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("done-*"))
    assert done.count(3) == 1  # the killed task completed once, after the retry


@pytest.mark.integration  # a local Dask cluster and a process pool run the same claims (~11 s)
def test_claims_on_local_cluster_and_process_pool_match_in_process(tmp_path: Path) -> None:
    """symsched verify --workers 2 (Dask) and --jobs 2 (local processes) rewrite the in-process
    report (--jobs 1) bit for bit, same arguments; only timings.json (wall times) may differ."""
    from symsched_verify.run import TIMINGS_FILE

    out = tmp_path / "r"
    only = "tangent.[Jk]*"

    def files() -> dict[Path, bytes]:
        return {
            p.relative_to(out): p.read_bytes()
            for p in out.rglob("*")
            if p.is_file() and p.name != TIMINGS_FILE
        }

    assert main(["verify", "--only", only, "--out", str(out), "--jobs", "1"]) == 0
    before = files()
    assert len(json.loads(before[Path("results.json")])["claims"]) == 2
    assert any(k.suffix == ".png" for k in before)  # figures are compared too
    for executor in (["--workers", "2"], ["--jobs", "2"]):
        assert main(["verify", "--only", only, "--out", str(out), *executor, "--force"]) == 0
        after = files()
        assert before.keys() == after.keys()
        assert [k for k in before if before[k] != after[k]] == [], executor
    where = json.loads((out / TIMINGS_FILE).read_text())["executor"]
    assert where == "2 local processes x 1 thread"


def test_unreachable_scheduler_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "verify",
            "--only",
            "tangent.J-*",
            "--out",
            str(tmp_path / "r"),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ]
    )
    _, err = capsys.readouterr()
    assert (
        code == 2 and len(err.strip().splitlines()) == 1 and "--scheduler tcp://127.0.0.1:9" in err
    )


def test_executor_choice() -> None:
    assert isinstance(make_executor(), InProcess)
    with pytest.raises(ValueError, match=r"--scheduler.*--workers|either"):
        make_executor("tcp://x:1", 2)
    with pytest.raises(ValueError, match="--workers"):
        DaskExecutor(workers=0)


def test_verify_on_an_existing_scheduler_address(
    dask_executor: DaskExecutor, tmp_path: Path
) -> None:
    """--scheduler ADDRESS: the checks run on a running cluster and give the in-process results."""
    address = dask_executor.client.scheduler.address
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["verify", "--only", "tangent.J-*", "--out", str(a)]) == 0
    assert main(["verify", "--only", "tangent.J-*", "--out", str(b), "--scheduler", address]) == 0
    ra, rb = (json.loads((d / "results.json").read_text()) for d in (a, b))
    assert ra["claims"] == rb["claims"] and ra["inputs_sha256"] == rb["inputs_sha256"]
