r"""Tolerances of the end-to-end checks of diffusers' flow-matching schedulers
(docs/theory/samplers.md#diffusers-flow-schedulers)."""

from __future__ import annotations

from symsched_verify.tolerances._export import EPS32
from symsched_verify.tolerances._gaussian import Z_SCORE

__all__ = [
    "DIFFUSERS_FLOW_NEGATIVE_Z",
    "DIFFUSERS_FLOW_PARTICLES",
    "DIFFUSERS_FLOW_TIME_RTOL",
    "FLOW_HEUN_LOOP_RTOL",
    "FLOW_HEUN_ORDER_BAND",
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
