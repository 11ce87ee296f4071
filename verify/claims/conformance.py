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
        r"the surveyed largest $|\Delta t|$, and ManualSigmas reads 3e-05 as two numbers; each "
        "case's exact KL "
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
    math=(
        r"\max_k|\sigma_k^{\text{left}}-\sigma_k^{\text{right}}|,\quad\max_k\frac{|\sigma_k^"
        r"{\text{left}}-\sigma_k^{\text{right}}|}{\sigma_k^{\text{right}}},\quad"
        r"\frac{\operatorname{KL}_{\text{ddim}}^{\text{left}}}{\operatorname{KL}_{\text{ddim}}^"
        r"{\text{right}}},\quad C_{\text{dpmpp-2m}}^{\text{left}},\ C_{\text{dpmpp-2m}}^"
        r"{\text{right}}"
    ),
)
def check_mismatches(budget: Budget) -> Outcome:
    fails, seen = _survey_checks()
    results = measure_all()
    same = [r.case.key for r in results if not r.differs]
    if same:
        fails.append(f"cases that do not differ: {same}")
    scored = [(max(r.kl) / min(r.kl), r.case.key) for r in results if r.kl is not None]
    ratio, worst = max(scored)
    facts = (
        "every survey fact is reproduced"
        if not fails
        else f"{len(fails)} survey facts are not reproduced"
    )
    measured = (
        f"Of {len(results)} cases measured, {len(results) - len(same)} differ; {facts}, and the "
        f"largest KL ratio between the two sides is {ratio:.3g}× ({worst})."
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
        captions={
            "conformance_mismatches": (
                "Noise levels $\\log_{10}\\sigma_k$ against the step k of the two grids of each "
                f"surveyed mismatch of at most 60 steps "
                f"({sum(max(r.executed) <= 60 for r in results)} of {len(results)} cases), one "
                "panel per case, with each side's exact DDIM KL on its model's Gaussian proxy "
                f"in the panel title. The largest KL ratio between the two sides is {ratio:.3g}x "
                f"({worst})."
            )
        },
    )


_STEPS = (1, 2, 3, 5, 7, 10, 20, 28, 50, 61, 100)
_BETAS = ((0.0001, 0.02), (0.00085, 0.012))


def _draw_diffusers(name: str, rng: np.random.Generator) -> dict[str, object]:
    """A random configuration of the diffusers built-in ``name``: every choice and switch drawn,
    at most one of the ``use_*_sigmas``, numbers from the values pipelines ship."""
    from symsched._options import option_fields

    b = get_builtin(name)
    out: dict[str, object] = {}
    fields = {f.name: f for f in option_fields(b.options)}
    for f in fields.values():
        if f.kind == "choice":
            out[f.name] = str(rng.choice(list(f.choices)))
        elif f.kind == "bool" and not f.name.startswith("use_") and f.name != "invert_sigmas":
            out[f.name] = bool(rng.random() < 0.3)
    converters = [k for k in ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")
                  if k in fields]  # fmt: skip
    if converters and rng.random() < 0.6:
        out[str(rng.choice(converters))] = True
    if "beta_start" in fields:
        out["beta_start"], out["beta_end"] = _BETAS[int(rng.integers(2))]
    if "steps_offset" in fields:
        out["steps_offset"] = int(rng.integers(2))
    if "shift" in fields:
        out["shift"] = float(rng.choice([1.0, 3.0]))
    if "flow_shift" in fields:
        out["flow_shift"] = float(rng.choice([1.0, 3.0]))
    if "use_flow_sigmas" in fields and out.get("use_flow_sigmas"):
        out["beta_schedule"] = "linear"
    if "use_dynamic_shifting" in fields:
        dyn = bool(rng.random() < 0.4)
        out["use_dynamic_shifting"] = dyn
        out["mu"] = float(rng.choice([0.5, 1.15])) if dyn else None
    if "sigmas" in fields:
        out["sigmas"] = str(rng.choice(["scheduler", "linspace"]))
    return out


