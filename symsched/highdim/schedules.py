r"""Time grids of the probability-flow ODE: constant denoising and the dilated VP / VE schedules.

A schedule here is an increasing grid ``0 = tau_0 < tau_1 < ... < tau_N = 1`` of interpolant times,
stored together with the exact complements ``alpha_k = 1 - tau_k`` (computed from the schedule's
own formula, not as ``1 - tau``, so that ``alpha`` keeps full relative precision near ``tau = 1``).
Forward Euler on it is ``X_{k+1} = X_k + (tau_{k+1} - tau_k) b_{tau_k}(X_k)``; for the dilated
schedules and even ``N`` this is exactly the authors' Euler step in ``t`` with ``dtau/dt``
(high_dim.md §2.4, §5.1), because every step then lies inside one linear piece of ``tau(t)``.

With ``alpha = 1 - tau`` this Euler step is DDIM in the noise level ``rho = c alpha / tau``
(conventions.md), so :meth:`TauGrid.sigmas` is the grid a user would export.

References: [aranguri2025, §5.1] via high_dim.md §2.3, §5.1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from symsched._validate import check_choice, check_positive, check_steps
from symsched.highdim.gm import check_dim

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

SCHEDULES: tuple[str, ...] = ("vp-constant", "vp-dilated", "ve-constant", "ve-dilated", "stein")
DEFAULT_KAPPA = 3.0


@dataclass(frozen=True)
class TauGrid:
    """An increasing time grid ``taus`` (``tau_0 = 0``, ``tau_N = 1``) with ``alphas = 1 - taus``."""

    name: str
    taus: NDArray[np.float64]
    alphas: NDArray[np.float64]
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t, a = np.asarray(self.taus, dtype=np.float64), np.asarray(self.alphas, dtype=np.float64)
        if t.ndim != 1 or t.shape != a.shape or t.size < 2:
            raise ValueError("taus and alphas must be 1-D arrays of the same length >= 2")
        if t[0] != 0.0 or t[-1] != 1.0 or a[0] != 1.0 or a[-1] != 0.0:
            raise ValueError(
                "a tau grid must start at tau = 0 (alpha = 1) and end at tau = 1 (alpha = 0)"
            )
        if not (np.all(np.diff(t) > 0) and np.all(np.diff(a) < 0)):
            raise ValueError("taus must be strictly increasing (alphas strictly decreasing)")
        object.__setattr__(self, "taus", t)
        object.__setattr__(self, "alphas", a)

    @property
    def steps(self) -> int:
        return int(self.taus.size - 1)

    @property
    def dtaus(self) -> NDArray[np.float64]:
        """Step sizes ``tau_{k+1} - tau_k``, computed from ``alphas`` where that is more accurate."""
        dt = np.diff(self.taus)
        da = -np.diff(self.alphas)
        return np.where(self.taus[1:] > 0.5, da, dt)

    def sigmas(self, c_value: float) -> NDArray[np.float64]:
        """Noise levels ``rho_k = c alpha_k / tau_k`` (descending, ``inf`` first, ``0`` last)."""
        with np.errstate(divide="ignore"):
            return np.where(
                self.taus > 0,
                c_value * self.alphas / np.where(self.taus > 0, self.taus, 1.0),
                math.inf,
            )

    def to_json(self, c_value: float) -> dict[str, Any]:
        """The conventions.md schedule object, in the noise-level scale."""
        from symsched._version import __version__

        return {
            "method": self.name,
            "steps": self.steps,
            "sigmas": self.sigmas(c_value).tolist(),
            "taus": self.taus.tolist(),
            "params": dict(self.params),
            "version": __version__,
        }


def constant(steps: int, name: str = "constant") -> TauGrid:
    """Constant denoising: ``tau_k = k / N`` (high_dim.md §2.3)."""
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
    r"""VP-dilated: half of the steps in the speciation window ``tau in [0, kappa/sqrt(d)]`` (§5.1).

    ``tau_t = 2 r t`` for ``t < 1/2`` and ``r + (1 - r)(2t - 1)`` after, ``r = kappa / sqrt(d)``,
    on ``t_k = k / N``.
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
    r"""VE-dilated: half of the steps where ``1 - tau in [0, kappa/sqrt(d)]`` (§5.1).

    ``tau_t = 2(1 - r) t`` for ``t < 1/2`` and ``(1 - r) + r(2t - 1)`` after, so the per-coordinate
    noise ``sqrt(d)(1 - tau) = kappa (2 - 2t)`` falls linearly from ``kappa`` to 0 in phase 2.
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
    model: Any = None,
    **stein_options: Any,
) -> TauGrid:
    """Build a schedule by name (one of :data:`SCHEDULES`); ``stein`` needs the GM ``model``."""
    check_choice(schedule, "schedule", SCHEDULES)
    if schedule in ("vp-constant", "ve-constant"):
        return constant(steps, schedule)
    if schedule == "vp-dilated":
        return vp_dilated(steps, dim, kappa)
    if schedule == "ve-dilated":
        return ve_dilated(steps, dim, kappa)
    from symsched.highdim.gm_stein import gm_stein_schedule

    if model is None:
        raise ValueError("the stein schedule is computed on a Gaussian-mixture model: pass model=")
    return gm_stein_schedule(model, steps, **stein_options)


def process_of(schedule: str) -> str:
    """``vp`` or ``ve``: the noise scale the schedule is run with (stein: VP, see gm_stein)."""
    check_choice(schedule, "schedule", SCHEDULES)
    return "ve" if schedule.startswith("ve") else "vp"
