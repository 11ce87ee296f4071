r"""Sample-quality metrics in data space and the schedule comparison on the trained models (issue 4, item 5).

Metrics (both symmetric, both 0 for identical samples):

* :func:`frechet_distance` — the Fréchet (2-Wasserstein) distance between the Gaussians with the
  two samples' means and covariances [dowson1982], the formula behind FID [heusel2017, Eq. (6)] but
  in data space (no Inception features):

  .. math:: \mathrm{FD}=\|\mu_1-\mu_2\|^2+\operatorname{tr}\bigl(S_1+S_2-2\,(S_1^{1/2}S_2S_1^{1/2})^{1/2}\bigr).

  The square roots are taken by symmetric eigendecompositions (PSD, so no complex round-off as
  with a general ``sqrtm``); the tests check it against ``scipy.linalg.sqrtm`` and closed forms.
* :func:`sliced_wasserstein` — the sliced 2-Wasserstein distance [bonneel2015]
  :math:`\mathrm{SW}_2=(\mathbb E_\theta W_2^2(\theta^\top X,\theta^\top Y))^{1/2}` over seeded uniform
  directions :math:`\theta\in S^{d-1}`, each 1-D :math:`W_2^2=\int_0^1(F^{-1}-G^{-1})^2du` computed
  exactly for samples of any sizes (piecewise-constant quantile functions).

:func:`compare_schedules` samples a trained model with EDM's Heun sampler on each schedule and
scores the samples against the held-out split, with Monte Carlo error bars over independent seeded
batches (paired across schedules: batch ``r`` starts from the same noise for every schedule).

References
----------
.. [dowson1982] D. C. Dowson, B. V. Landau, "The Fréchet distance between multivariate normal
   distributions", J. Multivariate Anal. 12 (1982).
.. [heusel2017] M. Heusel et al., "GANs trained by a two time-scale update rule converge to a local
   Nash equilibrium", NeurIPS 2017, arXiv:1706.08500.
.. [bonneel2015] N. Bonneel, J. Rabin, G. Peyré, H. Pfister, "Sliced and Radon Wasserstein
   barycenters of measures", J. Math. Imaging Vis. 51 (2015).
.. [karras2022] arXiv:2206.00364, Algorithm 1 (Heun), Eq. (5) (the rho grid).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "SCHEDULES",
    "Comparison",
    "compare_schedules",
    "fit_karras_rho",
    "frechet_distance",
    "psd_sqrt",
    "schedule_grids",
    "sliced_wasserstein",
    "stein_grids",
]

SCHEDULES: tuple[str, ...] = ("stein", "karras", "loglinear", "tangent", "memorising")


def _rows(x: Any, name: str) -> NDArray[np.float64]:
    arr = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(
            f"{name} must be a 2-D array of at least 2 rows (samples), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def psd_sqrt(a: Any) -> NDArray[np.float64]:
    r"""Symmetric square root :math:`A^{1/2}=V\,\mathrm{diag}(\sqrt{\max(w,0)})\,V^\top` of a symmetric PSD matrix."""
    m = np.asarray(a, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"a must be a square matrix, got shape {m.shape}")
    w, v = np.linalg.eigh(0.5 * (m + m.T))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(x: Any, y: Any) -> float:
    r"""Fréchet distance between the Gaussian fits of two samples (rows), see the module docstring.

    Means and covariances are the sample ones (``np.cov``, unbiased); the trace term is
    :math:`\sum_k\sqrt{\max(w_k,0)}` over the eigenvalues :math:`w_k` of :math:`S_1^{1/2}S_2S_1^{1/2}`.

    Raises
    ------
    ValueError
        If ``x`` or ``y`` is not a finite 2-D array with at least 2 rows, or their widths differ.
    """
    a, b = _rows(x, "x"), _rows(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {a.shape[1]} and {b.shape[1]}")
    mu = a.mean(axis=0) - b.mean(axis=0)
    s1 = np.atleast_2d(np.cov(a, rowvar=False))
    s2 = np.atleast_2d(np.cov(b, rowvar=False))
    r = psd_sqrt(s1)
    cross = np.linalg.eigvalsh(0.5 * ((r @ s2 @ r) + (r @ s2 @ r).T))
    out = float(
        mu @ mu + np.trace(s1) + np.trace(s2) - 2.0 * np.sum(np.sqrt(np.clip(cross, 0.0, None)))
    )
    return max(out, 0.0)


def _w2_squared_1d(u: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    """Exact W_2^2 between two 1-D empirical measures (uniform weights), any sizes."""
    u, v = np.sort(u), np.sort(v)
    n, m = u.size, v.size
    # breakpoints of both quantile functions on [0, 1]; on each piece both are constant
    q = np.unique(np.concatenate([np.arange(1, n + 1) / n, np.arange(1, m + 1) / m]))
    q[-1] = 1.0
    widths = np.diff(np.concatenate([[0.0], q]))
    mid = q - 0.5 * widths
    iu = np.minimum((mid * n).astype(np.int64), n - 1)
    iv = np.minimum((mid * m).astype(np.int64), m - 1)
    return float(np.sum(widths * (u[iu] - v[iv]) ** 2))


def sliced_wasserstein(x: Any, y: Any, *, projections: int = 256, seed: int = 0) -> float:
    r"""Sliced 2-Wasserstein distance over ``projections`` seeded uniform directions [bonneel2015].

    :math:`\mathrm{SW}_2=\bigl(\tfrac1L\sum_{l=1}^L W_2^2(\theta_l^\top X,\theta_l^\top Y)\bigr)^{1/2}`,
    :math:`\theta_l` = normalised standard normal vectors from ``numpy.random.default_rng(seed)``, so
    two calls with the same ``seed`` and dimension use the same directions.
    """
    a, b = _rows(x, "x"), _rows(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {a.shape[1]} and {b.shape[1]}")
    if (
        isinstance(projections, bool)
        or not isinstance(projections, (int, np.integer))
        or projections < 1
    ):
        raise ValueError(f"projections must be a positive integer, got {projections!r}")
    theta = np.random.default_rng(seed).standard_normal((a.shape[1], int(projections)))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    pa, pb = a @ theta, b @ theta
    if (
        pa.shape[0] == pb.shape[0]
    ):  # equal sizes: W_2^2 = mean of squared differences of order statistics
        return math.sqrt(float(np.mean((np.sort(pa, axis=0) - np.sort(pb, axis=0)) ** 2)))
    return math.sqrt(
        float(np.mean([_w2_squared_1d(pa[:, k], pb[:, k]) for k in range(theta.shape[1])]))
    )


def fit_karras_rho(grid: Any, *, bounds: tuple[float, float] = (1.0, 100.0)) -> float:
    r"""The EDM :math:`\rho` whose grid (same N and endpoints) is closest to ``grid`` in max :math:`|\Delta\ln\sigma|`.

    Minimises :math:`\max_k|\ln\sigma_k^{\rm EDM}(\rho)-\ln\sigma_k|` over ``bounds`` [karras2022, Eq. (5)];
    the log-linear grid is the limit :math:`\rho\to\infty`, so a fit at the upper bound means "as
    geometric as the family allows". This is how the paper's "close to rho = 7" is read here.
    """
    from scipy.optimize import minimize_scalar

    from symsched.schedules import families

    g = np.asarray(grid, dtype=np.float64)
    if (
        g.ndim != 1
        or g.size < 3
        or not np.all(np.diff(g) < 0)
        or g[-1] <= 0
        or not np.isfinite(g[0])
    ):
        raise ValueError("grid must be a finite, strictly decreasing grid of >= 3 positive levels")
    n = g.size - 1
    f = lambda r: float(np.max(np.abs(np.log(families.karras(g[-1], g[0], r).grid(n) / g))))
    return float(minimize_scalar(f, bounds=bounds, method="bounded", options={"xatol": 1e-4}).x)


def stein_grids(
    model: Any, steps: Any, *, sigma_min: float = 0.002, sigma_max: float = 80.0, seed: int = 0
) -> dict[int, NDArray[np.float64]]:
    r"""Score-optimal grids of ``model`` for every N in ``steps`` from one shared probe estimate.

    The estimator and its defaults are those of ``symsched schedule stein --model SPEC``
    (:func:`symsched.stein.stein_schedule`: the default estimator, ``DEFAULT_SAMPLES`` per level,
    ``K = max(128, 8 N)`` log-spaced probe intervals, here with the largest N), followed by
    Algorithm 1 [williams2024] (:func:`symsched.stein.update_schedule`) for each N. Sharing the probe
    saves the per-N estimates; on a fine probe grid the result does not depend on K (claim
    ``stein.independent-of-dimension-and-probe-grid``).
    """
    from symsched import stein
    from symsched.stein._schedule import DEFAULT_PROBE_LEVELS, DEFAULT_SAMPLES

    ns = [int(n) for n in steps]
    k = max(DEFAULT_PROBE_LEVELS, 8 * max(ns))
    lev = stein.probe_levels(sigma_min, sigma_max, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stein.SteinAccuracyWarning)
        est = stein.estimate_costs(
            model, lev, estimator=stein.DEFAULT_ESTIMATOR, samples=DEFAULT_SAMPLES, seed=seed
        )
    return {n: stein.update_schedule(lev, est.costs, n) for n in ns}


def schedule_grids(
    name: str,
    model: Any,
    steps: Any,
    *,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    seed: int = 0,
    schedules: Any = SCHEDULES,
) -> tuple[dict[str, dict[int, NDArray[np.float64]]], float]:
    r"""The compared grids ``{schedule: {N: sigmas}}`` on ``[sigma_min, sigma_max]`` for trained model ``model``.

        ``stein``: the score-optimal grid of the trained network (:func:`stein_grids`); ``karras``: EDM
        :math:`
    ho=7` [karras2022, Eq. (5)]; ``loglinear``; ``tangent``: :math:`c=\gamma^\star` of the
        dequantised train-split spectrum [sun2026, §5.3(a)] (conventions.md, ``tangent --eigenvalues``);
        ``memorising``: the score-optimal grid of the exact denoiser of the train split
        (:class:`symsched.models.EmpiricalModel`, the memorising optimum). Also returns :math:`\gamma^\star`.
    """
    from symsched.datasets import QUANTISATION_STEP, spectrum, split
    from symsched.gaussian import tangent
    from symsched.models import EmpiricalModel
    from symsched.schedules import families

    ns = [int(n) for n in steps]
    train = split(name, "train")
    gamma = tangent.gamma_star(spectrum(train, QUANTISATION_STEP[name]))
    out: dict[str, dict[int, NDArray[np.float64]]] = {}
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


@dataclass
class Comparison:
    """Scores of every (schedule, N): ``fd[s][N]`` and ``sw[s][N]`` are arrays over the batches."""

    model: str
    steps: list[int]
    batch: int
    fd: dict[str, dict[int, NDArray[np.float64]]]
    sw: dict[str, dict[int, NDArray[np.float64]]]
    floor_fd: NDArray[np.float64]
    floor_sw: NDArray[np.float64]
    grids: dict[str, dict[int, NDArray[np.float64]]]
    gamma_star: float
    seconds: dict[str, float] = field(default_factory=dict)
    sampler: str = "heun"

    @staticmethod
    def mean_se(v: NDArray[np.float64]) -> tuple[float, float]:
        """Mean and its standard error (sample std / sqrt(batches))."""
        return float(np.mean(v)), float(np.std(v, ddof=1) / math.sqrt(v.size))

    def paired(self, metric: str, a: str, n_a: int, b: str, n_b: int) -> tuple[float, float]:
        """Mean and s.e. of the batch-wise difference ``metric[a][n_a] - metric[b][n_b]`` (common noise)."""
        tab = self.fd if metric == "fd" else self.sw
        return self.mean_se(tab[a][n_a] - tab[b][n_b])

    def table(self) -> list[dict[str, Any]]:
        """Rows ``{schedule, steps, fd, fd_se, sw, sw_se}`` plus the train-vs-held-out ``floor`` rows."""
        rows = []
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
        """EDM rho closest to the Stein and memorising-optimum grids, per N (:func:`fit_karras_rho`)."""
        return {
            s: {n: fit_karras_rho(self.grids[s][n]) for n in self.steps}
            for s in ("stein", "memorising")
            if s in self.grids
        }


def compare_schedules(
    name: str,
    steps: Any = (5, 8, 10, 15, 20),
    *,
    batches: int = 5,
    batch: int | None = None,
    schedules: Any = SCHEDULES,
    sampler: str = "heun",
    projections: int = 256,
    seed: int = 0,
    model: Any = None,
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
        Subset of :data:`SCHEDULES`.
    sampler
        ``"heun"`` [karras2022, Algorithm 1] or ``"euler"``.
    projections, seed
        Directions of the sliced distance (fixed for all scores of one comparison) and the base seed:
        batch ``r`` starts from ``start_noise(..., seed + r)`` for every schedule and N.
    model
        Optional pre-loaded model (default ``symsched.models.load_model(name)``).

    Notes
    -----
    Every grid runs from ``sigma_max = 80`` (start :math:`80\varepsilon`, the prior) to
    ``sigma_min = 0.002`` (clipped to the model's range) with no appended zero (conventions.md); the
    samples are the states at ``sigma_min``, whose residual noise (0.002) is below the data's
    quantisation step. Heun costs 2N network evaluations.
    """
    import torch

    from symsched.datasets import split
    from symsched.models import load_model, sample_euler, sample_heun, start_noise

    if sampler not in ("heun", "euler"):
        raise ValueError(f"sampler must be 'heun' or 'euler', got {sampler!r}")
    unknown = sorted(set(schedules) - set(SCHEDULES))
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
            f"batch must be an integer in [2, {train.shape[0]}] (the train split size), got {batch!r}"
        )
    run = sample_heun if sampler == "heun" else sample_euler
    lo, hi = mdl.sigma_range
    lo, hi = max(lo, 0.002), min(hi, 80.0)
    ns = [int(n) for n in steps]
    t0 = time.perf_counter()
    grids, gamma = schedule_grids(
        name, mdl, ns, sigma_min=lo, sigma_max=hi, seed=seed, schedules=schedules
    )
    t1 = time.perf_counter()
    fd = {s: {n: np.empty(batches) for n in ns} for s in schedules}
    sw = {s: {n: np.empty(batches) for n in ns} for s in schedules}
    with torch.no_grad():
        for r in range(batches):
            x0 = start_noise(size, mdl.dim, hi, seed + r)
            for s in schedules:
                for n in ns:
                    out = run(mdl, x0, grids[s][n]).numpy()
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
        grids,
        float(gamma),
        {"schedules": t1 - t0, "sampling": t2 - t1},
        sampler,
    )


