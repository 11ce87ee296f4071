"""The network loops (``ddim.sample``, ``heun.sample``, ``flow_heun.sample``): the same numbers as
k-diffusion's ``sample_euler`` and ``sample_heun`` (deterministic), the exact gain on the Gaussian
denoiser, the callback, and the denoiser evaluations each sampler states it takes
(docs/theory/coupling.md, docs/conventions.md).

``sample`` is what the verification's network checks run on the trained models; the
closed-form map of each sampler is checked elsewhere, so here the loop itself is under test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from symsched.models import NETWORK_SAMPLERS, GaussianModel
from symsched.samplers import ddim, dpmpp_2m, flow_heun, get_sampler, heun
from symsched.samplers._network import StepInfo

LAM = np.array([0.01, 0.3, 1.0, 5.0])
GRID = np.array([80.0, 20.0, 5.0, 1.3, 0.4, 0.05, 0.002])
LOOPS = {
    "euler": (ddim.sample, "sample_euler", "ddim"),
    "heun": (heun.sample, "sample_heun", "heun"),
}
# every loop with the registered sampler whose closed form it runs
ALL = {
    "euler": (ddim.sample, "ddim"),
    "heun": (heun.sample, "heun"),
    "flow-heun": (flow_heun.sample, "flow-heun"),
    "dpmpp-2m": (dpmpp_2m.sample, "dpmpp-2m"),
}


@pytest.mark.parametrize("name", sorted(LOOPS))
@pytest.mark.parametrize("grid", [GRID, np.append(GRID, 0.0)], ids=["to-sigma-min", "to-zero"])
def test_the_loop_matches_k_diffusion(name: str, grid: np.ndarray[Any, Any]) -> None:
    kd = pytest.importorskip("k_diffusion.sampling")
    ours, kd_name, _ = LOOPS[name]
    m = GaussianModel(LAM)
    x0 = torch.randn(5, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 80
    got = ours(m, x0, grid)
    want = getattr(kd, kd_name)(
        lambda x, s: m(x, s), x0.clone(), torch.as_tensor(grid), disable=True
    )
    assert torch.allclose(got, want, rtol=1e-13, atol=1e-13)
    assert NETWORK_SAMPLERS[name] is ours


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("grid", [GRID, np.append(GRID, 0.0)], ids=["to-sigma-min", "to-zero"])
def test_the_gain_on_the_exact_denoiser_is_the_closed_form(
    name: str, grid: np.ndarray[Any, Any]
) -> None:
    # the loop on the identity gives the per-direction gain G_i; G_i^2 (lam + s0^2) /
    # (lam + sN^2) is the exact-start variance ratio of the closed form
    ours, registered = ALL[name]
    g = torch.diag(ours(GaussianModel(LAM), torch.eye(4, dtype=torch.float64), grid)).numpy()
    smp = get_sampler(registered)
    lr = smp.log_variance_ratios(LAM, grid, "exact", smp.make_knobs())
    r = g**2 * (LAM + grid[0] ** 2) / (LAM + grid[-1] ** 2)
    np.testing.assert_allclose(r, np.exp(lr), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", sorted(ALL))
def test_the_callback_sees_every_step_in_order(name: str) -> None:
    ours, _ = ALL[name]
    m = GaussianModel.isotropic(0.5, 2)
    seen: list[StepInfo] = []
    out = ours(m, torch.ones(3, 2, dtype=torch.float64), GRID, callback=seen.append)
    assert [s["i"] for s in seen] == list(range(GRID.size - 1))
    assert [(s["sigma"], s["sigma_next"]) for s in seen] == list(
        zip(GRID[:-1].tolist(), GRID[1:].tolist(), strict=True)
    )
    assert torch.equal(seen[-1]["x"], out)
    # no callback: the same result
    assert torch.equal(ours(m, torch.ones(3, 2, dtype=torch.float64), GRID), out)


@pytest.mark.parametrize("name", sorted(ALL))
def test_one_step_to_zero_is_the_denoiser(name: str) -> None:
    # 1 -> 0 in one step is D(x, 1) for each (a Heun step to 0 is the Euler step, also in flow
    # time): c^2 / (c^2 + 1) x on N(0, c^2)
    ours, _ = ALL[name]
    m = GaussianModel.isotropic(0.5, 2)
    out = ours(m, torch.ones(3, 2, dtype=torch.float64), [1.0, 0.0])
    assert torch.allclose(out, torch.full((3, 2), 0.2, dtype=torch.float64), rtol=1e-15, atol=0)


class _Counting:
    """A denoiser that counts its evaluations."""

    def __init__(self, model: GaussianModel) -> None:
        self.model, self.calls = model, 0
        self.dim = model.dim

    def __call__(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        self.calls += 1
        return self.model(x, sigma)


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("grid", [GRID, np.append(GRID, 0.0)], ids=["to-sigma-min", "to-zero"])
def test_the_stated_evaluations_are_the_loop_s(name: str, grid: np.ndarray[Any, Any]) -> None:
    # Sampler.nfe is what the exports and the step-budget tables count; the loop is the truth
    ours, registered = ALL[name]
    m = _Counting(GaussianModel(LAM))
    ours(m, torch.ones(2, 4, dtype=torch.float64), grid)
    assert m.calls == get_sampler(registered).nfe(grid)
