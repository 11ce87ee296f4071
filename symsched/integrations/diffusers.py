r"""Put a symsched grid into a diffusers scheduler object: :func:`apply`.

``apply(scheduler, schedule)`` calls the scheduler's ``set_timesteps`` with the argument its class
takes for a custom grid, in the scheduler's own units, so that it visits the schedule's noise levels
(docs/conventions.md#export-conventions), or refuses with the reason:

``EulerDiscreteScheduler``
    ``sigmas=`` the N+1 levels ending at 0 (the scheduler runs one step per interval, terminal
    value included: docs/conventions.md#diffusers-euler). Needs a finite first level.
``DPMSolverMultistepScheduler`` (not ``use_flow_sigmas``)
    ``timesteps=`` the nearest integer training timesteps of the scheduler's *own*
    ``alphas_cumprod`` (interpolation in log sigma, as its ``_sigma_to_t``), the final step to 0
    its ``final_sigmas_type="zero"`` step; rounding moves the levels, and the result states by how
    much (docs/conventions.md#diffusers-timesteps).
``FlowMatchEulerDiscreteScheduler``
    ``sigmas=`` the flow times :math:`t=\rho/(1+\rho)` without the terminal 0, pre-divided by the
    configured ``shift`` (the scheduler re-applies it to user sigmas); with
    ``use_dynamic_shifting`` the exponential time shift is made the identity by ``mu=0``
    (docs/conventions.md#flow-matching).

Every other class, and every configuration that would move the grid after ``set_timesteps``
(Karras / exponential / beta sigmas, ``shift_terminal``, ``invert_sigmas``, stochastic sampling, a
non-zero final sigma), is refused with a ``ValueError`` that names the class or the config key.
Each supported case is verified end to end by sampling an exact Gaussian through the scheduler's
own loop (``tests/symsched/test_integrations_diffusers.py``), with a negative control: the closed
form of the grid the scheduler would visit without the shift undone is rejected.

diffusers is not a dependency of symsched: this module only reads the scheduler object it is given.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from symsched._typing import FloatArray
from symsched.schedules._schedule import Schedule
from symsched.schedules.discrete import TrainingTable, timesteps_for_grid

__all__ = ["SUPPORTED", "Applied", "apply"]

SUPPORTED: tuple[str, ...] = (
    "DPMSolverMultistepScheduler",
    "EulerDiscreteScheduler",
    "FlowMatchEulerDiscreteScheduler",
)
"""The scheduler classes :func:`apply` configures (every other class is refused)."""

_MOVES_GRID = (
    "use_karras_sigmas",
    "use_exponential_sigmas",
    "use_beta_sigmas",
    "invert_sigmas",
    "stochastic_sampling",
    "shift_terminal",
    "use_flow_sigmas",
)


@dataclass(frozen=True)
class Applied:
    """What :func:`apply` did.

    Attributes
    ----------
    call
        The keyword arguments passed to ``set_timesteps`` (lists of Python floats or ints).
    levels
        The noise levels :math:`\\rho` the scheduler now visits, ending at 0: the schedule's grid,
        or for ``timesteps=`` the training-table levels it was rounded to.
    max_rel_shift
        Largest relative move of a level by rounding to integer timesteps (0 otherwise).
    note
        One line: the class, the argument and the convention.
    """

    call: dict[str, Any]
    levels: FloatArray
    max_rel_shift: float
    note: str


def _config(scheduler: Any) -> dict[str, Any]:
    cfg = getattr(scheduler, "config", None)
    if cfg is None:
        raise ValueError(f"{type(scheduler).__name__} has no config: not a diffusers scheduler")
    return dict(cfg)


def _refuse_grid_moves(name: str, cfg: dict[str, Any]) -> None:
    for key in _MOVES_GRID:
        if cfg.get(key):
            raise ValueError(
                f"{name} with {key}={cfg[key]!r} moves a custom grid after set_timesteps; build "
                f"it with {name}.from_config({{**config, '{key}': "
                f"{'None' if key == 'shift_terminal' else 'False'}}})"
            )


def _table(scheduler: Any, cfg: dict[str, Any]) -> TrainingTable:
    ac = np.asarray(scheduler.alphas_cumprod.double().cpu().numpy(), dtype=np.float64)
    betas = np.asarray(scheduler.betas.double().cpu().numpy(), dtype=np.float64)
    sig = np.sqrt((1.0 - ac) / ac)
    return TrainingTable(str(cfg.get("beta_schedule", "custom")), betas, ac, sig)


def apply(scheduler: Any, schedule: Schedule, *, device: Any = None) -> Applied:
    r"""Configure ``scheduler`` (a diffusers scheduler object) to run ``schedule``.

    Parameters
    ----------
    scheduler
        An instance of one of :data:`SUPPORTED`; ``set_timesteps`` is called on it.
    schedule
        The grid; N steps for the scheduler, the last to 0
        (docs/conventions.md#steps-and-the-final-0).
    device
        Passed to ``set_timesteps``.

    Returns
    -------
    Applied

    Raises
    ------
    ValueError
        An unsupported class, a configuration that would move the grid, or a grid the class cannot
        take (an infinite first level for the VP schedulers, levels outside the training table,
        two levels rounding to one timestep).
    """
    from symsched.export import export

    name = type(scheduler).__name__
    if name not in SUPPORTED:
        raise ValueError(
            f"{name} is not supported: apply() configures {', '.join(SUPPORTED)} (the others take "
            "no custom grid in diffusers 0.42.1, or are not verified here)"
        )
    cfg = _config(scheduler)
    sched = schedule.ending_at_zero
    levels = np.asarray(sched.sigmas, dtype=np.float64)
    if name == "FlowMatchEulerDiscreteScheduler":
        _refuse_grid_moves(name, cfg)
        dynamic = bool(cfg.get("use_dynamic_shifting"))
        if dynamic and cfg.get("time_shift_type", "exponential") != "exponential":
            raise ValueError(
                f"{name} with time_shift_type={cfg.get('time_shift_type')!r}: mu cannot be made "
                "the identity; use time_shift_type='exponential'"
            )
        s = 1.0 if dynamic else float(cfg.get("shift", 1.0))
        # the flow-matching exporter: pre-divides by the shift and refuses a collapsing grid
        sigmas = [float(v) for v in json.loads(export(sched, "flow-matching", shift=s).text)]
        call: dict[str, Any] = {"sigmas": sigmas}
        if dynamic:
            call["mu"] = 0.0  # e^0 / (e^0 + (1/t - 1)) = t: the time shift is the identity
        scheduler.set_timesteps(device=device, **call)
        how = "mu=0 (dynamic shifting made the identity)" if dynamic else f"shift {s:g} undone"
        note = f"{name}: sigmas= {len(sigmas)} flow times t = rho/(1+rho), {how}"
        return Applied(call, levels, 0.0, note)
    if math.isinf(levels[0]):
        raise ValueError(
            f"{name} starts from a finite level: build the grid with a finite sigma_max (the "
            "training table's largest level)"
        )
    if name == "EulerDiscreteScheduler":
        _refuse_grid_moves(name, cfg)
        call = {"sigmas": [float(v) for v in levels]}
        scheduler.set_timesteps(device=device, **call)
        note = f"{name}: sigmas= {levels.size} levels ending at 0, terminal value included"
        return Applied(call, levels, 0.0, note)
    # DPMSolverMultistepScheduler
    _refuse_grid_moves(name, cfg)
    if cfg.get("final_sigmas_type", "zero") != "zero":
        raise ValueError(
            f"{name} with final_sigmas_type={cfg.get('final_sigmas_type')!r} does not end at 0: "
            "use final_sigmas_type='zero'"
        )
    ts = timesteps_for_grid(levels, _table(scheduler, cfg))
    call = {"timesteps": [int(v) for v in ts.timesteps]}
    scheduler.set_timesteps(device=device, **call)
    note = (
        f"{name}: timesteps= {len(ts.timesteps)} integer timesteps of its own table, the final "
        f"step to 0; rounding moves the levels by at most {100 * ts.max_rel_shift:.3g}%"
    )
    return Applied(call, np.asarray(ts.realised, dtype=np.float64), ts.max_rel_shift, note)
