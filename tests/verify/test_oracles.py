"""The particle oracle on cases with known answers (independent of the closed form)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symsched_verify import tolerances as tol
from symsched_verify.oracles.ddim_particles import ddim_particles


def test_one_step_from_pure_noise_lands_on_posterior_mean_zero() -> None:
    # from pure noise the exact denoiser predicts x0_hat = 0: one step to sigma = 0 collapses
    # everything
    res = ddim_particles(np.eye(2), [math.inf, 0.0], 1000, seed=0)
    assert np.abs(res.samples).max() == 0.0


def test_identity_covariance_single_step_variance() -> None:
    # Sigma = I, one step a -> b: gain (1 + ab)/(1 + a^2) on xbar (hand computation),
    # start var 1 + a^2
    a, b = 2.0, 0.5
    res = ddim_particles(np.eye(3), [a, b], 200_000, seed=1)
    want = (1 + a * b) ** 2 / (1 + a**2)
    assert np.all(np.abs(np.diag(res.covariance) - want) <= tol.Z_SCORE * np.diag(res.stderr))


def test_numpy_and_torch_particles_agree() -> None:
    pytest.importorskip("torch")
    cov = np.array([[1.0, 0.3], [0.3, 0.5]])
    g = [30.0, 3.0, 0.7, 0.05]
    a = ddim_particles(cov, g, 5000, seed=3)
    b = ddim_particles(cov, g, 5000, seed=3, backend="torch")
    np.testing.assert_allclose(a.samples, b.samples, rtol=1e-12, atol=1e-12)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="square"):
        ddim_particles(np.ones((2, 3)), [2.0, 1.0], 10)
    with pytest.raises(ValueError, match="start must be one of"):
        ddim_particles(np.eye(2), [2.0, 1.0], 10, start="bad")


def test_covariance_trajectory_matches_particles_at_every_level() -> None:
    from symsched.gaussian.exact import covariance_trajectory

    cov = np.array([[1.5, -0.4, 0.2], [-0.4, 0.8, 0.1], [0.2, 0.1, 0.3]])
    grid = np.array([math.inf, 4.0, 1.2, 0.4, 0.05, 0.0])
    traj = covariance_trajectory(cov, grid)
    assert traj.shape == (6, 3, 3) and np.isinf(np.diag(traj[0])).all()
    for k in range(1, grid.size):
        mc = ddim_particles(cov, grid[: k + 1], 60_000, seed=10 + k)
        assert np.all(np.abs(mc.covariance - traj[k]) <= tol.Z_SCORE * mc.stderr), k


def test_every_sampler_has_a_particle_oracle() -> None:
    # a sampler added to the registry without its independent oracle fails here
    from symsched.samplers import sampler_names
    from symsched_verify.oracles.particles import PARTICLE_SAMPLERS

    assert set(PARTICLE_SAMPLERS) == set(sampler_names())
