r"""SymPy symbols of the project, with assumptions; each Symbol's name equals its Python name.

Notation follows docs/conventions.md#noise-level and docs/theory/gaussian.md#setting
[sun2026, §2]: ``lam`` is an eigenvalue :math:`\lambda` of the source covariance, ``rho`` a noise
level :math:`\rho=\sigma/\alpha`,
``a -> b`` one sampler step between noise levels, ``alpha_bar`` the VP signal fraction
:math:`\bar\alpha=\alpha^2`, ``u`` the sampling progress in [0, 1] and ``t`` diffusion time.
"""

from __future__ import annotations

import sympy as sp

lam = sp.Symbol("lam", positive=True)  # eigenvalue lambda_i
s = sp.Symbol("s", positive=True)  # sqrt(lambda)
rho = sp.Symbol("rho", nonnegative=True)  # noise level sigma/alpha
a = sp.Symbol("a", positive=True)  # noise level at the start of a step
b = sp.Symbol("b", nonnegative=True)  # noise level at the end of a step
alpha_bar = sp.Symbol("alpha_bar", positive=True)
alpha_bar_a = sp.Symbol("alpha_bar_a", positive=True)  # alpha_bar at the start of a step
alpha_bar_b = sp.Symbol("alpha_bar_b", positive=True)  # alpha_bar at the end of a step
x = sp.Symbol("x", real=True)  # VP state x_t
xbar = sp.Symbol("xbar", real=True)  # scaled state x / alpha
u = sp.Symbol("u", nonnegative=True)  # sampling progress in [0, 1]
t = sp.Symbol("t", nonnegative=True)  # diffusion time
c = sp.Symbol("c", positive=True)  # tangent-law coefficient
gamma = sp.Symbol("gamma", positive=True)  # tangent-family coefficient (gamma* for a spectrum)
sigma_min = sp.Symbol("sigma_min", nonnegative=True)
sigma_max = sp.Symbol("sigma_max", positive=True)
r = sp.Symbol("r", positive=True)  # variance ratio output / target
N = sp.Symbol("N", positive=True, integer=True)  # number of steps
