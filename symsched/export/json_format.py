"""``json``: the schedule object itself (method, steps, sigmas, params, version)."""

from __future__ import annotations

from symsched._json import dumps_json
from symsched.export._base import Exported, NoOptions, register_exporter
from symsched.schedules._schedule import Schedule


@register_exporter(
    "json", summary="the schedule object: the N+1 levels and params", options=NoOptions
)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    return Exported(dumps_json(schedule.to_json()), "json: the N+1 levels")
