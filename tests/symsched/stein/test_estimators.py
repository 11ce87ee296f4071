"""Estimators: reproducibility, common random numbers, standard errors, warnings (§3.1)."""

from __future__ import annotations

import numpy as np
import pytest

from symsched import stein
from symsched.models import GaussianModel, load_model


def test_monte_carlo_is_reproducible_and_seed_dependent() -> None:
    m = GaussianModel.isotropic(0.5, 4)
    lev = stein.probe_levels(0.05, 5.0, 8)
    a = stein.estimate_costs(m, lev, estimator="monte-carlo", samples=64, seed=3)
    b = stein.estimate_costs(m, lev, estimator="monte-carlo", samples=64, seed=3)
    c = stein.estimate_costs(m, lev, estimator="monte-carlo", samples=64, seed=4)
    assert np.array_equal(a.costs, b.costs) and not np.array_equal(a.costs, c.costs)
    assert a.evaluations == 2 * 64 * 8 and np.all(a.stderr > 0)


def test_common_noise_makes_point_mass_costs_equal_on_a_geometric_grid() -> None:
    m = load_model("gaussian", c=1e-8, dim=3)  # effectively a point mass at 0
    lev = stein.probe_levels(0.01, 10.0, 20)
    crn = stein.estimate_costs(
        m, lev, estimator="monte-carlo", samples=16, seed=0, common_noise=True
    )
    ind = stein.estimate_costs(
        m, lev, estimator="monte-carlo", samples=16, seed=0, common_noise=False
    )
    assert np.ptp(crn.costs) / crn.costs.mean() < 1e-6 < np.ptp(ind.costs) / ind.costs.mean()


def test_jvp_metric_matches_closed_form_and_counts_evaluations() -> None:
    m = GaussianModel(np.array([0.2, 1.0, 3.0]))
    lev = np.array([4.0, 1.0, 0.3])
    delta, se, evals = stein.estimate_metric(m, lev, samples=4000, seed=1)
    exact = m.exact_local_metric(lev, process="ve")
    assert np.all(np.abs(delta - exact) <= 5 * se) and evals == 2 * 4000 * 3


def test_few_samples_warn() -> None:
    with pytest.warns(stein.SteinAccuracyWarning, match="increase --samples"):
        stein.estimate_costs(
            load_model("gm"), stein.probe_levels(0.1, 10.0, 10), estimator="monte-carlo", samples=3
        )


def test_bad_estimator_arguments() -> None:
    m = GaussianModel.isotropic(1.0, 2)
    with pytest.raises(ValueError, match="estimator"):
        stein.estimate_costs(m, [2.0, 1.0], estimator="mcmc")
    with pytest.raises(ValueError, match="source"):
        stein.estimate_costs(m, [2.0, 1.0], estimator="jvp", weight="source")
    with pytest.raises(ValueError, match="samples"):
        stein.estimate_costs(m, [2.0, 1.0], estimator="monte-carlo", samples=1)


def test_stein_schedule_result_and_json() -> None:
    res = stein.stein_schedule(
        load_model("gaussian", c=0.5, dim=2), 8, estimator="exact", probe=200
    )
    js = res.to_json()
    assert js["method"] == "stein" and js["steps"] == 8 and len(js["sigmas"]) == 9
    assert len(js["interval_costs"]) == 8 and js["total_length"] > 0
    assert js["params"]["sigma_max"] == 80.0 and js["sigmas"][-1] == 0.002
    with pytest.raises(ValueError, match="probe_levels must be >= 4"):
        stein.stein_schedule(load_model("two-point"), 10, probe=20)


def test_control_variate_is_unbiased_and_reduces_variance() -> None:
    m = load_model("gm", p=0.7, m=1.0, mode_sigma=0.3, dim=4)
    lev = np.array([8.0, 2.0, 0.7, 0.2, 0.05])
    plain, se_p, _ = stein.estimate_metric(m, lev, samples=4000, seed=1, common_noise=False)
    cv, se_c, _ = stein.estimate_metric(
        m, lev, samples=4000, seed=2, common_noise=False, control_variate=True
    )
    assert np.all(np.abs(plain - cv) <= 5 * np.sqrt(se_p**2 + se_c**2))
    assert np.all(se_c <= se_p) and np.median(se_p / se_c) > 2  # measured 2.3 (35 at sigma = 8)


def test_control_variate_is_exact_on_gaussian_data() -> None:
    m = GaussianModel(np.array([0.05, 0.5, 4.0]))
    lev = np.array([10.0, 1.0, 0.1])
    cv, _, _ = stein.estimate_metric(m, lev, samples=16, seed=0, control_variate=True)
    assert np.allclose(cv, m.exact_local_metric(lev, process="ve"), rtol=1e-9)
    with pytest.raises(ValueError, match="process='ve'"):
        stein.estimate_metric(m, lev, samples=16, process="vp", control_variate=True)
    with pytest.raises(ValueError, match="jvp"):
        stein.estimate_costs(m, lev, estimator="monte-carlo", samples=4, control_variate=True)
