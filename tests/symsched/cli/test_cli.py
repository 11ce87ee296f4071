"""The command-line contract of docs/cli.md: outputs, JSON fields, exit codes, file safety."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run


def test_schedule_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "schedule", "tangent", "--steps", "4", "--eigenvalues", "1,2,3", "--json"
    )
    assert code == 0
    obj = json.loads(out)
    assert obj["method"] == "tangent" and obj["steps"] == 4 and len(obj["sigmas"]) == 5
    assert obj["sigmas"][0] == "inf" and obj["sigmas"][-1] == 0.0
    assert obj["params"]["gamma_star"] == pytest.approx(
        (6 / (1 + 1 / 2 + 1 / 3)) ** 0.25, rel=1e-14
    )
    assert {"method", "steps", "sigmas", "params", "version"} <= set(obj)
    assert obj["params"]["sigma_max"] == "inf"


def test_schedule_defaults_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schedule", "karras", "--steps", "3", "--format", "csv")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "k,sigma" and len(lines) == 5
    assert float(lines[1].split(",")[1]) == 80.0 and float(lines[-1].split(",")[1]) == 0.002


def test_kdiffusion_export_ends_at_zero_in_n_steps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "schedule", "loglinear", "--steps", "3", "--format", "k-diffusion")
    assert code == 0 and json.loads(out)[-1] == 0.0 and len(json.loads(out)) == 4
    assert json.loads(out)[-2] == 0.002  # the 2-step grid (3 levels 80 -> 0.002), then 0
    assert "3 steps: NFE 3 (" in err and "5 (flow-heun, heun)" in err
    code, out, err = run(
        capsys,
        "schedule",
        "tangent",
        "--c",
        "1",
        "--steps",
        "3",
        "--sigma-max",
        "80",
        "--format",
        "comfyui",
    )
    assert code == 0 and len(json.loads(out)) == 4  # already ends at 0: no extra 0


def test_output_file_is_not_clobbered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "s.json"
    assert run(capsys, "schedule", "karras", "--steps", "3", "--json", "-o", str(target))[0] == 0
    first = target.read_text()
    code, _, err = run(capsys, "schedule", "karras", "--steps", "5", "--json", "-o", str(target))
    assert code == 2 and "--force" in err and target.read_text() == first
    assert (
        run(capsys, "schedule", "karras", "--steps", "5", "--json", "-o", str(target), "--force")[0]
        == 0
    )
    assert json.loads(target.read_text())["steps"] == 5
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_kl_json_fields_match_python_api(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "kl", "--eigenvalues", "0.5,2", "--sigmas", "inf,3,1,0.2,0", "--json"
    )
    assert code == 0
    obj = json.loads(out)
    for key in (
        "kl_source_output",
        "kl_output_source",
        "steps",
        "sampler",
        "start",
        "sigmas",
        "variance_ratios",
    ):
        assert key in obj
    from symsched import kl

    ref = kl([0.5, 2.0], [math.inf, 3, 1, 0.2, 0])
    assert obj["kl_source_output"] == ref.kl_source_output and obj["steps"] == 4
    assert obj["start"] == "exact" and obj["sampler"] == "ddim" and obj["sigmas"][0] == "inf"


def test_kl_with_schedule_and_spectrum_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "lam.npy"
    np.save(f, np.array([0.2, 1.0, 3.0]))
    code, out, _ = run(
        capsys, "kl", "--spectrum-file", str(f), "--schedule", "tangent", "--steps", "10", "--json"
    )
    assert code == 0
    obj = json.loads(out)
    assert obj["schedule"]["params"]["gamma_star"] > 0 and len(obj["variance_ratios"]) == 3
    txt = tmp_path / "lam.txt"
    txt.write_text("# eigenvalues\n0.2\n1.0\n3.0\n")
    code, out2, _ = run(
        capsys,
        "kl",
        "--spectrum-file",
        str(txt),
        "--schedule",
        "tangent",
        "--steps",
        "10",
        "--start",
        "prior",
        "--json",
    )
    assert (
        code == 0 and json.loads(out2)["kl_source_output"] == obj["kl_source_output"]
    )  # pure-noise start


def test_large_spectra_omit_the_ratio_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "big.npy"
    np.save(f, np.linspace(0.1, 2, 1001))
    code, out, _ = run(capsys, "kl", "--spectrum-file", str(f), "--sigmas", "10,1,0.1", "--json")
    assert code == 0 and "variance_ratios" not in json.loads(out)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (("kl", "--eigenvalues", "1,-2", "--sigmas", "inf,1,0"), "--eigenvalues"),
        (("kl", "--eigenvalues", "1,nan", "--sigmas", "inf,1,0"), "--eigenvalues"),
        (("kl", "--eigenvalues", "1", "--sigmas", "1,2"), "--sigmas"),
        (("kl", "--eigenvalues", "1", "--sigmas", "1"), "--sigmas"),
        (("kl", "--eigenvalues", "1", "--sigmas", "1,-1"), "--sigmas"),
        (("kl", "--eigenvalues", "1", "--sigmas", "a,b"), "--sigmas"),
        (("kl", "--eigenvalues", "1", "--schedule", "karras"), "--steps"),
        (("kl", "--spectrum-file", "/no/such/file", "--sigmas", "2,1"), "--spectrum-file"),
        (("schedule", "karras", "--steps", "0"), "--steps"),
        (
            ("schedule", "karras", "--steps", "3", "--sigma-min", "5", "--sigma-max", "1"),
            "--sigma-min",
        ),
        (("schedule", "nope", "--steps", "3"), "METHOD"),
        (("schedule", "karras", "--steps", "3", "--c", "2"), "--c"),
        (("schedule", "tangent", "--steps", "3"), "--c"),
        (
            ("schedule", "tangent", "--c", "1", "--steps", "3", "--format", "k-diffusion"),
            "sigma_max",
        ),
        (("schedule", "loglinear", "--steps", "3", "--sigma-min", "0"), "--sigma-min"),
        (("derive", "nothing"), "topic"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert needle in lines[0]


def test_bad_spectrum_file_contents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("1.0\nhello\n")
    code, _, err = run(capsys, "kl", "--spectrum-file", str(f), "--sigmas", "2,1")
    assert code == 2 and "could not be read" in err


def test_sigma_max_inf_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "schedule", "tangent", "--c", "0.5", "--steps", "2", "--sigma-max", "inf", "--json"
    )
    sig = json.loads(out)["sigmas"]
    assert (
        code == 0 and sig[0] == "inf" and sig[1] == pytest.approx(0.5, rel=1e-15) and sig[2] == 0.0
    )


def test_derive_prints_the_steps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "derive", "gaussian", "--latex")
    assert code == 0 and "\\frac" in out and "[3] DDIM step" in out
    code, out, _ = run(capsys, "derive", "tangent")
    assert code == 0 and "gamma*" in out


def test_verify_lists_and_rejects_unknown_pattern(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "verify", "--list")
    assert code == 0 and "gaussian.closed-form-vs-monte-carlo" in out
    code, _, err = run(capsys, "verify", "--only", "no-such-claim*", "--out", str(tmp_path / "r"))
    assert code == 2 and "matches no claim" in err


def test_verify_writes_report_and_refuses_to_clobber(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "rep"
    code, _, _ = run(capsys, "verify", "--only", "tangent.J-*", "--out", str(out_dir))
    assert code == 0
    report = (out_dir / "report.md").read_text()
    assert "tangent.J-closed-form" in report and "PASS" in report
    res = json.loads((out_dir / "results.json").read_text())
    assert res["claims"][0]["status"] == "PASS"
    code, _, err = run(capsys, "verify", "--only", "tangent.J-*", "--out", str(out_dir))
    assert code == 2 and "--force" in err
    assert run(capsys, "verify", "--only", "tangent.J-*", "--out", str(out_dir), "--force")[0] == 0


def test_verify_exits_1_when_a_claim_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from symsched_verify import registry

    registry.load_claims()
    c = registry.CLAIMS["tangent.J-closed-form"]
    monkeypatch.setitem(
        registry.CLAIMS,
        c.id,
        registry.Claim(
            c.id,
            c.statement,
            c.source,
            c.method,
            c.tolerance,
            c.docs,
            lambda b: registry.Outcome(False, "forced"),
        ),
    )
    monkeypatch.setattr(registry, "load_claims", lambda: dict(registry.CLAIMS))
    import symsched_verify.run as vrun

    monkeypatch.setattr(vrun, "load_claims", lambda: dict(registry.CLAIMS))
    code, _, _ = run(capsys, "verify", "--only", "tangent.J-*", "--out", str(tmp_path / "f"))
    assert code == 1


# --- export formats on the command line ------------------------------------------------------


def test_diffusers_timesteps_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "schedule",
        "karras",
        "--steps",
        "10",
        "--sigma-min",
        "0.0292",
        "--sigma-max",
        "14.6146",
        "--format",
        "diffusers-timesteps",
    )
    ts = json.loads(out)
    assert code == 0 and len(ts) == 10 and ts[0] == 999 and ts == sorted(set(ts), reverse=True)
    assert "scaled_linear" in err and "10 steps: NFE 10 (" in err
    code, out, err = run(
        capsys,
        "schedule",
        "karras",
        "--steps",
        "10",
        "--sigma-min",
        "0.0100005",
        "--sigma-max",
        "157",
        "--format",
        "diffusers-timesteps",
        "--train-schedule",
        "linear",
    )
    assert code == 0 and json.loads(out)[-1] == 0 and "linear table" in err


def test_flow_matching_format_states_and_undoes_shift(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "schedule",
        "tangent",
        "--c",
        "1",
        "--steps",
        "4",
        "--format",
        "flow-matching",
        "--shift",
        "3",
    )
    t = json.loads(out)
    assert code == 0 and len(t) == 4 and t[0] == 1.0 and "shift = 3" in err
    # the scheduler's shift S t / (1 + (S - 1) t) maps the export back to t = rho/(1+rho),
    # rho = tan(3pi/8)
    s = 3 * t[1] / (1 + 2 * t[1])
    assert s / (1 - s) == pytest.approx(math.tan(3 * math.pi / 8), rel=1e-14)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (
            (
                "schedule",
                "karras",
                "--steps",
                "200",
                "--sigma-min",
                "0.0292",
                "--sigma-max",
                "14.6146",
                "--format",
                "diffusers-timesteps",
            ),
            "both round to training timestep",
        ),
        (("schedule", "karras", "--steps", "5", "--format", "diffusers-timesteps"), "--sigma-max"),
        (("schedule", "karras", "--steps", "5", "--format", "csv", "--shift", "2"), "--shift"),
        (
            (
                "schedule",
                "karras",
                "--steps",
                "5",
                "--format",
                "json",
                "--train-schedule",
                "linear",
            ),
            "--train-schedule",
        ),
        (
            (
                "schedule",
                "karras",
                "--steps",
                "5",
                "--format",
                "diffusers-timesteps",
                "--train-schedule",
                "bogus",
            ),
            "--train-schedule",
        ),
        (
            ("schedule", "karras", "--steps", "5", "--format", "flow-matching", "--shift", "0"),
            "shift",
        ),
    ],
)
def test_export_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and needle in err, err


def test_ays_schedule_command(capsys: pytest.CaptureFixture[str]) -> None:
    import symsched.schedules.methods.ays  # noqa: F401  (until symsched.schedules._registry._METHOD_MODULES lists it)

    code, out, _ = run(capsys, "schedule", "ays", "--model", "sdxl", "--steps", "10", "--json")
    obj = json.loads(out)
    assert code == 0 and obj["sigmas"][0] == 14.6146412293 and obj["sigmas"][-1] == 0.0291671582
    code, out, _ = run(
        capsys,
        "schedule",
        "ays",
        "--model",
        "sd15",
        "--steps",
        "5",
        "--sigma-min",
        "0",
        "--format",
        "comfyui",
    )
    assert code == 0 and len(json.loads(out)) == 6 and json.loads(out)[-1] == 0.0
    code, _, err = run(capsys, "schedule", "ays", "--model", "sd3", "--steps", "5")
    assert code == 2 and "--model" in err
