"""The float64 quadrature of the Euler-Maclaurin coefficients against the 30-digit one at a
near-singular end, and the smoothness check at both ends of a spectrum [sun2026, §5.1]
(docs/theory/gaussian.md#smoothness-condition)."""

from __future__ import annotations

import numpy as np
import pytest

from symsched._typing import FloatArray
from symsched.gaussian import asymptotics
from symsched.schedules import families

DIRECT = asymptotics._quadrature_direct


def test_direct_quadrature_resolves_a_near_singular_end() -> None:
    # vp-linear with t_min = 1e-4: rho ~ sqrt(t) bends within 1e-4 of u = 1, which the graded
    # panels (halving down to 2^-40 of a panel) resolve: J and K agree with the 30-digit
    # tanh-sinh quadrature to 7e-13 (a grading of ratio 3 gives 1e-9 .. 2e-8)
    fam = families.vp_linear(t_min_value=1e-4)
    lam = np.array([1e-4, 1.0, 1e4])
    _assert_direct_matches_mpmath(fam, lam)


def test_direct_quadrature_resolves_the_default_vp_linear_at_a_tiny_eigenvalue() -> None:
    # the default vp-linear (t_min = 1e-3) at lambda = 1e-6: the integrand's feature near u = 1
    # needs the first graded panel (half of a uniform one); grading from a quarter panel is off
    # by 1.2e-8 in J and 3e-8 in K (measured), the full grading by 6e-13 and 8e-13
    _assert_direct_matches_mpmath(families.vp_linear(), np.array([1e-6]))


def _assert_direct_matches_mpmath(fam: families.Family, lam: FloatArray) -> None:
    J, K = DIRECT(fam, lam, 128, 8)
    mj, mk = asymptotics._quadrature_mpmath(fam, lam, 30)
    ref_j, ref_k = np.array([float(v) for v in mj]), np.array([float(v) for v in mk])
    assert float(np.max(np.abs(J / ref_j - 1))) <= 1e-11
    assert float(np.max(np.abs(K - ref_k) / np.maximum(np.abs(ref_k), ref_j))) <= 1e-11


def test_smoothness_is_checked_at_both_ends_of_the_spectrum() -> None:
    # vp-linear with t_min = 5e-5 is smooth for lambda = 1 and 1e6 but not for 1e-6: the
    # coefficients must probe the smallest eigenvalue as well as the largest
    fam = families.vp_linear(t_min_value=5e-5)
    with pytest.raises(ValueError, match="not smooth at sigma_min"):
        asymptotics.coefficients([1.0, 1e6, 1e-6], fam)  # the smallest is not first
    asymptotics.check_smooth(fam, [1.0, 1e6])
