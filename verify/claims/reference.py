r"""Reference schedules for real model families, exported to their consumers (issue 6).

For each model family the run writes, for N in {4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50} and every
method that applies, the grid, its exports for the consumers of that family and the exact KL on the
family's Gaussian proxy. The proxies (stated in every file):

* ``edm`` (sigma in [0.002, 80], sigma_data = 0.5): the digits spectrum rescaled to mean eigenvalue
  0.25, so that the RMS data std is EDM's sigma_data = 0.5 [karras2022, §5].
* ``sd15`` / ``sdxl`` (sigma in [0.0292, 14.6146], the scaled_linear training table): the digits
  spectrum rescaled to mean eigenvalue 1 (latents are scaled to unit variance by the VAE factor).
* ``ddpm`` (linear beta 1e-4..0.02, 1000 steps; sigma in [0.0100, 157.4]): the digits spectrum in
  its [-1, 1] scale, the pixel scale DDPM is trained in [ho2020].
* ``flow`` (rectified flow, x_t = (1-t) x0 + t eps, from pure noise t = 1 to data t = 0): the digits
  spectrum rescaled to mean eigenvalue 1 (latent flow models such as SD3, shift = 3).

Methods: ``tangent`` (c = gamma* of the proxy), ``kl-optimal-c1`` (tangent with c = 1: ComfyUI's
``kl_optimal``), ``karras`` (rho = 7), ``loglinear``, ``vp-linear`` (ddpm only: uniform in
diffusion time), ``ays`` (sd15/sdxl), ``flow-uniform`` (flow only: uniform flow time, the default of
``FlowMatchEulerDiscreteScheduler``), and every other registered method that takes a spectrum
(``variational``, ``kl-optimal`` ... when registered; score-model methods such as ``stein`` get the
Gaussian proxy as their model, under ``--full`` only, as they take seconds per grid); a method that
does not apply is listed with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import symsched.schedules.methods.ays  # noqa: F401  (registers "ays")
from symsched.datasets import dataset_spectrum
from symsched.export._legacy import export, flow_levels
from symsched.gaussian import exact
from symsched.schedules._registry import METHODS, Schedule, _load_builtin_methods, build
from symsched.schedules.ays import ays_sigmas
from symsched.schedules.discrete import training_table
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim

__all__ = ["AYS_DIFFUSERS", "MODELS", "REFERENCE_STEPS", "reference_set"]

REFERENCE_STEPS = (4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50)


@dataclass(frozen=True)
class ModelFamily:
    name: str
    sigma_min: float
    sigma_max: float
    mean_eigenvalue: float | None  # rescale the digits spectrum to this mean (None: as is)
    proxy: str
    exports: tuple[tuple[str, dict[str, Any]], ...]


_SD_TABLE = training_table("scaled_linear")
_DDPM_TABLE = training_table("linear")
MODELS: tuple[ModelFamily, ...] = (
    ModelFamily(
        "edm",
        0.002,
        80.0,
        0.25,
        "digits spectrum rescaled to mean eigenvalue 0.25 (sigma_data = 0.5)",
        (("k-diffusion", {}),),
    ),
    ModelFamily(
        "sd15",
        0.0292,
        14.6146,
        1.0,
        "digits spectrum rescaled to mean eigenvalue 1 (unit-variance latents)",
        (
            ("diffusers-euler", {}),
            ("comfyui", {}),
            ("diffusers-timesteps", {"train_schedule": "scaled_linear"}),
        ),
    ),
    ModelFamily(
        "sdxl",
        0.0292,
        14.6146,
        1.0,
        "digits spectrum rescaled to mean eigenvalue 1 (unit-variance latents)",
        (
            ("diffusers-euler", {}),
            ("comfyui", {}),
            ("diffusers-timesteps", {"train_schedule": "scaled_linear"}),
        ),
    ),
    ModelFamily(
        "ddpm",
        float(_DDPM_TABLE.sigmas[0]),
        float(_DDPM_TABLE.sigmas[-1]),
        None,
        "digits spectrum, [-1, 1] pixel scale",
        (("diffusers-timesteps", {"train_schedule": "linear"}), ("diffusers-euler", {})),
    ),
    ModelFamily(
        "flow",
        0.0,
        math.inf,
        1.0,
        "digits spectrum rescaled to mean eigenvalue 1 (unit-variance latents)",
        (("flow-matching", {"shift": 1.0}), ("flow-matching", {"shift": 3.0})),
    ),
)

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


def _proxy(m: ModelFamily) -> np.ndarray:
    lam = dataset_spectrum("digits")
    return lam if m.mean_eigenvalue is None else lam * (m.mean_eigenvalue / lam.mean())


def _methods(
    m: ModelFamily, lam: np.ndarray, n: int, budget: Budget
) -> list[tuple[str, Schedule | str]]:
    """(label, schedule or the reason it does not apply) for model ``m`` at ``n`` steps."""
    rng = {"sigma_min": m.sigma_min, "sigma_max": m.sigma_max}
    out: list[tuple[str, Schedule | str]] = [
        ("tangent", build("tangent", n, eigenvalues=lam, **rng)),
        ("kl-optimal-c1", build("tangent", n, c=1.0, **rng)),
    ]
    finite = math.isfinite(m.sigma_max) and m.sigma_min > 0
    for label, method, kw in (("karras", "karras", {"rho": 7.0}), ("loglinear", "loglinear", {})):
        out.append(
            (
                label,
                build(method, n, **kw, **rng)
                if finite
                else "needs 0 < sigma_min and a finite sigma_max (the flow model runs from pure noise to 0)",
            )
        )
    if m.name == "ddpm":
        out.append(("vp-linear", build("vp-linear", n, beta_min=0.1, beta_max=20.0, **rng)))
    if m.name in ("sd15", "sdxl"):
        out.append(("ays", build("ays", n, model=m.name)))
    if m.name == "flow":
        t = np.linspace(1.0, 0.0, n + 1)
        out.append(
            (
                "flow-uniform",
                Schedule(
                    "flow-uniform",
                    flow_levels(t),
                    {
                        "flow_time": "t = linspace(1, 0, N+1)",
                        "sigma_min": 0.0,
                        "sigma_max": math.inf,
                    },
                ),
            )
        )
    _load_builtin_methods()
    for name in sorted(
        set(METHODS) - {"tangent", "karras", "loglinear", "vp-linear", "cosine", "ays"}
    ):
        flags = {o.flag for o in METHODS[name].options}
        if "--eigenvalues" not in flags:
            out.append((name, "takes no Gaussian spectrum (needs a model spec)"))
            continue
        kw: dict[str, Any] = {"eigenvalues": lam, **rng}
        if "--model" in flags:  # score-model methods (stein): the Gaussian proxy as the model
            if budget.profile == "quick":
                out.append(
                    (name, "score-model optimiser (seconds per grid): computed under --full only")
                )
                continue
            kw["model"] = "gaussian"
        try:
            out.append((name, build(name, n, **kw)))
        except ValueError as exc:
            out.append((name, f"not applicable: {exc}"))
    return out


def _exports(m: ModelFamily, sch: Schedule) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for fmt, opts in m.exports:
        key = fmt + (f" (shift={opts['shift']:g})" if "shift" in opts else "")
        try:
            ex = export(sch, fmt, **opts)
            import json

            res[key] = {"value": json.loads(ex.text), "note": ex.note}
        except ValueError as exc:
            res[key] = {"error": str(exc)}
    return res


def reference_set(budget: Budget) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Build every reference schedule; return (schedule records, summary details)."""
    records: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for m in MODELS:
        lam = _proxy(m)
        for n in REFERENCE_STEPS:
            for label, sch in _methods(m, lam, n, budget):
                if isinstance(sch, str):
                    skipped[f"{m.name}/{label}"] = sch
                    continue
                k = exact.kl(lam, sch.sigmas)
                records.append(
                    {
                        "name": f"{m.name}-{label}-N{n}",
                        "model": m.name,
                        "label": label,
                        "schedule": sch.to_json(),
                        "proxy": m.proxy,
                        "proxy_dimension": int(lam.size),
                        "kl_source_output": k.kl_source_output,
                        "kl_output_source": k.kl_output_source,
                        "exports": _exports(m, sch),
                    }
                )
    return records, {"skipped": skipped}


