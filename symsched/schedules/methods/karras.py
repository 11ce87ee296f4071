r"""``karras``: the EDM :math:`\rho`-polynomial grid [karras2022, Eq. (5)]."""

from __future__ import annotations

from dataclasses import dataclass

from symsched._options import option
from symsched.schedules import families
from symsched.schedules._registry import register_method
from symsched.schedules._schedule import Schedule

__all__ = ["KarrasOptions"]


@dataclass(frozen=True)
class KarrasOptions:
    """Options of ``karras``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule karras --help`` prints it).
    """

    rho: float = option(7.0, "EDM exponent rho", metavar="R")
    sigma_min: float = option(0.002, "smallest level sigma_N", metavar="A")
    sigma_max: float = option(80.0, "largest level sigma_0 (finite)", metavar="B")


def _family(o: KarrasOptions) -> families.Family:
    return families.karras(o.sigma_min, o.sigma_max, o.rho)


@register_method(
    "karras",
    options=KarrasOptions,
    summary="EDM rho-polynomial grid (Karras et al. 2022, Eq. 5)",
    example="symsched schedule karras --steps 20 --rho 7 --format k-diffusion",
    family=_family,
)
def _build(steps: int, o: KarrasOptions) -> Schedule:
    fam = _family(o)
    return Schedule("karras", fam.grid(steps), dict(fam.params))
