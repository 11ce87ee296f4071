"""Flow-matching models in the Gaussian theory (docs/theory/flow.md)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import sympy as sp

from symsched.export import export, flow_levels
from symsched.flow import derive, shift
from symsched.gaussian import coupling, exact
from symsched.gaussian.compress import exact_grouping
from symsched.schedules import Schedule
from symsched_verify import tolerances as tol


def test_noise_level_and_shift_maps() -> None:
    t, rho, s, mu, sig = sp.symbols("t rho s mu sigma", positive=True)
    assert sp.simplify(derive.noise_level_of_flow_time() - t / (1 - t)) == 0
    assert sp.simplify(derive.linear_shift_rho() - s * rho) == 0
    assert sp.simplify(derive.exponential_shift_rho() - sp.exp(mu) * rho**sig) == 0


def test_euler_in_flow_time_is_ddim_and_heun_is_not_heun_in_rho() -> None:
    assert derive.euler_flow_minus_ddim() == 0
    ta, tb = derive.t_a, derive.t_b
    d_a, d_b = sp.symbols("D_a D_b", real=True)
    typed = (d_a - d_b) * (ta - tb) ** 2 / (2 * tb * (1 - ta) * (1 - tb))  # written here
    assert sp.simplify(derive.heun_flow_minus_heun_rho() - typed) == 0


def _euler_flow_variance(lam: float, t: np.ndarray) -> float:
    """Euler on the exact Gaussian velocity in flow time, written from x_t = (1-t) x0 + t eps
    alone: v(x, t) = E[eps - x0 | x_t] = c(t) x, c from the joint Gaussian of (x_t, eps - x0)."""
    var = t[0] ** 2 + (1 - t[0]) ** 2 * lam  # Var x_t at the start (the marginal)
    for a, b in itertools.pairwise(t):
        vx = (1 - a) ** 2 * lam + a**2  # Var x_a
        cov = a - (1 - a) * lam  # Cov(x_a, eps - x0)
        g = 1 + (b - a) * cov / vx
        var *= g * g
    return float(var)


@pytest.mark.parametrize("lam", [0.01, 0.3, 4.0])
def test_euler_flow_matches_the_exact_ddim_ratio(lam: float) -> None:
    t = np.array([0.999, 0.8, 0.5, 0.2, 0.05])
    rho = flow_levels(t)
    r = exact.variance_ratios([lam], rho, sampler="ddim")[0]
    var_scaled = _euler_flow_variance(lam, t) / (1 - t[-1]) ** 2  # in xbar = x / (1 - t)
    assert var_scaled / (lam + rho[-1] ** 2) == pytest.approx(r, rel=1e-12)


def test_shifted_grid_exports_as_uniform_flow_time() -> None:
    grid = shift.shifted_uniform_grid(8, 3.0)
    assert math.isinf(grid[0]) and grid[-1] == 0.0
    np.testing.assert_allclose(grid[1:-1], 3.0 * flow_levels(np.linspace(1, 0, 9))[1:-1])
    ex = export(Schedule("explicit", grid, {}), "flow-matching", shift=3.0)
    np.testing.assert_allclose(json.loads(ex.text), np.linspace(1, 0, 9)[:-1], rtol=1e-12)


def test_optimal_shift_is_certified() -> None:
    lam = np.geomspace(1e-2, 10.0, 40)
    opt = shift.optimal_shift(lam, 10)
    kl = exact.kl(lam, opt.sigmas).kl_source_output
    assert opt.kl == pytest.approx(kl, rel=1e-12)
    for factor in (math.exp(-0.01), math.exp(0.01)):
        grid = shift.shifted_uniform_grid(10, opt.shift * factor)
        assert exact.kl(lam, grid).kl_source_output > kl
    assert opt.curvature > 0
    assert (
        abs(math.log(opt.scan_best / opt.shift))
        <= (shift.LOG_SHIFT_RANGE[1] - shift.LOG_SHIFT_RANGE[0]) / 240
    )
    # a spectrum ten times larger wants a larger shift (the levels scale with the data std)
    assert shift.optimal_shift(lam * 100.0, 10).shift > opt.shift


def test_bad_shift_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="shift"):
        shift.shifted_uniform_grid(4, -1.0)
    with pytest.raises(ValueError, match="outside"):
        shift.optimal_shift(np.full(3, 1e-30), 4)


def test_closed_form_angle_length_matches_the_quadrature() -> None:
    from symsched.gaussian import asymptotics

    lam = np.array([0.01, 0.2, 3.0])
    s_value = 0.7
    co = asymptotics.coefficients(lam, shift.flow_shift_family(s_value), method="quadrature")
    a = sp.Symbol("a", positive=True)
    j = sp.lambdify(a, derive.shifted_flow_angle_length())(s_value / np.sqrt(lam))
    np.testing.assert_allclose(co.J, j, rtol=1e-9)


def test_optimal_shift_converges_to_the_limit_and_the_expansion_corrects_it() -> None:
    from symsched.datasets import dataset_spectrum

    lam = dataset_spectrum("digits")
    s_inf = shift.limit_shift(lam)
    gaps = []
    for n in (10, 20, 40):
        s_n = shift.optimal_shift(lam, n).shift
        s_em = shift.expansion_shift(lam, n)
        gap_limit, gap_em = abs(math.log(s_n / s_inf)), abs(math.log(s_n / s_em))
        assert gap_em < gap_limit  # the N^-3, N^-4 terms move the optimum the right way
        gaps.append(gap_limit)
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-4


def _heun_flow_variance(lam: float, t: np.ndarray) -> float:
    """Heun in flow time on the exact Gaussian velocity, written from x_t = (1-t) x0 + t eps
    alone (as diffusers' FlowMatchHeunDiscreteScheduler runs it): Euler predictor, the mean of the
    two velocities as corrector, the Euler step alone to t = 0; the start is the marginal at t[0]
    (pure noise at t = 1)."""

    def c(tt: float) -> float:  # v(x, t) = c(t) x
        return (tt - (1 - tt) * lam) / ((1 - tt) ** 2 * lam + tt**2)

    var = t[0] ** 2 + (1 - t[0]) ** 2 * lam
    for a, b in itertools.pairwise(t):
        g = 1 + (b - a) * c(a)
        if b > 0:
            g = 1 + (b - a) / 2 * (c(a) + c(b) * g)
        var *= g * g
    return float(var)


@pytest.mark.parametrize("lam", [0.01, 0.3, 4.0])
@pytest.mark.parametrize(
    "t", [[0.999, 0.8, 0.5, 0.2, 0.05], [1.0, 0.9, 0.6, 0.3, 0.0], [1.0, 0.5, 0.0], [0.9, 0.4]]
)
def test_heun_in_flow_time_is_the_flow_heun_closed_form(lam: float, t: list[float]) -> None:
    tt = np.array(t)
    rho = flow_levels(tt)
    r = exact.variance_ratios([lam], rho, sampler="flow-heun")[0]
    var_scaled = _heun_flow_variance(lam, tt) / (1 - tt[-1]) ** 2  # in xbar = x / (1 - t)
    assert var_scaled / (lam + rho[-1] ** 2) == pytest.approx(r, rel=tol.FLOW_HEUN_LOOP_RTOL)


def test_flow_heun_gain_is_heun_minus_the_flow_correction() -> None:
    from symsched.samplers import flow_heun, heun
    from symsched.symbols import a, b, lam

    g, to_zero = flow_heun.flow_heun_gain()
    typed = lam * (a - b) ** 3 / (2 * (1 + a) * (lam + a**2) * (lam + b**2))  # written here
    assert sp.simplify(heun.heun_gain()[0] - g - typed) == 0
    assert sp.simplify(to_zero - lam / (lam + a**2)) == 0
    # from t = 1 the first step is finite: sqrt(lam + a^2) g -> (2b^3 + 3b lam + lam) / (2 T(b))
    lim = sp.limit(sp.sqrt(lam + a**2) * g, a, sp.oo)
    assert sp.simplify(lim - (2 * b**3 + 3 * b * lam + lam) / (2 * (lam + b**2))) == 0


def test_flow_heun_differs_from_heun_and_both_are_second_order() -> None:
    from symsched.gaussian import tangent

    lam = np.array([0.02, 0.3, 2.0])
    grid = tangent.tangent_sigmas(6, 0.5, 0.01, 50.0)
    fh = exact.log_variance_ratios(lam, grid, sampler="flow-heun")
    he = exact.log_variance_ratios(lam, grid, sampler="heun")
    assert np.min(np.abs(fh - he)) > 1e3 * tol.FLOW_HEUN_LOOP_RTOL * np.max(np.abs(he))
    ladder = (80, 160, 320, 640)
    for name in ("flow-heun", "heun"):
        vals = [
            float(
                np.max(
                    np.abs(
                        exact.log_variance_ratios(
                            lam, tangent.tangent_sigmas(n, 0.5, 0.01, 50.0), sampler=name
                        )
                    )
                )
            )
            for n in ladder
        ]
        slope = float(np.polyfit(np.log(ladder), np.log(vals), 1)[0])
        assert abs(slope + 2.0) <= tol.FLOW_HEUN_ORDER_BAND, (name, slope)


def test_flow_heun_network_sampler_is_its_closed_form() -> None:
    torch = pytest.importorskip("torch")
    from symsched.samplers import flow_heun

    lam = torch.tensor([0.05, 0.7, 3.0], dtype=torch.float64)

    def model(x: torch.Tensor, sigma: float) -> torch.Tensor:  # the exact denoiser, per direction
        return lam * x / (lam + sigma**2)

    grid = np.array([30.0, 4.0, 1.0, 0.2, 0.0])
    out = flow_heun.sample(model, torch.ones(1, 3, dtype=torch.float64), grid)
    q, _ = coupling.gain_ratios(lam.numpy(), grid, sampler="flow-heun")
    gain = q * np.sqrt(lam.numpy() / (lam.numpy() + grid[0] ** 2))  # G = q G*
    np.testing.assert_allclose(out[0].numpy(), gain, rtol=tol.FLOW_HEUN_LOOP_RTOL)


@pytest.mark.parametrize("direction", ["kl_source_output", "kl_output_source"])
@pytest.mark.parametrize("steps", [2, 3, 17])
def test_closed_form_ddim_criterion_and_its_derivatives(direction: str, steps: int) -> None:
    """The module's softplus form of DDIM's ln r (and its exact derivatives in ln s) against the
    sampler's own exact KL and central differences of it."""
    lam = np.geomspace(1e-3, 30.0, 57)
    crit = shift._Criterion(exact_grouping(lam), steps, "ddim", "kl", direction, 1.0)  # type: ignore[arg-type]
    theta, h = 0.37, 1e-4
    f, g, c = crit.derivatives(theta)

    def exact_kl(th: float) -> float:
        grid = shift.shifted_uniform_grid(steps, math.exp(th))
        return float(getattr(exact.kl(lam, grid), direction))

    assert f == pytest.approx(exact_kl(theta), rel=1e-12)
    assert g == pytest.approx((exact_kl(theta + h) - exact_kl(theta - h)) / (2 * h), rel=1e-6)
    fd2 = (exact_kl(theta + h) - 2 * exact_kl(theta) + exact_kl(theta - h)) / h**2
    assert c == pytest.approx(fd2, rel=1e-4)


def test_warm_started_sweep_equals_the_scanned_optima() -> None:
    lam = np.arange(1, 2001, dtype=np.float64) ** -1.0
    lam /= lam.mean()
    sweep = shift.optimal_shifts(lam, range(4, 41))
    assert [o.steps for o in sweep] == list(range(4, 41))
    assert sweep[0].scan_best is not None and all(o.scan_best is None for o in sweep[1:])
    for o in sweep[::9]:
        ref = shift.optimal_shift(lam, o.steps)
        assert o.shift == pytest.approx(ref.shift, rel=1e-9)
        assert abs(o.gradient) < 1e-8 * max(1.0, o.value) and o.curvature > 0
    # a power-law (image-like) spectrum: s* falls with N towards the limit shift
    shifts = [o.shift for o in sweep]
    assert all(a > b for a, b in itertools.pairwise(shifts))
    assert shifts[-1] > shift.limit_shift(lam)


@pytest.mark.parametrize(
    ("sampler", "objective"), [("dpmpp-2m", None), ("ddim", "coupling"), ("ancestral", None)]
)
def test_optimal_shift_of_other_samplers_and_criteria_is_certified(
    sampler: str, objective: str | None
) -> None:
    from symsched.gaussian.coupling import criteria

    lam = np.geomspace(0.01, 5.0, 30)
    opt = shift.optimal_shift(lam, 8, sampler=sampler, objective=objective)  # type: ignore[arg-type]
    expected = "kl" if sampler in ("ddim", "ancestral") and objective is None else "coupling"
    assert opt.objective == expected
    for factor in (math.exp(-0.01), math.exp(0.01)):
        c = criteria(lam, shift.shifted_uniform_grid(8, opt.shift * factor), sampler=sampler)
        worse = c.coupling if opt.objective == "coupling" else c.kl_source_output
        assert worse > opt.value
    value = opt.criteria.coupling if opt.objective == "coupling" else opt.criteria.kl_source_output
    assert opt.value == pytest.approx(value, rel=1e-10)


def test_exponent_family_and_its_grid() -> None:
    lam = np.geomspace(0.01, 5.0, 30)
    grid = shift.shifted_uniform_grid(6, 2.0, exponent=0.7)
    c = (6 - np.arange(1, 6)) / np.arange(1, 6)
    np.testing.assert_allclose(grid[1:-1], 2.0 * c**0.7, rtol=1e-14)
    plain, bent = shift.optimal_shift(lam, 8), shift.optimal_shift(lam, 8, exponent=0.7)
    assert bent.exponent == 0.7 and bent.curvature > 0
    assert bent.value != pytest.approx(plain.value, rel=1e-6)  # a different family, optimised


def test_the_shift_family_loses_little_under_euler_and_much_under_dpm_solver() -> None:
    lam = np.arange(1, 301, dtype=np.float64) ** -1.0
    lam /= lam.mean()
    euler = shift.family_gap(lam, 10)
    assert 1.0 - 1e-9 <= euler.ratio < 1.25
    dpm = shift.family_gap(lam, 10, sampler="dpmpp-2m")
    assert dpm.ratio > 3.0  # a 2nd-order solver's optimum is far from any uniform-t grid


def test_bad_flow_requests_are_refused() -> None:
    lam = [0.5, 1.0]
    with pytest.raises(ValueError, match="steps >= 2"):
        shift.optimal_shift(lam, 1)
    with pytest.raises(ValueError, match="finite sigma_0"):
        shift.optimal_shift(lam, 4, sampler="heun")
    with pytest.raises(ValueError, match="stochastic"):
        shift.optimal_shift(lam, 4, sampler="ancestral", objective="coupling")
    with pytest.raises(ValueError, match="exponent"):
        shift.shifted_uniform_grid(4, 1.0, exponent=0.0)


def test_freeing_the_exponent_recovers_most_of_the_gap_on_digits() -> None:
    from symsched.datasets import dataset_spectrum

    lam = dataset_spectrum("digits")
    free_exp = shift.optimal_exponential_shift(lam, 10)
    plain = shift.optimal_shift(lam, 10)
    gap = shift.family_gap(lam, 10)
    assert free_exp.exponent != pytest.approx(1.0, abs=0.05)  # pipelines' exponent 1 is not best
    assert gap.unrestricted_value <= free_exp.value < plain.value
    # the exponent closes more than half of the way to the unrestricted optimum
    assert (plain.value - free_exp.value) > 0.5 * (plain.value - gap.unrestricted_value)
    for factor in (0.97, 1.03):  # the exponent is a minimum of the profile
        other = shift.optimal_shift(lam, 10, exponent=free_exp.exponent * factor)
        assert other.value > free_exp.value
