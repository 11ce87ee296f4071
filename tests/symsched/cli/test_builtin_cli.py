"""``symsched schedule builtin`` and ``symsched score --builtin / --diffusers-config``
(docs/cli.md#schedule-builtin)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import one_line, run

from symsched.builtin import BUILTINS, get_builtin
from symsched.gaussian.coupling import criteria


def test_list_names_every_registered_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schedule", "builtin", "--list")
    assert code == 0
    for name in BUILTINS:
        assert name in out
    code, out, _ = run(capsys, "schedule", "builtin", "--list", "--name", "k-diffusion:karras")
    assert code == 0 and "rho=7.0" in out and "crowsonkb/k-diffusion" in out


def test_json_holds_the_tool_array_and_the_project_grid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "schedule",
        "builtin",
        "--name",
        "k-diffusion:karras",
        "--steps",
        "8",
        "--set",
        "sigma_min=0.03",
        "--set",
        "sigma_max=14.6",
        "--json",
    )
    assert code == 0
    obj = json.loads(out)
    direct = get_builtin("k-diffusion:karras").build(8, sigma_min=0.03, sigma_max=14.6)
    assert obj["tool_sigmas"] == direct.tool_sigmas.tolist()  # the tool's values, exactly
    assert obj["tool_dtype"] == str(direct.tool_sigmas.dtype)
    assert obj["sigmas"] == direct.sigmas.tolist()
    assert obj["executed_steps"] == 8 and obj["provenance"]["repository"] == "crowsonkb/k-diffusion"


def test_diffusers_config_file_is_read_as_from_config_reads_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cfg = {
        "_class_name": "EulerDiscreteScheduler",
        "_diffusers_version": "0.42.1",
        "beta_schedule": "scaled_linear",
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "timestep_spacing": "trailing",
        "skip_prk_steps": True,  # a PNDM key: not an argument of Euler, ignored
    }
    f = tmp_path / "scheduler_config.json"
    f.write_text(json.dumps(cfg))
    code, out, _ = run(capsys, "schedule", "builtin", "--config", str(f), "--steps", "7", "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["name"] == "diffusers:euler"
    assert obj["tool_timesteps"] == [999, 856, 713, 570, 428, 285, 142]  # trailing spacing
    assert "skip_prk_steps" in obj["params"]["config_keys_ignored"]
    # --set overrides the config
    code, out, _ = run(
        capsys,
        "schedule",
        "builtin",
        "--config",
        str(f),
        "--steps",
        "7",
        "--set",
        "timestep_spacing=leading",
        "--json",
    )
    assert code == 0 and json.loads(out)["tool_timesteps"][0] != 999
    # the same config scored: the grid is the reproduced one
    code, out, _ = run(
        capsys,
        "score",
        "--diffusers-config",
        str(f),
        "--steps",
        "7",
        "--eigenvalues",
        "0.5,2",
        "--sampler",
        "ddim",
        "--no-optimum",
        "--json",
    )
    assert code == 0
    sc = json.loads(out)
    grid = (
        get_builtin("diffusers:euler")
        .build(
            7,
            timestep_spacing="trailing",
            beta_schedule="scaled_linear",
            beta_start=0.00085,
            beta_end=0.012,
        )
        .sigmas
    )
    assert sc["scores"][0]["kl_source_output"] == pytest.approx(
        criteria([0.5, 2.0], grid, sampler="ddim").kl_source_output, rel=1e-12
    )


def test_score_builtin_scores_the_reproduced_grid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "score",
        "--builtin",
        "comfyui:simple",
        "--steps",
        "7",
        "--set",
        "model=sd15",
        "--eigenvalues",
        "0.5,2",
        "--sampler",
        "ddim",
        "--no-optimum",
        "--json",
    )
    assert code == 0
    obj = json.loads(out)
    grid = get_builtin("comfyui:simple").build(7, model="sd15").sigmas
    assert np.array_equal(np.array(obj["sigmas"], dtype=float), grid)
    assert obj["grid"]["builtin"] == "comfyui:simple"


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["schedule", "builtin", "--name", "foo:bar", "--steps", "3"], ["--name", "TOOL:NAME"]),
        (
            ["schedule", "builtin", "--name", "comfyui:nope", "--steps", "3"],
            ["--name", "comfyui:simple"],
        ),
        (["schedule", "builtin", "--name", "k-diffusion:karras"], ["--steps"]),
        (
            [
                "schedule",
                "builtin",
                "--name",
                "k-diffusion:karras",
                "--steps",
                "3",
                "--set",
                "rhoo=3",
            ],
            ["--set", "rhoo", "rho"],
        ),
        (
            ["schedule", "builtin", "--name", "k-diffusion:karras", "--steps", "3", "--set", "rho"],
            ["--set", "key=value"],
        ),
        (
            [
                "schedule",
                "builtin",
                "--name",
                "k-diffusion:karras",
                "--steps",
                "3",
                "--set",
                "rho=abc",
            ],
            ["--set", "rho"],
        ),
        (
            ["schedule", "builtin", "--name", "k-diffusion:karras", "--steps", "10000000"],
            ["--steps", "100000"],
        ),
        (
            [
                "schedule",
                "builtin",
                "--name",
                "diffusers:euler",
                "--steps",
                "5",
                "--set",
                "use_karras_sigmas=true",
                "--set",
                "use_beta_sigmas=true",
            ],
            ["--set", "diffusers:euler"],
        ),
        (["score", "--sigmas", "1,0", "--set", "a=1", "--eigenvalues", "1"], ["--set"]),
        (["score", "--builtin", "comfyui:simple", "--eigenvalues", "1"], ["--steps"]),
    ],
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], needles: list[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    one_line(err, *needles)


def test_bad_config_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    code, _, err = run(capsys, "schedule", "builtin", "--config", str(missing), "--steps", "3")
    assert code == 2 and "--config" in one_line(err)
    f = tmp_path / "c.json"
    f.write_text("[1, 2]")
    code, _, err = run(capsys, "schedule", "builtin", "--config", str(f), "--steps", "3")
    assert code == 2 and "JSON object" in one_line(err, "--config")
    f.write_text(json.dumps({"_class_name": "PNDMScheduler"}))
    code, _, err = run(capsys, "schedule", "builtin", "--config", str(f), "--steps", "3")
    assert code == 2 and "--name diffusers:euler" in one_line(err, "--config", "PNDMScheduler")
    f.write_text(json.dumps({"_class_name": "EulerDiscreteScheduler", "trained_betas": [0.1]}))
    code, _, err = run(capsys, "schedule", "builtin", "--config", str(f), "--steps", "3")
    assert code == 2 and "trained_betas" in one_line(err, "--config")
