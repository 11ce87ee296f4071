"""``symsched score`` (docs/cli.md#score)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import one_line, run

from symsched.gaussian.coupling import criteria


def test_a_comfyui_string_is_scored_under_every_sampler_that_takes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = "[14.6146, 4.0, 1.0, 0.25, 3e-05, 0.0]"
    code, out, _ = run(capsys, "score", "--comfyui", text, "--eigenvalues", "0.1,1", "--json",
                       "--no-optimum")  # fmt: skip
    assert code == 0
    obj = json.loads(out)
    assert obj["steps"] == 5  # 3e-05 is one level, not two
    names = [s["sampler"] for s in obj["scores"]]
    assert "heun" in names and "ddim" in names
    grid = [14.6146, 4.0, 1.0, 0.25, 3e-05, 0.0]
    for s in obj["scores"]:
        ref = criteria([0.1, 1.0], grid, sampler=s["sampler"])
        assert s["kl_source_output"] == pytest.approx(ref.kl_source_output, rel=1e-12)
        assert s["coupling"] == pytest.approx(ref.coupling, rel=1e-12)
        assert s["gap"] is None


def test_a_schedule_file_and_a_target(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "schedule", "flow", "--steps", "6", "--shift", "2", "--json")
    f = tmp_path / "s.json"
    f.write_text(out)
    code, out, _ = run(capsys, "score", "--schedule-file", str(f), "--eigenvalues", "0.5,2",
                       "--sampler", "ddim,flow-heun", "--target-kl", "0.01", "--json")  # fmt: skip
    assert code == 0
    sc = {s["sampler"]: s for s in json.loads(out)["scores"]}
    assert set(sc) == {"ddim", "flow-heun"}
    assert sc["ddim"]["gap"] >= 1.0 - 1e-6
    assert sc["flow-heun"]["steps_for_target"] < sc["ddim"]["steps_for_target"]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (("--comfyui", "[14.6, x, 0]"), ("--comfyui", "unexpected")),
        (("--sigmas", "1,2,0"), ("--sigmas",)),
        (("--schedule-file", "missing.json"), ("--schedule-file", "does not exist")),
        (("--flow-times", "1,0.5,2"), ("--flow-times", "[0, 1]")),
        (("--sigmas", "inf,1,0", "--sampler", "heun"), ("--sampler heun", "finite")),
        (("--sigmas", "3,1,0", "--sampler", "nope"), ("--sampler",)),
        (("--sigmas", "3,1,0", "--target-kl", "0"), ("--target-kl",)),
    ],
)
def test_bad_score_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, "score", *argv, "--eigenvalues", "1")
    assert code == 2 and out == ""
    one_line(err, *needles)


def test_steps_for_answers_how_many_steps(capsys: pytest.CaptureFixture[str]) -> None:
    from symsched import build
    from symsched.gaussian import exact

    lam = [0.01, 0.1, 1.0, 4.0]
    code, out, _ = run(capsys, "steps-for", "--eigenvalues", "0.01,0.1,1,4", "--target-kl",
                       "0.05", "--method", "karras", "--sigma-min", "0.002", "--json")  # fmt: skip
    assert code == 0
    n = json.loads(out)["steps"]

    def kl(m: int) -> float:
        return exact.kl(
            lam, build("karras", m, sigma_min=0.002, sigma_max=80.0).sigmas
        ).kl_source_output

    assert kl(n) <= 0.05 < kl(n - 1)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (("--target-kl", "0", "--method", "karras"), ("--target-kl",)),
        (("--target-kl", "0.1", "--method", "karras", "--rho", "-1"), ("--rho",)),
        (("--target-kl", "0.1", "--method", "karras", "--c", "1"), ("--c", "karras")),
        (("--target-kl", "0.1", "--method", "flow", "--sampler", "heun"), ("finite",)),
    ],
)
def test_bad_steps_for_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, "steps-for", "--eigenvalues", "1", *argv)
    assert code == 2 and out == ""
    one_line(err, *needles)
