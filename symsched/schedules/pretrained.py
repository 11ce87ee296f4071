r"""Pretrained-model scenario: rank time-discretisation strategies of a given noise schedule by exact KL.

[sun2026, §7] (docs/theory/gaussian.md#pretrained-model-ranking): for a model with a fixed noise
schedule, the exact Gaussian KL of the deterministic sampler, evaluated on the data spectrum in the
model's input scale, compares discretisations at a given NFE budget. Models:

* ``edm`` — continuous EDM/VE, :math:`\sigma\in[0.002, 80]` [karras2022];
* ``ddpm-linear`` — 1000-step DDPM linear beta table (``beta = linspace(1e-4, 0.02)``) [ho2020];
* ``ddpm-cosine`` — 1000-step cosine table (diffusers ``squaredcos_cap_v2``) [nichol2021];
* ``sd15`` — the 1000-step ``scaled_linear`` table of Stable Diffusion 1.x, the one model here for
  which Align Your Steps publishes a table [sabour2024] (docs/conventions.md#align-your-steps-tables).

Strategies (N steps = N+1 levels from the model's sigma_max down to its sigma_min; no zero appended):
``uniform-t`` and ``quadratic-t`` (uniform / quadratic in the training time; for EDM, whose time is
:math:`t=\sigma`, uniform / quadratic in sigma), ``logsnr-uniform`` (geometric in sigma),
``edm-rho7`` (Karras rho = 7), ``ays`` (sd15 only, log-linear interpolation of the 10-step table),
``tangent`` (gamma*), ``variational`` (the weighted geodesic) and ``kl-optimal``.
Discrete tables are read at fractional timesteps by log-sigma interpolation, as k-diffusion's
``DiscreteSchedule`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from symsched._validate import as_eigenvalues, as_grid, check_choice, check_steps
from symsched.gaussian import exact, tangent, variational
from symsched.schedules import families

__all__ = ["MODELS", "NFES", "STRATEGIES", "Ranking", "model_range", "rank", "strategy_grid"]

MODELS: tuple[str, ...] = ("edm", "ddpm-linear", "ddpm-cosine", "sd15")
STRATEGIES: tuple[str, ...] = (
    "uniform-t",
    "quadratic-t",
    "logsnr-uniform",
    "edm-rho7",
    "ays",
    "tangent",
    "variational",
    "kl-optimal",
)
NFES: tuple[int, ...] = (3, 4, 5, 6, 8, 10, 15, 20, 50)
_TABLE = {"ddpm-linear": "linear", "ddpm-cosine": "squaredcos_cap_v2", "sd15": "scaled_linear"}


def _table_sigmas(model: str) -> NDArray[np.float64] | None:
    if model == "edm":
        return None
    from symsched.schedules.discrete import training_table

    return np.asarray(training_table(_TABLE[model]).sigmas, dtype=np.float64)


def model_range(model: str) -> tuple[float, float]:
    """``(sigma_min, sigma_max)`` of a model's noise schedule."""
    check_choice(model, "model", MODELS)
    tab = _table_sigmas(model)
    if tab is None:
        return 0.002, 80.0
    return float(tab[0]), float(tab[-1])


def _time_levels(model: str, times: NDArray[np.float64]) -> NDArray[np.float64]:
    """Noise levels at (fractional) training times; EDM: t = sigma."""
    tab = _table_sigmas(model)
    if tab is None:
        return times
    return np.exp(np.interp(times, np.arange(tab.size), np.log(tab)))


