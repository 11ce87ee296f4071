"""``diffusers-timesteps``: integer training timesteps for ``set_timesteps(timesteps=...)``.

For ``DPMSolverMultistepScheduler`` / ``EulerDiscreteScheduler`` of a model trained on a beta table
(:mod:`symsched.schedules.discrete`), whose last step goes to 0 (``final_sigmas_type="zero"``):
N timesteps, one per step, the last step to 0 one of the N
(docs/conventions.md#steps-and-the-final-0). Two levels rounding to one timestep is an error with
advice, never a silent duplicate (docs/conventions.md#diffusers-timesteps).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from symsched._options import option
from symsched.export._base import Exported, register_exporter, require_finite_start
from symsched.schedules._schedule import Schedule
from symsched.schedules.discrete import TrainSchedule, timesteps_for_grid, training_table

__all__ = ["TimestepsOptions"]


@dataclass(frozen=True)
class TimestepsOptions:
    """Options of ``diffusers-timesteps``: the model's training table.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule METHOD --help`` lists it).
    """

    train_schedule: TrainSchedule = option(
        "scaled_linear", "training beta table (scaled_linear: SD 1.x / XL)"
    )
    num_train_timesteps: int = option(1000, "length T of the training table", metavar="T")


@register_exporter(
    "diffusers-timesteps",
    summary="N integer timesteps of a training beta table (the last step to 0)",
    options=TimestepsOptions,
    ends_at_zero=True,
)
def _render(schedule: Schedule, o: TimestepsOptions) -> Exported:
    require_finite_start(schedule, "diffusers-timesteps")
    table = training_table(o.train_schedule, o.num_train_timesteps)
    ts = timesteps_for_grid(schedule.sigmas, table)
    note = (
        f"diffusers-timesteps: {len(ts.timesteps)} integer timesteps of the {o.train_schedule} "
        f"table (T = {o.num_train_timesteps}), one per step, the scheduler's final step to 0 "
        "(set_timesteps(timesteps=...), final_sigmas_type='zero'); rounding moves the levels by "
        f"at most {100 * ts.max_rel_shift:.3g}%"
    )
    return Exported(json.dumps(list(ts.timesteps)), note, ts.realised)
