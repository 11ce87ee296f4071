r"""Pretrained-model scenario: rank the time discretisations of a fixed noise schedule by exact KL.

[sun2026, §7] (docs/theory/gaussian.md#pretrained-model-ranking): for a model with a fixed noise
schedule, the exact Gaussian KL of the deterministic sampler, evaluated on the data spectrum in the
model's input scale, compares discretisations at a given NFE budget. Models:

* ``edm`` — continuous EDM/VE, :math:`\sigma\in[0.002, 80]` [karras2022];
* ``ddpm-linear`` — 1000-step DDPM linear beta table (``beta = linspace(1e-4, 0.02)``) [ho2020];
* ``ddpm-cosine`` — 1000-step cosine table (diffusers ``squaredcos_cap_v2``) [nichol2021];
* ``sd15`` / ``sdxl`` — the 1000-step ``scaled_linear`` table of Stable Diffusion 1.x and XL (the
  same training table), for which Align Your Steps publishes one table each [sabour2024]
  (docs/conventions.md#align-your-steps-tables);
* ``flow`` — rectified flow from pure noise to data, :math:`\sigma\in[0,\infty]` in this project's
  scaled state (:math:`\sigma=t/(1-t)`; SD3, Flux).

Strategies (N steps = N+1 levels from the model's sigma_max down to its sigma_min; no zero
appended):
``uniform-t`` and ``quadratic-t`` (uniform / quadratic in the training time; for EDM, whose time is
:math:`t=\sigma`, uniform / quadratic in sigma), ``logsnr-uniform`` (geometric in sigma),
``edm-rho7`` (Karras rho = 7), ``ays`` (sd15 / sdxl, log-linear interpolation of the 10-step
table), ``tangent`` (gamma*), ``variational`` (the weighted geodesic), ``kl-optimal`` (the DDIM
optimum) and ``sampler-optimal`` (the exact KL optimum for the sampler being ranked,
docs/theory/coupling.md#the-sampler-aware-optimum). ``flow`` runs from pure noise to 0: its
``uniform-t`` is uniform in flow time, ``quadratic-t`` quadratic in it, and the strategies that
need finite positive ends (``logsnr-uniform``, ``edm-rho7``) do not apply.

The budget is in NFE: a sampler of one evaluation per step takes N = NFE steps; Heun, two per
step on a grid ending above 0, takes N = NFE // 2.
Discrete tables are read at fractional timesteps by log-sigma interpolation, as k-diffusion's
``DiscreteSchedule`` does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from symsched._typing import FloatArray, JSONDict, SpectrumLike
from symsched._validate import as_eigenvalues, as_grid, check_choice, check_steps
from symsched.gaussian import exact
from symsched.schedules import families

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "MODELS",
    "NFES",
    "STRATEGIES",
    "Ranking",
    "applies",
    "model_range",
    "rank",
    "steps_for",
    "strategy_grid",
]

MODELS: tuple[str, ...] = ("edm", "ddpm-linear", "ddpm-cosine", "sd15", "sdxl", "flow")
STRATEGIES: tuple[str, ...] = (
    "uniform-t",
    "quadratic-t",
    "logsnr-uniform",
    "edm-rho7",
    "ays",
    "tangent",
    "variational",
    "kl-optimal",
    "sampler-optimal",
)
AYS_MODELS: tuple[str, ...] = ("sd15", "sdxl")
FINITE_ENDS: tuple[str, ...] = ("logsnr-uniform", "edm-rho7")
NFES: tuple[int, ...] = (3, 4, 5, 6, 8, 10, 15, 20, 50)
_TABLE = {
    "ddpm-linear": "linear",
    "ddpm-cosine": "squaredcos_cap_v2",
    "sd15": "scaled_linear",
    "sdxl": "scaled_linear",
}


def applies(model: str, strategy: str) -> bool:
    """Whether ``strategy`` has a grid for ``model`` (AYS tables; finite ends)."""
    if strategy == "ays":
        return model in AYS_MODELS
    return not (model == "flow" and strategy in FINITE_ENDS)


def steps_for(sampler: str, nfe: int) -> int:
    """The steps a budget of ``nfe`` evaluations buys ``sampler`` on a grid ending above 0."""
    from symsched.samplers import get_sampler

    return max(1, nfe // get_sampler(sampler).nfe_per_step)


def _table_sigmas(model: str) -> FloatArray | None:
    if model in ("edm", "flow"):
        return None
    from symsched.schedules.discrete import training_table

    return np.asarray(training_table(_TABLE[model]).sigmas, dtype=np.float64)


def model_range(model: str) -> tuple[float, float]:
    """``(sigma_min, sigma_max)`` of a model's noise schedule.

    Parameters
    ----------
    model
        One of :data:`MODELS`.

    Returns
    -------
    tuple of float
        The smallest and the largest level (EDM: 0.002 and 80; a table: its ends).

    Raises
    ------
    ValueError
        If ``model`` is unknown.
    """
    check_choice(model, "model", MODELS)
    if model == "flow":
        return 0.0, math.inf
    tab = _table_sigmas(model)
    if tab is None:
        return 0.002, 80.0
    return float(tab[0]), float(tab[-1])


def _time_levels(model: str, times: FloatArray) -> FloatArray:
    """Noise levels at (fractional) training times; EDM: t = sigma."""
    tab = _table_sigmas(model)
    if tab is None:
        return times
    return np.exp(np.interp(times, np.arange(tab.size), np.log(tab)))


def strategy_grid(
    model: str,
    strategy: str,
    steps: int,
    eigenvalues: SpectrumLike | None = None,
    *,
    sampler: str = "ddim",
) -> FloatArray:
    """The N-step grid of ``strategy`` for ``model``, between the model's ends.

    Parameters
    ----------
    model
        One of :data:`MODELS`.
    strategy
        One of :data:`STRATEGIES`.
    steps
        The number of steps N.
    eigenvalues
        The data spectrum, needed by ``tangent``, ``variational``, ``kl-optimal`` and
        ``sampler-optimal`` [sun2026, §5.3].
    sampler
        The sampler ``sampler-optimal`` optimises for.

    Returns
    -------
    FloatArray
        The N+1 levels from the model's ``sigma_max`` to its ``sigma_min``.

    Raises
    ------
    ValueError
        If an argument is invalid, ``ays`` is asked of a model without a published table, or a
        spectrum-aware strategy gets no spectrum.
    """
    check_choice(strategy, "strategy", STRATEGIES)
    n = check_steps(steps)
    lo, hi = model_range(model)
    uu = np.arange(n + 1) / n
    if not applies(model, strategy):
        why = "needs finite positive ends" if strategy in FINITE_ENDS else "has no table"
        raise ValueError(f"strategy {strategy!r} {why} for model {model!r}")
    tab = _table_sigmas(model)
    t_hi, t_lo = (hi, lo) if tab is None else (tab.size - 1.0, 0.0)
    if model == "flow" and strategy in ("uniform-t", "quadratic-t"):
        from symsched.export import flow_levels

        t = 1.0 - uu if strategy == "uniform-t" else (1.0 - uu) ** 2
        return as_grid(flow_levels(t))
    if strategy == "uniform-t":
        g = _time_levels(model, t_hi + uu * (t_lo - t_hi))
    elif strategy == "quadratic-t":  # DDIM "quad": t_k = t_lo + (t_hi - t_lo)(1 - u)^2
        g = _time_levels(model, t_lo + (t_hi - t_lo) * (1 - uu) ** 2)
    elif strategy == "logsnr-uniform":
        g = families.loglinear(lo, hi).grid(n)
    elif strategy == "edm-rho7":
        g = families.karras(lo, hi, 7.0).grid(n)
    elif strategy == "ays":
        from symsched.schedules.ays import ays_sigmas

        g = ays_sigmas(model, n)
    else:
        if eigenvalues is None:
            raise ValueError(f"strategy {strategy!r} needs the data spectrum")
        lam = as_eigenvalues(eigenvalues)
        if strategy == "tangent":
            from symsched.gaussian import tangent

            g = tangent.tangent_sigmas(n, tangent.gamma_star(lam), lo, hi)
        elif strategy == "variational":
            from symsched.gaussian import variational

            g = variational.geodesic(lam, lo, hi).grid(n)
        elif strategy == "kl-optimal":
            from symsched.gaussian import variational

            g = variational.kl_optimal(lam, n, lo, hi).sigmas
        else:
            from symsched.gaussian.sampler_optimum import sampler_optimal

            g = sampler_optimal(lam, n, lo, hi, sampler=sampler, objective="kl").sigmas
    g = np.array(g, dtype=np.float64)
    g[0], g[-1] = hi, lo
    return as_grid(g)


@dataclass(frozen=True)
class Ranking:
    """KL of every (NFE, strategy), both directions; strategies ranked by KL(p||p^) [sun2026, §7].

    Attributes
    ----------
    model
        The model.
    nfes
        The NFE budgets.
    strategies
        The strategies compared.
    kl_source_output, kl_output_source
        ``kl[strategy][i]`` at ``nfes[i]``.
    sampler
        The deterministic sampler whose exact KL is compared.
    """

    model: str
    nfes: tuple[int, ...]
    strategies: tuple[str, ...]
    kl_source_output: dict[str, list[float]]
    kl_output_source: dict[str, list[float]]
    sampler: str

    def ranks(self) -> dict[int, list[str]]:
        """Strategies ordered best first at each NFE.

        Returns
        -------
        dict
            ``{nfe: [strategy, ...]}``, by increasing KL(p||p^).
        """
        return {
            n: sorted(self.strategies, key=lambda s: self.kl_source_output[s][i])
            for i, n in enumerate(self.nfes)
        }

    def to_json(self) -> JSONDict:
        """The ranking as a JSON object.

        Returns
        -------
        JSONDict
            ``model``, ``sampler``, ``nfes``, ``strategies``, both KL tables and ``ranking``.
        """
        return {
            "model": self.model,
            "sampler": self.sampler,
            "nfes": list(self.nfes),
            "strategies": list(self.strategies),
            "kl_source_output": {k: list(v) for k, v in self.kl_source_output.items()},
            "kl_output_source": {k: list(v) for k, v in self.kl_output_source.items()},
            "ranking": {str(k): list(v) for k, v in self.ranks().items()},
        }


def rank(
    model: str,
    eigenvalues: SpectrumLike,
    nfes: Iterable[int] = NFES,
    strategies: Iterable[str] | None = None,
    *,
    sampler: str = "ddim",
) -> Ranking:
    """Exact KL of every strategy at every NFE (:func:`steps_for`: N = NFE steps, Heun NFE // 2).

    The pretrained-model scenario of [sun2026, §7]
    (docs/theory/gaussian.md#pretrained-model-ranking).

    Parameters
    ----------
    model
        One of :data:`MODELS`.
    eigenvalues
        The data spectrum in the model's input scale.
    nfes
        The step counts compared.
    strategies
        The strategies (default every one that applies to ``model``).
    sampler
        The deterministic sampler (a name of :data:`symsched.samplers.SAMPLERS`).

    Returns
    -------
    Ranking
        The exact KL of each strategy at each NFE.

    Raises
    ------
    ValueError
        If an argument is invalid.
    """
    check_choice(model, "model", MODELS)
    lam = as_eigenvalues(eigenvalues)
    nf = tuple(check_steps(n, "nfe") for n in nfes)
    strat = (
        tuple(strategies)
        if strategies is not None
        else tuple(s for s in STRATEGIES if applies(model, s))
    )
    for s in strat:
        check_choice(s, "strategy", STRATEGIES)
    kso: dict[str, list[float]] = {s: [] for s in strat}
    kos: dict[str, list[float]] = {s: [] for s in strat}
    for s in strat:
        for n in nf:
            grid = strategy_grid(model, s, steps_for(sampler, n), lam, sampler=sampler)
            res = exact.kl(lam, grid, sampler=sampler)
            kso[s].append(res.kl_source_output)
            kos[s].append(res.kl_output_source)
    return Ranking(model, nf, strat, kso, kos, sampler)


def plot(ranking: Ranking, *, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Log-log figure of KL(p||p^) against NFE for every strategy (looks from
    :mod:`symsched.plot_style`).

    Parameters
    ----------
    ranking
        The result of :func:`rank`.
    title
        The axes title (default: the model's noise schedule and the sampler; name the spectrum
        in it where it is known).
    ax
        Draw into these axes (no legend: the caller's figure gets one); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (Agg backend, not attached to pyplot).
    """
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import styles

    if ax is None:
        fig = new_figure((6.4, 4.4))
        target = fig.add_subplot()
    else:
        fig, target = ax.get_figure(root=True), ax  # type: ignore[assignment]
    look = styles(ranking.strategies)
    for s in ranking.strategies:
        vals = np.array(ranking.kl_source_output[s])
        target.loglog(
            ranking.nfes, np.where(np.isfinite(vals), vals, np.nan), ms=4, **look[s].kwargs()
        )
    target.set_xlabel("NFE (steps)")
    target.set_ylabel("exact KL(data ‖ output)")
    target.set_title(
        title or f"{ranking.model} noise schedule: exact Gaussian KL ({ranking.sampler})",
        fontsize=10,
    )
    target.grid(True, which="major", alpha=0.3)
    if ax is None:
        target.legend(fontsize=8)
    return tidy(fig)
