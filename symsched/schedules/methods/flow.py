r"""``flow``: N uniform flow-time steps, shifted; the shift or :math:`\mu` given or optimised.

The grid of a rectified-flow pipeline: :math:`t_k=1-k/N` mapped by SD3's shift
(:math:`\rho_k=s\,c_k`, :math:`c_k=(N-k)/k`) or by the exponential time shift
(:math:`\rho_k=e^\mu c_k^\sigma`), from pure noise (:math:`t=1`) to 0
(docs/theory/flow.md#shifts). ``auto`` gives the certified exact optimum of the criterion for the
spectrum (:func:`symsched.flow.shift.optimal_shift`, docs/theory/flow.md#the-optimal-shift);
``params`` record the shift, :math:`\mu`, the exponent, the flow times ``t`` and, with a spectrum,
the criterion (``objective_value``) and both KLs and the coupling error; with ``resolution`` also
each published rule's shift at that image size and N scored on the same spectrum (``rules``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from symsched._options import Spectrum, option
from symsched._typing import FloatArray, KLDirection
from symsched._validate import as_eigenvalues
from symsched.schedules._registry import grid_memory, register_method, spectrum_search_memory
from symsched.schedules._schedule import Schedule

__all__ = ["FlowScheduleOptions"]

MU_RANGE = (-9.21, 9.21)
r"""Accepted :math:`\mu` (shifts :math:`e^\mu` from 1e-4 to 1e4, the optimiser's bracket)."""


@dataclass(frozen=True)
class FlowScheduleOptions:
    """Options of ``flow``.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule flow --help`` prints it).
    """

    eigenvalues: Spectrum | None = option(
        None, "data spectrum (needed by auto; with a given shift it scores the grid)"
    )
    shift: str | None = option(
        None,
        "shift S > 0 of SD3's t' = S t/(1+(S-1)t), or 'auto' for the certified optimum "
        "(default auto unless --mu is given)",
        metavar="S|auto",
    )
    mu: str | None = option(
        None,
        "mu of the exponential shift t' = e^mu/(e^mu+(1/t-1)^E) (diffusers use_dynamic_shifting),"
        " or 'auto'",
        metavar="M|auto",
    )
    exponent: float = option(
        1.0, "exponent E of the exponential shift (1 in every diffusers pipeline)", metavar="E"
    )
    sampler: str = option("ddim", "the sampler the shift is optimised for (ddim = flow Euler)")
    objective: Literal["kl", "coupling"] | None = option(
        None, "the criterion minimised (default: kl for ddim and ancestral, coupling otherwise)"
    )
    kl_objective: KLDirection = option("kl_source_output", "the KL direction minimised")
    resolution: int | None = option(
        None,
        "image side R in pixels: also score the published shift rules (SD3, Flux, Flux.2) at R "
        "and N on the spectrum",
        metavar="R",
    )
    exact_spectrum: bool = option(
        False,
        "search the shift on the full spectrum, not the compressed one (default: Gauss nodes in "
        "log eigenvalue, the answer re-evaluated on the full spectrum; docs/theory/gaussian.md)",
    )


def _number(text: str, flag: str, what: str) -> float | None:
    """``None`` for ``auto``, else the finite number ``text`` (``ValueError`` naming ``flag``)."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{flag} must be {what} or 'auto', got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{flag} must be {what} or 'auto', got {text!r}")
    return value


def _memory(steps: int, o: FlowScheduleOptions) -> tuple[float, str]:
    """The DDIM path holds ~6 (steps x n) float64 arrays, the other samplers' exact paths ~12
    (as ``kl-optimal``), n the size of the spectrum the search works on
    (:func:`~symsched.gaussian.compress.node_bound`); the passes over the full spectrum
    (compression, the scoring of the answer and of the published rules) keep
    :data:`~symsched.schedules._registry.D_VECTOR_BYTES` per eigenvalue."""
    from symsched.gaussian.compress import node_bound

    if o.eigenvalues is None:
        return grid_memory(steps), "steps"
    lam = np.asarray(o.eigenvalues, dtype=np.float64)
    n = node_bound(lam, o.exact_spectrum)  # the search (none when the shift is given)
    return spectrum_search_memory(12 * 8.0, steps, n, lam.size)


@register_method(
    "flow",
    options=FlowScheduleOptions,
    summary="N uniform flow-time steps shifted by S (SD3) or e^mu (Flux); S or mu 'auto': the "
    "certified optimum for a spectrum",
    example="symsched schedule flow --steps 28 --shift auto --eigenvalues 0.05,0.3,1,2.65",
    memory=_memory,
)
def _build(steps: int, o: FlowScheduleOptions) -> Schedule:
    from symsched.flow.shift import flow_times, optimal_shift, shifted_uniform_grid
    from symsched.gaussian.compress import compression_params
    from symsched.gaussian.coupling import Criteria, criteria
    from symsched.gaussian.sampler_optimum import default_objective

    if o.shift is not None and o.mu is not None:
        raise ValueError("give shift or mu, not both: they are one knob (a shift is exp of a mu)")
    if not (math.isfinite(o.exponent) and 0.05 <= o.exponent <= 20):
        raise ValueError(f"exponent must be in [0.05, 20], got {o.exponent}")
    given: float | None = None
    if o.mu is None:
        if o.exponent != 1.0:
            raise ValueError(
                "exponent is the power of the exponential time-shift: give mu and exponent together"
            )
        value = _number(o.shift or "auto", "shift", "a number > 0")
        if value is not None and value <= 0:
            raise ValueError(f"shift must be a number > 0 or 'auto', got {o.shift}")
        given = value
        log_s = None if value is None else math.log(value)
    else:
        log_s = _number(o.mu, "mu", f"a number in [{MU_RANGE[0]}, {MU_RANGE[1]}]")
        if log_s is not None and not (MU_RANGE[0] <= log_s <= MU_RANGE[1]):
            raise ValueError(
                f"mu must be in [{MU_RANGE[0]}, {MU_RANGE[1]}] (s = e^mu from 1e-4 to 1e4), "
                f"got {o.mu}"
            )
    lam = None if o.eigenvalues is None else as_eigenvalues(o.eigenvalues)
    if o.resolution is not None:
        if lam is None:
            raise ValueError(
                "resolution scores the published rules on a spectrum, and there is none: give "
                "eigenvalues (the spectrum of your latents at that image size)"
            )
        if not 16 <= o.resolution <= 16384:
            raise ValueError(f"resolution must be in [16, 16384] pixels, got {o.resolution}")
    params: dict[str, object] = {"exponent": o.exponent, "sampler": o.sampler}
    if log_s is None:
        if lam is None:
            knob = "shift" if o.mu is None else "mu"
            raise ValueError(
                f"{knob} is 'auto', which needs a spectrum: eigenvalues (or a number for {knob})"
            )
        opt = optimal_shift(
            lam,
            steps,
            sampler=o.sampler,
            objective=o.objective,
            kl_direction=o.kl_objective,
            exponent=o.exponent,
            exact_spectrum=o.exact_spectrum,
        )
        log_s, grid = opt.mu, opt.sigmas
        params |= {
            "objective": opt.objective,
            "objective_value": opt.value,
            "gradient": opt.gradient,
            "curvature": opt.curvature,
            "scan_best_shift": opt.scan_best,
            **compression_params(opt),
        }
        crt: Criteria | None = opt.criteria
    else:
        if steps < 2 and lam is not None:
            raise ValueError("steps must be >= 2 to score a flow grid: one step outputs 0")
        shift_value = given if given is not None else math.exp(log_s)
        grid = shifted_uniform_grid(steps, shift_value, o.exponent)
        crt = None if lam is None else criteria(lam, grid, sampler=o.sampler)
        if crt is not None:
            obj = o.objective or default_objective(o.sampler)
            value = crt.coupling if obj == "coupling" else crt.value(o.kl_objective)
            params |= {"objective": obj, "objective_value": value}
    params |= {
        "shift": given or math.exp(log_s),
        "mu": log_s,
        "t": [float(v) for v in flow_times(grid)],
    }
    if crt is not None:
        params |= crt.as_dict()
    if o.resolution is not None and lam is not None:
        params["rules"] = _score_rules(lam, steps, o, params)
    return Schedule("flow", grid, params)


def _score_rules(
    lam: FloatArray, steps: int, o: FlowScheduleOptions, params: dict[str, object]
) -> dict[str, object]:
    """Each published rule's shift at (``resolution``, ``steps``) on this spectrum: its criterion
    and the ratio to this grid's (docs/theory/flow_resolution.md#the-rules)."""
    from symsched.flow.rules import RULES
    from symsched.flow.shift import shifted_uniform_grid
    from symsched.gaussian.coupling import criteria
    from symsched.gaussian.sampler_optimum import default_objective

    assert o.resolution is not None
    obj = str(params.get("objective") or o.objective or default_objective(o.sampler))
    mine = float(params["objective_value"])  # type: ignore[arg-type]
    out: dict[str, object] = {}
    for name, rule in RULES.items():
        s = rule.shift(o.resolution, steps)
        crt = criteria(lam, shifted_uniform_grid(steps, s), sampler=o.sampler)
        value = crt.coupling if obj == "coupling" else crt.value(o.kl_objective)
        out[name] = {
            "shift": s,
            "mu": math.log(s),
            "objective_value": value,
            "ratio": value / mine if mine > 0 else math.inf,
        }
    return out
