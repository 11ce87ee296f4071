r"""Executors: where claim checks and parameter sweeps run.

* :class:`InProcess` (default): in order, in this process.
* :class:`ProcessPool`: ``K`` single-threaded worker processes on this machine (standard library
  only; ``symsched verify --jobs K``, by default one per usable core).
* :class:`DaskExecutor`: Dask distributed, on an existing scheduler (``--scheduler ADDRESS``) or a
  :class:`distributed.LocalCluster` of ``K`` single-threaded worker processes (``--workers K``).

Both return results **in the order of the inputs**, one per input: a task is a pure function of its
input (every check draws its randomness from ``Budget.seed``), so the distributed run is identical
to the in-process one. Dask re-runs a task whose worker died (up to ``retries`` times, and
``distributed.scheduler.allowed-failures`` for worker deaths); results are gathered by task key, so
a re-run task is counted once and none is lost (tested with a real ``LocalCluster``).

Users: ``symsched verify`` (one task per claim), ``symsched steps-needed`` (one task per ``(d,
schedule, N)`` point of each search round, :func:`symsched.highdim.search.steps_needed_sweep`),
``symsched simulate`` with comma-separated ``--dim/--steps/--schedule`` (one task per run) and
``symsched sweep`` (one task per ``(spectrum, N, method, sampler)`` point,
:func:`symsched.cli._sweep.evaluate`). The commands build theirs with :mod:`symsched.cli._executor`.

``dask[distributed]`` is imported only when a Dask executor is asked for.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, Protocol, TypeVar

__all__ = [
    "DaskExecutor",
    "Executor",
    "InProcess",
    "ProcessPool",
    "make_executor",
    "sweep",
    "usable_cores",
]

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Maps a function over inputs, returning the results in input order."""

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        on_done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """``[fn(item) for item in items]``, wherever the tasks run.

        Parameters
        ----------
        fn
            A pure function of one input (picklable for a distributed executor).
        items
            The inputs.
        on_done
            Called as ``on_done(index, result)`` when each task finishes (in completion order).

        Returns
        -------
        list
            One result per input, in input order.
        """
        ...

    def close(self) -> None:
        """Release the executor's resources (workers, connections)."""
        ...


class InProcess:
    """Run every task here, in order."""

    name = "in-process"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        on_done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """``[fn(item) for item in items]``, in order, in this process.

        Parameters
        ----------
        fn
            A function of one input.
        items
            The inputs.
        on_done
            Called as ``on_done(index, result)`` after each task.

        Returns
        -------
        list
            One result per input, in input order.
        """
        out: list[R] = []
        for i, item in enumerate(items):
            out.append(fn(item))
            if on_done is not None:
                on_done(i, out[-1])
        return out

    def close(self) -> None:
        """Nothing to release."""
        return None


