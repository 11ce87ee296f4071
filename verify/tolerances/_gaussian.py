r"""Tolerances of the exact Gaussian theory (docs/theory/gaussian.md), each with the reason for its
size."""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ASYMPTOTIC_N2_RTOL",
    "BRACKET_LOG_ATOL",
    "CHECK_VALUE_RTOL",
    "EPS64",
    "GAMMA_FINITE_N_RTOL",
    "GENERATED_CODE_ULPS",
    "GRAD_ATOL",
    "HELPER_RTOL",
    "INPUT_RANGE_RTOL",
    "KL_SUBNORMAL_ATOL",
    "LOG1PMX_RTOL",
    "LOG_RATIO_ATOL",
    "MPMATH_DPS",
    "OPT_RTOL",
    "REFERENCE_DPS_CAP",
    "REFERENCE_MARGIN_DIGITS",
    "SYMBOLIC_DPS",
    "SYMBOLIC_NUMERIC_ATOL",
    "TERM_SUM_RTOL",
    "Z_SCORE",
    "backend_rtol",
    "z_within",
]

EPS64 = float(np.finfo(np.float64).eps)  # 2.22e-16

# The generated numpy module (symsched/_generated.py) against the live lambdify of the same
# derivation: both are SymPy's NumPyPrinter output with the same common subexpressions, differing
# only in how numpy's names are qualified, so they evaluate the same float64 operations in the same
# order and agree bit for bit. Any nonzero difference means the two printings diverged.
GENERATED_CODE_ULPS = 0.0


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


# --- the documented input range (docs/cli.md#input-range) ---------------------------------------
# The contract itself: over eigenvalues and levels in [1e-300, 1e300] (plus sigma_N = 0, sigma_0 =
# inf), ln r, r and both KLs agree with the multi-digit reference to 1e-10 relative. Measured worst
# over the property tests: ~5e-13 (the log forms lose a few hundred ulps of 1 on logs of size ~700).
INPUT_RANGE_RTOL = 1e-10
# ln r is a sum of per-step terms (and the prior-start term). Where they have both signs (Heun,
# Euler-VP, DPM-Solver++ steps raise r, the prior start lowers it) float64 can only reach the
# rounding of the terms: each is good to ~3e-13 of itself (log forms), so allow 1e-12 of the sum of
# their magnitudes on top (it only matters within a relative 1e-2 of an exact cancellation).
TERM_SUM_RTOL = 1e-12
# Below the normal float64 range each underflowed term (< 2.2e-308) is lost; with <= 10 steps ln r
# is compared to 1e-300 absolute there (and a KL below 2.2e-308 is its nearest float64: the series
# rounds x^2 / 2 once among the subnormals, a few ulps of 4.9e-324 per eigenvalue).
LOG_RATIO_ATOL = 1e-300
KL_SUBNORMAL_ATOL = 1e-320
# The mpmath reference is rerun with more digits until every |ln r| (or the float64 value, or
# LOG_RATIO_ATOL, whichever is largest) has REFERENCE_MARGIN_DIGITS beyond the 1e-10 tolerance: at
# most ~360 digits (ln r ~ 1e-300); the cap only guards the loop.
REFERENCE_MARGIN_DIGITS = 40
REFERENCE_DPS_CAP = 1600
# The elementary helpers of symsched.samplers._stable (log1pmx, log1m_exp, ...) and half_phi against
# mpmath: a Horner series or one or two libm calls, each within an ulp or two; 16 eps covers the
# worst branch (log1p(x) - x just beyond |x| = 1/2 loses a factor ~3).
HELPER_RTOL = 16 * EPS64
# log1pmx(x) = log1p(x) - x takes its series only for |x| <= 1e-3 (speed); beyond, the subtraction
# loses a factor 3 / |x| <= 3000 of an ulp: 3000 eps ~ 6.7e-13, 150x inside the 1e-10 contract.
LOG1PMX_RTOL = 3000 * EPS64
# Flow-Heun's bracket near a cancellation, from its factored form (roots at 40 digits, each
# lambda - r in double-double) against exact rational arithmetic: both end in a sum of float64
# logs of size up to ~700 (the denominators), so they agree to a few ulps of those logs, not of
# ln|bracket|: 1e-12 absolute on ln|bracket| (measured worst 3.9e-14), signs exactly.
BRACKET_LOG_ATOL = 1e-12
