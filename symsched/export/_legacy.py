r"""Exporters: an N-step grid in the form each consumer expects (conventions.md, "Export conventions").

* ``k-diffusion`` / ``comfyui``: the N+1 levels followed by a 0 (the consumer's last step
  ``sigma_N -> 0`` is one more step); no extra 0 when ``sigma_N`` is already 0 [peers.md §2.1, §1.6].
* ``diffusers-euler``: exactly the N+1 levels, terminal value included
  (``EulerDiscreteScheduler.set_timesteps(sigmas=...)`` runs N steps) [peers.md §3.1].
* ``diffusers-timesteps``: integer training timesteps of a training beta table
  (:mod:`symsched.schedules.discrete`) for ``set_timesteps(timesteps=...)`` of ``DPMSolverMultistepScheduler``
  / ``EulerDiscreteScheduler``, whose last step goes to 0 (``final_sigmas_type="zero"``).
  Two levels rounding to one timestep is an error with advice, never a silent duplicate.
* ``flow-matching``: flow sigmas :math:`t=\rho/(1+\rho)` of :math:`x_t=(1-t)x_0+t\epsilon` for
  ``FlowMatchEulerDiscreteScheduler.set_timesteps(sigmas=...)`` (and ``UniPCMultistepScheduler`` with
  ``use_flow_sigmas=True``). The list excludes the terminal 0 (the scheduler appends it). The
  scheduler re-applies its ``shift`` S to user sigmas, :math:`t\leftarrow St/(1+(S-1)t)`, i.e.
  :math:`\rho\leftarrow S\rho`; the exporter undoes it by writing :math:`\rho/S` and states S
  [peers.md §3.1; diffusers ``scheduling_flow_match_euler_discrete.py``]. A dynamic shift ``mu``
  is the same map with :math:`S=e^{\mu}`.
* ``csv`` and ``json``: the grid itself.

Every exporter returns the text, a one-line note stating the convention it wrote, and the noise
levels (:math:`\rho` scale) the consumer will actually visit.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from symsched._validate import check_positive
from symsched.schedules._registry import Schedule, json_safe
from symsched.schedules.discrete import TRAIN_SCHEDULES, timesteps_for_grid, training_table

__all__ = ["FORMATS", "TRAIN_SCHEDULES", "Exported", "export", "flow_levels", "flow_sigmas"]

FORMATS: tuple[str, ...] = (
    "json",
    "csv",
    "k-diffusion",
    "comfyui",
    "diffusers-euler",
    "diffusers-timesteps",
    "flow-matching",
)


@dataclass(frozen=True)
class Exported:
    """An export: ``text`` to paste, ``note`` (the convention, for stderr) and ``levels``.

    ``levels`` are the noise levels :math:`\\rho` the consumer visits, in order, ending at its
    terminal value (``None`` for ``json``/``csv``, which are the grid itself).
    """

    text: str
    note: str
    levels: NDArray[np.float64] | None = None


def _finite(schedule: Schedule, fmt: str) -> None:
    if math.isinf(schedule.sigmas[0]):
        raise ValueError(
            f"--format {fmt} needs a finite sigma_max (the consumer cannot start at sigma = inf); "
            "pass --sigma-max, e.g. the model's largest sigma (80 for EDM, 14.6146 for SD 1.5)"
        )


def flow_sigmas(levels: NDArray[np.float64], shift: float = 1.0) -> NDArray[np.float64]:
    r"""Flow-matching sigmas :math:`t=\rho'/(1+\rho')` with :math:`\rho'=\rho/S` (``inf -> 1``).

    Pre-inverts diffusers' shift :math:`t\mapsto St/(1+(S-1)t)`, which multiplies
    :math:`\rho=t/(1-t)` by S.
    """
    s = check_positive(shift, "shift")
    rho = np.asarray(levels, dtype=np.float64) / s
    with np.errstate(invalid="ignore"):
        out = np.where(np.isinf(rho), 1.0, rho / (1.0 + rho))
    return out


def flow_levels(t: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""Noise levels :math:`\rho=t/(1-t)` of flow sigmas ``t`` (``1 -> inf``)."""
    tt = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(tt >= 1.0, math.inf, tt / (1.0 - tt))


