"""``--steps N`` is N consumer steps in every format, and each export's NFE is what the real
samplers spend (docs/conventions.md#steps-and-the-final-0).

The consumers are the real libraries (symsched_verify.oracles.consumers): k-diffusion's samplers for
the k-diffusion / ComfyUI lists and for the json / csv grids, diffusers' EulerDiscrete (sigmas=),
DPMSolverMultistep and EulerDiscrete (timesteps=, final step to 0), FlowMatchEulerDiscrete and UniPC
(flow sigmas=). Steps are counted from the consumers' own loops (model calls of a one-step-per-call
scheduler, k-diffusion's callback); NFE from the model calls of k-diffusion's sample_euler,
sample_heun, sample_dpmpp_2m and sample_euler_ancestral on the levels the consumer visits.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from symsched import build
from symsched.cli import main
from symsched.export import FORMATS, Exported, Exporter, export
from symsched.export._base import NoOptions
from symsched.samplers import sampler_names
from symsched.schedules import Schedule
from symsched.schedules.discrete import training_table
from symsched_verify import tolerances as tol

pytest.importorskip("diffusers", reason="diffusers is a consumer under test (test extra)")
from symsched_verify.oracles import consumers, steps

SD = {"sigma_min": 0.0292, "sigma_max": 14.6146}  # Stable Diffusion 1.5's sigma range
LAM = np.array([0.02, 0.3, 1.5])
COV = np.diag(LAM)
PARTICLES = 4  # the counts do not depend on the state; a few particles keep each run ~ms

# two kinds of grid (and N = 1): ending above 0 (karras' sigma_min) and ending at 0
GRIDS = {
    "karras8-to-0.0292": lambda: build("karras", 8, **SD),
    "tangent6-to-0": lambda: build("tangent", 6, c=0.7, sigma_min=0.0, sigma_max=14.6146),
    "karras1": lambda: build("karras", 1, **SD),
}

# symsched sampler -> the k-diffusion sampler whose model calls its NFE must equal
KD_OF = {sym: kd for kd, (_, sym) in consumers.KDIFFUSION_SAMPLERS.items()}


@pytest.fixture(autouse=True, scope="module")
def _kdiffusion() -> None:
    try:
        consumers.import_kdiffusion()
    except consumers.KDiffusionMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def model_calls(run: consumers.ConsumerRun) -> int:
    return int(run.queried.size)


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_runs_n_steps_and_states_the_real_nfe(fmt: str, grid: str) -> None:
    sch = GRIDS[grid]()
    n = sch.steps
    ex = export(sch, fmt)
    run = steps.run_consumer(fmt, ex.text, LAM, PARTICLES, seed=1)
    # the consumer's loop: one model call per step (Euler, DPM-Solver++ order 1, flow Euler)
    assert model_calls(run) == n, (fmt, grid, run.queried)
    assert run.scheduler_sigmas.size == n + 1
    # it visits the levels the export states, ending at 0 unless the format is the grid itself
    rtol = tol.TRAIN_TABLE_RTOL if fmt == "diffusers-timesteps" else tol.CONSUMER_LEVEL_RTOL
    np.testing.assert_allclose(run.scheduler_sigmas, ex.levels, rtol=rtol)
    assert (ex.levels[-1] == 0.0) == (fmt not in ("json", "csv") or sch.sigmas[-1] == 0.0)
    # NFE: the model calls of the real k-diffusion samplers on those levels
    assert set(ex.nfe) == set(sampler_names())
    for sym, kd in KD_OF.items():
        spent = consumers.run_kdiffusion(kd, ex.levels, COV, PARTICLES, seed=2)
        assert ex.nfe[sym] == model_calls(spent), (fmt, grid, sym)
    assert ex.nfe["euler-vp"] == n  # one evaluation per step, as DDIM
    heun = 2 * n - 1 if ex.levels[-1] == 0.0 else 2 * n
    assert ex.nfe["heun"] == heun
    assert f"{n} step{'' if n == 1 else 's'}" in ex.note
    assert note_nfe(ex.note) == ex.nfe  # the note states the same counts


def note_nfe(note: str) -> dict[str, int]:
    """Sampler -> NFE read back from a note's ``NFE 10 (a, b), 19 (c)``."""
    phrase = note.split("NFE ", 1)[1].split(";", 1)[0]
    return {
        name: int(k)
        for k, names in re.findall(r"(\d+) \(([^)]*)\)", phrase)
        for name in names.split(", ")
    }


def test_dpm_and_euler_timesteps_take_n_steps() -> None:
    """diffusers-timesteps in both schedulers that take timesteps= with a final step to 0."""
    from diffusers import DPMSolverMultistepScheduler, EulerDiscreteScheduler

    cfg = {"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear"}
    for name, make in GRIDS.items():
        sch = make()
        ts = json.loads(export(sch, "diffusers-timesteps").text)
        for cls in (DPMSolverMultistepScheduler, EulerDiscreteScheduler):
            s: Any = cls(final_sigmas_type="zero", **cfg)
            s.set_timesteps(timesteps=ts)
            assert len(s.timesteps) == sch.steps and float(s.sigmas[-1]) == 0.0, (name, cls)


def test_unipc_flow_takes_n_steps() -> None:
    for name, make in GRIDS.items():
        sch = make()
        ex = export(sch, "flow-matching", shift=3.0)
        run = consumers.run_unipc_flow(json.loads(ex.text), 3.0, LAM, PARTICLES, seed=3)
        assert model_calls(run) == sch.steps and run.scheduler_sigmas[-1] == 0.0, name


