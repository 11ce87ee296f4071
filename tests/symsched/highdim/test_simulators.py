"""Simulators: reduced vs full, the Euler mode fraction, the authors' Euler-in-t step, CW pieces."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from symsched.highdim import cw as cwm
from symsched.highdim import measure as ms
from symsched.highdim import schedules as S
from symsched.highdim import search
from symsched.highdim import simulate as sim
from symsched.highdim.gm import GaussianMixture
from symsched_verify import tolerances as tol


@pytest.mark.parametrize("schedule", S.SCHEDULES)
def test_reduced_equals_full_to_roundoff(schedule: str) -> None:
    gm = GaussianMixture(dim=64)
    grid, c_value = ms.make_grid(schedule, 12, gm, kappa=3.0)
    x0 = np.random.default_rng(1).normal(size=(50, 64)) * c_value
    full = sim.gm_full(gm, grid, c_value, x0=x0)
    xp = x0 - x0.mean(1, keepdims=True)
    red = sim.gm_reduced(gm, grid, c_value, init=(x0.sum(1), (xp**2).sum(1)))
    assert np.abs(full.magnetization - red.magnetization).max() <= tol.HD_REDUCTION_ATOL
    assert np.abs(full.within_std - red.within_std).max() <= tol.HD_REDUCTION_ATOL


def _spec_velocity(x: np.ndarray, tau: float, c_value: float, gm: GaussianMixture) -> np.ndarray:
    # docs/theory/highdim.md#exact-gm-fields, alpha = 1 - tau, typed in as an independent oracle
    dv = c_value**2 * (1 - tau) ** 2 + gm.mode_sigma**2 * tau**2
    t = np.tanh(gm.h + tau * gm.m * x.sum(1, keepdims=True) / dv)
    return (
        (gm.mode_sigma**2 * tau - c_value**2 * (1 - tau)) * x + c_value**2 * (1 - tau) * gm.m * t
    ) / dv


@pytest.mark.parametrize("schedule", ["vp-dilated", "ve-dilated"])
def test_even_n_tau_grid_euler_is_the_authors_t_euler(schedule: str) -> None:
    d, n, kappa = 100, 20, 3.0
    gm = GaussianMixture(dim=d)
    grid, c_value = ms.make_grid(schedule, n, gm, kappa)
    r = kappa / math.sqrt(d)
    x0 = np.random.default_rng(2).normal(size=(20, d)) * c_value
    x = x0.copy()
    for k in range(n):  # authors: X_{k+1} = X_k + (1/N) taudot(t_k) b_{tau(t_k)}(X_k)
        t = k / n
        if schedule == "vp-dilated":
            tau_t, taudot = (
                (2 * r * t, 2 * r) if t < 0.5 else (r + (1 - r) * (2 * t - 1), 2 * (1 - r))
            )
        else:
            tau_t, taudot = (
                (2 * (1 - r) * t, 2 * (1 - r)) if t < 0.5 else ((1 - r) + r * (2 * t - 1), 2 * r)
            )
        x = x + taudot / n * _spec_velocity(x, tau_t, c_value, gm)
    ours = sim.gm_full(gm, grid, c_value, x0=x0)
    assert np.allclose(x.mean(1), ours.magnetization, atol=1e-12)
    assert np.allclose(x.std(1, ddof=1), ours.within_std, rtol=1e-10)


def test_euler_mode_fraction_matches_monte_carlo() -> None:
    gm = GaussianMixture(dim=10**6)
    grid, c_value = ms.make_grid("vp-dilated", 16, gm)
    exact = sim.gm_mode_fraction_euler(gm, grid, c_value)
    run = sim.gm_reduced(gm, grid, c_value, 200_000, seed=3)
    frac, _ = ms.fraction_stderr(run.magnetization > 0)
    assert abs(frac - exact) <= tol.Z_SCORE * math.sqrt(exact * (1 - exact) / 200_000)


def test_steps_needed_search_returns_the_first_grid_point() -> None:
    grid = ms.SEARCH_GRID
    target = 431
    n, _ = search.steps_needed(lambda k: {"high": 1.0 / k, "low": 0.0}, 1.0 / target, grid)
    assert n == target
    n, _ = search.steps_needed(lambda k: {"high": 1.0, "low": 0.0}, 0.5, grid[:10])
    assert n is None


def test_loglog_slope() -> None:
    d = np.array([1e2, 1e4, 1e6])
    assert ms.loglog_slope(d, 3 * np.sqrt(d)) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "beta,m,w", [(2.0, 0.957504, 0.790407), (1.5, 0.858560, 0.766780), (1.1, 0.502941, 0.667572)]
)
def test_cw_table_values(beta: float, m: float, w: float) -> None:
    mdl = cwm.CurieWeiss(beta=beta)
    assert mdl.m == pytest.approx(m, abs=1e-6)
    assert mdl.w_plus == pytest.approx(w, abs=1e-6)


def test_hs_denoiser_equals_enumeration() -> None:
    mdl = cwm.CurieWeiss(beta=1.5, dim=8)
    rng = np.random.default_rng(4)
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=8)))
    logmu = mdl.beta / 16 * states.sum(1) ** 2 + mdl.h / 8 * states.sum(1)
    for tau_v, c_value in [(0.2, 1.0), (0.7, math.sqrt(8))]:
        x = rng.normal(size=(3, 8))
        y = cwm.local_field(x, tau_v, 1 - tau_v, c_value)
        lw = logmu[None, :] + y @ states.T
        w = np.exp(lw - lw.max(1, keepdims=True))
        ref = (w @ states) / w.sum(1, keepdims=True)
        assert (
            np.abs(cwm.denoiser_hs(mdl, x, tau_v, 1 - tau_v, c_value, span=6.0) - ref).max()
            <= tol.HD_HS_ENUM_ATOL
        )


def test_two_mode_denoiser_numpy_torch_and_direct_formula() -> None:
    torch = pytest.importorskip("torch")
    mdl = cwm.CurieWeiss(beta=2.0, dim=200)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 200)) + 0.5
    for tau_v in (0.05, 0.5, 0.95):
        y = cwm.local_field(x, tau_v, 1 - tau_v, 1.0)
        t = np.tanh(y)
        lq = np.logaddexp(0, 0) * 0 + (np.log1p(mdl.m * t) - np.log1p(-mdl.m * t)).sum(
            1, keepdims=True
        )
        wp = 1 / (1 + np.exp(-(2 * mdl.h * mdl.m + lq)))
        bm = mdl.beta * mdl.m
        # docs/theory/highdim.md#two-mode-denoiser as written
        ref = wp * np.tanh(bm + y) + (1 - wp) * np.tanh(y - bm)
        got_np = cwm.denoiser_two_mode(mdl, x, tau_v, 1 - tau_v, 1.0)
        got_t = cwm.denoiser_two_mode(mdl, torch.tensor(x), tau_v, 1 - tau_v, 1.0).numpy()
        assert np.abs(got_np - ref).max() <= 1e-13 and np.abs(got_t - got_np).max() <= 1e-13


def test_exact_laws_are_normalised_and_converge() -> None:
    gaps = []
    for d in (100, 1000, 10000):
        mdl = cwm.CurieWeiss(beta=2.0, dim=d)
        ex, two = cwm.exact_law(mdl), cwm.two_mode_law(mdl)
        assert ex.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
        assert two.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
        gaps.append(abs(ex.mode_fraction - two.mode_fraction))
    assert gaps[0] > gaps[1] > gaps[2]


def test_exact_sampler_law() -> None:
    mdl = cwm.CurieWeiss(beta=2.0, dim=40)
    law = cwm.exact_law(mdl)
    n = 20_000
    spins = cwm.sample_exact(mdl, n, np.random.default_rng(6))
    assert set(np.unique(spins)) == {-1.0, 1.0}
    k = (spins > 0).sum(1)
    counts = np.bincount(k, minlength=41) / n
    assert np.abs(counts - law.probabilities).max() <= 5 * math.sqrt(0.25 / n)


def test_cw_full_runs_and_reports() -> None:
    mdl = cwm.CurieWeiss(beta=2.0, dim=200)
    grid, c_value = ms.make_grid("vp-dilated", 16, mdl)
    run = sim.cw_full(mdl, grid, c_value, 64, seed=1, record=4, chunk_elements=200 * 16)
    stats = ms.cw_statistics(mdl, run)
    assert run.trajectories.shape == (17, 4)
    for key in (
        "mode_fraction",
        "sign_magnetization",
        "minority_fraction",
        "within_var",
        "distance_to_spins",
    ):
        assert f"{key}_stderr" in stats and key in stats["targets"]
    assert stats["targets"]["mode_fraction"] == pytest.approx(mdl.w_plus)
    assert (
        stats["distance_to_spins"] < 0.05
    )  # Euler's last step lands on tanh(...) ~ +-1 for dilated schedules
