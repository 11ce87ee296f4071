"""``diffusers-euler``: the N+1 levels for ``EulerDiscreteScheduler.set_timesteps(sigmas=)``.

The terminal value is included and runs N steps (docs/conventions.md#diffusers-euler).
"""

from __future__ import annotations

import numpy as np

from symsched._json import dumps_json
from symsched.export._base import Exported, NoOptions, register_exporter, require_finite_start
from symsched.schedules._schedule import Schedule


@register_exporter(
    "diffusers-euler",
    summary="diffusers EulerDiscreteScheduler sigmas: the N+1 levels",
    options=NoOptions,
)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    require_finite_start(schedule, "diffusers-euler")
    arr = np.array([float(v) for v in schedule.sigmas])
    n = schedule.steps
    note = (
        f"diffusers-euler: exactly {n + 1} levels, terminal value included -> {n} steps "
        "(EulerDiscreteScheduler.set_timesteps(sigmas=...))"
    )
    return Exported(dumps_json(arr, indent=None), note, arr)
