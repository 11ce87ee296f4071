"""Schedule families against hand-typed published formulas (k-diffusion, EDM, Nichol-Dhariwal)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symsched.schedules import families, family_of
from symsched_verify import tolerances as tol


def test_karras_matches_kdiffusion_formula() -> None:
    # k-diffusion get_sigmas_karras without the appended zero
    # (docs/conventions.md#k-diffusion-and-comfyui)
    n, lo, hi, rho = 10, 0.002, 80.0, 7.0
    ramp = np.linspace(0, 1, n + 1)
    want = (hi ** (1 / rho) + ramp * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho
    np.testing.assert_allclose(families.karras(lo, hi, rho).grid(n), want, rtol=1e-14)


def test_loglinear_matches_kdiffusion_exponential() -> None:
    n, lo, hi = 7, 0.01, 20.0
    want = np.exp(np.linspace(math.log(hi), math.log(lo), n + 1))
    np.testing.assert_allclose(families.loglinear(lo, hi).grid(n), want, rtol=1e-14)


def test_vp_linear_matches_kdiffusion_vp() -> None:
    # get_sigmas_vp(n, beta_d=19.9, beta_min=0.1, eps_s=1e-3):
    # sqrt(exp(beta_d t^2/2 + beta_min t) - 1)
    n = 9
    tt = np.linspace(1, 1e-3, n + 1)
    x = 19.9 * tt**2 / 2 + 0.1 * tt
    want = np.sqrt(np.exp(x) - 1)
    # the oracle's exp(x) - 1 cancels: relative error ~ eps / x (ours uses expm1); sqrt halves it
    rtol = 4 * tol.EPS64 / x.min()
    np.testing.assert_allclose(families.vp_linear().grid(n), want, rtol=rtol)


def test_cosine_matches_nichol_dhariwal() -> None:
    s = 0.008
    n = 6
    tt = np.linspace(1, 0, n + 1)[1:-1]
    f = np.cos((tt + s) / (1 + s) * np.pi / 2) ** 2
    alpha_bar = f / math.cos(s / (1 + s) * np.pi / 2) ** 2
    want = np.sqrt(1 / alpha_bar - 1)
    grid = families.cosine().grid(n)
    assert grid[0] == math.inf and grid[-1] == 0.0
    np.testing.assert_allclose(grid[1:-1], want, rtol=1e-13)


def test_tangent_is_uniform_in_angle() -> None:
    c, lo, hi, n = 0.7, 0.01, 50.0, 12
    grid = families.tangent(c, lo, hi).grid(n)
    phis = np.arctan(grid / c)
    np.testing.assert_allclose(np.diff(phis), np.full(n, np.diff(phis)[0]), rtol=1e-12)
    assert grid[0] == hi and grid[-1] == lo


@given(st.floats(0.0015, 0.99), st.floats(0.01, 0.5))
def test_time_inverse_maps_round_trip(t: float, s: float) -> None:
    for fam in (families.vp_linear(), families.cosine(s)):
        rho_t = fam.rho_of_t
        level = float(
            families.numeric.lambdify(
                (families.t, *sorted(fam.values, key=lambda q: q.name)), rho_t
            )(t, *(fam.values[q] for q in sorted(fam.values, key=lambda q: q.name)))
        )
        assert fam.t_of(np.array([level]))[0] == pytest.approx(t, rel=1e-10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "karras", "sigma_max": math.inf}, "finite sigma_max"),
        ({"name": "loglinear", "sigma_min": 0.0}, "0 < sigma_min"),
        ({"name": "karras", "sigma_min": 5.0, "sigma_max": 1.0}, "sigma_min must be < sigma_max"),
        ({"name": "tangent"}, "exactly one of c or eigenvalues"),
        ({"name": "tangent", "c": -1.0}, "c must be > 0"),
        ({"name": "nope"}, "unknown method 'nope'; choose one of ays, cosine"),
        ({"name": "karras", "c": 1.0}, "method karras does not take c; it takes rho, sigma_min"),
        ({"name": "vp-linear", "beta_min": 5.0, "beta_max": 1.0}, "beta_max must be"),
        ({"name": "vp-linear", "t_min": 0.01, "sigma_min": 0.1}, "t_min and sigma_min both"),
        ({"name": "karras", "rho": "7"}, "rho must be a real number"),
    ],
)
def test_bad_family_parameters(kwargs: dict, match: str) -> None:
    name = kwargs.pop("name")
    with pytest.raises((ValueError, TypeError), match=match):
        family_of(name, kwargs)


def test_grid_rejects_zero_steps() -> None:
    with pytest.raises(ValueError, match="steps must be >= 1"):
        families.karras().grid(0)
    with pytest.raises(TypeError, match="steps must be an integer"):
        families.karras().grid(2.5)  # type: ignore[arg-type]


@given(
    st.integers(1, 60), st.sampled_from(["tangent", "karras", "loglinear", "vp-linear", "cosine"])
)
def test_progress_inverse_round_trips(n: int, name: str) -> None:
    params = {"c": 0.8} if name == "tangent" else {}
    fam = family_of(name, {"sigma_min": 0.01, "sigma_max": 50.0, **params})
    u_back = fam.progress_of(fam.grid(n))
    np.testing.assert_allclose(u_back, np.arange(n + 1) / n, atol=1e-12)


def test_logsnr_of_noise_level() -> None:
    import sympy as sp

    rho = sp.Symbol("rho", positive=True)
    assert sp.simplify(families.logsnr(rho) - sp.log(1 / rho**2)) == 0
