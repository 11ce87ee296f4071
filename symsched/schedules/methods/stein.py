r"""``stein``: the score-optimal grid of equal corrector Stein length [williams2024, Algorithm 1].

The model is a spec of :func:`symsched.models.load_model` (``gaussian``, ``two-point``, ``gm``,
``empirical-digits``, ``empirical-patches``, the trained ``digits`` / ``patches``, or
``diffusers:DIR``); the model options (``c``, ``dim``, ``eigenvalues``, ``p``, ``m``,
``mode_sigma``, ``data``) go to it. The cost is exact where the model has a closed form, otherwise
estimated from score evaluations (docs/theory/stein.md#end-to-end-schedule).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from symsched._options import option
from symsched.models.options import MODEL_SPEC_HELP, ModelOptions
from symsched.schedules._registry import grid_memory, register_method
from symsched.schedules._schedule import Schedule

__all__ = ["SteinOptions"]

_LAST: dict[str, tuple[Any, Any, Any]] = {}
"""The last build's options object, model and probe estimate (one entry, under ``"build"``)."""


@dataclass(frozen=True)
class SteinOptions(ModelOptions):
    """Options of ``stein``: the model options of :class:`~symsched.models.options.ModelOptions`,
    the probe grid and the estimator.

    Notes
    -----
    Every field is one option, declared with :func:`~symsched._options.option`: its help text is
    the field's documentation (``symsched schedule stein --help`` prints it).
    """

    probe_levels: int | None = option(
        None, "probe intervals K (default max(128, 8 N))", metavar="K"
    )
    samples: int | None = option(
        None, "Monte Carlo samples per probe level (default 32)", metavar="n"
    )
    estimator: Literal["exact", "monte-carlo", "jvp"] | None = option(
        None, "cost estimator (default: exact for closed forms, else jvp with control variates)"
    )
    seed: int = option(0, "random seed", metavar="k")
    sigma_min: float | None = option(None, "smallest level (default 0.002)", metavar="A")
    sigma_max: float | None = option(None, "largest level (default 80)", metavar="B")


def _memory(steps: int, o: SteinOptions) -> tuple[float, str]:
    """An analytic model holds its d-vector of eigenvalues; each probe level draws ``samples``
    points in d dimensions and keeps ~32 such arrays (scores, JVP tangents, control variates)."""
    if o.eigenvalues is not None:
        dim = int(np.asarray(o.eigenvalues).size)
    else:
        dim = (
            o.dim if o.dim is not None else 256
        )  # the trained networks: 64 (digits), 256 (patches)
    from symsched.stein._schedule import DEFAULT_SAMPLES, default_probe_levels

    samples = DEFAULT_SAMPLES if o.samples is None else o.samples
    probe = default_probe_levels(steps) if o.probe_levels is None else o.probe_levels
    dim_option = "eigenvalues" if o.eigenvalues is not None else "dim"
    terms = {
        dim_option: 8.0 * 16 * dim,
        "samples" if samples >= dim else dim_option: 8.0 * 32 * samples * dim,
        "probe_levels": 8.0 * 64 * probe,
        "steps": grid_memory(steps),
    }
    return sum(terms.values()), max(terms, key=lambda k: terms[k])


@register_method(
    "stein",
    options=SteinOptions,
    summary="score-optimal grid: equal corrector Stein length (Williams et al. 2024, Alg. 1)",
    example="symsched schedule stein --steps 10 --model digits --format comfyui -o stein10.txt",
    memory=_memory,
    source_spectrum=lambda given: (
        given.get("model") == "gaussian" and given.get("c") is None and given.get("dim") is None
    ),
)
def _build(steps: int, o: SteinOptions) -> Schedule:
    from symsched.models import ScoreOverflowError
    from symsched.stein import stein_schedule
    from symsched.stein._schedule import DEFAULT_SAMPLES, default_estimator

    if o.model is None:
        raise ValueError(f"stein needs model, a score-model spec ({MODEL_SPEC_HELP})")
    if o.seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {o.seed}")
    # the exporters rebuild an (N-1)-step grid with the same options object
    # (Schedule.ending_at_zero): the model and its probe estimate are taken from the last build
    last = _LAST.get("build")
    if last is not None and last[0] is not o:
        last = None
    mdl = o.load() if last is None else last[1]
    estimator = default_estimator(mdl) if o.estimator is None else o.estimator
    try:
        res = stein_schedule(
            mdl,
            steps,
            sigma_min=o.sigma_min,
            sigma_max=o.sigma_max,
            probe=o.probe_levels,
            estimator=estimator,
            samples=DEFAULT_SAMPLES if o.samples is None else o.samples,
            seed=o.seed,
            device=o.device,
            progress=sys.stderr.isatty(),
            reuse=None if last is None else last[2],
        )
    except ScoreOverflowError as exc:  # a level too small for float64
        raise ScoreOverflowError(f"{exc}: choose a larger sigma_min") from None
    _LAST["build"] = (o, mdl, res.probe)
    js = res.to_json()
    keys = (
        "total_length",
        "total_length_stderr",
        "total_cost",
        "interval_costs",
        "interval_costs_stderr",
        "probe_evaluations",
    )
    return Schedule(
        "stein", res.schedule.sigmas, {**res.schedule.params, **{k: js[k] for k in keys}}
    )
