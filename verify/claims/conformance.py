r"""Claims of the reproduced built-in schedules of other tools (docs/conformance.md).

``conformance.mismatches`` measures every case of :data:`symsched.builtin.mismatch.MISMATCHES`
(the two sides' grids, their exact KL and coupling error on the model's Gaussian proxy) and checks
the reproductions against facts read off the tools independently of this project's code: the
survey of the tools' sources (values computed by running each tool's own code), listed in
:data:`SURVEY`. The KL and coupling consequences are findings, reported in the table and the
figure, not thresholded.
"""

from __future__ import annotations

import numpy as np

from symsched._typing import FloatArray
from symsched.builtin import get_builtin
from symsched.builtin.mismatch import (
    SD_CONFIG,
    manual_sigmas_finding,
    markdown_table,
    measure_all,
    plot_mismatches,
)
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim

SRC = (
    "diffusers 0.42.1 (schedulers/scheduling_euler_discrete.py, scheduling_dpmsolver_multistep.py, "
    "scheduling_flow_match_euler_discrete.py); ComfyUI (Comfy-Org/ComfyUI commit a125cd8: "
    "comfy/samplers.py, comfy/model_sampling.py, comfy_extras/nodes_align_your_steps.py); "
    "A1111 (AUTOMATIC1111/stable-diffusion-webui commit 02b0092: modules/sd_schedulers.py); "
    "Sun, Poor, Zhang arXiv 2601.13602 Eq. (9) (the exact KL of the Euler step)"
)

SURVEY: dict[str, object] = {
    # ComfyUI simple (index 999 - floor(k T/N)) vs diffusers trailing (round(T - k T/N) - 1) on
    # SD tables differ exactly when T/N is not an integer; for N in 1..30 that is every N but
    # 1, 2, 4, 5, 8, 10, 20, 25. (The survey's list omitted 16 and 22; the real diffusers gives
    # 811 for ComfyUI's 812 at N = 16, k = 3, and 908 for 909 at N = 22, k = 2.)
    "simple_vs_trailing_differ_at": [n for n in range(1, 31) if 1000 % n],
    "trailing_timesteps_7": [999, 856, 713, 570, 428, 285, 142],
    # ComfyUI beta: steps run for steps asked
    "comfy_beta_steps_run": {200: 199, 300: 293, 500: 475, 1000: 847},
    # "beta" on SD1.5 at N = 10, as printed (two decimals)
    "comfy_beta_10": [14.61, 11.54, 7.37, 4.37, 2.62, 1.62, 1.03, 0.65, 0.40, 0.20, 0.0],
    "diffusers_beta_10": [14.61, 13.93, 12.49, 10.60, 8.44, 6.20, 4.05, 2.15, 0.72, 0.029],
    # zero terminal SNR: sigma_max of the rescaled table
    "zsnr_sigma_max": {"comfyui": 4518.8, "diffusers": 4096.0},
    # Flux: max |dt| between ComfyUI simple (mu 1.15) and the diffusers Flux pipeline (mu 1.15)
    "flux_max_dt": {3: 7.1e-5, 7: 1.0e-4, 28: 2.3e-4, 30: 1.8e-4},
    "flux_same_at": [10, 20],
    # ManualSigmas reads 3e-05 as two numbers
    "manual_sigmas": [1.0, 0.5, 3.0, -5.0, 0.0],
}
"""Facts about the tools read from their own code by another route (docs/conformance.md#sources:
the survey ran each tool's functions), checked against the reproductions."""


def _same_levels(a: FloatArray, b: FloatArray) -> bool:
    """Same length, and every level the same training level (see MISMATCH_SAME_LEVEL_RTOL)."""
    if a.shape != b.shape:
        return False
    pos = (a > 0) & (b > 0)
    if not np.array_equal(a == 0, b == 0):
        return False
    return bool(np.all(np.abs(a[pos] / b[pos] - 1.0) <= tol.MISMATCH_SAME_LEVEL_RTOL))


