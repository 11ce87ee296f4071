r"""UpdateSchedule [williams2024, Algorithm 1] on a fine probe grid; the online blend (Algorithm 2).

Cumulative square-root costs on a fine probe grid (the local-quadratic regime), monotone
(Fritsch–Carlson PCHIP) inversion onto equally spaced length values, exact endpoints and a
relative floor (docs/theory/stein.md#updateschedule, docs/theory/stein.md#numerical-hygiene).
Never iterate on the coarse sampling grid: with target-weighted finite-step costs that fixed point
collapses (docs/theory/stein.md#coarse-grid-pitfall).
"""

from __future__ import annotations

import math

import numpy as np

from symsched._typing import ArrayLike, FloatArray, GridLike
from symsched._validate import check_choice, check_positive, check_steps
from symsched.stein._closed import as_levels

__all__ = [
    "COORDS",
    "RELATIVE_FLOOR",
    "cumulative_length",
    "online_update",
    "probe_levels",
    "update_schedule",
]

COORDS: tuple[str, ...] = ("log", "karras")
# max(c_i, 1e-20 max_j c_j): keeps Lambda strictly increasing (docs/theory/stein.md#updateschedule)
# while biasing it by at most 1e-10 of the longest interval per floored interval. The former 1e-12
# (1e-6 on lengths) moved the lowest interior level by 5e-4 relative for N(0, 200^2) on [0.002, 80]
# at N = 100, where ~450 probe intervals sit under the floor (docs/defaults.md). Increments of
# 1e-10 of the longest interval stay above the round-off of the cumulative sum for K < 4e5 probes.
RELATIVE_FLOOR = 1e-20


def probe_levels(sigma_min: float, sigma_max: float, count: int, kind: str = "log") -> FloatArray:
    r"""A descending probe grid of ``count + 1`` levels, geometric or EDM :math:`\rho=7`.

    Step 1 of docs/theory/stein.md#end-to-end-schedule: use ``count`` >> N, e.g. 100-1000.

    Parameters
    ----------
    sigma_min, sigma_max
        Endpoints, ``0 < sigma_min < sigma_max`` (both exact in the output).
    count
        Number of probe intervals K (>= 2).
    kind
        ``"log"`` (geometric) or ``"karras"`` (EDM :math:`\rho=7` spacing [karras2022, Eq. (5)]).

    Returns
    -------
    FloatArray
        ``K + 1`` descending levels.

    Raises
    ------
    ValueError
        Invalid endpoints, count or kind.
    """
    lo = check_positive(sigma_min, "sigma_min")
    hi = check_positive(sigma_max, "sigma_max")
    if not lo < hi:
        raise ValueError(f"sigma_min must be < sigma_max, got {lo} and {hi}")
    k = check_steps(count, "probe_levels", minimum=2)
    check_choice(kind, "kind", COORDS)
    u = np.linspace(0.0, 1.0, k + 1)
    if kind == "log":
        out = np.exp(math.log(hi) + u * (math.log(lo) - math.log(hi)))
    else:
        out = (hi ** (1 / 7) + u * (lo ** (1 / 7) - hi ** (1 / 7))) ** 7
    out[0], out[-1] = hi, lo
    levels: FloatArray = out
    return levels


def cumulative_length(costs: ArrayLike, floor: float = RELATIVE_FLOOR) -> FloatArray:
    r"""Cumulative square-root costs [williams2024, Algorithm 1, lines 1-2].

    :math:`\hat\Lambda_i=\sum_{j<i}\sqrt{\max(c_j,\,\text{floor}\cdot\max c)}`.

    Parameters
    ----------
    costs
        ``K`` finite, non-negative interval costs.
    floor
        Relative floor of the costs.

    Returns
    -------
    FloatArray
        ``K + 1`` values from 0.

    Raises
    ------
    ValueError
        If the costs are not a 1-D array of finite non-negative values, or every cost is zero:
        then the path is degenerate (e.g. VP with unit-variance data,
        docs/theory/stein.md#vp-gaussian) and every schedule is equally optimal.
    """
    c = np.asarray(costs, dtype=np.float64)
    if c.ndim != 1 or c.size < 1 or not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError("costs must be a 1-D array of finite, non-negative interval costs")
    top = float(c.max())
    if top <= 0.0:
        raise ValueError(
            "all interval costs are zero: the path of marginals does not move in the Stein "
            "metric (degenerate case), so every schedule is equally optimal"
        )
    return np.concatenate([[0.0], np.cumsum(np.sqrt(np.maximum(c, floor * top)))])


