r"""Tolerances of the exporters' real-library checks and the reference schedules
(docs/conventions.md#export-conventions)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from symsched._typing import FloatArray

__all__ = [
    "AYS_SIGMA_RTOL",
    "AYS_TABLE_ATOL",
    "CONSUMER_LEVEL_RTOL",
    "EPS32",
    "EXPORT_PARTICLES",
    "KDIFFUSION_CLAIM_PARTICLES",
    "KDIFFUSION_NEGATIVE_Z",
    "KDIFFUSION_PARTICLES",
    "REPORT_KL_RTOL",
    "SWEEP_KL_MPMATH_RTOL",
    "TRAIN_TABLE_RTOL",
    "train_table_rtol",
]

EPS32 = float(np.finfo(np.float32).eps)  # 1.19e-7

# diffusers keeps sigmas and timesteps in float32. A level we export in float64 is rounded once on
# entry (<= eps32/2), the flow shift and its inverse add a few roundings, and a fractional Euler
# timestep goes through float32 log-interpolation and back (measured: 2.3e-7 Euler, 6.2e-7 flow with
# shift 3). 64 eps32 = 7.6e-6 bounds every such chain with room and is still 1000x smaller than
# the smallest step ratio of any grid we export (so a wrong or shifted level cannot pass).
CONSUMER_LEVEL_RTOL = 64 * EPS32

# diffusers builds alphas_cumprod as a float32 cumulative product of 1000 factors; each product
# rounds by <= eps32/2, so the relative error after 1000 steps is <= 1000 * 6e-8 = 6e-5 (measured
# 1.3e-5 on the scaled_linear table); sigma = sqrt((1-ac)/ac) halves it. We compare symsched's
# float64 table with diffusers' at 1e-4.
TRAIN_TABLE_RTOL = 1e-4


def train_table_rtol(betas: ArrayLike) -> FloatArray:
    """Per-timestep bound on the relative error of diffusers' float32 ``alphas_cumprod``.

    Each factor ``1 - beta_s`` is rounded to float32 with absolute error <= eps32/2, a relative
    error eps32/(2 (1 - beta_s)), and each product adds eps32/2: to first order the error at t is
    at most eps32 * sum_{s<=t} 1/(1 - beta_s). For linear tables this is ~1.2e-4 at t = 999; for the
    cosine table, whose last betas sit at the 0.999 cap, 1 - beta keeps only 3 digits and the bound
    grows accordingly (measured 2.6e-4 there).
    """
    bound: FloatArray = EPS32 * np.cumsum(1.0 / (1.0 - np.asarray(betas, dtype=np.float64)))
    return bound


# Particles of the end-to-end runs: the sample variance has relative standard error sqrt(2/n), 1 %
# at n = 20000, small enough that a convention error (a shifted level, a missing step) is tens of
# standard errors away (the re-applied flow shift of 3 is measured at z = -468), and each run costs
# ~0.1 s. Comparisons use symsched_verify.tolerances.Z_SCORE (5).
EXPORT_PARTICLES = 20_000

# AYS: diffusers' AysSchedules sigma lists are printed to 3-4 decimals (paper Table 3 values), the
# ComfyUI constants to 10 decimals; 5e-4 absolute covers the 3-decimal rounding of diffusers' lists.
AYS_TABLE_ATOL = 5e-4
# ComfyUI's log-linear interpolation is reimplemented from its description; the two float64
# evaluations (np.interp in log space, exp) agree to a few ulp.
AYS_SIGMA_RTOL = 1e-13

# The KL written next to each reference schedule is recomputed at 40 digits (mpmath) when checked:
# same bound as the backends (symsched_verify.tolerances.backend_rtol); this constant is the floor
# for N = 1.
REPORT_KL_RTOL = 1e-12

# `symsched sweep` records (float64) against the 40-digit mpmath path on the same grid (DDIM): ln
# r_i is a sum of N float64 log1p terms, so round-off accumulates over the N steps (at most ~N eps
# |ln r_i|, doubled in the KL; symsched_verify.tolerances.backend_rtol(N) = 64 eps * 2N is 2.8e-11
# at N = 1000), and the KL sums d such terms. 1e-10 relative covers every N up to a few thousand
# with room; a wrong grid, sampler or start passed through the sweep changes the KL at the percent
# level or more.
SWEEP_KL_MPMATH_RTOL = 1e-10

# k-diffusion's samplers run in whatever dtype they are handed; we hand them float64 sigmas and
# float64 states, so the levels the model is queried at are the exported floats bit for bit
# (JSON carries repr() of each float64 exactly): levels are compared with equality, no tolerance.
#
# Particles of the k-diffusion end-to-end tests: the variance ratio along an eigen-direction has
# relative standard error sqrt(2/n) = 0.7 % at n = 40000; the samplers' closed forms differ from
# each other by 10-100 % on the 8-step grids used, and the convention error the tests guard against
# (dropping the trailing 0, so the output keeps sigma_N^2 of noise) moves the ratio of the smallest
# eigenvalue (0.004) by ~20 %, ~30 standard errors (measured 45). Each run costs ~0.05 s.
# Comparisons use symsched_verify.tolerances.Z_SCORE (5).
KDIFFUSION_PARTICLES = 40_000

# The k-diffusion claims: (quick, full) particles per run. Quick: 1e5 particles, ~0.1 s per run
# beside k-diffusion's ~3.5 s import, s.e. of a variance ratio 0.45 %; full: 1e6, s.e. 0.14 %
# (~1-5 s a run on 2 busy cores), so a closed form off by 0.7 % would show as z ~ 5.
KDIFFUSION_CLAIM_PARTICLES = (100_000, 1_000_000)

# A negative control (a convention error or the wrong sampler's closed form) must miss by more than
# this many standard errors. 4 Z_SCORE = 20: the smallest separation we use is expected at ~30 s.e.
# (measured 45) at 40000 particles and grows like sqrt(n), so a control can only pass if the test
# has lost its power, which is what it is there to detect.
KDIFFUSION_NEGATIVE_Z = 20.0
