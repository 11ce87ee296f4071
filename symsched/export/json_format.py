"""``json``: the schedule object itself (method, steps, sigmas, params, version) and its ``nfe``.

The grid as symsched's samplers run it, N steps ending at ``sigma_N``; ``nfe`` maps each sampler
to its denoiser evaluations on it (docs/conventions.md#json-output,
docs/conventions.md#steps-and-the-final-0).
"""

from __future__ import annotations

from symsched._json import dumps_json
from symsched.export._base import Exported, NoOptions, nfe_by_sampler, register_exporter
from symsched.schedules._schedule import Schedule


@register_exporter(
    "json", summary="the schedule object: the N+1 levels, params and NFE", options=NoOptions
)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    obj = {**schedule.to_json(), "nfe": nfe_by_sampler(schedule.sigmas)}
    return Exported(dumps_json(obj), f"json: the {schedule.steps + 1} levels", schedule.sigmas)
