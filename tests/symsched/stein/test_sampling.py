"""Samplers on a denoiser, the held-out split, and the sample-quality metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from symsched.datasets import split
from symsched.metrics import fit_karras_rho, frechet_distance, sliced_wasserstein
from symsched.models import (
    GaussianModel,
    ModelError,
    load_model,
    sample_euler,
    sample_heun,
    start_noise,
)
from symsched.schedules import families
from symsched_verify import tolerances as tol


def _flow_error(sampler: object, n: int, c: float = 0.5) -> float:
    # N(0, c^2 I): the probability-flow ODE dx/dsigma = sigma x / (c^2 + sigma^2) has the exact
    # solution x(sigma) = x0 sqrt((c^2 + sigma^2) / (c^2 + sigma0^2)) (independent of the samplers)
    grid = families.loglinear(0.05, 5.0).grid(n)
    x0 = torch.ones(1, 1, dtype=torch.float64)
    out = float(sampler(GaussianModel.isotropic(c, 1), x0, grid)[0, 0])
    return abs(out - math.sqrt((c**2 + grid[-1] ** 2) / (c**2 + grid[0] ** 2)))


@pytest.mark.parametrize(("sampler", "order"), [(sample_euler, 1.0), (sample_heun, 2.0)])
def test_sampler_convergence_order(sampler: object, order: float) -> None:
    ns = [8, 16, 32, 64]
    slope = stats.linregress(np.log(ns), np.log([_flow_error(sampler, n) for n in ns])).slope
    lo, hi = tol.SAMPLER_ORDER_BAND
    assert lo <= -slope - order <= hi


def test_heun_final_step_to_zero_is_euler_and_inputs_are_checked() -> None:
    m = GaussianModel.isotropic(0.5, 2)
    x = torch.ones(3, 2, dtype=torch.float64)
    # one step 1 -> 0 is x + (0 - 1)(x - D)/1 = D(x, 1) = c^2/(c^2+1) x
    assert torch.allclose(sample_heun(m, x, [1.0, 0.0]), 0.2 * x, rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match="finite"):
        sample_heun(m, x, [math.inf, 1.0])
    with pytest.raises(ValueError, match="strictly decreasing"):
        sample_euler(m, x, [1.0, 2.0])
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        sample_heun(m, np.ones((3, 2)), [1.0, 0.5])
    with pytest.raises(ModelError, match="positive integer"):
        start_noise(0, 2, 80.0, 0)
    a, b = start_noise(4, 2, 80.0, 3), start_noise(4, 2, 80.0, 3)
    assert torch.equal(a, b) and a.dtype == torch.float64


@pytest.mark.parametrize(("name", "sizes"), [("digits", (1438, 359)), ("patches", (4704, 1176))])
def test_split_is_deterministic_disjoint_and_documented(name: str, sizes: tuple[int, int]) -> None:
    tr, he = split(name, "train"), split(name, "heldout")
    assert (tr.shape[0], he.shape[0]) == sizes
    assert np.array_equal(split(name, "heldout"), he)
    if name == "digits":  # the parts partition the 1797 images
        both = np.concatenate([tr, he])
        from symsched.datasets import load

        assert np.array_equal(np.unique(both, axis=0), np.unique(load("digits"), axis=0))
    with pytest.raises(ValueError, match="part"):
        split(name, "test")


@pytest.mark.parametrize("name", ["digits", "patches"])
def test_shipped_models_record_their_split(name: str) -> None:
    cfg = load_model(name).config
    assert cfg["split"] == "train" and cfg["train_rows"] == split(name).shape[0]
    assert cfg["steps"] == cfg["planned_steps"] and not cfg["truncated"]


def test_metrics_basic_properties() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((300, 4)), rng.standard_normal((250, 4)) * 1.5 + 0.2
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-10)
    assert sliced_wasserstein(x, x) == 0.0
    assert sliced_wasserstein(x, y, seed=1) == pytest.approx(
        sliced_wasserstein(y, x, seed=1), rel=1e-12
    )
    with pytest.raises(ValueError, match="same dimension"):
        frechet_distance(x, y[:, :3])
    with pytest.raises(ValueError, match="projections"):
        sliced_wasserstein(x, y, projections=0)
    with pytest.raises(ValueError, match="2-D"):
        frechet_distance(x[0], y)


def test_fit_karras_rho_recovers_rho() -> None:
    for rho in (3.0, 7.0, 12.0):
        assert fit_karras_rho(families.karras(0.002, 80.0, rho).grid(10)) == pytest.approx(
            rho, rel=1e-3
        )
    with pytest.raises(ValueError, match="decreasing"):
        fit_karras_rho([1.0, 2.0, 3.0])


def test_compare_schedules_rejects_bad_arguments() -> None:
    from symsched.stein.quality import compare_schedules

    with pytest.raises(ValueError, match="sampler"):
        compare_schedules("digits", sampler="rk4")
    with pytest.raises(ValueError, match="schedules must be among"):
        compare_schedules("digits", schedules=("stein", "cosine"))
    with pytest.raises(ValueError, match="batches"):
        compare_schedules("digits", batches=1)


@pytest.mark.slow
def test_sampling_comparison_full_profile() -> None:
    # both models, all five schedules, N = 5..20, 8 batches: ~2-15 minutes depending on machine load
    import matplotlib.pyplot as plt

    from symsched_verify.claims.stein_sampling import check_sampling
    from symsched_verify.registry import Budget

    out = check_sampling(Budget(profile="full"))
    for fig in out.figures.values():
        plt.close(fig)
    assert out.passed, out.details["failures"]
