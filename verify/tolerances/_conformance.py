r"""Tolerances of the reproductions of other tools' built-in schedules and of the mismatch
findings (docs/conformance.md), each with its reason."""

from __future__ import annotations

__all__ = [
    "A1111_KARRAS_EXPONENTIAL_ULPS",
    "A1111_KDIFFUSION_CALL_ULPS",
    "A1111_SIGMA_TO_T_ULPS",
    "A1111_TABLE_SQRT_ULPS",
    "A1111_TAN_ULPS",
    "A1111_T_TO_SIGMA_ULPS",
    "COMFY_NODE_TRANSCENDENTAL_ULPS",
    "COMFY_NONINTEGER_POW_ULPS",
    "COMFY_TORCH_TRANSCENDENTAL_ULPS",
    "DIFFUSERS_CONTINUOUS_TIMESTEP_ATOL",
    "DIFFUSERS_DERIVED_TIMESTEP_ATOL",
    "DIFFUSERS_TABLE_ULPS",
    "DIFFUSERS_TORCH_TRANSCENDENTAL_ULPS",
    "DIFFUSERS_ZERO_SNR_ALPHA_RTOL",
    "DIFFUSERS_ZERO_SNR_RTOL",
    "KDIFFUSION_TORCH_POW_ULPS",
    "MISMATCH_CHECK_ABS",
    "MISMATCH_FLUX_ABS",
    "MISMATCH_SAME_LEVEL_RTOL",
]

# The survey's printed check values of the mismatch cases (the two "beta" schedules at N = 10,
# zero-terminal-SNR sigma_max) carry 2-4 significant digits: half a unit of the last printed digit,
# at most 5e-3 for values below 15 printed to two decimals. A reproduction off by a wrong formula
# (a Beta quantile of sigma for one of the index, a 2^-24 for a 4.9e-8) moves them by 0.3 or more.
MISMATCH_CHECK_ABS = 5e-3

# The Flux case's max |dt| printed to two digits (2.3e-4 at N = 28, ...): half a unit of the
# second digit, 5e-6; the values compared differ from each other by 3e-5 or more.
MISMATCH_FLUX_ABS = 5e-6

# Whether two tools pick the same training level: the SD tables of ComfyUI (float64 betas, one
# rounding to float32) and diffusers (float32 betas) differ by at most 1.3e-5 relative (measured
# over the 1000 levels), while adjacent levels of the table differ by at least 3.3e-3 relative
# (measured: sigma_1/sigma_0 - 1 is the smallest gap at the top of the table). 1e-4 sits two
# decades from both.
MISMATCH_SAME_LEVEL_RTOL = 1e-4

# -- A1111 (tests/symsched/builtin/test_a1111_builtins.py) ----------------------------------------

# torch's float32 ``** 0.5`` (its vectorised sqrt) is not correctly rounded everywhere: some
# CompVisDenoiser levels lie one ulp from the correctly rounded square root reproduced here (11 of
# the 1000 on one x86-64 CPU, 168 on another; the float32 ``alphas_cumprod`` and the quotient are
# bit-identical, and the test checks that the levels differ exactly where torch's root of the
# quotient is misrounded). ``simple`` / ``ddim`` pick table entries and inherit it.
A1111_TABLE_SQRT_ULPS = 1

# ``uniform``, ``sgm_uniform`` and ``normal`` go through ``t_to_sigma``: exp of a linear
# interpolation of the float32 log table. Bound: torch's float32 log is within one ulp and the
# interpolation adds two half-ulp roundings, so ln sigma is off by at most 2 ulps of |ln sigma| < 4,
# i.e. 2 * 2^-22 absolute; exp makes that a relative error of sigma, which is at most 8 ulps of
# sigma (an ulp is at least 2^-24 relative), plus one for torch's exp. Measured, on the same table:
# 4 on one x86-64 CPU, 6 on another (MKL's vector log and exp round differently per CPU).
A1111_T_TO_SIGMA_ULPS = 9

# ``sigma_to_t`` of one sigma (float32 ops on the table logs) against the installed
# CompVisDenoiser: within one float32 ulp of t (measured: 7 of 2007 sigmas differ, by 6.1e-5 at
# t ~ 999; the ends map to exactly 0 and 999).
A1111_SIGMA_TO_T_ULPS = 1

# Where A1111 calls k-diffusion (karras, exponential, polyexponential, and the ingredients of
# karras_exponential): torch's float32 exp / integer pow within one ulp of the correctly rounded
# values; ``kl_optimal``'s torch tan likewise (measured 1 over the fixture).
A1111_KDIFFUSION_CALL_ULPS = 1
A1111_TAN_ULPS = 1

