"""Export behaviour pinned down by mutation testing (docs/mutation.md, module ``export``).

Each test states what a consumer or a user reads: the notes' step counts and end levels, the
shift recovered from a flow grid, the diffusers-flow config that reproduces the grid in the real
scheduler, the refusal of a pure-noise start, the registry's guard against a second renderer.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from symsched import build
from symsched.export import EXPORTERS, export, register_exporter
from symsched.export._base import NoOptions
from symsched.export.diffusers_flow import shift_of_grid
from symsched.schedules import Schedule

SD = {"sigma_min": 0.0292, "sigma_max": 14.6146}


def shifted_grid(s: float, n: int) -> np.ndarray:
    """N uniform flow steps shifted by s in the noise-level scale: rho_k = s (N-k)/k."""
    interior = [s * (n - k) / k for k in range(1, n)]
    return np.array([math.inf, *interior, 0.0])


def flow_t(levels: np.ndarray) -> np.ndarray:
    """Flow time t = rho / (1 + rho), with t = 1 at rho = inf."""
    return np.array([1.0 if math.isinf(r) else r / (1.0 + r) for r in levels])


# --- notes: the step count and the end of the grid -------------------------------------------


def test_note_counts_steps_in_the_singular_and_plural() -> None:
    assert export(build("karras", 2), "json").note.startswith("json: the 3 levels; 2 steps")
    assert "; 1 step, ending at 0.002: NFE 1 " in export(build("karras", 1), "json").note
    assert "; 2 steps, ending at 0.002: NFE 2 " in export(build("karras", 2), "json").note


def test_note_names_the_last_level_of_the_grid() -> None:
    grid = Schedule("x", np.array([10.0, 1.0, 0.25]), {})
    assert "2 steps, ending at 0.25: NFE" in export(grid, "json").note
    to_zero = Schedule("x", np.array([10.0, 1.0, 0.0]), {})
    assert "2 steps, the last to 0: NFE 2 " in export(to_zero, "json").note


def test_note_of_a_consumer_ending_at_zero_states_the_grids_own_end() -> None:
    note = export(build("karras", 3, sigma_min=0.03), "k-diffusion").note
    assert "the grid ends at 0.03 > 0, so karras is written as" in note


def test_csv_rows_and_note() -> None:
    grid = Schedule("x", np.array([math.inf, 2.5, 0.0]), {})
    out = export(grid, "csv")
    assert out.text.splitlines() == ["k,sigma", "0,inf", "1,2.5", "2,0.0"]
    assert out.note.startswith("csv: 3 levels, k = 0..2;")


def test_timesteps_note_states_the_largest_rounding_shift_in_percent() -> None:
    sched = build("karras", 6, **SD)
    out = export(sched, "diffusers-timesteps")
    assert out.levels is not None
    want = sched.ending_at_zero.sigmas
    moved = [abs(r / w - 1.0) for r, w in zip(out.levels, want, strict=True) if w > 0]
    match = re.search(r"at most ([0-9.e+-]+)%", out.note)
    assert match is not None
    assert float(match.group(1)) == pytest.approx(100 * max(moved), rel=5e-3)


# --- sigma-list consumers refuse a pure-noise start ----------------------------------------


@pytest.mark.parametrize(
    "fmt", ["k-diffusion", "comfyui", "diffusers-euler", "diffusers-timesteps"]
)
def test_sigma_lists_refuse_sigma_max_inf(fmt: str) -> None:
    grid = Schedule("x", np.array([math.inf, 10.0, 1.0, 0.0]), {})
    with pytest.raises(ValueError, match="needs a finite sigma_max"):
        export(grid, fmt)


# --- the registry ----------------------------------------------------------------------------


def test_a_second_renderer_under_a_taken_name_is_refused_the_same_one_is_not() -> None:
    original = EXPORTERS["csv"]
    try:
        assert (
            register_exporter("csv", summary=original.summary, options=NoOptions)(original.render)
            is original.render
        )
        with pytest.raises(ValueError, match="registered twice"):
            register_exporter("csv", summary="x", options=NoOptions)(
                lambda s, o: original.render(s, o)
            )
    finally:
        EXPORTERS["csv"] = original


# --- diffusers-flow: the shift of a grid and the scheduler config ---------------------------


@pytest.mark.parametrize(("s", "n"), [(3.0, 8), (0.4, 5), (1.0, 2)])
def test_shift_of_a_shifted_uniform_grid(s: float, n: int) -> None:
    assert shift_of_grid(shifted_grid(s, n)) == pytest.approx(s, rel=1e-12)


def test_shift_of_a_one_step_grid_is_one() -> None:
    assert shift_of_grid(np.array([math.inf, 0.0])) == 1.0


@pytest.mark.parametrize(
    "levels",
    [
        np.array([math.inf]),  # no step
        np.array([10.0, 3.0, 1.0, 0.0]),  # finite start
        np.array([math.inf, 6.0, 1.5, 0.1]),  # ends above 0
        np.array([math.inf, 0.0, 0.0, 0.0]),  # shift 0
        np.array([math.inf, -6.0, -1.5, 0.0]),  # negative levels
        np.array([math.inf, math.inf, math.inf, 0.0]),  # infinite shift
    ],
)
def test_grids_that_no_shift_expresses(levels: np.ndarray) -> None:
    with np.errstate(all="ignore"):
        assert shift_of_grid(levels) is None


def test_shift_of_grid_refuses_one_level_off_by_more_than_the_tolerance() -> None:
    levels = shifted_grid(3.0, 8)
    levels[4] *= 1.0 + 1e-9
    assert shift_of_grid(levels) is None
    levels = shifted_grid(3.0, 8)
    levels[4] *= 1.0 + 1e-15  # one rounding: still the family
    assert shift_of_grid(levels) == pytest.approx(3.0, rel=1e-12)


def _flow_export(levels: np.ndarray, flow_args: str) -> tuple[dict[str, object], dict[str, object]]:
    out = export(Schedule("x", levels, {}), "diffusers-flow", flow_args=flow_args)
    data = json.loads(out.text)
    assert data["scheduler"] == "FlowMatchEulerDiscreteScheduler"
    return data["config"], data["set_timesteps"]


def test_diffusers_flow_shift_mu_and_sigmas_configs() -> None:
    n, s = 8, 3.0
    levels = shifted_grid(s, n)
    uniform = np.linspace(1.0, 1.0 / n, n)

    config, body = _flow_export(levels, "shift")
    assert config["shift"] == pytest.approx(s, rel=1e-12)
    assert config["use_dynamic_shifting"] is False
    assert np.allclose(body["sigmas"], uniform, rtol=1e-15)  # type: ignore[arg-type]
    assert len(body["sigmas"]) == n  # type: ignore[arg-type]

    config, body = _flow_export(levels, "mu")
    assert config["use_dynamic_shifting"] is True
    assert config["time_shift_type"] == "exponential"
    assert body["mu"] == pytest.approx(math.log(s), rel=1e-12)
    assert np.allclose(body["sigmas"], uniform, rtol=1e-15)  # type: ignore[arg-type]

    config, body = _flow_export(levels, "sigmas")
    assert config["shift"] == 1.0 and config["use_dynamic_shifting"] is False
    assert np.allclose(body["sigmas"], flow_t(levels[:-1]), rtol=1e-14)  # type: ignore[arg-type]

    for neutral in ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas"):
        assert config[neutral] is False


@pytest.mark.parametrize("flow_args", ["shift", "mu"])
def test_diffusers_flow_refuses_a_grid_outside_the_shift_family(flow_args: str) -> None:
    with pytest.raises(ValueError, match="no shift or mu expresses it"):
        export(build("karras", 4), "diffusers-flow", flow_args=flow_args)


@pytest.mark.parametrize("flow_args", ["shift", "mu", "sigmas"])
def test_diffusers_flow_scheduler_visits_the_grid(flow_args: str) -> None:
    diffusers = pytest.importorskip("diffusers")
    levels = shifted_grid(3.0, 6)
    config, body = _flow_export(levels, flow_args)
    scheduler = diffusers.FlowMatchEulerDiscreteScheduler.from_config(config)
    scheduler.set_timesteps(**body)
    visited = scheduler.sigmas.double().numpy()
    assert np.allclose(visited, flow_t(levels), rtol=1e-6, atol=1e-7)


def test_flow_levels_inverts_t_over_one_minus_t() -> None:
    from symsched.export import flow_levels

    got = flow_levels(np.array([1.0, 0.75, 0.5, 0.2, 0.0]))
    np.testing.assert_allclose(got[1:], [3.0, 1.0, 0.25, 0.0], rtol=1e-15)
    assert got[0] == math.inf


def test_flow_matching_refuses_a_shift_that_collapses_the_grid_naming_the_first_pair() -> None:
    # shift 1e-20: rho / S = 1e37 and 1e36 both become flow sigma 1.0 (t = 1 - 1e-37 rounds
    # up); the pair 1e16 -> 1e3 stays distinct
    sched = Schedule("explicit", np.array([1e17, 1e16, 1e3, 1.0, 0.0]))
    with pytest.raises(ValueError, match=r"levels 1e\+17 and 1e\+16 both become flow sigma 1"):
        export(sched, "flow-matching", shift=1e-20)


def test_flow_matching_refuses_a_shift_that_sends_the_last_level_to_zero() -> None:
    sched = Schedule("explicit", np.array([80.0, 1.0, 1e-300, 0.0]))
    with pytest.raises(ValueError, match="sends the last level 1e-300 to flow sigma 0"):
        export(sched, "flow-matching", shift=1e30)
    # a single flow sigma has no pair to collapse
    one = export(Schedule("explicit", np.array([2.0, 0.0])), "flow-matching", shift=1.0)
    assert json.loads(one.text) == [pytest.approx(2.0 / 3.0, rel=1e-15)]


def test_flow_matching_names_the_first_collapsed_pair_after_a_distinct_one() -> None:
    # shift 1: 1e17 -> flow sigma 1.0 and 1e15 -> 1 - 1e-15 are distinct, but 1e15 and
    # 0.999e15 differ by 1e-18 in 1 - t, below the spacing of doubles near 1: they collapse
    sched = Schedule("explicit", np.array([1e17, 1e15, 0.999e15, 1.0, 0.0]))
    with pytest.raises(ValueError, match=r"levels 1e\+15 and 9\.99e\+14 both become flow sigma"):
        export(sched, "flow-matching", shift=1.0)
    # two levels only: the single pair is still checked
    with pytest.raises(ValueError, match=r"levels 1e\+17 and 1e\+16 both become flow sigma 1"):
        export(Schedule("explicit", np.array([1e17, 1e16, 0.0])), "flow-matching", shift=1.0)
