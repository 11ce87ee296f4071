r"""Schedule method ``stein``: score-optimal (corrector Stein cost) grids [williams2024, Algorithm 1].

Options mirror conventions.md: ``--model SPEC`` (``gaussian --c C --dim D`` or ``--eigenvalues``,
``two-point``, ``gm --p --m --mode-sigma --dim``, ``empirical-digits``/``empirical-patches``, the trained
``digits``/``patches``, ``diffusers:DIR``),
``--probe-levels``, ``--samples``, ``--estimator``, ``--seed``, ``--device``, ``--data FILE`` (training
rows for a ``diffusers:DIR`` model). See
:func:`symsched.stein.stein_schedule` and stein_cost.md §4.3.
"""

from __future__ import annotations

import sys
from typing import Any

from symsched.schedules._registry import OptionSpec, Schedule, register_method

__all__ = ["STEIN_OPTIONS"]

STEIN_OPTIONS = (
    OptionSpec(
        "--model",
        {
            "metavar": "SPEC",
            "help": "model spec: for ays one of sd15, sdxl, svd; for stein a model spec",
        },
    ),
    OptionSpec(
        "--c",
        {"type": float, "metavar": "C", "help": "tangent coefficient c; gaussian model std c"},
    ),
    OptionSpec(
        "--dim", {"type": int, "metavar": "D", "help": "data dimension of an analytic model"}
    ),
    OptionSpec("--eigenvalues", {"metavar": "L", "help": "comma-separated covariance eigenvalues"}),
    OptionSpec(
        "--spectrum-file",
        {"metavar": "F", "help": "eigenvalues from a .npy or text file (one per line)"},
    ),
    OptionSpec(
        "--p", {"type": float, "metavar": "P", "help": "gm: weight of the +m mode (default 0.8)"}
    ),
    OptionSpec("--m", {"type": float, "metavar": "M", "help": "gm: mode position (default 1)"}),
    OptionSpec(
        "--mode-sigma", {"type": float, "metavar": "S", "help": "gm: mode std (default 0.5)"}
    ),
    OptionSpec(
        "--probe-levels",
        {"type": int, "metavar": "K", "help": "stein: probe intervals K (default max(128, 8 N))"},
    ),
    OptionSpec(
        "--samples",
        {"type": int, "metavar": "n", "help": "Monte Carlo samples (stein: per probe level)"},
    ),
    OptionSpec(
        "--estimator",
        {
            "choices": ("exact", "monte-carlo", "jvp"),
            "help": "stein cost estimator (default: exact for closed forms, else jvp with control variates)",
        },
    ),
    OptionSpec("--seed", {"type": int, "metavar": "k", "help": "random seed"}),
    OptionSpec("--device", {"metavar": "DEV", "help": "torch device (default cpu)"}),
    OptionSpec(
        "--data",
        {
            "metavar": "FILE",
            "help": "stein with diffusers:DIR: training rows to noise (.npy or .pt, shape (n, ...))",
        },
    ),
)


@register_method(
    "stein",
    STEIN_OPTIONS,
    "score-optimal grid: equal corrector Stein length (Williams et al. arXiv 2412.07877, Alg. 1)",
)
def _stein(
    steps: int,
    model: str | None = None,
    c: float | None = None,
    dim: int | None = None,
    eigenvalues: Any = None,
    spectrum_file: Any = None,
    p: float | None = None,
    m: float | None = None,
    mode_sigma: float | None = None,
    probe_levels: int | None = None,
    samples: int | None = None,
    estimator: str | None = None,
    seed: int | None = None,
    device: str | None = None,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
    data: Any = None,
) -> Schedule:
    from symsched.models import load_model
    from symsched.stein import DEFAULT_ESTIMATOR, stein_schedule
    from symsched.stein._schedule import DEFAULT_SAMPLES

    if model is None:
        raise ValueError(
            "stein needs --model SPEC (gaussian, two-point, gm, empirical-digits, empirical-patches, "
            "digits, patches, diffusers:DIR or a checkpoint directory)"
        )
    spectrum = eigenvalues if eigenvalues is not None else spectrum_file
    mdl = load_model(
        model, c=c, dim=dim, eigenvalues=spectrum, p=p, m=m, mode_sigma=mode_sigma, data=data
    )
    if estimator is None:
        estimator = (
            "exact"
            if mdl.exact_interval_costs([2.0, 1.0], process="ve", weight="target") is not None
            else DEFAULT_ESTIMATOR
        )
    res = stein_schedule(
        mdl,
        steps,
        sigma_min=sigma_min,
        sigma_max=sigma_max,
        probe=probe_levels,
        estimator=estimator,
        samples=DEFAULT_SAMPLES if samples is None else samples,
        seed=0 if seed is None else seed,
        device="cpu" if device is None else device,
        progress=sys.stderr.isatty(),
    )
    js = res.to_json()
    extra = {
        k: js[k]
        for k in (
            "total_length",
            "total_length_stderr",
            "total_cost",
            "interval_costs",
            "interval_costs_stderr",
            "probe_evaluations",
        )
    }
    return Schedule("stein", res.schedule.sigmas, {**res.schedule.params, **extra})
