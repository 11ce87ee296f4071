"""Each exporter's output loaded into the real diffusers scheduler and sampled end to end on the
exact Gaussian denoiser: the scheduler visits exactly the exported levels, and the output
covariance matches symsched's closed form within Monte Carlo error
(symsched_verify.oracles.consumers)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from symsched import build
from symsched.export import export
from symsched.gaussian import exact
from symsched.schedules.discrete import TRAIN_SCHEDULES, training_table
from symsched_verify import tolerances as tol

pytest.importorskip("diffusers", reason="diffusers is the consumer under test (test extra)")
from symsched_verify.oracles import consumers

LAM = np.array([0.02, 0.3, 1.5])  # one eigenvalue below, near and above the SD sigma range's middle


def z_scores(samples: np.ndarray, levels: np.ndarray, start: str) -> np.ndarray:
    """(E x_i^2 - closed-form variance_i) / s.e. per eigen-direction (zero-mean source)."""
    m2 = (samples**2).mean(0)
    se = (samples**2).std(0, ddof=1) / math.sqrt(samples.shape[0])
    pred = np.diag(exact.output_covariance(np.diag(LAM), levels, start=start))
    return (m2 - pred) / se


SD_GRIDS = [
    ("karras", {"rho": 7.0}, 10),
    ("tangent", {"eigenvalues": LAM}, 6),
    ("loglinear", {}, 15),
]


@pytest.mark.parametrize("method, opts, n", SD_GRIDS)
def test_euler_sigmas_visits_grid_and_matches_closed_form(method: str, opts: dict, n: int) -> None:
    # the grid ends at 0.0292 > 0: the N steps are the method's N levels down to 0.0292 and the step
    # to 0 (docs/conventions.md#steps-and-the-final-0)
    shorter = build(method, n - 1, sigma_min=0.0292, sigma_max=14.6146, **opts).sigmas
    grid = np.append(shorter, 0.0)
    ex = export(build(method, n, sigma_min=0.0292, sigma_max=14.6146, **opts), "diffusers-euler")
    np.testing.assert_array_equal(ex.levels, grid)
    run = consumers.run_euler_sigmas(json.loads(ex.text), LAM, tol.EXPORT_PARTICLES, seed=11)
    assert run.scheduler_sigmas.size == n + 1 and run.queried.size == n  # N steps, the last to 0
    np.testing.assert_allclose(run.scheduler_sigmas, grid, rtol=tol.CONSUMER_LEVEL_RTOL)
    np.testing.assert_allclose(run.queried, grid[:-1], rtol=tol.CONSUMER_LEVEL_RTOL)
    z = z_scores(run.samples, grid, "prior")  # init_noise_sigma = sigma_0: the prior start
    assert np.all(np.abs(z) <= tol.Z_SCORE), z


def test_kdiffusion_list_is_the_diffusers_euler_list() -> None:
    """The k-diffusion/ComfyUI list and the diffusers-euler list are the same N+1 sigmas ending at
    0: in EulerDiscreteScheduler(sigmas=) N consumer steps, and the closed form of those levels."""
    sch = build("karras", 8, sigma_min=0.0292, sigma_max=14.6146)
    ex = export(sch, "k-diffusion")
    assert ex.text == export(sch, "diffusers-euler").text
    run = consumers.run_euler_sigmas(json.loads(ex.text), LAM, tol.EXPORT_PARTICLES, seed=12)
    assert run.queried.size == 8 and run.scheduler_sigmas[-1] == 0.0 and "8 steps" in ex.note
    z = z_scores(run.samples, ex.levels, "prior")
    assert np.all(np.abs(z) <= tol.Z_SCORE), z


@pytest.mark.parametrize("train", ["scaled_linear", "linear"])
def test_dpm_timesteps_first_order_matches_closed_form(train: str) -> None:
    hi = float(training_table(train).sigmas[-1])
    lo = float(training_table(train).sigmas[0])
    sch = build("karras", 10, sigma_min=max(lo, 0.0292), sigma_max=hi)
    ex = export(sch, "diffusers-timesteps", train_schedule=train)
    ts = json.loads(ex.text)
    assert all(isinstance(t, int) for t in ts) and len(set(ts)) == len(ts) == 10  # N steps
    run = consumers.run_dpm_timesteps(ts, LAM, tol.EXPORT_PARTICLES, seed=13, beta_schedule=train)
    # the scheduler visits exactly the levels the exporter says it realises, then 0
    np.testing.assert_allclose(run.scheduler_sigmas, ex.levels, rtol=tol.TRAIN_TABLE_RTOL)
    np.testing.assert_allclose(run.queried, ex.levels[:-1], rtol=tol.TRAIN_TABLE_RTOL)
    z = z_scores(run.samples, ex.levels, "exact")  # DPM-Solver++ order 1 = DDIM
    assert np.all(np.abs(z) <= tol.Z_SCORE), z


def test_dpm_second_order_visits_the_same_levels() -> None:
    sch = build("tangent", 8, c=1.0, sigma_min=0.0292, sigma_max=14.6146)
    ex = export(sch, "diffusers-timesteps")
    run = consumers.run_dpm_timesteps(json.loads(ex.text), LAM, 2000, seed=14, solver_order=2)
    np.testing.assert_allclose(run.queried, ex.levels[:-1], rtol=tol.TRAIN_TABLE_RTOL)


def test_timestep_collisions_are_an_error_with_advice() -> None:
    sch = build("karras", 200, sigma_min=0.0292, sigma_max=14.6146)
    with pytest.raises(ValueError, match=r"both round to training timestep.*diffusers-euler"):
        export(sch, "diffusers-timesteps")
    with pytest.raises(ValueError, match=r"sigma-max|sigma_max"):
        export(build("karras", 5), "diffusers-timesteps")  # sigma_max = 80 is beyond SD's table


@pytest.mark.parametrize("shift", [1.0, 3.0])
def test_flow_match_euler_undoes_shift(shift: float) -> None:
    sch = build("tangent", 8, c=1.0)  # pure noise (t = 1) to 0
    ex = export(sch, "flow-matching", shift=shift)
    sig = json.loads(ex.text)
    assert len(sig) == 8 and sig[0] == 1.0 and f"shift = {shift:g}" in ex.note
    run = consumers.run_flow_euler(sig, shift, LAM, tol.EXPORT_PARTICLES, seed=15)
    assert math.isinf(run.queried[0])
    np.testing.assert_allclose(run.queried[1:], sch.sigmas[1:-1], rtol=tol.CONSUMER_LEVEL_RTOL)
    z = z_scores(run.samples, sch.sigmas, "exact")
    assert np.all(np.abs(z) <= tol.Z_SCORE), z


def test_flow_shift_not_undone_is_caught() -> None:
    """Negative control: the naive port (t = rho/(1+rho) passed to a shift-3 scheduler) fails."""
    sch = build("tangent", 8, c=1.0)
    naive = json.loads(export(sch, "flow-matching", shift=1.0).text)
    run = consumers.run_flow_euler(naive, 3.0, LAM, tol.EXPORT_PARTICLES, seed=15)
    assert np.max(np.abs(run.queried[1:] / sch.sigmas[1:-1] - 1)) > 1.0
    assert np.max(np.abs(z_scores(run.samples, sch.sigmas, "exact"))) > 10 * tol.Z_SCORE


@pytest.mark.parametrize("shift", [1.0, 2.5])
def test_unipc_flow_sigmas_first_order(shift: float) -> None:
    sch = build("tangent", 6, c=0.7)
    ex = export(sch, "flow-matching", shift=shift)
    run = consumers.run_unipc_flow(json.loads(ex.text), shift, LAM, tol.EXPORT_PARTICLES, seed=16)
    # UniPC moves a first sigma of exactly 1 to 1 - 1e-6 (rho ~ 1e6) to keep log(alpha) finite
    assert run.queried[0] > 1e5
    np.testing.assert_allclose(run.queried[1:], sch.sigmas[1:-1], rtol=tol.CONSUMER_LEVEL_RTOL)
    z = z_scores(run.samples, sch.sigmas, "exact")
    assert np.all(np.abs(z) <= tol.Z_SCORE), z


@pytest.mark.parametrize("name", TRAIN_SCHEDULES)
def test_training_tables_match_diffusers(name: str) -> None:
    from diffusers import DDPMScheduler

    kw = {
        "linear": {"beta_start": 1e-4, "beta_end": 0.02},
        "scaled_linear": {"beta_start": 0.00085, "beta_end": 0.012},
        "squaredcos_cap_v2": {},
    }[name]
    theirs = (
        DDPMScheduler(num_train_timesteps=1000, beta_schedule=name, **kw)
        .alphas_cumprod.double()
        .numpy()
    )
    ours = training_table(name)
    bound = tol.train_table_rtol(ours.betas)
    assert np.all(np.abs(ours.alphas_cumprod / theirs - 1) <= bound)
    # sigma = sqrt((1 - ac)/ac): relative error <= |d ac/ac| / (2 (1 - ac)) (+ rounding)
    sig_bound = bound / (2 * (1 - ours.alphas_cumprod)) + tol.EPS32
    assert np.all(np.abs(ours.sigmas / np.sqrt((1 - theirs) / theirs) - 1) <= sig_bound)
