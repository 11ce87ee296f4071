"""Symbols and the exact denoiser that every sampler derivation uses."""

from __future__ import annotations

import sympy as sp

from symsched.gaussian import derive
from symsched.symbols import rho

__all__ = ["a_prev", "denoiser_at", "eta_s"]

a_prev = sp.Symbol("a_prev", positive=True)  # the level before a (multistep history)
eta_s = sp.Symbol("eta", nonnegative=True)  # the ancestral noise fraction

# the ancestral sampler's log forms (symsched.samplers.ancestral)
ancestral_gap = sp.Symbol("g", positive=True)  # the gap a - sigma_down of a step
(
    ancestral_log_a,
    ancestral_log_b,
    ancestral_log_ab,
    ancestral_log_lam,
    ancestral_log_d,
    ancestral_log_u,
) = sp.symbols("log_a log_b log_ab log_lam log_d log_u", real=True)
ancestral_down, ancestral_up = sp.symbols("d u", positive=True)


def denoiser_at(level: sp.Expr) -> sp.Expr:
    r"""The exact denoiser :math:`D(\bar x,\text{level})` (Tweedie), a function of ``xbar``."""
    return derive.tweedie_denoiser_rho().subs(rho, level)
