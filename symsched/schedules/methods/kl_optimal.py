"""``kl-optimal``: the exact finite-N minimiser of the exact KL over all grids with given endpoints."""

from __future__ import annotations

import math
from typing import Any

from symsched._validate import as_eigenvalues
from symsched.gaussian.variational import kl_optimal
from symsched.schedules._registry import OptionSpec, Schedule, register_method

_OPTIONS = (
    OptionSpec("--eigenvalues", {"metavar": "L", "help": "comma-separated covariance eigenvalues"}),
    OptionSpec(
        "--spectrum-file",
        {"metavar": "F", "help": "eigenvalues from a .npy or text file (one per line)"},
    ),
    OptionSpec(
        "--kl-objective",
        {
            "choices": ("kl_source_output", "kl_output_source"),
            "help": "KL direction minimised by kl-optimal (default kl_source_output)",
        },
    ),
    OptionSpec(
        "--kl-start",
        {
            "choices": ("exact", "prior"),
            "help": "start distribution assumed by kl-optimal (default exact)",
        },
    ),
)


@register_method(
    "kl-optimal",
    _OPTIONS,
    "exact finite-N optimum of the exact KL over the N-1 interior levels (L-BFGS in log sigma)",
)
def _kl_optimal(
    steps: int,
    eigenvalues: Any = None,
    spectrum_file: Any = None,
    kl_objective: str | None = None,
    kl_start: str | None = None,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
) -> Schedule:
    spectrum = eigenvalues if eigenvalues is not None else spectrum_file
    if spectrum is None:
        raise ValueError("kl-optimal needs a spectrum: --eigenvalues L or --spectrum-file F")
    lam = as_eigenvalues(spectrum)
    lo = 0.0 if sigma_min is None else sigma_min
    hi = math.inf if sigma_max is None else sigma_max
    obj = kl_objective or "kl_source_output"
    st = kl_start or "exact"
    res = kl_optimal(lam, steps, lo, hi, start=st, objective=obj)
    return Schedule(
        "kl-optimal",
        res.sigmas,
        {
            "sigma_min": lo,
            "sigma_max": hi,
            "objective": obj,
            "start": st,
            "spectrum_size": int(lam.size),
            "kl": res.kl,
            "gradient_max_abs": res.gradient_norm,
            "iterations": res.iterations,
            "converged": res.converged,
        },
    )
