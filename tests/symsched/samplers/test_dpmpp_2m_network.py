"""DPM-Solver++(2M) on a network denoiser: k-diffusion's loop, the derived map, the order."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from symsched.models import NETWORK_SAMPLERS, GaussianModel
from symsched.samplers import dpmpp_2m, get_sampler
from symsched.schedules import families
from symsched_verify import tolerances as tol

LAM = np.array([0.01, 0.3, 1.0, 5.0])
GRID = np.array([80.0, 20.0, 5.0, 1.3, 0.4, 0.05, 0.002])


@pytest.mark.parametrize("grid", [GRID, np.append(GRID, 0.0)])
def test_matches_kdiffusion_sample_dpmpp_2m(grid: np.ndarray) -> None:
    kd = pytest.importorskip("k_diffusion.sampling")
    m = GaussianModel(LAM)
    x0 = torch.randn(5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 80
    ours = dpmpp_2m.sample(m, x0, grid)
    ref = kd.sample_dpmpp_2m(lambda x, s: m(x, s), x0.clone(), torch.as_tensor(grid), disable=True)
    assert torch.allclose(ours, ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("grid", [GRID, np.append(GRID, 0.0)])
def test_gain_on_the_exact_denoiser_is_the_closed_form(grid: np.ndarray) -> None:
    # the sampler on the identity: the per-direction gain G_i, whose square times
    # (lam + s0^2) / (lam + sN^2) is the exact-start variance ratio of the float64 recursion
    m = GaussianModel(LAM)
    g = torch.diag(dpmpp_2m.sample(m, torch.eye(4, dtype=torch.float64), grid)).numpy()
    smp = get_sampler("dpmpp-2m")
    lr = smp.log_variance_ratios(LAM, grid, "exact", smp.make_knobs())
    r = g**2 * (LAM + grid[0] ** 2) / (LAM + grid[-1] ** 2)
    assert np.allclose(r, np.exp(lr), rtol=1e-12, atol=0)


def test_second_order_and_registered() -> None:
    # N(0, c^2): the flow x(s) = x0 sqrt((c^2 + s^2) / (c^2 + s0^2)) (independent of the sampler)
    c = 0.5

    def err(n: int) -> float:
        grid = families.loglinear(0.05, 5.0).grid(n)
        out = float(dpmpp_2m.sample(GaussianModel.isotropic(c, 1), torch.ones(1, 1), grid)[0, 0])
        return abs(out - math.sqrt((c**2 + grid[-1] ** 2) / (c**2 + grid[0] ** 2)))

    ns = [8, 16, 32, 64]
    slope = stats.linregress(np.log(ns), np.log([err(n) for n in ns])).slope
    lo, hi = tol.SAMPLER_ORDER_BAND
    assert lo <= -slope - 2.0 <= hi
    assert NETWORK_SAMPLERS["dpmpp-2m"] is dpmpp_2m.sample


def test_callback_and_inputs() -> None:
    m = GaussianModel.isotropic(0.5, 2)
    seen: list[int] = []
    dpmpp_2m.sample(
        m, torch.ones(3, 2, dtype=torch.float64), GRID, callback=lambda s: seen.append(s["i"])
    )
    assert seen == list(range(GRID.size - 1))
    with pytest.raises(ValueError, match="finite"):
        dpmpp_2m.sample(m, torch.ones(3, 2, dtype=torch.float64), [math.inf, 1.0])
    # one step 1 -> 0 is the denoiser itself: c^2 / (c^2 + 1) x
    out = dpmpp_2m.sample(m, torch.ones(3, 2, dtype=torch.float64), [1.0, 0.0])
    assert torch.allclose(out, torch.full((3, 2), 0.2, dtype=torch.float64), rtol=1e-15, atol=0)
