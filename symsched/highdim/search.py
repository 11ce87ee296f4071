r"""Parameter sweeps of the high-dimensional study through an executor, and the steps-needed search.

A sweep point is a :class:`Point` ``(model, parameters, d, schedule, N, kappa, samples, seed)``;
:func:`feature_errors` (``steps-needed``) and :func:`simulate_point` (``simulate``) are pure
functions of it, so they can be mapped through any :mod:`symsched.parallel` executor (in-process,
a Dask ``LocalCluster`` or a running scheduler) and give bit-identical results.

Seeds. A point draws its randomness from :func:`task_seed` ``(seed, d, schedule)``: a
:class:`numpy.random.SeedSequence` of the base seed and the point's dimension and schedule (a
CRC-32 of the name, stable across processes). It does **not** depend on ``N``, on the model
parameters or on ``kappa``: every ``N`` of one steps-needed search starts from the same
``X_0`` (common random numbers, so the Monte Carlo errors of neighbouring ``N`` are correlated and
the search sees a smooth error curve), and so do runs that differ only in ``beta``, ``p`` or
``kappa``. It does not depend on where the point runs, nor on which other points share the sweep.

Steps needed (docs/theory/highdim.md#steps-needed). :func:`steps_needed` finds the smallest ``N`` of
a grid (by default :data:`~symsched.highdim.measure.SEARCH_GRID`) whose two feature errors are
within the tolerance, by galloping then bisection. :func:`search_steps` is that search written as a
generator (it yields the ``N`` it wants next and receives its errors), so that
:func:`steps_needed_sweep` can advance every ``(d, schedule)`` search by one step per round and
evaluate the round's points in parallel. Each search sees exactly the errors it would see alone, so
the result does not depend on the executor. The dependency is one-way: this module uses
:mod:`symsched.highdim.measure` (statistics and feature errors), which does not import it.

References: [aranguri2025, §5.2] (Aranguri, Biroli, Mézard, Vanden-Eijnden, arXiv 2501.00988);
page docs/theory/highdim.md#steps-needed.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator, Hashable, Sequence
from dataclasses import dataclass
from typing import TypedDict, TypeVar

import numpy as np

from symsched._typing import FloatArray, JSONDict
from symsched.highdim import measure as ms
from symsched.highdim import simulate as sim
from symsched.highdim.cw import CurieWeiss
from symsched.highdim.gm import GaussianMixture
from symsched.parallel import Executor, InProcess

__all__ = [
    "Point",
    "SearchGen",
    "SearchResult",
    "SearchTrace",
    "SimulateResult",
    "build",
    "feature_errors",
    "search_steps",
    "simulate_point",
    "steps_needed",
    "steps_needed_sweep",
    "task_seed",
]

K = TypeVar("K", bound=Hashable)

SearchTrace = list[dict[str, float]]
"""The evaluated points of a search, in order: ``{"steps": N, **errors}`` each."""

SearchResult = tuple[int | None, SearchTrace]
"""``(N, trace)``: the smallest ``N`` meeting the tolerance (``None`` if none does)."""

SearchGen = Generator[int, dict[str, float], SearchResult]
"""A search as a generator: yields ``N``, receives its errors, returns a :data:`SearchResult`."""


def task_seed(seed: int, dim: int, schedule: str) -> int:
    """Seed of the sweep point ``(d, schedule)`` under base ``seed`` (a 32-bit integer).

    Parameters
    ----------
    seed
        Base seed (>= 0).
    dim
        Dimension of the point.
    schedule
        Schedule name (enters as its CRC-32).

    Returns
    -------
    int
        The first word of ``SeedSequence([seed, dim, crc32(schedule)])``.

    Raises
    ------
    ValueError
        If ``seed`` is negative (``SeedSequence`` entropy must be non-negative).
    """
    if int(seed) < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed}")
    key = [int(seed), int(dim), zlib.crc32(schedule.encode())]
    return int(np.random.SeedSequence(key).generate_state(1)[0])


@dataclass(frozen=True)
class Point:
    """One point of a sweep: model, dimension, schedule, steps and Monte Carlo setup.

    Parameters
    ----------
    model
        ``"gm"`` or ``"cw"``.
    params
        Model parameters as a sorted tuple of ``(name, value)`` pairs (hashable and picklable).
    dim, schedule, steps, kappa
        Dimension, schedule name, number of steps and dilated-window width.
    samples, seed
        Monte Carlo samples and base seed (the point draws from :attr:`task_seed`).
    simulator, record
        ``reduced`` or ``full``, and the number of recorded trajectories; they only matter to
        :func:`simulate_point`.
    """

    model: str
    params: tuple[tuple[str, float], ...]
    dim: int
    schedule: str
    steps: int
    kappa: float = 3.0
    samples: int = 1000
    seed: int = 0
    simulator: str = "reduced"
    record: int = 0

    @property
    def id(self) -> str:
        """Readable task label (used in Dask task keys)."""
        return f"{self.model}-{self.schedule}-d{self.dim}-N{self.steps}"

    @property
    def task_seed(self) -> int:
        """The point's seed, :func:`task_seed` of ``(seed, dim, schedule)``."""
        return task_seed(self.seed, self.dim, self.schedule)


