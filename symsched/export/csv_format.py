"""``csv``: one row ``k,sigma`` per level (``inf`` written as ``inf``).

The grid as symsched's samplers run it, N steps ending at ``sigma_N``
(docs/conventions.md#steps-and-the-final-0).
"""

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
    note = f"csv: {schedule.steps + 1} levels, k = 0..{schedule.steps}"
    return Exported(buf.getvalue(), note, schedule.sigmas)
