r"""Exports load into the real diffusers schedulers and sample the closed-form distribution
(docs/conventions.md#export-conventions).

Needs diffusers (a test-time dependency): without it the claim fails and says so, never passes.
"""

from __future__ import annotations

import importlib
import json
import math

import numpy as np

from symsched import build
from symsched._typing import FloatArray, Start
from symsched.export import FORMATS, Exported, export
from symsched.gaussian import exact
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim

LAM = np.array([0.02, 0.3, 1.5])


def _visited(ex: Exported) -> FloatArray:
    """The levels the consumer of ``ex`` visits (``symsched.export.export`` always states them)."""
    if ex.levels is None:
        raise ValueError(f"the export ({ex.note}) does not state the levels it visits")
    return ex.levels


def _z(samples: FloatArray, levels: FloatArray, start: Start) -> float:
    m2 = (samples**2).mean(0)
    se = (samples**2).std(0, ddof=1) / math.sqrt(samples.shape[0])
    pred = np.diag(exact.output_covariance(np.diag(LAM), levels, start=start))
    return float(np.max(np.abs(m2 - pred) / se))


@claim(
    "export.real-consumers",
    statement=(
        "Each export, loaded into the real diffusers scheduler (EulerDiscrete sigmas=, "
        "DPMSolverMultistep timesteps=, FlowMatchEulerDiscrete sigmas= with shift 3, "
        "UniPCMultistep flow sigmas=), visits exactly the intended noise levels, and with the "
        "exact Gaussian denoiser its output covariance equals symsched's closed form."
    ),
    source=(
        "docs/conventions.md#export-conventions (per-scheduler semantics: "
        "docs/conventions.md#diffusers-euler, docs/conventions.md#diffusers-timesteps, "
        "docs/conventions.md#flow-matching); Sun, Poor, Zhang arXiv 2601.13602 §3 (closed form)"
    ),
    method=(
        "end-to-end sampling loops of diffusers 0.42.1 with the exact epsilon / velocity "
        "predictor of N(0, diag(0.02, 0.3, 1.5)) conditioned on the timestep it is given "
        "(symsched_verify.oracles.consumers); DPM-Solver++ and UniPC at order 1 (= DDIM); "
        "negative control: the naive flow export to a shift-3 scheduler"
    ),
    tolerance=(
        "levels: 64 eps32 relative (float32 scheduler), 1e-4 for the float32 training table; "
        "covariance: |E x^2 - closed form| <= 5 s.e. per direction; the negative control must "
        "miss by > 50 s.e."
    ),
    docs="docs/conventions.md#export-conventions",
    math=(
        r"\frac{|\sigma_k^{\text{visited}}-\sigma_k|}{\sigma_k}\le64\,\varepsilon_{32},\qquad"
        r"\frac{|\widehat{\mathbb E}[x_i^2]-r_i(\lambda_i+\sigma_N^2)|}{\mathrm{se}}\le5,\qquad"
        r"|z_{\text{naive shift-3 port}}|>50"
    ),
)
def check_real_consumers(budget: Budget) -> Outcome:
    try:
        importlib.import_module("diffusers")  # the real consumers; their absence fails the claim
        from symsched_verify.oracles import consumers
    except ImportError as exc:
        return Outcome(
            False,
            f"The package diffusers is not installed ({exc}); install the test extra to check "
            "the exports.",
        )
    n = budget.pick(tol.EXPORT_PARTICLES, 10 * tol.EXPORT_PARTICLES)
    seed = budget.seed
    zs: dict[str, float] = {}
    level_err: dict[str, float] = {}
    sd = build("karras", 10, sigma_min=0.0292, sigma_max=14.6146)
    ex = export(sd, "diffusers-euler")
    # 10 steps, the last to 0: karras' 9-step grid (10 levels down to 0.0292), then 0
    want = np.append(build("karras", 9, sigma_min=0.0292, sigma_max=14.6146).sigmas, 0.0)
    r = consumers.run_euler_sigmas(json.loads(ex.text), LAM, n, seed)
    levels_rule = bool(np.array_equal(_visited(ex), want)) and r.queried.size == sd.steps
    level_err["euler"] = float(np.max(np.abs(r.queried / want[:-1] - 1)))
    zs["euler"] = _z(r.samples, want, "prior")
    ex = export(sd, "diffusers-timesteps")
    if ex.levels is None:
        raise ValueError("the diffusers-timesteps export must state the levels it visits")
    r = consumers.run_dpm_timesteps(json.loads(ex.text), LAM, n, seed + 1)
    level_err["dpm"] = float(np.max(np.abs(r.queried / ex.levels[:-1] - 1)))
    zs["dpm"] = _z(r.samples, ex.levels, "exact")
    fl = build("tangent", 8, c=1.0)
    r = consumers.run_flow_euler(
        json.loads(export(fl, "flow-matching", shift=3.0).text), 3.0, LAM, n, seed + 2
    )
    level_err["flow-euler"] = float(np.max(np.abs(r.queried[1:] / fl.sigmas[1:-1] - 1)))
    zs["flow-euler"] = _z(r.samples, fl.sigmas, "exact")
    r = consumers.run_unipc_flow(
        json.loads(export(fl, "flow-matching", shift=3.0).text), 3.0, LAM, n, seed + 3
    )
    level_err["unipc"] = float(np.max(np.abs(r.queried[1:] / fl.sigmas[1:-1] - 1)))
    zs["unipc"] = _z(r.samples, fl.sigmas, "exact")
    naive = consumers.run_flow_euler(
        json.loads(export(fl, "flow-matching").text), 3.0, LAM, n, seed + 2
    )
    z_naive = _z(naive.samples, fl.sigmas, "exact")
    ok = (
        levels_rule
        and all(v <= tol.Z_SCORE for v in zs.values())
        and z_naive > 10 * tol.Z_SCORE
        and all(
            v <= (tol.TRAIN_TABLE_RTOL if k == "dpm" else tol.CONSUMER_LEVEL_RTOL)
            for k, v in level_err.items()
        )
    )
    return Outcome(
        ok,
        "The consumers' samples lie within "
        + ", ".join(f"{v:.2f} ({k})" for k, v in zs.items())
        + f" standard errors of the closed form and the naive shift-3 port misses it by "
        f"{z_naive:.0f}; the visited levels are off by at most {max(level_err.values()):.1e} "
        f"relative, and the Euler list {'is' if levels_rule else 'is not'} karras' (N - 1)-step "
        "grid followed by 0.",
        {
            "z": zs,
            "level_rel_error": level_err,
            "naive_flow_z": z_naive,
            "euler_levels_are_the_n_minus_1_grid_and_0": levels_rule,
            "particles": n,
        },
    )


