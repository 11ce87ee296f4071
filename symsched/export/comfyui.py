"""``comfyui``: a ComfyUI ``SIGMAS`` list, the k-diffusion convention (N+1 sigmas ending at 0).

ComfyUI's samplers are k-diffusion's: one step per interval, the last to 0, N steps
(docs/conventions.md#steps-and-the-final-0, docs/conventions.md#k-diffusion-and-comfyui).
"""

from __future__ import annotations

from symsched.export._base import Exported, NoOptions, register_exporter
from symsched.export.kdiffusion import sigma_list
from symsched.schedules._schedule import Schedule


@register_exporter(
    "comfyui",
    summary="ComfyUI SIGMAS: N+1 sigmas ending at 0 (N steps)",
    options=NoOptions,
    ends_at_zero=True,
)
def _render(schedule: Schedule, _: NoOptions) -> Exported:
    return sigma_list(schedule, "comfyui")
