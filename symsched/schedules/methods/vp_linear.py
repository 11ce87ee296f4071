r"""``vp-linear``: the DDPM linear-beta VP schedule, uniform in diffusion time [ho2020, §4].

The time range is ``[t_min, t_max]``; a noise endpoint, when given instead, sets its end of the
time range through the closed-form inverse :math:`t(\rho)` (giving both for one end is an error).
"""

from __future__ import annotations

from dataclasses import dataclass

from symsched._options import option
from symsched.schedules import families
from symsched.schedules._registry import register_method
from symsched.schedules._schedule import Schedule

__all__ = ["VPLinearOptions"]


@dataclass(frozen=True)
class VPLinearOptions:
    """Options of ``vp-linear``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule vp-linear --help`` prints it).
    """

    beta_min: float = option(0.1, "beta(0) of the linear beta schedule", metavar="B")
    beta_max: float = option(20.0, "beta(1) of the linear beta schedule", metavar="B")
    t_min: float | None = option(None, "smallest diffusion time (default 1e-3)", metavar="T")
    t_max: float | None = option(None, "largest diffusion time (default 1)", metavar="T")
    sigma_min: float | None = option(
        None, "smallest level instead of t_min (default: rho(t_min))", metavar="A"
    )
    sigma_max: float | None = option(
        None, "largest level instead of t_max (default: rho(t_max))", metavar="B"
    )


def _family(o: VPLinearOptions) -> families.Family:
    families.check_time_ends(o.t_min, o.sigma_min, o.t_max, o.sigma_max)
    return families.vp_linear(
        o.beta_min,
        o.beta_max,
        1e-3 if o.t_min is None else o.t_min,
        1.0 if o.t_max is None else o.t_max,
        o.sigma_min,
        o.sigma_max,
    )


@register_method(
    "vp-linear",
    options=VPLinearOptions,
    summary="DDPM linear beta, uniform in time from t_max = 1 to t_min = 1e-3",
    example="symsched schedule vp-linear --steps 50 --beta-min 0.1 --beta-max 20 --json",
    family=_family,
)
def _build(steps: int, o: VPLinearOptions) -> Schedule:
    fam = _family(o)
    return Schedule("vp-linear", fam.grid(steps), dict(fam.params))
