r"""``kl-optimal``: the exact finite-N optimum of a grid for the sampler it will run under.

DDIM under its KL: L-BFGS over the N-1 interior levels in :math:`\ln\sigma` with the analytic
gradient (:func:`symsched.gaussian.variational.kl_optimal` [sun2026, §3-§5];
docs/theory/gaussian.md#three-optima). Any other sampler, or the coupling error: the exact
optimum of that sampler's criterion with the gradient of its derived linear map
(:func:`symsched.gaussian.sampler_optimum.sampler_optimal`;
docs/theory/coupling.md#the-sampler-aware-optimum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

from symsched._options import Spectrum, option
from symsched._typing import KLDirection, Start
from symsched._validate import as_eigenvalues
from symsched.gaussian.compress import compression_params
from symsched.schedules._registry import grid_memory, register_method, spectrum_search_memory
from symsched.schedules._schedule import Schedule

__all__ = ["KLOptimalOptions"]


@dataclass(frozen=True)
class KLOptimalOptions:
    """Options of ``kl-optimal``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule kl-optimal --help`` prints it).
    """

    # option() returns a dataclasses.field, so RUF009 does not apply (its default is immutable)
    eigenvalues: Spectrum | None = option(None, "data spectrum (required)")
    kl_objective: KLDirection = option("kl_source_output", "the KL direction minimised")
    kl_start: Start = option("exact", "the start distribution assumed")
    sigma_min: float = option(0.0, "smallest level sigma_N", metavar="A")
    sigma_max: float = option(math.inf, "largest level sigma_0 (inf: pure noise)", metavar="B")
    sampler: str = option("ddim", "the sampler the grid is optimised for (a --sampler name)")
    objective: Literal["kl", "coupling"] | None = option(
        None, "the criterion minimised (default: kl for ddim and ancestral, coupling otherwise)"
    )
    eta: float | None = option(None, "ancestral's noise fraction eta (default 1)", metavar="E")
    exact_spectrum: bool = option(
        False,
        "search on the full spectrum, not the compressed one (default: Gauss nodes in log "
        "eigenvalue, the answer re-evaluated on the full spectrum; docs/theory/gaussian.md)",
    )


def _memory(steps: int, o: KLOptimalOptions) -> tuple[float, str]:
    """The exact KL and its gradient hold ~12 (steps x n) float64 arrays per evaluation
    (measured 55-70 bytes per step and eigenvalue at d = 1e4, N = 50..200); the sampler-aware
    optimum's autograd tapes hold :func:`~symsched.gaussian.sampler_optimum.search_tape_bytes`
    per step and eigenvalue (48 float64, 96 for a multistep sampler, whose Newton polish was
    measured at 522 bytes). n is the number of eigenvalues
    the search works on: the distinct ones with ``exact_spectrum``, else at most the nodes of
    the compressed spectrum (one bin per BIN_WIDTH of the log range, NODES_PER_BIN each). The
    search's own step vectors take ~1 kB per step (measured 700 bytes at n = 1, N = 5e3-4e4). The
    passes over the full spectrum (compression, the final evaluation) keep
    :data:`~symsched.schedules._registry.D_VECTOR_BYTES` per eigenvalue."""
    from symsched.gaussian.compress import node_bound
    from symsched.gaussian.sampler_optimum import search_tape_bytes

    if o.eigenvalues is None:
        return grid_memory(steps), "steps"
    lam = np.asarray(o.eigenvalues, dtype=np.float64)
    d = int(lam.size)
    n = node_bound(lam, o.exact_spectrum)
    per = (
        96.0
        if o.sampler == "ddim" and o.objective in (None, "kl")
        else search_tape_bytes(o.sampler)
    )
    return spectrum_search_memory(per, steps, n, d, bytes_per_step=1024.0)


@register_method(
    "kl-optimal",
    options=KLOptimalOptions,
    summary="exact finite-N optimum of a sampler's exact KL or coupling error over the N-1 "
    "interior levels (L-BFGS)",
    example="symsched schedule kl-optimal --steps 8 --spectrum-file lam.npy --sigma-min 0.002 "
    "--sigma-max 80 --sampler dpmpp-2m",
    memory=_memory,
)
def _build(steps: int, o: KLOptimalOptions) -> Schedule:
    from symsched.gaussian.sampler_optimum import sampler_optimal
    from symsched.samplers import get_sampler

    if o.eigenvalues is None:
        raise ValueError("kl-optimal needs a spectrum: eigenvalues")
    lam = as_eigenvalues(o.eigenvalues)
    smp = get_sampler(o.sampler)
    knobs: dict[str, float] = {}
    if o.eta is not None:
        if "eta" not in {f.name for f in fields(smp.knobs)}:
            raise ValueError(f"eta is a knob of the ancestral sampler, not of {o.sampler}")
        knobs["eta"] = o.eta
    res = sampler_optimal(
        lam,
        steps,
        o.sigma_min,
        o.sigma_max,
        sampler=o.sampler,
        objective=o.objective,
        kl_direction=o.kl_objective,
        start=o.kl_start,
        knobs=knobs,
        exact_spectrum=o.exact_spectrum,
    )
    params: dict[str, object] = {
        "sigma_min": o.sigma_min,
        "sigma_max": o.sigma_max,
        "sampler": o.sampler,
        **knobs,
        "objective": res.objective,
        "objective_value": res.objective_value,
        "kl_objective": o.kl_objective,
        "start": o.kl_start,
        "spectrum_size": int(lam.size),
        "kl": res.criteria.value(o.kl_objective),
        "coupling": res.criteria.coupling,
        "gradient_max_abs": res.gradient_norm,
        "max_step_ratio": res.max_step_ratio,
        "min_gap_ratio": res.min_gap_ratio,
        "iterations": res.iterations,
        "converged": res.converged,
        **compression_params(res),
    }
    return Schedule("kl-optimal", res.sigmas, params)
