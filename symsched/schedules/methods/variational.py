r"""``variational``: the unrestricted optimum of the dominant KL term [sun2026, §5.3(b)].

The self-consistent weighted geodesic of :func:`symsched.gaussian.variational.geodesic`
(docs/theory/gaussian.md#three-optima).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from symsched._options import Spectrum, option
from symsched._validate import as_eigenvalues
from symsched.schedules._registry import register_method
from symsched.schedules._schedule import Schedule

__all__ = ["VariationalOptions"]


@dataclass(frozen=True)
class VariationalOptions:
    """Options of ``variational``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule variational --help`` prints it).
    """

    # option() returns a dataclasses.field, so RUF009 does not apply (its default is immutable)
    eigenvalues: Spectrum | None = option(None, "data spectrum (required)")  # noqa: RUF009
    sigma_min: float = option(0.0, "smallest level sigma_N", metavar="A")
    sigma_max: float = option(math.inf, "largest level sigma_0 (inf: pure noise)", metavar="B")


@register_method(
    "variational",
    options=VariationalOptions,
    summary=(
        "self-consistent weighted geodesic: unrestricted minimiser of sum_i J_i^2 "
        "(Sun et al. §5.3b)"
    ),
    example="symsched schedule variational --steps 10 --spectrum-file lam.npy --sigma-max 80",
)
def _build(steps: int, o: VariationalOptions) -> Schedule:
    from symsched.gaussian.variational import geodesic

    if o.eigenvalues is None:
        raise ValueError("variational needs a spectrum: eigenvalues")
    lam = as_eigenvalues(o.eigenvalues)
    geo = geodesic(lam, o.sigma_min, o.sigma_max)
    params: dict[str, object] = {
        "sigma_min": o.sigma_min,
        "sigma_max": o.sigma_max,
        "spectrum_size": int(lam.size),
        "fixed_point_residual": geo.residual,
        "iterations": geo.iterations,
        "dominant_coefficient": geo.dominant_coefficient,
    }
    return Schedule("variational", geo.grid(steps), params)
