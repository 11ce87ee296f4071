"""Behaviour checks of the Stein cost estimators and the end-to-end schedule (mutation testing).

Each check compares with an independent oracle: the closed forms of the Gaussian model (exact
costs and local metric), exact costs of toy score models built here (a point mass, whose JVP
metric is :math:`4d/\\rho^2`; a score constant in :math:`x`, whose finite-step costs are
deterministic), the delta method re-derived by a numerical Jacobian of the public
``length_from_metric``, the spread of the estimates over seeds for their standard errors, a
simulated linear model for the control-variate regression, scale equivariance of the Gaussian
surrogate, or the documented defaults and validation errors (docs/theory/stein.md).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pytest
import torch

from symsched import stein
from symsched._typing import FloatArray
from symsched.models import GaussianModel, ModelError, load_model
from symsched.models._base import ScoreModel
from symsched.stein import _estimate as E
from symsched.stein import _schedule as S

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
T = TypeVar("T")


class _Toy(ScoreModel):
    """A score model given by its score ``fn(x, sigma)``; data: zeros, or N(0, I) if ``normal``."""

    def __init__(
        self,
        fn: ScoreFn,
        dim: int = 2,
        *,
        normal: bool = False,
        sigma_range: tuple[float, float] = (0.0, math.inf),
    ) -> None:
        super().__init__(dim, name="toy", sigma_range=sigma_range)
        self._fn, self._normal = fn, normal

    def _sample_data(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        if self._normal:
            return torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return torch.zeros(n, self.dim, dtype=torch.float64)

    def _denoise(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return x + sigma[:, None] ** 2 * self._fn(x, sigma)

    def _score(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self._fn(x, sigma)


def _point_mass(dim: int = 2) -> _Toy:
    # data at 0: the exact score -x / sigma^2; no data moments, so only the denoising control
    return _Toy(lambda x, s: -x / s[:, None] ** 2, dim)


def _constant_in_x(dim: int = 2) -> _Toy:
    # s(x, sigma) = (1 / sigma) 1: every sample of a finite step has the same cost
    return _Toy(lambda x, s: torch.ones_like(x) / s[:, None], dim)


def _quiet(fn: Callable[[], T]) -> T:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stein.SteinAccuracyWarning)
        return fn()


# --- CostEstimate.total_length_stderr -------------------------------------------------------------


def test_total_length_stderr_is_the_delta_method_over_positive_costs() -> None:
    costs = np.array([4.0, 0.25, 0.0, -1.0])
    stderr = np.array([0.4, 0.1, 0.3, 0.2])
    est = E.CostEstimate(costs, costs, stderr, "monte-carlo", 8, 64, "ve", "target", 0)
    # d sqrt(c) / dc = 1 / (2 sqrt c); intervals of cost <= 0 have length 0 and contribute none
    expected = math.hypot(0.4 / (2 * 2.0), 0.1 / (2 * 0.5))
    assert est.total_length_stderr == pytest.approx(expected, rel=1e-14)
    # independent check: the spread of the total length of simulated costs ~ N(c, se^2) of
    # the positive intervals (se/c <= 0.4 keeps the costs positive and the linearisation good);
    # 20000 draws estimate a std to 1/sqrt(40000) = 0.5 %, the delta method's curvature bias is
    # ~ (se/c)^2 / 8 = 2 %, so 6 % allows both
    rng = np.random.default_rng(0)
    draws = np.abs(costs[:2] + stderr[:2] * rng.standard_normal((20000, 2)))
    spread = np.sqrt(draws).sum(1).std(ddof=1)
    assert est.total_length_stderr == pytest.approx(spread, rel=0.06)


def test_total_length_stderr_is_none_for_the_exact_estimator() -> None:
    est = stein.estimate_costs(GaussianModel.isotropic(1.0, 2), [2.0, 1.0, 0.5], estimator="exact")
    assert est.stderr is None and est.total_length_stderr is None
    # an exact estimate spends no samples and no score evaluations
    assert est.samples == 0 and est.evaluations == 0


# --- _noised, _progress, sample counts ------------------------------------------------------------


def test_noised_is_data_plus_sigma_times_noise_in_the_process_scale() -> None:
    # the module's x_k = s_i y_k + sigma_i eps_k: VE x = y + rho eps; VP the same over sqrt(1+rho^2)
    y = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64)
    eps = torch.tensor([[0.25, 1.0], [-1.5, 0.5]], dtype=torch.float64)
    rho = torch.tensor([2.0, 0.5], dtype=torch.float64)
    ve = E._noised(y, eps, rho, "ve")
    expected = np.array([[1.5, 0.0], [-0.25, 3.25]])
    np.testing.assert_allclose(ve.numpy(), expected, rtol=1e-15)
    vp = E._noised(y, eps, rho, "vp")
    np.testing.assert_allclose(
        vp.numpy(), expected / np.sqrt(1 + np.array([4.0, 0.25]))[:, None], rtol=1e-15
    )


def test_progress_bar_is_shown_only_when_asked_and_cleared_at_the_end(
    capsys: pytest.CaptureFixture[str],
) -> None:
    m = GaussianModel.isotropic(1.0, 2)
    lev = stein.probe_levels(0.5, 2.0, 4)
    _quiet(lambda: stein.estimate_costs(m, lev, estimator="monte-carlo", samples=8))
    assert capsys.readouterr().err == ""
    _quiet(lambda: stein.estimate_costs(m, lev, estimator="monte-carlo", samples=8, progress=True))
    err = capsys.readouterr().err
    # shown on stderr, and not left behind: the bar's line is blanked, no final newline
    assert "monte-carlo" in err and err.endswith("\r") and "\n" not in err


def test_two_samples_suffice_and_give_finite_standard_errors() -> None:
    m = GaussianModel.isotropic(1.0, 2)
    lev = np.array([2.0, 1.0, 0.5])
    mc = _quiet(lambda: stein.estimate_costs(m, lev, estimator="monte-carlo", samples=2))
    # two samples q1, q2 >= 0: cost (q1 + q2)/2, standard error |q1 - q2| / 2 <= cost
    assert mc.stderr is not None and np.all(np.isfinite(mc.stderr))
    assert np.all(mc.stderr > 0) and np.all(mc.stderr <= mc.costs)
    _, se, evals = stein.estimate_metric(m, lev, samples=2, seed=1)
    assert np.all(np.isfinite(se)) and np.all(se > 0) and evals == 2 * 2 * 3


def test_huge_sample_counts_still_run_one_interval_per_call() -> None:
    # more than 8192 samples: fewer than one interval fits a batch of rows, one is still taken
    m = GaussianModel.isotropic(1.0, 1)
    lev = np.array([2.0, 1.0])
    mc = stein.estimate_costs(m, lev, estimator="monte-carlo", samples=8193)
    exact = m.exact_interval_costs(lev, process="ve", weight="target")
    assert mc.stderr is not None
    assert abs(mc.costs[0] - exact[0]) <= 5 * mc.stderr[0]  # 5 sigma of the estimate's own se
    delta, se, _ = stein.estimate_metric(m, [1.0], samples=8193)
    assert abs(delta[0] - m.exact_local_metric([1.0], process="ve")[0]) <= 5 * se[0]


# --- estimate_costs: the JVP path -----------------------------------------------------------------


def test_jvp_control_variate_default_follows_the_process() -> None:
    m = GaussianModel(np.array([0.3, 2.0]))
    lev = np.array([3.0, 1.0, 0.3])
    ve = stein.estimate_costs(m, lev, estimator="jvp", samples=16)
    assert ve.extra["control_variate"] is True
    # for Gaussian data the controls explain every sample: the metric is the closed form
    np.testing.assert_allclose(ve.extra["metric"], m.exact_local_metric(lev, process="ve"), 1e-9)
    vp = _quiet(lambda: stein.estimate_costs(m, lev, estimator="jvp", samples=16, process="vp"))
    assert vp.extra["control_variate"] is False and vp.process == "vp"


def _cost_of_metric(delta: FloatArray, lev: FloatArray) -> FloatArray:
    out: FloatArray = stein.length_from_metric(delta, lev) ** 2
    return out


def test_jvp_costs_and_stderr_are_the_delta_method_of_the_metric() -> None:
    # levels where the metric is below 1 too (it is 8 rho^4/(1+rho^2)^3 here)
    m = GaussianModel.isotropic(1.0, 2)
    lev = stein.probe_levels(0.05, 20.0, 6)
    est = _quiet(
        lambda: stein.estimate_costs(
            m, lev, estimator="jvp", samples=16, seed=2, control_variate=False
        )
    )
    delta = np.asarray(est.extra["metric"])
    se = np.asarray(est.extra["metric_stderr"])
    assert np.min(delta) < 1e-3 and np.all(se > 0)
    np.testing.assert_allclose(est.costs, _cost_of_metric(delta, lev), rtol=1e-13)
    # delta method from first principles: the Jacobian of the costs in the metric by central
    # differences (relative step 1e-5: truncation ~1e-10, rounding ~1e-11), levels independent
    jac = np.empty((lev.size - 1, lev.size))
    for j in range(lev.size):
        h = 1e-5 * delta[j]
        up, dn = delta.copy(), delta.copy()
        up[j] += h
        dn[j] -= h
        jac[:, j] = (_cost_of_metric(up, lev) - _cost_of_metric(dn, lev)) / (2 * h)
    assert est.stderr is not None
    np.testing.assert_allclose(est.stderr, np.sqrt((jac**2) @ se**2), rtol=1e-7)


def test_metric_stderr_matches_the_spread_over_seeds() -> None:
    m = GaussianModel.isotropic(1.0, 2)
    lev = np.array([2.0, 0.7])
    runs = [stein.estimate_metric(m, lev, samples=16, seed=s) for s in range(40)]
    delta = np.array([r[0] for r in runs])
    se = np.array([r[1] for r in runs])
    # std over 40 seeds: relative error ~ 1/sqrt(2*40) = 11 %; the RMS of 40 reported se's of
    # 16-sample means of a chi-square-like q: a few %; a 0.6-1.6 window is > 3 sigma either way
    ratio = np.sqrt((se**2).mean(0)) / delta.std(0, ddof=1)
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio
    # and unbiased: the mean over seeds within 4 standard errors of the closed form
    exact = m.exact_local_metric(lev, process="ve")
    assert np.all(np.abs(delta.mean(0) - exact) <= 4 * delta.std(0, ddof=1) / math.sqrt(40))


def test_common_noise_reuses_the_draws_across_jvp_levels() -> None:
    # point mass: the per-sample metric is 4 |eps|^2 / rho^2, so rho^2 delta is the same at every
    # level exactly when the same eps serve every level
    m = _point_mass(3)
    lev = stein.probe_levels(0.05, 5.0, 6)
    same, _, _ = stein.estimate_metric(m, lev, samples=8, common_noise=True)
    fresh, _, _ = stein.estimate_metric(m, lev, samples=8, common_noise=False)
    assert np.ptp(same * lev**2) / np.mean(same * lev**2) < 1e-12
    assert np.ptp(fresh * lev**2) / np.mean(fresh * lev**2) > 1e-3


def test_metric_levels_are_validated_as_a_grid_but_one_level_is_allowed() -> None:
    m = GaussianModel.isotropic(1.0, 2)
    for one in (2.0, [2.0]):
        delta, se, evals = stein.estimate_metric(m, one, samples=8)
        assert delta.shape == (1,) and evals == 2 * 8
        assert abs(delta[0] - m.exact_local_metric([2.0], process="ve")[0]) <= 5 * se[0]
    for bad in ([1.0, 2.0], [3.0, 1.0, 2.0]):
        with pytest.raises(ValueError, match="decreasing"):
            stein.estimate_metric(m, bad, samples=8)


def test_point_mass_metric_is_exact_with_the_denoising_control() -> None:
    # no data moments: one control, 4 |eps|^2 / rho^2 - 4 d / rho^2, which explains every sample
    m = _point_mass(2)
    lev = np.array([3.0, 0.5])
    delta, se, _ = stein.estimate_metric(m, lev, samples=8, control_variate=True)
    np.testing.assert_allclose(delta, 4 * 2 / lev**2, rtol=1e-10)
    assert np.all(se <= 1e-10 * delta)


def test_two_controls_leave_a_finite_stderr_with_four_samples() -> None:
    # a mixture with data moments: intercept + two controls are 3 fitted parameters
    m = load_model("gm", p=0.7, m=1.0, mode_sigma=0.3, dim=2)
    _, se, _ = stein.estimate_metric(m, [2.0, 0.5], samples=4, control_variate=True)
    assert np.all(np.isfinite(se)) and np.all(se > 0)


# --- the control-variate regression and the Gaussian surrogate ------------------------------------


def test_regress_out_is_unbiased_with_the_residual_degrees_of_freedom() -> None:
    # q = 3 + 2 c1 - c2 + noise (sd 0.5) in 1500 rows of 6 samples, controls of mean 0
    rng = np.random.default_rng(5)
    c = rng.standard_normal((1500, 6, 2))
    q = 3 + 2 * c[..., 0] - c[..., 1] + 0.5 * rng.standard_normal((1500, 6))
    out, dof = E._regress_out(q, c)
    # the residual variance with dof fitted parameters is unbiased for 0.25: per row it has
    # 6 - 3 = 3 degrees of freedom (relative sd sqrt(2/3) = 82 %), over 1500 rows 2.1 %; 8 %
    # allows ~4 sigma
    assert np.mean(out.var(1, ddof=dof)) == pytest.approx(0.25, rel=0.08)
    # the mean of q - c beta is unbiased for the intercept: per row its sd is about
    # 0.5/sqrt(6) * sqrt(1 + 2/3) (beta estimated) = 0.26, over 1500 rows 0.007; 0.03 is 4 sigma
    assert abs(out.mean(1).mean() - 3) < 0.03
    assert out.var(1).mean() < 0.1 * q.var(1).mean()  # the controls' variance is removed


def _surrogate_samples(
    mean: FloatArray, cov: FloatArray, rho: float, n: int
) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(11)
    y = rng.multivariate_normal(mean, cov, size=n, method="eigh")
    x = torch.as_tensor(y + rho * rng.standard_normal(y.shape))
    return x, torch.full((n,), rho, dtype=torch.float64)


def test_gaussian_surrogate_metric_is_the_mean_of_its_samples() -> None:
    # nonzero mean, correlated covariance: E[q_G(x)] over x = y + rho eps, y ~ N(mu, Sigma)
    mean, cov = np.array([3.0, -2.0]), np.array([[2.0, 0.6], [0.6, 0.5]])
    cv = E._GaussianControlVariate((mean, cov))
    x, rho = _surrogate_samples(mean, cov, 0.7, 40000)
    q = cv.per_sample(x, rho).numpy()
    # 4 standard errors of the 40000-sample mean
    assert abs(q.mean() - cv.mean_metric(np.array([0.7]))[0]) <= 4 * q.std() / 200


def test_gaussian_surrogate_of_a_degenerate_covariance() -> None:
    # data on a line: a zero eigenvalue is floored relative to the largest, the metric stays
    # defined and the mean of the samples' metric is still the closed form
    mean, cov = np.zeros(2), np.diag([1.0, 0.0])
    cv = E._GaussianControlVariate((mean, cov))
    x, rho = _surrogate_samples(mean, cov, 0.5, 40000)
    q = cv.per_sample(x, rho).numpy()
    metric = cv.mean_metric(np.array([0.5]))[0]
    assert np.isfinite(metric) and abs(q.mean() - metric) <= 4 * q.std() / 200


@pytest.mark.parametrize("scale", [1e-10, 1e6])
def test_gaussian_surrogate_is_scale_equivariant(scale: float) -> None:
    # (mu, Sigma, x, rho) -> (s mu, s^2 Sigma, s x, s rho) scales the metric by 1/s^2
    mean, cov = np.array([1.0, -0.5]), np.array([[1.0, 0.3], [0.3, 0.4]])
    x, rho = _surrogate_samples(mean, cov, 0.8, 50)
    base = E._GaussianControlVariate((mean, cov))
    scaled = E._GaussianControlVariate((scale * mean, scale**2 * cov))
    np.testing.assert_allclose(
        scaled.mean_metric(np.array([0.8 * scale])) * scale**2,
        base.mean_metric(np.array([0.8])),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        scaled.per_sample(scale * x, scale * rho).numpy() * scale**2,
        base.per_sample(x, rho).numpy(),
        rtol=1e-9,
    )


# --- estimate_costs: Monte Carlo ------------------------------------------------------------------


@pytest.mark.parametrize("samples", [4, 5])
def test_symmetric_monte_carlo_splits_samples_between_the_directions(samples: int) -> None:
    # s = 1/sigma: forward samples cost rho_{i+1}^2 d (1/rho_{i+1} - 1/rho_i)^2 each, the
    # reversed step's rho_i^2 d (...)^2, so the symmetric cost is their mean, with no spread
    m = _constant_in_x(2)
    lev = np.array([4.0, 2.0, 0.5])
    est = stein.estimate_costs(
        m, lev, estimator="monte-carlo", samples=samples, symmetric=True, common_noise=True
    )
    step = 2 * (1 / lev[1:] - 1 / lev[:-1]) ** 2
    np.testing.assert_allclose(est.costs, 0.5 * (lev[1:] ** 2 + lev[:-1] ** 2) * step, 1e-12)
    assert est.stderr is not None and np.all(est.stderr <= 1e-12 * est.costs)
    assert est.evaluations == 2 * samples * 2
    fwd = stein.estimate_costs(m, lev, estimator="monte-carlo", samples=samples)
    np.testing.assert_allclose(fwd.costs, lev[1:] ** 2 * step, rtol=1e-12)


def test_symmetric_monte_carlo_refuses_three_samples() -> None:
    with pytest.raises(ValueError, match="samples >= 4"):
        stein.estimate_costs(
            _constant_in_x(), [4.0, 2.0], estimator="monte-carlo", samples=3, symmetric=True
        )


@pytest.mark.parametrize("symmetric", [False, True])
def test_monte_carlo_stderr_matches_the_spread_over_seeds(symmetric: bool) -> None:
    m = GaussianModel.isotropic(1.0, 2)
    lev = np.array([2.0, 1.0, 0.5])

    def run(seed: int) -> E.CostEstimate:
        return stein.estimate_costs(
            m, lev, estimator="monte-carlo", samples=16, seed=seed, symmetric=symmetric
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stein.SteinAccuracyWarning)
        runs = [run(s) for s in range(40)]
    costs = np.array([r.costs for r in runs])
    se = np.array([r.stderr for r in runs])
    # as for the metric: 11 % for the std over 40 seeds, a few % for the RMS of the reported se
    ratio = np.sqrt((se**2).mean(0)) / costs.std(0, ddof=1)
    assert np.all((ratio > 0.6) & (ratio < 1.6)), ratio
    exact = m.exact_interval_costs(lev, process="ve", weight="target")
    if symmetric:
        back = m.exact_interval_costs(lev, process="ve", weight="target", reverse=True)
        exact = 0.5 * (exact + back)
    assert np.all(np.abs(costs.mean(0) - exact) <= 4 * costs.std(0, ddof=1) / math.sqrt(40))


def _overflowing(fn: ScoreFn) -> _Toy:
    return _Toy(fn, 2, normal=True)


def test_overflowing_cost_is_refused_naming_its_interval() -> None:
    # the score jumps from 0 to 1e200 between 3 and 2: only that interval's cost overflows
    m = _overflowing(lambda x, s: torch.ones_like(x) * 1e200 * (s < 2.5).to(x.dtype)[:, None])
    with pytest.raises(ModelError, match=r"interval 3 -> 2 overflows"):
        stein.estimate_costs(m, [4.0, 3.0, 2.0, 1.0], estimator="monte-carlo", samples=8)


def test_overflowing_stderr_with_a_finite_cost_is_refused() -> None:
    # half the samples cost ~1e301, the others 0: the mean is finite, the variance overflows
    m = _overflowing(
        lambda x, s: torch.ones_like(x) * 1e150 * ((x[:, :1] > 0) & (s[:, None] < 3.0)).to(x.dtype)
    )
    with pytest.raises(ModelError, match=r"interval 4 -> 2 overflows"):
        stein.estimate_costs(m, [4.0, 2.0], estimator="monte-carlo", samples=64)


# --- _warn_if_noisy -------------------------------------------------------------------------------


def _estimate(costs: list[float], stderr: list[float]) -> E.CostEstimate:
    c = np.array(costs)
    return E.CostEstimate(c, c, np.array(stderr), "monte-carlo", 7, 0, "ve", "target", 0)


def test_accuracy_warning_only_above_the_relative_threshold() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # relative se exactly RELATIVE_SE_WARNING (se 0.1/2 of a length 1): not above it
        at = _estimate([1.0], [0.1])
        assert at.total_length_stderr == E.RELATIVE_SE_WARNING and at.total_length == 1.0
        E._warn_if_noisy(at)
        E._warn_if_noisy(_estimate([100.0], [2.0]))  # se 0.1 of a length 10: 1 %
        E._warn_if_noisy(_estimate([0.0, 0.0], [0.0, 0.0]))  # zero length: nothing to compare
        E._warn_if_noisy(
            stein.estimate_costs(GaussianModel.isotropic(1.0, 1), [2.0, 1.0], estimator="exact")
        )
    # a length 0.1 (below 1) with se 0.05: 50 %
    with pytest.warns(stein.SteinAccuracyWarning, match=r"error 50\.0% with 7 samples"):
        E._warn_if_noisy(_estimate([0.01], [0.01]))
    with pytest.warns(stein.SteinAccuracyWarning):
        E._warn_if_noisy(_estimate([1.0], [0.1000001]))


def test_accuracy_warning_points_at_the_caller() -> None:
    # 4 samples per interval: a relative standard error of 27 % at this seed
    with pytest.warns(stein.SteinAccuracyWarning) as record:
        stein.estimate_costs(
            GaussianModel.isotropic(1.0, 2), [2.0, 1.0, 0.5], estimator="monte-carlo", samples=4
        )
    assert record[0].filename == __file__


# --- the end-to-end schedule ----------------------------------------------------------------------


def test_default_range_clips_to_the_model_range() -> None:
    def default(lo: float, hi: float) -> tuple[float, float]:
        model = _Toy(lambda x, s: -x / s[:, None] ** 2, 1, sigma_range=(lo, hi))
        return S._default_range(model, None, None)

    # [0.002, 80] clipped to the model's range (docs/cli.md)
    assert default(0.0, math.inf) == (0.002, 80.0)
    assert default(0.01, 50.0) == (0.01, 50.0)
    assert default(1e-4, 100.0) == (0.002, 80.0)
    assert S._default_range(_point_mass(1), 0.5, 2.0) == (0.5, 2.0)
    with pytest.raises(ValueError, match="sigma_min must be < sigma_max"):
        S._default_range(_point_mass(1), 1.0, 1.0)


def test_default_probe_levels_is_the_larger_of_128_and_8_steps() -> None:
    assert [S.default_probe_levels(n) for n in (1, 10, 16, 17, 100)] == [128, 128, 128, 136, 800]


def test_probe_count_bounds() -> None:
    m = GaussianModel.isotropic(0.5, 2)
    res = stein.stein_schedule(m, 2, estimator="exact", probe=8)  # exactly 4 N is enough
    assert res.schedule.params["probe_levels"] == 8 and res.probe.levels.size == 9
    with pytest.raises(ValueError, match=r"probe_levels must be >= 4 \* steps \(4\)"):
        stein.stein_schedule(m, 1, estimator="exact", probe=2)


def test_exact_schedule_params_and_json() -> None:
    res = stein.stein_schedule(GaussianModel.isotropic(0.5, 2), 4, estimator="exact", probe=32)
    js = res.to_json()
    assert js["total_length_stderr"] == 0.0 and js["probe_evaluations"] == 0
    assert js["interval_costs_stderr"] == [0.0] * 4
    params = res.schedule.params
    assert params["control_variate"] is False and params["common_noise"] is None


def test_sampled_schedule_output_costs_are_a_separate_monte_carlo_estimate() -> None:
    m = GaussianModel.isotropic(0.5, 2)
    res = _quiet(
        lambda: stein.stein_schedule(m, 4, estimator="monte-carlo", samples=8, probe=16, seed=3)
    )
    params = res.schedule.params
    assert params["control_variate"] is False and params["common_noise"] is False
    # the output intervals: Monte Carlo at max(samples, OUTPUT_SAMPLES) samples, seed + 1
    again = stein.estimate_costs(
        m, res.schedule.sigmas, estimator="monte-carlo", samples=S.OUTPUT_SAMPLES, seed=4
    )
    assert np.array_equal(res.interval_costs, again.costs)
    assert res.interval_stderr is not None and again.stderr is not None
    assert np.array_equal(res.interval_stderr, again.stderr)


def test_reuse_is_refused_for_another_process() -> None:
    m = GaussianModel.isotropic(0.5, 2)
    first = stein.stein_schedule(m, 4, estimator="exact", probe=32)
    vp = stein.stein_schedule(m, 4, estimator="exact", probe=32, process="vp", reuse=first.probe)
    assert vp.probe is not first.probe and vp.probe.process == "vp"
    fresh = stein.stein_schedule(m, 4, estimator="exact", probe=32, process="vp")
    np.testing.assert_array_equal(vp.probe.costs, fresh.probe.costs)
