"""Behaviour of the schedule families that mutation testing found unchecked: the published VP
formulas (DDPM linear-beta, Nichol-Dhariwal cosine) and their inverses against independent numpy
transcriptions, the refusals at each boundary (colliding levels, the log-linear span, beta_max =
beta_min, an empty time range, pure noise) and a zero sigma_min."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from symsched import numeric
from symsched.schedules import families

# both sides are float64 evaluations of the same closed form by different routes (a lambdified
# SymPy derivation against numpy written from the papers' equations): a few ulps apart
RTOL = 1e-12
TIMES = np.array([1e-3, 0.05, 0.3, 0.5, 0.77, 0.95, 1.0])


def _lambdified(pair: tuple[sp.Expr, sp.Expr], *names: str) -> tuple[object, object]:
    q = {s.name: s for e in pair for s in e.free_symbols}
    args_t = [q["t"], *(q[n] for n in names)]
    args_l = [q["level"], *(q[n] for n in names)]
    return numeric.lambdify(args_t, pair[0]), numeric.lambdify(args_l, pair[1])


@pytest.mark.parametrize(("bmin", "bmax"), [(0.1, 20.0), (1e-4, 0.02 * 1000), (0.5, 0.6)])
def test_vp_linear_derivation_is_ddpm_linear_beta(bmin: float, bmax: float) -> None:
    # [song2021sde, Eq. (33)]: alpha_bar(t) = exp(-(bmin t + (bmax - bmin) t^2 / 2))
    rho_of_t, t_of_rho = _lambdified(families.vp_linear_rho_of_t(), "beta_min", "beta_max")
    expo = bmin * TIMES + 0.5 * (bmax - bmin) * TIMES**2
    want = np.sqrt(np.expm1(expo))
    np.testing.assert_allclose(rho_of_t(TIMES, bmin, bmax), want, rtol=RTOL)
    # the inverse: the positive root of (bmax - bmin)/2 t^2 + bmin t - log1p(rho^2) = 0
    c = np.log1p(want**2)
    aq = 0.5 * (bmax - bmin)
    t_want = 2 * c / (bmin + np.sqrt(bmin**2 + 4 * aq * c))
    np.testing.assert_allclose(t_of_rho(want, bmin, bmax), t_want, rtol=1e-10)


@pytest.mark.parametrize("s", [0.008, 0.05, 0.3])
def test_cosine_derivation_is_nichol_dhariwal(s: float) -> None:
    # [nichol2021, Eq. (17)]: alpha_bar(t) = cos^2(theta(t)) / cos^2(theta(0))
    rho_of_t, t_of_rho = _lambdified(families.cosine_rho_of_t(), "s_offset")
    t = TIMES[TIMES < 1.0]
    theta = (t + s) / (1 + s) * math.pi / 2
    theta0 = s / (1 + s) * math.pi / 2
    want = np.sqrt(math.cos(theta0) ** 2 / np.cos(theta) ** 2 - 1)
    np.testing.assert_allclose(rho_of_t(t, s), want, rtol=1e-10)
    t_want = np.arccos(math.cos(theta0) / np.sqrt(1 + want**2)) * 2 / math.pi * (1 + s) - s
    np.testing.assert_allclose(t_of_rho(want, s), t_want, rtol=1e-9, atol=1e-12)


def test_colliding_levels_are_refused_and_distinct_ones_kept() -> None:
    fam = families.loglinear(1.0, 1.0 + 4e-16)  # at most two float64 numbers in between
    with pytest.raises(ValueError, match="strictly decreasing"):
        fam.grid(8)
    grid = families.loglinear(1.0, 2.0).grid(3)
    assert grid.size == 4 and (np.diff(grid) < 0).all()


def test_loglinear_span_limit_is_inclusive() -> None:
    lim = families.LOGLINEAR_MAX_RATIO
    assert families.loglinear(1e-150, 1e-150 * lim).grid(2)[0] == pytest.approx(1e-150 * lim)
    with pytest.raises(ValueError, match="spans at most"):
        families.loglinear(1e-200, 1e-200 * lim * 4)  # a product, not the ratio, would pass


def test_vp_linear_refuses_equal_betas() -> None:
    with pytest.raises(ValueError, match="beta_max must be > beta_min"):
        families.vp_linear(beta_min_value=1.0, beta_max_value=1.0)
    assert families.vp_linear(beta_min_value=1.0, beta_max_value=1.5).grid(2).size == 3


def test_noise_ends_one_ulp_apart_map_to_an_empty_time_range_and_are_refused() -> None:
    # sigma 1 and the next float64 up map to the same diffusion time: an empty range, refused
    with pytest.raises(ValueError, match="empty or outside"):
        families.vp_linear(sigma_min_value=1.0, sigma_max_value=float(np.nextafter(1.0, 2.0)))


def test_zero_sigma_min_maps_to_time_zero() -> None:
    fam = families.vp_linear(sigma_min_value=0.0, sigma_max_value=80.0)
    grid = fam.grid(4)
    assert grid[-1] == 0.0 and fam.params["t_min"] == 0.0 and grid[0] == 80.0
    fam = families.vp_linear(sigma_min_value=0.01, sigma_max_value=80.0)
    assert fam.params["t_min"] > 0 and fam.grid(4)[-1] == pytest.approx(0.01, rel=1e-12)


def test_pure_noise_only_where_the_schedule_reaches_it() -> None:
    fam = families.cosine(sigma_max_value=math.inf)
    assert math.isinf(fam.grid(5)[0]) and fam.params["t_max"] == 1.0
    assert np.isfinite(fam.grid(5)[1:]).all()
    with pytest.raises(ValueError, match="never reaches pure noise"):
        families.vp_linear(sigma_max_value=math.inf)


def test_families_are_equal_by_name_and_values_and_never_to_other_objects() -> None:
    a, b = families.karras(0.002, 80.0, 7.0), families.karras(0.002, 80.0, 7.0)
    assert a == b and (a != b) is False
    assert a != families.karras(0.002, 80.0, 5.0) and a != families.loglinear(0.002, 80.0)
    assert (a == "karras") is False and a.__eq__("karras") is NotImplemented
    u, lo, hi = sp.symbols("u sigma_min sigma_max", positive=True)
    vals = {lo: 0.1, hi: 10.0}
    ends = {"sigma_min": 0.1, "sigma_max": 10.0}
    c1 = families.Family("mine", hi * (lo / hi) ** u, vals, ends)
    c2 = families.Family("mine", hi * (lo / hi) ** u, vals, ends)
    assert c1 == c2 and c1 != families.Family("mine", hi * (lo / hi) ** (u**2), vals)
    assert c1 != families.loglinear(0.1, 10.0)  # a custom expression is not the generated one


def test_a_custom_family_evaluates_its_own_expression_and_inverse() -> None:
    q = families._symbols()  # the families' own symbols (their assumptions make u(rho) unique)
    u, lo, hi = q["u"], q["sigma_min"], q["sigma_max"]
    ends = {"sigma_min": 0.1, "sigma_max": 10.0}
    # linear in u between the ends: rho = hi + u (lo - hi), inverse u = (hi - rho) / (hi - lo)
    fam = families.Family("linear", hi + u * (lo - hi), {lo: 0.1, hi: 10.0}, ends)
    np.testing.assert_allclose(fam(np.array([0.0, 0.5, 1.0])), [10.0, 5.05, 0.1], rtol=1e-15)
    np.testing.assert_allclose(fam.progress_of([10.0, 5.05, 0.1]), [0.0, 0.5, 1.0], atol=1e-15)
    with pytest.raises(ValueError, match="not defined through a diffusion time"):
        fam.t_of([1.0])
    with pytest.raises(ValueError, match="give its expression"):
        families.Family("not-built-in")
    with pytest.raises(ValueError, match="give its parameter values"):
        families.Family("karras")


def test_time_families_map_levels_to_their_diffusion_time() -> None:
    fam = families.vp_linear()
    t = fam.t_of(fam.grid(4))
    assert t[0] == pytest.approx(fam.params["t_max"]) and t[-1] == pytest.approx(
        fam.params["t_min"]
    )
    assert np.all(np.diff(t) < 0)
    with pytest.raises(ValueError, match="not defined through a diffusion time"):
        families.karras(0.002, 80.0, 7.0).t_of([1.0])


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"t_min": 0.01, "sigma_min": 0.1}, "both set the low end"),
        ({"t_max": 0.9, "sigma_max": 10.0}, "both set the high end"),
        ({"t_min": 0.5, "t_max": 0.5}, "t_min must be < t_max"),
    ],
)
def test_time_ends_given_twice_are_refused(kwargs: dict[str, float], fragment: str) -> None:
    ends = {"t_min": None, "sigma_min": None, "t_max": None, "sigma_max": None, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        families.check_time_ends(**ends)


def test_a_user_family_reusing_a_built_in_name_is_not_the_built_in() -> None:
    # equality of a user expression and a generated family compares the expressions, not the
    # names and numbers: another law under the name "karras", with the same parameter values
    # (karras_rho included), is another family
    q = families._symbols()
    u, lo, hi, kr = q["u"], q["sigma_min"], q["sigma_max"], q["karras_rho"]
    builtin = families.karras(0.1, 10.0, 7.0)
    mine = families.Family(
        "karras", hi + u * (lo - hi) + 0 * kr, {lo: 0.1, hi: 10.0, kr: 7.0}, dict(builtin.params)
    )
    assert mine._numbers == builtin._numbers  # the same name, numbers and params
    assert mine != builtin and builtin != mine


def test_a_user_family_with_a_time_map_answers_t_of() -> None:
    # a user family defined through a diffusion time: rho(t) = t, t(rho) = rho, t = 1 - u
    q = families._symbols()
    u, t, level, lo, hi = q["u"], q["t"], q["level"], q["sigma_min"], q["sigma_max"]
    ends = {"sigma_min": 0.1, "sigma_max": 1.0}
    fam = families.Family(
        "identity-time",
        lo + (1 - u) * (hi - lo),
        {lo: 0.1, hi: 1.0},
        ends,
        time=1 - u,
        rho_of_t=t,
        t_of_rho=level,
    )
    np.testing.assert_allclose(fam.t_of(np.array([0.25, 0.5])), [0.25, 0.5], rtol=1e-15)


def test_loglinear_accepts_its_span_limit_exactly_and_refuses_beyond() -> None:
    lo, hi = 0.1, 1e299  # hi / lo rounds to the limit exactly
    assert hi / lo == families.LOGLINEAR_MAX_RATIO
    grid = families.loglinear(lo, hi).grid(4)
    assert grid[0] == hi and grid[-1] == lo and np.isfinite(grid).all()
    with pytest.raises(ValueError, match="spans at most"):
        families.loglinear(lo, math.nextafter(hi, math.inf))


def test_time_family_ranges_accept_their_closed_ends() -> None:
    # t_min = 0 is the clean data end of the VP SDE [song2021sde]; cosine allows t_max = 1 and
    # no more [nichol2021, Eq. (17)]
    assert families.vp_linear(t_min_value=0.0).params["sigma_min"] == 0.0
    assert families.cosine(t_max_value=1.0).params["t_max"] == 1.0
    with pytest.raises(ValueError, match=r"t_max must be <= 1"):
        families.cosine(t_max_value=1.5)


def test_cosine_with_zero_sigma_min_starts_at_time_zero() -> None:
    # the float64 inverse t(0) is -2e-15 (rounding in acos); sigma_min = 0 must map to t = 0
    # exactly, not to a time outside [0, 1] that the range check would refuse
    fam = families.cosine(sigma_min_value=0.0, sigma_max_value=10.0)
    assert fam.params["t_min"] == 0.0 and fam.params["sigma_min"] == 0.0
    grid = fam.grid(6)
    assert grid[0] == 10.0 and grid[-1] == 0.0 and (np.diff(grid) < 0).all()