@claim(
    "reference.schedules",
    statement="The reference schedules (EDM, SD 1.5, SDXL, DDPM linear-beta, rectified flow; N in 4..50; every applicable method) are valid N-step grids on each model's noise range, their exact KL on the stated Gaussian proxy agrees with a 40-digit evaluation, and each export is what its consumer expects (timesteps unique and in range, flow sigmas undo the shift).",
    source="conventions.md (grids, export conventions); peers.md §1.4, §3.1; Sun, Poor, Zhang arXiv 2601.13602 §4 (exact KL)",
    method="grid re-validated (strictly decreasing, N+1 levels, endpoints = model range); KL recomputed with mpmath (symsched.gaussian.exact.kl_mpmath) on a subset of N; diffusers' shift map S t/(1+(S-1)t), hand-transcribed, applied to the flow export recovers rho; integer timesteps checked against the training table",
    tolerance="endpoints exact; KL relative 64 eps * 2N (backend_rtol); flow round trip 64 eps32 relative",
    issue=6,
)
def check_reference(budget: Budget) -> Outcome:
    import matplotlib.pyplot as plt

    records, details = reference_set(budget)
    mp_steps = set(budget.pick((4, 50), REFERENCE_STEPS))
    problems: list[str] = []
    worst_kl = 0.0
    worst_flow = 0.0
    curves: dict[str, dict[str, list[float]]] = {}
    lam_by_model = {m.name: _proxy(m) for m in MODELS}
    model_by_name = {m.name: m for m in MODELS}
    for r in records:
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
            kmp = float(exact.kl_mpmath(lam_by_model[m.name], sig).kl_source_output)
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
        table = _SD_TABLE.sigmas[list(ts) + [0]]
        if np.max(np.abs(ours / table - 1)) > tol.TRAIN_TABLE_RTOL:
            problems.append(
                f"ays {model}: constants are not the table levels at diffusers' AYS timesteps"
            )
    if worst_flow > tol.CONSUMER_LEVEL_RTOL:
        problems.append(f"flow export round trip off by {worst_flow:.2e}")
    if worst_kl > 1.0:
        problems.append(f"KL disagrees with mpmath: {worst_kl:.2f} x tolerance")
    fig, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 3.2), sharey=False)
    for ax, (model, by_label) in zip(np.atleast_1d(axes), curves.items()):
        for label, ys in by_label.items():
            ax.loglog(REFERENCE_STEPS[: len(ys)], ys, "o-", ms=2, lw=1, label=label)
        ax.set_title(model, fontsize=9)
        ax.set_xlabel("N", fontsize=8)
        ax.tick_params(labelsize=7)
    np.atleast_1d(axes)[0].set_ylabel("exact KL(source||output)", fontsize=8)
    np.atleast_1d(axes)[-1].legend(fontsize=6)
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
        f"{len(records)} schedules on {len(MODELS)} models; KL/mpmath err {worst_kl:.1e} x tol; "
        f"flow round trip {worst_flow:.1e}; best at N=10: {best}",
        details,
        figures={"kl_vs_steps": fig},
        schedules=[{k: v for k, v in r.items()} for r in records],
    )
