"""CLI contract (docs/cli.md): ``symsched stein-cost`` and ``symsched schedule stein``."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run

import symsched.schedules.methods.stein  # noqa: F401  (registers the method; see the report on method discovery)


def test_stein_cost_exact_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "stein-cost",
        "--model",
        "gaussian",
        "--c",
        "0.5",
        "--dim",
        "4",
        "--from",
        "2",
        "--to",
        "1.5",
        "--json",
    )
    js = json.loads(out)
    # hand-typed §5.2: d T^2 (S^2 - T^2)^2 / ((c^2 + T^2)^2 (c^2 + S^2))
    assert code == 0 and js["cost"] == pytest.approx(
        4 * 2.25 * 1.75**2 / (2.5**2 * 4.25), rel=1e-13
    )
    assert js["estimator"] == "exact" and "stderr" not in js


def test_stein_cost_monte_carlo_has_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "stein-cost",
        "--model",
        "two-point",
        "--from",
        "0.5",
        "--to",
        "0.4",
        "--estimator",
        "monte-carlo",
        "--samples",
        "2000",
        "--seed",
        "1",
        "--json",
    )
    js = json.loads(out)
    code2, out2, _ = run(
        capsys, "stein-cost", "--model", "two-point", "--from", "0.5", "--to", "0.4", "--json"
    )
    exact = json.loads(out2)["cost"]
    assert code == code2 == 0 and js["stderr"] > 0 and abs(js["cost"] - exact) <= 5 * js["stderr"]
    assert js["samples"] == 2000 and js["seed"] == 1


@pytest.mark.parametrize(
    "argv, match",
    [
        (
            ("--model", "gaussian", "--c", "1", "--from", "1", "--to", "2"),
            "--from must be the noisier",
        ),
        (
            ("--model", "gaussian", "--c", "1", "--from", "inf", "--to", "2"),
            "--from must be a finite",
        ),
        (("--model", "/nonexistent/dir", "--from", "2", "--to", "1"), "must be one of"),
        (
            ("--model", "gm", "--from", "2", "--to", "1", "--estimator", "exact"),
            "needs an analytic model",
        ),
        (("--model", "gaussian", "--from", "2", "--to", "1"), "needs --c"),
        (
            ("--model", "gaussian", "--c", "1", "--from", "2", "--to", "1", "--samples", "1"),
            "--samples",
        ),
    ],
)
def test_stein_cost_bad_input(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], match: str
) -> None:
    code, out, err = run(capsys, "stein-cost", *argv)
    assert code == 2 and out == "" and match in err and len(err.strip().splitlines()) == 1


def test_schedule_stein_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "schedule",
        "stein",
        "--steps",
        "6",
        "--model",
        "gaussian",
        "--eigenvalues",
        "0.2,1,3",
        "--probe-levels",
        "200",
        "--json",
    )
    js = json.loads(out)
    assert code == 0 and js["method"] == "stein" and len(js["sigmas"]) == 7
    p = js["params"]
    assert p["estimator"] == "exact" and p["probe_levels"] == 200 and len(p["interval_costs"]) == 6
    assert p["total_length"] > 0 and "interval_costs_stderr" in p


def test_schedule_stein_jvp_default_for_non_analytic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "schedule",
        "stein",
        "--steps",
        "4",
        "--model",
        "gm",
        "--samples",
        "32",
        "--probe-levels",
        "64",
        "--seed",
        "2",
        "--json",
    )
    js = json.loads(out)
    assert code == 0 and js["params"]["estimator"] == "jvp" and js["params"]["seed"] == 2
    assert js["params"]["total_length_stderr"] > 0


def test_schedule_stein_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "schedule", "stein", "--steps", "4")
    assert code == 2 and "--model" in err
    code, _, err = run(
        capsys, "schedule", "stein", "--steps", "40", "--model", "two-point", "--probe-levels", "50"
    )
    assert code == 2 and "--probe-levels must be" in err