@pytest.mark.parametrize("n", [1, 2, 10, 25])
def test_karras_and_loglinear_exports_are_kdiffusions_own_lists(n: int) -> None:
    """``karras --steps N --format k-diffusion`` is ``get_sigmas_karras(n=N)``: N levels from
    sigma_max to sigma_min and the appended 0; ``loglinear`` is ``get_sigmas_exponential(n=N)``.
    Both are the same closed forms in float64 (1e-14: a few roundings of pow / exp / log)."""
    ours = np.array(json.loads(export(build("karras", n), "k-diffusion").text))
    theirs = steps.kdiffusion_sigmas("get_sigmas_karras", n, 0.002, 80.0, 7.0)
    assert ours.size == theirs.size == n + 1 and ours[-1] == theirs[-1] == 0.0
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    if n > 1:  # get_sigmas_exponential(1) is log(sigma_max) -> exp: the same [80, 0]
        ours = np.array(json.loads(export(build("loglinear", n), "comfyui").text))
        theirs = steps.kdiffusion_sigmas("get_sigmas_exponential", n, 0.002, 80.0)
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_karras_diffusers_euler_is_diffusers_own_karras_list() -> None:
    """EulerDiscreteScheduler(use_karras_sigmas=True).set_timesteps(N) builds N karras levels on
    its table's range and a final 0: our diffusers-euler export of karras N on that range is that
    list (float32 scheduler: 64 eps32)."""
    from diffusers import EulerDiscreteScheduler

    s: Any = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", use_karras_sigmas=True
    )
    n = 10
    s.set_timesteps(n)
    theirs = s.sigmas.double().numpy()
    lo, hi = float(theirs[-2]), float(theirs[0])
    assert abs(hi / training_table("scaled_linear").sigmas[-1] - 1) < tol.TRAIN_TABLE_RTOL
    ex = export(build("karras", n, sigma_min=lo, sigma_max=hi), "diffusers-euler")
    ours = np.array(json.loads(ex.text))
    assert ours.size == theirs.size == n + 1 and len(s.timesteps) == n
    np.testing.assert_allclose(ours, theirs, rtol=tol.CONSUMER_LEVEL_RTOL)


def test_grid_ending_above_zero_is_rebuilt_with_one_step_fewer() -> None:
    sch = build("karras", 8, **SD)
    want = np.append(build("karras", 7, **SD).sigmas, 0.0)
    for fmt in ("k-diffusion", "comfyui", "diffusers-euler"):
        ex = export(sch, fmt)
        assert json.loads(ex.text) == want.tolist()  # bit for bit
        assert "karras is written as its 7-step grid (8 levels 14.6146 -> 0.0292)" in ex.note
    np.testing.assert_array_equal(export(sch, "flow-matching").levels, want)
    # the grid formats are the grid itself
    assert json.loads(export(sch, "json").text)["sigmas"] == sch.sigmas.tolist()
    # a grid already ending at 0 is written as it is
    at0 = build("tangent", 6, c=0.7, sigma_min=0.0, sigma_max=14.6146)
    assert json.loads(export(at0, "k-diffusion").text) == at0.sigmas.tolist()
    assert at0.ending_at_zero is at0
    # and the rebuilt grid is computed once per schedule
    assert sch.ending_at_zero is sch.ending_at_zero


def test_explicit_grid_ending_above_zero_is_refused_by_consumers() -> None:
    sch = Schedule("x", np.array([14.6, 3.0, 0.5, 0.03]))
    for fmt in FORMATS:
        if fmt in ("json", "csv"):
            assert export(sch, fmt).levels is not None
            continue
        with pytest.raises(ValueError, match=r"end it at 0"):
            export(sch, fmt)
    # ended at 0 it is written as it is (3 steps, the last to 0)
    ex = export(Schedule("x", np.array([14.6, 3.0, 0.5, 0.0])), "k-diffusion")
    assert json.loads(ex.text) == [14.6, 3.0, 0.5, 0.0] and "3 steps, the last to 0" in ex.note


def test_a_format_whose_consumer_takes_another_number_of_steps_is_an_error() -> None:
    def appends_a_zero(schedule: Schedule, _: NoOptions) -> Exported:  # the old convention
        levels = np.append(schedule.sigmas, 0.0)
        return Exported(json.dumps(levels.tolist()), "old", levels)

    broken = Exporter("old-k-diffusion", "N+2 values", NoOptions, appends_a_zero)
    with pytest.raises(RuntimeError, match="take 9 steps for a 8-step schedule"):
        broken.export(build("karras", 8, **SD))


def test_cli_note_and_json_state_the_nfe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "karras", "--steps", "10", "--format", "k-diffusion"]) == 0
    cap = capsys.readouterr()
    assert len(json.loads(cap.out)) == 11
    assert "10 steps: NFE 10 (ancestral, ddim, dpmpp-2m, euler-vp), 19 (flow-heun, heun)" in cap.err
    assert main(["schedule", "karras", "--steps", "10", "--json"]) == 0
    cap = capsys.readouterr()
    obj = json.loads(cap.out)
    assert obj["steps"] == 10 and len(obj["sigmas"]) == 11
    assert obj["nfe"] == {
        "ancestral": 10,
        "ddim": 10,
        "dpmpp-2m": 10,
        "euler-vp": 10,
        "flow-heun": 20,
        "heun": 20,
    }
    assert "10 steps, ending at 0.002: NFE 10" in cap.err
