r"""Hand-typed formulas and numbers from the papers and the docs' check values: the independent
oracles.

Nothing here is imported by :mod:`symsched`. These are transcriptions (not derivations), kept so
that every derived closed form can be compared with what the paper states and with reference
values computed independently of this code base.
"""

from __future__ import annotations

import math

import sympy as sp

__all__ = [
    "FULL_MATRIX_MC_EXAMPLE",
    "check_values_single_eigenvalue",
    "ddim_gain_vp_paper",
    "ratio_closed_forms",
]


def ddim_gain_vp_paper(alpha_bar_prev: sp.Expr, alpha_bar_cur: sp.Expr, lam: sp.Expr) -> sp.Expr:
    r"""Per-step gain :math:`c_k` in VP form [sun2026, §3] (docs/theory/gaussian.md#ddim-gain).

    .. math::

        c_k=\frac{\lambda\sqrt{\bar\alpha_{k-1}\bar\alpha_k}
        +\sqrt{(1-\bar\alpha_{k-1})(1-\bar\alpha_k)}}{\lambda\bar\alpha_k+1-\bar\alpha_k}
    """
    return (
        lam * sp.sqrt(alpha_bar_prev * alpha_bar_cur)
        + sp.sqrt((1 - alpha_bar_prev) * (1 - alpha_bar_cur))
    ) / (lam * alpha_bar_cur + 1 - alpha_bar_cur)


# One eigenvalue, matched tangent grid rho_k = sqrt(lam) tan(pi k / 2N), pure noise to data
# [sun2026, §5.2] (docs/theory/gaussian.md#single-eigenvalue-on-its-tangent-grid).
# Columns: N, r, KL(p||p_hat), KL(p_hat||p). Computed with mpmath at 30-40 digits, independently of
# this code base, and typed in here.
check_values_single_eigenvalue: tuple[tuple[int, float, float, float], ...] = (
    (2, 0.25, 0.80685281944, 0.31814718056),
    (3, 0.421875, 0.253662076508, 0.142460608678),
    (4, 0.530790042944955, 0.125297681091, 0.0820893891132),
    (5, 0.605429049713107, 0.0749516532766, 0.0536234744646),
    (10, 0.78054606978114, 0.0166964223, 0.0141537922825),
    (20, 0.883824205396585, 0.00397481159164, 0.00366065209521),
    (50, 0.951842078797778, 6.19151452817e-4, 5.99110182269e-4),
    (100, 0.9756269141439, 1.53473948536e-4, 1.50969945712e-4),
    (1000, 0.99753563941957, 1.52327088217e-6, 1.52076726063e-6),
)

# Closed forms of r = cos^(2N)(pi / 2N)
# (docs/theory/gaussian.md#single-eigenvalue-on-its-tangent-grid)
ratio_closed_forms: dict[int, sp.Expr] = {
    2: sp.Rational(1, 4),
    3: sp.Rational(27, 64),
    4: (sp.Rational(3, 8) + sp.sqrt(2) / 4) ** 2,
    6: sp.Rational(1351, 4096) + 195 * sp.sqrt(3) / 1024,
}

# Full-matrix DDIM, Sigma = [[2, .8], [.8, .5]], tangent grid gamma = 1, N = 6, pure noise to data
# [sun2026, §3]: the predicted output covariance to 4 decimals, computed independently of this code
# base (docs/theory/gaussian.md#full-matrix-monte-carlo-example).
FULL_MATRIX_MC_EXAMPLE = {
    "covariance": ((2.0, 0.8), (0.8, 0.5)),
    "gamma": 1.0,
    "steps": 6,
    "predicted": ((1.2652, 0.5126), (0.5126, 0.3041)),
    "printed_decimals": 4,
}

# limit of N^2 KL for the matched tangent grid [sun2026, §5.2] (docs/theory/gaussian.md#tangent-law)
PI4_OVER_64 = math.pi**4 / 64
