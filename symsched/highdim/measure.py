r"""Measurements with Monte Carlo error bars, the steps-needed search and the log-log slope fit.

GM (high_dim.md §3.3): mode fraction ``p_hat = P(M > 0)`` (target ``p``), within-sample standard
deviation (target ``sigma``), ``|M|`` (target ``m``). CW (§4.4): fraction of ``M > 0`` (target
``W+``, not ``p``), sign-magnetisation, minority-spin fraction, within-sample variance, distance to
``+-1``. Each with its standard error (sample standard deviation / ``sqrt(n)``; for a fraction
``sqrt(f (1 - f) / n)``).

Steps needed (§5.2): the smallest ``N`` on :data:`SEARCH_GRID` (ratio ``2^{1/4}``) for which both
feature errors are within the tolerance. For the GM the errors of the Euler scheme are computed
without Monte Carlo (:func:`~symsched.highdim.simulate.gm_mode_fraction_euler` and the exact growth
factor), so the search is deterministic for ``d`` up to ``1e8``; for the CW they are Monte Carlo
estimates of the full simulation (``d <= 1e4``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from symsched.highdim.cw import CurieWeiss, exact_law, two_mode_law
from symsched.highdim.gm import GaussianMixture, noise_scale
from symsched.highdim.schedules import DEFAULT_KAPPA, TauGrid, process_of, tau_grid
from symsched.highdim.simulate import CWRun, GMRun, cw_full, gm_mode_fraction_euler

__all__ = [
    "CW_MAX_DIM",
    "DEFAULT_TOLERANCE",
    "SEARCH_GRID",
    "cw_errors",
    "cw_samples_needed",
    "cw_statistics",
    "fraction_stderr",
    "gm_errors_euler",
    "gm_statistics",
    "loglog_slope",
    "make_grid",
    "mean_stderr",
    "steps_needed",
]

SEARCH_GRID: tuple[int, ...] = tuple(
    sorted({int(round(2 ** (k / 4))) for k in range(4, 4 * 18 + 1)})
)
CW_MAX_DIM = 10_000  # full simulation only (no exact reduction for the CW)
DEFAULT_TOLERANCE = 0.05


def mean_stderr(x: NDArray[np.float64]) -> tuple[float, float]:
    x = np.asarray(x, dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def fraction_stderr(mask: NDArray[np.bool_]) -> tuple[float, float]:
    f = float(np.mean(mask))
    return f, math.sqrt(max(f * (1 - f), 0.0) / mask.size)


def gm_statistics(model: GaussianMixture, run: GMRun) -> dict[str, Any]:
    """The GM features of a run, each with a ``*_stderr`` twin, and their targets."""
    frac, frac_se = fraction_stderr(run.magnetization > 0)
    std, std_se = mean_stderr(run.within_std)
    absm, absm_se = mean_stderr(np.abs(run.magnetization))
    return {
        "mode_fraction": frac,
        "mode_fraction_stderr": frac_se,
        "within_std": std,
        "within_std_stderr": std_se,
        "abs_magnetization": absm,
        "abs_magnetization_stderr": absm_se,
        "targets": {
            "mode_fraction": model.p,
            "within_std": model.mode_sigma,
            "abs_magnetization": model.m,
        },
        "samples": int(run.magnetization.size),
    }


def cw_statistics(model: CurieWeiss, run: CWRun) -> dict[str, Any]:
    """The CW features of a run with ``*_stderr`` twins; targets of the two-mode law and of the exact law."""
    out: dict[str, Any] = {}
    frac, frac_se = fraction_stderr(run.magnetization > 0)
    out["mode_fraction"], out["mode_fraction_stderr"] = frac, frac_se
    for name, values in (
        ("sign_magnetization", np.abs(run.sign_magnetization)),
        ("minority_fraction", run.minority_fraction),
        ("within_var", run.within_var),
        ("distance_to_spins", run.distance_to_spins),
    ):
        out[name], out[f"{name}_stderr"] = mean_stderr(values)
    two = two_mode_law(model)
    ex = exact_law(model)
    out["targets"] = {
        "mode_fraction": model.w_plus,
        "sign_magnetization": model.m,
        "minority_fraction": (1 - model.m) / 2,
        "within_var": 1 - model.m**2,
        "distance_to_spins": 0.0,
    }
    out["targets_two_mode_finite_d"] = {
        "mode_fraction": two.mode_fraction,
        "sign_magnetization": two.abs_magnetization,
        "minority_fraction": two.minority_fraction,
        "within_var": two.within_var,
        "distance_to_spins": 0.0,
    }
    out["targets_exact_finite_d"] = {
        "mode_fraction": ex.mode_fraction,
        "sign_magnetization": ex.abs_magnetization,
        "minority_fraction": ex.minority_fraction,
        "within_var": ex.within_var,
        "distance_to_spins": 0.0,
    }
    out["samples"] = int(run.magnetization.size)
    return out


def make_grid(
    schedule: str, steps: int, model: GaussianMixture | CurieWeiss, kappa: float = DEFAULT_KAPPA
) -> tuple[TauGrid, float]:
    """``(grid, c)`` for a schedule name on ``model`` (``stein`` needs a GM)."""
    c_value = noise_scale(process_of(schedule), model.dim)
    gm = model if isinstance(model, GaussianMixture) else None
    if schedule == "stein" and gm is None:
        raise ValueError(
            "schedule stein is computed on the Gaussian mixture; it is not defined for the cw model"
        )
    return tau_grid(schedule, steps, model.dim, kappa, model=gm), c_value


def gm_errors_euler(
    model: GaussianMixture, schedule: str, steps: int, kappa: float = DEFAULT_KAPPA
) -> dict[str, float]:
    """Deterministic feature errors of the Euler scheme: ``|p_hat - p|`` and ``|std/sigma - 1|``."""
    grid, c_value = make_grid(schedule, steps, model, kappa)
    a, _, _ = model.coefficients(grid.taus[:-1], grid.alphas[:-1], c_value)
    growth = float(np.prod(1.0 + grid.dtaus * np.asarray(a)))
    p_hat = gm_mode_fraction_euler(model, grid, c_value)
    ratio = abs(growth) * c_value / model.mode_sigma
    return {
        "mode_fraction": p_hat,
        "std_ratio": ratio,
        "high": abs(p_hat - model.p),
        "low": abs(ratio - 1),
    }


def cw_errors(
    model: CurieWeiss,
    schedule: str,
    steps: int,
    samples: int,
    seed: int,
    kappa: float = DEFAULT_KAPPA,
) -> dict[str, float]:
    """Monte Carlo feature errors of the CW: ``|frac - W+|`` and ``|within_var / target - 1|`` (two-mode targets)."""
    grid, c_value = make_grid(schedule, steps, model, kappa)
    stats = cw_statistics(model, cw_full(model, grid, c_value, samples, seed))
    tgt = stats["targets_two_mode_finite_d"]
    return {
        "mode_fraction": stats["mode_fraction"],
        "mode_fraction_stderr": stats["mode_fraction_stderr"],
        "within_var": stats["within_var"],
        "high": abs(stats["mode_fraction"] - tgt["mode_fraction"]),
        "low": abs(stats["within_var"] / tgt["within_var"] - 1),
    }


def steps_needed(
    errors: Callable[[int], dict[str, float]], tolerance: float, grid: Sequence[int] = SEARCH_GRID
) -> tuple[int | None, list[dict[str, Any]]]:
    """Smallest ``N`` in ``grid`` with ``high <= tol`` and ``low <= tol``: galloping then bisection.

    Assumes the errors decrease with ``N`` (they do, up to Monte Carlo noise, on every case we
    measured); the returned ``N`` meets the tolerance and its predecessor on the grid does not.
    Returns ``(None, trace)`` if even the largest ``N`` fails. The search itself is
    :func:`symsched.highdim.search.search_steps` (which also drives the parallel sweeps).
    """
    from symsched.highdim.search import search_steps

    gen = search_steps(tolerance, grid)
    n = next(gen)
    while True:
        try:
            n = gen.send(errors(n))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


def cw_samples_needed(
    model: CurieWeiss, tolerance: float, high_share: float = 1 / 3, low_share: float = 1 / 10
) -> int:
    r"""Samples for which both CW feature estimates are precise enough to decide ``error <= tolerance``.

    * High level: the fraction's error bar ``sqrt(W+ (1 - W+) / S) <= 0.5 / sqrt(S)`` at most
      ``high_share x tolerance`` (the CLI rule ``S >= (1.5 / tol)^2`` for the default 1/3).
    * Low level: the error bar of the relative within-sample variance at most
      ``low_share x tolerance``. A sample's within-variance is ``1 - M_s^2``, so its spread is
      ``sd(M^2)`` under the two-mode law, about ``2 m sqrt((1 - m^2) / d)``; relative to the target
      ``1 - m^2`` that is ``2m / sqrt((1 - m^2) d)``, i.e. 0.66 at ``beta = 2``, ``d = 100``:
      ``S >= Var(M^2) / (E[1 - M^2] low_share tol)^2`` (computed exactly from
      :func:`~symsched.highdim.cw.two_mode_law`), 17,600 samples at ``beta = 2``, ``d = 100``.

    The low-level rule matters because the error of the Euler scheme in this feature falls only
    like ``N^{-0.7}`` near the tolerance, so a relative error-bar of ``e`` moves the ``N`` found by
    about ``e / 0.7`` in ``log N``: with 1000 samples at ``d = 100``, ``beta = 2`` (error bar 0.021,
    40% of the 0.05 tolerance) the search lands up to three grid steps away, which is what made
    the CW dilated schedules look "not flat over small d" (high_dim.md §5.2).
    """
    law = two_mode_law(model)
    d = model.dim
    mag = (2 * np.arange(d + 1, dtype=np.float64) - d) / d
    prob = law.probabilities
    var_m2 = float(prob @ mag**4 - (prob @ mag**2) ** 2)
    s_high = math.ceil((0.5 / (high_share * tolerance)) ** 2)
    s_low = math.ceil(var_m2 / (law.within_var * low_share * tolerance) ** 2)
    return max(s_high, s_low)


def loglog_slope(dims: Sequence[float], steps: Sequence[float]) -> float:
    """Least-squares slope of ``log N`` against ``log d``."""
    x, y = np.log(np.asarray(dims, dtype=np.float64)), np.log(np.asarray(steps, dtype=np.float64))
    return float(np.polyfit(x, y, 1)[0])
