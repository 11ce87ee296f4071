r"""``cosine``: the Nichol–Dhariwal cosine schedule, uniform in diffusion time.

[nichol2021, Eq. (17)] (docs/conventions.md#schedule-families).

Pure noise at :math:`t=1`; a noise endpoint, when given instead of a time, sets that end of the
time range through the closed-form inverse :math:`t(\rho)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from symsched._options import option
from symsched.schedules import families
from symsched.schedules._registry import register_method
from symsched.schedules._schedule import Schedule

__all__ = ["CosineOptions"]


@dataclass(frozen=True)
class CosineOptions:
    """Options of ``cosine``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule cosine --help`` prints it).
    """

    s: float = option(0.008, "offset s of the cosine schedule", metavar="S")
    t_min: float | None = option(None, "smallest diffusion time (default 0)", metavar="T")
    t_max: float | None = option(None, "largest diffusion time, <= 1 (default 1)", metavar="T")
    sigma_min: float | None = option(
        None, "smallest level instead of t_min (default 0)", metavar="A"
    )
    sigma_max: float | None = option(
        None, "largest level instead of t_max (default inf, pure noise)", metavar="B"
    )


def _family(o: CosineOptions) -> families.Family:
    families.check_time_ends(o.t_min, o.sigma_min, o.t_max, o.sigma_max)
    return families.cosine(
        o.s,
        0.0 if o.t_min is None else o.t_min,
        1.0 if o.t_max is None else o.t_max,
        o.sigma_min,
        o.sigma_max,
    )


@register_method(
    "cosine",
    options=CosineOptions,
    summary="Nichol-Dhariwal cosine, uniform in time (pure noise at t = 1)",
    example="symsched schedule cosine --steps 20 --sigma-max 80 --format diffusers-euler",
    family=_family,
)
def _build(steps: int, o: CosineOptions) -> Schedule:
    fam = _family(o)
    return Schedule("cosine", fam.grid(steps), dict(fam.params))
