r"""Time grids of the probability-flow ODE: constant denoising and the dilated VP / VE schedules.

A schedule here is an increasing grid ``0 = tau_0 < tau_1 < ... < tau_N = 1`` of interpolant times,
stored together with the exact complements ``alpha_k = 1 - tau_k`` (computed from the schedule's
own formula, not as ``1 - tau``, so that ``alpha`` keeps full relative precision near ``tau = 1``).
Forward Euler on it is ``X_{k+1} = X_k + (tau_{k+1} - tau_k) b_{tau_k}(X_k)``; for the dilated
schedules and even ``N`` this is exactly the authors' Euler step in ``t`` with ``dtau/dt``
(docs/theory/highdim.md#euler-integrator), because every step then lies inside one linear piece of
``tau(t)``.

With ``alpha = 1 - tau`` this Euler step is DDIM in the noise level ``rho = c alpha / tau``
(docs/conventions.md#noise-level), so :meth:`TauGrid.sigmas` is the grid a user would export.

References: [aranguri2025, §5.1] (docs/theory/highdim.md#time-dilation-and-constant-denoising,
docs/theory/highdim.md#dilated-schedules).
"""

from __future__ import annotations

import math

import numpy as np

from symsched._validate import check_choice, check_positive, check_steps
from symsched.highdim._grid import TauGrid
from symsched.highdim._names import SCHEDULES
from symsched.highdim.gm import GaussianMixture, Process, check_dim
from symsched.highdim.gm_stein import DEFAULT_RHO_MAX_FACTOR, gm_stein_schedule

__all__ = [
    "DEFAULT_KAPPA",
    "SCHEDULES",
    "TauGrid",
    "constant",
    "process_of",
    "tau_grid",
    "ve_dilated",
    "vp_dilated",
]

DEFAULT_KAPPA = 3.0


def constant(steps: int, name: str = "constant") -> TauGrid:
    """Constant denoising: ``tau_k = k / N`` [aranguri2025, §2.3].

    See docs/theory/highdim.md#time-dilation-and-constant-denoising.

    Parameters
    ----------
    steps
        Number of steps ``N >= 1``.
    name
        Name of the grid (``vp-constant`` or ``ve-constant`` from :func:`tau_grid`).

    Returns
    -------
    TauGrid
        ``N + 1`` equally spaced times with exact complements ``(N - k) / N``.
    """
    n = check_steps(steps, "steps")
    k = np.arange(n + 1, dtype=np.float64)
    return TauGrid(name, k / n, (n - k) / n, {"steps": n})


def _ratio(kappa: float, dim: int) -> float:
    kappa = check_positive(kappa, "kappa")
    dim = check_dim(dim)
    r = kappa / math.sqrt(dim)
    if not r < 1:
        raise ValueError(
            f"kappa must be < sqrt(dim) = {math.sqrt(dim):g} for a dilated schedule "
            f"(the window kappa/sqrt(d) must lie inside (0, 1)); got kappa = {kappa:g}"
        )
    return r


def vp_dilated(steps: int, dim: int, kappa: float = DEFAULT_KAPPA) -> TauGrid:
    r"""VP-dilated: half of the steps in the speciation window ``tau in [0, kappa/sqrt(d)]``.

    ``tau_t = 2 r t`` for ``t < 1/2`` and ``r + (1 - r)(2t - 1)`` after, ``r = kappa / sqrt(d)``,
    on ``t_k = k / N`` [aranguri2025, §5.1] (docs/theory/highdim.md#dilated-schedules).

    Parameters
    ----------
    steps
        Number of steps ``N >= 1`` (even ``N``: every step lies inside one linear piece).
    dim
        Dimension ``d``.
    kappa
        Width of the window in units of ``1 / sqrt(d)``; ``0 < kappa < sqrt(d)``.

    Returns
    -------
    TauGrid
        The grid, with ``params`` ``steps``, ``kappa``, ``dim`` and ``r``.

    Raises
    ------
    ValueError
        If ``kappa`` is not in ``(0, sqrt(d))`` or ``steps`` / ``dim`` are invalid.
    """
    n = check_steps(steps, "steps")
    r = _ratio(kappa, dim)
    t = np.arange(n + 1, dtype=np.float64) / n
    first = t < 0.5
    taus = np.where(first, 2 * r * t, r + (1 - r) * (2 * t - 1))
    alphas = np.where(first, 1 - 2 * r * t, (1 - r) * (2 - 2 * t))
    return TauGrid(
        "vp-dilated", taus, alphas, {"steps": n, "kappa": float(kappa), "dim": int(dim), "r": r}
    )


