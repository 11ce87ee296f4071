"""``k-diffusion``: the N+1 levels followed by a 0 (``sample_*(model, x, sigmas)``).

k-diffusion's samplers [crowson] take a sigma list that ends at 0: the last step
``sigma_N -> 0`` is one more step; no 0 is appended when the grid already ends at 0
(docs/conventions.md#k-diffusion-and-comfyui).
"""

from __future__ import annotations

import numpy as np

from symsched._json import dumps_json
from symsched.export._base import Exported, NoOptions, register_exporter, require_finite_start
from symsched.schedules._schedule import Schedule

__all__ = ["with_trailing_zero"]


def with_trailing_zero(schedule: Schedule, fmt: str) -> Exported:
    """The N+1 levels plus a trailing 0 (none when ``sigma_N`` is already 0), as a JSON list.

    Parameters
    ----------
    schedule
        The grid (``sigma_0`` finite).
    fmt
        The format name (``k-diffusion`` or ``comfyui``), for the note and the messages.

    Returns
    -------
    Exported
        The JSON list, the note and the levels the consumer visits.

    Raises
    ------
    ValueError
        If ``sigma_0`` is infinite.
    """
    require_finite_start(schedule, fmt)
    n = schedule.steps
    levels = [float(v) for v in schedule.sigmas]
    if levels[-1] != 0.0:
        levels.append(0.0)
        note = (
            f"{fmt}: {n + 1} levels plus a trailing 0 -> {len(levels) - 1} consumer steps "
            f"({n} schedule steps and the final step {schedule.sigmas[-1]:g} -> 0)"
        )
    else:
        note = f"{fmt}: {n + 1} levels ending at 0 -> {n} consumer steps (no extra 0 appended)"
    arr = np.array(levels)
    return Exported(dumps_json(arr, indent=None), note, arr)


@register_exporter(
    "k-diffusion", summary="k-diffusion sigma list: N+1 levels plus a trailing 0", options=NoOptions
)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    return with_trailing_zero(schedule, "k-diffusion")
