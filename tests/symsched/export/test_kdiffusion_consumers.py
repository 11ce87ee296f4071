"""``symsched schedule ... --format k-diffusion|comfyui`` loaded as the sigmas of the REAL
k-diffusion samplers (sample_euler, sample_heun, sample_dpmpp_2m, sample_euler_ancestral), run end
to end on the exact denoiser of a correlated Gaussian: the samplers take the N steps of an N-step
schedule through exactly the exported levels, the last to 0
(docs/conventions.md#steps-and-the-final-0), and the output covariance is symsched's closed form
of the matching sampler (Karras et al. 2022, arXiv 2206.00364; Lu et al. 2022, arXiv 2211.01095)
within Monte Carlo error.

k-diffusion is a test-time dependency (the test extra): without it these tests fail, naming the fix.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from symsched import build
from symsched.cli import main
from symsched.export import export
from symsched_verify import tolerances as tol
from symsched_verify.claims.kdiffusion import KD_EIGENVALUES, compare, correlated_covariance
from symsched_verify.oracles import consumers

COV = correlated_covariance()  # full matrix, eigenvalues 0.004, 0.3, 1.5
SD = ("--sigma-min", "0.0292", "--sigma-max", "14.6146")  # Stable Diffusion 1.5's sigma range


def karras8_list() -> list[float]:
    """The k-diffusion export of karras N = 8 on SD's range, through the exporter the CLI calls."""
    return json.loads(
        export(build("karras", 8, sigma_min=0.0292, sigma_max=14.6146), "k-diffusion").text
    )


