r"""SymPy symbols of the project, with assumptions; each Symbol's name equals its Python name.

Notation follows docs/conventions.md#noise-level and docs/theory/gaussian.md#setting
[sun2026, §2]: ``lam`` is an eigenvalue :math:`\lambda` of the source covariance, ``rho`` a noise
level :math:`\rho=\sigma/\alpha`,
``a -> b`` one sampler step between noise levels, ``alpha_bar`` the VP signal fraction
:math:`\bar\alpha=\alpha^2`, ``u`` the sampling progress in [0, 1] and ``t`` diffusion time.

Printing: :func:`latex` is ``sympy.latex`` in the notation of the docs, through :data:`LATEX_NAMES`,
the one table from a name (of a Symbol, here or anywhere in symsched, or of an undefined function)
to its LaTeX: ``lam`` prints as :math:`\lambda`, ``alpha_bar_a`` as :math:`\bar\alpha_a`, the
label ``p_rho(xbar)`` of a derivation step as :math:`p_\rho(\bar x)`. Only the printing changes:
every Symbol keeps its name. ``symsched derive --latex`` and the notebooks
(``sympy.init_printing(latex_printer=latex)``) print through it.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

__all__ = [
    "LATEX_NAMES",
    "N",
    "a",
    "alpha_bar",
    "alpha_bar_a",
    "alpha_bar_b",
    "b",
    "c",
    "gamma",
    "lam",
    "latex",
    "r",
    "rho",
    "s",
    "sigma_max",
    "sigma_min",
    "t",
    "u",
    "x",
    "xbar",
]

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

_KL_TARGET_OUTPUT = r"\operatorname{KL}(\text{target}\,\|\,\text{output})"
_KL_OUTPUT_TARGET = r"\operatorname{KL}(\text{output}\,\|\,\text{target})"

#: LaTeX of a Symbol or undefined-function name, where SymPy's own rendering of the name is not the
#: notation of the docs (``lam`` would print as ``lam``, ``alpha_bar_a`` as ``\alpha_{bar a}``,
#: ``tr_Sigma_inv`` as ``tr_{\Sigma inv}``). Keyed by name, so that a Symbol made anywhere with
#: that name (whatever its assumptions) prints the same; names not listed print as SymPy prints
#: them (``rho`` -> ``\rho``, ``sigma_N`` -> ``\sigma_{N}``, ``c_k`` -> ``c_{k}``).
LATEX_NAMES: dict[str, str] = {
    # symsched.symbols
    "lam": r"\lambda",
    "xbar": r"\bar{x}",
    "alpha_bar": r"\bar{\alpha}",
    "alpha_bar_a": r"\bar{\alpha}_{a}",
    "alpha_bar_b": r"\bar{\alpha}_{b}",
    "sigma_min": r"\sigma_{\min}",
    "sigma_max": r"\sigma_{\max}",
    # labels of the derivation steps (symsched.gaussian.derive, .tangent, .asymptotics)
    "p_rho(xbar)": r"p_{\rho}(\bar{x})",
    "g_exact": r"g_{\mathrm{exact}}",
    "Var_0": r"\operatorname{Var}_{0}",
    "Var_1": r"\operatorname{Var}_{1}",
    "residual": r"\text{residual}",
    "KL": r"\operatorname{KL}",
    "KL_so": _KL_TARGET_OUTPUT,
    "KL_os": _KL_OUTPUT_TARGET,
    "rho(u)": r"\rho(u)",
    "r*": r"r^{\star}",
    "gamma*": r"\gamma^{\star}",
    "J_i^2": r"J_{i}^{2}",
    "tr_Sigma": r"\operatorname{tr}(\Sigma)",
    "tr_Sigma_inv": r"\operatorname{tr}(\Sigma^{-1})",
    "phi": r"\varphi",
    "phi_max": r"\varphi_{\max}",
    "phi_min": r"\varphi_{\min}",
    # derivatives of phi, braced so that a power reads (phi')^2: {\varphi'}^{2}
    "phi1": r"{\varphi'}",
    "phi2": r"{\varphi''}",
    "phi3": r"{\varphi'''}",
    "phi4": r"\varphi^{(4)}",
    "phi5": r"\varphi^{(5)}",
    "phi'": r"{\varphi'}",
    "phi''": r"{\varphi''}",
    "phi'''": r"{\varphi'''}",
    "2 ln cos dphi": r"2\ln\cos\Delta\varphi",
    "ln r": r"\ln r",
    "rho_value": r"\rho",
    # schedule families, flow, samplers, Stein and high-dimensional models
    "karras_rho": r"\rho_{\mathrm{EDM}}",
    "beta_min": r"\beta_{\min}",
    "beta_max": r"\beta_{\max}",
    "s_offset": r"s",
    "t_min": r"t_{\min}",
    "t_max": r"t_{\max}",
    "level": r"\rho",
    "flow_shift": r"s",
    "a_prev": r"a_{\mathrm{prev}}",
    "x_prev": r"x_{\mathrm{prev}}",
    "log_a": r"\log a",
    "log_b": r"\log b",
    "log_ab": r"\log(a b)",
    "log_lam": r"\log\lambda",
    "log_d": r"\log d",
    "log_u": r"\log u",
    "c_iso": r"c",
    "dim": r"d",
    "xs": r"x_{i}",
    "al": r"\alpha",
}


class _ProjectLatexPrinter(LatexPrinter):  # type: ignore[misc]  # sympy ships no types
    """SymPy's LaTeX printer, with the names of :data:`LATEX_NAMES` (Symbols and functions)."""

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        tex = LATEX_NAMES.get(expr.name)
        if tex is None or style != "plain" or expr in self._settings["symbol_names"]:
            return str(super()._print_Symbol(expr, style=style))
        return tex

    def _hprint_Function(self, func: str) -> str:
        tex = LATEX_NAMES.get(func)
        return tex if tex is not None else str(super()._hprint_Function(func))


def latex(expr: Any, **settings: Any) -> str:
    r"""LaTeX of ``expr`` in the project's notation: ``sympy.latex`` with :data:`LATEX_NAMES`.

    Takes what ``sympy.latex`` takes (an expression, an equation, a matrix, a tuple or list of
    them) and its keyword settings (``symbol_names`` wins over the table); natural logarithms print
    as ``\ln`` (as in the docs) unless ``ln_notation=False``. Usable as
    ``sympy.init_printing(latex_printer=latex)``.

    >>> print(latex(sp.Eq(sp.Symbol("gamma*"), lam * sp.tan(u))))
    \gamma^{\star} = \lambda \tan{\left(u \right)}
    """
    settings.setdefault("ln_notation", True)
    return str(_ProjectLatexPrinter(settings).doprint(expr))
