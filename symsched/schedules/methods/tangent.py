r"""``tangent``: uniform in :math:`\varphi=\arctan(\sigma/c)`; with a spectrum, :math:`c=\gamma^*`.

The tangent law :math:`\rho(u)=c\tan(\varphi_{\max}+u(\varphi_{\min}-\varphi_{\max}))` minimises the
dominant KL term of one eigenvalue; for a spectrum the best single coefficient is
:math:`\gamma^\star=(\operatorname{tr}\Sigma/\operatorname{tr}\Sigma^{-1})^{1/4}` [sun2026, §5.2]
(docs/theory/gaussian.md#tangent-law).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from symsched._options import Spectrum, option
from symsched._validate import as_eigenvalues
from symsched.schedules import families
from symsched.schedules._registry import register_method
from symsched.schedules._schedule import Schedule

__all__ = ["TangentOptions"]


@dataclass(frozen=True)
class TangentOptions:
    """Options of ``tangent``: exactly one of ``c`` or ``eigenvalues``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule tangent --help`` prints it).
    """

    c: float | None = option(None, "tangent coefficient c (or give the spectrum)", metavar="C")
    # option() returns a dataclasses.field, so RUF009 does not apply (its default is immutable)
    eigenvalues: Spectrum | None = option(None, "data spectrum: c = gamma* of it")
    sigma_min: float = option(0.0, "smallest level sigma_N", metavar="A")
    sigma_max: float = option(math.inf, "largest level sigma_0 (inf: pure noise)", metavar="B")


def _coefficient(o: TangentOptions) -> tuple[float, dict[str, object]]:
    from symsched.gaussian.tangent import gamma_star

    if (o.c is None) == (o.eigenvalues is None):
        raise ValueError("tangent needs exactly one of c or eigenvalues (giving c = gamma*)")
    if o.c is not None:
        return o.c, {}
    lam = as_eigenvalues(o.eigenvalues)
    g = gamma_star(lam)
    return g, {
        "gamma_star": g,
        "coefficient": "gamma* = (tr Sigma / tr Sigma^-1)^(1/4)",
        "spectrum_size": int(lam.size),
    }


def _family(o: TangentOptions) -> families.Family:
    return families.tangent(_coefficient(o)[0], o.sigma_min, o.sigma_max)


@register_method(
    "tangent",
    options=TangentOptions,
    summary="c tan(...) uniform in arctan(sigma/c); with a spectrum c = gamma* (Sun et al. §5.2)",
    example="symsched schedule tangent --steps 10 --eigenvalues 0.5,1,4 --sigma-max 80 --json",
    family=_family,
    source_spectrum=lambda given: given.get("c") is None,
)
def _build(steps: int, o: TangentOptions) -> Schedule:
    c, extra = _coefficient(o)
    fam = families.tangent(c, o.sigma_min, o.sigma_max)
    return Schedule("tangent", fam.grid(steps), {**fam.params, **extra})
