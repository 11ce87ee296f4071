r"""Discrete training beta tables and the integer timesteps a diffusers scheduler takes.

A discrete-time diffusion model is trained on ``T`` (usually 1000) timesteps with a beta table;
its noise level at timestep ``t`` is

.. math:: \bar\alpha_t=\prod_{s\le t}(1-\beta_s),\qquad
   \sigma^{\rm train}_t=\sqrt{(1-\bar\alpha_t)/\bar\alpha_t},

exactly the expression diffusers evaluates (``((1 - alphas_cumprod) / alphas_cumprod) ** 0.5`` in
``EulerDiscreteScheduler.set_timesteps``) [diffusers, ``scheduling_euler_discrete.py``]. Tables are
computed here in float64; diffusers keeps them in float32 (a relative difference below 1e-5, see
``symsched_verify.tolerances._export``). The tables of docs/conventions.md#discrete-training-tables.

Tables (``--train-schedule``):

* ``linear``: DDPM, ``beta = linspace(1e-4, 0.02, T)`` [ho2020, §4].
* ``scaled_linear``: Stable Diffusion 1.x/2.x/XL,
  ``beta = linspace(sqrt(0.00085), sqrt(0.012), T)**2`` (diffusers
  ``beta_schedule="scaled_linear"``); sigma in [0.0292, 14.6146].
* ``squaredcos_cap_v2``: the cosine schedule [nichol2021, Eq. (17)] discretised as diffusers'
  ``betas_for_alpha_bar`` does, ``beta_i = min(1 - abar((i+1)/T)/abar(i/T), 0.999)``.

References
----------
.. [ho2020] J. Ho, A. Jain, P. Abbeel, arXiv:2006.11239, §4.
.. [nichol2021] A. Nichol, P. Dhariwal, arXiv:2102.09672, Eq. (17).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal, TypeAlias, get_args

import numpy as np

from symsched._typing import FloatArray, GridLike
from symsched._validate import as_grid, check_choice, check_steps

__all__ = [
    "TRAIN_SCHEDULES",
    "Timesteps",
    "TrainSchedule",
    "TrainingTable",
    "timesteps_for_grid",
    "training_table",
]

TrainSchedule: TypeAlias = Literal["linear", "scaled_linear", "squaredcos_cap_v2"]
"""The training beta tables of diffusers' ``beta_schedule``."""
TRAIN_SCHEDULES: tuple[str, ...] = get_args(TrainSchedule)
_DEFAULT_BETAS = {"linear": (1e-4, 0.02), "scaled_linear": (0.00085, 0.012)}
_CAP = 0.999  # diffusers' max_beta for squaredcos_cap_v2
_EDGE_RTOL = 1e-4  # a level this close outside the table's range is taken as its end point


@dataclass(frozen=True)
class TrainingTable:
    """A training beta table and its noise levels ``sigmas[t]`` (increasing in ``t``).

    Attributes
    ----------
    name
        One of :data:`TRAIN_SCHEDULES`.
    betas, alphas_cumprod
        The table, read-only.
    sigmas
        :math:`\\sqrt{(1-\\bar\\alpha_t)/\\bar\\alpha_t}`, read-only.
    """

    name: str
    betas: FloatArray
    alphas_cumprod: FloatArray
    sigmas: FloatArray

    @property
    def num_train_timesteps(self) -> int:
        """The number of training timesteps ``T``."""
        return int(self.betas.size)


@functools.cache
def training_table(name: str = "scaled_linear", num_train_timesteps: int = 1000) -> TrainingTable:
    r"""The training table ``name`` with ``num_train_timesteps`` steps (float64).

    Parameters
    ----------
    name
        One of :data:`TRAIN_SCHEDULES`.
    num_train_timesteps
        ``T`` (at least 2).

    Returns
    -------
    TrainingTable
        The betas, their cumulative products and the noise levels (cached, read-only).

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`TRAIN_SCHEDULES`.
    """
    check_choice(name, "train_schedule", TRAIN_SCHEDULES)
    n = check_steps(num_train_timesteps, "num_train_timesteps", minimum=2)
    if name == "linear":
        lo, hi = _DEFAULT_BETAS[name]
        betas = np.linspace(lo, hi, n, dtype=np.float64)
    elif name == "scaled_linear":
        lo, hi = _DEFAULT_BETAS[name]
        betas = np.linspace(math.sqrt(lo), math.sqrt(hi), n, dtype=np.float64) ** 2
    else:

        def abar(tt: float) -> float:  # [nichol2021, Eq. (17)], offset s = 0.008, unnormalised
            return math.cos((tt + 0.008) / 1.008 * math.pi / 2) ** 2

        betas = np.array([min(1 - abar((i + 1) / n) / abar(i / n), _CAP) for i in range(n)])
    ac = np.cumprod(1.0 - betas)
    sig = np.sqrt((1 - ac) / ac)
    for arr in (betas, ac, sig):
        arr.setflags(write=False)
    return TrainingTable(name, betas, ac, sig)


