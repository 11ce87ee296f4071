r"""SymPy symbols of the high-dimensional models; names equal Python names.

Notation of docs/theory/highdim.md [aranguri2025].
"""

from __future__ import annotations

import sympy as sp

tau = sp.Symbol("tau", nonnegative=True)  # interpolant time tau in [0, 1]
c = sp.Symbol("c", positive=True)  # noise scale: 1 (VP) or sqrt(d) (VE)
m = sp.Symbol("m", positive=True)  # GM mode offset per coordinate (mean +-m 1); CW magnetisation
sigma = sp.Symbol("sigma", positive=True)  # GM per-mode standard deviation ("mode sigma")
h = sp.Symbol("h", real=True)  # h = (1/2) log(p / (1 - p))
p = sp.Symbol("p", positive=True)  # weight of the + mode
d = sp.Symbol("d", positive=True)  # dimension
S = sp.Symbol("S", real=True)  # projection 1 . x
Q = sp.Symbol("Q", nonnegative=True)  # squared norm |x|^2
s = sp.Symbol("s", real=True)  # mode sign, +-1
rho = sp.Symbol(
    "rho", positive=True
)  # noise level c (1 - tau) / tau (docs/conventions.md#noise-level)
y = sp.Symbol("y", real=True)  # CW local field y_i = tau x_i / (c^2 alpha^2)
beta = sp.Symbol("beta", positive=True)  # CW inverse temperature
lam = sp.Symbol("lam", real=True)  # Hubbard-Stratonovich variable
