"""Score-model interface: analytic models, adapters and input validation
(docs/theory/stein.md#estimators)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from symsched import stein
from symsched.models import (
    EmpiricalModel,
    GaussianMixtureModel,
    GaussianModel,
    KDiffusionModel,
    ModelError,
    VPNetworkModel,
    load_model,
    symmetric_gm,
    two_point,
)


def _x(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_single_component_mixture_is_the_gaussian_denoiser() -> None:
    x, s = _x(50, 3), torch.full((50,), 0.7, dtype=torch.float64)
    g = GaussianModel.isotropic(0.6, 3)
    gm = GaussianMixtureModel(np.zeros((1, 3)), None, 0.6)
    assert torch.allclose(g(x, s), gm(x, s), rtol=1e-13, atol=0)


def test_two_point_denoiser_is_tanh() -> None:
    x, s = _x(40, 1) * 2, torch.linspace(0.1, 3.0, 40, dtype=torch.float64)
    assert torch.allclose(
        two_point()(x, s)[:, 0], torch.tanh(x[:, 0] / s**2), rtol=1e-12, atol=1e-14
    )


def test_empirical_model_memorises_at_small_sigma() -> None:
    data = np.random.default_rng(1).uniform(-1, 1, size=(20, 4))
    m = EmpiricalModel(data)
    x = torch.as_tensor(data[:5]) + 1e-4 * _x(5, 4)
    assert torch.allclose(m(x, 1e-3), torch.as_tensor(data[:5]), atol=1e-12)


def _gaussian_vp_net(lam: float, table: np.ndarray, prediction: str):
    log_s = np.log(np.sqrt((1 - table) / table))

    def net(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        lo = torch.clamp(t.floor().long(), 0, table.size - 2)
        w = t - lo
        ls = torch.as_tensor(log_s)
        sig = torch.exp((1 - w) * ls[lo] + w * ls[lo + 1])  # k-diffusion t_to_sigma
        ab = 1 / (1 + sig**2)
        a, s = torch.sqrt(ab)[:, None], torch.sqrt(1 - ab)[:, None]
        m = ab[:, None] * lam + 1 - ab[:, None]
        eps = s * x_t / m
        if prediction == "epsilon":
            return eps
        y = a * lam * x_t / m
        return a * eps - s * y

    return net


@pytest.mark.parametrize("prediction", ["epsilon", "v"])
def test_vp_network_adapter_recovers_the_analytic_denoiser(prediction: str) -> None:
    betas = np.linspace(1e-4, 0.02, 1000)
    table = np.cumprod(1 - betas)
    lam = 0.4
    m = VPNetworkModel(
        _gaussian_vp_net(lam, table, prediction),
        table,
        2,
        prediction=prediction,
        data=np.random.default_rng(0).normal(size=(64, 2)) * math.sqrt(lam),
    )
    x = _x(30, 2)
    s = torch.as_tensor(np.geomspace(0.02, 100.0, 30))
    assert torch.allclose(m(x, s), lam / (lam + s[:, None] ** 2) * x, rtol=1e-10, atol=1e-12)
    # the JVP estimator differentiates through the adapter's timestep interpolation
    delta, _, _ = stein.estimate_metric(m, np.array([5.0, 1.0, 0.2]), samples=64, seed=0)
    ref, _, _ = stein.estimate_metric(
        GaussianModel(np.full(2, lam)), np.array([5.0, 1.0, 0.2]), samples=64, seed=0
    )
    assert np.allclose(
        delta, ref, rtol=0.3
    )  # different data rows; same order of magnitude and shape
    with pytest.raises(ModelError, match="outside the range"):
        m(x, 500.0)


def test_kdiffusion_callable_and_validation() -> None:
    m = KDiffusionModel(lambda x, s: x / (1 + s[:, None] ** 2), 3, sigma_range=(0.01, 50.0))
    x = _x(4, 3)
    assert torch.allclose(m(x, 1.0), x / 2)
    with pytest.raises(ModelError, match=r"shape \(batch, 3\)"):
        m(_x(4, 2), 1.0)
    with pytest.raises(TypeError, match="floating dtype"):
        m(torch.ones(4, 3, dtype=torch.int64), 1.0)
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        m(np.ones((4, 3)), 1.0)
    with pytest.raises(ModelError, match="outside the range"):
        m(x, 100.0)
    with pytest.raises(ModelError, match="finite and > 0"):
        m(x, float("nan"))
    with pytest.raises(ModelError, match="sigma must be a scalar"):
        m(x, torch.ones(3, dtype=torch.float64))
    with pytest.raises(ModelError, match="need data samples"):
        stein.estimate_costs(m, [2.0, 1.0], estimator="monte-carlo", samples=4)


def test_nan_output_is_reported_with_sigma() -> None:
    m = KDiffusionModel(
        lambda x, s: torch.where(s[:, None] > 1, x * float("nan"), x), 2, data=np.zeros((3, 2))
    )
    with pytest.raises(ModelError, match=r"NaN/inf at sigma = 2"):
        m(_x(2, 2), torch.tensor([0.5, 2.0], dtype=torch.float64))
    with pytest.raises(ModelError, match="NaN"):
        stein.estimate_costs(m, [3.0, 1.0], estimator="monte-carlo", samples=4)


def test_wrong_output_shape() -> None:
    m = KDiffusionModel(lambda x, s: x[:, :1], 2)
    with pytest.raises(ModelError, match="returned shape"):
        m(_x(2, 2), 1.0)


def test_load_model_specs_and_errors() -> None:
    assert load_model("gaussian", c=0.5, dim=3).dim == 3
    assert load_model("gaussian", eigenvalues=[1.0, 2.0]).dim == 2
    assert load_model("two-point").dim == 1
    assert load_model("gm", dim=4).dim == 4
    assert load_model("empirical-digits").dim == 64
    for spec, kw, match in [
        ("gaussian", {}, "needs --c"),
        ("gaussian", {"c": 1.0, "eigenvalues": [1.0]}, "not both"),
        ("two-point", {"c": 1.0}, "does not take --c"),
        ("nonsense", {}, "must be one of"),
        ("gm", {"p": 1.5}, "p must be in"),
        ("gaussian", {"c": -1.0}, "c must be"),
    ]:
        with pytest.raises(ValueError, match=match):
            load_model(spec, **kw)
    with pytest.raises(ValueError, match="dim"):
        symmetric_gm(dim=0)


def test_exact_estimator_requires_closed_form() -> None:
    with pytest.raises(ValueError, match="needs an analytic model"):
        stein.estimate_costs(load_model("gm"), [2.0, 1.0], estimator="exact")


def test_mixture_score_is_the_stable_form_of_the_denoiser_score() -> None:
    # sum_k r_k (mu_k - x) / (c_k^2 + sigma^2) equals (D - x) / sigma^2 where both are finite,
    # and stays finite as sigma -> 0 where 1 / sigma^2 overflows (components of positive std)
    mdl = symmetric_gm(p=0.8, m=1.0, mode_sigma=0.5, dim=3)
    x = _x(64, 3)
    # (the denoiser form loses ~eps |x| / sigma^2 to cancellation: compared where that is < 1e-13)
    for sigma in (0.05, 0.3, 5.0):
        via_denoiser = (mdl(x, sigma) - x) / sigma**2
        assert torch.allclose(mdl.score(x, sigma), via_denoiser, rtol=1e-11, atol=1e-13)
    tiny = mdl.score(x, 1e-300)
    limit = mdl.score(x, 1e-12)  # the sigma -> 0 limit, reached to ~1e-24 relative
    assert torch.isfinite(tiny).all() and torch.allclose(tiny, limit, rtol=1e-12)
    with pytest.raises(ModelError, match="score overflows float64"):  # point masses: 1/sigma^2
        two_point().score(x[:, :1], 1e-300)
