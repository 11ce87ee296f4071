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

from symsched._figures import new_figure, tidy
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
from symsched.plot_style import REFERENCE, label, style
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim

SRC = "Aranguri, Biroli, Mézard, Vanden-Eijnden, arXiv 2501.00988"
GM_DIMS = (10**2, 10**4, 10**6, 10**8)
SCALING_DIMS = (10**2, 10**3, 10**4, 10**5, 10**6)


def gm_title(gm: GaussianMixture | None = None, **what: Any) -> str:
    """The model and its parameters, for figure titles: ``Gaussian mixture p = 0.8, m = 1,
    σ = 0.5`` plus ``, key = value`` for each of ``what`` (``d`` as a power of ten)."""
    gm = gm if gm is not None else GaussianMixture()
    text = f"Gaussian mixture p = {gm.p:g}, m = {gm.m:g}, σ = {gm.mode_sigma:g}"
    for key, value in what.items():
        text += f", {key} = {_pow10(value) if key == 'd' else value}"
    return text


def _pow10(d: float) -> str:
    k = round(math.log10(d))
    return f"$10^{{{k}}}$" if 10**k == d else f"{d:g}"


def _e(d: float) -> str:
    """``d`` in captions: ``$10^{4}$`` for powers of ten."""
    return _pow10(d)


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
    math=(
        r"\eta_\tau(x)=\frac{\sigma^2\tau}{D_\tau}\,x+\frac{c^2\alpha_\tau^2}{D_\tau}\,m\mathbf 1"
        r"\tanh(h+K_\tau S),\quad b_\tau(x)=\frac{\eta_\tau(x)-x}{1-\tau},\quad"
        r"\nabla\log p_\tau(x)=\frac{-x+\tau m\mathbf 1\tanh(h+K_\tau S)}{D_\tau},\qquad "
        r"D_\tau=c^2\alpha_\tau^2+\sigma^2\tau^2,\ K_\tau=\frac{\tau m}{D_\tau},\qquad"
        r"\partial_\tau p+\nabla\cdot(p\,b)=0"
    ),
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
        f"The derived denoiser differs from direct numerical Bayes by {worst_den:.1e} relative "
        f"and the score from autograd of the mixture density by {worst_score:.1e}; the "
        f"continuity-equation residual is {worst_flow:.1e} of its largest term.",
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
        r"The scalar reduction of the GM Euler scheme (one scalar $S = \mathbf 1\cdot x$ per "
        r"sample plus a common growth factor for $x_\perp$) reproduces the full d-dimensional "
        "torch simulation to round-off, for every schedule."
    ),
    source=f"{SRC}; docs/theory/highdim.md#scalar-reduction ('exact for Euler')",
    method=(
        "same initial draws X_0 fed to symsched.highdim.simulate.gm_full (torch, d-dimensional) "
        "and gm_reduced (numpy, S_0 = 1.X_0, |X_0,perp|^2); compare final M and within-sample std"
    ),
    tolerance=f"max |difference| <= {tol.HD_REDUCTION_ATOL:g}",
    docs="docs/theory/highdim.md#scalar-reduction",
    math=(
        r"S_{k+1}=S_k+\Delta\tau_k\big(A_kS_k+B_k\,m\,d\tanh(h+K_kS_k)\big),\qquad "
        r"x_{\perp,k+1}=(1+\Delta\tau_kA_k)\,x_{\perp,k}"
    ),
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
        f"Over {len(rows)} pairs of dimension and schedule, the reduced and full simulations "
        f"differ by at most {worst:.1e} in the final magnetisation and within-sample standard "
        f"deviation.",
        {"cases": rows},
    )


