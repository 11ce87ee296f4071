"""Regression tests of the command-line contract: each input that once blew up memory, was
silently ignored or misreported now gets a clean, one-line refusal (docs/cli.md).

Each case asserts the exit status, that stderr is one line, and that it names the flag the user
typed (and, for size guards, that the refusal comes before any allocation, in under a second).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run

from symsched import _budget


def _refused(capsys: pytest.CaptureFixture[str], flag: str, *argv: str) -> str:
    code, _, err = run(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, (argv, code, err)
    assert flag in lines[0], (argv, err)
    return lines[0]


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "lam1e6.npy", np.geomspace(1e-4, 10.0, 1_000_000))
    np.save(tmp_path / "complex.npy", np.array([1 + 2j, 3.0]))
    np.save(tmp_path / "matrix.npy", np.eye(2) + 1.0)
    (tmp_path / "two-columns.txt").write_text("1 2\n3 4\n")
    (tmp_path / "row.txt").write_text("0.5 1 2\n")
    return tmp_path


# --- size guards: refused before allocating -------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "argv"),
    [
        ("--steps", ["schedule", "loglinear", "--steps", "2147483649"]),
        ("--steps", ["schedule", "loglinear", "--steps", "1e9"]),
        ("--steps", ["schedule", "karras", "--steps", "1000000000"]),
        ("--steps", ["kl", "--eigenvalues", "1", "--schedule", "loglinear", "--steps", "1e9"]),
        (
            "--steps",
            ["asymptotics", "--eigenvalues", "1", "--schedule", "karras", "--steps", "1000000000"],
        ),
        (
            "--steps",
            [
                "sweep",
                "--spectra",
                "digits",
                "--steps",
                "1000000000",
                "--methods",
                "karras",
                "--no-progress",
            ],
        ),
        (
            "--steps",
            [
                "simulate",
                "gm",
                "--dim",
                "100",
                "--steps",
                "1000000000",
                "--schedule",
                "vp-constant",
                "--no-progress",
            ],
        ),
        (
            "--samples",
            [
                "simulate",
                "gm",
                "--dim",
                "100",
                "--steps",
                "10",
                "--schedule",
                "vp-constant",
                "--samples",
                "1000000000",
                "--no-progress",
            ],
        ),
        (
            "--samples",
            [
                "simulate",
                "gm",
                "--dim",
                "1e4",
                "--steps",
                "10",
                "--schedule",
                "vp-constant",
                "--simulator",
                "full",
                "--samples",
                "1000000",
                "--no-progress",
            ],
        ),
        ("--nfe", ["rank", "--model", "edm", "--data", "digits", "--nfe", "1000000000"]),
        (
            "--probe-levels",
            [
                "schedule",
                "stein",
                "--steps",
                "4",
                "--model",
                "gaussian",
                "--c",
                "1",
                "--dim",
                "4",
                "--probe-levels",
                "1000000000000",
            ],
        ),
        (
            "--dim",
            [
                "schedule",
                "stein",
                "--steps",
                "4",
                "--model",
                "gaussian",
                "--c",
                "1",
                "--dim",
                "1000000000000",
            ],
        ),
        (
            "--dim",
            [
                "stein-cost",
                "--model",
                "gaussian",
                "--c",
                "1",
                "--dim",
                "1000000000000",
                "--from",
                "2",
                "--to",
                "1",
            ],
        ),
        (
            "--samples",
            [
                "stein-cost",
                "--model",
                "gaussian",
                "--c",
                "1",
                "--dim",
                "64",
                "--from",
                "2",
                "--to",
                "1",
                "--estimator",
                "monte-carlo",
                "--samples",
                "1000000000",
            ],
        ),
        (  # the compressed geodesic fits at any size; the fixed point on 1e6 values does not
            "--spectrum-file",
            [
                "schedule",
                "variational",
                "--steps",
                "10",
                "--spectrum-file",
                "lam1e6.npy",
                "--exact-spectrum",
            ],
        ),
    ],
)
def test_too_large_requests_are_refused_before_allocating(
    capsys: pytest.CaptureFixture[str],
    files: Path,
    flag: str,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(_budget.ENV_VARIABLE, "4G")
    t0 = time.perf_counter()
    line = _refused(capsys, flag, *argv)
    assert time.perf_counter() - t0 < 5.0  # includes loading a 1e6-eigenvalue file
    assert "needs about" in line and "--max-memory" in line and "4 GB (SYMSCHED_MAX_MEMORY)" in line


def test_ranking_a_million_eigenvalues_is_refused_only_below_its_few_hundred_megabytes(
    capsys: pytest.CaptureFixture[str], files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the spectrum-aware strategies search on the compressed spectrum, so ranking at d = 1e6
    # needs a few d-vectors (about 0.4 GB): refused under a 100 MB budget, before it allocates
    monkeypatch.setenv(_budget.ENV_VARIABLE, "100M")
    argv = ["rank", "--model", "edm", "--spectrum-file", "lam1e6.npy", "--nfe", "5"]
    line = _refused(capsys, "--spectrum-file", *argv)
    assert "needs about" in line and "100 MB (SYMSCHED_MAX_MEMORY)" in line


def test_dim_above_2_to_53_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    _refused(
        capsys,
        "--dim",
        "simulate",
        "gm",
        "--dim",
        "1e308",
        "--steps",
        "8",
        "--schedule",
        "vp-constant",
        "--no-progress",
    )
    _refused(capsys, "--dims", "steps-needed", "gm", "--schedule", "vp-constant", "--dims", "1e17")


def test_max_memory_raises_and_lowers_the_budget(capsys: pytest.CaptureFixture[str]) -> None:
    line = _refused(capsys, "--steps", "--max-memory", "1K", "schedule", "karras", "--steps", "10")
    assert "1 KB (--max-memory)" in line
    code, out, _ = run(capsys, "--max-memory", "1G", "schedule", "karras", "--steps", "10")
    assert code == 0 and len(out.strip().splitlines()) == 12
    _refused(capsys, "--max-memory", "--max-memory", "lots", "schedule", "karras", "--steps", "4")


def test_budget_defaults_to_half_the_available_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_budget.ENV_VARIABLE, raising=False)
    budget, source = _budget.memory_budget()
    assert source == "half the available memory"
    assert (
        budget == int(0.5 * _budget.available_memory())
        or abs(budget - 0.5 * _budget.available_memory()) < 0.05 * budget
    )  # the available memory moves a little between the two reads
    assert _budget.parse_size("16G") == 16 * 1024**3 and _budget.parse_size("2e9") == 2_000_000_000


# --- accepted nonsense and ignored options ---------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "argv", "needle"),
    [
        (
            "--spectrum-file",
            ["kl", "--spectrum-file", "complex.npy", "--sigmas", "80,1,0"],
            "complex",
        ),
        (
            "--spectrum-file",
            ["kl", "--spectrum-file", "matrix.npy", "--sigmas", "80,1,0"],
            "2x2 array",
        ),
        (
            "--spectrum-file",
            ["kl", "--spectrum-file", "two-columns.txt", "--sigmas", "80,1,0"],
            "2x2 array",
        ),
        (
            "--eigenvalues",
            ["kl", "--spectrum-file", "row.txt", "--eigenvalues", "1", "--sigmas", "80,1,0"],
            "not allowed with",
        ),
        (
            "--eigenvalues",
            ["schedule", "karras", "--steps", "4", "--eigenvalues", "1"],
            "method karras does not take it",
        ),
        (
            "--rho",
            ["kl", "--eigenvalues", "1", "--sigmas", "80,1,0", "--rho", "7"],
            "go with --schedule",
        ),
        (
            "--simulator",
            [
                "simulate",
                "cw",
                "--dim",
                "10",
                "--steps",
                "4",
                "--schedule",
                "vp-constant",
                "--simulator",
                "reduced",
            ],
            "gm option",
        ),
        (
            "--samples",
            ["steps-needed", "gm", "--schedule", "vp-constant", "--dims", "100", "--samples", "10"],
            "cw option",
        ),
        (
            "--seed",
            ["steps-needed", "gm", "--schedule", "vp-constant", "--dims", "100", "--seed", "3"],
            "cw option",
        ),
        (
            "--t-min",
            ["schedule", "vp-linear", "--steps", "4", "--t-min", "0.01", "--sigma-min", "0.1"],
            "both set the low end",
        ),
        (
            "--shift",
            ["schedule", "karras", "--steps", "4", "--format", "flow-matching", "--shift", "1e-20"],
            "collapses the grid",
        ),
        (
            "--shift",
            ["schedule", "karras", "--steps", "4", "--format", "json", "--shift", "3"],
            "goes with --format flow-matching",
        ),
        (
            "--seed",
            [
                "schedule",
                "stein",
                "--steps",
                "4",
                "--model",
                "gaussian",
                "--c",
                "1",
                "--dim",
                "4",
                "--seed",
                "-1",
            ],
            ">= 0",
        ),
        (
            "--seed",
            [
                "stein-cost",
                "--model",
                "gaussian",
                "--c",
                "1",
                "--dim",
                "4",
                "--from",
                "2",
                "--to",
                "1",
                "--seed",
                "-1",
            ],
            ">= 0",
        ),
        (
            "--eta",
            ["kl", "--eigenvalues", "1", "--sigmas", "80,1,0", "--eta", "0.5"],
            "goes with --sampler ancestral",
        ),
        (
            "--m",
            [
                "simulate",
                "gm",
                "--dim",
                "100",
                "--steps",
                "8",
                "--schedule",
                "vp-constant",
                "--m",
                "1e308",
                "--no-progress",
            ],
            "[1e-06, 1e+06]",
        ),
        (
            "--scheduler",
            [
                "simulate",
                "gm",
                "--dim",
                "100",
                "--steps",
                "8",
                "--schedule",
                "vp-constant",
                "--scheduler",
                "",
                "--no-progress",
            ],
            "address",
        ),
        ("--nfe", ["rank", "--model", "edm", "--data", "digits", "--nfe", "inf"], "integers"),
    ],
)
def test_options_that_cannot_take_effect_are_errors(
    capsys: pytest.CaptureFixture[str], files: Path, flag: str, argv: list[str], needle: str
) -> None:
    assert needle in _refused(capsys, flag, *argv)


def test_a_row_of_eigenvalues_in_a_text_file_is_accepted(
    capsys: pytest.CaptureFixture[str], files: Path
) -> None:
    code, out, err = run(capsys, "kl", "--spectrum-file", "row.txt", "--sigmas", "80,1,0", "--json")
    assert code == 0, err and json.loads(out)["dimension"] == 3


# --- messages name the flag as typed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "argv", "needle"),
    [
        ("--rho", ["schedule", "karras", "--steps", "4", "--rho", "-1"], "--rho must be > 0"),
        (
            "--t-min",
            ["schedule", "vp-linear", "--steps", "4", "--t-min", "2", "--t-max", "1"],
            "--t-min must be < --t-max",
        ),
        (
            "--c",
            [
                "stein-cost",
                "--model",
                "gaussian",
                "--c",
                "nan",
                "--dim",
                "8",
                "--from",
                "2",
                "--to",
                "1",
            ],
            "argument --c: must be a number",
        ),
        ("--output", ["schedule", "karras", "--steps", "4", "--output", "."], "is a directory"),
        ("-o", ["schedule", "karras", "--steps", "4", "-o", "."], "is a directory"),
        ("--s", ["schedule", "cosine", "--steps", "4", "--s", "-1"], "--s must be > 0"),
        # found by the slow fuzzing tier: a sampler that cannot start from pure noise, given the
        # infinite level by --sigmas or --sigma-max, and a level outside the input range
        (
            "--sigmas",
            ["kl", "--eigenvalues", "1", "--sampler", "heun", "--sigmas", "inf,1,0"],
            "--sigmas: heun needs a finite sigma_0",
        ),
        (
            "--sigma-max",
            [
                "sweep",
                "--spectra",
                "digits",
                "--steps",
                "4",
                "--sampler",
                "heun",
                "--sigma-max",
                "inf",
                "--no-progress",
            ],
            "--sigma-max inf: --sampler heun cannot start from pure noise",
        ),
        (
            "--from",
            ["stein-cost", "--model", "two-point", "--from", "1e308", "--to", "0.5"],
            "--from must lie in [1e-300, 1e+300]",
        ),
        (
            "--sigma-max",
            ["schedule", "cosine", "--steps", "4", "--sigma-max", "1e308"],
            "--sigma-max must be inf or lie in [1e-300, 1e300]",
        ),
        (
            "--to",
            [
                "stein-cost",
                "--model",
                "two-point",
                "--from",
                "2",
                "--to",
                "1e-300",
                "--estimator",
                "monte-carlo",
                "--samples",
                "256",
            ],
            "--to 1e-300: two-point: the score overflows float64",
        ),
        (
            "--eigenvalues",
            ["asymptotics", "--schedule", "karras", "--eigenvalues", "1,1e300"],
            "--eigenvalues: karras: the angle derivatives are not finite",
        ),
        (
            "--mode-sigma",
            ["stein-cost", "--model", "gm", "--from", "2", "--to", "1", "--mode-sigma", "1e308"],
            "--mode-sigma must be in [0, 1e+06]",
        ),
        (  # was NaN in the optimiser's objective, refused only by the JSON writer
            "--sigma-max",
            [
                "schedule",
                "kl-optimal",
                "--steps",
                "3",
                "--eigenvalues",
                "0.1,1",
                "--sigma-max",
                "1e300",
            ],
            "--sigma-max = 1e+300: the kl-optimal optimiser works on levels in [1e-20, 1e+20]",
        ),
        (
            "--eigenvalues",
            [
                "rank",
                "--model",
                "edm",
                "--eigenvalues",
                "1e-300",
                "--nfe",
                "3",
                "--strategies",
                "edm-rho7,tangent",
            ],
            "--eigenvalues: tangent with steps=3",
        ),
        (  # the interior levels underflowed to 0, reported as a collision
            "--sigma-max",
            [
                "schedule",
                "loglinear",
                "--steps",
                "3",
                "--sigma-max",
                "1e300",
                "--sigma-min",
                "1e-300",
            ],
            "loglinear spans at most 1e+300 in --sigma-max / --sigma-min",
        ),
        (  # was an internal error (NaN in the geodesic's quadrature)
            "--eigenvalues",
            ["schedule", "variational", "--steps", "3", "--eigenvalues", "1e-300"],
            "the variational geodesic needs a spectrum in [1e-40, 1e+40]",
        ),
        (  # found by the slow fuzzing tier: started 2^31 Dask worker processes (out of memory)
            "--workers",
            [
                "simulate",
                "gm",
                "--dim",
                "50",
                "--steps",
                "6",
                "--schedule",
                "vp-constant",
                "--samples",
                "100",
                "--no-progress",
                "--workers",
                "2147483649",
            ],
            "--workers: a local Dask cluster of 2147483649 worker processes needs about",
        ),
        (  # was a collision of infinite levels, naming no flag
            "--t-max",
            ["schedule", "vp-linear", "--steps", "4", "--t-max", "2147483649"],
            "vp-linear: --t-max = 2.14748e+09 gives a noise level beyond float64",
        ),
        (  # was an internal error (ceil of an infinite sample count)
            "--max-stderr",
            [
                "simulate",
                "gm",
                "--dim",
                "100",
                "--steps",
                "8",
                "--schedule",
                "vp-constant",
                "--samples",
                "500",
                "--no-progress",
                "--max-stderr",
                "1e-200",
            ],
            "--max-stderr 1e-200 would need more than 2^53 samples",
        ),
        (  # was "math domain error": m(beta) rounds to 1 from beta ~ 18
            "--beta",
            [
                "simulate",
                "cw",
                "--dim",
                "40",
                "--steps",
                "6",
                "--schedule",
                "ve-dilated",
                "--samples",
                "50",
                "--no-progress",
                "--beta",
                "80",
            ],
            "--beta must be a number in [1, 15], got 80",
        ),
        (  # was an internal error: a 309-digit step count reached a float conversion
            "--steps",
            ["schedule", "stein", "--steps", "1e308", "--model", "gaussian", "--c", "0.5"],
            "argument --steps: must be an integer of magnitude <= 2^53",
        ),
        (  # the trained model's range message named flags stein-cost does not have
            "--from",
            ["stein-cost", "--model", "digits", "--from", "1e300", "--to", "0.5"],
            "--from 1e+300 --to 0.5: trained-digits takes levels in [0.002, 80]",
        ),
        (
            "--weight",
            [
                "stein-cost",
                "--model",
                "gaussian",
                "--c",
                "1",
                "--from",
                "3",
                "--to",
                "1",
                "--weight",
                "source",
                "--estimator",
                "jvp",
            ],
            "--weight source goes with a finite-step estimator",
        ),
        (
            "--model",
            ["rank", "--model", "edm", "--eigenvalues", "1,2", "--nfe", "3", "--strategies", "ays"],
            "no table for --model 'edm'",
        ),
        (  # was "maps to times [0, nan]"
            "--sigma-max",
            ["schedule", "vp-linear", "--steps", "3", "--sigma-max", "1e300"],
            "vp-linear: --sigma-max = 1e+300 lies beyond what its time map resolves",
        ),
    ],
)
def test_refusals_name_the_flag_as_typed(
    capsys: pytest.CaptureFixture[str], files: Path, flag: str, argv: list[str], needle: str
) -> None:
    assert needle in _refused(capsys, flag, *argv)


def test_kl_schedule_stein_takes_the_model_options(capsys: pytest.CaptureFixture[str]) -> None:
    # the source spectrum goes to a gaussian model; a two-point model takes none
    code, out, err = run(
        capsys,
        "kl",
        "--eigenvalues",
        "1,2",
        "--schedule",
        "stein",
        "--steps",
        "4",
        "--model",
        "gaussian",
        "--json",
    )
    assert code == 0, err
    res = json.loads(out)
    assert res["schedule"]["method"] == "stein" and res["schedule"]["params"]["model"].startswith(
        "gaussian"
    )
    code, out, err = run(
        capsys,
        "kl",
        "--eigenvalues",
        "1,2",
        "--schedule",
        "stein",
        "--steps",
        "4",
        "--model",
        "two-point",
        "--json",
    )
    assert code == 0, err and json.loads(out)["steps"] == 4


@pytest.mark.parametrize(
    "argv",
    [
        [
            "stein-cost",
            "--model",
            "gaussian",
            "--c",
            "0.5",
            "--dim",
            "64",
            "--from",
            "2",
            "--to",
            "1",
            "--json",
        ],
        ["stein-cost", "--model", "two-point", "--from", "2", "--to", "1"],
        ["schedule", "stein", "--model", "gaussian", "--c", "0.5", "--dim", "64", "--steps", "4"],
    ],
)
def test_closed_form_stein_costs_need_no_torch(argv: list[str]) -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"  # any import of torch now fails
        "from symsched.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
