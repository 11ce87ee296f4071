r"""Exporters: an N-step grid in the form each consumer expects (conventions.md, "Export conventions").

* ``k-diffusion`` / ``comfyui``: the N+1 levels followed by a 0 (the consumer's last step
  ``sigma_N -> 0`` is one more step); no extra 0 when ``sigma_N`` is already 0 [peers.md §2.1, §1.6].
* ``diffusers-euler``: exactly the N+1 levels, terminal value included
  (``EulerDiscreteScheduler.set_timesteps(sigmas=...)`` runs N steps) [peers.md §3.1].
* ``csv`` and ``json``: the grid itself.

Every exporter returns the text and a one-line note stating the convention it wrote.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass

import numpy as np

from .schedule import Schedule, json_safe

__all__ = ["FORMATS", "Exported", "export"]

FORMATS: tuple[str, ...] = ("json", "csv", "k-diffusion", "comfyui", "diffusers-euler")


@dataclass(frozen=True)
class Exported:
    text: str
    note: str


def _finite(schedule: Schedule, fmt: str) -> None:
    if math.isinf(schedule.sigmas[0]):
        raise ValueError(
            f"--format {fmt} needs a finite sigma_max (the consumer cannot start at sigma = inf); "
            "pass --sigma-max, e.g. the model's largest sigma (80 for EDM, 14.6146 for SD 1.5)"
        )


def export(schedule: Schedule, fmt: str) -> Exported:
    """Render ``schedule`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    n = schedule.steps
    if fmt == "json":
        return Exported(json.dumps(schedule.to_json(), indent=2, allow_nan=False), "json: the N+1 levels")
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("k,sigma\n")
        for k, v in enumerate(schedule.sigmas):
            buf.write(f"{k},{'inf' if math.isinf(v) else repr(float(v))}\n")
        return Exported(buf.getvalue(), f"csv: {n + 1} levels, k = 0..{n}")
    _finite(schedule, fmt)
    levels = [float(v) for v in schedule.sigmas]
    if fmt in ("k-diffusion", "comfyui"):
        if levels[-1] != 0.0:
            levels.append(0.0)
            note = (f"{fmt}: {n + 1} levels plus a trailing 0 -> {len(levels) - 1} consumer steps "
                    f"({n} schedule steps and the final step {schedule.sigmas[-1]:g} -> 0)")
        else:
            note = f"{fmt}: {n + 1} levels ending at 0 -> {n} consumer steps (no extra 0 appended)"
        return Exported(json.dumps(json_safe(np.array(levels))), note)
    # diffusers-euler
    return Exported(json.dumps(json_safe(np.array(levels))),
                    f"diffusers-euler: exactly {n + 1} levels, terminal value included -> {n} steps "
                    "(EulerDiscreteScheduler.set_timesteps(sigmas=...))")
