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
# # 01 — Closed-form Gaussian theory of the deterministic sampler
#
# For a Gaussian source $\mathcal N(0,\Sigma)$ and DDIM ($\eta=0$) with the exact denoiser, every
# eigen-direction evolves independently and the output covariance is known in closed form
# (Sun, Poor, Zhang, arXiv 2601.13602, §3–§5). This notebook re-derives the theory with SymPy,
# checks it against a Monte Carlo particle sampler, and compares grids on a **real** spectrum:
# the covariance of scikit-learn's 8×8 digits in the $[-1,1]$ scale.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

import symsched
from symsched.datasets import dataset_spectrum
from symsched.gaussian import derive, tangent
from symsched.symbols import latex

# derived expressions display as LaTeX in the notation of the docs (lam prints as \lambda)
sp.init_printing(use_latex="mathjax", latex_printer=latex)

# %% [markdown]
# ## 1. The per-eigenvalue DDIM gain, derived (not typed in)
# Tweedie's formula gives the denoiser; one DDIM step $a\to b$ multiplies $\bar x=x/\alpha$ by:

# %%
gain = derive.ddim_gain_rho()
gain

# %% [markdown]
# Relative to the exact probability-flow map, each step keeps the fraction
# $\cos^2\Delta\varphi$ of the variance, $\varphi=\arctan(\rho/\sqrt\lambda)$; its complement is the
# Lagrange form below, which the fast numerics sum as `log1p(-loss)`.

# %%
loss = derive.variance_loss_step()
assert derive.angle_identity_residual() == 0
loss

# %% [markdown]
# ## 2. The tangent law and $\gamma^\star$
# $J_i(\gamma)$ of the tangent family, integrated symbolically, and its minimiser over $\gamma$:

# %%
J = tangent.J_tangent()
g_star = tangent.gamma_star_expr()
J, g_star

# %% [markdown]
# ## 3. Closed form against Monte Carlo
# Full-matrix particle DDIM (linear solves, no eigendecomposition) on the correlated example of
# docs/theory/gaussian.md#full-matrix-monte-carlo-example.

# %%
from symsched_verify.oracles.ddim_particles import ddim_particles

Sigma = np.array([[2.0, 0.8], [0.8, 0.5]])
grid6 = symsched.tangent_sigmas(6, 1.0)
closed = symsched.output_covariance(Sigma, grid6)
mc = ddim_particles(Sigma, grid6, 200_000, seed=7)
z = (mc.covariance - closed) / mc.stderr
print(
    "closed form:\n",
    closed.round(4),
    "\nMonte Carlo:\n",
    mc.covariance.round(4),
    "\nz-scores:\n",
    z.round(2),
)

# %% [markdown]
# ## 4. KL against the number of steps on the digits spectrum (EDM range)

# %%
lam_digits = dataset_spectrum("digits")
gs = symsched.gamma_star(lam_digits)
Ns = np.array([4, 6, 8, 10, 15, 20, 30, 50, 100])
methods = {
    f"tangent gamma*={gs:.3f}": {"method": "tangent", "c": gs},
    "tangent c=1 (ComfyUI kl_optimal)": {"method": "tangent", "c": 1.0},
    "karras rho=7": {"method": "karras", "rho": 7.0},
    "loglinear": {"method": "loglinear"},
}
curves = {}
for label, spec in methods.items():
    spec = dict(spec)
    m = spec.pop("method")
    curves[label] = np.array(
        [
            symsched.kl(
                lam_digits,
                symsched.build(m, int(n), sigma_min=0.002, sigma_max=80.0, **spec).sigmas,
            ).kl_source_output
            for n in Ns
        ]
    )

fig, ax = plt.subplots(figsize=(6, 4))
for label, ys in curves.items():
    ax.loglog(Ns, ys, "o-", ms=3, label=label)
ax.set_xlabel("steps N")
ax.set_ylabel("exact KL(source || output)")
ax.set_title("digits (d = 64), sigma in [0.002, 80]")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 5. Claims, as asserts

# %%
# Monte Carlo agrees with the closed form entry by entry (fixed seed, 5 standard errors)
assert np.all(np.abs(z) <= 5)
# check value of docs/theory/gaussian.md#single-eigenvalue-on-its-tangent-grid: one eigenvalue,
# N = 2 tangent grid gives r = 1/4
assert (
    abs(
        math.exp(symsched.log_variance_ratios([3.0], symsched.tangent_sigmas(2, math.sqrt(3.0)))[0])
        - 0.25
    )
    < 1e-15
)
# gamma* is the (tr Sigma / tr Sigma^-1)^(1/4) of the digits spectrum
assert abs(gs - (lam_digits.sum() / (1 / lam_digits).sum()) ** 0.25) < 1e-12
# on the digits spectrum the gamma*-tangent grid beats c = 1 and both heuristics at every N >= 8
tan_star = curves[f"tangent gamma*={gs:.3f}"]
for label, ys in curves.items():
    if not label.startswith("tangent gamma*"):
        assert np.all(tan_star[Ns >= 8] < ys[Ns >= 8]), label
# KL decays like N^-2 asymptotically: fitted slope between N = 30 and 100 is close to -2
slope = np.polyfit(np.log(Ns[-3:]), np.log(tan_star[-3:]), 1)[0]
assert -2.2 < slope < -1.8, slope
