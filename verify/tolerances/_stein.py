r"""Tolerances of the Stein-cost (score-optimal schedule) claims (docs/theory/stein.md), each with
its reason."""

from __future__ import annotations

__all__ = [
    "DIFFUSERS_ADAPTER_RTOL",
    "DIFFUSERS_JVP_RTOL",
    "SAMPLER_ORDER_BAND",
    "SAMPLE_METRIC_RTOL",
    "STEIN_CV_EXACT_RTOL",
    "STEIN_DEFAULT_SCHEDULE_RTOL",
    "STEIN_EFFICIENCY_FACTOR",
    "STEIN_EQUAL_COST_RTOL",
    "STEIN_GRID_INDEPENDENCE_RTOL",
    "STEIN_LENGTH_ORDER_BAND",
    "STEIN_LOCAL_ORDER_BAND",
    "STEIN_LOGLINEAR_RTOL",
    "STEIN_QUADRATURE_RTOL",
    "STEIN_ROUNDOFF_RTOL",
    "STEIN_SAMPLING_ALPHA",
    "STEIN_SCHEDULE_RTOL",
    "STEIN_TARGET_SCHEDULE_ERROR",
    "stein_zero_atol",
]

# Closed forms through the lambdify bridge against hand-typed float64 formulas: each is a rational
# function of a handful of terms (~10 roundings), summed over <= 256 eigenvalues: 1e-12 relative
# leaves a factor ~50 over 256 * 10 * eps.
STEIN_ROUNDOFF_RTOL = 1e-12


# "Exactly zero" cost (VP, unit-variance data) through the denoiser: the VP score
# (alpha D(x/alpha) - x)/sigma^2 is a difference of two O(|x|) numbers divided by sigma^2, so its
# round-off is <= k eps |x| / sigma^2 with k ~ 64 (a few dozen roundings in D, alpha, the
# division). Squared, summed over d coordinates (|x|^2 ~ d) and weighted by sigma^2, the residual
# cost is <= (k eps)^2 d / sigma_min^2 at the smallest VP noise std of the grid. The exact closed
# form is 0 identically (symbolic), so this bound is for the Monte Carlo and JVP paths only.
# The JVP metric differentiates that score in sigma, which adds one more 1/sigma to the round-off
# (d/dsigma of a 1/sigma^2 quantity): (k eps)^2 d / sigma_min^4 for delta = sigma^2 |d_sigma s|^2.
def stein_zero_atol(dim: int, sigma_min_vp: float, derivative: bool = False) -> float:
    """Round-off bound of a zero corrector cost (or local metric) estimated through a float64
    denoiser."""
    return (64 * 2.220446049250313e-16) ** 2 * dim / sigma_min_vp ** (4 if derivative else 2)


# Algorithm 1 on a fine probe grid (K = 2000 log-spaced intervals, Delta ln sigma = 0.0053) against
# the root-found closed-form optimum: the target-weighted finite-step cost is a first-order
# (one-sided) Riemann sum of sqrt(delta), so the knots carry a relative bias ~ Delta/2 ~ 3e-3 in the
# worst case; measured 0.09% (docs/theory/stein.md#isotropic-ve). 3e-3 bounds it with the O(Delta)
# rate.
STEIN_SCHEDULE_RTOL = 3e-3

# The Stein schedule as shipped (stein_schedule(model, N), exact symmetric costs on K = max(128, 8N)
# log-spaced probes, docs/theory/stein.md#second-order-length-estimate) against the continuum
# optimum: the accuracy the defaults promise (docs/defaults.md). The symmetric length is second
# order, error ~ C Delta^2 with Delta = ln(80 / 0.002) / K = 0.083 at K = 128; measured at most
# 6.6e-4 over Gaussians with c = 1e-3 .. 200, the digits and patches spectra and the two-point
# mixture, N = 2 .. 100 (the forward costs of Algorithm 1: 1.3e-2). 1e-3 is the promise, 1.5x over
# the worst measured case; a first-order estimate misses it by 10x.
STEIN_DEFAULT_SCHEDULE_RTOL = 1e-3

# Observed order log2(e(K) / e(2K)) of a length estimate, K = 256 -> 512 -> 1024, around its
# theoretical order (1 forward, 2 symmetric). The ratio is 2^p (1 + O(K^-q)) with q = 1 (forward)
# or 2 (symmetric); measured 0.96-1.03 forward and 1.96-2.00 symmetric on N(0, 1/4) and the
# two-point mixture (cumulative length and schedule; the two-point's last ratio bends as its error,
# 7e-6 at K = 1024, meets the ~1e-6 of the PCHIP inversion itself). +-0.1 (7% in the ratio) is
# 2.5x the worst measured deviation and a tenth of the gap between the two orders.
STEIN_LENGTH_ORDER_BAND = (-0.1, 0.1)

# Two fine probe grids (log vs EDM rho = 7, K = 2000): each within STEIN_SCHEDULE_RTOL of the
# optimum, so within twice that of each other.
STEIN_GRID_INDEPENDENCE_RTOL = 2 * STEIN_SCHEDULE_RTOL