# ``karras_exponential`` blends a Karras and an exponential schedule (one ulp each, above) with
# float32 weights; the blend adds at most one more ulp (measured 2 over the fixture).
A1111_KARRAS_EXPONENTIAL_ULPS = 2

# -- ComfyUI (tests/symsched/builtin/test_comfyui_builtins.py) ------------------------------------

# torch's float32 ``exp``/``tan``/``pow`` (vectorised SLEEF/MKL) lie within this many float32 ulps
# of the correctly rounded values reproduced here (measured over the fixture); every level that
# goes through no transcendental function is asserted bit-exact. The ``edm`` table is itself an
# exp of a linspace, so every scheduler on it is held to this (measured 1: 40 of 5141 levels).
COMFY_TORCH_TRANSCENDENTAL_ULPS = 1

# The schedule nodes laplace, polyexponential (integer rho) and vp: one exp/log/expm1 each (sqrt
# halves expm1's error), float32 ulps of the result (measured 1).
COMFY_NODE_TRANSCENDENTAL_ULPS = 1

# A non-integer rho adds torch's vectorised pow (about one ulp of the ramp) amplified by the exp
# over log(sigma_max/sigma_min) = 6.2 (measured 4 ulps at rho 2.5).
COMFY_NONINTEGER_POW_ULPS = 8

# -- k-diffusion (tests/symsched/builtin/test_kdiffusion_builtins.py) -----------------------------

# How far torch's float32 ``pow``/``exp`` (vectorised SLEEF/MKL approximations) may lie from the
# correctly rounded float32 value symsched.builtin.kdiffusion computes, in float32 ulps of the
# result. ``exp`` and integer powers are within 1 ulp; non-integer powers of small bases reach ~50
# ulps (measured: 48 at ``x ** 9.9``). linspace, products and sums are bit-exact (asserted
# separately).
KDIFFUSION_TORCH_POW_ULPS = 64

# -- diffusers (tests/symsched/builtin/test_diffusers_builtins.py) --------------------------------

# float32 ulps between the built-in's levels and diffusers' when each builds its own training
# table: torch's CPU sqrt (MKL vector math, not correctly rounded) puts about 1 % of the table one
# ulp below numpy's correctly rounded sqrt; interpolation keeps that at one ulp, and a Karras /
# exponential / beta re-spacing between two ends that are each one ulp off reaches two (measured).
DIFFUSERS_TABLE_ULPS = 2

# Relative tolerance on the levels with ``rescale_betas_zero_snr``: the rescale subtracts two
# square roots (torch's vs numpy's, one ulp apart) near the end of the table, and that cancellation
# magnifies the one-ulp difference (measured at most 2e-6 relative, 30 float32 ulps).
DIFFUSERS_ZERO_SNR_RTOL = 1e-5

# Relative error of a zero-SNR table entry alpha_bar near 1 (the low-noise end), where sigma is
# ill-conditioned: sigma^2 = (1 - alpha_bar) / alpha_bar moves by delta / (1 - alpha_bar) when
# alpha_bar moves by delta relative, so one ulp there becomes 1.4e-3 at sigma = 0.0064 (t = 0 of
# the cosine table). The rescale squares torch's sqrt(alpha_bar), which is one float32 ulp off on
# some CPUs (up to 2^-23 relative; about 1 % of entries on one x86-64 build, 20 % on another), and
# squaring doubles it: 2 * 2^-23. Used per level with the bound above by
# symsched_verify.oracles.tool_schedules.zero_snr_excess.
DIFFUSERS_ZERO_SNR_ALPHA_RTOL = 2.0 * 2.0**-23

# float32 ulps for Euler's ``interpolation_type=log_linear`` levels, which torch exponentiates with
# its own float32 exp (reproduced with a correctly rounded float64 exp): one ulp, also given
# diffusers' own training table.
DIFFUSERS_TORCH_TRANSCENDENTAL_ULPS = 1

# Absolute tolerance on Euler's ``timestep_type=continuous`` timesteps ``log(sigma) / 4`` (torch's
# float32 log, reproduced with a correctly rounded float64 log), given diffusers' table: they cross
# 0 near sigma = 1, where ulps of t mean nothing; one or two ulps of sigma (6e-8 relative each) move
# t by under 1e-7.
DIFFUSERS_CONTINUOUS_TIMESTEP_ATOL = 1e-6

# Absolute tolerance on float timesteps read back from levels (``_sigma_to_t``, continuous
# timesteps) when the table is built here: the one-ulp level differences move t by at most 1.2e-4
# measured.
DIFFUSERS_DERIVED_TIMESTEP_ATOL = 1e-3
