"""The coupling error and the sampler-aware optimum on the command line
(docs/theory/coupling.md, docs/cli.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import one_line, run

from symsched.gaussian.coupling import coupling_error

LAM = "0.004,0.05,0.3,1.5,7"
SPECTRUM = np.array([0.004, 0.05, 0.3, 1.5, 7.0])


def test_kl_reports_the_coupling_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "kl", "--eigenvalues", LAM, "--sigmas", "80,3,0.2,0", "--sampler", "heun", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["coupling"] == coupling_error(SPECTRUM, [80.0, 3.0, 0.2, 0.0], sampler="heun")
    code, out, _ = run(capsys, "kl", "--eigenvalues", LAM, "--sigmas", "80,3,0.2,0")
    assert "coupling error" in out


def test_kl_optimal_for_a_sampler_records_what_it_optimised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["schedule", "kl-optimal", "--steps", "5", "--eigenvalues", LAM, "--sigma-min"]
    code, out, _ = run(capsys, *argv, "0.002", "--sigma-max", "80", "--sampler", "heun", "--json")
    assert code == 0
    p = json.loads(out)["params"]
    assert (p["sampler"], p["objective"]) == ("heun", "coupling")
    sig = json.loads(out)["sigmas"]
    assert p["objective_value"] == pytest.approx(
        coupling_error(SPECTRUM, sig, sampler="heun"), rel=1e-12
    )
    code, out, _ = run(capsys, *argv, "0.002", "--sigma-max", "80", "--objective", "kl", "--json")
    assert json.loads(out)["params"]["objective"] == "kl"


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--sampler", "heun"], ("--sigma-max", "finite")),
        (
            ["--sampler", "ancestral", "--objective", "coupling", "--sigma-max", "80"],
            ("--objective",),
        ),
        (["--sampler", "heun", "--eta", "0.5", "--sigma-max", "80"], ("--eta",)),
        (["--sampler", "exact-flow", "--sigma-max", "80"], ("--sampler",)),
    ],
)
def test_kl_optimal_refuses_what_does_not_apply(
    capsys: pytest.CaptureFixture[str], extra: list[str], needles: tuple[str, ...]
) -> None:
    code, _, err = run(
        capsys, "schedule", "kl-optimal", "--steps", "4", "--eigenvalues", LAM, *extra
    )
    assert code == 2
    one_line(err, *needles)


def test_sweep_ranks_by_the_coupling_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "sweep",
        "--spectra",
        "digits",
        "--steps",
        "4",
        "--methods",
        "karras,loglinear,kl-optimal",
        "--sampler",
        "ddim,heun",
        "--criterion",
        "coupling",
        "--json",
        "--no-progress",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["criterion"] == "coupling" and "--criterion coupling" in doc["command"]
    for sampler in ("ddim", "heun"):
        rows = [r for r in doc["records"] if r["sampler"] == sampler]
        best = min(rows, key=lambda r: r["coupling"])
        assert doc["best"]["digits"]["4"][sampler]["method"] == best["method"] == "kl-optimal"
        opt = next(r for r in rows if r["method"] == "kl-optimal")
        assert opt["params"]["sampler"] == sampler and opt["params"]["objective"] == "coupling"


def test_rank_covers_sdxl_flow_and_heun(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "rank",
        "--model",
        "sdxl",
        "--eigenvalues",
        LAM,
        "--nfe",
        "6,10",
        "--sampler",
        "heun",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert "ays" in doc["strategies"] and "sampler-optimal" in doc["strategies"]
    for i in range(2):  # the sampler's own KL optimum is best, on Heun's NFE // 2 steps
        kl = {s: doc["kl_source_output"][s][i] for s in doc["strategies"]}
        assert min(kl, key=kl.__getitem__) == "sampler-optimal"
    code, out, _ = run(
        capsys, "rank", "--model", "flow", "--eigenvalues", LAM, "--nfe", "4", "--json"
    )
    assert code == 0
    assert "edm-rho7" not in json.loads(out)["strategies"]
    code, _, err = run(
        capsys, "rank", "--model", "flow", "--eigenvalues", LAM, "--nfe", "4", "--sampler", "heun"
    )
    assert code == 2
    one_line(err, "--sampler", "--model flow")
