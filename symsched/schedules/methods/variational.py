r"""``variational``: the unrestricted optimum of the dominant KL term [sun2026, §5.3(b)].

The self-consistent weighted geodesic of :func:`symsched.gaussian.variational.geodesic`
(docs/theory/gaussian.md#three-optima).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symsched._options import Spectrum, option
from symsched._validate import as_eigenvalues
from symsched.schedules._registry import D_VECTOR_BYTES, grid_memory, register_method
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
    eigenvalues: Spectrum | None = option(None, "data spectrum (required)")
    sigma_min: float = option(0.0, "smallest level sigma_N", metavar="A")
    sigma_max: float = option(math.inf, "largest level sigma_0 (inf: pure noise)", metavar="B")
    exact_spectrum: bool = option(
        False,
        "iterate on the full spectrum, not the compressed one (default: Gauss nodes in log "
        "eigenvalue, the result re-evaluated on the full spectrum; docs/theory/gaussian.md)",
    )


def _memory(steps: int, o: VariationalOptions) -> tuple[float, str]:
    """The fixed point keeps ~3 (quadrature nodes x n) matrices, n the size of the spectrum it
    iterates on (:func:`~symsched.gaussian.compress.node_bound`: the compressed nodes, or the
    distinct eigenvalues with ``exact_spectrum``), and the pass over the full spectrum ~4
    (nodes x block) matrices for its blocks of
    :data:`~symsched.gaussian.variational.GEODESIC_BLOCK` eigenvalues, plus
    :data:`~symsched.schedules._registry.D_VECTOR_BYTES` per eigenvalue of the spectrum
    (measured 92 at d = 1e6, where that term dominates); the
    nodes are :func:`~symsched.gaussian.variational.quadrature_size`'s (tracemalloc peaks
    0.4-0.8 of this estimate at d = 1e3-1e6, both groupings, tails or given ends)."""
    from symsched.gaussian.compress import node_bound
    from symsched.gaussian.variational import GEODESIC_BLOCK, quadrature_size

    if o.eigenvalues is None:
        return grid_memory(steps), "steps"
    lam = np.asarray(o.eigenvalues, dtype=np.float64)
    if lam.size == 0 or not np.all(np.isfinite(lam) & (lam > 0)):
        return 0.0, "eigenvalues"  # refused with its own message by the builder
    try:
        nodes = quadrature_size(lam, o.sigma_min, o.sigma_max)
    except (ValueError, OverflowError):  # an invalid end: the builder refuses it by name
        return 0.0, "eigenvalues"
    n = min(node_bound(lam, o.exact_spectrum), np.unique(lam).size)
    block = min(GEODESIC_BLOCK, lam.size)
    matrices = 8.0 * nodes * (3 * n + 4 * block)
    return matrices + D_VECTOR_BYTES * lam.size + grid_memory(steps), "eigenvalues"


@register_method(
    "variational",
    options=VariationalOptions,
    summary=(
        "self-consistent weighted geodesic: unrestricted minimiser of sum_i J_i^2 "
        "(Sun et al. §5.3b)"
    ),
    example="symsched schedule variational --steps 10 --spectrum-file lam.npy --sigma-max 80",
    memory=_memory,
)
def _build(steps: int, o: VariationalOptions) -> Schedule:
    from symsched.gaussian.compress import compression_params
    from symsched.gaussian.variational import geodesic

    if o.eigenvalues is None:
        raise ValueError("variational needs a spectrum: eigenvalues")
    lam = as_eigenvalues(o.eigenvalues)
    geo = geodesic(lam, o.sigma_min, o.sigma_max, exact_spectrum=o.exact_spectrum)
    params: dict[str, object] = {
        "sigma_min": o.sigma_min,
        "sigma_max": o.sigma_max,
        "spectrum_size": int(lam.size),
        "fixed_point_residual": geo.residual,
        "iterations": geo.iterations,
        "dominant_coefficient": geo.dominant_coefficient,
        **compression_params(geo),
        "metric_error": geo.metric_error,
    }
    return Schedule("variational", geo.grid(steps), params)
