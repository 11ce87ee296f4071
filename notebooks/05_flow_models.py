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
# # 05 — Flow models: the Gaussian theory in flow time, and the optimal shift
#
# Rectified flows (SD3, Flux) are trained on $x_t=(1-t)x_0+t\epsilon$ and sampled on N uniform
# steps in $t$, shifted. Dividing by $1-t$ turns the flow into the variance-exploding process of
# noise level $\rho=t/(1-t)$, so the exact Gaussian theory of Sun, Poor and Zhang (arXiv
# 2601.13602) applies once a flow grid is written in $\rho$ (docs/theory/flow.md). This notebook
# derives the dictionary, finds the optimal shift $s^\star(N)$ for a spectrum, and sets it beside
# the shift rules of SD3, Flux and Flux.2 (docs/theory/flow_resolution.md).

# %%
import math

import numpy as np
import sympy as sp
from IPython.display import Math, display

from symsched.flow import derive, resolution, rules, shift
from symsched.gaussian import exact
from symsched.symbols import latex

# derived expressions display as LaTeX in the notation of the docs
sp.init_printing(use_latex="mathjax", latex_printer=latex)

# %% [markdown]
# ## 1. The dictionary, derived
# Euler on the velocity ODE in $t$ is the DDIM step in $\rho$ for any denoiser (the difference
# simplifies to 0); Heun in $t$ is not Heun in $\rho$; SD3's shift multiplies $\rho$ by $s$ and the
# exponential time shift maps it to $e^\mu\rho^\sigma$.

# %%
rho, s, mu, sig = sp.symbols("rho s mu sigma", positive=True)
for label, expr in (
    (r"\text{Euler in } t - \text{DDIM in } \rho", derive.euler_flow_minus_ddim()),
    (r"\text{Heun in } t - \text{Heun in } \rho", derive.heun_flow_minus_heun_rho()),
    (r"\text{SD3 shift: } \rho(t')", derive.linear_shift_rho()),
    (r"\text{exponential time shift: } \rho(t')", derive.exponential_shift_rho()),
):
    display(Math(f"{label} = {latex(expr)}"))
assert derive.euler_flow_minus_ddim() == 0
assert sp.simplify(derive.linear_shift_rho() - s * rho) == 0
assert sp.simplify(derive.exponential_shift_rho() - sp.exp(mu) * rho**sig) == 0

# %% [markdown]
# ## 2. The optimal shift and its certificate
# On the 8 x 8 digits spectrum (pixel scale [-1, 1]), the exact KL(data || output) of flow Euler
# on N uniform steps shifted by $s$, as a function of $\ln s$, and its minimiser.

# %%
from symsched.datasets import dataset_spectrum

lam = dataset_spectrum("digits")
opt = shift.optimal_shift(lam, 10)
print(
    f"N = 10: s* = {opt.shift:.5f}, KL = {opt.value:.5f}, dKL/dln s = {opt.gradient:.1e}, "
    f"curvature = {opt.curvature:.3f}, scan's best {opt.scan_best:.4f}"
)
for factor in (0.5, 2.0):
    worse = exact.kl(lam, shift.shifted_uniform_grid(10, opt.shift * factor)).kl_source_output
    print(f"  s = {factor:g} s*: KL = {worse:.5f}")
    assert worse > opt.value
assert opt.curvature > 0 and abs(opt.gradient) < 1e-8

# %% [markdown]
# ## 3. $s^\star$ against N, its limit, and what the one-parameter family loses
# The leading $N^{-2}$ coefficient of the KL has the closed form $\sum_i J_i^2/4$ with
# $J(a)=1+\frac\pi4(a+1/a)$, $a=s/\sqrt{\lambda_i}$; its minimiser is the limit of $s^\star(N)$.

# %%
sweep = shift.optimal_shifts(lam, range(4, 65))
s_inf = shift.limit_shift(lam)
for o in sweep[::12]:
    gap_n = abs(math.log(o.shift / s_inf))
    print(f"N = {o.steps:3d}: s* = {o.shift:.5f}  |ln s*/s_inf| = {gap_n:.2e}")
gaps = [abs(math.log(o.shift / s_inf)) for o in sweep]
assert gaps[-1] < gaps[0] / 20  # s*(N) converges to the limit shift
gap = shift.family_gap(lam, 10)
print(f"N = 10: KL of s* / KL of the unrestricted optimum = {gap.ratio:.4f}")
assert 1.0 - 1e-9 <= gap.ratio < 1.5
free = shift.optimal_exponential_shift(lam, 10)  # the exponent every pipeline fixes at 1, freed
print(f"best exponent {free.exponent:.3f}: KL {free.value:.4f} (s*: {opt.value:.4f})")
assert gap.unrestricted_value <= free.value < opt.value

# %% [markdown]
# ## 4. Resolution and the published rules
# The photograph proxy of a latent grid of side $L=R/8$, normalised to unit variance, at three
# resolutions and N = 28 (the full comparison is the claim `flow.published-rules`).

# %%
table = resolution.compare_resolution((256, 512, 1024), (28,))
print(resolution.markdown_table(table))
for r in table.rows:
    assert all(r.rules[k].kl_ratio > 1 for k in table.rules)  # no rule beats the certified s*
print("flux mu at 1024^2:", rules.RULES["flux"].mu(1024, 28))
assert abs(rules.RULES["flux"].mu(1024, 28) - 1.15) < 1e-12
assert all(np.diff([r.shift for r in table.rows]) > 0)  # s* grows with R, but slowly