@pytest.fixture(autouse=True, scope="module")
def _kdiffusion() -> None:
    try:
        consumers.import_kdiffusion()
    except consumers.KDiffusionMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def cli_export(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[list[float], np.ndarray, str]:
    """Run ``symsched schedule ARGS`` twice (--json and the export format).

    Returns (exported list, grid, note).
    """
    fmt_at = args.index("--format")
    assert main(["schedule", *args[:fmt_at], *args[fmt_at + 2 :], "--json"]) == 0
    grid = np.array(json.loads(capsys.readouterr().out)["sigmas"], dtype=np.float64)
    assert main(["schedule", *args]) == 0
    cap = capsys.readouterr()
    return json.loads(cap.out), grid, cap.err


SAMPLERS = [
    ("euler", None),
    ("heun", None),
    ("dpmpp-2m", None),
    ("euler-ancestral", 1.0),
    ("euler-ancestral", 0.5),
]


# comfyui writes the same list (ComfyUI's samplers are k-diffusion's); two samplers suffice there
CASES = [("k-diffusion", s, e) for s, e in SAMPLERS] + [
    ("comfyui", "heun", None),
    ("comfyui", "euler-ancestral", 1.0),
]


@pytest.mark.parametrize("fmt, sampler, eta", CASES)
def test_export_runs_n_steps_to_zero_and_matches_closed_form(
    capsys: pytest.CaptureFixture[str], fmt: str, sampler: str, eta: float | None
) -> None:
    lst, grid, note = cli_export(capsys, "karras", "--steps", "8", *SD, "--format", fmt)
    assert grid.size == 9 and grid[-1] == 0.0292
    # the grid ends above 0, so the 8 steps are karras' 7-step grid (8 levels down to 0.0292), bit
    # for bit, and the step to 0
    shorter = build("karras", 7, sigma_min=0.0292, sigma_max=14.6146).sigmas
    assert lst == [*shorter.tolist(), 0.0]
    assert "8 steps: NFE 8 " in note and "its 7-step grid (8 levels 14.6146 -> 0.0292)" in note
    run = consumers.run_kdiffusion(sampler, lst, COV, tol.KDIFFUSION_PARTICLES, seed=21, eta=eta)
    # 8 steps: one from each exported level, ending at sigma = 0; the model is queried exactly there
    np.testing.assert_array_equal(run.scheduler_sigmas, lst)
    np.testing.assert_array_equal(run.queried, consumers.kdiffusion_expected_queries(sampler, lst))
    assert 0.0 not in run.queried
    c = compare(
        run.samples, COV, lst, consumers.KDIFFUSION_SAMPLERS[sampler][1], start="prior", eta=eta
    )
    assert np.all(np.abs(c.z) <= tol.Z_SCORE), c
    assert c.max_cov_z <= tol.Z_SCORE, c


@pytest.mark.parametrize("sampler", ["heun", "dpmpp-2m", "euler"])
def test_grid_ending_at_zero_gets_no_extra_zero(
    capsys: pytest.CaptureFixture[str], sampler: str
) -> None:
    """sigma_N = 0 already: N consumer steps, Heun's and DPM++'s last step is their first-order step
    to 0 (Karras et al. 2022 Alg. 1; Lu et al. 2022 Alg. 2), and the exact start is honoured."""
    lst, grid, note = cli_export(
        capsys,
        "tangent",
        "--steps",
        "6",
        "--c",
        "0.7",
        "--sigma-min",
        "0",
        "--sigma-max",
        "80",
        "--format",
        "k-diffusion",
    )
    assert lst == grid.tolist() and lst.count(0.0) == 1 and "6 steps, the last to 0" in note
    run = consumers.run_kdiffusion(
        sampler, lst, COV, tol.KDIFFUSION_PARTICLES, seed=22, start="exact"
    )
    assert run.scheduler_sigmas.size == 7 and run.scheduler_sigmas[-1] == 0.0
    c = compare(run.samples, COV, lst, consumers.KDIFFUSION_SAMPLERS[sampler][1], start="exact")
    assert c.max_abs_z <= tol.Z_SCORE, c


def test_tangent_gamma_star_export_in_heun(capsys: pytest.CaptureFixture[str]) -> None:
    """The tangent schedule for this very spectrum (--eigenvalues), as a user would paste it."""
    lst, grid, _ = cli_export(
        capsys,
        "tangent",
        "--steps",
        "6",
        "--eigenvalues",
        ",".join(repr(float(v)) for v in KD_EIGENVALUES),
        *SD,
        "--format",
        "comfyui",
    )
    five = build("tangent", 5, eigenvalues=KD_EIGENVALUES, sigma_min=0.0292, sigma_max=14.6146)
    assert grid.size == 7 and lst == [*five.sigmas.tolist(), 0.0]  # 6 steps, the last to 0
    run = consumers.run_kdiffusion("heun", lst, COV, tol.KDIFFUSION_PARTICLES, seed=23)
    c = compare(run.samples, COV, lst, "heun", start="prior")
    assert c.max_abs_z <= tol.Z_SCORE, c


@pytest.mark.parametrize("sampler", ["euler", "heun", "dpmpp-2m"])
def test_negative_control_list_without_trailing_zero(
    capsys: pytest.CaptureFixture[str], sampler: str
) -> None:
    """The list without its final 0 in k-diffusion stops at sigma_min with its noise left: against
    the closed form of the k-diffusion convention it misses by tens of standard errors."""
    lst, _, _ = cli_export(capsys, "karras", "--steps", "8", *SD, "--format", "k-diffusion")
    naive = lst[:-1]
    run = consumers.run_kdiffusion(sampler, naive, COV, tol.KDIFFUSION_PARTICLES, seed=21)
    assert run.scheduler_sigmas[-1] == 0.0292  # it never reached 0
    c = compare(run.samples, COV, lst, consumers.KDIFFUSION_SAMPLERS[sampler][1], start="prior")
    assert np.max(np.abs(c.z)) > tol.KDIFFUSION_NEGATIVE_Z, c
    # and the same samples do match the closed form of the list they were actually given
    assert (
        compare(
            run.samples, COV, naive, consumers.KDIFFUSION_SAMPLERS[sampler][1], start="prior"
        ).max_abs_z
        <= tol.Z_SCORE
    )


@pytest.mark.parametrize(
    "sampler, wrong", [("heun", "ddim"), ("dpmpp-2m", "ddim"), ("euler", "heun")]
)
def test_negative_control_wrong_sampler_closed_form(sampler: str, wrong: str) -> None:
    """The comparison tells the samplers apart: another sampler's closed form misses badly."""
    lst = karras8_list()
    run = consumers.run_kdiffusion(sampler, lst, COV, tol.KDIFFUSION_PARTICLES, seed=24)
    assert (
        np.max(np.abs(compare(run.samples, COV, lst, wrong, start="prior").z))
        > tol.KDIFFUSION_NEGATIVE_Z
    )


def test_driver_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="sampler must be one of"):
        consumers.run_kdiffusion("lms", [1.0, 0.0], COV, 10, 0)
    with pytest.raises(ValueError, match="eta applies to euler-ancestral only"):
        consumers.run_kdiffusion("heun", [1.0, 0.0], COV, 10, 0, eta=0.5)
    with pytest.raises(ValueError, match="start must be"):
        consumers.run_kdiffusion("euler", [1.0, 0.0], COV, 10, 0, start="noise")


def test_missing_kdiffusion_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "k_diffusion", None)  # import k_diffusion -> ImportError
    with pytest.raises(consumers.KDiffusionMissing, match=r"pip install -e '\.\[test\]'"):
        consumers.import_kdiffusion()


@pytest.mark.slow
@pytest.mark.parametrize("sampler, eta", SAMPLERS)
def test_closed_form_at_two_million_particles(sampler: str, eta: float | None) -> None:
    """s.e. 0.1 %: a closed form off by half a percent would fail here."""
    lst = karras8_list()
    run = consumers.run_kdiffusion(sampler, lst, COV, 2_000_000, seed=25, eta=eta)
    c = compare(
        run.samples, COV, lst, consumers.KDIFFUSION_SAMPLERS[sampler][1], start="prior", eta=eta
    )
    assert c.max_abs_z <= tol.Z_SCORE, c
