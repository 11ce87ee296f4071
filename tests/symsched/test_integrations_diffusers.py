"""``symsched.integrations.diffusers.apply`` end to end: the configured scheduler's own loop on an
exact Gaussian samples symsched's closed form (docs/conventions.md#export-conventions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symsched import build
from symsched.gaussian import exact
from symsched.integrations.diffusers import apply
from symsched_verify import tolerances as tol

diffusers = pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

LAM = np.array([0.02, 0.3, 1.5])
N_PARTICLES = 100_000


def _z(samples: np.ndarray, levels: np.ndarray, start: str, sampler: str = "ddim") -> float:
    m2 = (samples**2).mean(0)
    se = (samples**2).std(0, ddof=1) / math.sqrt(samples.shape[0])
    r = np.asarray(exact.variance_ratios(LAM, levels, start=start, sampler=sampler))
    return float(np.max(np.abs(m2 - r * LAM) / se))  # the grid ends at 0: the target is LAM


def _eps(x: torch.Tensor, rho: float, lam: torch.Tensor) -> torch.Tensor:
    """The exact epsilon of the VP state x at noise level rho (x = (x0 + rho eps)/sqrt(1+rho^2))."""
    xbar = x * math.sqrt(1 + rho * rho)
    return rho * xbar / (lam + rho * rho)


def _table_rho(sched: object, t: float) -> float:
    ac = sched.alphas_cumprod.double()  # type: ignore[attr-defined]
    lo, hi = math.floor(t), math.ceil(t)
    a = float(ac[lo] + (ac[hi] - ac[lo]) * (t - lo))
    return math.sqrt((1 - a) / a)


def test_euler_discrete_visits_the_grid_and_samples_the_closed_form() -> None:
    sched = diffusers.EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012
    )
    grid = build("karras", 8, sigma_min=0.03, sigma_max=14.6)
    done = apply(sched, grid)
    np.testing.assert_allclose(sched.sigmas.double().numpy(), done.levels, rtol=1e-6)
    lam_t = torch.as_tensor(LAM)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_PARTICLES, 3, generator=g, dtype=torch.float64) * float(
        sched.init_noise_sigma
    )
    for i, t in enumerate(sched.timesteps):
        rho = float(sched.sigmas[i])
        xin = sched.scale_model_input(x, t).double()
        x = sched.step(_eps(xin, rho, lam_t), t, x).prev_sample.double()
    assert _z(x.numpy(), done.levels, "prior") < tol.Z_SCORE


def test_dpm_solver_gets_its_own_tables_timesteps() -> None:
    sched = diffusers.DPMSolverMultistepScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, solver_order=1,
        algorithm_type="dpmsolver++", final_sigmas_type="zero",
    )  # fmt: skip
    grid = build("karras", 6, sigma_min=0.03, sigma_max=14.6)
    done = apply(sched, grid)
    assert len(done.call["timesteps"]) == 6 and done.levels[-1] == 0.0
    assert 0 < done.max_rel_shift < 0.05  # integer timesteps move the levels, and say so
    lam_t = torch.as_tensor(LAM)
    g = torch.Generator().manual_seed(1)
    z = torch.randn(N_PARTICLES, 3, generator=g, dtype=torch.float64)
    e = torch.randn(N_PARTICLES, 3, generator=g, dtype=torch.float64)
    rho0 = float(done.levels[0])
    x = (z * lam_t.sqrt() + rho0 * e) / math.sqrt(1 + rho0 * rho0)
    for t in sched.timesteps:
        rho = _table_rho(sched, float(t))
        x = sched.step(_eps(x, rho, lam_t), t, x).prev_sample.double()
    assert _z(x.numpy(), done.levels, "exact") < tol.Z_SCORE


@pytest.mark.parametrize("config", [{"shift": 3.0}, {"use_dynamic_shifting": True}])
def test_flow_match_euler_undoes_its_shift(config: dict[str, object]) -> None:
    from symsched_verify.oracles.consumers import _run_flow_match

    sched = diffusers.FlowMatchEulerDiscreteScheduler(**config)
    grid = build("flow", 8, eigenvalues=LAM)
    done = apply(sched, grid)
    ran = _run_flow_match(sched, LAM, N_PARTICLES, 2)
    got = ran.scheduler_sigmas
    assert math.isinf(got[0]) and got[-1] == 0.0
    np.testing.assert_allclose(got[1:-1], grid.sigmas[1:-1], rtol=16 * tol.EPS32)
    assert _z(ran.samples, done.levels, "exact") < tol.Z_SCORE
    if "shift" in config:  # negative control: the same samples reject the doubly shifted grid
        assert _z(ran.samples, 3.0 * done.levels, "exact") > tol.DIFFUSERS_FLOW_NEGATIVE_Z


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: diffusers.DDIMScheduler(), "not supported"),
        (lambda: diffusers.EulerDiscreteScheduler(use_karras_sigmas=True), "use_karras_sigmas"),
        (lambda: diffusers.FlowMatchEulerDiscreteScheduler(shift_terminal=0.1), "shift_terminal"),
        (
            lambda: diffusers.DPMSolverMultistepScheduler(final_sigmas_type="sigma_min"),
            "final_sigmas_type",
        ),
    ],
)
def test_what_would_move_the_grid_is_refused(make: object, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        apply(make(), build("karras", 4, sigma_min=0.03, sigma_max=14.6))  # type: ignore[operator]


def test_an_infinite_start_is_refused_for_vp_schedulers() -> None:
    with pytest.raises(ValueError, match="finite"):
        apply(diffusers.EulerDiscreteScheduler(), build("flow", 4, shift="2"))
