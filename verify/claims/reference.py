"""The reference-schedule claim: the set of :mod:`symsched.reference` checked grid by grid."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symsched._typing import FloatArray
from symsched.export import flow_levels
from symsched.gaussian import exact
from symsched.reference import (
    MODELS,
    REFERENCE_STEPS,
    ModelFamily,
    proxy_spectrum,
    reference_set,
)
from symsched.schedules.ays import ays_sigmas
from symsched.schedules.discrete import training_table
from symsched.spectrum import distinct_eigenvalues
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim

__all__ = ["AYS_DIFFUSERS", "AYS_DIFFUSERS_TIMESTEPS", "FAMILY_TITLES", "family_title"]

_SD_TABLE = training_table("scaled_linear")

# diffusers 0.42.1 ``diffusers.schedulers.AysSchedules`` (scheduling_utils.py), transcribed: the
# oracle for the AYS tables when diffusers is not installed (tests/export compares the live import).
AYS_DIFFUSERS: dict[str, tuple[float, ...]] = {
    "sd15": (14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.0),
    "sdxl": (14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.38, 0.234, 0.113, 0.0),
    "svd": (700.0, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.0),
}
AYS_DIFFUSERS_TIMESTEPS: dict[str, tuple[int, ...]] = {
    "sd15": (999, 850, 736, 645, 545, 455, 343, 233, 124, 24),
    "sdxl": (999, 845, 730, 587, 443, 310, 193, 116, 53, 13),
}


def _kl_mpmath_grouped(lam: FloatArray, sigmas: FloatArray) -> float:
    """The 40-digit KL(source||output) as a sum over distinct eigenvalues times multiplicities.

    Exact regrouping of the sum over eigenvalues (docs/theory/gaussian.md#kl-divergences): each
    distinct value's one-eigenvalue KL comes from the 40-digit recursion, and the weighted sum is
    taken in 40-digit arithmetic too.
    """
    import mpmath

    values, counts = distinct_eigenvalues(lam)
    with mpmath.workdps(40):
        terms = [
            int(c) * exact.kl_mpmath([float(v)], sigmas).kl_source_output
            for v, c in zip(values, counts, strict=True)
        ]
        return float(mpmath.fsum(terms))


#: The families' names in titles.
FAMILY_TITLES = {
    "edm": "EDM",
    "sd15": "SD 1.5",
    "sdxl": "SDXL",
    "ddpm": "DDPM (linear β)",
    "flow": "rectified flow",
}


def family_title(m: ModelFamily) -> str:
    """E.g. ``EDM, σ ∈ [0.002, 80], proxy 32×32×3 (d = 3072)``."""
    r = m.spectrum.resolution
    hi = "∞" if math.isinf(m.sigma_max) else f"{m.sigma_max:.4g}"
    return (
        f"{FAMILY_TITLES.get(m.name, m.name)}, σ ∈ [{m.sigma_min:.3g}, {hi}],\n"
        f"proxy {r}×{r}×3 (d = {m.spectrum.dimension})"
    )


def _figure(curves: dict[str, dict[str, list[float]]]) -> tuple[Any, str]:
    """One panel per family (exact KL against N, log-log), one figure legend: every method has
    the same look in every panel (:mod:`symsched.plot_style`)."""
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import styles

    model_by_name = {m.name: m for m in MODELS}
    labels = list(dict.fromkeys(k for bl in curves.values() for k in bl))
    look = styles(labels)
    cols = 3
    rows = math.ceil(len(curves) / cols)
    fig = new_figure((4.2 * cols, 3.5 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    ticks = [4, 6, 10, 20, 50]
    for ax, (model, by_label) in zip(axes, curves.items(), strict=False):
        for label, ys in by_label.items():
            ax.loglog(REFERENCE_STEPS[: len(ys)], ys, ms=3.5, lw=1.2, **look[label].kwargs())
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
        ax.set_title(family_title(model_by_name[model]), fontsize=9)
        ax.set_xlabel("steps N")
        ax.set_ylabel("exact KL(source ‖ output), DDIM")
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    handles, names = [], []
    for label in labels:
        for ax in axes[: len(curves)]:
            found = dict(zip(*ax.get_legend_handles_labels()[::-1], strict=True))
            if look[label].label in found:
                handles.append(found[look[label].label])
                names.append(look[label].label)
                break
    fig.legend(handles, names, loc="outside right center", fontsize=8, title="schedule")
    fig.suptitle(
        "Reference schedules: exact DDIM KL on each family's Gaussian proxy "
        "(photographs' spectrum)",
        fontsize=11,
    )
    tidy(fig)
    n10 = REFERENCE_STEPS.index(10)
    best = {mn: look[min(bl, key=lambda k: bl[k][n10])].label for mn, bl in curves.items()}
    won = ", ".join(f"{FAMILY_TITLES.get(mn, mn)}: {b}" for mn, b in best.items())
    caption = (
        "Exact KL(source ‖ output) of DDIM against the number of steps $N$ for every reference "
        "schedule on the Gaussian proxy of each model family (the photographs' spectrum at the "
        "family's resolution and data scale), one panel per family with one legend for all. "
        f"The lowest KL at $N = 10$ is: {won}."
    )
    return fig, caption


@claim(
    "reference.schedules",
    statement=(
        "The reference schedules (EDM, SD 1.5, SDXL, DDPM linear-beta, rectified flow; N from 4 "
        "to 50; every applicable method) are valid N-step grids on each model's noise range, "
        "their exact KL on the stated Gaussian proxy agrees with a 40-digit evaluation, and each "
        "export is what its consumer expects (timesteps unique and in range, flow sigmas undo "
        "the shift)."
    ),
    source=(
        "docs/conventions.md#reference-schedules, docs/conventions.md#grids, "
        "docs/conventions.md#export-conventions; docs/conventions.md#align-your-steps-tables; "
        "Sun, Poor, Zhang arXiv 2601.13602 §4 (exact KL)"
    ),
    method=(
        "grid re-validated (strictly decreasing, N+1 levels, endpoints = model range); KL "
        "recomputed with mpmath (symsched.gaussian.exact.kl_mpmath) on a subset of N, once per "
        "distinct proxy eigenvalue times its multiplicity (the KL is a sum over eigenvalues; the "
        "ring-averaged proxies have ~0.7 R distinct values per channel); diffusers' "
        "shift map S t/(1+(S-1)t), hand-transcribed, applied to the flow export recovers rho; "
        "integer timesteps checked against the training table"
    ),
    tolerance=(
        "endpoints exact; KL relative 64 eps * 2N (backend_rtol); flow round trip 64 eps32 relative"
    ),
    docs="docs/conventions.md#reference-schedules",
    math=(
        r"\sigma_{\max}=\sigma_0>\dots>\sigma_N=\sigma_{\min},\qquad"
        r"\frac{|\operatorname{KL}-\operatorname{KL}^{\text{mpmath}}|}{\operatorname{KL}^"
        r"{\text{mpmath}}}\le64\,\varepsilon\cdot2N,\qquad\frac{|\rho(\mathrm{shift}_S(t'_k))"
        r"-\rho_k|}{\rho_k}\le64\,\varepsilon_{32},\ \ \mathrm{shift}_S(t)=\frac{S\,t}{1+(S-1)t}"
    ),
)
def check_reference(budget: Budget) -> Outcome:
    records, skipped = reference_set(score_models=budget.profile == "full")
    # the records are JSON objects (schedule, exports, KLs): read field by field below
    rows: list[dict[str, Any]] = records
    details: dict[str, Any] = skipped
    mp_steps = set(budget.pick((4, 50), REFERENCE_STEPS))
    problems: list[str] = []
    worst_kl = 0.0
    worst_flow = 0.0
    curves: dict[str, dict[str, list[float]]] = {}
    lam_by_model = {m.name: proxy_spectrum(m) for m in MODELS}
    model_by_name = {m.name: m for m in MODELS}
    for r in rows:
        m = model_by_name[r["model"]]
        sig = np.array(
            [math.inf if v == "inf" else v for v in r["schedule"]["sigmas"]], dtype=float
        )
        n = r["schedule"]["steps"]
        if sig.size != n + 1 or not np.all(np.diff(sig) < 0):
            problems.append(f"{r['name']}: not a strictly decreasing N+1 grid")
        ends = (m.sigma_max, m.sigma_min) if r["label"] != "ays" else (sig[0], sig[-1])
        if (sig[0], sig[-1]) != ends:
            problems.append(f"{r['name']}: endpoints {sig[0]}, {sig[-1]} != {ends}")
        if n in mp_steps and r["label"] in (
            "tangent",
            "karras",
            "ays",
            "flow-uniform",
            "vp-linear",
        ):
            kmp = _kl_mpmath_grouped(lam_by_model[m.name], sig)
            worst_kl = max(worst_kl, abs(r["kl_source_output"] / kmp - 1) / tol.backend_rtol(n))
        for key, ex in r["exports"].items():
            if key.startswith("flow-matching") and "value" in ex:
                s_ = float(key.split("shift=")[1].rstrip(")"))
                t = np.array(ex["value"])
                shifted = (
                    s_ * t / (1 + (s_ - 1) * t)
                )  # diffusers FlowMatchEulerDiscreteScheduler.set_timesteps
                rho = flow_levels(shifted)
                want = sig[:-1] if sig[-1] == 0 else sig
                fin = np.isfinite(want)
                if not np.array_equal(np.isinf(rho), ~fin):
                    problems.append(f"{r['name']} {key}: pure-noise level not preserved")
                worst_flow = max(
                    worst_flow,
                    float(np.max(np.abs(rho[fin] / want[fin] - 1))) if fin.any() else 0.0,
                )
            if key.startswith("diffusers-timesteps") and "value" in ex:
                ts = ex["value"]
                if (
                    len(set(ts)) != len(ts)
                    or not all(0 <= t < 1000 for t in ts)
                    or ts != sorted(ts, reverse=True)
                ):
                    problems.append(
                        f"{r['name']} {key}: timesteps not unique, descending and in range"
                    )
        curves.setdefault(m.name, {}).setdefault(r["label"], []).append(r["kl_source_output"])
    # AYS N = 10 is the published table; diffusers' 3-decimal list agrees except where ComfyUI's
    # constants are the table levels at the integer timesteps (tests/export/test_ays.py)
    for model in ("sd15", "sdxl", "svd"):
        ours = ays_sigmas(model, 10, zero_terminal=True)
        gap = float(
            np.max(np.abs(ours - np.array(AYS_DIFFUSERS[model])) / np.maximum(ours, 1e-300))
        )
        details.setdefault("ays_vs_diffusers_max_rel_gap", {})[model] = gap
    for model, ts in AYS_DIFFUSERS_TIMESTEPS.items():
        ours = np.array(ays_sigmas(model, 10))
        table = _SD_TABLE.sigmas[[*ts, 0]]
        if np.max(np.abs(ours / table - 1)) > tol.TRAIN_TABLE_RTOL:
            problems.append(
                f"ays {model}: constants are not the table levels at diffusers' AYS timesteps"
            )
    if worst_flow > tol.CONSUMER_LEVEL_RTOL:
        problems.append(f"flow export round trip off by {worst_flow:.2e}")
    if worst_kl > 1.0:
        problems.append(f"KL disagrees with mpmath: {worst_kl:.2f} x tolerance")
    fig, caption = _figure(curves)
    best = {
        mn: min(bl, key=lambda k: bl[k][REFERENCE_STEPS.index(10)]) for mn, bl in curves.items()
    }
    details.update(
        {
            "best_at_N10": best,
            "kl_at_N10": {
                mn: {k: v[REFERENCE_STEPS.index(10)] for k, v in bl.items()}
                for mn, bl in curves.items()
            },
            "kl_mpmath_error_over_tol": worst_kl,
            "flow_round_trip_rel": worst_flow,
            "problems": problems,
        }
    )
    ok = not problems
    return Outcome(
        ok,
        f"The {len(records)} reference schedules on {len(MODELS)} models show {len(problems)} "
        f"problems; the largest KL error against 40 digits is {worst_kl:.1e} times the "
        f"tolerance and the flow export round trip is off by {worst_flow:.1e}; the lowest KL at "
        f"N = 10 is " + ", ".join(f"{b} ({mn})" for mn, b in best.items()) + ".",
        details,
        figures={"kl_vs_steps": fig},
        captions={"kl_vs_steps": caption},
        schedules=[dict(r.items()) for r in records],
    )
