# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 — Score-optimal (Stein-cost) schedules
#
# Williams, Campbell, Doucet, Syed (arXiv 2412.07877) choose the discretisation that makes the
# Langevin **corrector** do equal work on every step. The corrector cost of a step
# $\sigma\to\sigma'$ is $\mathcal L_c=v^2\,\mathbb E_{p_\sigma}\|\nabla\log p_{\sigma'}-\nabla\log
# p_\sigma\|^2$
# with $v=\sigma'$; locally $\mathcal L_c\approx\delta_c(\sigma)\Delta\sigma^2$, the length is
# $\Lambda=\int\sqrt{\delta_c}$, and the optimal grid is equally spaced in $\Lambda$
# ([williams2024, Thm. 3.1, Algorithm 1]; docs/theory/stein.md). This notebook derives the closed
# forms, runs the three estimators through the denoiser interface, and compares the optimal grids
# with EDM's $\rho=7$.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from symsched import stein
from symsched.datasets import dataset_spectrum
from symsched.models import EmpiricalModel, GaussianModel, load_model
from symsched.schedules import families
from symsched.symbols import latex

warnings.simplefilter("ignore", stein.SteinAccuracyWarning)
# derived expressions display as LaTeX in the notation of the docs
sp.init_printing(use_latex="mathjax", latex_printer=latex)

# %% [markdown]
# ## 1. Closed forms, derived (docs/theory/stein.md#closed-forms)
# The per-eigenvalue corrector cost and its local metric come out of the Gaussian score
# $-x/m$, $m=\lambda+\sigma^2$, by one expectation and one Taylor coefficient:

# %%
cost_expr = stein.gaussian_interval_cost("ve")
metric_expr = stein.gaussian_local_metric_expr("ve")
length_expr = stein.isotropic_length_expr()
cost_expr, metric_expr, length_expr

# %% [markdown]
# VP with unit-variance data is the degenerate case: the marginals never move, the cost is 0.

# %%
from symsched.symbols import lam

vp_unit = sp.simplify(stein.gaussian_interval_cost("vp").subs(lam, 1))
vp_unit

# %% [markdown]
# ## 2. Algorithm 1 on a fine probe grid vs the closed-form optimum
# Exact costs on $K=2000$ log-spaced probes, cumulative $\sqrt{\cdot}$, PCHIP inversion. The
# closed-form optimum inverts $\Lambda(\sigma)$ by root finding.

# %%
from scipy.optimize import brentq

c, lo, hi, N = 0.5, 0.002, 80.0, 10
model = GaussianModel.isotropic(c, 1)
probe = stein.probe_levels(lo, hi, 2000)
alg1 = stein.update_schedule(probe, stein.estimate_costs(model, probe, estimator="exact").costs, N)


def L(s: float) -> float:
    return float(stein.isotropic_length(c, 1, s))


targets = np.linspace(L(hi), L(lo), N + 1)
closed = np.array(
    [hi] + [brentq(lambda s, t=t: L(s) - t, lo, hi, xtol=1e-14) for t in targets[1:-1]] + [lo]
)
err_alg1 = stein.schedule_error(alg1, closed)
print(f"Algorithm 1 vs closed form: max relative error {err_alg1:.1e}")

# %% [markdown]
# ## 3. The estimators through the denoiser $D(x,\sigma)$
# Monte Carlo with common random numbers (both levels at the same noised samples) and the JVP local
# metric (`torch.func.jvp` in $\sigma$) see only the denoiser. The JVP default also regresses out
# two
# controls of known mean — the denoising score $(y-x)/\sigma^2$ of each sample (metric mean
# $4d/\sigma^2$) and a Gaussian surrogate with the data's moments — so on Gaussian data it is exact
# (zero standard error below); on real data it removes most of the variance. On $\mathcal
# N(0,c^2I_{16})$:

# %%
m16 = GaussianModel.isotropic(c, 16)
probe64 = stein.probe_levels(lo, hi, 64)
ests = {
    name: stein.estimate_costs(m16, probe64, estimator=name, samples=256, seed=0)
    for name in ("exact", "monte-carlo", "jvp")
}
L_true = float(stein.isotropic_length(c, 16, hi) - stein.isotropic_length(c, 16, lo))
for name, e in ests.items():
    se = e.total_length_stderr
    print(
        f"{name:12s} total length {e.total_length:8.4f}"
        + ("" if se is None else f" +- {se:.4f}")
        + f"   (closed form {L_true:.4f}); {e.evaluations} score evaluations"
    )

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(probe64, m16.exact_local_metric(probe64, process="ve"), "k-", label="closed form")
ax.loglog(probe64, ests["jvp"].extra["metric"], ".", label="JVP estimate (n = 256)")
ax.set_xlabel(r"$\sigma$")
ax.set_ylabel(r"$\delta_c(\sigma)$")
ax.legend()
ax.set_title(r"local metric, $c=0.5$, $d=16$")
fig.tight_layout()

