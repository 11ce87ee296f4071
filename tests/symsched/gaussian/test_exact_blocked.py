"""The blocked float64 fast path of the exact KL: digits at N = 1e5 against 40-digit mpmath, and
the same values whatever the blocking over eigenvalues."""

from __future__ import annotations

import numpy as np
import pytest

from symsched import tangent_sigmas
from symsched.gaussian import exact
from symsched.samplers import _stable
from symsched_verify import tolerances as tol

N_LONG = 100_000
# each sampler's per-step term has a relative error of a few eps, so after N = 1e5 steps ln r and
# the KL are good to tolerances.backend_rtol(N) (64 eps per step-count decade; 2.8e-9 here)
# against the mpmath recursion (measured: <= 3e-14 for every sampler). mpmath at 40 digits over
# 1e5 steps is the cost (~10-30 s per sampler), so these are the slow tier (make test-slow): Heun
# on two eigenvalues, and every sampler, DPM-Solver++(2M) included (~50 s); DDIM's case, the same
# grid and eigenvalues, is the claim gaussian.tiny-kl-stable, run by the default tier.
LONG_CASES = [("heun", [0.05, 7.0])]
ALL_SAMPLERS = ("ddim", "heun", "dpmpp-2m", "euler-vp", "ancestral", "flow-heun")


def _check_against_mpmath(sampler: str, lam: list[float]) -> None:
    grid = tangent_sigmas(N_LONG, 1.0, 0.0, 80.0)  # a finite start, the last step to 0
    fast = exact.kl(lam, grid, sampler=sampler)
    ref = exact.kl_mpmath(lam, grid, sampler=sampler)
    rtol = tol.backend_rtol(N_LONG)
    assert fast.kl_source_output == pytest.approx(float(ref.kl_source_output), rel=rtol)
    assert fast.kl_output_source == pytest.approx(float(ref.kl_output_source), rel=rtol)
    lr_ref = np.array([float(v) for v in ref.log_variance_ratios])
    np.testing.assert_allclose(fast.log_variance_ratios, lr_ref, rtol=rtol, atol=0)


@pytest.mark.slow
@pytest.mark.parametrize(("sampler", "lam"), LONG_CASES)
def test_fast_path_keeps_its_digits_at_1e5_steps(sampler: str, lam: list[float]) -> None:
    _check_against_mpmath(sampler, lam)


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ALL_SAMPLERS)
def test_every_sampler_keeps_its_digits_at_1e5_steps(sampler: str) -> None:
    _check_against_mpmath(sampler, [0.05, 1.0, 7.0])


@pytest.mark.parametrize("sampler", ALL_SAMPLERS)
def test_blocking_over_eigenvalues_does_not_change_the_values(sampler: str) -> None:
    # more eigenvalues than one block: ln r per eigenvalue must not depend on its neighbours
    d = 2 * _stable.EIGEN_BLOCK + 17
    lam = np.exp(np.random.default_rng(3).uniform(-9.0, 9.0, d))
    grid = tangent_sigmas(12, 1.0, 0.002, 80.0)
    whole = exact.log_variance_ratios(lam, grid, sampler=sampler)
    cut = 1000  # both parts fit one block
    parts = np.concatenate(
        [
            exact.log_variance_ratios(lam[:cut], grid, sampler=sampler),
            exact.log_variance_ratios(lam[cut : cut + 5000], grid, sampler=sampler),
            exact.log_variance_ratios(lam[cut + 5000 :], grid, sampler=sampler),
        ]
    )
    # elementwise identical up to the number of series terms log1pmx picks per block (euler-vp)
    np.testing.assert_allclose(whole, parts, rtol=4 * tol.EPS64, atol=0)


def test_blocked_kl_sum_matches_one_pairwise_sum() -> None:
    lr = np.random.default_rng(5).normal(0.0, 0.3, 3 * 16384 + 11)
    kso, kos = exact.kl_from_log_ratios(lr)
    assert kso == pytest.approx(float(exact.half_phi(-lr).sum()), rel=1e-14)
    assert kos == pytest.approx(float(exact.half_phi(lr).sum()), rel=1e-14)
    w = np.arange(lr.size, dtype=np.float64) % 3 + 1.0
    kso_w, _ = exact.kl_from_log_ratios(lr, w)
    assert kso_w == pytest.approx(float((w * exact.half_phi(-lr)).sum()), rel=1e-14)


def test_blocked_kl_sum_overflows_to_inf() -> None:
    # each term is finite (x just below 710.4), their sum is not
    kso, kos = exact.kl_from_log_ratios(np.array([710.0] * 20000))
    assert kos == np.inf and np.isfinite(kso)
