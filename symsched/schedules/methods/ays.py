r"""``ays``: the Align Your Steps tables, log-linearly interpolated to other N.

The tables of [sabour2024, Table 3] (docs/conventions.md#align-your-steps-tables).

The published 10-step tables (:mod:`symsched.schedules.ays`) cannot be moved: ``sigma_max`` is the
table's; ``sigma_min`` is the table's, or 0 to replace the last level by 0 as ComfyUI and
diffusers do.
"""

from __future__ import annotations

from dataclasses import dataclass

from symsched._options import option
from symsched.schedules._registry import register_method
from symsched.schedules._schedule import Schedule
from symsched.schedules.ays import AYS_SIGMAS, AYSModel, ays_sigmas

__all__ = ["AYSOptions"]


@dataclass(frozen=True)
class AYSOptions:
    """Options of ``ays``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule ays --help`` prints it).
    """

    # option() returns a dataclasses.field, so RUF009 does not apply (its default is immutable)
    model: AYSModel | None = option(None, "the model whose table to use")
    sigma_min: float | None = option(
        None, "omit (the table's last level) or 0 (replace it by 0)", metavar="A"
    )
    sigma_max: float | None = option(None, "omit: the table's first level", metavar="B")


@register_method(
    "ays",
    options=AYSOptions,
    summary="Align Your Steps 10-step tables, log-linearly interpolated to other N (ComfyUI rule)",
    example="symsched schedule ays --steps 12 --model sdxl --sigma-min 0 --format comfyui",
)
def _build(steps: int, o: AYSOptions) -> Schedule:
    if o.model is None:
        raise ValueError(f"ays needs model, one of {', '.join(AYS_SIGMAS)}")
    table = AYS_SIGMAS[o.model]
    if o.sigma_max is not None and o.sigma_max != table[0]:
        raise ValueError(
            f"ays: the published {o.model} table starts at sigma_max = {table[0]}; it cannot be "
            f"moved (got {o.sigma_max}); omit sigma_max"
        )
    if o.sigma_min is not None and o.sigma_min not in (0.0, table[-1]):
        raise ValueError(
            f"ays: sigma_min must be omitted (the table's {table[-1]}) or 0 (replace the last "
            f"level by 0, as ComfyUI and diffusers do), got {o.sigma_min}"
        )
    zero = o.sigma_min == 0.0
    sig = ays_sigmas(o.model, steps, zero_terminal=zero)
    interp = (
        "published table"
        if steps == 10
        else "log-linear in sigma against a uniform index (ComfyUI loglinear_interp)"
    )
    params: dict[str, object] = {
        "model": o.model,
        "sigma_max": float(sig[0]),
        "sigma_min": float(sig[-1]),
        "interpolation": interp,
        "terminal": "zero (ComfyUI/diffusers)" if zero else "table sigma_min",
    }
    return Schedule("ays", sig, params)