@claim(
    "highdim.gm-euler-mode-fraction",
    statement=(
        "The Monte Carlo mode fraction of the reduced simulation agrees with the "
        r"Monte-Carlo-free Euler value $P(S_0 > s^\ast)$ (the Euler map $S_0 \mapsto S_N$ is "
        "increasing) used by steps-needed."
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
    math=(
        r"P(S_N>0)=P(S_0>s^\ast)=\Phi\Big(-\frac{s^\ast}{c\sqrt d}\Big),\qquad"
        rf"\frac{{|\hat p^{{\mathrm{{MC}}}}-P(S_N>0)|}}{{\mathrm{{se}}}}\le{tol.Z_SCORE:g}"
    ),
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
    fig = plot_phat_vs_d(
        {
            s: (
                [r["dim"] for r in rows if r["schedule"] == s],
                [r["z"] for r in rows if r["schedule"] == s],
            )
            for s in dict.fromkeys(r["schedule"] for r in rows)
        },
        tol.Z_SCORE,
        f"{gm_title()}\nMonte Carlo vs Monte-Carlo-free Euler mode fraction, N = 24",
        ylabel="|MC - exact| / s.e.",
        target_label="tolerance Z",
    )
    caption = (
        f"Distance, in standard errors, between the Monte Carlo mode fraction ({n} samples of "
        "the reduced simulation) and the Monte-Carlo-free Euler value P(S_0 > s*), for five "
        "schedules (N = 24) on the Gaussian mixture p = 0.8, m = 1, σ = 0.5, against the "
        f"dimension d. The largest is {worst:.2f}, against the tolerance {tol.Z_SCORE:g}."
    )
    return Outcome(
        ok,
        f"Over {len(rows)} cases the Monte Carlo mode fraction lies at most {worst:.2f} standard "
        f"errors from the Monte-Carlo-free Euler value.",
        {"cases": rows},
        figures={"gm_mc_vs_euler_z": fig},
        captions={"gm_mc_vs_euler_z": caption},
    )


@claim(
    "highdim.vp-constant-loses-p",
    statement=(
        r"VP with constant denoising at fixed N: the mode fraction $\hat p \to 1$ as d grows "
        "(the asymmetry p = 0.8 is lost) while the per-mode spread stays right and "
        "d-independent."
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
    math=(
        r"c=1,\ \Delta\tau=\frac1N:\qquad\hat p=P(M>0)\xrightarrow[d\to\infty]{}1\ne p,\qquad"
        r"\frac{\mathrm{std}}{\sigma}\to1\ \text{at every }d"
    ),
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
            {"vp-constant": (GM_DIMS, ph)}, p, f"{gm_title()}\nVP constant, N = 32"
        ),
        "gm_vp_constant_trajectories": plot_trajectories(
            stats[10**6][2].trajectories, f"{gm_title(d=10**6)}\nVP constant, N = 32"
        ),
    }
    captions = {
        "gm_vp_constant_phat_vs_d": (
            f"Mode fraction $\\hat p$ of {n} samples of the Euler scheme with VP constant "
            f"denoising (N = 32) on the Gaussian mixture p = 0.8, m = 1, σ = 0.5, against the "
            f"dimension d. It rises from {ph[0]:.4f} at $d = 10^2$ to {ph[-1]:.4f} at "
            f"$d = 10^8$, away from the target p = 0.8: the mode weights are lost."
        ),
        "gm_vp_constant_trajectories": (
            "Magnetisation M of 64 recorded samples over the 32 Euler steps of VP constant "
            "denoising on the Gaussian mixture p = 0.8, m = 1, σ = 0.5 at $d = 10^6$. "
            f"At the end {ph[2]:.1%} of all {n} samples sit in the + mode (target 80%)."
        ),
    }
    return Outcome(
        lost and monotone and spread_ok,
        r"The mode fraction $\hat p$ is "
        + ", ".join(f"{v:.4f} at d = {_pow10(d)}" for v, d in zip(ph, GM_DIMS, strict=True))
        + f" (target p = {p:g}), while the per-mode std/σ stays between {min(ratios):.4f} and "
        f"{max(ratios):.4f}.",
        {"dims": list(GM_DIMS), "mode_fraction": ph, "std_ratio": ratios, "stderr_at_p": se0},
        figures=figs,
        captions=captions,
    )


@claim(
    "highdim.ve-constant-collapses-spread",
    statement=(
        r"VE with constant denoising at fixed N: the per-mode spread collapses like "
        r"$N/\sqrt{d}$ as d grows while $\hat p$ stays right."
    ),
    source=f"{SRC}, abstract; docs/theory/highdim.md#ve-constant-loses-the-spread",
    method="reduced GM Euler simulation, N = 32, d = 1e2 .. 1e8, 1e5 samples, fixed seeds",
    tolerance=(
        f"std/sigma(1e8) <= {tol.HD_COLLAPSE_FACTOR} std/sigma(1e2); std/sigma x sqrt(d)/N "
        f"constant within {tol.HD_COLLAPSE_RTOL:.0%} for d >= 1e4; |p_hat - p| <= "
        f"{tol.HD_FEATURE_TOL} + Z SE"
    ),
    docs="docs/theory/highdim.md#ve-constant-loses-the-spread",
    math=(
        r"c=\sqrt d,\ \Delta\tau=\frac1N:\qquad\frac{\mathrm{std}}{\sigma}\cdot\frac{\sqrt d}{N}"
        r"\to\text{const}\quad(d\to\infty),\qquad\hat p\to p"
    ),
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
    fig = plot_phat_vs_d(
        {"ve-constant": (GM_DIMS, ratios)},
        1.0,
        f"{gm_title()}\nVE constant, N = 32",
        ylabel="per-mode std / σ",
        target_label="target",
    )
    fig.axes[0].set_yscale("log")
    tidy(fig)
    caption = (
        f"Per-mode standard deviation over σ of {n} samples of the Euler scheme with VE constant "
        "denoising (N = 32) on the Gaussian mixture p = 0.8, m = 1, σ = 0.5, against the "
        f"dimension d (log axes). It falls from {ratios[0]:.3g} at $d = 10^2$ to "
        f"{ratios[-1]:.3g} at $d = 10^8$ while std/σ × √d/N stays between {min(big):.3f} and "
        f"{max(big):.3f} for $d \\ge 10^4$: the spread collapses like N/√d."
    )
    return Outcome(
        collapse and p_ok,
        "From d = $10^2$ to $10^8$ the per-mode std/σ is "
        + ", ".join(f"{r:.4g}" for r in ratios)
        + "; times √d/N it is "
        + ", ".join(f"{s:.3f}" for s in scaled)
        + r", and the mode fraction $\hat p$ is "
        + ", ".join(f"{stats[d]['mode_fraction']:.4f}" for d in GM_DIMS)
        + ".",
        {
            "dims": list(GM_DIMS),
            "std_ratio": ratios,
            "std_ratio_times_sqrt_d_over_N": scaled,
            "mode_fraction": [stats[d]["mode_fraction"] for d in GM_DIMS],
        },
        figures={"gm_ve_constant_spread_vs_d": fig},
        captions={"gm_ve_constant_spread_vs_d": caption},
    )


@claim(
    "highdim.dilated-both-right",
    statement=(
        r"VP-dilated and VE-dilated schedules ($\kappa = 3$) get both the mode weight and the "
        "per-mode spread right at a fixed N, independently of d up to $10^8$."
    ),
    source=f"{SRC}, abstract; docs/theory/highdim.md#dilated-schedules",
    method="reduced GM Euler simulation, N = 128, d = 1e2 .. 1e8, 1e5 samples, fixed seeds",
    tolerance=(
        f"|p_hat - p| <= {tol.HD_FEATURE_TOL} + Z SE and |std/sigma - 1| <= {tol.HD_FEATURE_TOL} "
        "+ Z SE at every d"
    ),
    docs="docs/theory/highdim.md#dilated-phase-1-law",
    math=(
        r"\tau_t^{\text{VP}}=\begin{cases}2rt,&t<\tfrac12\\r+(1-r)(2t-1),&t\ge\tfrac12\end{cases}"
        r",\quad r=\frac{\kappa}{\sqrt d};\qquad"
        rf"|\hat p-p|\le{tol.HD_FEATURE_TOL:g},\quad\Big|\frac{{\mathrm{{std}}}}{{\sigma}}-1\Big|"
        rf"\le{tol.HD_FEATURE_TOL:g}\ \text{{at every }}d"
    ),
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
                    run.trajectories, f"{gm_title(d=10**6)}\nVP dilated (κ = 3), N = 128"
                )
                traj_frac = st["mode_fraction"]
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
        f"From d = $10^2$ to $10^8$ both dilated schedules keep $|\\hat p - p|$ within "
        f"{worst_p:.4f} and $|\\mathrm{{std}}/\\sigma - 1|$ within {worst_s:.4f}.",
        {"cases": rows},
        figures={
            "gm_dilated_phat_vs_d": plot_phat_vs_d(
                series, 0.8, f"{gm_title()}\ndilated schedules (κ = 3), N = 128"
            ),
            "gm_vp_dilated_trajectories": traj_fig,
        },
        captions={
            "gm_dilated_phat_vs_d": (
                f"Mode fraction $\\hat p$ of {n} samples of the Euler scheme with the VP- and "
                "VE-dilated schedules (κ = 3, N = 128) on the Gaussian mixture p = 0.8, m = 1, "
                f"σ = 0.5, against the dimension d. Both stay within {worst_p:.4f} of p = 0.8 "
                f"up to $d = 10^8$ (and the spread within {worst_s:.4f} of σ)."
            ),
            "gm_vp_dilated_trajectories": (
                "Magnetisation M of 64 recorded samples over the 128 Euler steps of the "
                "VP-dilated schedule (κ = 3) on the Gaussian mixture p = 0.8, m = 1, σ = 0.5 at "
                "$d = 10^6$: M stays near 0 through phase 1 (the first 64 steps) and then "
                f"moves to ±1; {traj_frac:.1%} of all {n} samples end in the + mode (target "
                "80%)."
            ),
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


def _steps_sentence(table: dict[str, dict[int, int | None]], slopes: dict[str, float]) -> str:
    """The steps-needed table in words: the smallest N per d and the fitted slope, per schedule."""
    parts = []
    for s, row in table.items():
        ns = ", ".join(
            f"{n} at d = {_pow10(d)}" if n else f"none at d = {_pow10(d)}" for d, n in row.items()
        )
        fit = f"log-log slope {slopes[s]:.3f}" if s in slopes else "no slope: not every d met it"
        parts.append(f"{s} needs N = {ns} ({fit})")
    return "The smallest N meeting the tolerance: " + "; ".join(parts) + "."


def _found(n: int | None, what: str) -> int:
    if n is None:
        raise ValueError(f"{what} did not meet the tolerance on the search grid")
    return n


@claim(
    "highdim.steps-needed-constant-sqrt-d",
    statement=(
        "With constant denoising (VP and VE) the smallest N meeting a fixed tolerance on both GM "
        r"features grows like $\sqrt{d}$: fitted log-log slope 0.5 ± 0.1 over d = $10^2$ to "
        "$10^6$."
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
    math=(
        r"N^\star(d)=\min\left\{N:\ |\hat p-p|\le\epsilon,\ \Big|\frac{\mathrm{std}}{\sigma}-1\Big|"
        rf"\le\epsilon\right\}},\quad\epsilon={ms.DEFAULT_TOLERANCE:g};\qquad"
        rf"\Big|\frac{{d\ln N^\star}}{{d\ln d}}-{tol.HD_SLOPE_SQRT:g}\Big|\le"
        rf"{tol.HD_SLOPE_SQRT_BAND:g}"
    ),
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
        _steps_sentence(table, slopes),
        {
            "table": {s: {str(d): n for d, n in r.items()} for s, r in table.items()},
            "slopes": slopes,
            "tolerance": ms.DEFAULT_TOLERANCE,
        },
        figures={
            "gm_steps_needed_constant": plot_steps_needed(
                table,
                f"{gm_title()}\nsteps needed, constant denoising (tolerance "
                f"{ms.DEFAULT_TOLERANCE:g})",
            )
        },
        captions={
            "gm_steps_needed_constant": (
                "Smallest number of Euler steps N at which both features of the Gaussian mixture "
                f"p = 0.8, m = 1, σ = 0.5 (mode fraction and per-mode spread) are within "
                f"{ms.DEFAULT_TOLERANCE:g}, against the dimension d, for VP and VE constant "
                "denoising, with a √d guide. The fitted log-log slopes are "
                + ", ".join(f"{label(k)} {v:.3f}" for k, v in slopes.items())
                + " (√d growth)."
            )
        },
    )


@claim(
    "highdim.steps-needed-dilated-flat",
    statement=(
        r"With the dilated schedules ($\kappa = 3$) the smallest N meeting the same tolerance "
        "does not grow with d: fitted log-log slope within ±0.05 over d = $10^2$ to $10^6$ "
        "($10^8$ under the full profile)."
    ),
    source=f"{SRC}, abstract (Theta_d(1) steps); docs/theory/highdim.md#steps-needed",
    method="as highdim.steps-needed-constant-sqrt-d, for vp-dilated and ve-dilated",
    tolerance=f"|slope| <= {tol.HD_SLOPE_FLAT_BAND}",
    docs="docs/theory/highdim.md#steps-needed",
    math=(
        r"N^\star(d)=\min\left\{N:\ |\hat p-p|\le\epsilon,\ \Big|\frac{\mathrm{std}}{\sigma}-1\Big|"
        rf"\le\epsilon\right\}},\qquad\Big|\frac{{d\ln N^\star}}{{d\ln d}}\Big|\le"
        rf"{tol.HD_SLOPE_FLAT_BAND:g}"
    ),
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
        _steps_sentence(table, slopes),
        {
            "table": {s: {str(d): n for d, n in r.items()} for s, r in table.items()},
            "slopes": slopes,
            "tolerance": ms.DEFAULT_TOLERANCE,
        },
        figures={
            "gm_steps_needed_dilated": plot_steps_needed(
                table,
                f"{gm_title()}\nsteps needed, dilated schedules (κ = 3, tolerance "
                f"{ms.DEFAULT_TOLERANCE:g})",
            )
        },
        captions={
            "gm_steps_needed_dilated": (
                "Smallest number of Euler steps N at which both features of the Gaussian mixture "
                f"p = 0.8, m = 1, σ = 0.5 are within {ms.DEFAULT_TOLERANCE:g}, against the "
                "dimension d, for the VP- and VE-dilated schedules (κ = 3), with a √d guide. The "
                "fitted log-log slopes are "
                + ", ".join(f"{label(k)} {v:.3f}" for k, v in slopes.items())
                + ": the steps needed do not grow with d."
            )
        },
    )


@claim(
    "highdim.steps-needed-stein",
    statement=(
        "Finding (beyond the paper): the Stein-cost schedule computed exactly on the GM is not "
        r"$\Theta(\sqrt{d})$ (log-log slope below 0.25 over d = $10^2$ to $10^6$) but needs at "
        r"least 5× the steps of both dilated schedules at every d, because its weight $v = \rho$ "
        "leaves few steps at the clean end where the per-mode spread is set."
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
    math=(
        r"\frac{d\ln N^\star_{\text{stein}}}{d\ln d}<0.25,\qquad N^\star_{\text{stein}}\ge5\max"
        r"\big(N^\star_{\text{vp-dilated}},N^\star_{\text{ve-dilated}}\big),\qquad"
        r"\delta_c(\rho)=\rho^2\,\mathbb E\|\partial_\rho\nabla\log p_\rho\|^2"
    ),
)
def check_steps_stein(budget: Budget) -> Outcome:
    dims = budget.pick((10**2, 10**4, 10**6), SCALING_DIMS)
    table = _steps_table(("stein", "vp-dilated", "ve-dilated"), dims, ms.DEFAULT_TOLERANCE)
    st = _complete(table["stein"])
    if st is None:
        return Outcome(
            False,
            "The Stein grid does not meet the tolerance on the search grid at every d: "
            + ", ".join(
                f"{n if n else 'none'} at d = {_pow10(d)}" for d, n in table["stein"].items()
            )
            + ".",
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
        "The Stein grid needs N = "
        + ", ".join(f"{n} at d = {_pow10(d)}" for d, n in st.items())
        + f" (log-log slope {slope:.3f}), at least {ratio:.1f} times the steps of the dilated "
        "schedules.",
        {
            "table": {s: {str(d): n for d, n in r.items()} for s, r in table.items()},
            "slope": slope,
            "min_ratio_to_dilated": ratio,
            "errors_at_N128": low,
        },
        figures={
            "gm_steps_needed_stein": plot_steps_needed(
                table,
                f"{gm_title()}\nsteps needed: Stein vs dilated (tolerance "
                f"{ms.DEFAULT_TOLERANCE:g})",
            )
        },
        captions={
            "gm_steps_needed_stein": (
                "Smallest number of Euler steps N meeting the tolerance "
                f"{ms.DEFAULT_TOLERANCE:g} on both features of the Gaussian mixture p = 0.8, "
                "m = 1, σ = 0.5 against the dimension d, for the exact Stein-cost schedule and "
                f"the two dilated schedules (κ = 3). Stein's N grows with slope {slope:.3f} but "
                f"is at least {ratio:.1f} times the dilated schedules' N at every d."
            )
        },
    )


@claim(
    "highdim.collapse-n-over-sqrt-d",
    statement=(
        r"The errors of the constant schedules are functions of $N/\sqrt{d}$: $\hat p - p$ for "
        r"VP-constant and std/σ for VE-constant at fixed $x = N/\sqrt{d}$ agree across d."
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
    math=(
        r"\hat p-p=f_{\mathrm{VP}}\Big(\frac{N}{\sqrt d}\Big),\qquad"
        r"\frac{\mathrm{std}}{\sigma}=f_{\mathrm{VE}}\Big(\frac{N}{\sqrt d}\Big)"
    ),
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
    fig = plot_collapse(dims, vp, ve, f"{gm_title()}: errors at fixed x = N/√d")
    caption = (
        "Errors of the constant schedules on the Gaussian mixture p = 0.8, m = 1, σ = 0.5 at "
        "fixed x = N/√d (deterministic Euler values), one marker per dimension d from "
        f"{_e(dims[0])} to {_e(dims[-1])}: left the excess mode fraction $\\hat p - p$ of VP "
        "constant, right the per-mode std/σ of VE constant. The markers of all d coincide "
        f"(largest relative spread {max(spread.values()):.2%}): the errors depend on N/√d only."
    )
    return Outcome(
        ok,
        f"At fixed $x = N/\\sqrt{{d}}$ the errors agree across d to a relative spread of at most "
        f"{max(spread.values()):.3%}; the VP error $\\hat p - p$ falls from {max(vp[0.5]):.3f} at "
        f"x = 0.5 to {max(vp[4.0]):.4f} at x = 4.",
        {
            "dims": list(dims),
            "vp_phat_minus_p": {str(k): v for k, v in vp.items()},
            "ve_std_ratio": {str(k): v for k, v in ve.items()},
            "relative_spread": spread,
        },
        figures={"gm_collapse_n_over_sqrt_d": fig},
        captions={"gm_collapse_n_over_sqrt_d": caption},
    )


def _phase1_figure(
    gm: GaussianMixture, rows: list[dict[str, Any]], n_steps: int, samples: int
) -> Any:
    """The phase-1 law against kappa m with the Euler and Monte Carlo values."""
    fig = new_figure((5.8, 4.0))
    ax = fig.add_subplot()
    km = np.linspace(0.0, 1.1 * max(r["kappa"] for r in rows) * gm.m, 200)
    law = gm.p * norm.cdf(km) + (1 - gm.p) * norm.cdf(-km)
    ax.plot(km, law, color=REFERENCE.color, lw=1.2, label="law p Φ(κm) + (1 - p) Φ(-κm)")
    x = [r["kappa"] * gm.m for r in rows]
    ax.plot(
        x,
        [r["euler"] for r in rows],
        ls="none",
        ms=9,
        mfc="none",
        color=style("euler").color,
        marker="o",
        label="Euler (Monte-Carlo-free)",
    )
    ax.errorbar(
        x,
        [r["monte_carlo"] for r in rows],
        yerr=[tol.Z_SCORE * r["stderr"] for r in rows],
        ls="none",
        capsize=3,
        color=style("monte carlo").color,
        marker="s",
        ms=4,
        label=f"Monte Carlo, {samples} samples (±{tol.Z_SCORE:g} s.e.)",
    )
    ax.axhline(gm.p, color=REFERENCE.color, ls="--", lw=0.8, label=f"p = {gm.p:g}")
    ax.set_xlabel("κ m")
    ax.set_ylabel("P(+ mode chosen at t = 1/2)")
    ax.set_title(
        f"{gm_title(gm, d=gm.dim)}\nVP dilated, phase 1 ({n_steps // 2} of {n_steps} steps)",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    return tidy(fig)


@claim(
    "highdim.vp-phase1-law",
    statement=(
        r"VP-dilated phase 1 ($\tau = 2\kappa t/\sqrt{d}$, $t \le 1/2$) selects the mode with "
        r"the d-independent law $P(y_{1/2} > 0) = p\,\Phi(\kappa m) + (1 - p)\,\Phi(-\kappa m)$."
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
    math=(
        r"\dot y=2\kappa m\tanh(h+2\kappa m\,t\,y),\ y_0\sim\mathcal N(0,1):\qquad "
        r"P(y_{1/2}>0)=p\,\Phi(\kappa m)+(1-p)\,\Phi(-\kappa m)"
    ),
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
    fig = _phase1_figure(gm, rows, n_steps, n)
    worst_euler = max(abs(r["euler"] - r["law"]) for r in rows)
    caption = (
        "Probability that the VP-dilated scheme has chosen the + mode at the end of phase 1 "
        f"(t = 1/2, {n_steps // 2} Euler steps) on the Gaussian mixture p = 0.8, m = 1, σ = 0.5 "
        "at $d = 10^8$, against κ m: the limiting law $p\\Phi(\\kappa m) + (1 - p)"
        "\\Phi(-\\kappa m)$, the Monte-Carlo-free Euler value and the Monte Carlo fraction "
        f"of {n} samples (±{tol.Z_SCORE:g} s.e.). The Euler value is within {worst_euler:.1e} of "
        "the law at every κ."
    )
    return Outcome(
        ok,
        "The fraction of samples with $y_{1/2} > 0$ follows the law: "
        + "; ".join(
            f"at $\\kappa m$ = {r['kappa']:g} the law gives {r['law']:.5f}, the Euler value "
            f"{r['euler']:.5f} and Monte Carlo {r['monte_carlo']:.4f}"
            for r in rows
        )
        + ".",
        {"cases": rows},
        figures={"gm_phase1_law": fig},
        captions={"gm_phase1_law": caption},
    )