def usable_cores() -> int:
    """The number of CPU cores this process may use (its affinity mask, else ``os.cpu_count``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: Thread-count variables a worker inherits, read by numpy's BLAS and torch when they load: K
#: workers on K cores, one thread each (more would oversubscribe the cores).
_ONE_THREAD = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class ProcessPool:
    """Run tasks on ``K`` local worker processes (``spawn``: fresh interpreters, no fork of a
    process that already holds threads), each single-threaded.

    Tasks go to the workers in input order as they free up; results come back in input order. A
    task that raises re-raises here. Standard library only (:mod:`concurrent.futures`).

    Parameters
    ----------
    workers
        Number of worker processes (>= 1).

    Raises
    ------
    ValueError
        If ``workers < 1``.
    """

    name = "process-pool"

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or int(workers) != workers or workers < 1:
            raise ValueError(f"--jobs must be an integer >= 1, got {workers!r}")
        self.workers = int(workers)
        self.where = f"{self.workers} local processes x 1 thread"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        on_done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """``[fn(item) for item in items]`` on the worker processes.

        Parameters
        ----------
        fn
            A picklable pure function of one input.
        items
            The inputs (picklable).
        on_done
            Called as ``on_done(index, result)`` as each task finishes (completion order).

        Returns
        -------
        list
            One result per input, in input order.
        """
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        if not items:
            return []
        saved = {k: os.environ.get(k) for k in _ONE_THREAD}
        # set while the pool lives: workers are spawned on demand, each inheriting it
        os.environ.update(dict.fromkeys(_ONE_THREAD, "1"))
        results: dict[int, R] = {}
        try:
            with ProcessPoolExecutor(
                max_workers=min(self.workers, len(items)),
                mp_context=multiprocessing.get_context("spawn"),
            ) as pool:
                index = {pool.submit(_Quiet(fn), item): i for i, item in enumerate(items)}
                pending = set(index)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in sorted(done, key=index.__getitem__):
                        results[index[fut]] = fut.result()
                        if on_done is not None:
                            on_done(index[fut], results[index[fut]])
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        return [results[i] for i in range(len(items))]

    def close(self) -> None:
        """Nothing to release: each :meth:`map` closes its pool."""
        return None


class DaskExecutor:
    """Run tasks on Dask distributed.

    Parameters
    ----------
    address
        Address of a running scheduler (``tcp://host:8786``); ``None`` starts a LocalCluster.
    workers
        Number of LocalCluster worker processes (one thread each) when ``address`` is ``None``.
    retries
        Extra attempts for a task that raised or whose worker died.
    timeout
        Seconds to wait for the scheduler before giving up.

    Raises
    ------
    ValueError
        If ``workers < 1``, or the scheduler at ``address`` cannot be reached (with the fix).
    """

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        *,
        retries: int = 2,
        timeout: float = 5.0,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError(
                "--scheduler / --workers need dask; install it with pip install 'symsched[dask]'"
            ) from None

        self._cluster = None
        self.retries = int(retries)
        if address is None:
            k = 1 if workers is None else int(workers)
            if k < 1:
                raise ValueError(f"--workers must be >= 1, got {workers}")
            self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=k,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=40,
            )
            self.client = Client(self._cluster)  # type: ignore[no-untyped-call]
            self.where = f"LocalCluster({k} workers x 1 thread)"
        else:
            try:
                self.client = Client(address, timeout=timeout)  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError) as exc:
                raise ValueError(
                    f"--scheduler {address}: no Dask scheduler reachable ({type(exc).__name__}); "
                    "start one with `dask scheduler` and pass its tcp:// address, or use "
                    "--workers K for a local cluster"
                ) from None
            self.where = f"scheduler {address}"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        on_done: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """``[fn(item) for item in items]`` on the Dask workers, gathered by task key.

        Parameters
        ----------
        fn
            A picklable pure function of one input (run with warnings ignored on the workers).
        items
            The inputs.
        on_done
            Called as ``on_done(index, result)`` as each task finishes (completion order); a task
            re-run after a worker death is reported once.

        Returns
        -------
        list
            One result per input, in input order.

        Raises
        ------
        RuntimeError
            If a task produced no result.
        Exception
            Whatever ``fn`` raised, once its retries are exhausted.
        """
        from distributed import as_completed

        batch = uuid.uuid4().hex[:12]  # fresh keys per call: a rerun never reuses an old future
        futures = [
            self.client.submit(
                _Quiet(fn),
                item,
                key=f"symsched-{batch}-{i}-{_label(item)}",
                retries=self.retries,
                pure=False,
            )
            for i, item in enumerate(items)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        results: dict[int, R] = {}
        for fut in as_completed(futures):  # type: ignore[no-untyped-call]
            i = index[fut.key]
            if i in results:  # never count a task twice
                continue
            results[i] = fut.result()
            if on_done is not None:
                on_done(i, results[i])
        missing = [i for i in range(len(items)) if i not in results]
        if missing:
            raise RuntimeError(f"tasks {missing} produced no result")
        return [results[i] for i in range(len(items))]

    def close(self) -> None:
        """Close the client and, if this executor started one, the LocalCluster."""
        self.client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()


class _Quiet(Generic[T, R]):
    """``fn`` run with warnings ignored: a worker process prints a warning straight to the
    terminal (the one-line display of :func:`symsched.cli.main` covers only this process)."""

    def __init__(self, fn: Callable[[T], R]) -> None:
        self.fn = fn

    def __call__(self, item: T) -> R:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.fn(item)


def _label(item: object) -> str:
    """A readable, key-safe label for a task (the claim id when the item is a claim)."""
    label = str(getattr(item, "id", "") or type(item).__name__)
    return "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in label)[:60]


def make_executor(scheduler: str | None = None, workers: int | None = None) -> Executor:
    """The executor the ``verify`` options ask for: in-process unless ``scheduler`` or ``workers``.

    Parameters
    ----------
    scheduler
        Address of a running Dask scheduler (``--scheduler``).
    workers
        Number of LocalCluster workers (``--workers``).

    Returns
    -------
    Executor
        :class:`InProcess` when neither is given, else a :class:`DaskExecutor`.

    Raises
    ------
    ValueError
        If both are given, ``workers < 1``, dask is missing or the scheduler is unreachable.
    """
    if scheduler is not None and workers is not None:
        raise ValueError("pass either --scheduler ADDRESS or --workers K, not both")
    if scheduler is None and workers is None:
        return InProcess()
    return DaskExecutor(scheduler, workers)


def sweep(fn: Callable[[T], R], grid: Iterable[T], executor: Executor | None = None) -> list[R]:
    """Evaluate ``fn`` on every point of a parameter ``grid`` (e.g. spectra x N x methods).

    Parameters
    ----------
    fn
        A pure function of one point.
    grid
        The points.
    executor
        Where the points run (default :class:`InProcess`).

    Returns
    -------
    list
        One result per point, in order.
    """
    ex = executor if executor is not None else InProcess()
    return ex.map(fn, list(grid))
