"""``diffusers-euler``: N+1 sigmas ending at 0 for ``EulerDiscreteScheduler.set_timesteps(sigmas)``.

The scheduler runs one step per interval of the list it is given, terminal value included, so the
list ends at 0 like the scheduler's own (``final_sigmas_type="zero"``) and the final step to 0 is
one of the N steps (docs/conventions.md#steps-and-the-final-0, docs/conventions.md#diffusers-euler).
"""

from __future__ import annotations

import numpy as np

from symsched._json import dumps_json
from symsched.export._base import Exported, NoOptions, register_exporter, require_finite_start
from symsched.schedules._schedule import Schedule


@register_exporter(
    "diffusers-euler",
    summary="diffusers EulerDiscreteScheduler sigmas: N+1 ending at 0 (N steps)",
    options=NoOptions,
    ends_at_zero=True,
)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    require_finite_start(schedule, "diffusers-euler")
    arr = np.array([float(v) for v in schedule.sigmas])
    note = (
        f"diffusers-euler: {arr.size} sigmas ending at 0, terminal value included "
        "(EulerDiscreteScheduler.set_timesteps(sigmas=...))"
    )
    return Exported(dumps_json(arr, indent=None), note, arr)
