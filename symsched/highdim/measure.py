r"""Measurements with Monte Carlo error bars, the feature errors and the log-log slope fit.

GM (docs/theory/highdim.md#two-features): mode fraction ``p_hat = P(M > 0)`` (target ``p``),
within-sample standard deviation (target ``sigma``), ``|M|`` (target ``m``). CW
(docs/theory/highdim.md#curie-weiss-features): fraction of ``M > 0`` (target
``W+``, not ``p``), sign-magnetisation, minority-spin fraction, within-sample variance, distance to
``+-1``. Each with its standard error (sample standard deviation / ``sqrt(n)``; for a fraction
``sqrt(f (1 - f) / n)``).

Feature errors (docs/theory/highdim.md#steps-needed): :func:`gm_errors_euler` and :func:`cw_errors`
give the two errors (``high`` and ``low``) that the steps-needed search of
:mod:`symsched.highdim.search` drives below the tolerance, on :data:`SEARCH_GRID` (ratio
``2^{1/4}``). For the GM the errors of the Euler scheme are computed without Monte Carlo
(:func:`~symsched.highdim.simulate.gm_mode_fraction_euler` and the exact growth factor), so the
search is deterministic for ``d`` up to ``1e8``; for the CW they are Monte Carlo estimates of the
full simulation (``d <= 1e4``). This module holds statistics only; it imports neither the search nor
the sweeps.

References: [aranguri2025, §3.3, §4.4, §5.2] (Aranguri, Biroli, Mézard, Vanden-Eijnden,
arXiv:2501.00988); page docs/theory/highdim.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

import numpy as np

from symsched._typing import ArrayLike, BoolArray
from symsched.highdim._grid import TauGrid
from symsched.highdim.cw import CurieWeiss, exact_law, two_mode_law
from symsched.highdim.gm import GaussianMixture, noise_scale
from symsched.highdim.schedules import DEFAULT_KAPPA, process_of, tau_grid
from symsched.highdim.simulate import CWRun, GMRun, cw_full, gm_mode_fraction_euler

__all__ = [
    "CW_MAX_DIM",
    "DEFAULT_TOLERANCE",
    "SEARCH_GRID",
    "CWStatistics",
    "CWTargets",
    "GMStatistics",
    "GMTargets",
    "cw_errors",
    "cw_samples_needed",
    "cw_statistics",
    "fraction_stderr",
    "gm_errors_euler",
    "gm_statistics",
    "loglog_slope",
    "make_grid",
    "mean_stderr",
]

SEARCH_GRID: tuple[int, ...] = tuple(sorted({round(2 ** (k / 4)) for k in range(4, 4 * 18 + 1)}))
CW_MAX_DIM = 10_000  # full simulation only (no exact reduction for the CW)
DEFAULT_TOLERANCE = 0.05


class GMTargets(TypedDict):
    """Population values of the GM features (docs/theory/highdim.md#two-features).

    Attributes
    ----------
    mode_fraction
        ``p``, the weight of the ``+m`` mode.
    within_std
        ``sigma``, the per-mode standard deviation.
    abs_magnetization
        ``m``, the mode offset.
    """

    mode_fraction: float
    within_std: float
    abs_magnetization: float


class GMStatistics(TypedDict):
    """The GM features of a run with their standard errors (:func:`gm_statistics`).

    Attributes
    ----------
    mode_fraction, within_std, abs_magnetization
        The measured features (fraction of ``M > 0``, within-sample standard deviation, mean
        ``|M|``).
    mode_fraction_stderr, within_std_stderr, abs_magnetization_stderr
        Their standard errors.
    targets
        The population values.
    samples
        The number of samples.
    """

    mode_fraction: float
    mode_fraction_stderr: float
    within_std: float
    within_std_stderr: float
    abs_magnetization: float
    abs_magnetization_stderr: float
    targets: GMTargets
    samples: int


class CWTargets(TypedDict):
    """Values of the CW features under a reference law.

    See docs/theory/highdim.md#curie-weiss-features.

    Attributes
    ----------
    mode_fraction
        Fraction of ``M > 0`` (``W+`` in the large-d limit).
    sign_magnetization
        Mean ``|(1/d) sum_i sign X_i|``.
    minority_fraction
        Mean fraction of coordinates whose sign differs from that of ``M``.
    within_var
        Mean within-sample variance of the coordinates.
    distance_to_spins
        Mean distance of the coordinates to ``{-1, +1}``.
    """

    mode_fraction: float
    sign_magnetization: float
    minority_fraction: float
    within_var: float
    distance_to_spins: float


class CWStatistics(TypedDict):
    """The CW features of a run with their standard errors and three sets of targets.

    Attributes
    ----------
    mode_fraction, sign_magnetization, minority_fraction, within_var, distance_to_spins
        The measured features (as :class:`CWTargets`).
    mode_fraction_stderr, sign_magnetization_stderr, minority_fraction_stderr
        Standard errors.
    within_var_stderr, distance_to_spins_stderr
        Standard errors.
    targets
        The large-d values.
    targets_two_mode_finite_d, targets_exact_finite_d
        The finite-d values under the two-mode law and under the exact law.
    samples
        The number of samples.
    """

    mode_fraction: float
    mode_fraction_stderr: float
    sign_magnetization: float
    sign_magnetization_stderr: float
    minority_fraction: float
    minority_fraction_stderr: float
    within_var: float
    within_var_stderr: float
    distance_to_spins: float
    distance_to_spins_stderr: float
    targets: CWTargets
    targets_two_mode_finite_d: CWTargets
    targets_exact_finite_d: CWTargets
    samples: int


def mean_stderr(x: ArrayLike) -> tuple[float, float]:
    """Sample mean and its standard error.

    Parameters
    ----------
    x
        Per-sample values (1-D, at least 2).

    Returns
    -------
    tuple of float
        ``(mean, std(ddof=1) / sqrt(n))``.
    """
    v = np.asarray(x, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


def fraction_stderr(mask: BoolArray) -> tuple[float, float]:
    """Fraction of ``True`` entries and its binomial standard error.

    Parameters
    ----------
    mask
        One boolean per sample.

    Returns
    -------
    tuple of float
        ``(f, sqrt(f (1 - f) / n))``.
    """
    f = float(np.mean(mask))
    return f, math.sqrt(max(f * (1 - f), 0.0) / mask.size)


def gm_statistics(model: GaussianMixture, run: GMRun) -> GMStatistics:
    """The GM features of a run, each with a ``*_stderr`` twin, and their targets.

    The features of docs/theory/highdim.md#two-features [aranguri2025, §3.3].

    Parameters
    ----------
    model
        The Gaussian mixture that was sampled.
    run
        The final state of a simulation (:func:`~symsched.highdim.simulate.gm_reduced` or
        :func:`~symsched.highdim.simulate.gm_full`).

    Returns
    -------
    GMStatistics
        Mode fraction ``P(M > 0)`` (target ``p``), within-sample std (target ``sigma``) and
        ``|M|`` (target ``m``), with standard errors and the sample count.
    """
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


def cw_statistics(model: CurieWeiss, run: CWRun) -> CWStatistics:
    """The CW features of a run with ``*_stderr`` twins and their targets.

    The features of docs/theory/highdim.md#curie-weiss-features [aranguri2025, §4.4].

    Parameters
    ----------
    model
        The Curie–Weiss model that was sampled.
    run
        The final samples of :func:`~symsched.highdim.simulate.cw_full`.

    Returns
    -------
    CWStatistics
        Fraction of ``M > 0`` (target ``W+``), ``|sign-magnetisation|``, minority-spin fraction,
        within-sample variance and distance to ``+-1``, each with its standard error; targets of the
        infinite-d two-mode law (``targets``), of the finite-d two-mode law
        (:func:`~symsched.highdim.cw.two_mode_law`) and of the exact law
        (:func:`~symsched.highdim.cw.exact_law`).
    """
    frac, frac_se = fraction_stderr(run.magnetization > 0)
    sign, sign_se = mean_stderr(np.abs(run.sign_magnetization))
    minority, minority_se = mean_stderr(run.minority_fraction)
    var, var_se = mean_stderr(run.within_var)
    dist, dist_se = mean_stderr(run.distance_to_spins)
    two = two_mode_law(model)
    ex = exact_law(model)
    return {
        "mode_fraction": frac,
        "mode_fraction_stderr": frac_se,
        "sign_magnetization": sign,
        "sign_magnetization_stderr": sign_se,
        "minority_fraction": minority,
        "minority_fraction_stderr": minority_se,
        "within_var": var,
        "within_var_stderr": var_se,
        "distance_to_spins": dist,
        "distance_to_spins_stderr": dist_se,
        "targets": {
            "mode_fraction": model.w_plus,
            "sign_magnetization": model.m,
            "minority_fraction": (1 - model.m) / 2,
            "within_var": 1 - model.m**2,
            "distance_to_spins": 0.0,
        },
        "targets_two_mode_finite_d": {
            "mode_fraction": two.mode_fraction,
            "sign_magnetization": two.abs_magnetization,
            "minority_fraction": two.minority_fraction,
            "within_var": two.within_var,
            "distance_to_spins": 0.0,
        },
        "targets_exact_finite_d": {
            "mode_fraction": ex.mode_fraction,
            "sign_magnetization": ex.abs_magnetization,
            "minority_fraction": ex.minority_fraction,
            "within_var": ex.within_var,
            "distance_to_spins": 0.0,
        },
        "samples": int(run.magnetization.size),
    }


def make_grid(
    schedule: str, steps: int, model: GaussianMixture | CurieWeiss, kappa: float = DEFAULT_KAPPA
) -> tuple[TauGrid, float]:
    """The time grid of a schedule name on ``model``, and its noise scale.

    Parameters
    ----------
    schedule
        One of :data:`symsched.highdim.schedules.SCHEDULES` (``stein`` needs a GM).
    steps
        Number of steps ``N``.
    model
        The model (its dimension sets the dilated windows and the VE noise scale).
    kappa
        Window width of the dilated schedules.

    Returns
    -------
    tuple
        ``(grid, c)`` with ``c`` = 1 (VP) or ``sqrt(d)`` (VE) [aranguri2025, §2.1].

    Raises
    ------
    ValueError
        ``stein`` on a Curie–Weiss model, or an invalid schedule / parameter.
    """
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
    """Deterministic feature errors of the Euler scheme on the GM, without Monte Carlo.

    The errors of docs/theory/highdim.md#steps-needed [aranguri2025, §5.2].

    Parameters
    ----------
    model
        The Gaussian mixture.
    schedule, steps, kappa
        The grid, as :func:`make_grid`.

    Returns
    -------
    dict of str to float
        ``mode_fraction`` (the Euler scheme's exact ``P(M > 0)``), ``std_ratio``, and the two
        errors ``high = |p_hat - p|`` and ``low = |std / sigma - 1|``.
    """
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
    """Monte Carlo feature errors of the CW against the finite-d two-mode targets.

    The errors of docs/theory/highdim.md#steps-needed [aranguri2025, §5.2].

    Parameters
    ----------
    model
        The Curie–Weiss model (``beta > 1``).
    schedule, steps, kappa
        The grid, as :func:`make_grid`.
    samples, seed
        Monte Carlo samples of :func:`~symsched.highdim.simulate.cw_full` and their seed.

    Returns
    -------
    dict of str to float
        ``mode_fraction`` with its ``mode_fraction_stderr``, ``within_var``, and the two errors
        ``high = |frac - W+|`` and ``low = |within_var / target - 1|``.
    """
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


def cw_samples_needed(
    model: CurieWeiss, tolerance: float, high_share: float = 1 / 3, low_share: float = 1 / 10
) -> int:
    r"""Samples for which both CW feature estimates can decide ``error <= tolerance``.

    The sample-count rule of docs/theory/highdim.md#steps-needed:

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
    the CW dilated schedules look "not flat over small d" (docs/theory/highdim.md#steps-needed).

    Parameters
    ----------
    model
        The Curie–Weiss model (``beta > 1``).
    tolerance
        The feature tolerance of the search.
    high_share, low_share
        Error bars allowed on the two features, as shares of ``tolerance``.

    Returns
    -------
    int
        The larger of the two sample counts.
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
    """Least-squares slope of ``log N`` against ``log d`` (``~1/2`` for ``N ~ sqrt(d)``).

    The fit of docs/theory/highdim.md#steps-needed [aranguri2025, §5.2].

    Parameters
    ----------
    dims
        Dimensions ``d`` (> 0).
    steps
        Steps needed at each ``d`` (> 0).

    Returns
    -------
    float
        The fitted exponent.
    """
    x, y = np.log(np.asarray(dims, dtype=np.float64)), np.log(np.asarray(steps, dtype=np.float64))
    return float(np.polyfit(x, y, 1)[0])
