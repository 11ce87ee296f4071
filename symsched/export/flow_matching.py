r"""``flow-matching``: flow sigmas :math:`t=\rho/(1+\rho)` of :math:`x_t=(1-t)x_0+t\epsilon`.

For ``FlowMatchEulerDiscreteScheduler.set_timesteps(sigmas=...)`` (and ``UniPCMultistepScheduler``
with ``use_flow_sigmas=True``). The list excludes the terminal 0 (the scheduler appends it): N
values for N steps, the appended step to 0 one of them (docs/conventions.md#steps-and-the-final-0).
The
scheduler re-applies its ``shift`` S to user sigmas, :math:`t\leftarrow St/(1+(S-1)t)`, i.e.
:math:`\rho\leftarrow S\rho`; the exporter undoes it by writing :math:`\rho/S` and states S. A
dynamic shift ``mu`` is the same map with :math:`S=e^{\mu}` (docs/conventions.md#flow-matching).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from symsched._options import option
from symsched._typing import ArrayLike, FloatArray
from symsched._validate import check_positive
from symsched.export._base import Exported, register_exporter
from symsched.schedules._schedule import Schedule

__all__ = ["FlowOptions", "flow_levels", "flow_sigmas"]


@dataclass(frozen=True)
class FlowOptions:
    """Options of ``flow-matching``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule METHOD --help`` lists it).
    """

    shift: float = option(
        1.0, "shift configured on the flow-matching scheduler (undone)", metavar="S"
    )


def flow_sigmas(levels: ArrayLike, shift: float = 1.0) -> FloatArray:
    r"""Flow-matching sigmas :math:`t=\rho'/(1+\rho')` with :math:`\rho'=\rho/S` (``inf -> 1``).

    Pre-inverts diffusers' shift :math:`t\mapsto St/(1+(S-1)t)`, which multiplies
    :math:`\rho=t/(1-t)` by S [lipman2023] (docs/conventions.md#flow-matching).

    Parameters
    ----------
    levels
        Noise levels :math:`\rho` (``inf`` allowed).
    shift
        The shift S configured on the scheduler (> 0).

    Returns
    -------
    FloatArray
        The flow sigmas ``t`` in ``[0, 1]``, shaped like ``levels``.

    Raises
    ------
    ValueError
        If ``shift`` is not positive.
    """
    s = check_positive(shift, "shift")
    rho = np.asarray(levels, dtype=np.float64) / s
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(np.isinf(rho), 1.0, rho / (1.0 + rho))
    return out


def flow_levels(t: ArrayLike) -> FloatArray:
    r"""Noise levels :math:`\rho=t/(1-t)` of flow sigmas ``t`` (``1 -> inf``).

    Parameters
    ----------
    t
        Flow sigmas in ``[0, 1]``.

    Returns
    -------
    FloatArray
        The noise levels, shaped like ``t``.
    """
    tt = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out: FloatArray = np.where(tt >= 1.0, math.inf, tt / (1.0 - tt))
    return out


@register_exporter(
    "flow-matching",
    summary="N flow sigmas t = rho/(1+rho), shift undone, terminal 0 excluded",
    options=FlowOptions,
    ends_at_zero=True,
)
def _render(schedule: Schedule, o: FlowOptions) -> Exported:
    s = check_positive(o.shift, "shift")
    sig = schedule.sigmas  # ends at 0 (Schedule.ending_at_zero): the scheduler appends that 0
    body = sig[:-1]
    t = flow_sigmas(body, s)
    if t.size > 1 and not bool(np.all(np.diff(t) < 0)):
        i = int(np.argmax(~(np.diff(t) < 0)))
        raise ValueError(
            f"--shift {s:g} collapses the grid: levels {float(body[i]):g} and "
            f"{float(body[i + 1]):g} both become flow sigma {float(t[i]):.17g} after dividing "
            "by the shift; use the shift the scheduler is configured with (1 to 10 in practice)"
        )
    if t.size and t[-1] == 0.0:
        raise ValueError(
            f"--shift {s:g} sends the last level {float(body[-1]):g} to flow sigma 0; use the "
            "shift the scheduler is configured with (1 to 10 in practice)"
        )
    note = (
        f"flow-matching: {t.size} flow sigmas t = rho/(1+rho), terminal 0 excluded (the scheduler "
        f"appends it); pre-divided by shift = {s:g} so that "
        f"FlowMatchEulerDiscreteScheduler(shift={s:g}) (or UniPC use_flow_sigmas=True, "
        f"flow_shift={s:g}; dynamic shift mu: shift = exp(mu)) visits exactly this grid"
    )
    levels = np.asarray(sig, dtype=np.float64)
    return Exported(json.dumps([float(v) for v in t]), note, levels)
