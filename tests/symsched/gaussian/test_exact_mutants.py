"""Behaviour of the exact KL numerics that the mutation run found unchecked (docs/mutation.md):
the KL terms beyond the overflow switch and near the series switch, the weighted and torch
routes of the KL sum, the variance trajectory on both of its routes, and the validation of
:func:`output_covariance` [sun2026, §3-§4]."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from symsched._typing import FloatArray
from symsched.gaussian import exact


def _half_phi_mp(x: float) -> float:
    with mpmath.workdps(40):
        xm = mpmath.mpf(x)
        return float((mpmath.exp(xm) - 1 - xm) / 2)


@pytest.mark.parametrize("x", [700.5, 705.0, 709.9, 710.4, -750.0])
def test_half_phi_beyond_the_overflow_switch_matches_40_digits(x: float) -> None:
    # above x = 700, (e^x - 1 - x) / 2 is evaluated as (e^(x/2) / 2) e^(x/2) - (1 + x) / 2: finite
    # up to the float64 maximum (e^x alone overflows at 709.78)
    got = float(exact.half_phi(np.array([x]))[0])
    assert got == pytest.approx(_half_phi_mp(x), rel=1e-13)


def test_half_phi_is_infinite_only_where_the_exact_value_exceeds_float64() -> None:
    got = exact.half_phi(np.array([710.4, 710.6, 1000.0]))
    assert math.isfinite(got[0]) and got[1] == math.inf and got[2] == math.inf


@pytest.mark.parametrize("x", [-1.4, -0.9, -0.45, 0.45, 0.9, 1.4])
def test_half_phi_on_both_sides_of_the_series_switch_holds_float64_digits(x: float) -> None:
    # the Taylor series serves |x| < 1/2 (its 18 terms truncate below 1e-22 there); beyond,
    # expm1(x) - x: both within a few ulps of the 40-digit value
    got = float(exact.half_phi(np.array([x]))[0])
    assert got == pytest.approx(_half_phi_mp(x), rel=4e-16)


def test_weighted_kl_equals_the_kl_of_the_repeated_spectrum_across_blocks() -> None:
    # integer weights are multiplicities: an exact regrouping of the sum, also when the spectrum
    # spans several blocks of the blocked sum
    rng = np.random.default_rng(0)
    for size in (7, exact._KL_BLOCK + 1000):
        log_r = rng.normal(0.0, 0.3, size)
        w = rng.integers(1, 4, size).astype(np.float64)
        got = exact.kl_from_log_ratios(log_r, w)
        want = exact.kl_from_log_ratios(np.repeat(log_r, w.astype(int)))
        assert got == pytest.approx(want, rel=1e-13)


def test_torch_log_ratios_give_the_numpy_kl_also_with_gradients_and_weights() -> None:
    torch = pytest.importorskip("torch")
    log_r = np.array([-0.3, 0.01, 0.7, 2.5])
    w = np.array([1.0, 3.0, 2.0, 0.5])
    want = exact.kl_from_log_ratios(log_r)
    want_w = exact.kl_from_log_ratios(log_r, w)
    t = torch.tensor(log_r, dtype=torch.float64, requires_grad=True)
    assert exact.kl_from_log_ratios(t) == pytest.approx(want, rel=1e-14)
    assert exact.kl_from_log_ratios(t, torch.tensor(w)) == pytest.approx(want_w, rel=1e-14)


def test_kl_of_a_list_and_of_a_matrix_of_log_ratios_is_the_kl_of_their_entries() -> None:
    log_r = np.array([[-0.3, 0.01], [0.7, 2.5]])
    want = exact.kl_from_log_ratios(log_r.ravel())
    assert exact.kl_from_log_ratios(log_r.ravel().tolist()) == pytest.approx(want, rel=1e-14)
    assert exact.kl_from_log_ratios(log_r) == pytest.approx(want, rel=1e-14)


def _prefix_variances(lam: FloatArray, sig: FloatArray, start: str) -> FloatArray:
    # row k from the sampler's own variance ratio over the first k steps: (lam + sigma_k^2) r_k
    rows = []
    for k in range(1, sig.size):
        lr = exact.log_variance_ratios(lam, sig[: k + 1], start=start)  # type: ignore[arg-type]
        rows.append(np.exp(lr + np.logaddexp(np.log(lam), 2.0 * np.log(sig[k]))))
    return np.array(rows)


@pytest.mark.parametrize("start", ["exact", "prior"])
@pytest.mark.parametrize(
    "lam",
    [
        np.array([0.02, 1.0, 30.0]),  # inside the fast window: the direct product of gains
        np.array([1e-60, 1.0, 1e60]),  # outside it: the log route
    ],
)
def test_trajectory_rows_are_the_variances_after_each_prefix_of_the_grid(
    lam: FloatArray, start: str
) -> None:
    sig = np.array([60.0, 7.0, 1.5, 0.3, 0.01])
    traj = exact.variance_trajectory(lam, sig, start=start)  # type: ignore[arg-type]
    first = lam + sig[0] ** 2 if start == "exact" else np.full(lam.size, sig[0] ** 2)
    # the log route takes exp of a log of size up to ~140: its rounding is ~140 ulps
    np.testing.assert_allclose(traj[0], first, rtol=1e-15 if lam[0] > 1e-40 else 3e-14)
    np.testing.assert_allclose(traj[1:], _prefix_variances(lam, sig, start), rtol=1e-12)


def test_trajectory_from_pure_noise_starts_infinite_then_takes_the_first_step() -> None:
    lam = np.array([0.05, 2.0])
    sig = np.array([math.inf, 9.0, 1.0, 0.1])
    traj = exact.variance_trajectory(lam, sig)
    assert np.all(traj[0] == math.inf)
    np.testing.assert_allclose(traj[1], exact.gaussian_first_step_variance(9.0), rtol=1e-15)
    np.testing.assert_allclose(traj[1:], _prefix_variances(lam, sig, "exact"), rtol=1e-12)


def test_output_covariance_is_the_diagonal_law_rotated_back() -> None:
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    lam = np.array([0.1, 1.0, 5.0])
    cov = (q * lam) @ q.T
    sig = np.array([40.0, 3.0, 0.6, 0.25])  # ending above 0: sigma_N^2 enters the output law
    lr = exact.log_variance_ratios(lam, sig)
    want = (q * (np.exp(lr) * (lam + sig[-1] ** 2))) @ q.T
    np.testing.assert_allclose(exact.output_covariance(cov, sig), want, rtol=1e-11, atol=1e-13)


def test_output_covariance_refuses_non_square_and_asymmetric_matrices() -> None:
    sig = np.array([40.0, 3.0, 0.0])
    with pytest.raises(ValueError, match="square"):
        exact.output_covariance(np.ones((2, 3)), sig)
    with pytest.raises(ValueError, match="square"):
        exact.output_covariance(np.ones(4), sig)
    # an off-diagonal entry 1e3 against 0: asymmetric, however large the diagonal
    with pytest.raises(ValueError, match="symmetric"):
        exact.output_covariance(np.array([[1e6, 1e3], [0.0, 1.0]]), sig)
    # a relative asymmetry of 1e-6 is not rounding either
    a = np.array([[2.0, 0.5], [0.5 * (1 + 1e-6), 1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        exact.output_covariance(a, sig)
    # but an asymmetry at the rounding of the largest entry (1e-15 of it) is accepted
    b = np.array([[1e6, 0.0], [1e-9, 1.0]])
    assert np.all(np.isfinite(exact.output_covariance(b, sig)))


def test_half_phi_of_a_spectrum_mixing_both_sides_of_the_switch() -> None:
    # one array holding terms above and below x = 700: each side keeps its own formula
    x = np.array([-2.0, 0.3, 1.2, 705.0, 709.9])
    got = exact.half_phi(x)
    want = [_half_phi_mp(float(v)) for v in x]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_a_zero_variance_ratio_makes_both_directions_infinite() -> None:
    # r_i = 0 (ln r_i = -inf) in one direction of a spectrum: both KLs are +inf, never NaN
    for log_r in (np.array([0.1, -math.inf]), np.array([-math.inf, -math.inf])):
        assert exact.kl_from_log_ratios(log_r) == (math.inf, math.inf)
