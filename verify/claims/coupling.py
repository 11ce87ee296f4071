r"""The coupling error and the sampler-aware optimum (docs/theory/coupling.md).

Oracles: the real k-diffusion samplers run on the exact Gaussian denoiser (their linear map, one
particle per eigen-direction), each sampler's own direct recursion in 40-digit mpmath, central
finite differences of the independent float64 criterion, and random feasible perturbations.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symsched._typing import FloatArray
from symsched.datasets import dataset_spectrum
from symsched.gaussian import coupling, sampler_optimum
from symsched.gaussian.sampler_optimum import Objective
from symsched.samplers import SAMPLERS, get_sampler, sampler_names
from symsched_verify import tolerances as tol
from symsched_verify.oracles.consumers import KDIFFUSION_SAMPLERS, run_kdiffusion_linear_map
from symsched_verify.registry import Budget, Outcome, claim
from symsched_verify.tex import tex_number

SRC = "Sun, Poor, Zhang, arXiv 2601.13602"
EDM_RANGE = (0.002, 80.0)


def _edm_digits() -> FloatArray:
    """The digits spectrum at EDM's scale (mean eigenvalue 0.25, sigma_data = 0.5)."""
    lam = dataset_spectrum("digits")
    return np.asarray(lam * (0.25 / lam.mean()))


def _grid(rng: np.random.Generator, n: int, *, pure: bool, zero: bool) -> FloatArray:
    inner = np.sort(np.exp(rng.uniform(math.log(0.01), math.log(60.0), n - 1)))[::-1]
    top = math.inf if pure else float(np.exp(rng.uniform(math.log(70.0), math.log(100.0))))
    bottom = 0.0 if zero else float(np.exp(rng.uniform(math.log(1e-3), math.log(0.009))))
    return np.concatenate([[top], inner, [bottom]])


@claim(
    "coupling.kdiffusion-linear-map",
    statement=(
        r"The closed-form linear map $G_i/G^\ast_i$ of every sampler k-diffusion ships (Euler = "
        "DDIM, Heun, DPM-Solver++(2M), Euler ancestral's mean map) equals the real k-diffusion "
        "sampler's on the exact Gaussian denoiser."
    ),
    source=f"{SRC}, §3 (exact Gaussian recursions); k-diffusion k_diffusion/sampling.py",
    method=(
        "k_diffusion.sampling.sample_* in float64 on diag(lambda) with D = lambda/(lambda+s^2) x, "
        "one particle per eigen-direction (the map is linear), zero noise_sampler for ancestral"
    ),
    tolerance=f"relative {tol.KDIFFUSION_GAIN_RTOL:g}",
    docs="docs/theory/coupling.md#checks",
    math=(
        r"q_i=\frac{G_i}{G^\ast_i},\quad G^\ast_i=\sqrt{\frac{\lambda_i+\sigma_N^2}"
        r"{\lambda_i+\sigma_0^2}},\qquad\Big|\frac{q_i^{\text{k-diffusion}}}{q_i}-1\Big|\le"
        rf"{tex_number(tol.KDIFFUSION_GAIN_RTOL)}"
    ),
)
def check_kdiffusion_linear_map(budget: Budget) -> Outcome:
    rng = np.random.default_rng([budget.seed, 71])
    worst: dict[str, float] = {}
    for i in range(budget.pick(4, 16)):
        lam = np.exp(rng.uniform(math.log(1e-3), math.log(1e3), int(rng.integers(2, 9))))
        grid = _grid(rng, int(rng.integers(2, 12)), pure=False, zero=bool(i % 2))
        for kd, (_, ours) in KDIFFUSION_SAMPLERS.items():
            eta = float(rng.uniform(0.0, 1.0)) if ours == "ancestral" else None
            q_kd = run_kdiffusion_linear_map(kd, grid, lam, eta=eta)
            kn = {} if eta is None else {"eta": eta}
            q, _ = coupling.gain_ratios(lam, grid, sampler=ours, **kn)
            worst[ours] = max(worst.get(ours, 0.0), float(np.max(np.abs(q_kd / q - 1))))
    ok = max(worst.values()) <= tol.KDIFFUSION_GAIN_RTOL
    return Outcome(
        ok,
        "The real k-diffusion samplers' linear maps match the closed forms to a largest "
        "relative difference of "
        + ", ".join(f"{v:.1e} ({k})" for k, v in sorted(worst.items()))
        + ".",
        {"max_rel": worst},
    )


