r"""Claims of the sampling comparison on the trained models [williams2024, §5, Table 1]
(docs/theory/stein.md#checks).

Schedules are judged by what they are for: samples of the trained network (EDM's Heun sampler,
Karras et al. 2022, Algorithm 1) scored against the *held-out* split in data space, Fréchet distance
and sliced 2-Wasserstein (:mod:`symsched.metrics`). Error bars come from independent seeded
batches; schedules are compared batch by batch (every schedule starts batch ``r`` from the same
noise), so differences are paired. The metrics are checked first against oracles that share no code
with them: ``scipy.linalg.sqrtm`` of :math:`S_1S_2`, closed forms for affine maps of a sample, and
the equal-size order-statistics formula for the 1-D Wasserstein distance.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.linalg
from scipy import stats

from symsched.metrics import _w2_squared_1d, frechet_distance, sliced_wasserstein
from symsched.schedules import Schedule
from symsched.stein.quality import SCHEDULES, Comparison, compare_schedules, plot_comparison
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim

SRC = "Williams, Campbell, Doucet, Syed, arXiv 2412.07877, §5 (Table 1: FID by schedule and NFE)"


@claim(
    "stein.sample-metrics-oracle",
    statement=(
        r"The data-space Fréchet distance equals $\|\mu_1-\mu_2\|^2 + \operatorname{tr}(S_1 + "
        r"S_2 - 2(S_1S_2)^{1/2})$ computed with scipy.linalg.sqrtm, and the closed form "
        r"$\|\mu_1-\mu_2\|^2 + (1-a)^2\operatorname{tr}S$ for $y = ax + b$; the 1-D $W_2$ of "
        r"unequal samples equals the equal-size order-statistics formula on replicated samples; "
        r"$\mathrm{SW}_2$ of a 1-D translation by $c$ is $|c|$, and of a d-dimensional one is "
        r"about $|c|/\sqrt{d}$."
    ),
    source="Dowson & Landau (1982); Heusel et al. arXiv 1706.08500, Eq. (6); Bonneel et al. (2015)",
    method=(
        "random non-commuting covariances (d = 5, 30, 64), scipy.linalg.sqrtm (Schur) vs our "
        "symmetric eigendecompositions; exact affine cases; replication to equal sizes; 4096 "
        "random directions for the d-dimensional translation"
    ),
    tolerance=(
        f"FD and 1-D W2: rtol {tol.SAMPLE_METRIC_RTOL:g}; SW2 translation: |SW^2 d/|c|^2 - 1| <= "
        f"{tol.Z_SCORE:g} x its Monte Carlo s.e. sqrt(2(d-1)/((d+2) L))"
    ),
    docs="docs/theory/stein.md#checks",
    math=(
        r"\mathrm{FD}=\|\mu_1-\mu_2\|^2+\operatorname{tr}\big(S_1+S_2-2(S_1S_2)^{1/2}\big),\quad"
        r"\mathrm{FD}(x,ax+b)=\|\mu_1-\mu_2\|^2+(1-a)^2\operatorname{tr}S,\qquad"
        r"\mathrm{SW}_2(x,x+c)=|c|\ (d=1),\quad\mathrm{SW}_2(x,x+c)^2\approx\frac{|c|^2}{d}"
    ),
)
def check_metrics(budget: Budget) -> Outcome:
    rng = np.random.default_rng(budget.seed)
    errs: dict[str, float] = {}
    for d, n in ((5, 50), (30, 200), (64, 359)):
        a_, b_ = rng.standard_normal((d, d)), rng.standard_normal((d, d))
        x = rng.standard_normal((n, d)) @ a_ + 1.0
        y = rng.standard_normal((n + 7, d)) @ b_
        s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
        ref = float(
            np.sum((x.mean(0) - y.mean(0)) ** 2)
            + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
        )
        errs[f"fd-sqrtm-d{d}"] = abs(frechet_distance(x, y) / ref - 1)
        a, shift = 0.3, rng.standard_normal(d)
        y2 = a * x + shift
        ref2 = float(np.sum((x.mean(0) - y2.mean(0)) ** 2) + (1 - a) ** 2 * np.trace(s1))
        errs[f"fd-affine-d{d}"] = abs(frechet_distance(x, y2) / ref2 - 1)
    u, v = rng.standard_normal(37), rng.standard_normal(23) * 2 + 0.5
    rep = float(np.mean((np.sort(np.repeat(u, 23)) - np.sort(np.repeat(v, 37))) ** 2))
    errs["w2-unequal-sizes"] = abs(_w2_squared_1d(u, v) / rep - 1)
    c = 0.7
    errs["sw-1d-translation"] = abs(
        sliced_wasserstein(u[:, None], u[:, None] + c, projections=3) / c - 1
    )
    errs["sw-1d-scaling"] = abs(
        sliced_wasserstein(u[:, None], 0.4 * u[:, None], projections=2)
        / (0.6 * math.sqrt(float(np.mean(u**2))))
        - 1
    )
    d, proj = 16, 4096
    x = rng.standard_normal((200, d))
    shift = rng.standard_normal(d)
    ratio = (
        sliced_wasserstein(x, x + shift, projections=proj, seed=budget.seed) ** 2
        * d
        / float(shift @ shift)
    )
    se = math.sqrt(
        2 * (d - 1) / ((d + 2) * proj)
    )  # Var((theta.c)^2)/E^2 for theta uniform on S^{d-1}
    z_sw = abs(ratio - 1) / se
    worst = max(errs.values())
    ok = worst <= tol.SAMPLE_METRIC_RTOL and z_sw <= tol.Z_SCORE
    return Outcome(
        ok,
        f"The largest relative error against the oracles is {worst:.1e}; a translation in "
        f"d = {d} dimensions gives $\\mathrm{{SW}}_2^2$ = {ratio:.4f} × $|c|^2/d$ "
        f"({z_sw:.2f} standard errors from 1).",
        {"relative_errors": errs, "sw_translation_ratio": ratio, "sw_translation_z": z_sw},
    )


def _threshold(batches: int) -> float:
    """One-sided Student-t critical value at level STEIN_SAMPLING_ALPHA with batches - 1 dof."""
    return float(stats.t.ppf(1.0 - tol.STEIN_SAMPLING_ALPHA, batches - 1))


def _ratio(m: float, se: float) -> float:
    return m / se if se > 0 else math.copysign(math.inf, m) if m != 0 else 0.0


def evaluate(comps: list[Comparison]) -> tuple[list[str], list[dict[str, object]]]:
    """The claim's tests on measured comparisons: a list of failures (empty = pass) and every test
    row."""
    failures, rows = [], []
    for c in comps:
        t = _threshold(next(iter(c.fd[next(iter(c.fd))].values())).size)
        n0, n1 = c.steps[0], c.steps[-1]
        for s in c.fd:
            m, se = c.paired("fd", s, n0, s, n1)  # FD(N_min) - FD(N_max): must be significantly > 0
            rows.append(
                {
                    "model": c.model,
                    "test": f"FD({s}, N={n0}) > FD({s}, N={n1})",
                    "diff": m,
                    "se": se,
                    "t": _ratio(m, se),
                }
            )
            if not m > t * se:
                failures.append(
                    f"{c.model}/{s}: FD does not improve from N={n0} to N={n1} ({m:.3g} +- "
                    f"{se:.3g})"
                )
            for a, b in itertools.pairwise(
                c.steps
            ):  # no significant increase between neighbouring N
                m, se = c.paired("fd", s, b, s, a)
                rows.append(
                    {
                        "model": c.model,
                        "test": f"FD({s}, N={b}) <= FD({s}, N={a})",
                        "diff": m,
                        "se": se,
                        "t": _ratio(m, se),
                    }
                )
                if m > t * se:
                    failures.append(
                        f"{c.model}/{s}: FD increases from N={a} to N={b} ({m:.3g} +- {se:.3g})"
                    )
        for other in (
            "loglinear",
            "karras",
        ):  # the score-optimal grid against the two standard grids
            if "stein" not in c.fd or other not in c.fd:
                continue
            for n in c.steps:
                m, se = c.paired("fd", "stein", n, other, n)
                rows.append(
                    {
                        "model": c.model,
                        "test": f"FD(stein) <= FD({other}), N={n}",
                        "diff": m,
                        "se": se,
                        "t": _ratio(m, se),
                    }
                )
                if m > t * se:
                    failures.append(
                        f"{c.model}: Stein worse than {other} at N={n} ({m:.3g} +- {se:.3g})"
                    )
            m, se = c.paired("fd", "stein", n0, other, n0)
            if not -m > t * se:
                failures.append(
                    f"{c.model}: Stein not better than {other} at N={n0} ({m:.3g} +- {se:.3g})"
                )
    return failures, rows


def _caption(comps: list[Comparison], batches: int) -> str:
    """The figure's caption, with the FD of each schedule at the smallest N."""
    c0 = comps[0]
    n0 = c0.steps[0]
    fds = ", ".join(f"{s} {c0.mean_se(c0.fd[s][n0])[0]:.3g}" for s in c0.fd)
    models = " and ".join(f"{c.model}" for c in comps)
    return (
        "Fréchet distance (top) and sliced $W_2$ (bottom) to the held-out split of samples of "
        f"the trained {models} network{'s' if len(comps) > 1 else ''} ({c0.sampler} sampler) "
        f"against the number of steps N, per schedule, over {batches} batches of "
        f"{c0.batch} samples (error bars 1 s.e.; dashed: train vs held-out floor). At "
        f"N = {n0} on {c0.model} the mean FD is {fds}."
    )


