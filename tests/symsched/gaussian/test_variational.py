"""Variational optima: the geodesic (b) and the exact finite-N optimum (c)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched.gaussian import exact, tangent, variational
from symsched.schedules import build
from symsched_verify import tolerances as tol
from symsched_verify.strategies import spectra


@settings(max_examples=10)
@given(st.floats(math.log(1e-3), math.log(1e2)).map(math.exp), st.integers(2, 30), st.booleans())
def test_single_eigenvalue_geodesic_is_tangent(lam: float, n: int, pure: bool) -> None:
    hi = math.inf if pure else 40 * math.sqrt(lam)
    g = variational.geodesic([lam], 0.0, hi).grid(n)
    t = tangent.tangent_sigmas(n, math.sqrt(lam), 0.0, hi)
    np.testing.assert_allclose(g[1:-1], t[1:-1], rtol=1e-9)


@settings(max_examples=10)
@given(
    spectra(min_size=1, max_size=6, min_value=1e-3, max_value=1e2),
    st.integers(2, 12),
    st.sampled_from(["exact", "prior"]),
    st.sampled_from(["kl_source_output", "kl_output_source"]),
)
def test_gradient_matches_finite_differences(lam: np.ndarray, n: int, start: str, obj: str) -> None:
    sig = tangent.tangent_sigmas(n, float(np.sqrt(lam.mean())), 0.002, 80.0)
    kl0, grad = variational.exact_kl_and_gradient(lam, sig, start=start, objective=obj)
    assert kl0 == pytest.approx(getattr(exact.kl(lam, sig, start=start), obj), rel=1e-12)
    h = 1e-6
    for j in range(n - 1):
        up, dn = sig.copy(), sig.copy()
        up[j + 1] *= math.exp(h)
        dn[j + 1] *= math.exp(-h)
        fd = (
            variational.exact_kl_and_gradient(lam, up, start=start, objective=obj)[0]
            - variational.exact_kl_and_gradient(lam, dn, start=start, objective=obj)[0]
        ) / (2 * h)
        assert fd == pytest.approx(grad[j], rel=1e-5, abs=1e-9 * max(1.0, kl0))


def test_kl_optimal_recovers_tangent_single_eigenvalue() -> None:
    res = variational.kl_optimal([0.3], 8)
    t = tangent.tangent_sigmas(8, math.sqrt(0.3))
    np.testing.assert_allclose(res.sigmas[1:-1], t[1:-1], rtol=tol.TANGENT_RECOVERY_RTOL)


def test_ordering_small_spectrum() -> None:
    lam = np.array([1e-3, 0.05, 1.0, 8.0])
    n = 10
    c = variational.kl_optimal(lam, n).kl
    b = exact.kl(lam, variational.geodesic(lam).grid(n)).kl_source_output
    a = exact.kl(lam, tangent.tangent_sigmas(n, tangent.gamma_star(lam))).kl_source_output
    assert c <= b <= a


def test_methods_registered_and_validated() -> None:
    s = build("variational", 6, eigenvalues=[0.1, 1.0])
    assert s.steps == 6 and s.params["fixed_point_residual"] <= tol.FIXED_POINT_TOL
    s2 = build("kl-optimal", 6, eigenvalues=[0.1, 1.0], sigma_min=0.002, sigma_max=80.0)
    assert s2.sigmas[0] == 80.0 and s2.sigmas[-1] == 0.002
    with pytest.raises(ValueError, match="spectrum"):
        build("variational", 6)
    with pytest.raises(ValueError, match="eigenvalues"):
        build("kl-optimal", 6, eigenvalues=[0.0, 1.0])


def test_euler_lagrange_symbolic() -> None:
    eq, sol = variational.euler_lagrange_single()
    assert "Derivative" in str(eq) and "tan" in str(sol)
    _el, h = variational.beltrami_first_integral()
    assert "Derivative" in str(h)
