r"""``loglinear``: geometric grid, uniform in :math:`\ln\sigma` (log-SNR uniform)."""

from __future__ import annotations

from dataclasses import dataclass

from symsched._options import option
from symsched.schedules import families
from symsched.schedules._registry import register_method
from symsched.schedules._schedule import Schedule

__all__ = ["LoglinearOptions"]


@dataclass(frozen=True)
class LoglinearOptions:
    """Options of ``loglinear``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule loglinear --help`` prints it).
    """

    sigma_min: float = option(0.002, "smallest level sigma_N (> 0)", metavar="A")
    sigma_max: float = option(80.0, "largest level sigma_0 (finite)", metavar="B")


def _family(o: LoglinearOptions) -> families.Family:
    return families.loglinear(o.sigma_min, o.sigma_max)


@register_method(
    "loglinear",
    options=LoglinearOptions,
    summary="geometric grid, uniform in log sigma (k-diffusion get_sigmas_exponential)",
    example="symsched schedule loglinear --steps 20 --sigma-min 0.0292 --sigma-max 14.6146",
    family=_family,
)
def _build(steps: int, o: LoglinearOptions) -> Schedule:
    fam = _family(o)
    return Schedule("loglinear", fam.grid(steps), dict(fam.params))