@dataclass(frozen=True)
class Timesteps:
    """Integer training timesteps for a grid, and the noise levels they actually realise.

    Attributes
    ----------
    timesteps
        Descending integers, one per consumer level before the scheduler's final ``-> 0`` step.
    realised
        ``table.sigmas[timesteps]`` followed by the final 0: the grid the consumer really runs.
    max_rel_shift
        Largest relative change ``|realised/requested - 1|`` over the rounded levels.
    appended_zero
        Whether the consumer's final step to 0 is an extra step (the grid ended above 0).
    """

    timesteps: tuple[int, ...]
    realised: FloatArray
    max_rel_shift: float
    appended_zero: bool


def timesteps_for_grid(sigmas: GridLike, table: TrainingTable) -> Timesteps:
    r"""Round a grid to the nearest integer training timesteps (interpolation in log sigma).

    The fractional timestep of a level is the piecewise-linear interpolation of ``t`` against
    ``log table.sigmas`` (diffusers' ``_sigma_to_t``), rounded to the nearest integer. The
    schedulers that take ``timesteps=`` end with a step to 0 (``final_sigmas_type="zero"``), so a
    grid ending at 0 gives N timesteps, and a grid ending above 0 gives N+1 (one extra consumer
    step) (docs/conventions.md#diffusers-timesteps).

    Parameters
    ----------
    sigmas
        The grid (descending).
    table
        The training table of the model.

    Returns
    -------
    Timesteps
        The timesteps and the levels they realise.

    Raises
    ------
    ValueError
        If a level lies outside the table's range (``sigma_0 = inf`` included), or two levels round
        to the same timestep: duplicates are never produced silently.
    """
    sig = as_grid(sigmas)
    ends_at_zero = sig[-1] == 0.0
    levels = sig[:-1] if ends_at_zero else sig
    lo, hi = float(table.sigmas[0]), float(table.sigmas[-1])
    T = table.num_train_timesteps
    if math.isinf(levels[0]) or levels[0] > hi * (1 + _EDGE_RTOL):
        raise ValueError(
            f"sigmas: sigma_max = {levels[0]:g} is above the training table's largest level "
            f"{hi:.6g} (t = {T - 1}); rebuild the schedule with --sigma-max {hi:.6g}"
        )
    if levels[-1] < lo * (1 - _EDGE_RTOL):
        raise ValueError(
            f"sigmas: level {levels[-1]:g} is below the training table's smallest level {lo:.6g} "
            f"(t = 0); rebuild with --sigma-min {lo:.6g}, or end the grid at 0 (the scheduler's "
            "final step)"
        )
    frac = np.interp(
        np.log(np.clip(levels, lo, hi)), np.log(table.sigmas), np.arange(T, dtype=np.float64)
    )
    ts = np.rint(frac).astype(np.int64)
    dup = np.flatnonzero(np.diff(ts) >= 0)
    if dup.size:
        i = int(dup[0])
        raise ValueError(
            f"sigmas: levels {levels[i]:.6g} and {levels[i + 1]:.6g} both round to training "
            f"timestep {int(ts[i])} of the {table.name} table ({len(levels)} timesteps needed); "
            "duplicate timesteps are never exported. Use fewer --steps, a larger --sigma-min, or "
            "--format diffusers-euler (EulerDiscreteScheduler takes fractional levels through "
            "sigmas=)"
        )
    realised = np.append(table.sigmas[ts], 0.0)
    shift = float(np.max(np.abs(table.sigmas[ts] / levels - 1)))
    return Timesteps(tuple(int(v) for v in ts), realised, shift, not ends_at_zero)
