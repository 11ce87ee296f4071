"""The GM and CW models in the noise-level scale, under any network sampler."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from symsched.highdim import CurieWeiss, GaussianMixture, two_mode_law
from symsched.highdim.measure import cw_statistics
from symsched.highdim.noise_level import (
    CurieWeissModel,
    GMReducedDenoiser,
    cw_sampler_run,
    cw_spectrum,
    gm_denoiser_coefficients,
    gm_sampler_features,
    gm_spectrum,
)
from symsched.highdim.simulate import cw_full
from symsched.models import NETWORK_SAMPLERS, start_noise, symmetric_gm
from symsched.samplers import ddim

GRID = np.geomspace(80.0, 0.002, 9)


def test_denoiser_coefficients_are_tweedie_of_the_mixture() -> None:
    import sympy as sp

    from symsched.highdim._symbols import m, rho, sigma

    a, b, k = gm_denoiser_coefficients()
    v = sigma**2 + rho**2
    assert sp.simplify(a - sigma**2 / v) == 0
    assert sp.simplify(b - rho**2 / v) == 0
    assert sp.simplify(k - m / v) == 0


@pytest.mark.parametrize("sampler", ["heun", "dpmpp-2m", "euler"])
def test_reduction_reproduces_the_full_mixture_on_the_same_draws(sampler: str) -> None:
    # oracle: the d-dimensional mixture denoiser of symsched.models.symmetric_gm (its own code)
    d = 30
    gm = GaussianMixture(p=0.7, m=1.2, mode_sigma=0.4, dim=d)
    full = symmetric_gm(0.7, 1.2, 0.4, d)
    x0 = start_noise(64, d, 80.0, 3)
    run = NETWORK_SAMPLERS[sampler]
    out = run(full, x0, GRID)
    u0 = x0.sum(1) / math.sqrt(d)
    w0 = torch.linalg.norm(x0 - x0.mean(1, keepdim=True), dim=1)
    red = run(GMReducedDenoiser(gm), torch.stack([u0, w0], 1), GRID)
    assert torch.allclose(red[:, 0] / math.sqrt(d), out.mean(1), rtol=0, atol=1e-10)
    assert torch.allclose(red[:, 1] / math.sqrt(d - 1), out.std(1), rtol=1e-12, atol=0)


def test_ddim_in_sigma_is_euler_in_tau() -> None:
    # oracle: the Euler step of the derived VP velocity field in interpolant time
    # (docs/theory/highdim.md#euler-integrator) on tau = 1/(1 + sigma), c = 1
    d = 50
    gm = GaussianMixture(dim=d)
    taus, als = 1 / (1 + GRID), GRID / (1 + GRID)
    z = np.linspace(-3, 3, 7)
    s, perp = z * GRID[0] * math.sqrt(d) * taus[0], np.full(7, taus[0])
    for j in range(GRID.size - 1):
        a_, b_, k_ = gm.coefficients(taus[j], als[j], 1.0, "velocity")
        dt = taus[j + 1] - taus[j]
        s = s + dt * (a_ * s + b_ * gm.m * d * np.tanh(gm.h + k_ * s))
        perp = perp * (1 + dt * a_)
    x = torch.stack([torch.as_tensor(z * GRID[0]), torch.ones(7, dtype=torch.float64)], 1)
    out = ddim.sample(GMReducedDenoiser(gm), x, GRID)
    assert np.allclose(out[:, 0].numpy(), s / taus[-1] / math.sqrt(d), rtol=1e-12, atol=1e-12)
    assert math.isclose(float(out[0, 1]), perp[0] / taus[-1], rel_tol=1e-12)


@pytest.mark.parametrize("sampler", ["heun", "dpmpp-2m"])
def test_gm_features_agree_with_monte_carlo(sampler: str) -> None:
    # oracle: the fraction of 16000 full-dimensional samples with M > 0 and their mean spread
    d = 20
    gm = GaussianMixture(dim=d)
    grid = np.geomspace(80.0, 0.002, 7)
    f = gm_sampler_features(gm, NETWORK_SAMPLERS[sampler], grid)
    out = NETWORK_SAMPLERS[sampler](symmetric_gm(dim=d), start_noise(16_000, d, 80.0, 5), grid)
    frac = float((out.mean(1) > 0).double().mean())
    se = math.sqrt(frac * (1 - frac) / 16_000)
    assert abs(f["mode_fraction"] - frac) < 4 * se
    # E std of d-1 dof is sqrt(2/(d-1)) Gamma(d/2)/Gamma((d-1)/2) times the scale
    c4 = math.sqrt(2 / (d - 1)) * math.exp(math.lgamma(d / 2) - math.lgamma((d - 1) / 2))
    spread = float(out.std(1).mean()) / (c4 * gm.mode_sigma)
    spread_se = float(out.std(1).std()) / math.sqrt(16_000) / (c4 * gm.mode_sigma)
    assert abs(f["std_ratio"] - spread) < 4 * spread_se + 1e-12
    assert f["sign_changes"] == 1
    assert f["mode_fraction_error"] == abs(f["mode_fraction"] - gm.p)


def test_gm_mode_fraction_counts_every_root() -> None:
    # a "sampler" whose map z -> u_N = z (z - 1)(z + 1) has three roots: the fraction is the
    # Gaussian measure of {u_N > 0} = (-1, 0) u (1, inf), by hand
    gm = GaussianMixture(dim=4)

    def shifted(model: object, x: torch.Tensor, sigmas: object) -> torch.Tensor:
        out = x.clone()
        u = x[:, 0] / 80.0
        out[:, 0] = u * (u - 1.0) * (u + 1.0)
        return out

    f = gm_sampler_features(gm, shifted, [80.0, 1.0])
    from scipy.special import ndtr

    expected = (ndtr(0.0) - ndtr(-1.0)) + (1 - ndtr(1.0))
    assert f["sign_changes"] == 3
    assert math.isclose(f["mode_fraction"], expected, rel_tol=1e-9)


def test_spectra_are_the_covariances_of_the_laws() -> None:
    # GM: oracle the eigenvalues of the exact mixture covariance of symmetric_gm
    gm = GaussianMixture(p=0.7, m=0.8, mode_sigma=0.3, dim=6)
    cov = symmetric_gm(0.7, 0.8, 0.3, 6).data_moments()[1]
    assert np.allclose(np.sort(gm_spectrum(gm)), np.linalg.eigvalsh(cov), rtol=1e-12)
    # CW: oracle the covariance of the two-mode law by enumerating all 2^d spin vectors
    cw = CurieWeiss(beta=2.0, p=0.7, dim=5)
    mm, wp = cw.m, cw.w_plus
    spins = np.array(list(itertools.product([-1.0, 1.0], repeat=5)))
    prob = wp * np.prod((1 + mm * spins) / 2, 1) + (1 - wp) * np.prod((1 - mm * spins) / 2, 1)
    mean = prob @ spins
    cov = (spins * prob[:, None]).T @ spins - np.outer(mean, mean)
    assert math.isclose(prob.sum(), 1.0, rel_tol=1e-12)
    assert np.allclose(np.sort(cw_spectrum(cw)), np.linalg.eigvalsh(cov), rtol=1e-10)
    mdl = CurieWeissModel(cw)
    assert np.allclose(mdl.data_moments()[1], cov, rtol=1e-10, atol=1e-14)
    assert np.allclose(mdl.data_moments()[0], mean, rtol=1e-10)


def test_cw_model_is_the_two_mode_denoiser_in_the_noise_level_scale() -> None:
    # oracle: cw_full's Euler in tau on the two-mode denoiser equals DDIM in sigma on the
    # noise-level model (same first draw: x_I = tau_0 xbar_0 with c = 1)
    from symsched.highdim._grid import TauGrid

    cw = CurieWeiss(beta=2.0, p=0.8, dim=20)
    taus = np.concatenate([[0.0], 1 / (1 + GRID), [1.0]])
    als = np.concatenate([[1.0], GRID / (1 + GRID), [0.0]])
    grid = TauGrid("x", taus, als)
    ref = cw_full(cw, grid, 1.0, samples=16, seed=2)
    mdl = CurieWeissModel(cw)
    # cw_full's draw and its first step from tau_0 = 0; then x_I = tau_1 xbar runs DDIM in sigma
    gen = torch.Generator().manual_seed(2)
    x = torch.randn((16, 20), generator=gen, dtype=torch.float64)
    from symsched.highdim.cw import denoiser_two_mode

    lam0 = float(grid.dtaus[0]) / float(als[0])
    x = denoiser_two_mode(cw, x, 0.0, 1.0, 1.0).mul_(lam0).add_(x, alpha=1 - lam0)
    xbar = x / float(taus[1])
    out = ddim.sample(mdl, xbar, GRID)
    # the last tau step (alpha -> 0) is the denoiser at sigma_N: D(xbar_N, sigma_N)
    final = mdl(out, float(GRID[-1]))
    assert np.allclose(final.mean(1).numpy(), ref.magnetization, rtol=0, atol=1e-9)


def test_cw_run_statistics_and_inputs() -> None:
    cw = CurieWeiss(beta=2.0, p=0.8, dim=20)
    run = cw_sampler_run(cw, NETWORK_SAMPLERS["heun"], GRID, 200, seed=1, chunk_elements=1000)
    again = cw_sampler_run(cw, NETWORK_SAMPLERS["heun"], GRID, 200, seed=1, chunk_elements=1000)
    assert run.magnetization.shape == (200,) and np.array_equal(run.within_var, again.within_var)
    st = cw_statistics(cw, run)
    assert st["samples"] == 200 and 0 <= st["mode_fraction"] <= 1
    with pytest.raises(ValueError, match="samples"):
        cw_sampler_run(cw, NETWORK_SAMPLERS["heun"], GRID, 5)
    with pytest.raises(ValueError, match="beta"):
        CurieWeissModel(CurieWeiss(beta=0.9, p=0.8, dim=4))
    rows = CurieWeissModel(cw).sample_data(50_000, torch.Generator().manual_seed(0)).numpy()
    assert abs(float((rows.mean(1) > 0).mean()) - two_mode_law(cw).mode_fraction) < 0.01
    with pytest.raises(TypeError, match="reduced states"):
        GMReducedDenoiser(GaussianMixture(dim=3))(torch.ones(2, 3), 1.0)