# the grids of the step-count claim: ending above 0 (karras' sigma_min), at 0, and N = 1
_STEP_GRIDS: dict[str, tuple[str, int, dict[str, object]]] = {
    "karras8-to-0.0292": ("karras", 8, {"sigma_min": 0.0292, "sigma_max": 14.6146}),
    "tangent6-to-0": ("tangent", 6, {"c": 0.7, "sigma_min": 0.0, "sigma_max": 14.6146}),
    "karras1": ("karras", 1, {"sigma_min": 0.0292, "sigma_max": 14.6146}),
}


@claim(
    "export.steps-and-nfe",
    statement=(
        "The option --steps N means N consumer steps in every export format: for a grid ending "
        r"at $\sigma_{\min} > 0$, one ending at 0 and N = 1, the real consumer of each export "
        "(k-diffusion, ComfyUI, "
        "diffusers EulerDiscrete, DPMSolverMultistep, FlowMatchEulerDiscrete; json and csv: the "
        "grid in k-diffusion) takes exactly N steps, and the NFE each export states for ddim, "
        "heun, dpmpp-2m and ancestral is the number of model calls of k-diffusion's "
        "sample_euler, sample_heun ($2N - 1$ ending at 0), sample_dpmpp_2m and "
        "sample_euler_ancestral on the levels the consumer visits; karras --steps N "
        "--format k-diffusion is k-diffusion's get_sigmas_karras(n=N)."
    ),
    source=(
        "docs/conventions.md#steps-and-the-final-0; Karras et al. 2022 (arXiv 2206.00364) Alg. 1 "
        "(Heun's Euler step to 0) and Eq. (5); k-diffusion 0.1.1.post1 sampling.py "
        "(get_sigmas_karras, sample_*); diffusers 0.42.1 set_timesteps"
    ),
    method=(
        "symsched.export.export of each grid in each format; its text parsed and run through "
        "the format's consumer (symsched_verify.oracles.steps.run_consumer), counting the "
        "consumer loop's model calls (one per step) and its steps; k-diffusion's four samplers "
        "on Exported.levels with a call-counting exact denoiser; get_sigmas_karras evaluated in "
        "float64 for N = 1, 10, 25; negative control: the former convention (the N+1 levels "
        "followed by a 0) takes N+1 k-diffusion steps"
    ),
    tolerance=(
        "step and call counts exact (integers); get_sigmas_karras 1e-14 relative (a few "
        "roundings of pow in float64)"
    ),
    docs="docs/conventions.md#steps-and-the-final-0",
    math=(
        r"\#\text{steps of the consumer of }\mathrm{export}_F\big(\sigma^{(N)}\big)=N\ \ "
        r"\text{for every format }F,\qquad\mathrm{NFE}_{\text{heun}}=2N-1\ \text{(ending at 0)},"
        r"\quad\mathrm{NFE}_{\text{ddim}}=\mathrm{NFE}_{\text{dpmpp-2m}}"
        r"=\mathrm{NFE}_{\text{ancestral}}=N"
    ),
)
def check_steps_and_nfe(budget: Budget) -> Outcome:
    try:
        importlib.import_module("diffusers")  # the real consumers; their absence fails the claim
        from symsched_verify.oracles import consumers, steps

        consumers.import_kdiffusion()
    except ImportError as exc:  # KDiffusionMissing is an ImportError naming the fix
        return Outcome(
            False,
            f"A real consumer is not importable ({exc}); install the test extra to check the "
            "step counts.",
        )
    kd_of = {sym: kd for kd, (_, sym) in consumers.KDIFFUSION_SAMPLERS.items()}
    cov = np.diag(LAM)
    wrong: list[str] = []
    counted: dict[str, dict[str, int]] = {}
    for gi, (gname, (method, n_steps, opts)) in enumerate(_STEP_GRIDS.items()):
        sch = build(method, n_steps, **opts)
        for fi, fmt in enumerate(FORMATS):
            ex = export(sch, fmt)
            seed = budget.seed + 10 * gi + fi
            run = steps.run_consumer(fmt, ex.text, LAM, 4, seed)
            taken = int(run.queried.size)
            if taken != n_steps or run.scheduler_sigmas.size != n_steps + 1:
                wrong.append(f"{gname}/{fmt}: the consumer takes {taken} steps, not {n_steps}")
            calls = {
                sym: int(consumers.run_kdiffusion(kd, _visited(ex), cov, 4, seed).queried.size)
                for sym, kd in kd_of.items()
            }
            if any(ex.nfe.get(sym) != k for sym, k in calls.items()):
                wrong.append(f"{gname}/{fmt}: stated NFE {ex.nfe}, k-diffusion spends {calls}")
            counted[f"{gname}/{fmt}"] = {"steps": taken, **calls}
    karras_rel: dict[str, float] = {}
    for n_k in (1, 10, 25):
        ours = np.array(json.loads(export(build("karras", n_k), "k-diffusion").text))
        theirs = steps.kdiffusion_sigmas("get_sigmas_karras", n_k, 0.002, 80.0, 7.0)
        if ours.size != theirs.size:
            wrong.append(f"karras N = {n_k}: {ours.size} values, get_sigmas_karras {theirs.size}")
            continue
        nz = theirs != 0
        karras_rel[str(n_k)] = float(np.max(np.abs(ours[nz] / theirs[nz] - 1)))
        if karras_rel[str(n_k)] > 1e-14 or ours[-1] != 0.0:
            wrong.append(
                f"karras N = {n_k} differs from get_sigmas_karras by {karras_rel[str(n_k)]}"
            )
    # negative control: the N+1 levels followed by a 0 (the former k-diffusion export)
    method, n_old, opts = _STEP_GRIDS["karras8-to-0.0292"]
    old = np.append(build(method, n_old, **opts).sigmas, 0.0)
    old_steps = int(consumers.run_kdiffusion("euler", old, cov, 4, budget.seed).queried.size)
    ok = not wrong and old_steps == n_old + 1  # the control: a count that can tell N from N+1
    return Outcome(
        ok,
        (
            f"In all {len(counted)} exports ({len(FORMATS)} formats × {len(_STEP_GRIDS)} grids) "
            "the consumer takes N steps and the stated NFE is the number of model calls of "
            "k-diffusion's samplers"
            if not wrong
            else "Problems: " + "; ".join(wrong[:3])
        )
        + "; the k-diffusion export of karras differs from get_sigmas_karras by at most "
        + f"{max(karras_rel.values(), default=math.nan):.1e} relative, and the former convention "
        + f"(N + 1 levels, then 0) takes {old_steps} steps for N = {n_old}.",
        {
            "counts": counted,
            "problems": wrong,
            "get_sigmas_karras_rel_diff": karras_rel,
            "former_convention_steps": old_steps,
        },
    )