def _compare_diffusers(name: str, steps: int, config: dict[str, object]) -> tuple[str, int]:
    """``("exact" | "within" | "both-refuse" | failure text, ulps)`` for one configuration."""
    from symsched.builtin._registry import grid_from_levels
    from symsched.builtin.diffusers import UnrepresentableGrid
    from symsched_verify.oracles.tool_schedules import (
        real_diffusers,
        ulps,
        zero_snr_excess,
        zero_snr_timestep_excess,
    )

    b = get_builtin(name)
    try:
        real = real_diffusers(name, steps, config)
        real_err = None
    except Exception as exc:  # the real scheduler's refusal, of whatever type it raises
        real, real_err = None, exc
    try:
        g = b.build(steps, **config)
    except UnrepresentableGrid:
        if real is None:
            return f"refuses as not a grid, diffusers raised {real_err!r}", -1
        try:  # the same merge-and-check the built-ins apply: diffusers' levels must fail it too
            grid_from_levels(real[0], "diffusers' levels")
        except ValueError:
            return "both-refuse", 0
        return "refuses a decreasing grid", -1
    except ValueError as exc:
        if real is None:
            return "both-refuse", 0
        ts_real = real[1]
        table = int(config.get("num_train_timesteps", 1000))  # type: ignore[call-overload]
        if "outside the training table" in str(exc) and ts_real is not None:
            # DDIM timesteps diffusers accepts but its own step cannot run (documented refusal)
            bad = bool(ts_real.max() >= table or ts_real.min() < 0)
            return ("both-refuse", 0) if bad else (f"refuses ({exc}), diffusers runs", -1)
        return f"refuses ({exc}), diffusers runs", -1
    if real is None:
        return f"runs, diffusers refuses ({real_err!r})", -1
    levels, ts = real
    if name in ("diffusers:ays-sd15", "diffusers:ays-sdxl", "diffusers:ays-svd"):
        same = np.array_equal(g.tool_sigmas.astype(np.float64), levels)
        return ("exact", 0) if same else ("AYS constants differ", -1)
    u = ulps(g.tool_sigmas, levels)
    if u < 0:
        return f"{g.tool_sigmas.size} levels, diffusers {levels.size}", -1
    if ts is not None and g.tool_timesteps is not None:
        if g.tool_timesteps.shape != ts.shape:
            return "timesteps differ in length", -1
        if config.get("rescale_betas_zero_snr"):
            same_t = zero_snr_timestep_excess(g.tool_timesteps, ts, levels) <= 1.0
        else:
            same_t = np.allclose(
                g.tool_timesteps, ts, rtol=0, atol=tol.DIFFUSERS_DERIVED_TIMESTEP_ATOL
            )
        if not same_t:
            return "timesteps differ", -1
    if u == 0:
        return "exact", 0
    if config.get("rescale_betas_zero_snr"):
        ours = g.tool_sigmas.astype(np.float64)
        if not np.array_equal(np.isfinite(ours), np.isfinite(levels)):
            return "infinite levels differ", -1
        excess = zero_snr_excess(ours, levels)
        return ("within", u) if excess <= 1.0 else (f"{excess:.2g} x the zero-SNR bound", u)
    bound = tol.DIFFUSERS_TABLE_ULPS + tol.DIFFUSERS_TORCH_TRANSCENDENTAL_ULPS
    return ("within", u) if u <= bound else (f"{u} ulps", u)


