r"""``diffusers-flow``: the exact arguments of diffusers' ``FlowMatchEulerDiscreteScheduler``.

A JSON object ``{"scheduler", "config", "set_timesteps"}``: build the scheduler with
``FlowMatchEulerDiscreteScheduler.from_config({**pipe.scheduler.config, **config})`` and call
``set_timesteps(**set_timesteps)``; it then visits exactly the schedule's grid
(docs/conventions.md#flow-matching). Three spellings, ``--flow-args``:

``shift``
    ``config = {"shift": s, "use_dynamic_shifting": false}`` with the uniform flow sigmas
    ``linspace(1, 1/N, N)`` that the Flux pipelines pass; the scheduler's shift maps them onto the
    grid. Only for grids of the shift family :math:`\rho_k=s\,(N-k)/k`
    (``symsched schedule flow``).
``mu``
    ``config = {"use_dynamic_shifting": true, "time_shift_type": "exponential"}`` and
    ``set_timesteps(sigmas=linspace(1, 1/N, N), mu=mu)``: the exponential time shift with
    exponent 1 (the only exponent diffusers applies), :math:`s=e^\mu`. Same family.
``sigmas``
    ``config = {"shift": 1.0, "use_dynamic_shifting": false}`` and the grid's own flow sigmas
    :math:`t=\rho/(1+\rho)` (the terminal 0 excluded: the scheduler appends it); any grid from
    grid (a finite first level starts the scheduler at t_0 < 1, from a sample of that
    marginal).

The default ``set_timesteps(N)`` without sigmas is never written: it builds its grid from the
already-shifted ``sigma_min`` of the training table and then shifts again, so it visits neither
the uniform nor the shifted grid (docs/conventions.md#flow-matching).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from symsched._options import option
from symsched._typing import FloatArray
from symsched.export._base import Exported, register_exporter
from symsched.export.flow_matching import flow_sigmas
from symsched.schedules._schedule import Schedule

__all__ = ["FAMILY_RTOL", "DiffusersFlowOptions", "shift_of_grid"]

FAMILY_RTOL = 1e-12
r"""Relative spread of :math:`\rho_k/c_k` accepted as one shift: a few float64 roundings of the
product :math:`s\,c_k` and of :math:`e^{\ln s}` (the flow method builds the grid that way)."""


@dataclass(frozen=True)
class DiffusersFlowOptions:
    """Options of ``diffusers-flow``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule METHOD --help`` lists it).
    """

    flow_args: Literal["shift", "mu", "sigmas"] = option(
        "sigmas", "how the scheduler is told the grid: its shift, its mu, or explicit sigmas"
    )


def shift_of_grid(levels: FloatArray) -> float | None:
    r"""The shift :math:`s` with :math:`\rho_k=s\,(N-k)/k` for every interior level, or ``None``
    when the grid is not N uniform flow steps shifted (an N+1-level grid from ``inf`` to 0).

    Parameters
    ----------
    levels
        The grid, ``inf`` first and 0 last.

    Returns
    -------
    float or None
        The shift (the median of :math:`\rho_k/c_k`), or ``None``.
    """
    rho = np.asarray(levels, dtype=np.float64)
    n = rho.size - 1
    if n < 1 or not math.isinf(rho[0]) or rho[-1] != 0.0:
        return None
    if n == 1:
        return 1.0
    k = np.arange(1, n, dtype=np.float64)
    ratio = rho[1:-1] / ((n - k) / k)
    s = float(np.median(ratio))
    if not (np.isfinite(s) and s > 0) or float(np.max(np.abs(ratio / s - 1.0))) > FAMILY_RTOL:
        return None
    return s


_NEUTRAL: dict[str, object] = {
    "shift_terminal": None,
    "use_karras_sigmas": False,
    "use_exponential_sigmas": False,
    "use_beta_sigmas": False,
    "invert_sigmas": False,
    "stochastic_sampling": False,
}
"""Config keys a pipeline's scheduler may set that would move the grid; written as off."""


def _uniform(n: int) -> list[float]:
    """``numpy.linspace(1, 1/N, N)``, the uniform flow sigmas of the Flux pipelines."""
    return [float(v) for v in np.linspace(1.0, 1.0 / n, n)]


@register_exporter(
    "diffusers-flow",
    summary="FlowMatchEulerDiscreteScheduler config and set_timesteps arguments (shift, mu or "
    "sigmas) that visit exactly the grid",
    options=DiffusersFlowOptions,
    ends_at_zero=True,
)
def _render(schedule: Schedule, o: DiffusersFlowOptions) -> Exported:
    levels = np.asarray(schedule.sigmas, dtype=np.float64)
    n = levels.size - 1
    body: dict[str, object]
    if o.flow_args == "sigmas":
        config: dict[str, object] = {"shift": 1.0, "use_dynamic_shifting": False}
        body = {"sigmas": [float(v) for v in flow_sigmas(levels[:-1], 1.0)]}
        how = "explicit flow sigmas with shift 1"
    else:
        s = shift_of_grid(levels)
        if s is None:
            raise ValueError(
                f"--flow-args {o.flow_args}: the grid is not N uniform flow steps shifted "
                "(rho_k / ((N-k)/k) is not constant), so no shift or mu expresses it; use "
                "--flow-args sigmas"
            )
        if o.flow_args == "shift":
            config = {"shift": s, "use_dynamic_shifting": False}
            body = {"sigmas": _uniform(n)}
            how = f"shift={s:.10g} on the uniform sigmas linspace(1, 1/N, N)"
        else:
            config = {"use_dynamic_shifting": True, "time_shift_type": "exponential"}
            body = {"sigmas": _uniform(n), "mu": math.log(s)}
            how = f"use_dynamic_shifting with mu={math.log(s):.10g} on linspace(1, 1/N, N)"
    config |= _NEUTRAL
    text = json.dumps(
        {"scheduler": "FlowMatchEulerDiscreteScheduler", "config": config, "set_timesteps": body},
        indent=2,
    )
    note = (
        f"diffusers-flow: FlowMatchEulerDiscreteScheduler.from_config({{**config, ...}}) then "
        f"set_timesteps(**set_timesteps): {how}; never set_timesteps(N) alone (it shifts twice)"
    )
    return Exported(text, note, levels)
