r"""Tolerances of the published shift rules and the optimal shift against resolution
(docs/theory/flow_resolution.md#the-rules), each with its reason."""

from __future__ import annotations

__all__ = [
    "FLOW_COARSE_LOG_STEP",
    "FLOW_FINE_LOG_SPAN",
    "FLOW_FINE_LOG_STEP",
    "FLOW_GROUPED_KL_RTOL",
    "FLOW_KL_ROUNDOFF_RTOL",
    "FLOW_NEIGHBOUR_LOG_STEP",
    "FLOW_RULE_MU_ATOL",
]

# symsched writes each rule in its own algebraic form (mu0 + slope (n - n0); the line in N through
# the two fitted lines), diffusers in another (m n + b; a N + b with b = m_200 - 200 a), so the two
# agree only up to rounding, not bitwise. Every intermediate is below 10 in size on the tested grid
# (R <= 4096: n_seq <= 65536, mu <= 11.6; N <= 500), each of the < 10 operations rounds by at most
# half an ulp of its result (1.1e-16 relative), so the difference is below ~10 x 12 x 1.1e-16 =
# 1.3e-14. 1e-12 leaves two decades for the extrapolated cells and is still ten orders below the
# rules' own precision (diffusers' coefficients are printed to 6-9 digits). An absolute tolerance
# because mu is a logarithm: an error of 1e-12 in mu is a relative error of 1e-12 in s, and mu can
# cross 0 (Flux.2 extrapolated to large N at small n_seq).
FLOW_RULE_MU_ATOL = 1e-12

# The certificate's neighbours: s* must beat s* e^{+-0.01}. The KL is smooth in ln s with the
# measured curvature (e.g. 3.7e3 at KL 988, R = 2048, N = 50), so the neighbours are higher by
# about c h^2/2 ~ 2e-4 of the KL, seven orders above the rounding of the sum (next tolerance) and a
# step small enough that a minimiser off by more than 1% in s is caught.
FLOW_NEIGHBOUR_LOG_STEP = 0.01

# Slack of every "KL(s*) <= KL(other)" comparison: the KL is a sum of up to 2e5 positive terms in
# float64, whose rounding is ~1e-16 x sqrt(terms) relative; 1e-12 covers it with margin and is far
# below the smallest real difference compared (the neighbours' ~1e-4, the rules' >= 4x).
FLOW_KL_ROUNDOFF_RTOL = 1e-12

# The independent scans: a coarse one over ln s in [ln 1e-3, ln 1e3] in steps of 0.05 (where is
# the global basin? its best must lie within one step of ln s*), then a fine lattice of multiples
# of 1e-3 within +-0.05 of the coarse best, placed independently of s* (its best must be within
# one fine step of ln s*). 1e-3 in ln s is 0.1% in s, ten times finer than the neighbour test
# and far coarser than the optimiser's own tolerance on ln s.
FLOW_COARSE_LOG_STEP = 0.05
FLOW_FINE_LOG_STEP = 1e-3
FLOW_FINE_LOG_SPAN = 0.05

# The scans evaluate the KL by the textbook Gaussian KL 1/2 (1/r - 1 + ln r) per distinct eigenvalue
# times its multiplicity, not by symsched's criterion on the full spectrum; the two are the same sum
# in a different order and form (expm1 here), so they agree to the rounding of a sum of up to 2e5
# positive terms (measured <= 5e-16 relative on every row of the default table). 1e-10 relative
# leaves five decades and still catches a lost or double-counted group of eigenvalues unless its
# share of the KL is below 1e-10.
FLOW_GROUPED_KL_RTOL = 1e-10