def plot_comparison(comps: list[Comparison]) -> Any:
    """FD and SW vs N per schedule (error bars: 1 s.e.), one column per model; the floor dashed."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(comps), figsize=(4.6 * len(comps), 6.4), squeeze=False)
    for j, c in enumerate(comps):
        for i, (metric, tab, floor) in enumerate(
            (("FD", c.fd, c.floor_fd), ("SW$_2$", c.sw, c.floor_sw))
        ):
            ax = axes[i, j]
            means = {s: [Comparison.mean_se(by_n[n]) for n in c.steps] for s, by_n in tab.items()}
            best_last = min(m[-1][0] for m in means.values())
            # a schedule still > 5x the best at the largest N is drawn off scale, so the rest stay readable
            off = {s for s, m in means.items() if m[-1][0] > 5 * best_last}
            top = 1.5 * max((m[0][0] for s, m in means.items() if s not in off), default=best_last)
            for s, m in means.items():
                ax.errorbar(
                    c.steps,
                    [a for a, _ in m],
                    yerr=[b for _, b in m],
                    marker="o",
                    ms=3,
                    capsize=2,
                    label=s + (" (off scale)" if s in off else ""),
                )
            ax.axhline(float(np.mean(floor)), color="k", ls="--", lw=1, label="train vs held-out")
            ax.set_yscale("log")
            ax.set_ylim(0.8 * min(float(np.mean(floor)), best_last), top)
            ax.set_xlabel(f"steps N ({c.sampler})")
            ax.set_ylabel(f"{metric} to held-out")
            ax.set_title(f"{c.model}: {metric}", fontsize=9)
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
