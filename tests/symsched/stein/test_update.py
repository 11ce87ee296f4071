"""UpdateSchedule (Algorithm 1), the probe grid and the online blend
(docs/theory/stein.md#updateschedule)."""

from __future__ import annotations

import numpy as np
import pytest

from symsched import stein
from symsched.schedules import families


def test_probe_levels_endpoints_and_order() -> None:
    for kind in ("log", "karras"):
        lev = stein.probe_levels(0.002, 80.0, 100, kind)
        assert lev.size == 101 and lev[0] == 80.0 and lev[-1] == 0.002
        assert np.all(np.diff(lev) < 0)
    assert np.allclose(
        stein.probe_levels(0.002, 80.0, 10, "karras"), families.karras(0.002, 80.0, 7.0).grid(10)
    )


def test_constant_costs_on_geometric_probe_give_geometric_schedule() -> None:
    lev = stein.probe_levels(0.01, 10.0, 300)
    out = stein.update_schedule(lev, np.full(300, 2.5), 10)
    assert out[0] == 10.0 and out[-1] == 0.01
    assert stein.schedule_error(out, families.loglinear(0.01, 10.0).grid(10)) < 1e-12


def test_schedule_is_decreasing_with_exact_endpoints_for_rough_costs() -> None:
    rng = np.random.default_rng(3)
    lev = stein.probe_levels(0.002, 80.0, 200)
    costs = rng.exponential(size=200) * (rng.uniform(size=200) > 0.3)  # zeros are floored
    out = stein.update_schedule(lev, costs, 17)
    assert out.size == 18 and out[0] == 80.0 and out[-1] == 0.002 and np.all(np.diff(out) < 0)


def test_floor_and_zero_costs() -> None:
    lam = stein.cumulative_length(np.array([4.0, 0.0, 1.0]))
    assert lam[0] == 0.0 and np.all(np.diff(lam) > 0)
    with pytest.raises(ValueError, match="all interval costs are zero"):
        stein.update_schedule(stein.probe_levels(0.1, 1.0, 8), np.zeros(8), 2)


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"costs": np.ones(5)}, "one value per probe interval"),
        ({"costs": -np.ones(8)}, "non-negative"),
        ({"costs": np.full(8, np.nan)}, "finite"),
        ({"levels": np.linspace(0.1, 1.0, 9)}, "strictly decreasing"),
        ({"levels": np.r_[np.inf, np.geomspace(1, 0.1, 8)]}, "finite and > 0"),
        ({"coord": "cubic"}, "coord"),
    ],
)
def test_update_schedule_rejects_bad_input(bad: dict, match: str) -> None:
    kw = {"levels": stein.probe_levels(0.1, 1.0, 8), "costs": np.ones(8), "coord": "log"}
    kw.update(bad)
    with pytest.raises(ValueError, match=match):
        stein.update_schedule(kw["levels"], kw["costs"], 3, coord=kw["coord"])


def test_online_update_is_a_convex_blend() -> None:
    lev = stein.probe_levels(0.01, 10.0, 50)
    costs = np.linspace(1.0, 5.0, 50)
    new = stein.online_update(lev, costs, 0.1)
    target = stein.update_schedule(lev, costs, 50)
    assert np.allclose(new, 0.1 * target + 0.9 * lev) and np.all(np.diff(new) < 0)
    assert new[0] == lev[0] and new[-1] == lev[-1]
    with pytest.raises(ValueError, match="gamma"):
        stein.online_update(lev, costs, 1.5)


def test_coarse_grid_fixed_point_pitfall_is_avoided() -> None:
    # §4.4: iterating Algorithm 1 on a coarse grid with target-weighted costs collapses onto a huge
    # last jump; on a fine probe grid the output's last step stays modest.
    from symsched.models import GaussianModel

    m = GaussianModel.isotropic(0.5, 1)
    grid = families.karras(0.002, 80.0, 7.0).grid(10)
    for _ in range(30):
        grid = stein.update_schedule(
            grid, m.exact_interval_costs(grid, process="ve", weight="target"), 10
        )
    fine = stein.probe_levels(0.002, 80.0, 2000)
    good = stein.update_schedule(
        fine, m.exact_interval_costs(fine, process="ve", weight="target"), 10
    )
    assert grid[-2] / grid[-1] > 3 * good[-2] / good[-1]
