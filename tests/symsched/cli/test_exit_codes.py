"""Exit codes of ``symsched`` (0 ok, 1 false claim, 2 bad input or environment, 70 internal error,
130 interrupted), one line on stderr each; --debug; missing extras; --device; library warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import one_line, run

import symsched.cli._derive as derive_cli
from symsched.cli._common import EXTRAS, MissingDependency

DERIVE = ["derive", "tangent"]
INTERNAL = (
    "symsched derive: internal error: RuntimeError: boom (please report it; rerun with --debug "
    "for the traceback)"
)


def cli_subprocess(
    *argv: str,
    block: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter with the modules ``block`` made unimportable (an import of
    them raises ImportError, as when the extra is not installed)."""
    code = (
        "import sys\n"
        f"for m in {list(block)!r}: sys.modules[m] = None\n"
        "from symsched.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        cwd=cwd,
    )


def raising(exc: BaseException) -> Any:
    def run_(args: Any) -> int:
        raise exc

    return run_


# --- 70: internal errors, --debug -----------------------------------------------------------------


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyError("boom"), ZeroDivisionError("boom")])
def test_unexpected_exception_exits_70_with_one_line(
    exc: Exception, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYMSCHED_DEBUG", raising=False)
    monkeypatch.setattr(derive_cli, "run", raising(exc))
    code, out, err = run(capsys, *DERIVE)
    assert code == 70 and out == ""
    line = one_line(err, "symsched derive: internal error:", type(exc).__name__, "--debug")
    assert "Traceback" not in err
    if isinstance(exc, RuntimeError):
        assert line == INTERNAL


def test_debug_flag_prints_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYMSCHED_DEBUG", raising=False)
    monkeypatch.setattr(derive_cli, "run", raising(RuntimeError("boom")))
    code, _, err = run(capsys, "--debug", *DERIVE)
    assert code == 70
    assert err.startswith("Traceback (most recent call last)") and "RuntimeError: boom" in err
    assert err.splitlines()[-1] == INTERNAL


@pytest.mark.parametrize("value", ["1", "yes"])
def test_debug_environment_variable(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYMSCHED_DEBUG", value)
    monkeypatch.setattr(derive_cli, "run", raising(RuntimeError("boom")))
    code, _, err = run(capsys, *DERIVE)
    assert code == 70 and "Traceback (most recent call last)" in err
    monkeypatch.setenv("SYMSCHED_DEBUG", "0")  # 0 means off
    code, _, err = run(capsys, *DERIVE)
    assert code == 70 and one_line(err) == INTERNAL


def test_debug_after_the_command_is_the_command_s_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *DERIVE, "--debug")
    assert code == 2
    one_line(err, "--debug")


# --- 130 ------------------------------------------------------------------------------------------


def test_keyboard_interrupt_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYMSCHED_DEBUG", raising=False)
    monkeypatch.setattr(derive_cli, "run", raising(KeyboardInterrupt()))
    code, out, err = run(capsys, *DERIVE)
    assert code == 130 and out == "" and one_line(err) == "symsched derive: interrupted"


# --- 2: bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("exc", [ValueError("--steps must be >= 1"), TypeError("--steps bad")])
def test_validation_errors_exit_2(
    exc: Exception, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derive_cli, "run", raising(exc))
    code, _, err = run(capsys, *DERIVE)
    assert code == 2 and one_line(err, "--steps") == f"symsched derive: error: {exc}"


def test_multi_line_message_becomes_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(derive_cli, "run", raising(ValueError("--c must be > 0\n  got -1")))
    code, _, err = run(capsys, *DERIVE)
    assert code == 2 and one_line(err) == "symsched derive: error: --c must be > 0 got -1"


def test_import_error_of_a_non_optional_module_is_internal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYMSCHED_DEBUG", raising=False)
    monkeypatch.setattr(
        derive_cli, "run", raising(ModuleNotFoundError("No module named 'nope'", name="nope"))
    )
    code, _, err = run(capsys, *DERIVE)
    assert code == 70
    one_line(err, "internal error: ModuleNotFoundError")


@pytest.mark.parametrize(
    ("module", "extra"),
    [
        ("torch", "torch"),
        ("torchvision", "torch"),
        ("diffusers", "consumers"),
        ("k_diffusion", "consumers"),
        ("hypothesis", "verify"),
        ("dask", "dask"),
        ("distributed", "dask"),
    ],
)
def test_import_error_of_an_extra_names_it(
    module: str,
    extra: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert EXTRAS[module] == extra
    exc = ModuleNotFoundError(f"No module named '{module}.sub'", name=f"{module}.sub")
    assert MissingDependency.from_import_error(exc) is not None
    monkeypatch.setattr(derive_cli, "run", raising(exc))
    code, _, err = run(capsys, *DERIVE)
    assert code == 2
    assert one_line(err) == (
        f"symsched derive: error: this needs {module}; install it with pip install "
        f"'symsched[{extra}]'"
    )


# --- missing extras, for real: a fresh interpreter with the module blocked ---------------------


def test_stein_cost_without_torch_exits_2_naming_the_extra() -> None:
    # the Monte Carlo estimator runs the model in torch (the closed form needs no torch)
    res = cli_subprocess(
        "stein-cost", "--model", "gaussian", "--c", "0.5", "--dim", "4", "--from", "2", "--to", "1",
        "--estimator", "monte-carlo", block=("torch",),
    )  # fmt: skip
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == (
        "symsched stein-cost: error: this needs torch; install it with pip install "
        "'symsched[torch]'\n"
    )


def test_stein_cost_without_diffusers_exits_2_naming_the_extra(tmp_path: Path) -> None:
    (tmp_path / "unet").mkdir()  # a checkpoint layout that passes the checks made before import
    (tmp_path / "unet" / "config.json").write_text('{"_class_name": "UNet2DModel"}')
    (tmp_path / "scheduler").mkdir()
    (tmp_path / "scheduler" / "scheduler_config.json").write_text(
        '{"_class_name": "DDPMScheduler"}'
    )
    res = cli_subprocess(
        "stein-cost", "--model", f"diffusers:{tmp_path}", "--from", "2", "--to", "1",
        block=("diffusers",),
    )  # fmt: skip
    assert res.returncode == 2
    assert res.stderr == (
        "symsched stein-cost: error: this needs diffusers; install it with pip install "
        "'symsched[consumers]'\n"
    )


def test_workers_without_dask_exits_2_naming_the_extra() -> None:
    res = cli_subprocess(
        "steps-needed", "gm", "--schedule", "vp-dilated", "--dims", "100", "--workers", "2",
        "--no-progress", block=("distributed",),
    )  # fmt: skip
    assert res.returncode == 2
    one_line(
        res.stderr, "symsched steps-needed: error:", "--workers", "pip install 'symsched[dask]'"
    )


def test_help_and_core_commands_need_no_extra() -> None:
    block = ("torch", "hypothesis", "diffusers", "k_diffusion", "distributed", "dask")
    res = cli_subprocess("--help", block=block)
    assert res.returncode == 0 and "verify" in res.stdout and res.stderr == ""
    res = cli_subprocess("kl", "--eigenvalues", "1", "--sigmas", "inf,1,0", "--json", block=block)
    assert res.returncode == 0 and res.stderr == ""


# --- --device -------------------------------------------------------------------------------------


STEIN = [
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
    "1",
]


@pytest.mark.parametrize("device", ["bogus", "cuda:99"])
def test_unavailable_device_exits_2_naming_device(
    device: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    code, out, err = run(capsys, *STEIN, "--device", device)
    assert code == 2 and out == ""
    one_line(err, f"symsched stein-cost: error: --device {device}: not available", "--device cpu")


def test_device_cuda_is_exit_2_exactly_when_cuda_is_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    torch = pytest.importorskip("torch")
    code, _, err = run(capsys, *STEIN, "--device", "cuda", "--json")
    if torch.cuda.is_available():
        assert code == 0, err
    else:
        assert code == 2
        one_line(err, "--device cuda: not available")


def test_schedule_stein_device_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    code, _, err = run(
        capsys, "schedule", "stein", "--steps", "3", "--model", "gaussian", "--c", "0.5",
        "--dim", "4", "--device", "bogus",
    )  # fmt: skip
    assert code == 2
    one_line(err, "--device bogus")


def test_device_without_torch_names_the_torch_extra() -> None:
    res = cli_subprocess(*STEIN, "--device", "cuda", block=("torch",))
    assert res.returncode == 2
    one_line(res.stderr, "this needs torch", "symsched[torch]")


# --- warnings -------------------------------------------------------------------------------------

_WARNING_SCRIPT = r"""
import sys, warnings
import numpy as np
import symsched.cli._derive as d
from symsched.stein._estimate import SteinAccuracyWarning

def noisy(args):
    warnings.warn("`torch.jit.script` is deprecated", FutureWarning)      # as torch says it
    warnings.warn("an old API", DeprecationWarning)
    warnings.warn("__array__ implementation doesn't accept a copy keyword", UserWarning)
    np.log(np.zeros(1))                                                  # numpy RuntimeWarning
    import torch
    def inc(x: torch.Tensor) -> torch.Tensor:
        return x + 1
    torch.jit.script(inc)                                                # a real torch deprecation
    warnings.warn("too few samples", SteinAccuracyWarning)               # symsched's own
    print("done")
    return 0

d.run = noisy
from symsched.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_library_warnings_stay_off_the_terminal_own_ones_are_one_line(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "noisy.py"  # a file: torch.jit.script reads the function's source
    script.write_text(_WARNING_SCRIPT)
    argv = [sys.executable, str(script)]
    env = {k: v for k, v in os.environ.items() if k != "SYMSCHED_DEBUG"}
    res = subprocess.run([*argv, *DERIVE], capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0 and res.stdout == "done\n"
    assert res.stderr == "symsched derive: warning: too few samples\n"
    # the same run with --debug shows what was kept off the terminal (the test is not vacuous)
    dbg = subprocess.run(
        [*argv, "--debug", *DERIVE], capture_output=True, text=True, timeout=300, env=env
    )
    assert dbg.returncode == 0
    for text in ("FutureWarning", "divide by zero", "SteinAccuracyWarning"):
        assert text in dbg.stderr, (text, dbg.stderr)
