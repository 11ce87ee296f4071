r"""Tolerances of the reproductions of other tools' built-in schedules and of the mismatch
findings (docs/conformance.md), each with its reason."""

from __future__ import annotations

__all__ = [
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