@claim(
    "coupling.mpmath-reference",
    statement=(
        "The float64 coupling error of every sampler equals its 40-digit reference computed from "
        "the sampler's own direct recursion, on drawn spectra and grids (both ends, pure noise)."
    ),
    source=f"{SRC}, §3; docs/theory/coupling.md#definition",
    method="coupling_error_mpmath: |q_i| = sqrt(r_i) of Sampler.variance_ratio_mp at 40 digits",
    tolerance=f"relative {tol.COUPLING_MP_RTOL:g}",
    docs="docs/theory/coupling.md#float64-numerics",
    math=(
        r"C=\sum_iw_ic_i,\quad w_i=\frac{\lambda_i+\sigma_N^2}{\sum_j(\lambda_j+\sigma_N^2)},\quad "
        r"c_i=(q_i-1)^2+\frac{v_i}{\lambda_i+\sigma_N^2},\qquad"
        rf"\Big|\frac{{C^{{\text{{float64}}}}}}{{C^{{\text{{mpmath}}}}}}-1\Big|\le"
        rf"{tex_number(tol.COUPLING_MP_RTOL)}"
    ),
)
def check_mpmath_reference(budget: Budget) -> Outcome:
    rng = np.random.default_rng([budget.seed, 72])
    worst: dict[str, float] = {}
    for i in range(budget.pick(6, 30)):
        lam = np.exp(rng.uniform(math.log(1e-4), math.log(1e3), int(rng.integers(1, 6))))
        for name in sampler_names(include_oracles=False):
            smp = get_sampler(name)
            grid = _grid(
                rng,
                int(rng.integers(1, 9)),
                pure=smp.pure_noise_start and i % 3 == 0,
                zero=i % 2 == 1,
            )
            kn = {"eta": float(rng.uniform(0, 1))} if name == "ancestral" else {}
            f = coupling.coupling_error(lam, grid, sampler=name, **kn)
            m = float(coupling.coupling_error_mpmath(lam, grid, sampler=name, knobs=kn))
            rel = abs(f / m - 1) if m else abs(f)
            bound = tol.dpm_mp_rtol(grid.tolist()) if name == "dpmpp-2m" else tol.COUPLING_MP_RTOL
            worst[name] = max(worst.get(name, 0.0), rel * tol.COUPLING_MP_RTOL / bound)
    ok = max(worst.values()) <= tol.COUPLING_MP_RTOL
    return Outcome(
        ok,
        "Against the 40-digit reference the float64 coupling error is off by at most "
        + ", ".join(f"{v:.1e} ({k})" for k, v in sorted(worst.items()))
        + f" relative (dpmpp-2m's error scaled to the common tolerance {tol.COUPLING_MP_RTOL:g}).",
        {"max_rel": worst},
    )