def build(pt: Point) -> GaussianMixture | CurieWeiss:
    """The model of a point (``gm``: ``p, m, mode_sigma``; ``cw``: ``beta, p``).

    Parameters
    ----------
    pt
        The sweep point.

    Returns
    -------
    GaussianMixture or CurieWeiss

    Raises
    ------
    ValueError
        If ``pt.model`` is neither ``gm`` nor ``cw``.
    KeyError
        If a parameter of the model is missing from ``pt.params``.
    """
    kw = dict(pt.params)
    if pt.model == "gm":
        return GaussianMixture(p=kw["p"], m=kw["m"], mode_sigma=kw["mode_sigma"], dim=pt.dim)
    if pt.model == "cw":
        return CurieWeiss(beta=kw["beta"], p=kw["p"], dim=pt.dim)
    raise ValueError(f"model must be 'gm' or 'cw', got {pt.model!r}")


def feature_errors(pt: Point) -> dict[str, float]:
    """The two feature errors of a point (a steps-needed task).

    Parameters
    ----------
    pt
        The sweep point.

    Returns
    -------
    dict of str to float
        GM: Monte-Carlo-free Euler errors (:func:`~symsched.highdim.measure.gm_errors_euler`); CW:
        Monte Carlo errors of the full simulation with ``pt.samples`` samples from
        ``pt.task_seed`` (:func:`~symsched.highdim.measure.cw_errors`). Both hold ``high`` and
        ``low``.
    """
    model = build(pt)
    if isinstance(model, GaussianMixture):
        return ms.gm_errors_euler(model, pt.schedule, pt.steps, pt.kappa)
    return ms.cw_errors(model, pt.schedule, pt.steps, pt.samples, pt.task_seed, pt.kappa)


class SimulateResult(TypedDict):
    """What :func:`simulate_point` returns (the ``simulate`` JSON is built from it).

    Attributes
    ----------
    stats
        The features of the run and their targets.
    c
        The noise scale.
    grid
        The schedule object of the time grid.
    task_seed
        The seed the point drew its randomness from (:func:`task_seed`).
    trajectories
        Recorded magnetisation trajectories (may be empty).
    """

    stats: ms.GMStatistics | ms.CWStatistics
    c: float
    grid: JSONDict
    task_seed: int
    trajectories: FloatArray


def simulate_point(pt: Point, callback: Callable[[int], None] | None = None) -> SimulateResult:
    """One ``simulate`` run: the statistics, the grid and the recorded trajectories of ``M``.

    Parameters
    ----------
    pt
        The sweep point (``pt.simulator`` picks the reduced or full GM simulator; the CW is
        always simulated in full).
    callback
        Called with the number of completed Euler steps (progress bars).

    Returns
    -------
    SimulateResult
        ``stats`` (:func:`~symsched.highdim.measure.gm_statistics` or
        :func:`~symsched.highdim.measure.cw_statistics`), the noise scale ``c``, the grid's JSON
        object, the task seed and the ``(steps + 1, record)`` trajectories of ``M``.

    Raises
    ------
    ValueError
        A Curie–Weiss point with ``beta <= 1``, or invalid point parameters.
    """
    model = build(pt)
    grid, c_value = ms.make_grid(pt.schedule, pt.steps, model, pt.kappa)
    seed = pt.task_seed
    stats: ms.GMStatistics | ms.CWStatistics
    if isinstance(model, GaussianMixture):
        runner = sim.gm_full if pt.simulator == "full" else sim.gm_reduced
        gm_res = runner(model, grid, c_value, pt.samples, seed, record=pt.record, callback=callback)
        stats, trajectories = ms.gm_statistics(model, gm_res), gm_res.trajectories
    else:
        model.require_low_temperature()
        cw_res = sim.cw_full(
            model, grid, c_value, pt.samples, seed, record=pt.record, callback=callback
        )
        stats, trajectories = ms.cw_statistics(model, cw_res), cw_res.trajectories
    return {
        "stats": stats,
        "c": c_value,
        "grid": grid.to_json(c_value),
        "task_seed": seed,
        "trajectories": np.asarray(trajectories),
    }