def ve_dilated(steps: int, dim: int, kappa: float = DEFAULT_KAPPA) -> TauGrid:
    r"""VE-dilated: half of the steps where ``1 - tau in [0, kappa/sqrt(d)]``.

    ``tau_t = 2(1 - r) t`` for ``t < 1/2`` and ``(1 - r) + r(2t - 1)`` after, so the
    per-coordinate noise ``sqrt(d)(1 - tau) = kappa (2 - 2t)`` falls linearly from ``kappa`` to 0
    in phase 2 [aranguri2025, §5.1] (docs/theory/highdim.md#dilated-schedules).

    Parameters
    ----------
    steps, dim, kappa
        As :func:`vp_dilated`.

    Returns
    -------
    TauGrid
        The grid, with ``params`` ``steps``, ``kappa``, ``dim`` and ``r``.

    Raises
    ------
    ValueError
        If ``kappa`` is not in ``(0, sqrt(d))`` or ``steps`` / ``dim`` are invalid.
    """
    n = check_steps(steps, "steps")
    r = _ratio(kappa, dim)
    t = np.arange(n + 1, dtype=np.float64) / n
    first = t < 0.5
    taus = np.where(first, 2 * (1 - r) * t, (1 - r) + r * (2 * t - 1))
    alphas = np.where(first, 1 - 2 * (1 - r) * t, r * (2 - 2 * t))
    return TauGrid(
        "ve-dilated", taus, alphas, {"steps": n, "kappa": float(kappa), "dim": int(dim), "r": r}
    )


def tau_grid(
    schedule: str,
    steps: int,
    dim: int,
    kappa: float = DEFAULT_KAPPA,
    model: GaussianMixture | None = None,
    *,
    rho_max: float | None = None,
    rho_max_factor: float = DEFAULT_RHO_MAX_FACTOR,
    probe: int = 2000,
) -> TauGrid:
    """Build a schedule by name (one of :data:`SCHEDULES`).

    Parameters
    ----------
    schedule
        ``vp-constant``, ``ve-constant`` (:func:`constant`), ``vp-dilated``, ``ve-dilated``
        (:func:`vp_dilated`, :func:`ve_dilated`) or ``stein``
        (:func:`~symsched.highdim.gm_stein.gm_stein_schedule`).
    steps
        Number of steps ``N``.
    dim
        Dimension ``d`` (the dilated windows scale with ``1 / sqrt(d)``).
    kappa
        Window width of the dilated schedules.
    model
        The Gaussian mixture, needed by ``stein`` only.
    rho_max, rho_max_factor, probe
        Options of the ``stein`` schedule (see
        :func:`~symsched.highdim.gm_stein.gm_stein_schedule`).

    Returns
    -------
    TauGrid

    Raises
    ------
    ValueError
        Unknown schedule name, ``stein`` without ``model``, or invalid parameters.
    """
    check_choice(schedule, "schedule", SCHEDULES)
    if schedule in ("vp-constant", "ve-constant"):
        return constant(steps, schedule)
    if schedule == "vp-dilated":
        return vp_dilated(steps, dim, kappa)
    if schedule == "ve-dilated":
        return ve_dilated(steps, dim, kappa)
    if model is None:
        raise ValueError("the stein schedule is computed on a Gaussian-mixture model: pass model=")
    return gm_stein_schedule(
        model, steps, rho_max=rho_max, rho_max_factor=rho_max_factor, probe=probe
    )


def process_of(schedule: str) -> Process:
    """The noise scale a schedule is run with (``stein``: VP, see :mod:`.gm_stein`).

    Parameters
    ----------
    schedule
        One of :data:`SCHEDULES`.

    Returns
    -------
    str
        ``"ve"`` for the ``ve-*`` schedules, ``"vp"`` otherwise.
    """
    check_choice(schedule, "schedule", SCHEDULES)
    return "ve" if schedule.startswith("ve") else "vp"
