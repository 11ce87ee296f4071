"""``csv``: one row ``k,sigma`` per level (``inf`` written as ``inf``)."""

from __future__ import annotations

import io
import math

from symsched.export._base import Exported, NoOptions, register_exporter
from symsched.schedules._schedule import Schedule


@register_exporter("csv", summary="k,sigma rows, k = 0..N", options=NoOptions)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    buf = io.StringIO()
    buf.write("k,sigma\n")
    for k, v in enumerate(schedule.sigmas):
        buf.write(f"{k},{'inf' if math.isinf(v) else repr(float(v))}\n")
    return Exported(buf.getvalue(), f"csv: {schedule.steps + 1} levels, k = 0..{schedule.steps}")
