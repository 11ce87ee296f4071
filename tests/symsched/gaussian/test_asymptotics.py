"""Euler–Maclaurin asymptotics: symbolic derivation, closed forms, bad input, CLI contract."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched.cli import main
from symsched.gaussian import asymptotics, exact
from symsched.schedules import families
from symsched_verify import tolerances as tol
from symsched_verify.strategies import spectra


def test_boundary_terms_cancel_exactly() -> None:
    em = asymptotics.log_ratio_expansion()
    p1, p2 = sp.symbols("phi1 phi2", real=True)
    assert em.boundary_residual == 0
    assert sp.simplify(em.j_integrand - p1**2) == 0
    assert sp.simplify(em.k_integrand - (p1**4 / 6 - p2**2 / 12)) == 0


def test_kl_series_matches_paper() -> None:
    J, K, B = sp.symbols("J K B", real=True)
    kls = asymptotics.kl_expansion()
    assert sp.simplify(kls["kl_source_output"][4].subs(B, 0) - (J * K / 2 + J**4 / 48)) == 0
    assert sp.simplify(kls["kl_output_source"][3].subs(B, 0) + J**3 / 12) == 0
    # with the prior start, the N^0 term is the KL of the start mismatch
    assert sp.simplify(kls["kl_source_output"][0] - (sp.exp(B) - 1 - B) / 2) == 0


@settings(max_examples=15)
@given(
    spectra(max_size=4, min_value=1e-3, max_value=1e3),
    st.floats(-2, 2).map(math.exp),
    st.booleans(),
    st.booleans(),
)
def test_tangent_closed_form_equals_quadrature(
    lam: np.ndarray, c: float, zero: bool, pure: bool
) -> None:
    fam = families.tangent(c, 0.0 if zero else 0.01 * c, math.inf if pure else 30 * c)
    cf = asymptotics.coefficients(lam, fam, method="closed-form")
    q = asymptotics.coefficients(lam, fam, method="quadrature")
    scale = np.maximum(np.abs(cf.J), np.abs(cf.K))
    assert np.all(np.abs(cf.J - q.J) <= tol.QUAD_RTOL * scale)
    assert np.all(np.abs(cf.K - q.K) <= tol.QUAD_RTOL * scale)


def test_tangent_matched_single_eigenvalue_is_paper_table() -> None:
    # docs/theory/gaussian.md#single-eigenvalue-on-its-tangent-grid: rho_k = sqrt(lam) tan(pi k /
    # 2N): J = pi^2/4, K = (pi/2)^4/6
    c = asymptotics.coefficients([2.0], families.tangent(math.sqrt(2.0)))
    assert c.J[0] == pytest.approx(math.pi**2 / 4, rel=1e-13)
    assert c.K[0] == pytest.approx((math.pi / 2) ** 4 / 6, rel=1e-13)
    # §8.1: the N^-4 expansion leaves KL residuals of 2.2e-5 (N = 10) and 6.4e-7 (N = 20)
    for n, resid in ((10, 2.2e-5), (20, 6.4e-7)):
        kl_n = exact.kl([2.0], families.tangent(math.sqrt(2.0)).grid(n)).kl_source_output
        assert abs(kl_n - asymptotics.predicted_kl(c, n, 4)) == pytest.approx(resid, rel=0.05)


def test_prior_start_boundary_term() -> None:
    lam = np.array([0.1, 2.0])
    fam = families.karras(0.002, 5.0, 7.0)
    c = asymptotics.coefficients(lam, fam, start="prior")
    assert np.allclose(c.B, np.log1p(lam / 25.0), rtol=1e-15)
    n = 400
    lr = exact.log_variance_ratios(lam, fam.grid(n), start="prior")
    assert np.all(np.abs(lr - asymptotics.predicted_log_ratio(c, n, 3)) < 1e-9)


@pytest.mark.parametrize("fam", [families.cosine(), families.vp_linear(t_min_value=0.0)])
def test_non_smooth_end_is_refused(fam: families.Family) -> None:
    with pytest.raises(ValueError, match="not smooth"):
        asymptotics.coefficients([0.1, 1.0], fam)


def test_bad_input() -> None:
    fam = families.tangent(1.0)
    with pytest.raises(ValueError, match="eigenvalues"):
        asymptotics.coefficients([0.0, 1.0], fam)
    with pytest.raises(TypeError):
        asymptotics.coefficients([1.0], "tangent")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no closed form"):
        asymptotics.coefficients([1.0], families.karras(), method="closed-form")
    c = asymptotics.coefficients([1.0], fam)
    with pytest.warns(UserWarning) as rec:
        msgs = asymptotics.small_n_warnings(c, 2)
    assert any("too small" in m for m in msgs) and len(rec) == len(msgs)


def test_cli_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "asymptotics",
                "--eigenvalues",
                "0.1,1,3",
                "--schedule",
                "tangent",
                "--json",
                "--steps",
                "40",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert len(out["J"]) == 3 and len(out["K"]) == 3
    for d in ("kl_source_output", "kl_output_source"):
        assert set(out[d]) == {"N^-2", "N^-3", "N^-4"}
        assert out["predicted"][d]["through N^-4"] == pytest.approx(out["exact"][d], rel=1e-4)
    assert out["schedule"]["params"]["sigma_max"] == "inf"
    assert main(["asymptotics", "--eigenvalues", "0.1,1", "--schedule", "cosine"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not smooth" in err
    assert main(["asymptotics", "--eigenvalues", "0,1", "--schedule", "karras"]) == 2


def test_large_spectrum_interpolation_matches_the_direct_quadrature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # above INTERPOLATE_ABOVE distinct eigenvalues J and K come from a checked spline in
    # log lambda; with the threshold lowered, 3 000 eigenvalues over 20 decades take that path
    rng = np.random.default_rng(3)
    lam = np.concatenate([np.exp(rng.uniform(-23, 23, 3000)), [1.0, 1.0]])  # with a repeat
    fam = families.karras(0.002, 80.0, 7.0)
    direct = asymptotics._quadrature_direct(fam, lam, 128, 8)
    monkeypatch.setattr(asymptotics, "INTERPOLATE_ABOVE", 1000)
    J, K = asymptotics._quadrature_numpy(fam, lam, 128, 8)
    assert J.shape == K.shape == lam.shape
    err_j = np.max(np.abs(J / direct[0] - 1))
    err_k = np.max(np.abs(K - direct[1]) / np.maximum(direct[0], np.abs(direct[1])))
    # the spline is checked at its midpoints to INTERPOLATION_RTOL; between them it is as good
    assert err_j <= 10 * asymptotics.INTERPOLATION_RTOL, err_j
    assert err_k <= 10 * asymptotics.INTERPOLATION_RTOL, err_k


def test_smoothness_check_at_extreme_eigenvalues() -> None:
    # at lambda = 1e-300 the float64 second derivative underflows: the check runs in mpmath, so
    # the tangent family (smooth at both ends for every c) is not refused there
    fam = families.tangent(1e-150, 0.0, math.inf)
    asymptotics.check_smooth(fam, [1e-300])
    with pytest.raises(ValueError, match="not smooth"):  # a singular end is still found there
        asymptotics.check_smooth(families.vp_linear(t_min_value=0.0), [1e-300, 1.0])