def export(
    schedule: Schedule,
    fmt: str,
    *,
    train_schedule: str = "scaled_linear",
    num_train_timesteps: int = 1000,
    shift: float = 1.0,
) -> Exported:
    """Render ``schedule`` in format ``fmt`` (one of :data:`FORMATS`).

    Parameters
    ----------
    schedule
        The N-step grid.
    fmt
        Export format.
    train_schedule, num_train_timesteps
        Training beta table for ``diffusers-timesteps`` (:data:`symsched.schedules.discrete.TRAIN_SCHEDULES`).
    shift
        The ``shift`` configured on the flow-matching scheduler, undone by ``flow-matching``.

    Raises
    ------
    ValueError
        Unknown format, a grid the consumer cannot express (``sigma_0 = inf`` for sigma lists, levels
        outside the training table, two levels rounding to one timestep), or a bad option.
    """
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt != "diffusers-timesteps" and (
        train_schedule != "scaled_linear" or num_train_timesteps != 1000
    ):
        raise ValueError(
            f"--train-schedule applies to --format diffusers-timesteps only, not {fmt}"
        )
    if fmt != "flow-matching" and shift != 1.0:
        raise ValueError(f"--shift applies to --format flow-matching only, not {fmt}")
    n = schedule.steps
    if fmt == "json":
        return Exported(
            json.dumps(schedule.to_json(), indent=2, allow_nan=False), "json: the N+1 levels"
        )
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("k,sigma\n")
        for k, v in enumerate(schedule.sigmas):
            buf.write(f"{k},{'inf' if math.isinf(v) else repr(float(v))}\n")
        return Exported(buf.getvalue(), f"csv: {n + 1} levels, k = 0..{n}")
    if fmt == "flow-matching":
        return _export_flow(schedule, shift)
    _finite(schedule, fmt)
    if fmt == "diffusers-timesteps":
        return _export_timesteps(schedule, train_schedule, num_train_timesteps)
    levels = [float(v) for v in schedule.sigmas]
    if fmt in ("k-diffusion", "comfyui"):
        if levels[-1] != 0.0:
            levels.append(0.0)
            note = (
                f"{fmt}: {n + 1} levels plus a trailing 0 -> {len(levels) - 1} consumer steps "
                f"({n} schedule steps and the final step {schedule.sigmas[-1]:g} -> 0)"
            )
        else:
            note = f"{fmt}: {n + 1} levels ending at 0 -> {n} consumer steps (no extra 0 appended)"
        return Exported(json.dumps(json_safe(np.array(levels))), note, np.array(levels))
    # diffusers-euler
    return Exported(
        json.dumps(json_safe(np.array(levels))),
        f"diffusers-euler: exactly {n + 1} levels, terminal value included -> {n} steps "
        "(EulerDiscreteScheduler.set_timesteps(sigmas=...))",
        np.array(levels),
    )


def _export_timesteps(
    schedule: Schedule, train_schedule: str, num_train_timesteps: int
) -> Exported:
    table = training_table(train_schedule, num_train_timesteps)
    ts = timesteps_for_grid(schedule.sigmas, table)
    k = len(ts.timesteps)
    extra = (
        (
            f"; the grid ends at {schedule.sigmas[-1]:g} > 0, so the scheduler's final step to 0 is one "
            "more step"
        )
        if ts.appended_zero
        else ""
    )
    note = (
        f"diffusers-timesteps: {k} integer timesteps of the {train_schedule} table "
        f"(T = {num_train_timesteps}) -> {k} consumer steps, the last to 0 "
        f"(set_timesteps(timesteps=...), final_sigmas_type='zero'){extra}; rounding moves the levels "
        f"by at most {100 * ts.max_rel_shift:.3g}%"
    )
    return Exported(json.dumps(list(ts.timesteps)), note, ts.realised)


def _export_flow(schedule: Schedule, shift: float) -> Exported:
    s = check_positive(shift, "shift")
    sig = schedule.sigmas
    ends_at_zero = sig[-1] == 0.0
    body = sig[:-1] if ends_at_zero else sig
    t = flow_sigmas(body, s)
    k = t.size
    extra = (
        ""
        if ends_at_zero
        else (f"; the grid ends at {sig[-1]:g} > 0, so the scheduler's appended 0 is one more step")
    )
    note = (
        f"flow-matching: {k} flow sigmas t = rho/(1+rho), terminal 0 excluded (the scheduler appends "
        f"it) -> {k} consumer steps; pre-divided by shift = {s:g} so that "
        f"FlowMatchEulerDiscreteScheduler(shift={s:g}) (or UniPC use_flow_sigmas=True, "
        f"flow_shift={s:g}; dynamic shift mu: shift = exp(mu)) visits exactly this grid{extra}"
    )
    levels = np.append(np.asarray(body, dtype=np.float64), 0.0)
    return Exported(json.dumps([float(v) for v in t]), note, levels)
