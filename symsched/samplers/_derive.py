"""Symbols and the exact denoiser that every sampler derivation uses."""

from __future__ import annotations

import sympy as sp

from symsched.gaussian import derive
from symsched.symbols import rho

__all__ = ["a_prev", "denoiser_at", "eta_s"]

a_prev = sp.Symbol("a_prev", positive=True)  # the level before a (multistep history)
eta_s = sp.Symbol("eta", nonnegative=True)  # the ancestral noise fraction


def denoiser_at(level: sp.Expr) -> sp.Expr:
    r"""The exact denoiser :math:`D(\bar x,\text{level})` (Tweedie), a function of ``xbar``."""
    return derive.tweedie_denoiser_rho().subs(rho, level)
