"""Behaviour of the schedule methods and their registry that mutation testing found unchecked.

Each test asserts a user-visible result against an independent value: the default ends of the
time-based families against their closed forms (DDPM linear-beta, Nichol-Dhariwal cosine), the
published AYS tables against ``ays``'s output and its refusals of moved ends, the errors of
``flow`` and ``kl-optimal`` (the accepted ``mu`` range, the knob named, ``eta``), the scoring of
the published flow rules (the rule with this grid's own shift scores ratio 1), the Stein method's
reuse of its model for the (N-1)-step rebuild of ``ending_at_zero``, and the registry itself:
which methods get a command's spectrum, a refused second registration, the wrapping of a grid
that leaves the input range, and which schedules keep the method's options.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from symsched._options import option
from symsched.schedules import (
    METHODS,
    Schedule,
    build,
    family_of,
    get_method,
    method_names,
    register_method,
)
from symsched.schedules.ays import AYS_MODELS, AYS_SIGMAS
from symsched.schedules.methods.stein import SteinOptions

# a lambdified SymPy family against numpy written from the paper's formula: a few ulps apart
RTOL = 1e-12


@pytest.fixture
def registry() -> Iterator[None]:
    """Restore :data:`METHODS` after a test that registers methods."""
    saved = dict(METHODS)
    try:
        yield
    finally:
        METHODS.clear()
        METHODS.update(saved)


# --- the registry ---------------------------------------------------------------------------


def test_only_methods_that_take_a_spectrum_get_the_commands_one() -> None:
    # no spectrum option: never (kl --schedule karras must not hand karras eigenvalues)
    assert get_method("karras").wants_source_spectrum({}) is False
    assert get_method("ays").wants_source_spectrum({"model": "sdxl"}) is False
    # a spectrum option and no rule of its own: always
    assert get_method("kl-optimal").wants_source_spectrum({}) is True
    assert get_method("flow").wants_source_spectrum({"shift": "3"}) is True
    # stein's own rule: only the gaussian model without c / dim takes the command's spectrum
    stein = get_method("stein")
    assert stein.wants_source_spectrum({"model": "gaussian"}) is True
    assert stein.wants_source_spectrum({"model": "gaussian", "c": 1.0}) is False
    assert stein.wants_source_spectrum({"model": "two-point"}) is False


def test_a_second_builder_under_a_registered_name_is_refused(registry: None) -> None:
    karras = METHODS["karras"]

    def other(steps: int, o: object) -> Schedule:
        return Schedule("karras", np.geomspace(80.0, 0.002, steps + 1))

    deco = register_method(
        "karras", options=karras.options, summary="x", example="symsched schedule karras x"
    )
    with pytest.raises(ValueError, match="schedule method 'karras' is registered twice"):
        deco(other)
    assert METHODS["karras"] is karras
    np.testing.assert_array_equal(build("karras", 4).sigmas, karras.build(4).sigmas)


@dataclass(frozen=True)
class _GeoOptions:
    """Options of the test methods."""

    top: float = option(80.0, "largest level")


def _geometric(steps: int, o: _GeoOptions) -> Schedule:
    return Schedule("mutants-geo", np.geomspace(o.top, 0.002, steps + 1), {"top": o.top})


def test_registering_the_same_builder_again_is_allowed(registry: None) -> None:
    # a re-import of a method module registers the same function again: not an error
    for _ in range(2):
        register_method(
            "mutants-geo",
            options=_GeoOptions,
            summary="geometric test grid",
            example="symsched schedule mutants-geo --top 80",
        )(_geometric)
    assert METHODS["mutants-geo"].builder is _geometric
    sched = build("mutants-geo", 3, top=10.0)
    np.testing.assert_allclose(sched.sigmas, np.geomspace(10.0, 0.002, 4), rtol=RTOL)
    # the method's own schedule keeps its options: ending_at_zero rebuilds it at N - 1
    np.testing.assert_allclose(
        sched.ending_at_zero.sigmas, [*np.geomspace(10.0, 0.002, 3), 0.0], rtol=RTOL
    )


def test_a_schedule_labelled_with_another_method_gets_no_options(registry: None) -> None:
    # a wrapper method that returns a grid under another method's name: the grid is not that
    # method's build, so it must not carry these options (the other method could not take them)
    def relabel(steps: int, o: _GeoOptions) -> Schedule:
        return Schedule("loglinear", np.geomspace(o.top, 0.002, steps + 1))

    register_method(
        "mutants-relabel",
        options=_GeoOptions,
        summary="geometric grid under another name",
        example="symsched schedule mutants-relabel --top 80",
    )(relabel)
    sched = build("mutants-relabel", 4)
    assert sched.method == "loglinear" and sched.options is None
    with pytest.raises(ValueError, match="an explicit grid cannot be rebuilt with N-1 steps"):
        _ = sched.ending_at_zero


def test_a_grid_leaving_the_input_range_names_the_method_and_the_fix() -> None:
    # karras with sigma_min = 0: sigma_k = sigma_max (1 - k/N)^rho, so sigma_{N-1} = 80 * 0.1^311
    # is below the input range's 1e-300 although both ends were accepted
    assert 80.0 * 0.1**311 < 1e-300
    with pytest.raises(ValueError) as exc:
        build("karras", 10, sigma_min=0.0, sigma_max=80.0, rho=311.0)
    msg = str(exc.value)
    assert msg.startswith("karras: its 10-step grid leaves the input range (sigmas must be")
    assert msg.endswith("choose sigma_min and sigma_max further inside it")
    # any other refusal of the builder is passed on as it is (colliding levels)
    with pytest.raises(ValueError) as exc:
        build("karras", 1000, sigma_min=1.0, sigma_max=1.0 + 1e-13)
    assert str(exc.value).startswith("karras with steps=1000") and "input range" not in str(
        exc.value
    )


def test_family_of_a_non_family_lists_the_smooth_families() -> None:
    with pytest.raises(ValueError, match="method ays is not a smooth schedule family") as exc:
        family_of("ays", {"model": "sdxl"})
    listed = str(exc.value).split("choose one of ")[1].split(", ")
    smooth = sorted(n for n, m in METHODS.items() if m.family is not None)
    assert listed == smooth == list(method_names(family=True))
    assert family_of("karras", {}).grid(4).size == 5  # a listed one is a family


def test_one_step_ending_at_zero_names_sigma_0() -> None:
    sched = build("loglinear", 1, sigma_min=0.5, sigma_max=37.5)
    end = sched.ending_at_zero
    np.testing.assert_array_equal(end.sigmas, [37.5, 0.0])
    how = str(end.params["ending_at_zero"])
    assert f"sigma_0 = {37.5:g}" in how and f"{0.5:g}" not in how


# --- the time-based families' default ends ---------------------------------------------------


def test_cosine_defaults_run_from_pure_noise_to_zero() -> None:
    # [nichol2021, Eq. (17)]: rho(t) = sqrt(cos^2(theta_0) / cos^2(theta(t)) - 1), uniform t
    s, n = 0.008, 6
    sched = build("cosine", n)
    t = np.linspace(1.0, 0.0, n + 1)
    theta = (t + s) / (1 + s) * math.pi / 2
    want = np.sqrt(math.cos(s / (1 + s) * math.pi / 2) ** 2 / np.cos(theta) ** 2 - 1)
    assert sched.sigmas[0] == math.inf and sched.sigmas[-1] == 0.0
    np.testing.assert_allclose(sched.sigmas[1:], want[1:], rtol=RTOL)
    assert sched.params["t_min"] == 0.0 and sched.params["t_max"] == 1.0


def test_vp_linear_defaults_are_t_from_1_to_1e_3() -> None:
    # [song2021sde, Eq. (33)]: rho(t) = sqrt(expm1(beta_min t + (beta_max - beta_min) t^2 / 2))
    bmin, bmax, n = 0.1, 20.0, 6
    sched = build("vp-linear", n)
    t = np.linspace(1.0, 1e-3, n + 1)
    want = np.sqrt(np.expm1(bmin * t + 0.5 * (bmax - bmin) * t**2))
    np.testing.assert_allclose(sched.sigmas, want, rtol=RTOL)
    assert sched.params["t_min"] == 1e-3 and sched.params["t_max"] == 1.0


# --- ays ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", AYS_MODELS)
def test_ays_accepts_the_tables_own_ends_and_refuses_others(model: str) -> None:
    table = AYS_SIGMAS[model]
    sched = build("ays", 10, model=model, sigma_max=table[0], sigma_min=table[-1])
    np.testing.assert_array_equal(sched.sigmas, table)
    assert sched.params["interpolation"] == "published table"
    with pytest.raises(ValueError, match="it cannot be moved"):
        build("ays", 10, model=model, sigma_max=table[1])
    with pytest.raises(ValueError, match="sigma_min must be omitted"):
        build("ays", 10, model=model, sigma_min=table[-2])


@pytest.mark.parametrize("model", AYS_MODELS)
@pytest.mark.parametrize("steps", [7, 11])
def test_ays_params_record_the_grids_ends(model: str, steps: int) -> None:
    table = AYS_SIGMAS[model]
    sched = build("ays", steps, model=model)
    assert sched.params["sigma_max"] == sched.sigmas[0] == table[0]
    assert sched.params["sigma_min"] == sched.sigmas[-1] == table[-1]
    # another N is interpolated, not the published table
    assert sched.params["interpolation"] != "published table"
    zero = build("ays", steps, model=model, sigma_min=0.0)
    assert zero.params["sigma_min"] == zero.sigmas[-1] == 0.0
    assert zero.params["sigma_max"] == table[0]


# --- flow -----------------------------------------------------------------------------------


def test_flow_mu_error_states_the_range_it_accepts() -> None:
    with pytest.raises(ValueError, match="mu must be a number in") as exc:
        build("flow", 4, mu="abc")
    found = re.search(r"\[(\S+), (\S+)\]", str(exc.value))
    assert found is not None
    lo, hi = float(found[1]), float(found[2])
    assert lo < 0 < hi
    for inside in (lo, 0.0, hi):  # the ends of the stated range are accepted
        assert build("flow", 4, mu=str(inside)).params["mu"] == inside
    for outside in (lo - 0.01, hi + 0.01):
        with pytest.raises(ValueError, match="mu must be in"):
            build("flow", 4, mu=str(outside))


@pytest.mark.parametrize(
    ("given", "knob"), [({"mu": "auto"}, "mu"), ({"shift": "auto"}, "shift"), ({}, "shift")]
)
def test_flow_auto_without_a_spectrum_names_the_knob_given(
    given: dict[str, str], knob: str
) -> None:
    with pytest.raises(ValueError) as exc:
        build("flow", 4, **given)
    assert str(exc.value) == (
        f"{knob} is 'auto', which needs a spectrum: eigenvalues (or a number for {knob})"
    )


@pytest.mark.parametrize(("sampler", "objective"), [("dpmpp-2m", None), ("ddim", "coupling")])
def test_flow_rules_are_scored_on_the_grids_own_criterion(
    sampler: str, objective: str | None
) -> None:
    # shift 3 is the sd3 rule's fixed shift: that rule's grid is this grid, so its criterion is
    # this grid's objective_value (the coupling error here) and its ratio is exactly 1
    sched = build(
        "flow",
        6,
        eigenvalues=[0.3, 1.0, 2.0],
        shift="3",
        resolution=512,
        sampler=sampler,
        objective=objective,
    )
    assert sched.params["objective"] == "coupling"
    rules = sched.params["rules"]
    assert isinstance(rules, dict)
    sd3 = rules["sd3"]
    assert sd3["shift"] == 3.0
    assert sd3["objective_value"] == sched.params["objective_value"] == sched.params["coupling"]
    assert sd3["ratio"] == 1.0


def test_flow_rules_against_an_exact_sampler_have_infinite_ratios() -> None:
    # the exact flow map has no discretisation error: every criterion is 0, no ratio is defined
    sched = build(
        "flow", 4, eigenvalues=[0.3, 2.0], shift="3", resolution=512, sampler="exact-flow"
    )
    assert sched.params["objective_value"] == 0.0
    rules = sched.params["rules"]
    assert isinstance(rules, dict) and rules
    for rule in rules.values():
        assert rule["objective_value"] == 0.0 and rule["ratio"] == math.inf


# --- kl-optimal -----------------------------------------------------------------------------


def test_kl_optimal_takes_eta_for_the_ancestral_sampler_only() -> None:
    with pytest.raises(ValueError, match="eta is a knob of the ancestral sampler, not of ddim"):
        build("kl-optimal", 2, eigenvalues=[0.5, 2.0], sampler="ddim", eta=0.5)
    sched = build(
        "kl-optimal",
        2,
        eigenvalues=[0.5, 2.0],
        sampler="ancestral",
        eta=0.5,
        sigma_min=0.01,
        sigma_max=50.0,
    )
    assert sched.params["eta"] == 0.5 and sched.sigmas[0] == 50.0 and sched.sigmas[-1] == 0.01


# --- stein ----------------------------------------------------------------------------------


def test_stein_ending_at_zero_reuses_the_model_and_equals_the_shorter_grid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[object] = []
    load = SteinOptions.load

    def counting_load(self: SteinOptions) -> object:
        loads.append(self)
        return load(self)

    monkeypatch.setattr(SteinOptions, "load", counting_load)
    sched = build("stein", 5, model="gaussian", c=1.0)
    end = sched.ending_at_zero  # the exporters' rebuild at N - 1 with the same options
    assert len(loads) == 1  # the model is loaded once, for both grids
    shorter = build("stein", 4, model="gaussian", c=1.0)  # new options: a new model
    assert len(loads) == 2
    # both the 5- and the 4-step grid probe on max(128, 8 N) = 128 intervals: the same costs
    np.testing.assert_allclose(end.sigmas, [*shorter.sigmas, 0.0], rtol=RTOL)


def test_stein_uses_the_estimator_given() -> None:
    from symsched.stein._estimate import SteinAccuracyWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SteinAccuracyWarning)  # a deliberately small estimate
        mc = build(
            "stein",
            2,
            model="gaussian",
            c=1.0,
            estimator="monte-carlo",
            samples=4,
            probe_levels=8,
        )
    exact = build("stein", 2, model="gaussian", c=1.0, probe_levels=8)
    assert exact.params["estimator"] == "exact" and exact.params["total_length_stderr"] == 0.0
    assert mc.params["estimator"] == "monte-carlo" and mc.params["samples"] == 4
    assert float(mc.params["total_length_stderr"]) > 0.0  # type: ignore[arg-type]
