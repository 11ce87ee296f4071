"""``symsched schedule flow`` and the ``diffusers-flow`` export (docs/cli.md#schedule-flow)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from cli_helpers import one_line, run

from symsched.flow import shift

LAM = "0.05,0.3,1,2.65"


def test_auto_shift_is_the_certified_optimum(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schedule", "flow", "--steps", "12", "--eigenvalues", LAM, "--json")
    assert code == 0
    obj = json.loads(out)
    p = obj["params"]
    ref = shift.optimal_shift([0.05, 0.3, 1, 2.65], 12)
    assert p["shift"] == pytest.approx(ref.shift, rel=1e-12)
    assert p["mu"] == pytest.approx(math.log(ref.shift), rel=1e-12)
    assert p["objective"] == "kl" and p["objective_value"] == pytest.approx(ref.kl, rel=1e-12)
    assert p["curvature"] > 0 and abs(p["gradient"]) < 1e-9
    t = np.array(p["t"])
    assert t[0] == 1.0 and t[-1] == 0.0 and np.all(np.diff(t) < 0)
    rho = np.array([math.inf if v == "inf" else v for v in obj["sigmas"]])
    np.testing.assert_allclose(rho[1:], t[1:] / (1 - t[1:]), rtol=1e-12)


def test_mu_auto_equals_the_log_of_shift_auto(capsys: pytest.CaptureFixture[str]) -> None:
    base = ("schedule", "flow", "--steps", "9", "--eigenvalues", LAM, "--json")
    a = json.loads(run(capsys, *base)[1])["params"]
    b = json.loads(run(capsys, *base, "--mu", "auto")[1])["params"]
    assert b["mu"] == pytest.approx(a["mu"], rel=1e-12)


def test_a_given_shift_is_scored(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "schedule", "flow", "--steps", "8", "--shift", "3", "--eigenvalues", LAM, "--json"
    )
    p = json.loads(out)["params"]
    assert code == 0 and p["shift"] == 3.0
    auto = json.loads(
        run(capsys, "schedule", "flow", "--steps", "8", "--eigenvalues", LAM, "--json")[1]
    )["params"]
    assert p["objective_value"] > auto["objective_value"]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (("--shift", "-1"), ("--shift", "> 0")),
        (("--shift", "nan"), ("--shift",)),
        (("--mu", "40"), ("--mu", "[-9.21, 9.21]")),
        (("--shift", "auto"), ("--eigenvalues",)),
        (("--shift", "2", "--mu", "1"), ("--shift", "--mu", "not both")),
        (("--shift", "2", "--exponent", "0.5"), ("--exponent", "--mu")),
        (("--mu", "1", "--exponent", "0"), ("--exponent",)),
    ],
)
def test_bad_flow_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, "schedule", "flow", "--steps", "6", *argv)
    assert code == 2 and out == ""
    one_line(err, *needles)


def test_a_grid_the_family_cannot_express_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ("schedule", "kl-optimal", "--steps", "5", "--eigenvalues", LAM),  # inf to 0, not uniform
        ("schedule", "flow", "--steps", "5", "--mu", "1", "--exponent", "0.8"),
        ("schedule", "karras", "--steps", "5"),  # a finite start
    ):
        code, _, err = run(capsys, *argv, "--format", "diffusers-flow", "--flow-args", "mu")
        assert code == 2
        one_line(err, "--flow-args", "sigmas")


@pytest.mark.parametrize("mode", ["shift", "mu", "sigmas"])
def test_diffusers_flow_args_visit_the_grid(capsys: pytest.CaptureFixture[str], mode: str) -> None:
    """Round trip through the real FlowMatchEulerDiscreteScheduler (float32 sigmas)."""
    pytest.importorskip("diffusers")
    from symsched_verify.oracles.consumers import run_flow_args

    code, out, _ = run(
        capsys,
        "schedule",
        "flow",
        "--steps",
        "10",
        "--eigenvalues",
        LAM,
        "--format",
        "diffusers-flow",
        "--flow-args",
        mode,
    )
    assert code == 0
    grid = shift.optimal_shift([0.05, 0.3, 1, 2.65], 10).sigmas
    ran = run_flow_args(json.loads(out), [0.3], 8, 0)
    assert (
        ran.scheduler_sigmas.size == grid.size
        and math.isinf(ran.scheduler_sigmas[0])
        and ran.scheduler_sigmas[-1] == 0
    )
    t_ran = ran.scheduler_sigmas[1:-1] / (1 + ran.scheduler_sigmas[1:-1])
    t_want = grid[1:-1] / (1 + grid[1:-1])
    np.testing.assert_allclose(t_ran, t_want, rtol=4 * np.finfo(np.float32).eps)


def test_resolution_scores_the_published_rules(capsys: pytest.CaptureFixture[str]) -> None:
    from symsched.flow.rules import RULES
    from symsched.gaussian.exact import kl

    code, out, _ = run(
        capsys, "schedule", "flow", "--steps", "28", "--eigenvalues", LAM,
        "--resolution", "1024", "--json",
    )  # fmt: skip
    assert code == 0
    p = json.loads(out)["params"]
    lam = [0.05, 0.3, 1, 2.65]
    assert set(p["rules"]) == set(RULES)
    for name, got in p["rules"].items():
        s = RULES[name].shift(1024, 28)
        assert got["shift"] == pytest.approx(s, rel=1e-15)
        want = kl(lam, shift.shifted_uniform_grid(28, s)).kl_source_output
        assert got["objective_value"] == pytest.approx(want, rel=1e-12)
        assert got["ratio"] == pytest.approx(want / p["objective_value"], rel=1e-12)
        assert got["ratio"] >= 1.0 - 1e-12  # no rule beats the certified optimum
    assert p["rules"]["flux"]["mu"] == pytest.approx(1.15, abs=1e-12)  # Flux at 64^2 tokens


def test_resolution_without_a_spectrum_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "schedule", "flow", "--steps", "8", "--shift", "3",
                         "--resolution", "1024")  # fmt: skip
    assert code == 2 and out == ""
    one_line(err, "--resolution", "--eigenvalues")
