"""``comfyui``: a ComfyUI ``SIGMAS`` list, the k-diffusion convention (N+1 levels plus a 0)."""

from __future__ import annotations

from symsched.export._base import Exported, NoOptions, register_exporter
from symsched.export.kdiffusion import with_trailing_zero
from symsched.schedules._schedule import Schedule


@register_exporter(
    "comfyui", summary="ComfyUI SIGMAS: N+1 levels plus a trailing 0", options=NoOptions
)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    return with_trailing_zero(schedule, "comfyui")