@claim(
    "stein.sampling-comparison",
    statement=(
        "Sampling the trained networks with EDM's Heun sampler, against held-out data: the "
        "data-space Fréchet distance improves from the smallest to the largest N for every "
        "schedule and never increases significantly with N; the Stein (score-optimal) schedule "
        r"of the network is never significantly worse than log-linear or EDM $\rho = 7$ and is "
        r"significantly better than both at the smallest N. Also reported: $\mathrm{SW}_2$, EDM "
        r"$\rho = 7$, tangent at $\gamma^\star$, the memorising optimum, the train-vs-held-out "
        r"floor, and the EDM $\rho$ closest to each Stein grid."
    ),
    source=(
        f"{SRC}; Karras et al. arXiv 2206.00364, Algorithm 1 and Eq. (5); "
        "docs/theory/stein.md#checks"
    ),
    method=(
        "symsched.stein.quality.compare_schedules: Heun on the shipped digits/patches networks "
        "(trained on the train split only), seeded batches the size of the held-out split, "
        "paired across schedules; FD/SW2 to the held-out split; floor = train subsets of equal "
        "size vs held-out"
    ),
    tolerance=(
        f"paired one-sided Student-t tests at level {tol.STEIN_SAMPLING_ALPHA:g} each (t "
        "quantile with batches - 1 dof); quick: digits, stein/karras/loglinear, N = 5, 10, 4 "
        "batches; full: both models, all five schedules, N = 5, 8, 10, 15, 20, 8 batches"
    ),
    docs="docs/theory/stein.md#checks",
    math=(
        r"\mathrm{FD}(N_{\min})-\mathrm{FD}(N_{\max})>t\,\mathrm{se},\quad"
        r"\mathrm{FD}(N_{k+1})-\mathrm{FD}(N_k)\le t\,\mathrm{se},\quad"
        r"\mathrm{FD}^{\text{stein}}(N)-\mathrm{FD}^{\text{other}}(N)\le t\,\mathrm{se},\quad"
        r"\mathrm{FD}^{\text{other}}(N_{\min})-\mathrm{FD}^{\text{stein}}(N_{\min})>t\,\mathrm{se}"
        r",\qquad t=t_{1-\alpha,\,B-1}"
    ),
)
def check_sampling(budget: Budget) -> Outcome:
    import torch

    models = budget.pick(("digits",), ("digits", "patches"))
    steps = budget.pick((5, 10), (5, 8, 10, 15, 20))
    schedules = budget.pick(("stein", "karras", "loglinear"), SCHEDULES)
    batches = budget.pick(4, 8)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reproducible timings on a shared machine; the nets are small
    try:
        comps = [
            compare_schedules(
                m, steps, batches=batches, schedules=schedules, seed=budget.seed % 1000
            )
            for m in models
        ]
    finally:
        torch.set_num_threads(threads)
    failures, rows = evaluate(comps)
    rho = {c.model: {str(n): r for n, r in c.fitted_rho().get("stein", {}).items()} for c in comps}
    measured = " ".join(
        f"On {c.model}, the Fréchet distance at N = {c.steps[0]} is "
        f"{c.mean_se(c.fd['stein'][c.steps[0]])[0]:.3g} for the Stein grid, "
        f"{c.mean_se(c.fd['karras'][c.steps[0]])[0]:.3g} for EDM $\\rho = 7$ and "
        f"{c.mean_se(c.fd['loglinear'][c.steps[0]])[0]:.3g} for log-linear; at N = "
        f"{c.steps[-1]} the Stein grid reaches {c.mean_se(c.fd['stein'][c.steps[-1]])[0]:.3g} "
        f"(train-vs-held-out floor {c.mean_se(c.floor_fd)[0]:.3g}), and the EDM $\\rho$ closest "
        "to its grids is " + ", ".join(f"{r:.1f} at N = {n}" for n, r in rho[c.model].items()) + "."
        for c in comps
    )
    details = {
        "tables": {c.model: c.table() for c in comps},
        "tests": rows,
        "failures": failures,
        "stein_fitted_rho": rho,
        "gamma_star": {c.model: c.gamma_star for c in comps},
        "batch": {c.model: c.batch for c in comps},
        "batches": batches,
        "t_threshold": _threshold(batches),
    }
    schedules_out = [
        {
            "name": f"stein-{c.model}-N{n}",
            "schedule": Schedule(
                "stein", c.grids["stein"][n], {"model": c.model, "fitted_rho": rho[c.model][str(n)]}
            ).to_json(),
        }
        for c in comps
        for n in c.steps
    ]
    return Outcome(
        not failures,
        measured + ("" if not failures else f" First failed test: {failures[0]}."),
        details,
        figures={"fd_sw_vs_steps": plot_comparison(comps)},
        captions={"fd_sw_vs_steps": _caption(comps, batches)},
        schedules=schedules_out,
    )
