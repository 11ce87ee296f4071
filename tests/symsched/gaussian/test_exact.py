"""Fast exact numerics: API behaviour, validation, edge cases, torch/numpy parity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symsched import output_covariance, tangent_sigmas, variance_trajectory
from symsched.gaussian import exact
from symsched_verify import tolerances as tol


def test_one_step_from_pure_noise_to_zero_is_infinite() -> None:
    res = exact.kl([1.0, 2.0], [math.inf, 0.0])
    assert res.kl_source_output == math.inf and res.kl_output_source == math.inf


def test_pure_noise_start_does_not_depend_on_start_mode() -> None:
    g = tangent_sigmas(7, 1.3)
    a = exact.kl([0.5, 2.0], g, start="exact")
    b = exact.kl([0.5, 2.0], g, start="prior")
    assert a.kl_source_output == b.kl_source_output


def test_prior_start_adds_the_prior_mismatch() -> None:
    # from a finite sigma_0, the prior start has variance sigma_0^2 instead of lam + sigma_0^2
    lam, g = np.array([0.7]), np.array([5.0, 1.0, 0.1])
    lr_e = exact.log_variance_ratios(lam, g, start="exact")
    lr_p = exact.log_variance_ratios(lam, g, start="prior")
    assert lr_p[0] - lr_e[0] == pytest.approx(math.log(25.0 / 25.7), rel=1e-14)


def test_trajectory_ends_at_the_output_ratio() -> None:
    lam = np.array([0.1, 1.0, 9.0])
    g = tangent_sigmas(9, 0.8, 0.01, 30.0)
    traj = variance_trajectory(lam, g)
    assert traj.shape == (10, 3)
    np.testing.assert_allclose(
        traj[-1] / (lam + g[-1] ** 2), np.exp(exact.log_variance_ratios(lam, g)), rtol=1e-13
    )


def test_output_covariance_is_symmetric_psd_and_shares_eigenvectors() -> None:
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    sigma = (q * np.array([0.1, 0.5, 2.0, 7.0])) @ q.T
    out = output_covariance(sigma, tangent_sigmas(5, 1.0))
    np.testing.assert_allclose(out, out.T, atol=1e-14)
    assert np.linalg.eigvalsh(out).min() > 0
    np.testing.assert_allclose(out @ sigma, sigma @ out, atol=1e-12)


def test_torch_matches_numpy_and_honours_dtype_device(backend: str) -> None:
    lam = np.exp(np.random.default_rng(1).uniform(-5, 5, 300))
    g = tangent_sigmas(40, 1.0, 0.002, 80.0)
    ref = exact.kl(lam, g)
    got = exact.kl(lam, g, backend=backend)
    assert got.kl_source_output == pytest.approx(ref.kl_source_output, rel=tol.backend_rtol(40))
    if backend == "torch":
        import torch

        lr = exact.log_variance_ratios(lam, g, backend="torch", device="cpu")
        assert lr.dtype == torch.float64 and lr.device.type == "cpu"


def test_large_spectrum_and_many_steps_stay_finite() -> None:
    lam = np.exp(np.linspace(-9, 9, 20_000))
    res = exact.kl(lam, tangent_sigmas(3000, 1.0))
    assert math.isfinite(res.kl_source_output) and res.kl_source_output > 0


@pytest.mark.parametrize(
    "lam, sigmas, err, match",
    [
        ([1.0, -1.0], [2.0, 1.0], ValueError, "entry 1 is -1.0"),
        ([1.0, 0.0], [2.0, 1.0], ValueError, "finite and > 0"),
        ([float("nan")], [2.0, 1.0], ValueError, "finite and > 0"),
        ([float("inf")], [2.0, 1.0], ValueError, "finite and > 0"),
        ([], [2.0, 1.0], ValueError, "at least one eigenvalue"),
        ([[1.0, 2.0]], [2.0, 1.0], ValueError, "one-dimensional"),
        ("1,2", [2.0, 1.0], TypeError, "got a string"),
        ([1.0], [1.0, 2.0], ValueError, "strictly decreasing"),
        ([1.0], [1.0], ValueError, "at least 2 levels"),
        ([1.0], [1.0, -0.5], ValueError, "non-negative"),
        ([1.0], [math.inf, math.inf, 0.0], ValueError, "only the first level"),
        ([1.0], [2.0, float("nan")], ValueError, "NaN"),
    ],
)
def test_bad_input_is_rejected_with_a_named_error(lam, sigmas, err, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(err, match=match):
        exact.kl(lam, sigmas)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"start": "uniform"}, "start must be one of"),
        ({"sampler": "euler"}, "sampler must be one of"),
        ({"backend": "jax"}, "backend must be one of"),
    ],
)
def test_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        exact.kl([1.0], [2.0, 1.0], **kwargs)
