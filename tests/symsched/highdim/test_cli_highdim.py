"""The CLI contract of ``simulate`` and ``steps-needed`` (docs/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symsched.cli import main


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(list(args)) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def test_simulate_gm_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(
        capsys,
        "simulate",
        "gm",
        "--dim",
        "1e6",
        "--steps",
        "16",
        "--schedule",
        "vp-constant",
        "--samples",
        "2000",
        "--json",
        "--no-progress",
    )
    for key in ("mode_fraction", "within_std", "abs_magnetization"):
        assert isinstance(out[key], float) and isinstance(out[f"{key}_stderr"], float)
    assert out["targets"] == {"mode_fraction": 0.8, "within_std": 0.5, "abs_magnetization": 1.0}
    assert out["grid"]["sigmas"][0] == "inf" and out["grid"]["sigmas"][-1] == 0.0
    assert out["mode_fraction"] > 0.95  # VP-constant at d = 1e6 loses p


def test_simulate_cw_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(
        capsys,
        "simulate",
        "cw",
        "--dim",
        "100",
        "--steps",
        "8",
        "--schedule",
        "ve-dilated",
        "--samples",
        "50",
        "--beta",
        "1.5",
        "--json",
        "--no-progress",
    )
    for key in (
        "mode_fraction",
        "sign_magnetization",
        "minority_fraction",
        "within_var",
        "distance_to_spins",
    ):
        assert f"{key}_stderr" in out and key in out["targets"]
    assert out["targets"]["mode_fraction"] == pytest.approx(0.766780, abs=1e-6)  # W+, not p


def test_simulate_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "traj.png"
    _json(
        capsys,
        "simulate",
        "gm",
        "--dim",
        "1e4",
        "--steps",
        "8",
        "--schedule",
        "vp-dilated",
        "--samples",
        "100",
        "--plot",
        str(f),
        "--json",
        "--no-progress",
    )
    assert f.stat().st_size > 1000


def test_steps_needed_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(
        capsys,
        "steps-needed",
        "gm",
        "--schedule",
        "vp-dilated",
        "--dims",
        "1e2,1e4",
        "--json",
        "--no-progress",
    )
    assert set(out["steps"]) == {"100", "10000"}
    assert all(isinstance(v, int) for v in out["steps"].values())
    assert out["tolerance"] == 0.05 and isinstance(out["criterion"], str)


def test_steps_needed_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["steps-needed", "gm", "--schedule", "ve-constant", "--dims", "100", "--no-progress"])
        == 0
    )
    assert "N = " in capsys.readouterr().out
