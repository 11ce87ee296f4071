r"""40-digit exact sums for the asymptotic checks, written from the angle form (independent oracle).

[sun2026, §3] angle form: :math:`\ln r = \ln\frac{\mathrm{Var}_0}{\lambda+\sigma_0^2}
+\sum_k 2\ln\cos(\varphi_{k-1}-\varphi_k)`, :math:`\varphi=\arctan(\rho/\sqrt\lambda)` — a different
formula from the rational gains the package multiplies, evaluated directly (no Euler–Maclaurin,
no ``sumem``: ``mpmath.sumem`` is an asymptotic series and can be wrong,
docs/verification.md#oracles). Levels are the family's expression evaluated at ``k/N`` in mpmath, so
no float64 rounding enters.
"""

from __future__ import annotations

from typing import Any

import mpmath

from symsched import numeric
from symsched.schedules.families import Family
from symsched.symbols import u

__all__ = ["family_levels_mp", "kl_direct", "log_ratio_direct"]


def family_levels_mp(fam: Family, steps: int, dps: int = 40) -> list[Any]:
    """The N+1 levels rho(k/N) at ``dps`` digits (endpoints exact, inf allowed at u = 0)."""
    syms = tuple(sorted(fam.values, key=lambda q: q.name))
    f = numeric.lambdify((u, *syms), fam.rho, "mpmath")
    with mpmath.workdps(dps):
        vals = [
            mpmath.mpf(fam.values[q]) if fam.values[q] != float("inf") else mpmath.inf for q in syms
        ]
        out = [mpmath.mpf(fam.sigma_max) if fam.sigma_max != float("inf") else mpmath.inf]
        out += [f(mpmath.mpf(k) / steps, *vals) for k in range(1, steps)]
        out.append(mpmath.mpf(fam.sigma_min))
    return out


def log_ratio_direct(
    levels: list[Any], eigenvalue: float, start: str = "exact", dps: int = 40
) -> Any:
    """ln r by the angle form, summed term by term at ``dps`` digits."""
    with mpmath.workdps(dps):
        sv = mpmath.sqrt(mpmath.mpf(eigenvalue))
        phis = [mpmath.pi / 2 if v == mpmath.inf else mpmath.atan(v / sv) for v in levels]
        total = mpmath.mpf(0)
        for k in range(1, len(levels)):
            total += 2 * mpmath.log(mpmath.cos(phis[k - 1] - phis[k]))
        if start == "prior" and levels[0] != mpmath.inf:
            total += mpmath.log(levels[0] ** 2 / (sv**2 + levels[0] ** 2))
        return total


def kl_direct(log_ratios: list[Any], dps: int = 40) -> tuple[Any, Any]:
    """(KL(target||output), KL(output||target)) = sum of (1/r - 1 + ln r)/2 and (r - 1 - ln r)/2."""
    with mpmath.workdps(dps):
        kso = sum((mpmath.exp(-x) - 1 + x) / 2 for x in log_ratios)
        kos = sum((mpmath.exp(x) - 1 - x) / 2 for x in log_ratios)
    return kso, kos