def search_steps(tolerance: float, grid: Sequence[int]) -> SearchGen:
    """Smallest ``N`` in ``grid`` with both errors ``<= tolerance``, as a generator.

    Galloping from the smallest ``N``, then bisection; no ``N`` is evaluated twice
    [aranguri2025, §5.2]. Assumes the errors decrease with ``N``.

    Parameters
    ----------
    tolerance
        Both errors ``high`` and ``low`` must be at most this.
    grid
        Increasing candidate ``N``.

    Yields
    ------
    int
        The next ``N`` to evaluate; send back its errors (``{"high": ..., "low": ...}``).

    Returns
    -------
    SearchResult
        ``(N or None, trace)``, exactly as :func:`steps_needed`.
    """
    cache: dict[int, dict[str, float]] = {}
    trace: SearchTrace = []

    def ok(i: int) -> Generator[int, dict[str, float], bool]:
        n = grid[i]
        if n not in cache:
            cache[n] = yield n
            trace.append({"steps": n, **cache[n]})
        e = cache[n]
        return bool(e["high"] <= tolerance and e["low"] <= tolerance)

    lo, hi = -1, 0
    while not (yield from ok(hi)):
        if hi == len(grid) - 1:
            return None, trace
        lo, hi = hi, min(2 * hi + 1, len(grid) - 1)
    while hi - lo > 1:  # invariant: ok(hi), not ok(lo) (lo = -1 means "below the grid")
        mid = (lo + hi) // 2
        if (yield from ok(mid)):
            hi = mid
        else:
            lo = mid
    return grid[hi], trace


def steps_needed(
    errors: Callable[[int], dict[str, float]],
    tolerance: float,
    grid: Sequence[int] = ms.SEARCH_GRID,
) -> SearchResult:
    """Smallest ``N`` in ``grid`` with ``high <= tol`` and ``low <= tol``: galloping then bisection.

    Assumes the errors decrease with ``N`` (they do, up to Monte Carlo noise, on every case we
    measured); the returned ``N`` meets the tolerance and its predecessor on the grid does not
    [aranguri2025, §5.2]. The search itself is :func:`search_steps` (which also drives the
    parallel sweeps).

    Parameters
    ----------
    errors
        ``errors(N)`` -> a dict holding at least ``high`` and ``low`` (e.g.
        :func:`~symsched.highdim.measure.gm_errors_euler` at fixed model and schedule).
    tolerance
        Both errors must be at most this.
    grid
        Increasing candidate ``N`` (default :data:`~symsched.highdim.measure.SEARCH_GRID`).

    Returns
    -------
    SearchResult
        ``(N, trace)``, or ``(None, trace)`` if even the largest ``N`` fails.
    """
    gen = search_steps(tolerance, grid)
    n = next(gen)
    while True:
        try:
            n = gen.send(errors(n))
        except StopIteration as stop:
            result: SearchResult = stop.value
            return result


def steps_needed_sweep(
    keys: Sequence[K],
    point: Callable[[K, int], Point],
    tolerance: float,
    grid: Sequence[int],
    executor: Executor | None = None,
    on_done: Callable[[int, int], None] | None = None,
    evaluate: Callable[[Point], dict[str, float]] = feature_errors,
) -> dict[K, SearchResult]:
    """One steps-needed search per key (e.g. ``(schedule, d)``), in lockstep through ``executor``.

    Parameters
    ----------
    keys
        One search per key.
    point
        ``point(key, N)`` -> the :class:`Point` whose errors decide ``N`` for that key.
    tolerance, grid
        As :func:`search_steps`.
    executor
        A :mod:`symsched.parallel` executor (default in-process).
    on_done
        Called as ``on_done(completed, submitted)`` after every evaluated point (progress).
    evaluate
        The task function (default :func:`feature_errors`); must be picklable for Dask.

    Returns
    -------
    dict
        ``key -> (N or None, trace)`` (:data:`SearchResult`); identical for every executor.
    """
    ex: Executor = executor if executor is not None else InProcess()
    gens = {k: search_steps(tolerance, grid) for k in keys}
    pending = {k: next(g) for k, g in gens.items()}
    results: dict[K, SearchResult] = {}
    done = submitted = 0
    while pending:
        batch = [(k, point(k, n)) for k, n in pending.items()]
        submitted += len(batch)

        def tick(_i: int, _r: dict[str, float], total: int = submitted) -> None:
            nonlocal done
            done += 1
            if on_done is not None:
                on_done(done, total)

        outs = ex.map(evaluate, [p for _, p in batch], on_done=tick)
        pending = {}
        for (k, _), errs in zip(batch, outs, strict=True):
            try:
                pending[k] = gens[k].send(errs)
            except StopIteration as stop:
                results[k] = stop.value
    return {k: results[k] for k in keys}