@claim(
    "coupling.criteria-compared",
    statement=(
        "Every sampler's gains are positive, so its KL and coupling error vanish together "
        "($q_i = 1$); the two criteria weigh directions differently: under Heun and "
        "DPM-Solver++(2M) each sampler-aware optimum is best in its own criterion, and without "
        "the step-ratio bound the DPM-Solver++(2M) coupling optimum merges two levels."
    ),
    source=f"{SRC}, §3-§4; docs/theory/coupling.md#how-the-coupling-error-and-the-kl-differ",
    method=(
        "signs of the per-step gains on 300 random grids x 200 eigenvalues in [1e-8, 1e8]; "
        "sampler_optimal with objective kl and coupling, each re-evaluated by the float64 paths; "
        "sampler_optimal(step_ratio_bound=inf)"
    ),
    tolerance=(
        f"each optimum lower in its own criterion by > {tol.SAMPLER_OPT_MARGIN:g} relative; the "
        f"KL optimum's coupling error >= {tol.COUPLING_SOUNDNESS_FACTOR:g}x the coupling "
        "optimum's for Heun; unbounded 2M: smallest log step < 5% of the mean"
    ),
    docs="docs/theory/coupling.md#how-the-coupling-error-and-the-kl-differ",
    math=(
        r"q_i>0:\quad\operatorname{KL}_i=\tfrac12\big(q_i^{-2}-1+2\ln q_i\big)=0\iff "
        r"c_i=(q_i-1)^2=0\iff q_i=1;\qquad C\big(\rho^\star_{\operatorname{KL}}\big)\ge"
        rf"{tol.COUPLING_SOUNDNESS_FACTOR:g}\,C\big(\rho^\star_C\big)\ \text{{(Heun)}}"
    ),
)
def check_criteria_compared(budget: Budget) -> Outcome:
    rng = np.random.default_rng([budget.seed, 73])
    lam_wide = np.geomspace(1e-8, 1e8, 200)
    negative = 0
    for _ in range(budget.pick(60, 300)):
        grid = _grid(rng, int(rng.integers(1, 6)), pure=False, zero=bool(rng.random() < 0.3))
        for name in ("ddim", "heun", "euler-vp", "dpmpp-2m"):
            q, _ = coupling.gain_ratios(lam_wide, grid, sampler=name)
            negative += int((q <= 0).sum())
    lam = _edm_digits()
    table: dict[str, dict[str, dict[str, float]]] = {}
    own_best = True
    ratios: dict[str, float] = {}
    for name in ("heun", "dpmpp-2m"):
        row = {}
        for obj in ("kl", "coupling"):
            opt = sampler_optimum.sampler_optimal(lam, 10, *EDM_RANGE, sampler=name, objective=obj)
            row[obj] = opt.criteria.as_dict()
        table[name] = row
        margin = 1 - tol.SAMPLER_OPT_MARGIN
        own_best &= row["kl"]["kl_source_output"] < row["coupling"]["kl_source_output"] * margin
        own_best &= row["coupling"]["coupling"] < row["kl"]["coupling"] * margin
        ratios[name] = row["kl"]["coupling"] / row["coupling"]["coupling"]
    free = sampler_optimum.sampler_optimal(
        lam, 10, *EDM_RANGE, sampler="dpmpp-2m", objective="coupling", step_ratio_bound=math.inf
    )
    ok = (
        negative == 0
        and own_best
        and ratios["heun"] >= tol.COUPLING_SOUNDNESS_FACTOR
        and free.min_gap_ratio < 0.05
    )
    return Outcome(
        ok,
        f"There are {negative} non-positive per-step gains; the KL optimum has "
        f"{ratios['heun']:.2f}× (Heun) and {ratios['dpmpp-2m']:.2f}× (DPM-Solver++(2M)) the "
        f"coupling error of the coupling optimum; without the step-ratio bound the "
        f"DPM-Solver++(2M) optimum's smallest log step is {free.min_gap_ratio:.3f} of the mean, "
        f"with a coupling error of {free.criteria.coupling:.3g} against "
        f"{table['dpmpp-2m']['coupling']['coupling']:.3g} bounded.",
        {
            "non_positive_gains": negative,
            "optima": table,
            "coupling_ratio": ratios,
            "unbounded_2m": {
                "min_gap_ratio": free.min_gap_ratio,
                "coupling": free.criteria.coupling,
                "sigmas": free.sigmas.tolist(),
            },
        },
        figures={"optima_criteria": _criteria_figure(table, lam.size)},
        captions={
            "optima_criteria": (
                "Exact KL(source ‖ output) (left) and coupling error (right) of the 10-step "
                "sampler-aware optima of each criterion, under Heun and DPM-Solver++(2M), on the "
                f"digits spectrum at EDM's scale (d = {lam.size}, σ ∈ [0.002, 80]). Each optimum "
                f"is lowest in its own criterion; the KL optimum has {ratios['heun']:.2f}× "
                f"(Heun) and {ratios['dpmpp-2m']:.2f}× (DPM-Solver++(2M)) the coupling optimum's "
                "coupling error."
            )
        },
    )


def _criteria_figure(table: dict[str, dict[str, dict[str, float]]], dim: int) -> Any:
    """Both criteria of both optima, per sampler (bars, log scale)."""
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import label, styles

    fig = new_figure((9.0, 4.0))
    panels = fig.subplots(1, 2)
    look = styles(("KL optimum", "coupling optimum"))
    samplers = list(table)
    for ax, key, what in (
        (panels[0], "kl_source_output", "exact KL(source ‖ output)"),
        (panels[1], "coupling", "coupling error"),
    ):
        for k, (obj, name) in enumerate((("kl", "KL optimum"), ("coupling", "coupling optimum"))):
            ax.bar(
                np.arange(len(samplers)) + (k - 0.5) * 0.38,
                [table[s][obj][key] for s in samplers],
                width=0.36,
                color=look[name].color,
                label=name,
            )
        ax.set_yscale("log")
        ax.set_xticks(range(len(samplers)), [label(s) for s in samplers])
        ax.set_xlabel("sampler")
        ax.set_ylabel(what)
        ax.set_title(f"{what} of the two optima", fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"Digits spectrum at EDM's scale (d = {dim}), σ ∈ [0.002, 80], N = 10: "
        "sampler-aware optima of each criterion",
        fontsize=10,
    )
    return tidy(fig)


