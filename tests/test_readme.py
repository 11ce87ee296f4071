"""The README's tour runs as written: every `symsched ...` line of its command-line section and its
Python block. (A README example that drifts from the code fails here, not in a user's terminal.)"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from symsched.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")
# Lines that would re-run whole verification profiles: `make run` (the quick profile) and
# tests/verify/test_claims*.py already run every claim; repeating them here would double the suite
# (the executors' equality is tests/symsched/test_parallel.py, on a subset of claims).
NOT_RUN_HERE = {
    "symsched verify --full --out full-report",
    "symsched verify --jobs 1 --out report --force",
    "symsched verify --workers 2 --out report --force",
}
# Lines that take seconds to a minute (a verification run, a steps-needed search, a sweep, a network
# probed or trained): the integration tier (make test-integration), measured 3.5-43 s each.
INTEGRATION_LINES = {
    "symsched schedule stein --steps 10 --model diffusers:./my-unet --data rows.npy"
    " --format diffusers-euler",
    "symsched score --comfyui '[14.6146, 4.0, 1.0, 0.25, 3e-05, 0.0]' --model sd15 --target-kl 10",
    "symsched score --builtin diffusers:euler --steps 20 --set use_karras_sigmas=true"
    " --model sd15 --sampler ddim,dpmpp-2m",
    "symsched stein-cost --model patches --from 2 --to 1 --estimator jvp --samples 512",
    "symsched steps-needed gm --schedule vp-constant,ve-dilated --dims 1e2,1e4,1e6"
    " --plot n-vs-d.png",
    "symsched steps-needed cw --schedule vp-constant --dims 100,316 --workers 2",
    "symsched sweep --spectra digits,patches --steps 5,10,20"
    " --methods tangent,karras,variational,kl-optimal --workers 2 -o sweep.csv",
    "symsched verify --only 'gaussian.*' --out gaussian-report",
}


def _section(title: str, next_title: str) -> str:
    start = TEXT.index(title)
    return TEXT[start : TEXT.index(next_title, start)]


def _cli_lines() -> list[str]:
    lines = []
    for block in re.findall(
        r"```bash\n(.*?)```", _section("### Command line", "### Python"), re.DOTALL
    ):
        for raw in block.splitlines():
            if raw.startswith("symsched "):
                lines.append(shlex.join(shlex.split(raw, comments=True)))
    return lines


CLI_LINES = _cli_lines()


def test_the_tour_has_the_commands_we_expect() -> None:
    # every subcommand appears in the tour, and the only lines not run below are the known ones
    for command in (
        "schedule",
        "kl",
        "asymptotics",
        "derive",
        "rank",
        "stein-cost",
        "simulate",
        "steps-needed",
        "steps-for",
        "score",
        "sweep",
        "spectrum",
        "verify",
    ):
        assert any(line.split()[1] == command for line in CLI_LINES), command
    assert set(CLI_LINES) >= NOT_RUN_HERE | INTEGRATION_LINES


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(line, marks=pytest.mark.integration) if line in INTEGRATION_LINES else line
        for line in CLI_LINES
        if line not in NOT_RUN_HERE
    ],
)
def test_cli_line_runs(
    line: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_unet: Callable[..., Path],
) -> None:
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "lam.npy", np.array([0.01, 0.1, 0.5, 1.0, 2.0, 4.0]))
    if "./train" in line:  # a folder of a few PNG images
        from PIL import Image

        (tmp_path / "train").mkdir()
        for i in range(4):
            pixels = np.random.default_rng(i).integers(0, 256, size=(80, 96, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "train" / f"{i}.png")
    if "--spectrum-file latent-lam.npy" in line:  # a spectrum of SD 1.5's 4 x 64 x 64 latents
        np.save(tmp_path / "latent-lam.npy", np.repeat(np.geomspace(1e-3, 10.0, 64), 256))
    if "latents.npy" in line:  # 4-channel latents on an 8x8 grid
        np.save(tmp_path / "latents.npy", np.random.default_rng(0).normal(size=(32, 8, 8, 4)))
    if "scheduler_config.json" in line:  # an SD3 pipeline's scheduler config (shift 3)
        cfg = {"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": 3.0}
        (tmp_path / "scheduler_config.json").write_text(json.dumps(cfg))
    if "diffusers:./my-unet" in line:
        tiny_unet(tmp_path / "my-unet")  # 8x8 one-channel images: rows of 64
        np.save(tmp_path / "rows.npy", np.random.default_rng(0).uniform(-1, 1, size=(256, 1, 8, 8)))
    argv = shlex.split(line)[1:]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert code == 0, err
    if "--json" in argv:
        json.loads(out)
    for flag in ("-o", "--plot", "--out"):
        if flag in argv:
            target = tmp_path / argv[argv.index(flag) + 1]
            assert target.exists() and (target.is_dir() or target.stat().st_size > 0), target
    if not any(flag in argv for flag in ("-o", "--plot", "--out")):
        assert out.strip(), "nothing printed"


def test_python_block_runs() -> None:
    block = re.findall(
        r"```python\n(.*?)```", _section("### Python", "### Verification"), re.DOTALL
    )
    assert len(block) == 1
    ns: dict[str, object] = {}
    exec(compile(block[0], str(README), "exec"), ns)
    import symsched

    lam, res, best, st, tau = ns["lam"], ns["res"], ns["best"], ns["st"], ns["tau"]
    assert res.kl_source_output > 0 and res.kl_output_source > 0  # type: ignore[attr-defined]
    # the exact finite-N optimum is no worse than the tangent-law grid it competes with
    tangent = symsched.build("tangent", 10, eigenvalues=lam, sigma_min=0.002, sigma_max=80.0).sigmas
    assert (
        symsched.kl(lam, best.sigmas).kl_source_output <= symsched.kl(lam, tangent).kl_source_output
    )  # type: ignore[attr-defined]
    levels = np.asarray(st.schedule.sigmas)  # type: ignore[attr-defined]
    costs = np.asarray(st.interval_costs)  # type: ignore[attr-defined]
    assert costs.shape == (10,) and np.all(np.isfinite(costs)) and np.all(costs > 0)
    assert levels.shape == (11,) and levels[0] == 80.0 and levels[-1] == 0.002
    assert np.all(np.diff(levels) < 0)
    assert tau.steps == 40 and tau.taus[20] == pytest.approx(3.0 / 10**4)  # type: ignore[attr-defined]
