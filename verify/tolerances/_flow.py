r"""Tolerances of the end-to-end checks of diffusers' flow-matching schedulers
(docs/theory/samplers.md#diffusers-flow-schedulers)."""

from __future__ import annotations

from symsched_verify.tolerances._export import EPS32
from symsched_verify.tolerances._gaussian import Z_SCORE

__all__ = [
    "DIFFUSERS_FLOW_NEGATIVE_Z",
    "DIFFUSERS_FLOW_PARTICLES",
    "DIFFUSERS_FLOW_TIME_RTOL",
    "FLOW_EXPANSION_MIN_STEPS",
    "FLOW_HEUN_LOOP_RTOL",
    "FLOW_HEUN_ORDER_BAND",
    "FLOW_SHIFT_KL_RTOL",
    "FLOW_SHIFT_LIMIT_GAP",
    "FLOW_SHIFT_SWEEP_RTOL",
]

# The flow times a scheduler stores against symsched's float64 prediction of them. diffusers keeps
# the training table in float32 (its ends 1 and 1/1000 shifted in float32: <= 3 roundings of
# eps32/2), spaces and shifts the N times in float64 from those ends and rounds the result to
# float32 once more; so each stored time is within ~4 eps32 of the exact one (measured <= 0.6
# eps32 on the claim's grids). 16 eps32 = 1.9e-6 bounds that chain with room and is 1000x below the
# smallest relative change of a time that a wrong convention (a missing or a repeated shift, the
# unshifted ends) makes on these grids.
DIFFUSERS_FLOW_TIME_RTOL = 16 * EPS32

# Particles of each scheduler run: the second moment has relative standard error sqrt(2 / n),
# 0.32 % at n = 2e5. The FlowMatch schedulers cast the state to float32 inside step(), i.e. a
# relative rounding of <= eps32 / 2 per step and sample, unbiased to first order; over <= 12 steps
# it moves a second moment by <= 1e-6 relative, 3000x below one standard error, so the float64
# closed form is compared with Z_SCORE (5) standard errors unchanged. Each run costs ~0.3 s.
DIFFUSERS_FLOW_PARTICLES = 200_000

# A negative control (a wrong closed form for the samples) must miss by at least four times the
# acceptance band, or the check has lost its power to tell the two apart.
DIFFUSERS_FLOW_NEGATIVE_Z = 4 * Z_SCORE

# Heun in flow time written as a plain float64 loop on x_t (the joint Gaussian of x_t and
# eps - x0, no noise level) against the flow-heun closed form: <= 10 steps of ~20 roundings each
# on values of order 1, so ~1e-14 relative (measured <= 3e-15); 1e-12 leaves room and is far below
# the flow-heun / heun difference (> 1e-3 relative on these grids).
FLOW_HEUN_LOOP_RTOL = 1e-12

# Order of flow-heun and heun: the log-log slope of max |ln r| on the tangent family [0.01, 50] at
# N = 80..640 is within this band of -2; the next term is O(1/N) relative (measured -1.99 for
# flow-heun, -2.14 for heun), the band used by the samplers.orders claim.
FLOW_HEUN_ORDER_BAND = 0.25

# The optimal shift as `schedule flow` returns it, against an independent 30-digit KL: the KL of
# the returned grid written as the product of DDIM gains (lambda + rho_a rho_b)/(lambda + rho_a^2)
# in mpmath, against symsched's float64 closed form on grouped eigenvalues: both exact, so they
# differ by the float64 rounding of <= 100 steps x 64 eigenvalues (~1e-14 relative); 1e-10 leaves
# room and still catches a wrong step, a lost eigenvalue group or a wrong start term.
FLOW_SHIFT_KL_RTOL = 1e-10

# The warm-started sweep against the scanned optimum of the same N: both are the minimiser of the
# same smooth function to the Newton tolerance (1e-10 in ln s), so they agree to ~1e-10 relative
# in s (measured 3.7e-11 on the benchmark spectrum); 1e-8 is the bound, a hundred times looser.
FLOW_SHIFT_SWEEP_RTOL = 1e-8

# |ln s*(N) / s_inf| at N = 40 on the digits spectrum: the N^-2 coefficient's minimiser differs
# from the exact one by O(N^-1) in ln s (measured 3.1e-3, 6.2e-4, 5.1e-5 at N = 10, 20, 40, i.e.
# faster than 1/N); 1e-3 at N = 40 bounds a first-order approach (c/N with c < 0.04) and fails a
# wrong limit (the next-best candidate, gamma* = 0.211 against s_inf = 0.2124, is 6e-3 away).
FLOW_SHIFT_LIMIT_GAP = 1e-3
# The Euler-Maclaurin expansion of the KL in 1/N is asymptotic: its minimiser is nearer to s*(N)
# than the N -> infinity limit once N is large enough for the next term to be small. Measured on
# the digits spectrum: nearer at N = 10, 20, 40 (|ln s*/s_em| = 2.0e-3, 3.7e-4, 3.9e-5 against
# 3.1e-3, 6.2e-4, 5.1e-5 for the limit), not at N = 4 (1.5e-2 against 1.2e-2: the N^-2 correction
# overshoots). The comparison is claimed from this N on; smaller N are measured and reported.
FLOW_EXPANSION_MIN_STEPS = 10