@claim(
    "conformance.reproduced",
    statement=(
        "Every built-in schedule of diffusers and k-diffusion that symsched reproduces gives, "
        "for randomly drawn configurations and step counts, the arrays the installed library "
        "itself computes: the same timesteps and levels bit for bit, or within the stated "
        "float32 ulps where torch's vectorised sqrt / pow / exp are not correctly rounded; and "
        "it refuses exactly the configurations the library refuses."
    ),
    source=(
        "diffusers 0.42.1 schedulers (EulerDiscrete, EulerAncestralDiscrete, HeunDiscrete, "
        "DPMSolverMultistep, UniPCMultistep, DDIM, FlowMatchEulerDiscrete, "
        "FlowMatchHeunDiscrete; AysSchedules); k-diffusion 0.1.1.post1 sampling.get_sigmas_*"
    ),
    method=(
        "the installed libraries built from the same option values "
        "(symsched_verify.oracles.tool_schedules), configurations drawn with a seeded generator "
        "over every choice and switch"
    ),
    tolerance=(
        f"bit-exact, else <= {tol.DIFFUSERS_TABLE_ULPS + tol.DIFFUSERS_TORCH_TRANSCENDENTAL_ULPS} "
        f"float32 ulps (diffusers; zero-SNR tables {tol.DIFFUSERS_ZERO_SNR_RTOL:g} relative plus "
        f"{tol.DIFFUSERS_ZERO_SNR_ALPHA_RTOL:.2g} (1 + s^2) / (2 s^2) at the smallest level s, "
        "the conditioning of sigma in alpha_bar), "
        f"<= {tol.KDIFFUSION_TORCH_POW_ULPS} ulps (k-diffusion pow)"
    ),
    docs="docs/conformance.md#how-equality-is-proven",
    math=(
        r"\max_k\frac{|\sigma_k^{\text{symsched}}-\sigma_k^{\text{library}}|}{\mathrm{ulp}_{32}"
        r"\big(\sigma_k^{\text{library}}\big)}=0\ \text{(bit-exact), or}\ \le"
        rf"{tol.DIFFUSERS_TABLE_ULPS + tol.DIFFUSERS_TORCH_TRANSCENDENTAL_ULPS}"
        r"\ \text{(diffusers)},\ \le"
        rf"{tol.KDIFFUSION_TORCH_POW_ULPS}\ \text{{(k-diffusion)}}"
    ),
)
def check_reproduced(budget: Budget) -> Outcome:
    try:
        import diffusers  # noqa: F401  (the libraries under test; their absence fails the claim)
        import k_diffusion  # noqa: F401
    except ImportError as exc:
        return Outcome(
            False,
            f"A library under test is not installed ({exc}); install the test extra to compare "
            "with the real libraries.",
        )
    from symsched.builtin import builtin_names
    from symsched_verify.oracles.tool_schedules import real_kdiffusion, ulps

    rng = np.random.default_rng(budget.seed)
    draws = int(budget.pick(12, 150))
    counts: dict[str, dict[str, int]] = {}
    worst: dict[str, int] = {}
    fails: list[str] = []
    for name in builtin_names("diffusers"):
        c = counts.setdefault(name, {"exact": 0, "within": 0, "both-refuse": 0})
        for _ in range(draws):
            cfg = _draw_diffusers(name, rng)
            n = 10 if name.startswith("diffusers:ays") else int(rng.choice(_STEPS))
            verdict, u = _compare_diffusers(name, n, cfg)
            if verdict in c:
                c[verdict] += 1
                worst[name] = max(worst.get(name, 0), u)
            else:
                fails.append(f"{name} N={n} {cfg}: {verdict}")
    for name in builtin_names("k-diffusion"):
        c = counts.setdefault(name, {"exact": 0, "within": 0, "both-refuse": 0})
        for _ in range(draws):
            n = int(rng.choice(_STEPS))
            opts: dict[str, object] = {}
            if name != "k-diffusion:vp":
                opts = {"sigma_min": float(rng.choice([0.002, 0.0292, 0.03])),
                        "sigma_max": float(rng.choice([14.6146, 80.0, 120.0]))}  # fmt: skip
            if name == "k-diffusion:karras":
                opts["rho"] = float(rng.choice([7.0, 5.0, 3.0]))
            ours = get_builtin(name).build(n, **opts).tool_sigmas
            u = ulps(ours, real_kdiffusion(name, n, opts))
            worst[name] = max(worst.get(name, 0), u)
            if u == 0:
                c["exact"] += 1
            elif 0 < u <= tol.KDIFFUSION_TORCH_POW_ULPS:
                c["within"] += 1
            else:
                fails.append(f"{name} N={n} {opts}: {u} ulps")
    total = sum(sum(c.values()) for c in counts.values())
    exact = sum(c["exact"] for c in counts.values())
    refused = sum(c["both-refuse"] for c in counts.values())
    measured = (
        f"Over {len(counts)} built-ins with {draws} drawn configurations each, {exact} arrays "
        f"are bit-exact, {total - exact - refused} within tolerance (at most "
        f"{max(worst.values())} float32 ulps) and {refused} configurations are refused by both; "
        f"{len(fails)} comparisons fail."
    )
    return Outcome(
        not fails,
        measured,
        {"counts": counts, "max_ulps": worst, "failures": fails[:20], "draws": draws},
    )