# %% [markdown]
# ## 4. Point-mass data gives exactly log-linear grids; Gaussian data does not
# (With common random numbers across intervals, the Monte Carlo costs of a point mass on a geometric
# probe grid are equal to round-off, so Algorithm 1 returns the geometric grid exactly.)
# For $c\to0$, $\delta_c=4d/\sigma^2$ and the optimum is geometric. For image-like spectra the
# optimum sits between: we fit the EDM $\rho$ whose 10-step grid is closest to each Stein grid.

# %%
from scipy.optimize import minimize_scalar


def closest_rho(grid: np.ndarray) -> float:
    def f(r: float) -> float:
        return float(np.max(np.abs(np.log(families.karras(lo, hi, r).grid(N) / grid))))

    return float(minimize_scalar(f, bounds=(1.0, 60.0), method="bounded").x)


point = EmpiricalModel(
    np.array([[0.2, -0.4, 0.1]]), name="point mass"
)  # exact denoiser of one point
probe256 = stein.probe_levels(lo, hi, 256)
grids = {
    "point mass (MC)": stein.update_schedule(
        probe256,
        stein.estimate_costs(
            point, probe256, estimator="monte-carlo", samples=8, common_noise=True
        ).costs,
        N,
    ),
    "N(0, 0.25 I)": closed,
    "digits spectrum": stein.stein_schedule(
        GaussianModel(dataset_spectrum("digits")), N, estimator="exact"
    ).schedule.sigmas,
    "patches spectrum": stein.stein_schedule(
        GaussianModel(dataset_spectrum("patches")), N, estimator="exact"
    ).schedule.sigmas,
    "digits data (memorising optimum)": stein.stein_schedule(
        load_model("empirical-digits"), N, samples=64, probe=64, seed=0
    ).schedule.sigmas,
}
geo_err = stein.schedule_error(grids["point mass (MC)"], families.loglinear(lo, hi).grid(N))
fitted = {k: closest_rho(g) for k, g in grids.items()}
for k, g in grids.items():
    print(f"{k:34s} closest rho {fitted[k]:6.2f}  grid {np.array2string(g, precision=3)}")
print(f"point mass vs geometric grid: {geo_err:.1e}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, g in grids.items():
    ax.semilogy(range(N + 1), g, ".-", label=k)
ax.semilogy(range(N + 1), families.karras(lo, hi, 7.0).grid(N), "k--", label=r"EDM $\rho=7$")
ax.set_xlabel("step")
ax.set_ylabel(r"$\sigma$")
ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## 5. Trained networks: does the Stein grid approach EDM's $\rho=7$?
# The shipped `digits` and `patches` denoisers were trained on the train split only
# (`symsched.datasets.split`). Their Stein grids (the default JVP estimator, as
# `symsched schedule stein --model digits`) are fitted by the closest EDM $\rho$; the exact
# denoiser of the
# train split (the memorising optimum) is log-linear ($\rho\to\infty$, the fit hits its upper
# bound).
# Sampling them with Heun against held-out data is the claim `stein.sampling-comparison`
# (`verify/sample_quality.py`); its figure is in the verification report.

# %%
from symsched.metrics import fit_karras_rho
from symsched.stein.quality import stein_grids

trained_rho = {
    name: fit_karras_rho(stein_grids(load_model(name), [N])[N]) for name in ("digits", "patches")
}
print({k: round(v, 2) for k, v in trained_rho.items()})

# %% [markdown]
# ## 6. Checks (the claims this notebook illustrates)

# %%
assert vp_unit == 0
assert (
    err_alg1 < 3e-3
)  # docs/theory/stein.md#checks: < 1e-3 measured, tolerance in verify/tolerances/_stein.py
for name in ("monte-carlo", "jvp"):
    e = ests[name]
    assert (
        abs(e.total_length - L_true) <= 5 * e.total_length_stderr + 0.02 * L_true
    )  # + probe bias at K = 64
assert abs(ests["exact"].total_length / L_true - 1) < 0.02
assert geo_err < 1e-10
assert fitted["N(0, 0.25 I)"] < fitted["digits spectrum"] < fitted["point mass (MC)"]
# the trained networks' Stein grids sit near EDM's rho = 7 (measured 5.9 digits, 4.0 patches), far
# from the geometric grid (rho -> inf) that point-mass / memorised data would give
assert all(3.0 < r < 10.0 for r in trained_rho.values())