def update_schedule(
    levels: GridLike,
    costs: ArrayLike,
    steps: int,
    *,
    coord: str = "log",
    floor: float = RELATIVE_FLOOR,
) -> FloatArray:
    r"""UpdateSchedule [williams2024, Algorithm 1]: the N-step grid of equal Stein length.

    Parameters
    ----------
    levels
        Descending probe grid ``[rho_0 > ... > rho_K]`` (fine: ``K`` >> ``steps``).
    costs
        ``K`` interval costs, ``costs[i]`` for ``rho_i -> rho_{i+1}``.
    steps
        Number of steps N of the output grid.
    coord
        Interpolation coordinate for the PCHIP inverse: ``"log"`` (:math:`\log\rho`) or ``"karras"``
        (:math:`\rho^{1/7}`); on a fine grid the choice does not matter
        (docs/theory/stein.md#updateschedule).
    floor
        Relative floor of the costs.

    Returns
    -------
    FloatArray
        ``steps + 1`` descending levels with exactly the probe grid's endpoints, spaced so that
        each step covers :math:`\hat\Lambda/N` of the cumulative length (Algorithm 1, lines 3-4).

    Raises
    ------
    ValueError
        Invalid levels, steps, coord or costs (one per probe interval), or all costs zero.
    """
    from scipy.interpolate import PchipInterpolator

    lev = as_levels(levels)
    n = check_steps(steps, "steps")
    check_choice(coord, "coord", COORDS)
    c = np.asarray(costs, dtype=np.float64)
    if c.shape != (lev.size - 1,):
        raise ValueError(
            f"costs must hold one value per probe interval ({lev.size - 1}), got shape {c.shape}"
        )
    # Work from the clean end upward (Lambda(sigma_min) = 0), as the paper's t runs 0 -> 1.
    lam_cum = cumulative_length(c[::-1], floor)
    asc = lev[::-1]
    u = np.log(asc) if coord == "log" else asc ** (1 / 7)
    inverse = PchipInterpolator(lam_cum, u)  # Fritsch-Carlson monotone cubic (Algorithm 1, line 3)
    uu = inverse(np.linspace(0.0, lam_cum[-1], n + 1))  # line 4: t_i* = Lambda^-1(i Lambda / T)
    out = np.exp(uu) if coord == "log" else uu**7
    out[0], out[-1] = asc[0], asc[-1]  # exact endpoints
    grid: FloatArray = out[::-1].copy()
    if not np.all(np.diff(grid) < 0):  # pragma: no cover - PCHIP is monotone; round-off ties
        raise ValueError("the inverted schedule is not strictly decreasing: use more probe levels")
    return grid


def online_update(levels: GridLike, costs: ArrayLike, gamma: float) -> FloatArray:
    r"""One damped step of AdaptiveScheduleTraining [williams2024, Algorithm 2, line 4].

    :math:`t_i\leftarrow\gamma\,t_i^*+(1-\gamma)\,t_i` with :math:`T^*` = UpdateSchedule of the same
    size; a convex combination of two decreasing grids is decreasing
    (docs/theory/stein.md#online-update). Here the schedule is itself the (fine, ``T`` ~ 1000) grid,
    so the collapse of docs/theory/stein.md#coarse-grid-pitfall does not arise.

    Parameters
    ----------
    levels
        The current (fine) descending schedule.
    costs
        Its ``K`` interval costs.
    gamma
        Damping, in (0, 1].

    Returns
    -------
    FloatArray
        The blended schedule, same endpoints.

    Raises
    ------
    ValueError
        If ``gamma`` is not in (0, 1] (or as :func:`update_schedule`).
    """
    lev = as_levels(levels)
    g = check_positive(gamma, "gamma")
    if g > 1:
        raise ValueError(f"gamma must be in (0, 1], got {g}")
    target = update_schedule(lev, costs, lev.size - 1)
    out = g * target + (1.0 - g) * lev
    out[0], out[-1] = lev[0], lev[-1]  # exact endpoints (the blend may round them by an ulp)
    return out