def strategy_grid(
    model: str, strategy: str, steps: int, eigenvalues: Any = None
) -> NDArray[np.float64]:
    """The N-step grid of ``strategy`` for ``model`` (needs ``eigenvalues`` for the spectrum-aware ones).

    Raises ``ValueError`` for ``ays`` on a model without a published table.
    """
    check_choice(strategy, "strategy", STRATEGIES)
    n = check_steps(steps)
    lo, hi = model_range(model)
    uu = np.arange(n + 1) / n
    tab = _table_sigmas(model)
    t_hi, t_lo = (hi, lo) if tab is None else (tab.size - 1.0, 0.0)
    if strategy == "uniform-t":
        g = _time_levels(model, t_hi + uu * (t_lo - t_hi))
    elif strategy == "quadratic-t":  # DDIM "quad": t_k = t_lo + (t_hi - t_lo)(1 - u)^2
        g = _time_levels(model, t_lo + (t_hi - t_lo) * (1 - uu) ** 2)
    elif strategy == "logsnr-uniform":
        g = families.loglinear(lo, hi).grid(n)
    elif strategy == "edm-rho7":
        g = families.karras(lo, hi, 7.0).grid(n)
    elif strategy == "ays":
        if model != "sd15":
            raise ValueError(
                f"Align Your Steps publishes no table for model {model!r} (only sd15 here)"
            )
        from symsched.schedules.ays import ays_sigmas

        g = ays_sigmas("sd15", n)
    else:
        if eigenvalues is None:
            raise ValueError(f"strategy {strategy!r} needs the data spectrum")
        lam = as_eigenvalues(eigenvalues)
        if strategy == "tangent":
            g = tangent.tangent_sigmas(n, tangent.gamma_star(lam), lo, hi)
        elif strategy == "variational":
            g = variational.geodesic(lam, lo, hi).grid(n)
        else:
            g = variational.kl_optimal(lam, n, lo, hi).sigmas
    g = np.array(g, dtype=np.float64)
    g[0], g[-1] = hi, lo
    return as_grid(g)


@dataclass(frozen=True)
class Ranking:
    """KL of every (NFE, strategy): ``kl[strategy][i]`` at ``nfes[i]`` (both directions), ranks by KL(p||p^)."""

    model: str
    nfes: tuple[int, ...]
    strategies: tuple[str, ...]
    kl_source_output: dict[str, list[float]]
    kl_output_source: dict[str, list[float]]
    sampler: str

    def ranks(self) -> dict[int, list[str]]:
        """Strategies ordered best first at each NFE."""
        return {
            n: sorted(self.strategies, key=lambda s: self.kl_source_output[s][i])
            for i, n in enumerate(self.nfes)
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "sampler": self.sampler,
            "nfes": list(self.nfes),
            "strategies": list(self.strategies),
            "kl_source_output": self.kl_source_output,
            "kl_output_source": self.kl_output_source,
            "ranking": {str(k): v for k, v in self.ranks().items()},
        }


def rank(
    model: str, eigenvalues: Any, nfes: Any = NFES, strategies: Any = None, *, sampler: str = "ddim"
) -> Ranking:
    """Exact KL of every strategy at every NFE (one NFE = one step of the first-order sampler)."""
    check_choice(model, "model", MODELS)
    lam = as_eigenvalues(eigenvalues)
    nf = tuple(check_steps(n, "nfe") for n in nfes)
    strat = (
        tuple(strategies)
        if strategies is not None
        else tuple(s for s in STRATEGIES if s != "ays" or model == "sd15")
    )
    for s in strat:
        check_choice(s, "strategy", STRATEGIES)
    kso: dict[str, list[float]] = {s: [] for s in strat}
    kos: dict[str, list[float]] = {s: [] for s in strat}
    for s in strat:
        for n in nf:
            res = exact.kl(lam, strategy_grid(model, s, n, lam), sampler=sampler)
            kso[s].append(res.kl_source_output)
            kos[s].append(res.kl_output_source)
    return Ranking(model, nf, strat, kso, kos, sampler)


def plot(ranking: Ranking) -> Any:
    """Log-log figure of KL(p||p^) against NFE for every strategy (matplotlib figure)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for s in ranking.strategies:
        vals = np.array(ranking.kl_source_output[s])
        ax.loglog(ranking.nfes, np.where(np.isfinite(vals), vals, np.nan), marker="o", label=s)
    ax.set_xlabel("NFE (steps)")
    ax.set_ylabel("exact KL(data || output)")
    ax.set_title(f"{ranking.model}: exact Gaussian KL by discretisation ({ranking.sampler})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