# The accuracy the estimator comparison aims for (a 1% schedule error,
# docs/theory/stein.md#jvp-with-control-variates), as the RMS over seeds of the largest relative
# error of the interior levels.
STEIN_TARGET_SCHEDULE_ERROR = 0.01

# The bar of docs/theory/stein.md#jvp-with-control-variates: the default estimator needs >= 4x fewer
# score evaluations than independent-noise Monte Carlo at equal (1%) schedule error.
STEIN_EFFICIENCY_FACTOR = 4.0

# Locality of the finite-step cost: away from sigma_min, L_c(step) = delta Delta^2 (1 + O(Delta)),
# so the spread max/min - 1 of the optimal grid's interval costs decays like 1/N. A log-log slope
# fitted over N = 50..400 must lie in this band around -1.
STEIN_LOCAL_ORDER_BAND = (-1.25, -0.75)

# Equal costs at N = 400: spread ~ 1.6/N = 0.4% measured; 1% allows the O(1/N^2) remainder.
STEIN_EQUAL_COST_RTOL = 0.01

# Point-mass data with common noise: delta_hat(sigma) = 4|eps|^2/sigma^2 exactly, so the JVP
# schedule is geometric up to the PCHIP inversion of an exactly linear-in-log map (exact for a
# cubic) and float64 exp/log round-off over ~10 levels: 1e-10 relative.
STEIN_LOGLINEAR_RTOL = 1e-10

# 200-node Gauss-Hermite quadrature of the two-point integrands against an independent adaptive
# scipy.integrate.quad (epsrel 1e-12) of a central difference in sigma (step h = 1e-4 sigma):
# the difference's truncation error is ~ h^2 ~ 1e-8 relative and its round-off eps/h ~ 1e-11;
# 1e-6 leaves a factor 100 over the truncation error.
STEIN_QUADRATURE_RTOL = 1e-6

# JVP with control variates on Gaussian data: the Gaussian control equals the model's metric sample
# by sample, so the residual is round-off of the JVP (a few eps relative per sample, amplified by
# the least-squares fit of 2 coefficients with condition number <= ~1e3 at the extreme levels): 1e-9
# relative leaves a factor ~1e3 over 1e3 eps.
STEIN_CV_EXACT_RTOL = 1e-9

# diffusers UNet2DModel adapter vs the DDPM x0 formula by hand, both in float64 on the same weights:
# the adapter reaches the integer timestep k through log sigma and back (t = k + O(1e-13)) and
# alpha = 1/sqrt(1 + sigma^2) instead of sqrt(alpha_bar) (a few ulp apart); the UNet's sinusoidal
# embedding and ~40 float64 layers amplify that by O(1-100). Errors are relative to |x0| + 1,
# measured 1.6e-14 (epsilon) and 9e-16 (v); 1e-9 covers other weights and platforms (BLAS order)
# with a wide margin and is still ~1e8 below an eps/v mix-up (O(0.1-1)).
DIFFUSERS_ADAPTER_RTOL = 1e-9

# Forward-mode derivative dD/dsigma through a diffusers UNet (attention on the math SDPA backend)
# against a 5-point central difference. diffusers computes the timestep embedding in float32, so D
# is resolved to ~1e-7 relative in sigma; the adapter interpolates timesteps linearly in log sigma,
# so D has a kink at every one of the 1000 training levels and the stencil must stay inside one
# segment (step 0.2 of its half-width, ~5e-4 sigma). Round-off then dominates: measured
# 1.1e-4 - 2.5e-4 (relative to |dD| + 1) at sigma = 1.2, 6.2, 61. 2e-3 is an 8x margin and still
# ~500x below a wrong derivative (a missing chain-rule factor is an O(1) error).
DIFFUSERS_JVP_RTOL = 2e-3

# Sample metrics against independent oracles (verify/claims/stein_sampling.py): our FD takes the
# square roots by symmetric eigendecompositions, scipy.linalg.sqrtm by a Schur form of the
# non-symmetric S1 S2; both lose ~cond(S) eps relative on the trace term (cond <= ~1e4 for the
# random d <= 64 covariances used), measured 6e-14. The 1-D W2 and the affine closed forms are sums
# of ~1e3 float64 terms. 1e-10 leaves a factor > 1e3 over the measured error.
SAMPLE_METRIC_RTOL = 1e-10

# Paired schedule comparisons (FD of schedule A minus schedule B over the same seeded batches): a
# difference is "significant" when mean/se exceeds the one-sided Student-t quantile with B - 1
# degrees of freedom at this level (B = 4 quick, 8 full: t = 10.2, 4.8). Batch FDs are close to
# normal (each is a smooth function of ~10^3 samples' moments), so one test falsely fails with
# probability ~1e-3 (about 2% over the ~25 tests of the full profile), and a real difference of
# ~5 s.e. is still detected.
STEIN_SAMPLING_ALPHA = 1e-3

# Empirical convergence order of the samplers (log-log slope of the final-state error over
# N = 8..64 on the Gaussian flow, whose exact solution is known): Euler 1, Heun 2 asymptotically;
# at N = 8 the higher-order terms still bend the line, measured within 0.1. Band as diffrax's ODE
# order tests (+-0.3 would be tight; we allow +-0.25 around the theoretical order).
SAMPLER_ORDER_BAND = (-0.25, 0.25)
