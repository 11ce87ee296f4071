"""``variational``: the unrestricted optimum of the dominant KL term (gaussian_theory.md §5.3(b))."""

from __future__ import annotations

import math
from typing import Any

from symsched._validate import as_eigenvalues
from symsched.gaussian.variational import geodesic
from symsched.schedules._registry import OptionSpec, Schedule, register_method

_SPECTRUM = (
    OptionSpec("--eigenvalues", {"metavar": "L", "help": "comma-separated covariance eigenvalues"}),
    OptionSpec(
        "--spectrum-file",
        {"metavar": "F", "help": "eigenvalues from a .npy or text file (one per line)"},
    ),
)


@register_method(
    "variational",
    _SPECTRUM,
    "self-consistent weighted geodesic: unrestricted minimiser of sum_i J_i^2 (gaussian_theory.md §5.3b)",
)
def _variational(
    steps: int,
    eigenvalues: Any = None,
    spectrum_file: Any = None,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
) -> Schedule:
    spectrum = eigenvalues if eigenvalues is not None else spectrum_file
    if spectrum is None:
        raise ValueError("variational needs a spectrum: --eigenvalues L or --spectrum-file F")
    lam = as_eigenvalues(spectrum)
    lo = 0.0 if sigma_min is None else sigma_min
    hi = math.inf if sigma_max is None else sigma_max
    geo = geodesic(lam, lo, hi)
    return Schedule(
        "variational",
        geo.grid(steps),
        {
            "sigma_min": lo,
            "sigma_max": hi,
            "spectrum_size": int(lam.size),
            "fixed_point_residual": geo.residual,
            "iterations": geo.iterations,
            "dominant_coefficient": geo.dominant_coefficient,
        },
    )
