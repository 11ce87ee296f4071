"""``k-diffusion``: N+1 sigmas ending at 0 for ``sample_*(model, x, sigmas)``, N steps.

k-diffusion's samplers [crowson] take one step per interval of a sigma list that ends at 0, so
the final step to 0 is one of the N steps: a grid ending at ``sigma_N > 0`` is written as the
method's N levels from ``sigma_max`` to ``sigma_min`` and a 0, exactly what
``get_sigmas_karras(n=N)`` returns for ``karras`` (docs/conventions.md#steps-and-the-final-0,
docs/conventions.md#k-diffusion-and-comfyui).
"""

from __future__ import annotations

import numpy as np

from symsched._json import dumps_json
from symsched.export._base import Exported, NoOptions, register_exporter, require_finite_start
from symsched.schedules._schedule import Schedule

__all__ = ["sigma_list"]


def sigma_list(schedule: Schedule, fmt: str) -> Exported:
    """The N+1 levels of a grid ending at 0, as a JSON list (k-diffusion, ComfyUI ``SIGMAS``).

    Parameters
    ----------
    schedule
        The grid, ending at 0 (the registry passes :attr:`Schedule.ending_at_zero`), with a
        finite ``sigma_0``.
    fmt
        The format name (``k-diffusion`` or ``comfyui``), for the note and the messages.

    Returns
    -------
    Exported
        The JSON list, the note and the levels the consumer visits (the list itself).

    Raises
    ------
    ValueError
        If ``sigma_0`` is infinite.
    """
    require_finite_start(schedule, fmt)
    arr = np.array([float(v) for v in schedule.sigmas])
    note = f"{fmt}: {arr.size} sigmas ending at 0, one step per interval"
    return Exported(dumps_json(arr, indent=None), note, arr)


@register_exporter(
    "k-diffusion",
    summary="k-diffusion sigma list: N+1 sigmas ending at 0 (N steps)",
    options=NoOptions,
    ends_at_zero=True,
)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    return sigma_list(schedule, "k-diffusion")
