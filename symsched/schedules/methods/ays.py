r"""Schedule method ``ays``: Align Your Steps tables (:mod:`symsched.schedules.ays`) [sabour2024, Table 3]."""

from __future__ import annotations

from typing import Any

from symsched.schedules._registry import OptionSpec, Schedule, register_method
from symsched.schedules.ays import AYS_MODELS, AYS_SIGMAS, ays_sigmas

__all__: list[str] = []


@register_method(
    "ays",
    (
        OptionSpec(
            "--model",
            {
                "metavar": "SPEC",
                "help": "model spec: for ays one of sd15, sdxl, svd; for stein a model spec",
            },
        ),
    ),
    "Align Your Steps published 10-step tables, log-linearly interpolated to other N (ComfyUI's rule)",
)
def _ays(
    steps: int,
    model: str | None = None,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
) -> Schedule:
    if model is None or model not in AYS_MODELS:
        raise ValueError(f"ays needs --model one of {', '.join(AYS_MODELS)}, got {model!r}")
    table = AYS_SIGMAS[model]
    if sigma_max is not None and sigma_max != table[0]:
        raise ValueError(
            f"ays: the published {model} table starts at sigma_max = {table[0]}; it cannot be "
            f"moved (got {sigma_max}); omit sigma_max"
        )
    if sigma_min is not None and sigma_min not in (0.0, table[-1]):
        raise ValueError(
            f"ays: sigma_min must be omitted (the table's {table[-1]}) or 0 (replace the last "
            f"level by 0, as ComfyUI and diffusers do), got {sigma_min}"
        )
    zero = sigma_min == 0.0
    sig = ays_sigmas(model, steps, zero_terminal=zero)
    params: dict[str, Any] = {
        "model": model,
        "sigma_max": float(sig[0]),
        "sigma_min": float(sig[-1]),
        "interpolation": "published table"
        if steps == 10
        else "log-linear in sigma against a uniform index (ComfyUI loglinear_interp)",
        "terminal": "zero (ComfyUI/diffusers)" if zero else "table sigma_min",
    }
    return Schedule("ays", sig, params)
