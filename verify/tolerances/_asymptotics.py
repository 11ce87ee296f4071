r"""Tolerances of the asymptotics, optima and samplers, each with the reason for its size."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symsched_verify.tolerances._gaussian import EPS64

__all__ = [
    "AUTOGRAD_RTOL",
    "CLOSED_FORM_RTOL",
    "EM_DPS",
    "EM_LADDER",
    "EM_RICHARDSON_BAND",
    "EM_SLOPE_BAND",
    "FIXED_POINT_TOL",
    "GEODESIC_LIMIT_RTOL",
    "KL_OPT_GRAD_RTOL",
    "KL_OPT_MARGIN",
    "LINEAR_MAP_RTOL",
    "NONSMOOTH_GROWTH",
    "QUAD_RTOL",
    "SAMPLER_MP_RTOL",
    "TANGENT_RECOVERY_RTOL",
    "dpm_mp_rtol",
]

# --- Euler–Maclaurin remainders -----------------------------------------------------------------
# Remainder after the N^-p truncation is R(N) = c N^-q (1 + (c'/c) N^-1 + ...), q the next order.
# Its log-log slope over a ladder N in [48, 384] differs from -q by about |c'/c| / N; for the smooth
# drawn families |c'/c| <= ~15 (measured over the draws: coefficients are ratios of the O(1) angle
# integrals J, K, whose ratio is bounded by the drawn parameter ranges), so |slope + q| <= 15/48 ~
# 0.3. The band is two-sided: a wrong order (e.g. a missing N^-2 term) moves the slope by >= 1.
EM_LADDER = (48, 96, 192, 384, 768)
EM_SLOPE_BAND = 0.35
# When the next coefficient is large relative to the leading one (|c'/c| ~ 50-100 happens when the
# N^-q coefficient nearly cancels between eigenvalues, e.g. in KL(output||target)), the slope only
# reaches -q beyond N ~ 1000. Then R N^q = c + c'/N + O(N^-2): its increments on a doubling ladder
# shrink by exactly 1/2 up to O(1/N) ~ c''/(c' N) <= 0.15 at N >= 96; a wrong order q-1 makes them
# double.
EM_RICHARDSON_BAND = 0.15
# 40-digit sums: the smallest remainder (ln r after N^-3, ~1e-13 at N = 384) is still 1e26 times
# the summation round-off (~N * 1e-40).
EM_DPS = 40

# --- quadrature and closed forms ----------------------------------------------------------------
# numpy composite Gauss–Legendre (8 nodes x ~200 graded panels) vs mpmath tanh-sinh at 30 digits:
# both converge exponentially for analytic integrands; float64 accumulation of ~1600 terms leaves
# ~1e-13 relative; allow 1e-10.
QUAD_RTOL = 1e-10
# SymPy's closed-form antiderivative (tangent family) evaluated in float64 vs 30-digit quadrature:
# difference of two O(1) antiderivative values, cancellation at most ~1e3 for narrow ranges.
CLOSED_FORM_RTOL = 1e-11

# --- variational optima -------------------------------------------------------------------------
# The self-consistent weighted geodesic is computed to a fixed-point residual of 1e-10 (as
# docs/theory/gaussian.md#b-self-consistent-weighted-geodesic states), measured as max |w - J(w)/sum
# J(w)| on the simplex.
FIXED_POINT_TOL = 1e-10
# kl-optimal is a local optimiser: the exact-KL gradient in log-levels at its output, relative to
# the KL, must be below 1e-6 (L-BFGS stops on a 1e-10 projected gradient; 1e-6 leaves room for the
# float64 noise of a sum of N d terms).
KL_OPT_GRAD_RTOL = 1e-6
# "(c) <= (b) <= (a) <= heuristics": each inequality holds up to this relative margin (two exact
# KL values, each good to ~1e-12 relative, and an optimiser stopped at ~1e-12 relative decrease).
KL_OPT_MARGIN = 1e-9
# One eigenvalue: kl-optimal must reproduce the exactly optimal tangent grid
# (docs/theory/gaussian.md#tangent-law); an optimum is flat, so levels are determined to ~sqrt(KL
# rtol) ~ 1e-6 relative.
TANGENT_RECOVERY_RTOL = 1e-5
# Analytic gradient (derived step derivatives) vs torch autograd of the same exact KL: float64
# round-off in sums of N d terms, ~1e-13; allow 1e-9 relative to the gradient's max norm.
AUTOGRAD_RTOL = 1e-9
# N^2 KL of the exact finite-N optimum vs the geodesic's dominant term sum J_i^2/4: they share the
# limit; at N = 200 the relative gap is O(1/N) (the N^-3 term, ~J/(3N)) -> allow 3% on the digits
# spectrum.
GEODESIC_LIMIT_RTOL = 3e-2

# --- samplers -----------------------------------------------------------------------------------
# Exact per-eigenvalue recursion vs the full-matrix particle sampler pushed on the identity (the
# linear map itself, no Monte Carlo): D x D solves per step, condition number <= 100, N <= 40 steps.
LINEAR_MAP_RTOL = 1e-9
# Each sampler's float64 recursion (stable form) vs its direct recursion in 40-digit mpmath, on r_i,
# N <= 12 steps, hypothesis spectra and grids: float64 round-off of O(10) operations per step.
# Measured over 600 cases: the one-state samplers <= 5e-15 -> allow 1e-10 (a wrong recursion or a
# form that loses digits is off by >= 1e-8).
SAMPLER_MP_RTOL = 1e-10
# DPM-Solver++(2M) extrapolates with D_a + (D_a - D_prev) / (2 r), r = h_prev / h the ratio of
# consecutive log-sigma steps: the algorithm itself (in any float64 implementation, k-diffusion's
# included) amplifies round-off by ~1/(2r). Measured 1.0e-10 at 1/r = 1e6 (levels 1.000002 -> 1 ->
# 0.135); allow 64 eps per unit of amplification on top of SAMPLER_MP_RTOL.


def dpm_mp_rtol(sigmas: Sequence[float]) -> float:
    """SAMPLER_MP_RTOL plus 64 eps x the largest step-ratio amplification h / h_prev of the grid."""
    s = np.asarray(sigmas, dtype=np.float64)
    s = s[np.isfinite(s) & (s > 0)]
    h = np.diff(-np.log(s))
    amp = float(np.max(h[1:] / h[:-1])) if h.size > 1 else 1.0
    return SAMPLER_MP_RTOL + 64 * EPS64 * max(amp, 1.0)


# --- non-smooth ends ----------------------------------------------------------------------------
# For rho ~ sqrt(t) at sigma_min = 0, J diverges logarithmically, so N^2 KL grows ~ (log N)^2:
# from N = 100 to N = 10000 it must grow by at least 20% (a smooth family changes by < 2%).
NONSMOOTH_GROWTH = 1.2
