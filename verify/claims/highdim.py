"""Gaussian-mixture claims of the high-dimensional study [aranguri2025;
docs/theory/highdim.md#gaussian-mixture].

Large dimensions use the exact scalar reduction of the GM Euler scheme
(docs/theory/highdim.md#scalar-reduction), which a claim first checks against the full d-dimensional
simulation. Curie–Weiss claims: ``highdim_cw``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from scipy.stats import norm

from symsched._typing import FloatArray
from symsched.highdim import measure as ms
from symsched.highdim import simulate as sim
from symsched.highdim.gm import GaussianMixture, derive_gm
from symsched.highdim.plots import (
    plot_collapse,
    plot_phat_vs_d,
    plot_steps_needed,
    plot_trajectories,
)
from symsched.highdim.schedules import vp_dilated
from symsched.highdim.search import steps_needed
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim

SRC = "Aranguri, Biroli, Mézard, Vanden-Eijnden, arXiv 2501.00988"
GM_DIMS = (10**2, 10**4, 10**6, 10**8)
SCALING_DIMS = (10**2, 10**3, 10**4, 10**5, 10**6)


def _log_density_grad(
    x: FloatArray, tau: float, model: tuple[float, float, float, float]
) -> FloatArray:
    """Gradient in x of the log of the explicit two-Gaussian marginal density, by torch autograd."""
    import torch

    p, m, sg, c_value = model
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    dv = (c_value * (1 - tau)) ** 2 + (sg * tau) ** 2
    lp = math.log(p) - ((xt - tau * m) ** 2).sum() / (2 * dv)
    lm = math.log(1 - p) - ((xt + tau * m) ** 2).sum() / (2 * dv)
    (g,) = torch.autograd.grad(torch.logaddexp(lp, lm), xt)
    return g.numpy()


def _continuity_terms(
    x: FloatArray,
    tau: float,
    model: tuple[float, float, float, float],
    coef: tuple[float, float, float],
    h: float,
) -> tuple[float, float]:
    """``d_tau rho`` and ``div(rho b)`` at ``(tau, x)`` by torch autograd of the explicit mixture
    density."""
    import torch

    p, m, sg, c_value = model
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(tau, dtype=torch.float64, requires_grad=True)

    def density(xx: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        dv = (c_value * (1 - t)) ** 2 + (sg * t) ** 2
        lp = math.log(p) - ((xx - t * m) ** 2).sum() / (2 * dv)
        lm = math.log(1 - p) - ((xx + t * m) ** 2).sum() / (2 * dv)
        return torch.exp(torch.logaddexp(lp, lm) - xx.numel() / 2 * torch.log(2 * math.pi * dv))

    (dt,) = torch.autograd.grad(density(xt, tt), tt)
    a, b, k = coef
    flux = density(xt, tt.detach()) * (a * xt + b * m * torch.tanh(h + k * xt.sum()))
    div = sum(torch.autograd.grad(flux[i], xt, retain_graph=True)[0][i] for i in range(x.size))
    return float(dt), float(div)


def _seed(budget: Budget, salt: int) -> int:
    return int(np.random.SeedSequence([budget.seed, 5, salt]).generate_state(1)[0])


def _gm_run(
    d: int, schedule: str, steps: int, samples: int, seed: int, kappa: float = 3.0, record: int = 0
) -> tuple[GaussianMixture, ms.GMStatistics, sim.GMRun]:
    gm = GaussianMixture(dim=d)
    grid, c_value = ms.make_grid(schedule, steps, gm, kappa)
    run = sim.gm_reduced(gm, grid, c_value, samples, seed, record=record)
    return gm, ms.gm_statistics(gm, run), run


@claim(
    "highdim.gm-flow-derivation",
    statement=(
        "The GM denoiser, score and velocity derived in SymPy by Bayes' rule equal direct "
        "numerical Bayes, and the velocity transports the interpolant's marginals (continuity "
        "equation), for VP and VE."
    ),
    source=f"{SRC}, §2.1-§2.2 (b = E[dI/dtau | I = x]); docs/theory/highdim.md#exact-gm-fields",
    method=(
        "(i) numpy responsibilities + Gaussian conditioning at random x in d = 3; score against "
        "torch autograd of the explicit log mixture density; (ii) d_tau rho + div(rho b) = 0 in "
        "d = 2 at random (tau, x), derivatives of the explicit density by torch autograd"
    ),
    tolerance=(
        f"(i) relative {tol.HD_DENOISER_RTOL:g}; (ii) residual <= {tol.HD_FLOW_RTOL:g} x the "
        "largest term"
    ),
    docs="docs/theory/highdim.md#exact-gm-fields",
)
def check_flow(budget: Budget) -> Outcome:
    rng = np.random.default_rng(_seed(budget, 1))
    worst_den, worst_score, worst_flow = 0.0, 0.0, 0.0
    for _ in range(budget.pick(20, 200)):
        p, m, sg = rng.uniform(0.1, 0.9), rng.uniform(0.3, 2), rng.uniform(0.2, 1.5)
        d = 3
        c_value = float(rng.choice([1.0, math.sqrt(d)]))
        tau = rng.uniform(0.05, 0.95)
        x = rng.normal(size=d) * 2
        gm = GaussianMixture(p=p, m=m, mode_sigma=sg, dim=d)
        dvar = (c_value * (1 - tau)) ** 2 + (sg * tau) ** 2
        logl = np.array([math.log(p), math.log(1 - p)]) - np.array(
            [((x - tau * m) ** 2).sum(), ((x + tau * m) ** 2).sum()]
        ) / (2 * dvar)
        resp = np.exp(logl - logl.max())
        resp /= resp.sum()
        cond = [sgn * m + tau * sg**2 / dvar * (x - tau * sgn * m) for sgn in (1, -1)]
        eta_ref = resp[0] * cond[0] + resp[1] * cond[1]
        a, b, k = gm.coefficients(np.array([tau]), np.array([1 - tau]), c_value, "denoiser")
        eta = a[0] * x + b[0] * m * np.tanh(gm.h + k[0] * x.sum())
        worst_den = max(worst_den, float(np.abs(eta - eta_ref).max() / np.abs(eta_ref).max()))

        fd = _log_density_grad(x, tau, (p, m, sg, c_value))
        a, b, k = gm.coefficients(np.array([tau]), np.array([1 - tau]), c_value, "score")
        score = a[0] * x + b[0] * m * np.tanh(gm.h + k[0] * x.sum())
        worst_score = max(worst_score, float(np.abs(score - fd).max() / max(1.0, np.abs(fd).max())))
        # continuity equation in d = 2
        x2 = x[:2]
        gm2 = GaussianMixture(p=p, m=m, mode_sigma=sg, dim=2)
        a, b, k = gm2.coefficients(np.array([tau]), np.array([1 - tau]), c_value, "velocity")

        dt, div = _continuity_terms(
            x2, tau, (p, m, sg, c_value), (float(a[0]), float(b[0]), float(k[0])), gm2.h
        )
        scale = max(abs(dt), abs(div), 1e-300)
        worst_flow = max(worst_flow, abs(dt + div) / scale)
    der = derive_gm()
    ok = (
        worst_den <= tol.HD_DENOISER_RTOL
        and worst_score <= tol.HD_DENOISER_RTOL
        and worst_flow <= tol.HD_FLOW_RTOL
    )
    return Outcome(
        ok,
        f"denoiser rel. gap {worst_den:.1e}; score vs autograd {worst_score:.1e}; continuity "
        f"residual {worst_flow:.1e}",
        {
            "denoiser_rel_gap": worst_den,
            "score_autograd_gap": worst_score,
            "continuity_residual": worst_flow,
            "velocity_x": str(der.velocity_x),
            "velocity_1": str(der.velocity_1),
            "tanh_slope": str(der.tanh_slope),
        },
    )


@claim(
    "highdim.gm-reduction-exact",
    statement=(
        "The scalar reduction of the GM Euler scheme (one scalar S = 1.x per sample plus a "
        "common growth factor for x_perp) reproduces the full d-dimensional torch simulation to "
        "round-off, for every schedule."
    ),
    source=f"{SRC}; docs/theory/highdim.md#scalar-reduction ('exact for Euler')",
    method=(
        "same initial draws X_0 fed to symsched.highdim.simulate.gm_full (torch, d-dimensional) "
        "and gm_reduced (numpy, S_0 = 1.X_0, |X_0,perp|^2); compare final M and within-sample std"
    ),
    tolerance=f"max |difference| <= {tol.HD_REDUCTION_ATOL:g}",
    docs="docs/theory/highdim.md#scalar-reduction",
)
def check_reduction(budget: Budget) -> Outcome:
    rng = np.random.default_rng(_seed(budget, 2))
    worst = 0.0
    rows = []
    for d in budget.pick((20, 200), (20, 200, 1000)):
        gm = GaussianMixture(dim=d)
        for schedule in ("vp-constant", "ve-constant", "vp-dilated", "ve-dilated", "stein"):
            grid, c_value = ms.make_grid(schedule, 16, gm, kappa=min(3.0, 0.5 * math.sqrt(d)))
            x0 = rng.normal(size=(budget.pick(100, 400), d)) * c_value
            full = sim.gm_full(gm, grid, c_value, x0=x0)
            xp = x0 - x0.mean(1, keepdims=True)
            red = sim.gm_reduced(gm, grid, c_value, init=(x0.sum(1), (xp**2).sum(1)))
            gap = max(
                float(np.abs(full.magnetization - red.magnetization).max()),
                float(np.abs(full.within_std - red.within_std).max()),
            )
            worst = max(worst, gap)
            rows.append({"dim": d, "schedule": schedule, "max_gap": gap})
    return Outcome(
        worst <= tol.HD_REDUCTION_ATOL,
        f"largest gap {worst:.1e} over {len(rows)} (d, schedule) cases",
        {"cases": rows},
    )


@claim(
    "highdim.gm-euler-mode-fraction",
    statement=(
        "The Monte Carlo mode fraction of the reduced simulation agrees with the "
        "Monte-Carlo-free Euler value P(S_0 > s*) (the Euler map S_0 -> S_N is increasing) used "
        "by steps-needed."
    ),
    source=(
        f"{SRC}; docs/theory/highdim.md#scalar-reduction; monotonicity: 1 + dtau A >= tau "
        "sigma^2 / D > 0"
    ),
    method=(
        "1e5-sample reduced runs (fixed seeds) vs "
        "symsched.highdim.simulate.gm_mode_fraction_euler, 5 schedules x several d"
    ),
    tolerance=f"|MC - exact| <= Z SE (Z = {tol.Z_SCORE:g})",
    docs="docs/theory/highdim.md#scalar-reduction",
)
def check_euler_fraction(budget: Budget) -> Outcome:
    n = budget.pick(100_000, 400_000)
    rows, ok = [], True
    for i, d in enumerate(budget.pick((10**2, 10**4, 10**8), (10**2, 10**3, 10**4, 10**6, 10**8))):
        gm = GaussianMixture(dim=d)
        for j, schedule in enumerate(
            ("vp-constant", "ve-constant", "vp-dilated", "ve-dilated", "stein")
        ):
            grid, c_value = ms.make_grid(schedule, 24, gm)
            exact = sim.gm_mode_fraction_euler(gm, grid, c_value)
            run = sim.gm_reduced(gm, grid, c_value, n, _seed(budget, 100 + 10 * i + j))
            frac, _ = ms.fraction_stderr(run.magnetization > 0)
            se = max(math.sqrt(exact * (1 - exact) / n), 1.0 / n)
            z = abs(frac - exact) / se
            ok &= z <= tol.Z_SCORE
            rows.append({"dim": d, "schedule": schedule, "mc": frac, "exact": exact, "z": z})
    worst = max(r["z"] for r in rows)
    return Outcome(ok, f"largest |z| = {worst:.2f} over {len(rows)} cases", {"cases": rows})


@claim(
    "highdim.vp-constant-loses-p",
    statement=(
        "VP with constant denoising at fixed N: the mode fraction p_hat -> 1 as d grows (the "
        "asymmetry p = 0.8 is lost) while the per-mode spread stays right and d-independent."
    ),
    source=f"{SRC}, abstract; docs/theory/highdim.md#vp-constant-loses-the-weights",
    method=(
        "reduced GM Euler simulation (exact for Euler), N = 32, d = 1e2, 1e4, 1e6, 1e8, 1e5 "
        "samples, fixed seeds"
    ),
    tolerance=(
        "p_hat(1e8) - p > Z SE and 1 - p_hat(1e8) <= Z SE(p); p_hat non-decreasing in d within "
        f"Z SE; |std/sigma - 1| <= {tol.HD_FEATURE_TOL} and its spread over d <= "
        f"{tol.HD_CONSTANT_SPREAD_ATOL}"
    ),
    docs="docs/theory/highdim.md#vp-constant-loses-the-weights",
)
def check_vp_constant(budget: Budget) -> Outcome:
    n = budget.pick(100_000, 400_000)
    stats = {
        d: _gm_run(d, "vp-constant", 32, n, _seed(budget, 10 + i), record=64)
        for i, d in enumerate(GM_DIMS)
    }
    p = 0.8
    se0 = math.sqrt(p * (1 - p) / n)
    ph = [stats[d][1]["mode_fraction"] for d in GM_DIMS]
    ratios = [stats[d][1]["within_std"] / 0.5 for d in GM_DIMS]
    monotone = all(b >= a - tol.Z_SCORE * math.sqrt(2) * se0 for a, b in itertools.pairwise(ph))
    lost = ph[-1] - p > tol.Z_SCORE * se0 and 1 - ph[-1] <= tol.Z_SCORE * se0
    spread_ok = (
        max(abs(r - 1) for r in ratios) <= tol.HD_FEATURE_TOL
        and max(ratios) - min(ratios) <= tol.HD_CONSTANT_SPREAD_ATOL
    )
    figs = {
        "gm_vp_constant_phat_vs_d": plot_phat_vs_d(
            {"vp-constant": (GM_DIMS, ph)}, p, "GM, VP constant, N = 32"
        ),
        "gm_vp_constant_trajectories": plot_trajectories(
            stats[10**6][2].trajectories, "GM VP-constant, d = 1e6, N = 32"
        ),
    }
    return Outcome(
        lost and monotone and spread_ok,
        "p_hat = "
        + ", ".join(f"{v:.4f}" for v in ph)
        + f" for d = 1e2..1e8; std/sigma = {min(ratios):.4f}..{max(ratios):.4f}",
        {"dims": list(GM_DIMS), "mode_fraction": ph, "std_ratio": ratios, "stderr_at_p": se0},
        figures=figs,
    )


@claim(
    "highdim.ve-constant-collapses-spread",
    statement=(
        "VE with constant denoising at fixed N: the per-mode spread collapses like N/sqrt(d) as "
        "d grows while p_hat stays right."
    ),
    source=f"{SRC}, abstract; docs/theory/highdim.md#ve-constant-loses-the-spread",
    method="reduced GM Euler simulation, N = 32, d = 1e2 .. 1e8, 1e5 samples, fixed seeds",
    tolerance=(
        f"std/sigma(1e8) <= {tol.HD_COLLAPSE_FACTOR} std/sigma(1e2); std/sigma x sqrt(d)/N "
        f"constant within {tol.HD_COLLAPSE_RTOL:.0%} for d >= 1e4; |p_hat - p| <= "
        f"{tol.HD_FEATURE_TOL} + Z SE"
    ),
    docs="docs/theory/highdim.md#ve-constant-loses-the-spread",
)
def check_ve_constant(budget: Budget) -> Outcome:
    n = budget.pick(100_000, 400_000)
    stats = {
        d: _gm_run(d, "ve-constant", 32, n, _seed(budget, 20 + i))[1] for i, d in enumerate(GM_DIMS)
    }
    ratios = [stats[d]["within_std"] / 0.5 for d in GM_DIMS]
    scaled = [r * math.sqrt(d) / 32 for r, d in zip(ratios, GM_DIMS, strict=True)]
    big = scaled[1:]
    collapse = ratios[-1] <= tol.HD_COLLAPSE_FACTOR * ratios[0] and (
        max(big) - min(big)
    ) <= tol.HD_COLLAPSE_RTOL * max(big)
    p_ok = all(
        abs(stats[d]["mode_fraction"] - 0.8)
        <= tol.HD_FEATURE_TOL + tol.Z_SCORE * stats[d]["mode_fraction_stderr"]
        for d in GM_DIMS
    )
    return Outcome(
        collapse and p_ok,
        "std/sigma = "
        + ", ".join(f"{r:.4g}" for r in ratios)
        + "; x sqrt(d)/N = "
        + ", ".join(f"{s:.3f}" for s in scaled)
        + "; p_hat = "
        + ", ".join(f"{stats[d]['mode_fraction']:.4f}" for d in GM_DIMS),
        {
            "dims": list(GM_DIMS),
            "std_ratio": ratios,
            "std_ratio_times_sqrt_d_over_N": scaled,
            "mode_fraction": [stats[d]["mode_fraction"] for d in GM_DIMS],
        },
    )


@claim(
    "highdim.dilated-both-right",
    statement=(
        "VP-dilated and VE-dilated schedules (kappa = 3) get both the mode weight and the "
        "per-mode spread right at a fixed N, independently of d up to 1e8."
    ),
    source=f"{SRC}, abstract; docs/theory/highdim.md#dilated-schedules",
    method="reduced GM Euler simulation, N = 128, d = 1e2 .. 1e8, 1e5 samples, fixed seeds",
    tolerance=(
        f"|p_hat - p| <= {tol.HD_FEATURE_TOL} + Z SE and |std/sigma - 1| <= {tol.HD_FEATURE_TOL} "
        "+ Z SE at every d"
    ),
    docs="docs/theory/highdim.md#dilated-phase-1-law",
)
def check_dilated(budget: Budget) -> Outcome:
    n = budget.pick(100_000, 400_000)
    rows: list[dict[str, Any]] = []
    ok = True
    series = {}
    for j, schedule in enumerate(("vp-dilated", "ve-dilated")):
        phs = []
        for i, d in enumerate(GM_DIMS):
            _, st, run = _gm_run(d, schedule, 128, n, _seed(budget, 30 + 10 * j + i), record=64)
            if schedule == "vp-dilated" and d == 10**6:
                traj_fig = plot_trajectories(
                    run.trajectories, "GM VP-dilated (kappa = 3), d = 1e6, N = 128"
                )
            e_p = abs(st["mode_fraction"] - 0.8)
            e_s = abs(st["within_std"] / 0.5 - 1)
            good = (
                e_p <= tol.HD_FEATURE_TOL + tol.Z_SCORE * st["mode_fraction_stderr"]
                and e_s <= tol.HD_FEATURE_TOL + tol.Z_SCORE * st["within_std_stderr"] / 0.5
            )
            ok &= good
            phs.append(st["mode_fraction"])
            rows.append(
                {
                    "schedule": schedule,
                    "dim": d,
                    "mode_fraction": st["mode_fraction"],
                    "std_ratio": st["within_std"] / 0.5,
                    "ok": good,
                }
            )
        series[schedule] = (GM_DIMS, phs)
    worst_p = max(abs(r["mode_fraction"] - 0.8) for r in rows)
    worst_s = max(abs(r["std_ratio"] - 1) for r in rows)
    return Outcome(
        ok,
        f"max |p_hat - p| = {worst_p:.4f}, max |std/sigma - 1| = {worst_s:.4f} over d = 1e2..1e8",
        {"cases": rows},
        figures={
            "gm_dilated_phat_vs_d": plot_phat_vs_d(series, 0.8, "GM, dilated, N = 128"),
            "gm_vp_dilated_trajectories": traj_fig,
        },
    )


def _steps_table(
    schedules: tuple[str, ...], dims: tuple[int, ...], tolerance: float
) -> dict[str, dict[int, int | None]]:
    table: dict[str, dict[int, int | None]] = {}
    for schedule in schedules:
        table[schedule] = {}
        for d in dims:
            gm = GaussianMixture(dim=d)

            def errors(steps: int, gm: GaussianMixture = gm, s: str = schedule) -> dict[str, float]:
                return ms.gm_errors_euler(gm, s, steps)

            n, _ = steps_needed(errors, tolerance)
            table[schedule][d] = n
    return table


def _complete(row: dict[int, int | None]) -> dict[int, int] | None:
    """``row`` when every ``d`` met the tolerance on the search grid, else ``None``."""
    found = {d: n for d, n in row.items() if n is not None}
    return found if len(found) == len(row) else None


def _found(n: int | None, what: str) -> int:
    if n is None:
        raise ValueError(f"{what} did not meet the tolerance on the search grid")
    return n


@claim(
    "highdim.steps-needed-constant-sqrt-d",
    statement=(
        "With constant denoising (VP and VE) the smallest N meeting a fixed tolerance on both GM "
        "features grows like sqrt(d): fitted log-log slope 0.5 +- 0.1 over d = 1e2 .. 1e6."
    ),
    source=(
        f"{SRC}, abstract (Theta_d(sqrt d) steps for constant denoising); "
        "docs/theory/highdim.md#steps-needed"
    ),
    method=(
        "deterministic Euler errors (Monte-Carlo-free p_hat, exact growth factor), smallest N "
        f"on the 2^(1/4) grid with both errors <= {ms.DEFAULT_TOLERANCE}; least-squares slope of "
        "log N on log d"
    ),
    tolerance=f"|slope - {tol.HD_SLOPE_SQRT}| <= {tol.HD_SLOPE_SQRT_BAND}",
    docs="docs/theory/highdim.md#steps-needed",
)
def check_steps_constant(budget: Budget) -> Outcome:
    dims = SCALING_DIMS
    table = _steps_table(("vp-constant", "ve-constant"), dims, ms.DEFAULT_TOLERANCE)
    slopes, ok = {}, True
    for s, row in table.items():
        full = _complete(row)
        if full is None:
            ok = False
            continue
        slopes[s] = ms.loglog_slope(list(full), list(full.values()))
        ok &= abs(slopes[s] - tol.HD_SLOPE_SQRT) <= tol.HD_SLOPE_SQRT_BAND
    return Outcome(
        ok,
        "; ".join(f"{s}: N = {list(table[s].values())}, slope {v:.3f}" for s, v in slopes.items()),
        {
            "table": {s: {str(d): n for d, n in r.items()} for s, r in table.items()},
            "slopes": slopes,
            "tolerance": ms.DEFAULT_TOLERANCE,
        },
        figures={
            "gm_steps_needed_constant": plot_steps_needed(table, "steps needed, constant denoising")
        },
    )


@claim(
    "highdim.steps-needed-dilated-flat",
    statement=(
        "With the dilated schedules (kappa = 3) the smallest N meeting the same tolerance does "
        "not grow with d: fitted log-log slope within +-0.05 over d = 1e2 .. 1e6 (1e8 under the "
        "full profile)."
    ),
    source=f"{SRC}, abstract (Theta_d(1) steps); docs/theory/highdim.md#steps-needed",
    method="as highdim.steps-needed-constant-sqrt-d, for vp-dilated and ve-dilated",
    tolerance=f"|slope| <= {tol.HD_SLOPE_FLAT_BAND}",
    docs="docs/theory/highdim.md#steps-needed",
)
def check_steps_dilated(budget: Budget) -> Outcome:
    dims = budget.pick(SCALING_DIMS, (*SCALING_DIMS, 10**7, 10**8))
    table = _steps_table(("vp-dilated", "ve-dilated"), dims, ms.DEFAULT_TOLERANCE)
    slopes, ok = {}, True
    for s, row in table.items():
        full = _complete(row)
        if full is None:
            ok = False
            continue
        slopes[s] = ms.loglog_slope(list(full), list(full.values()))
        ok &= abs(slopes[s]) <= tol.HD_SLOPE_FLAT_BAND
    return Outcome(
        ok,
        "; ".join(f"{s}: N = {list(table[s].values())}, slope {v:.3f}" for s, v in slopes.items()),
        {
            "table": {s: {str(d): n for d, n in r.items()} for s, r in table.items()},
            "slopes": slopes,
            "tolerance": ms.DEFAULT_TOLERANCE,
        },
        figures={"gm_steps_needed_dilated": plot_steps_needed(table, "steps needed, dilated")},
    )


@claim(
    "highdim.steps-needed-stein",
    statement=(
        "Finding (beyond the paper): the Stein-cost schedule computed exactly on the GM is not "
        "Theta(sqrt d) (log-log slope < 0.25 over d = 1e2 .. 1e6) but needs at least 5x the "
        "steps of both dilated schedules at every d, because its weight v = rho leaves few steps "
        "at the clean end where the per-mode spread is set."
    ),
    source=(
        "Williams et al. arXiv 2412.07877, §3.1, Algorithm 1 (docs/theory/stein.md#local-metric, "
        "docs/theory/stein.md#end-to-end-schedule, docs/theory/stein.md#coarse-grid-pitfall) "
        "applied to the Gaussian mixture (docs/theory/highdim.md#stein-schedule-of-the-mixture); "
        "symsched.highdim.gm_stein"
    ),
    method=(
        "steps-needed as for the other schedules (deterministic Euler errors), Stein grid from "
        "the exact GM metric (Gauss-Hermite in S), rho_max = 10 sqrt(d (m^2 + sigma^2))"
    ),
    tolerance="slope < 0.25 and N_stein >= 5 max(N_vp-dilated, N_ve-dilated) at every d",
    docs="docs/theory/highdim.md#stein-schedule-of-the-mixture",
)
def check_steps_stein(budget: Budget) -> Outcome:
    dims = budget.pick((10**2, 10**4, 10**6), SCALING_DIMS)
    table = _steps_table(("stein", "vp-dilated", "ve-dilated"), dims, ms.DEFAULT_TOLERANCE)
    st = _complete(table["stein"])
    if st is None:
        return Outcome(
            False,
            f"stein did not meet the tolerance on the grid: {table['stein']}",
            {"table": table},
        )
    slope = ms.loglog_slope(list(st), list(st.values()))
    ratio = min(
        st[d]
        / max(
            _found(table["vp-dilated"][d], f"vp-dilated at d = {d}"),
            _found(table["ve-dilated"][d], f"ve-dilated at d = {d}"),
        )
        for d in dims
    )
    low = {}
    for d in dims:
        gm = GaussianMixture(dim=d)
        e = ms.gm_errors_euler(gm, "stein", 128)
        low[str(d)] = {"high_at_N128": e["high"], "low_at_N128": e["low"]}
    return Outcome(
        slope < 0.25 and ratio >= 5,
        f"stein N = {list(st.values())} for d = {list(dims)}, slope {slope:.3f}; N_stein / "
        f"N_dilated >= {ratio:.1f}",
        {
            "table": {s: {str(d): n for d, n in r.items()} for s, r in table.items()},
            "slope": slope,
            "min_ratio_to_dilated": ratio,
            "errors_at_N128": low,
        },
    )


@claim(
    "highdim.collapse-n-over-sqrt-d",
    statement=(
        "The errors of the constant schedules are functions of N/sqrt(d): p_hat - p for "
        "VP-constant and std/sigma for VE-constant at fixed x = N/sqrt(d) agree across d."
    ),
    source=(
        f"{SRC}; docs/theory/highdim.md#why-the-dichotomy-happens (the errors depend only on "
        "N/sqrt(d))"
    ),
    method=(
        "deterministic Euler values (Monte-Carlo-free) at N = round(x sqrt(d)), x in {0.5, 1, 2, "
        "4} (VP) and {2, 4, 8, 16} (VE), d = 1e4 .. 1e6 (1e8 under full)"
    ),
    tolerance=f"relative spread across d <= {tol.HD_COLLAPSE_RTOL:.0%} at every x",
    docs="docs/theory/highdim.md#why-the-dichotomy-happens",
)
def check_collapse(budget: Budget) -> Outcome:
    dims = budget.pick((10**4, 10**5, 10**6), (10**4, 10**5, 10**6, 10**7, 10**8))
    vp: dict[float, list[float]] = {}
    ve: dict[float, list[float]] = {}
    for x in (0.5, 1.0, 2.0, 4.0):
        vp[x] = [
            ms.gm_errors_euler(GaussianMixture(dim=d), "vp-constant", round(x * math.sqrt(d)))[
                "mode_fraction"
            ]
            - 0.8
            for d in dims
        ]
    for x in (2.0, 4.0, 8.0, 16.0):
        vals = []
        for d in dims:
            gm = GaussianMixture(dim=d)
            grid, c_value = ms.make_grid("ve-constant", round(x * math.sqrt(d)), gm)
            a, _, _ = gm.coefficients(grid.taus[:-1], grid.alphas[:-1], c_value)
            vals.append(float(abs(np.prod(1 + grid.dtaus * a)) * c_value / gm.mode_sigma))
        ve[x] = vals
    spread = {f"vp x={x}": (max(v) - min(v)) / max(abs(u) for u in v) for x, v in vp.items()}
    spread.update({f"ve x={x}": (max(v) - min(v)) / max(abs(u) for u in v) for x, v in ve.items()})
    ok = max(spread.values()) <= tol.HD_COLLAPSE_RTOL
    fig = plot_collapse(dims, vp, ve)
    return Outcome(
        ok,
        f"largest relative spread across d {max(spread.values()):.3%}; VP p_hat - p from "
        f"{max(vp[0.5]):.3f} (x = 0.5) to {max(vp[4.0]):.4f} (x = 4)",
        {
            "dims": list(dims),
            "vp_phat_minus_p": {str(k): v for k, v in vp.items()},
            "ve_std_ratio": {str(k): v for k, v in ve.items()},
            "relative_spread": spread,
        },
        figures={"gm_collapse_n_over_sqrt_d": fig},
    )


@claim(
    "highdim.vp-phase1-law",
    statement=(
        "VP-dilated phase 1 (tau = 2 kappa t / sqrt(d), t <= 1/2) selects the mode with the "
        "d-independent law P(y_1/2 > 0) = p Phi(kappa m) + (1 - p) Phi(-kappa m)."
    ),
    source=(
        f"{SRC}; docs/theory/highdim.md#dilated-phase-1-law (limiting phase-1 dynamics, 0.79919 "
        "for kappa m = 3)"
    ),
    method=(
        "reduced GM Euler at d = 1e8, N = 1000 (500 phase-1 steps), kappa in {0.5, 1, 2, 3}: "
        "1e5-sample Monte Carlo fraction of S > 0 at t = 1/2 and the Monte-Carlo-free Euler value"
    ),
    tolerance=(
        f"MC: |frac - law| <= Z SE + {tol.HD_PHASE1_ATOL:g}; Euler value: |P - law| <= "
        f"{tol.HD_PHASE1_ATOL:g}"
    ),
    docs="docs/theory/highdim.md#dilated-phase-1-law",
)
def check_phase1(budget: Budget) -> Outcome:
    d, n_steps = 10**8, budget.pick(1000, 4000)
    n = budget.pick(100_000, 400_000)
    gm = GaussianMixture(dim=d)
    rows, ok = [], True
    for i, kappa in enumerate((0.5, 1.0, 2.0, 3.0)):
        grid = vp_dilated(n_steps, d, kappa)
        law = gm.p * norm.cdf(kappa * gm.m) + (1 - gm.p) * norm.cdf(-kappa * gm.m)
        exact = sim.gm_mode_fraction_euler(gm, grid, 1.0, steps_run=n_steps // 2)
        run = sim.gm_reduced(gm, grid, 1.0, n, _seed(budget, 60 + i), steps_run=n_steps // 2)
        frac, se = ms.fraction_stderr(run.magnetization > 0)
        good = (
            abs(exact - law) <= tol.HD_PHASE1_ATOL
            and abs(frac - law) <= tol.Z_SCORE * se + tol.HD_PHASE1_ATOL
        )
        ok &= good
        rows.append(
            {
                "kappa": kappa,
                "law": law,
                "euler": exact,
                "monte_carlo": frac,
                "stderr": se,
                "ok": good,
            }
        )
    return Outcome(
        ok,
        "; ".join(
            f"kappa m = {r['kappa']:g}: law {r['law']:.5f}, Euler {r['euler']:.5f}, MC "
            f"{r['monte_carlo']:.4f}"
            for r in rows
        ),
        {"cases": rows},
    )
