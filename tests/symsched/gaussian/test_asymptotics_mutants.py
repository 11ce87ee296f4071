"""Behaviour of the Euler–Maclaurin coefficients that the mutation run found unchecked
(docs/mutation.md): the spline path for large spectra, the 40-digit quadrature, the onset and
small-N warnings, the printed derivation [sun2026, §5.1]."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
import sympy as sp

from symsched.gaussian import asymptotics
from symsched.schedules import families

KARRAS = families.karras(0.002, 80.0, 7.0)


DIRECT = asymptotics._quadrature_direct  # the real one, before any test patches it


@pytest.fixture
def direct_sizes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    # records the size of every direct-quadrature call (the spline path's cost), with the
    # interpolation threshold lowered so that a few thousand eigenvalues take that path
    sizes: list[int] = []

    def spy(
        fam: families.Family, lam: np.ndarray, panels: int, order: int
    ) -> tuple[np.ndarray, np.ndarray]:
        sizes.append(int(lam.size))
        return DIRECT(fam, lam, panels, order)

    monkeypatch.setattr(asymptotics, "_quadrature_direct", spy)
    monkeypatch.setattr(asymptotics, "INTERPOLATE_ABOVE", 1000)
    yield sizes


def test_spline_path_is_taken_and_as_accurate_as_the_direct_quadrature(
    direct_sizes: list[int],
) -> None:
    rng = np.random.default_rng(7)
    lam = np.exp(rng.uniform(-5.0, 5.0, 3000))
    lam[:2] = [math.exp(-5.0), math.exp(5.0)]  # the spectrum's ends
    J, K = asymptotics._quadrature_numpy(KARRAS, lam, 128, 8)
    unique = np.unique(lam).size
    # the spline was accepted: the quadrature never ran on the spectrum itself, and every grid
    # stayed below half its size (else the direct quadrature is the cheaper one)
    assert direct_sizes and max(direct_sizes) <= unique // 2, direct_sizes
    dJ, dK = DIRECT(KARRAS, lam, 128, 8)
    err_j = np.max(np.abs(J / dJ - 1))
    err_k = np.max(np.abs(K - dK) / np.maximum(dJ, np.abs(dK)))
    assert err_j <= 10 * asymptotics.INTERPOLATION_RTOL, err_j
    assert err_k <= 10 * asymptotics.INTERPOLATION_RTOL, err_k
    # the spectrum's extremes are grid points: taken from the quadrature (to its rounding in
    # another array shape), not from the spline
    ends = np.array([0, 1])
    np.testing.assert_allclose(J[ends], dJ[ends], rtol=1e-14)
    np.testing.assert_allclose(K[ends], dK[ends], rtol=1e-14)


def test_repeated_eigenvalues_are_computed_once_and_exactly(direct_sizes: list[int]) -> None:
    base = np.geomspace(1e-3, 1e3, 50)
    lam = np.repeat(base, 30)  # 1500 eigenvalues, 50 distinct
    J, K = asymptotics._quadrature_numpy(KARRAS, lam, 128, 8)
    assert direct_sizes == [50]
    dJ, dK = DIRECT(KARRAS, base, 128, 8)
    assert np.array_equal(J, np.repeat(dJ, 30)) and np.array_equal(K, np.repeat(dK, 30))


def test_spline_refinement_gives_up_to_the_direct_quadrature(direct_sizes: list[int]) -> None:
    # 20 decades with 3 000 eigenvalues: no spline grid below half the spectrum reaches the
    # check, so the quadrature runs on the spectrum (and the answer is the direct one)
    rng = np.random.default_rng(3)
    lam = np.exp(rng.uniform(-23.0, 23.0, 3000))
    J, _ = asymptotics._quadrature_numpy(KARRAS, lam, 128, 8)
    assert direct_sizes[-1] == 3000 and all(s <= 1500 for s in direct_sizes[:-1])
    assert np.all(J > 0)


def test_onset_steps_is_where_the_cubic_term_falls_to_one_percent() -> None:
    lam = np.array([1e-3, 0.05, 1.0, 30.0])
    coef = asymptotics.coefficients(lam, KARRAS)
    n_star = coef.onset_steps
    # at N*, |K_i| / N^3 <= 1 % of J_i / N for every eigenvalue, with equality at the worst one
    ratio = (np.abs(coef.K) / n_star**3) / (coef.J / n_star)
    assert np.all(ratio <= 0.01 * (1 + 1e-12))
    assert np.max(ratio) == pytest.approx(0.01, rel=1e-12)


def test_small_n_warnings_fire_exactly_past_their_thresholds() -> None:
    lam = np.array([1e-3, 0.05, 1.0, 30.0])
    coef = asymptotics.coefficients(lam, KARRAS)
    # the angle-step warning: sqrt(max J) / N > 0.5
    n_angle = 2.0 * math.sqrt(float(coef.J.max()))
    onset = coef.onset_steps
    for n in sorted({max(1, math.floor(n_angle)), math.ceil(n_angle) + 1, 1, 10**6}):
        with pytest.warns(UserWarning) if n < max(n_angle, onset) else _no_warning():
            msgs = asymptotics.small_n_warnings(coef, n)
        assert any("angle step" in m for m in msgs) == (n < n_angle), (n, msgs)
        assert any("onset" in m for m in msgs) == (n < onset), (n, msgs)


class _no_warning:
    def __enter__(self) -> None:
        import warnings

        self._c = warnings.catch_warnings()
        self._c.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc: object) -> None:
        self._c.__exit__(*exc)


def test_first_order_prediction_is_minus_b_minus_j_over_n() -> None:
    lam = np.array([0.1, 2.0])
    coef = asymptotics.coefficients(lam, KARRAS, start="prior")
    for n in (5, 50):
        one = asymptotics.predicted_log_ratio(coef, n, 1)
        assert np.allclose(one, -coef.B - coef.J / n, rtol=1e-15)
        three = asymptotics.predicted_log_ratio(coef, n, 3)
        assert np.allclose(three - one, -coef.K / n**3, rtol=1e-12)
    with pytest.raises(ValueError, match="order"):
        asymptotics.predicted_log_ratio(coef, 5, 2)


@pytest.mark.parametrize("lam", [[0.25], [1.0], [400.0], [1e-6]])
def test_mpmath_quadrature_equals_the_tangent_closed_form(lam: list[float]) -> None:
    # tanh-sinh at 30 digits (split where rho = sqrt(lambda) when that level is on the grid)
    # against the closed-form antiderivatives of the tangent family: independent paths
    fam = families.tangent(1.0, 0.01, 30.0)
    cf = asymptotics.coefficients(lam, fam)
    assert cf.method == "closed-form"  # the default for the tangent family
    Jm, Km = asymptotics.coefficients_mpmath(lam, fam, dps=30)
    assert float(Jm[0]) == pytest.approx(float(cf.J[0]), rel=1e-12)
    assert float(Km[0]) == pytest.approx(float(cf.K[0]), rel=1e-11, abs=1e-12 * float(cf.J[0]))


def test_mpmath_quadrature_on_a_family_without_a_closed_form() -> None:
    lam = [0.05, 3.0]
    q = asymptotics.coefficients(lam, KARRAS, method="quadrature")
    Jm, Km = asymptotics.coefficients_mpmath(lam, KARRAS, dps=30)
    for i in range(2):
        assert float(Jm[i]) == pytest.approx(float(q.J[i]), rel=1e-10)
        assert float(Km[i]) == pytest.approx(float(q.K[i]), rel=1e-9, abs=1e-10 * float(q.J[i]))


def test_an_eigenvalue_beyond_the_float64_quadrature_is_refused() -> None:
    # at lambda = 1e250 the float64 angle derivatives overflow; one such eigenvalue among
    # ordinary ones must still be refused, naming it
    with pytest.raises(ValueError, match="1e\\+250"):
        asymptotics.coefficients([1e250, 1.0, 0.5], KARRAS)


def test_printed_derivation_states_the_expansion_it_uses() -> None:
    steps = asymptotics.derivation()
    (ln_r,) = [s.expr for s in steps if s.title.startswith("ln r")]
    lhs = ln_r.rhs
    vals = {"B": 0.3, "J": 2.0, "K": -0.7, "N": 7.0}
    got = float(lhs.subs({q: vals[str(q)] for q in lhs.free_symbols}))
    assert got == pytest.approx(-0.3 - 2.0 / 7.0 + 0.7 / 7.0**3, rel=1e-15)
    # the midpoint step series holds only the odd derivatives (each its own symbol); the
    # integrands are phi'^2 and phi'^4/6 - phi''^2/12
    assert {str(q) for q in steps[0].expr.rhs.free_symbols} == {"h", "phi'", "phi" + "'" * 3}
    p1, p2 = sp.Symbol("phi'"), sp.Symbol("phi''")
    assert sp.simplify(steps[1].expr.rhs - p1**2) == 0
    assert sp.simplify(steps[2].expr.rhs - (p1**4 / 6 - p2**2 / 12)) == 0


def _spline_errors(fam: families.Family, lam: np.ndarray) -> tuple[float, float]:
    J, K = asymptotics._quadrature_numpy(fam, lam, 128, 8)
    dJ, dK = DIRECT(fam, lam, 128, 8)
    err_j = float(np.max(np.abs(J / dJ - 1)))
    err_k = float(np.max(np.abs(K / J - dK / dJ) / np.maximum(1.0, np.abs(dK / dJ))))
    return err_j, err_k


def test_spline_refines_until_both_j_and_k_pass_the_check(direct_sizes: list[int]) -> None:
    # the tangent law over e^-5..e^5: log J is smooth enough at 641 grid points (3.5e-11 at the
    # midpoints) but K / J still misses by 2.7e-9, so the grid must be refined twice more (to
    # 2561 points, 1e-11); stopping when either one passes would leave K 27x off the target
    rng = np.random.default_rng(11)
    lam = np.exp(rng.uniform(-5.0, 5.0, 6000))
    lam[:2] = [math.exp(-5.0), math.exp(5.0)]
    err_j, err_k = _spline_errors(families.tangent(0.5, 0.002, 80.0), lam)
    assert direct_sizes[:5] == [321, 320, 640, 1280, 2560], direct_sizes
    assert err_j <= 2 * asymptotics.INTERPOLATION_RTOL, err_j
    assert err_k <= 2 * asymptotics.INTERPOLATION_RTOL, err_k


def test_spline_serves_a_spectrum_where_j_falls_below_one(direct_sizes: list[int]) -> None:
    # vp-linear over e^-12..e^12: J drops to 0.59 at the small end; J is positive, which is all
    # the spline in log J needs, so the spline is accepted (at 3073 points) and the quadrature
    # never runs on the 6400 eigenvalues themselves
    rng = np.random.default_rng(5)
    lam = np.exp(rng.uniform(-12.0, 12.0, 6400))
    lam[:2] = [math.exp(-12.0), math.exp(12.0)]
    err_j, err_k = _spline_errors(families.vp_linear(), lam)
    assert max(direct_sizes) < 6400 and direct_sizes[:4] == [769, 768, 1536, 3072], direct_sizes
    assert max(err_j, err_k) <= 2 * asymptotics.INTERPOLATION_RTOL, (err_j, err_k)


def test_spectra_up_to_the_threshold_take_the_direct_quadrature(direct_sizes: list[int]) -> None:
    # INTERPOLATE_ABOVE (1000 here) distinct eigenvalues, alone or repeated, are computed
    # directly, once each
    lam = np.geomspace(1e-3, 1e3, 1000)
    asymptotics._quadrature_numpy(KARRAS, lam, 128, 8)
    assert direct_sizes == [1000]
    direct_sizes.clear()
    asymptotics._quadrature_numpy(KARRAS, np.concatenate([lam, lam[:200]]), 128, 8)
    assert direct_sizes == [1000]


def test_a_near_singular_sigma_min_end_is_flagged_from_inside_the_grid() -> None:
    # vp-linear with t_min = 2e-5: rho ~ sqrt(beta_min t) bends within 1e-4 of u = 1, and the
    # angle derivatives grow more than 10x between u = 1 - 1e-4 and 1 - 1e-8; with t_min = 1e-4
    # they do not. The probes lie inside [0, 1]: beyond u = 1 the time map runs past t_min,
    # where this family is not the sampled one
    with pytest.raises(ValueError, match="not smooth at sigma_min"):
        asymptotics.check_smooth(families.vp_linear(t_min_value=2e-5), [1.0])
    asymptotics.check_smooth(families.vp_linear(t_min_value=1e-4), [1e-6, 1.0, 1e6])


def test_values_at_the_checked_midpoints_meet_the_tolerance_on_the_k_over_j_scale(
    direct_sizes: list[int],
) -> None:
    # loglinear over e^-3..e^3: on the first grid (257 points) K / J misses the check at its
    # midpoints by 1.9e-10 on the scale max(1, |K/J|) (|K/J| < 1 there), so the grid must be
    # refined once; the midpoints then join the grid, and the values served there are the
    # quadrature's own. Accepting the first grid would serve them 1.9e-10 off.
    fam = families.loglinear()
    t = np.linspace(-3.0, 3.0, 257)
    mid = np.exp((t[:-1] + t[1:]) / 2)
    rng = np.random.default_rng(4)
    lam = np.concatenate([np.exp(t[[0, -1]]), mid, np.exp(rng.uniform(-3.0, 3.0, 942))])
    J, K = asymptotics._quadrature_numpy(fam, lam, 128, 8)
    assert direct_sizes[:3] == [257, 256, 512], direct_sizes
    at = slice(2, 2 + mid.size)
    dJ, dK = DIRECT(fam, mid, 128, 8)
    err_j = float(np.max(np.abs(J[at] / dJ - 1)))
    err_k = float(np.max(np.abs(K[at] / J[at] - dK / dJ) / np.maximum(1.0, np.abs(dK / dJ))))
    assert max(err_j, err_k) <= asymptotics.INTERPOLATION_RTOL, (err_j, err_k)
