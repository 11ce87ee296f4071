"""Bad input gives clear errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from symsched.highdim import schedules as S
from symsched.highdim import simulate as sim
from symsched.highdim.cw import CurieWeiss, denoiser_two_mode, two_mode_law
from symsched.highdim.gm import GaussianMixture


@pytest.mark.parametrize("p", [0.0, 1.0, -0.2, 1.5])
def test_weight_outside_unit_interval(p: float) -> None:
    with pytest.raises(ValueError, match=r"p must lie strictly between 0 and 1|p must be > 0"):
        GaussianMixture(p=p)
    with pytest.raises(ValueError, match="p must"):
        CurieWeiss(p=p)


@pytest.mark.parametrize("field", ["m", "mode_sigma"])
def test_non_positive_scales(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} must be > 0"):
        GaussianMixture(**{field: 0.0})


@pytest.mark.parametrize("dim", [0, -3, 2.5])
def test_dimension(dim: float) -> None:
    with pytest.raises(ValueError, match="dim"):
        GaussianMixture(dim=dim)


@pytest.mark.parametrize("kappa", [0.0, -1.0])
def test_kappa_positive(kappa: float) -> None:
    with pytest.raises(ValueError, match="kappa must be > 0"):
        S.vp_dilated(10, 100, kappa)


def test_kappa_below_sqrt_d() -> None:
    with pytest.raises(ValueError, match="kappa must be < sqrt"):
        S.ve_dilated(10, 4, 3.0)


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_two_mode_needs_low_temperature(beta: float) -> None:
    mdl = CurieWeiss(beta=beta, dim=10)
    with pytest.raises(ValueError, match="low temperature"):
        denoiser_two_mode(mdl, np.zeros((1, 10)), 0.5, 0.5, 1.0)
    with pytest.raises(ValueError, match="low temperature"):
        two_mode_law(mdl)


def test_too_few_samples() -> None:
    gm = GaussianMixture(dim=10)
    with pytest.raises(ValueError, match="error bar"):
        sim.gm_reduced(gm, S.constant(4), 1.0, samples=3)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "symsched.cli", *args], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "args,needle",
    [
        (
            [
                "simulate",
                "gm",
                "--dim",
                "100",
                "--steps",
                "8",
                "--schedule",
                "vp-constant",
                "--p",
                "1",
            ],
            "--p",
        ),
        (
            [
                "simulate",
                "gm",
                "--dim",
                "100",
                "--steps",
                "8",
                "--schedule",
                "vp-dilated",
                "--kappa",
                "-1",
            ],
            "--kappa",
        ),
        (
            [
                "simulate",
                "cw",
                "--dim",
                "100",
                "--steps",
                "8",
                "--schedule",
                "vp-constant",
                "--beta",
                "1",
            ],
            "low temperature",
        ),
        (
            [
                "simulate",
                "cw",
                "--dim",
                "100",
                "--steps",
                "8",
                "--schedule",
                "vp-constant",
                "--samples",
                "4",
            ],
            "--samples",
        ),
        (["simulate", "gm", "--dim", "0.5", "--steps", "8", "--schedule", "vp-constant"], "--dim"),
        (
            ["steps-needed", "cw", "--schedule", "vp-dilated", "--dims", "100", "--samples", "50"],
            "--samples",
        ),
        (["steps-needed", "cw", "--schedule", "vp-dilated", "--dims", "1e5"], "--dims"),
    ],
)
def test_cli_bad_input_exit_2_one_line(args: list[str], needle: str) -> None:
    res = _cli(*args)
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