def _survey_checks() -> tuple[list[str], dict[str, object]]:
    fails: list[str] = []
    seen: dict[str, object] = {}
    simple, euler = get_builtin("comfyui:simple"), get_builtin("diffusers:euler")
    differ = [
        n
        for n in range(1, 31)
        if not _same_levels(
            simple.build(n, model="sd15").sigmas,
            euler.build(n, timestep_spacing="trailing", **SD_CONFIG).sigmas,
        )
    ]
    seen["simple_vs_trailing_differ_at"] = differ
    if differ != SURVEY["simple_vs_trailing_differ_at"]:
        fails.append(f"simple vs trailing differ at {differ}")
    ts = euler.build(7, timestep_spacing="trailing", **SD_CONFIG).tool_timesteps
    seen["trailing_timesteps_7"] = [] if ts is None else [int(t) for t in ts]
    if seen["trailing_timesteps_7"] != SURVEY["trailing_timesteps_7"]:
        fails.append(f"trailing timesteps at N = 7: {seen['trailing_timesteps_7']}")
    beta = get_builtin("comfyui:beta")
    run = {n: beta.build(n, model="sd15").executed_steps for n in (200, 300, 500, 1000)}
    seen["comfy_beta_steps_run"] = run
    if run != SURVEY["comfy_beta_steps_run"]:
        fails.append(f"ComfyUI beta steps run {run}")
    cb = beta.build(10, model="sd15").tool_sigmas.astype(np.float64)
    db = euler.build(10, use_beta_sigmas=True, **SD_CONFIG).tool_sigmas.astype(np.float64)
    for key, got in (("comfy_beta_10", cb), ("diffusers_beta_10", db[:10])):
        want = np.asarray(SURVEY[key], dtype=np.float64)
        err = float(np.max(np.abs(got - want))) if got.shape == want.shape else np.inf
        seen[key] = err
        if not err <= tol.MISMATCH_CHECK_ABS:
            fails.append(f"{key}: max |diff| {err:.3g} from the printed values")
    zs = {
        "comfyui": float(
            get_builtin("comfyui:normal").build(20, model="sd15", zsnr=True).sigmas[0]
        ),
        "diffusers": float(
            euler.build(
                20, rescale_betas_zero_snr=True, timestep_spacing="trailing", **SD_CONFIG
            ).sigmas[0]
        ),
    }
    seen["zsnr_sigma_max"] = zs
    want_z = SURVEY["zsnr_sigma_max"]
    assert isinstance(want_z, dict)
    for k, v in zs.items():
        if not abs(v - want_z[k]) <= max(tol.MISMATCH_CHECK_ABS, 0.05):  # printed to 0.1
            fails.append(f"zero-SNR sigma_max {k} {v:.6g}")
    flux = {}
    for n in (3, 7, 10, 20, 28, 30):
        a = get_builtin("comfyui:simple").build(n, model="flux").tool_sigmas.astype(np.float64)
        b = (
            get_builtin("diffusers:flow-euler")
            .build(n, use_dynamic_shifting=True, mu=1.15, sigmas="linspace")
            .tool_sigmas.astype(np.float64)
        )
        flux[n] = float(np.max(np.abs(a - b))) if a.shape == b.shape else np.inf
    seen["flux_max_dt"] = flux
    want_f = SURVEY["flux_max_dt"]
    assert isinstance(want_f, dict)
    for n, v in want_f.items():
        if not abs(flux[n] - v) <= tol.MISMATCH_FLUX_ABS:
            fails.append(f"Flux N = {n}: max |dt| {flux[n]:.3g}, survey {v:g}")
    for n in (10, 20):  # "equal": within one float32 ulp of t <= 1 (the two round differently)
        if not flux[n] <= float(np.finfo(np.float32).eps):
            fails.append(f"Flux N = {n}: max |dt| {flux[n]:.3g}, survey 0")
    ms = manual_sigmas_finding("1.0, 0.5, 3e-05, 0.0")
    seen["manual_sigmas"] = ms
    if ms["comfyui"] != SURVEY["manual_sigmas"] or ms["symsched"] != [1.0, 0.5, 3e-05, 0.0]:
        fails.append(f"ManualSigmas reading {ms}")
    return fails, seen


@claim(
    "conformance.mismatches",
    statement=(
        "Where two tools disagree on what users treat as the same schedule, the reproductions "
        "show it exactly as the tools' own code does: ComfyUI simple and diffusers trailing "
        "spacing differ at exactly the surveyed N, ComfyUI beta runs 199/293/475/847 steps for "
        "200/300/500/1000 asked, the two 'beta' schedules and the two zero-terminal-SNR tables "
        "take the surveyed values, ComfyUI's Flux simple and the diffusers Flux pipeline differ by "
        "the surveyed max |dt|, and ManualSigmas reads 3e-05 as two numbers; each case's exact KL "
        "and coupling error on the model's Gaussian proxy is reported."
    ),
    source=SRC,
    method=(
        "the check values of conformance.SURVEY (each tool's own functions run on its source, "
        "docs/conformance.md#sources) against symsched.builtin's reproductions; the KL under ddim "
        "and the coupling error under dpmpp-2m from symsched.gaussian.coupling.grouped_criteria"
    ),
    tolerance=(
        f"printed values to half their last digit ({tol.MISMATCH_CHECK_ABS:g}; Flux dt "
        f"{tol.MISMATCH_FLUX_ABS:g}); same level within {tol.MISMATCH_SAME_LEVEL_RTOL:g} relative "
        "(the float32/float64 table difference is 1.3e-5, adjacent levels 3.3e-3 apart)"
    ),
    docs="docs/conformance.md#mismatches",
)
def check_mismatches(budget: Budget) -> Outcome:
    fails, seen = _survey_checks()
    results = measure_all()
    same = [r.case.key for r in results if not r.differs]
    if same:
        fails.append(f"cases that do not differ: {same}")
    scored = [(max(r.kl) / min(r.kl), r.case.key) for r in results if r.kl is not None]
    ratio, worst = max(scored)
    measured = (
        f"{len(results)} cases measured, {len(results) - len(same)} differ; survey facts "
        f"{'all reproduced' if not fails else f'{len(fails)} failures'}; largest KL ratio "
        f"{ratio:.3g}x ({worst})"
    )
    return Outcome(
        not fails,
        measured,
        {
            "markdown": markdown_table(results),
            "cases": [
                {
                    "key": r.case.key,
                    "left": r.case.left.label,
                    "right": r.case.right.label,
                    "executed": list(r.executed),
                    "max_abs": r.max_abs,
                    "max_rel": r.max_rel,
                    "kl_ddim": None if r.kl is None else list(r.kl),
                    "coupling_dpmpp_2m": None if r.coupling is None else list(r.coupling),
                }
                for r in results
            ],
            "survey_measured": seen,
            "failures": fails,
        },
        figures={"conformance_mismatches": plot_mismatches(results)},
    )
