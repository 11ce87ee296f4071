r"""Tolerances of the exact Gaussian theory (docs/theory/gaussian.md), each with the reason for its
size."""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ASYMPTOTIC_N2_RTOL",
    "CHECK_VALUE_RTOL",
    "EPS64",
    "GAMMA_FINITE_N_RTOL",
    "GRAD_ATOL",
    "MPMATH_DPS",
    "OPT_RTOL",
    "SYMBOLIC_DPS",
    "SYMBOLIC_NUMERIC_ATOL",
    "Z_SCORE",
    "backend_rtol",
    "z_within",
]

EPS64 = float(np.finfo(np.float64).eps)  # 2.22e-16


# --- round-off ---------------------------------------------------------------------------------
# numpy vs torch vs mpmath on the exact KL. ln r_i is a sum of N log1p terms, each with a relative
# error of a few eps; the sum's error grows at most like N eps |ln r|, and KL ~ (ln r)^2 doubles the
# relative error. Allow 64 eps per step-count decade on top: 1e-12 relative for N <= 1e4.
def backend_rtol(steps: int) -> float:
    """Relative tolerance for float64 backend agreement on KL with ``steps`` steps."""
    return 64 * EPS64 * max(1.0, 2.0 * steps)


# The closed-form gain/KL at 40 digits against float64: float64 inputs are taken as exact binary
# values by mpmath, so the only error is the float64 pipeline's: same bound.
MPMATH_DPS = 40

# Symbolic results are compared exactly (simplify(a - b) == 0); when simplification is not needed,
# mpmath at 50 digits at drawn points must agree to 1e-40.
SYMBOLIC_NUMERIC_ATOL = 1e-40
SYMBOLIC_DPS = 50

# --- statistics ---------------------------------------------------------------------------------
# Monte Carlo checks use a fixed seed and |estimate - truth| <= Z * stderr. Z = 5 gives a
# false-alarm rate of 5.7e-7 per comparison under normality, so a run of ~100 comparisons fails by
# chance with probability < 1e-4; with a fixed seed the outcome is deterministic anyway.
Z_SCORE = 5.0

# --- optimality margins -------------------------------------------------------------------------
# "The tangent grid beats every other grid": KL(other) >= KL(tangent) * (1 - OPT_RTOL). The
# tangent grid is an exact optimum, so the only slack needed is float64 round-off in two KL values
# (each good to ~1e-13 relative for N <= 1e3).
OPT_RTOL = 1e-10

# Stationarity: the gradient of ln r at the tangent grid, computed in float64 from the derived
# derivatives, is a sum of O(1) terms that cancel: |grad| <= 1e-12 * sum|terms| per entry.
GRAD_ATOL = 1e-11

# gamma* vs the finite-N minimiser of the exact KL over gamma: the minimiser converges like
# O(1/N) (the N^-3 term of the KL shifts it), so at N = 2000 it is within 1% of gamma*.
GAMMA_FINITE_N_RTOL = 1e-2

# N^2 KL for the tangent grid approaches pi^4/64 like 1/N (the J^3/(12 N^3) term): at N = 1000 the
# relative gap is J/(3N) = pi^2/(12 N) ~ 8.2e-4; allow 1e-3.
ASYMPTOTIC_N2_RTOL = 1e-3

# Check values of docs/theory/gaussian.md#single-eigenvalue-on-its-tangent-grid are printed to 11-15
# significant digits.
CHECK_VALUE_RTOL = 5e-11


def z_within(estimate: float, truth: float, stderr: float, z: float = Z_SCORE) -> bool:
    """``|estimate - truth| <= z * stderr`` (stderr must be positive and finite)."""
    if not (stderr > 0 and math.isfinite(stderr)):
        raise ValueError(f"stderr must be positive and finite, got {stderr}")
    return abs(estimate - truth) <= z * stderr
