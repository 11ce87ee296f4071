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
# # 02 — Euler–Maclaurin asymptotics and the three optima
#
# Sun, Poor, Zhang (arXiv 2601.13602, §5) expand the exact KL of the deterministic sampler in the
# number of steps $N$ and optimise its dominant term. This notebook
#
# 1. re-derives $\ln r_i=-J_i/N-K_i/N^3+O(N^{-5})$ with SymPy (midpoint Euler–Maclaurin; the
#    $N^{-3}$ boundary terms cancel exactly),
# 2. shows $N^2\,\mathrm{KL}$ converging to $\tfrac14\sum_iJ_i^2$ on the digits spectrum,
# 3. puts the three optima side by side: (a) tangent $\gamma^\star$, (b) the self-consistent
#    weighted geodesic, (c) the exact finite-$N$ optimum (`kl-optimal`),
#
# and ends with asserts.

# %%

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, display

import symsched
from symsched.datasets import dataset_spectrum
from symsched.gaussian import asymptotics, tangent, variational
from symsched.schedules import families
from symsched.symbols import N, latex

# derived expressions display as LaTeX in the notation of the docs
sp.init_printing(use_latex="mathjax", latex_printer=latex)

# %% [markdown]
# ## 1. The derivation

# %%
for step in asymptotics.derivation()[:5]:
    print(step.title)
    display(step.expr)
em = asymptotics.log_ratio_expansion()
kls = asymptotics.kl_expansion()
J, K, B = sp.symbols("J K B", real=True)
# KL(p || p^) in powers of 1/N (in that order), from the exact start (B = 0)
kl_terms = [kls["kl_source_output"][p].subs(B, 0) / N**p for p in (2, 3, 4)]
kl_series = sp.Add(*kl_terms, evaluate=False)
kl_tex = latex(kl_series, order="none")
display(Math(rf"\operatorname{{KL}}(p\,\|\,\hat p) = {kl_tex} + O(N^{{-5}})"))

# %% [markdown]
# ## 2. $N^2\,\mathrm{KL}$ converges to its limit
# The tangent family with $\gamma^\star$ has closed-form $J_i, K_i$; Karras $\rho=7$ uses
# quadrature.

# %%
lam = dataset_spectrum("digits")
fams = {
    "tangent gamma*": families.tangent(tangent.gamma_star(lam), 0.002, 80.0),
    "karras rho=7": families.karras(0.002, 80.0, 7.0),
}
ns = np.array([10, 20, 40, 80, 160, 320, 640])
fig, ax = plt.subplots(figsize=(6, 4))
limits, remainders = {}, {}
for name, fam in fams.items():
    co = asymptotics.coefficients(lam, fam)
    limits[name] = co.kl_source_output[2]
    n2kl = np.array([n * n * symsched.kl(lam, fam.grid(int(n))).kl_source_output for n in ns])
    remainders[name] = np.array(
        [
            abs(
                symsched.kl(lam, fam.grid(int(n))).kl_source_output
                - asymptotics.predicted_kl(co, int(n), 4)
            )
            for n in ns
        ]
    )
    ax.semilogx(ns, n2kl, "o-", label=f"{name}: N^2 KL")
    ax.axhline(
        limits[name],
        ls="--",
        color=ax.lines[-1].get_color(),
        label=f"{name}: sum J^2/4 = {limits[name]:.1f}",
    )
ax.set_xlabel("N")
ax.set_ylabel("N^2 KL(p||p^)")
ax.legend(fontsize=7)
ax.set_title("digits spectrum, EDM range")
slopes = {k: float(np.polyfit(np.log(ns[3:]), np.log(v[3:]), 1)[0]) for k, v in remainders.items()}
print("log-log slope of |KL - expansion to N^-4| (predicted -5):", slopes)

# %% [markdown]
# ## 3. The three optima side by side

# %%
lo, hi = 0.002, 80.0
geo = variational.geodesic(lam, lo, hi)
print(f"geodesic fixed point: residual {geo.residual:.1e} after {geo.iterations} iterations")
table = []
for n in (5, 10, 20, 50):
    a_grid = tangent.tangent_sigmas(n, tangent.gamma_star(lam), lo, hi)
    b_grid = geo.grid(n)
    c = variational.kl_optimal(lam, n, lo, hi)
    ka, kb = symsched.kl(lam, a_grid).kl_source_output, symsched.kl(lam, b_grid).kl_source_output
    kk = symsched.kl(lam, families.karras(lo, hi, 7.0).grid(n)).kl_source_output
    table.append((n, c.kl, kb, ka, kk))
    print(
        f"N={n:3d}  (c) {c.kl:.4g}   (b) {kb:.4g} (+{100 * (kb / c.kl - 1):.2f}%)   (a) {ka:.4g} "
        f"(+{100 * (ka / kb - 1):.0f}% vs b)   karras {kk:.4g}"
    )
fig2, ax2 = plt.subplots(figsize=(6, 4))
n = 10
for name, g in (
    ("(a) tangent gamma*", tangent.tangent_sigmas(n, tangent.gamma_star(lam), lo, hi)),
    ("(b) geodesic", geo.grid(n)),
    ("(c) kl-optimal", variational.kl_optimal(lam, n, lo, hi).sigmas),
):
    ax2.semilogy(range(n + 1), g, "o-", label=name)
ax2.set_xlabel("k")
ax2.set_ylabel("sigma_k")
ax2.legend()
ax2.set_title("N = 10 grids on the digits spectrum")
plt.show()

# %% [markdown]
# ## Asserts: the claims this notebook illustrates

# %%
assert em.boundary_residual == 0
assert sp.simplify(kls["kl_source_output"][4].subs(B, 0) - (J * K / 2 + J**4 / 48)) == 0
for name in fams:
    n2 = 640**2 * symsched.kl(lam, fams[name].grid(640)).kl_source_output
    assert abs(n2 / limits[name] - 1) < 0.05, name
    assert abs(slopes[name] + 5) < 0.5, slopes
assert geo.residual <= 1e-10
for n, kc, kb, ka, kk in table:
    assert kc <= kb * (1 + 1e-9) and kb <= ka <= kk, n
print("all asserts passed")
