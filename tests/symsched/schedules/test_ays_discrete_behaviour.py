"""AYS interpolation and the discrete training tables at their edges: what a caller is refused,
how many levels come back, the cosine table's beta cap, and the timesteps a grid rounds to
(tests written for the mutation module ``schedules.ays-discrete``, docs/mutation.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symsched.schedules.ays import AYS_SIGMAS, ays_sigmas, loglinear_interp
from symsched.schedules.discrete import timesteps_for_grid, training_table


@pytest.mark.parametrize(
    "levels",
    [[1.0], [[2.0, 1.0]], [2.0, 0.0], [2.0, -1.0], [1.0, 2.0], [2.0, 2.0, 1.0], [3.0, 0.0, -1.0]],
)
def test_loglinear_interp_refuses_what_is_not_a_decreasing_positive_list(levels: list) -> None:
    with pytest.raises(ValueError, match="strictly decreasing list of positive"):
        loglinear_interp(levels, 5)


def test_loglinear_interp_takes_two_levels_and_is_geometric_between_them() -> None:
    got = loglinear_interp([8.0, 1.0], 4)
    np.testing.assert_allclose(got, [8.0, 4.0, 2.0, 1.0], rtol=1e-15)
    with pytest.raises(ValueError, match="num_levels"):
        loglinear_interp([8.0, 1.0], 1)
    np.testing.assert_allclose(loglinear_interp([8.0, 4.0, 1.0], 2), [8.0, 1.0], rtol=1e-15)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 11, 40])
def test_ays_sigmas_has_n_plus_one_levels_between_the_tables_ends(n: int) -> None:
    for model, table in AYS_SIGMAS.items():
        if model == "svd":
            continue
        g = ays_sigmas(model, n)
        assert g.size == n + 1 and g[0] == table[0] and g[-1] == table[-1]
        assert np.all(np.diff(g) < 0)
        z = ays_sigmas(model, n, zero_terminal=True)
        assert z[-1] == 0.0 and np.array_equal(z[:-1], g[:-1])


def test_cosine_table_caps_beta_at_0999() -> None:
    tab = training_table("squaredcos_cap_v2")
    # uncapped, the last beta is 1 - abar(1)/abar(0.999) = 1: the cap is what keeps abar > 0
    assert tab.betas[-1] == 0.999 and tab.betas.max() == 0.999
    assert np.all(tab.betas[:-1] < 0.999) and tab.alphas_cumprod[-1] > 0
    assert math.isfinite(tab.sigmas[-1])


def test_training_tables_are_read_only() -> None:
    tab = training_table("linear")
    for arr in (tab.betas, tab.alphas_cumprod, tab.sigmas):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0


def test_timesteps_round_to_the_nearest_training_step_and_report_the_shift() -> None:
    tab = training_table("scaled_linear")
    want = [999, 700, 400, 100, 5]
    levels = np.append(tab.sigmas[want] * np.array([1.0, 1.001, 0.999, 1.002, 1.0]), 0.0)
    ts = timesteps_for_grid(levels, tab)
    assert list(ts.timesteps) == want and not ts.appended_zero
    np.testing.assert_array_equal(ts.realised, np.append(tab.sigmas[want], 0.0))
    shift = np.max(np.abs(tab.sigmas[want] / levels[:-1] - 1))
    assert ts.max_rel_shift == pytest.approx(shift, rel=1e-12) and 0.0015 < shift < 0.0025
    above = timesteps_for_grid(tab.sigmas[want], tab)  # ends above 0: one consumer step more
    assert above.appended_zero and list(above.timesteps) == want


def test_timesteps_accept_the_edges_within_their_tolerance_and_refuse_beyond() -> None:
    tab = training_table("scaled_linear")
    lo, hi = float(tab.sigmas[0]), float(tab.sigmas[-1])
    ok = timesteps_for_grid([hi * (1 + 5e-5), 1.0, lo * (1 - 5e-5)], tab)
    assert ok.timesteps[0] == 999 and ok.timesteps[-1] == 0
    with pytest.raises(ValueError, match="above the training table's largest level"):
        timesteps_for_grid([hi * 1.001, 1.0, 0.0], tab)
    with pytest.raises(ValueError, match="above the training table's largest level"):
        timesteps_for_grid([math.inf, 1.0, 0.0], tab)
    with pytest.raises(ValueError, match="below the training table's smallest level"):
        timesteps_for_grid([hi, 1.0, lo * 0.999], tab)
    with pytest.raises(ValueError, match="both round to training timestep"):
        timesteps_for_grid([hi, 1.0, 0.9999, 0.0], tab)


def test_ten_steps_return_the_published_table_bit_for_bit() -> None:
    for model in ("sd15", "sdxl"):
        assert np.array_equal(ays_sigmas(model, 10), np.array(AYS_SIGMAS[model]))


def test_the_smallest_training_table_has_two_steps() -> None:
    tab = training_table("linear", 2)
    np.testing.assert_allclose(tab.betas, [1e-4, 0.02])
    with pytest.raises(ValueError, match="num_train_timesteps"):
        training_table("linear", 1)


def test_a_level_exactly_at_the_edge_tolerance_is_the_tables_end() -> None:
    from symsched.schedules.discrete import _EDGE_RTOL

    tab = training_table("scaled_linear")
    lo, hi = float(tab.sigmas[0]), float(tab.sigmas[-1])
    ts = timesteps_for_grid([hi * (1 + _EDGE_RTOL), 1.0, lo * (1 - _EDGE_RTOL)], tab)
    assert (ts.timesteps[0], ts.timesteps[-1]) == (999, 0)
