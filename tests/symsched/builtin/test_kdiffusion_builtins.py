"""k-diffusion built-ins against the installed k_diffusion (``k_diffusion/sampling.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched.builtin import get_builtin
from symsched.builtin import kdiffusion as kd
from symsched_verify import tolerances as tol

torch = pytest.importorskip("torch")
K = pytest.importorskip("k_diffusion.sampling")

settings_ = settings(max_examples=60, deadline=None)


def _close(ours: np.ndarray, ref: np.ndarray, amplification: np.ndarray | float = 1.0) -> None:
    """``ours`` equals ``ref`` up to the transcendental tolerance, propagated by ``amplification``
    (the relative condition number of each level in the transcendental's output)."""
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    bound = (
        tol.KDIFFUSION_TORCH_POW_ULPS * tol.EPS32 * np.abs(ref.astype(np.float64)) * amplification
    )
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    assert (diff <= bound).all(), (ours, ref)
    assert ours[-1] == 0 and ref[-1] == 0


n_st = st.integers(1, 400)
smin_st = st.floats(1e-3, 1.0)
smax_st = st.floats(1.0, 1000.0)


@settings_
@given(n=st.integers(1, 3000), a=st.floats(-1e3, 1e3), b=st.floats(-1e3, 1e3))
def test_linspace_bit_exact(n: int, a: float, b: float) -> None:
    assert np.array_equal(kd.torch_linspace_f32(a, b, n), torch.linspace(a, b, n).numpy())


@settings_
@given(n=n_st, lo=smin_st, hi=smax_st, rho=st.one_of(st.just(7.0), st.floats(0.5, 10.0)))
def test_karras(n: int, lo: float, hi: float, rho: float) -> None:
    ref = K.get_sigmas_karras(n, lo, hi, rho).numpy()
    _close(kd.get_sigmas_karras(n, lo, hi, rho), ref)


@settings_
@given(n=n_st, lo=smin_st, hi=smax_st)
def test_exponential(n: int, lo: float, hi: float) -> None:
    ref = K.get_sigmas_exponential(n, lo, hi).numpy()
    _close(kd.get_sigmas_exponential(n, lo, hi), ref)


@settings_
@given(n=n_st, lo=smin_st, hi=smax_st, rho=st.one_of(st.just(1.0), st.floats(0.25, 4.0)))
def test_polyexponential(n: int, lo: float, hi: float, rho: float) -> None:
    ref = K.get_sigmas_polyexponential(n, lo, hi, rho).numpy()
    ours = kd.get_sigmas_polyexponential(n, lo, hi, rho)
    # a relative error d in the ramp moves log sigma by d * ramp * log(hi/lo)
    ramp = np.append(np.linspace(1, 0, n) ** rho, 0.0)
    amp = (
        1.0 + (0.0 if rho == 1.0 else 1.0) * ramp * math.log(hi / lo) + np.abs(np.log(ref + 1e-30))
    )
    _close(ours, ref, np.where(ref > 0, amp, 1.0))


@settings_
@given(
    n=n_st,
    beta_d=st.floats(1.0, 30.0),
    beta_min=st.floats(0.01, 1.0),
    eps_s=st.floats(1e-4, 0.1),
)
def test_vp(n: int, beta_d: float, beta_min: float, eps_s: float) -> None:
    ref = K.get_sigmas_vp(n, beta_d, beta_min, eps_s).numpy()
    ours = kd.get_sigmas_vp(n, beta_d, beta_min, eps_s)
    # sigma = sqrt(e - 1): a relative error d in e = exp(.) is d * e / (2 (e - 1)) in sigma
    e = 1.0 + ref.astype(np.float64) ** 2
    amp = np.where(ref > 0, 1.0 + e / (2.0 * np.maximum(e - 1.0, 1e-30)), 1.0)
    _close(ours, ref, amp)


def test_defaults_bit_exact_where_torch_is_exact() -> None:
    """Integer rho and the default VP: exp / integer pow within 1 ulp, most levels identical."""
    ref = K.get_sigmas_karras(10, 0.0291675, 14.614642, 7.0).numpy()
    ours = kd.get_sigmas_karras(10, 0.0291675, 14.614642, 7.0)
    ulps = np.abs(ours.view(np.int32).astype(np.int64) - ref.view(np.int32).astype(np.int64))
    assert ulps.max() <= 1


@pytest.mark.parametrize(
    ("name", "opts"),
    [
        ("k-diffusion:karras", {}),
        ("k-diffusion:exponential", {"sigma_min": 0.03}),
        ("k-diffusion:polyexponential", {"rho": 2.0}),
        ("k-diffusion:vp", {}),
    ],
)
@pytest.mark.parametrize("steps", [1, 2, 10, 50])
def test_registered(name: str, opts: dict[str, float], steps: int) -> None:
    g = get_builtin(name).build(steps, **opts)
    assert g.tool_sigmas.dtype == np.float32 and g.tool_sigmas.size == steps + 1
    assert g.units == "sigma" and g.tool_timesteps is None
    assert g.executed_steps == steps
    assert np.array_equal(g.sigmas, g.tool_sigmas.astype(np.float64))
    assert not g.tool_sigmas.flags.writeable


def test_refusals() -> None:
    with pytest.raises(ValueError, match="sigma_min"):
        get_builtin("k-diffusion:exponential").build(5, sigma_min=0.0)
    with pytest.raises(ValueError, match="eps_s"):
        get_builtin("k-diffusion:vp").build(5, eps_s=1.5)
    with pytest.raises(ValueError, match="rounds to 0"):
        get_builtin("k-diffusion:vp").build(5, beta_min=0.0, beta_d=1e-6, eps_s=1e-6)