@claim(
    "coupling.sampler-optimum-certified",
    statement=(
        "The sampler-aware optimum (kl-optimal --sampler S) is a first-order stationary point of "
        "S's criterion (projected gradient near 0) that no random feasible perturbation "
        "improves, and its autograd gradient equals finite differences of the independent "
        "float64 criterion."
    ),
    source=f"{SRC}, §3-§5; docs/theory/coupling.md#the-sampler-aware-optimum",
    method=(
        "central differences (step 1e-5 in ln sigma) of symsched.gaussian.coupling.criteria at a "
        "perturbed grid; log-normal perturbations of the optimum's interior levels kept monotone "
        "and within the step-ratio bound"
    ),
    tolerance=(
        f"gradient rel. {tol.SAMPLER_OPT_FD_RTOL:g}; projected gradient of ln(criterion) <= 1e-3; "
        f"perturbation margin {tol.SAMPLER_OPT_MARGIN:g}"
    ),
    docs="docs/theory/coupling.md#the-sampler-aware-optimum",
    math=(
        r"\|P\,\nabla_{\ln\rho}\ln\mathcal C_S(\rho^\star)\|\le10^{-3},\quad"
        r"\mathcal C_S(\rho^\star e^{\delta})\ge\mathcal C_S(\rho^\star)(1-\epsilon),\quad"
        r"\nabla^{\text{autograd}}\mathcal C_S=\frac{\mathcal C_S(\rho\,e^{h})"
        r"-\mathcal C_S(\rho\,e^{-h})}{2h}"
    ),
)
def check_sampler_optimum(budget: Budget) -> Outcome:
    rng = np.random.default_rng([budget.seed, 74])
    cases: list[tuple[str, Objective | None]] = [
        ("heun", None),
        ("euler-vp", None),
        ("dpmpp-2m", None),
        ("ancestral", "kl"),
    ]
    worst_fd, worst_stat, improved, checked = 0.0, 0.0, 0, 0
    for i in range(budget.pick(1, 4)):
        for name, obj in cases:
            lam = np.exp(rng.uniform(math.log(1e-3), math.log(10.0), int(rng.integers(2, 9))))
            n = int(rng.integers(3, 9))
            lo, hi = EDM_RANGE if (i + len(name)) % 2 == 0 else (0.0, 80.0)
            opt = sampler_optimum.sampler_optimal(lam, n, lo, hi, sampler=name, objective=obj)
            crit = "coupling" if opt.objective == "coupling" else opt.kl_direction
            worst_stat = max(worst_stat, opt.gradient_norm)
            g0 = opt.sigmas.copy()
            g0[1:-1] *= np.exp(rng.normal(0, 0.05, n - 1))
            g0[1:-1] = np.sort(g0[1:-1])[::-1]
            _, grad = sampler_optimum.objective_and_gradient(
                lam, g0, sampler=name, objective=opt.objective
            )
            fd = np.empty(n - 1)
            for j in range(n - 1):
                up, dn = g0.copy(), g0.copy()
                up[j + 1] *= math.exp(1e-5)
                dn[j + 1] *= math.exp(-1e-5)
                fd[j] = (
                    coupling.criteria(lam, up, sampler=name).value(crit)
                    - coupling.criteria(lam, dn, sampler=name).value(crit)
                ) / 2e-5
            worst_fd = max(worst_fd, float(np.max(np.abs(grad - fd)) / np.max(np.abs(fd))))
            bound = sampler_optimum.STEP_RATIO_BOUND if name == "dpmpp-2m" else math.inf
            for _ in range(budget.pick(10, 40)):
                g1 = opt.sigmas.copy()
                g1[1:-1] *= np.exp(rng.normal(0, rng.choice([1e-4, 1e-3, 1e-2]), n - 1))
                pos = g1[np.isfinite(g1) & (g1 > 0)]
                steps = -np.diff(np.log(pos))
                if not np.all(np.diff(g1) < 0) or (
                    steps.size > 1 and np.max(np.abs(np.diff(np.log(steps)))) > math.log(bound)
                ):
                    continue
                checked += 1
                v1 = coupling.criteria(lam, g1, sampler=name).value(crit)
                improved += v1 < opt.objective_value * (1 - tol.SAMPLER_OPT_MARGIN)
    ok = worst_fd <= tol.SAMPLER_OPT_FD_RTOL and worst_stat <= 1e-3 and improved == 0
    return Outcome(
        ok,
        f"The autograd gradient matches central finite differences to {worst_fd:.1e} relative, "
        f"the largest projected gradient at an optimum is {worst_stat:.1e}, and {improved} of "
        f"{checked} random feasible perturbations improve on it.",
        {
            "fd_rel": worst_fd,
            "projected_gradient": worst_stat,
            "improved": improved,
            "perturbations": checked,
            "samplers": sorted(SAMPLERS),
        },
    )
