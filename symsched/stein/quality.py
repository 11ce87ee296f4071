r"""Sample quality of Stein schedules against the baselines, on the trained networks.

:func:`compare_schedules` samples a trained model (:mod:`symsched.models.trained`) with EDM's Heun
sampler [karras2022, Algorithm 1] on each schedule and scores the samples against the held-out
split with the data-space Fréchet distance and the sliced 2-Wasserstein distance of
:mod:`symsched.metrics`, with Monte Carlo error bars over independent seeded batches (paired
across schedules: batch ``r`` starts from the same noise for every schedule).

The schedules (:data:`SCHEDULES`): the score-optimal grid of the network [williams2024,
Algorithm 1] (:func:`stein_grids`), EDM :math:`\rho=7` [karras2022, Eq. (5)], log-linear, the
tangent grid at :math:`\gamma^\star` of the train-split spectrum [sun2026, §5.3(a)], and the
score-optimal grid of the exact denoiser of the train split (the memorising optimum).

This module is not imported by :mod:`symsched.stein`; import it as ``symsched.stein.quality``.

References
----------
.. [williams2024] C. Williams, A. Campbell, A. Doucet, S. Syed, "Score-Optimal Diffusion
   Schedules", NeurIPS 2024, arXiv:2412.07877v1, Algorithm 1.
.. [karras2022] T. Karras, M. Aittala, T. Aila, S. Laine, "Elucidating the Design Space of
   Diffusion-Based Generative Models", NeurIPS 2022, arXiv:2206.00364, Algorithm 1, Eq. (5).
.. [sun2026] Sun, Poor, Zhang, arXiv:2601.13602, §5.3(a) (gamma*).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from symsched._typing import FloatArray
from symsched.metrics import fit_karras_rho, frechet_distance, sliced_wasserstein
from symsched.models import (
    NETWORK_SAMPLERS,
    EmpiricalModel,
    ScoreModel,
    load_model,
    start_noise,
)
from symsched.stein._estimate import DEFAULT_ESTIMATOR, SteinAccuracyWarning, estimate_costs
from symsched.stein._schedule import DEFAULT_PROBE_LEVELS, DEFAULT_SAMPLES
from symsched.stein._update import probe_levels, update_schedule

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "SCHEDULES",
    "Comparison",
    "ComparisonRow",
    "compare_schedules",
    "plot_comparison",
    "schedule_grids",
    "stein_grids",
]

SCHEDULES: tuple[str, ...] = ("stein", "karras", "loglinear", "tangent", "memorising")

Grids = dict[str, dict[int, FloatArray]]
"""Grids or scores by schedule name and step count N."""


def stein_grids(
    model: ScoreModel,
    steps: Iterable[int],
    *,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    seed: int = 0,
) -> dict[int, FloatArray]:
    r"""Score-optimal grids of ``model`` for every N in ``steps`` from one shared probe estimate.

    The estimator and its defaults are those of ``symsched schedule stein --model SPEC``
    (:func:`symsched.stein.stein_schedule`: the default estimator, ``DEFAULT_SAMPLES`` per level,
    ``K = max(128, 8 N)`` log-spaced probe intervals, here with the largest N), followed by
    Algorithm 1 [williams2024] (:func:`symsched.stein.update_schedule`) for each N. Sharing the
    probe saves the per-N estimates; on a fine probe grid the result does not depend on K (claim
    ``stein.independent-of-dimension-and-probe-grid``).

    Parameters
    ----------
    model
        The score model (e.g. a trained network or an :class:`~symsched.models.EmpiricalModel`).
    steps
        The step counts N.
    sigma_min, sigma_max
        Endpoints of every grid.
    seed
        Seed of the probe estimate.

    Returns
    -------
    dict of int to FloatArray
        ``{N: sigmas}``, each ``N + 1`` descending levels.
    """
    ns = [int(n) for n in steps]
    k = max(DEFAULT_PROBE_LEVELS, 8 * max(ns))
    lev = probe_levels(sigma_min, sigma_max, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SteinAccuracyWarning)
        est = estimate_costs(
            model, lev, estimator=DEFAULT_ESTIMATOR, samples=DEFAULT_SAMPLES, seed=seed
        )
    return {n: update_schedule(lev, est.costs, n) for n in ns}


def schedule_grids(
    name: str,
    model: ScoreModel,
    steps: Iterable[int],
    *,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    seed: int = 0,
    schedules: Iterable[str] = SCHEDULES,
) -> tuple[Grids, float]:
    r"""The compared grids ``{schedule: {N: sigmas}}`` on ``[sigma_min, sigma_max]``.

    ``stein``: the score-optimal grid of the trained network (:func:`stein_grids`); ``karras``:
    EDM :math:`\rho=7` [karras2022, Eq. (5)]; ``loglinear``; ``tangent``: :math:`c=\gamma^\star`
    of the dequantised train-split spectrum [sun2026, §5.3(a)] (docs/cli.md#schedule,
    ``tangent --eigenvalues``); ``memorising``: the score-optimal grid of the exact denoiser of
    the train split (:class:`symsched.models.EmpiricalModel`, the memorising optimum).

    Parameters
    ----------
    name
        The dataset the model was trained on (``"digits"`` or ``"patches"``).
    model
        The trained model.
    steps
        The step counts N.
    sigma_min, sigma_max
        Endpoints of every grid.
    seed
        Seed of the Stein probe estimates.
    schedules
        Names among :data:`SCHEDULES` (any other name is taken as ``tangent``).

    Returns
    -------
    tuple
        ``(grids, gamma_star)``.
    """
    from symsched.datasets import QUANTISATION_STEP, spectrum, split
    from symsched.gaussian import tangent
    from symsched.schedules import families

    ns = [int(n) for n in steps]
    train = split(name, "train")
    gamma = tangent.gamma_star(spectrum(train, QUANTISATION_STEP[name]))
    out: Grids = {}
    for s in schedules:
        if s == "stein":
            out[s] = stein_grids(model, ns, sigma_min=sigma_min, sigma_max=sigma_max, seed=seed)
        elif s == "memorising":
            emp = EmpiricalModel(train, name=f"empirical-{name}-train")
            out[s] = stein_grids(emp, ns, sigma_min=sigma_min, sigma_max=sigma_max, seed=seed)
        elif s == "karras":
            out[s] = {n: families.karras(sigma_min, sigma_max, 7.0).grid(n) for n in ns}
        elif s == "loglinear":
            out[s] = {n: families.loglinear(sigma_min, sigma_max).grid(n) for n in ns}
        else:
            out[s] = {n: tangent.tangent_sigmas(n, gamma, sigma_min, sigma_max) for n in ns}
    return out, gamma


class ComparisonRow(TypedDict):
    """One row of :meth:`Comparison.table` (``steps`` is ``None`` on the floor row).

    Attributes
    ----------
    schedule, steps
        The schedule and its step count.
    fd, fd_se
        Fréchet distance to the held-out rows and its standard error.
    sw, sw_se
        Sliced Wasserstein distance and its standard error.
    """

    schedule: str
    steps: int | None
    fd: float
    fd_se: float
    sw: float
    sw_se: float


@dataclass
class Comparison:
    r"""Scores of every (schedule, N): ``fd[s][N]`` and ``sw[s][N]`` are arrays over the batches.

    Parameters
    ----------
    model
        Name of the trained model.
    steps
        The compared N.
    batch
        Samples per batch.
    fd, sw
        Fréchet and sliced-Wasserstein distances to the held-out split, per batch.
    floor_fd, floor_sw
        The same distances of train-split subsets of the batch size (the floor), per batch.
    grids
        The compared grids.
    gamma_star
        :math:`\gamma^\star` of the tangent grid.
    seconds
        Wall time of the grids and of the sampling.
    sampler
        A name of :data:`symsched.models.NETWORK_SAMPLERS` (``"heun"``, ``"euler"``,
        ``"dpmpp-2m"``).
    """

    model: str
    steps: list[int]
    batch: int
    fd: Grids
    sw: Grids
    floor_fd: FloatArray
    floor_sw: FloatArray
    grids: Grids
    gamma_star: float
    seconds: dict[str, float] = field(default_factory=dict)
    sampler: str = "heun"

    @staticmethod
    def mean_se(v: FloatArray) -> tuple[float, float]:
        """Mean and its standard error (sample std / sqrt(batches)).

        Parameters
        ----------
        v
            Per-batch values (at least 2).

        Returns
        -------
        tuple of float
            ``(mean, standard error)``.
        """
        return float(np.mean(v)), float(np.std(v, ddof=1) / math.sqrt(v.size))

    def paired(self, metric: str, a: str, n_a: int, b: str, n_b: int) -> tuple[float, float]:
        """Mean and s.e. of the batch-wise difference ``metric[a][n_a] - metric[b][n_b]``.

        The batches share their starting noise across schedules (common random numbers).

        Parameters
        ----------
        metric
            ``"fd"``, or any other value for the sliced distance.
        a, n_a, b, n_b
            The two (schedule, N) compared.

        Returns
        -------
        tuple of float
            ``(mean difference, standard error)``.
        """
        tab = self.fd if metric == "fd" else self.sw
        return self.mean_se(tab[a][n_a] - tab[b][n_b])

    def table(self) -> list[ComparisonRow]:
        """Rows ``{schedule, steps, fd, fd_se, sw, sw_se}`` plus the train-vs-held-out floor row.

        Returns
        -------
        list of ComparisonRow
            One row per (schedule, N), then the floor.
        """
        rows: list[ComparisonRow] = []
        for s in self.fd:
            for n in self.steps:
                (f, fs), (w, ws) = self.mean_se(self.fd[s][n]), self.mean_se(self.sw[s][n])
                rows.append({"schedule": s, "steps": n, "fd": f, "fd_se": fs, "sw": w, "sw_se": ws})
        (f, fs), (w, ws) = self.mean_se(self.floor_fd), self.mean_se(self.floor_sw)
        rows.append(
            {
                "schedule": "floor (train vs held-out)",
                "steps": None,
                "fd": f,
                "fd_se": fs,
                "sw": w,
                "sw_se": ws,
            }
        )
        return rows

    def fitted_rho(self) -> dict[str, dict[int, float]]:
        """EDM rho closest to the Stein and memorising-optimum grids, per N.

        Returns
        -------
        dict
            ``{schedule: {N: rho}}`` by :func:`symsched.metrics.fit_karras_rho`
            [karras2022, Eq. (5)], for ``stein`` and ``memorising`` where compared.
        """
        return {
            s: {n: fit_karras_rho(self.grids[s][n]) for n in self.steps}
            for s in ("stein", "memorising")
            if s in self.grids
        }


def compare_schedules(
    name: str,
    steps: Iterable[int] = (5, 8, 10, 15, 20),
    *,
    batches: int = 5,
    batch: int | None = None,
    schedules: Sequence[str] = SCHEDULES,
    sampler: str = "heun",
    projections: int = 256,
    seed: int = 0,
    model: ScoreModel | None = None,
    grids: Mapping[str, Mapping[int, FloatArray]] | None = None,
) -> Comparison:
    r"""Sample the trained model ``name`` on each schedule and score against its held-out split.

    Parameters
    ----------
    name
        ``"digits"`` or ``"patches"`` (the shipped model of that name, trained on the train split).
    steps
        The N to compare.
    batches, batch
        Independent sample batches (Monte Carlo error bars) and their size (default: the held-out
        size, so the floor and the samples are scored at equal sample size).
    schedules
        Subset of :data:`SCHEDULES` (ignored with ``grids``).
    sampler
        ``"heun"`` [karras2022, Algorithm 1], ``"euler"`` or ``"dpmpp-2m"`` [lu2022, Algorithm 2]
        (:data:`symsched.models.NETWORK_SAMPLERS`).
    projections, seed
        Directions of the sliced distance (fixed for all scores of one comparison) and the base
        seed: batch ``r`` starts from ``start_noise(..., seed + r)`` for every schedule and N.
    model
        Optional pre-loaded model (default ``symsched.models.load_model(name)``).
    grids
        Optional precomputed grids ``{label: {N: sigmas}}`` to compare instead of
        :func:`schedule_grids` (any labels; every N of ``steps`` for each). A grid may start below
        the model's largest level: its batch ``r`` starts from the same noise scaled to its own
        :math:`\sigma_0` (e.g. an Align Your Steps table).

    Returns
    -------
    Comparison
        The per-batch scores, the floor, the grids and timings.

    Raises
    ------
    ValueError
        Unknown sampler or schedule, fewer than 2 batches, a batch size outside
        ``[2, train split size]``, or a given grid that misses an N or leaves the model's range.

    Notes
    -----
    Every grid runs from ``sigma_max = 80`` (start :math:`80\varepsilon`, the prior) to
    ``sigma_min = 0.002`` (clipped to the model's range) with no appended zero
    (docs/conventions.md#grids); the samples are the states at ``sigma_min``, whose residual noise
    (0.002) is below the data's quantisation step. Heun costs 2N network evaluations.
    """
    import torch

    from symsched.datasets import split

    if sampler not in NETWORK_SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(NETWORK_SAMPLERS)}, got {sampler!r}")
    unknown = [] if grids is not None else sorted(set(schedules) - set(SCHEDULES))
    if unknown:
        raise ValueError(
            f"schedules must be among {', '.join(SCHEDULES)}, got {', '.join(unknown)}"
        )
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 2:
        raise ValueError(f"batches must be an integer >= 2 (for a standard error), got {batches!r}")
    mdl = load_model(name) if model is None else model
    held = split(name, "heldout")
    train = split(name, "train")
    size = held.shape[0] if batch is None else batch
    if (
        isinstance(size, bool)
        or not isinstance(size, (int, np.integer))
        or not 2 <= size <= train.shape[0]
    ):
        raise ValueError(
            f"batch must be an integer in [2, {train.shape[0]}] (the train split size), "
            f"got {batch!r}"
        )
    run = NETWORK_SAMPLERS[sampler]
    lo, hi = mdl.sigma_range
    lo, hi = max(lo, 0.002), min(hi, 80.0)
    ns = [int(n) for n in steps]
    t0 = time.perf_counter()
    if grids is None:
        used, gamma = schedule_grids(
            name, mdl, ns, sigma_min=lo, sigma_max=hi, seed=seed, schedules=schedules
        )
    else:
        used, gamma = _given_grids(grids, ns, mdl), math.nan
    labels = list(used)
    t1 = time.perf_counter()
    fd = {s: {n: np.empty(batches) for n in ns} for s in labels}
    sw = {s: {n: np.empty(batches) for n in ns} for s in labels}
    with torch.no_grad():
        for r in range(batches):
            x0 = start_noise(size, mdl.dim, hi, seed + r)
            for s in labels:
                for n in ns:
                    g = used[s][n]
                    start = x0 if g[0] == hi else x0 * (float(g[0]) / hi)
                    out = run(mdl, start, g).numpy()
                    fd[s][n][r] = frechet_distance(out, held)
                    sw[s][n][r] = sliced_wasserstein(out, held, projections=projections, seed=seed)
    t2 = time.perf_counter()
    rng = np.random.default_rng(seed)
    floor_fd, floor_sw = np.empty(batches), np.empty(batches)
    for r in range(batches):
        sub = train[rng.choice(train.shape[0], size=size, replace=False)]
        floor_fd[r] = frechet_distance(sub, held)
        floor_sw[r] = sliced_wasserstein(sub, held, projections=projections, seed=seed)
    return Comparison(
        name,
        ns,
        size,
        fd,
        sw,
        floor_fd,
        floor_sw,
        used,
        float(gamma),
        {"schedules": t1 - t0, "sampling": t2 - t1},
        sampler,
    )


def _given_grids(
    grids: Mapping[str, Mapping[int, FloatArray]], steps: list[int], model: ScoreModel
) -> Grids:
    """The given grids as arrays, checked: every N of ``steps``, N + 1 levels inside the model's
    range (a final 0 allowed)."""
    from symsched._validate import as_grid

    lo, hi = model.sigma_range
    out: Grids = {}
    for label, by_n in grids.items():
        out[label] = {}
        for n in steps:
            if n not in by_n:
                raise ValueError(f"grids[{label!r}] has no grid for N = {n}")
            g = as_grid(by_n[n], f"grids[{label!r}][{n}]")
            if g.size != n + 1:
                raise ValueError(f"grids[{label!r}][{n}] must have {n + 1} levels, got {g.size}")
            pos = g[g > 0]
            if not (np.isfinite(g[0]) and pos.min() >= lo * (1 - 1e-9) and g[0] <= hi):
                raise ValueError(
                    f"grids[{label!r}][{n}] spans [{g[-1]:g}, {g[0]:g}], outside the model's "
                    f"range [{lo:g}, {hi:g}]"
                )
            out[label][n] = g
    return out


def plot_comparison(comps: list[Comparison]) -> Figure:
    """FD and SW vs N per schedule (error bars: 1 s.e.), one column per model; the floor dashed.

    A schedule still more than 5 times the best at the largest N is drawn off scale (labelled so),
    so that the others stay readable.

    Parameters
    ----------
    comps
        One comparison per model (columns).

    Returns
    -------
    matplotlib.figure.Figure
        Two rows (FD, SW2) of log-scale panels.
    """
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import REFERENCE, styles

    fig = new_figure((4.8 * len(comps) + 1.8, 6.8))
    axes = fig.subplots(2, len(comps), squeeze=False)
    look = styles(s for c in comps for s in c.fd)
    for j, c in enumerate(comps):
        for i, (metric, tab, floor) in enumerate(
            (("FD", c.fd, c.floor_fd), ("SW$_2$", c.sw, c.floor_sw))
        ):
            ax = axes[i, j]
            means = {s: [Comparison.mean_se(by_n[n]) for n in c.steps] for s, by_n in tab.items()}
            best_last = min(m[-1][0] for m in means.values())
            # a schedule > 5x the best at the largest N is drawn off scale (the rest stay readable)
            off = {s for s, m in means.items() if m[-1][0] > 5 * best_last}
            top = 1.5 * max((m[0][0] for s, m in means.items() if s not in off), default=best_last)
            for s, m in means.items():
                ax.errorbar(
                    c.steps,
                    [a for a, _ in m],
                    yerr=[b for _, b in m],
                    ms=4,
                    capsize=2,
                    **look[s].kwargs(),
                )
            ax.axhline(
                float(np.mean(floor)),
                color=REFERENCE.color,
                ls=REFERENCE.linestyle,
                lw=1,
                label="train vs held-out",
            )
            ax.set_yscale("log")
            ax.set_ylim(0.8 * min(float(np.mean(floor)), best_last), top)
            if off:
                ax.text(
                    0.98,
                    0.97,
                    "off scale: " + ", ".join(look[s].label for s in sorted(off)),
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                    fontsize=7,
                )
            ax.set_xticks(list(c.steps), [str(n) for n in c.steps])
            ax.set_xlabel(f"steps N ({c.sampler})")
            ax.set_ylabel(f"{metric} to held-out")
            ax.set_title(f"trained {c.model} network, {c.sampler}: {metric}", fontsize=9)
    found: dict[str, Any] = {}
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(lab, h)
    fig.legend(list(found.values()), list(found), loc="outside right center", fontsize=8)
    return tidy(fig)
