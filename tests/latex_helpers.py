"""What LaTeX printed by symsched must not contain: the ASCII spellings of the project's symbols
(``lam``, ``xbar``, ``alpha_bar`` ...) or SymPy's renderings of them (``\\alpha_{bar a}``,
``tr_{\\Sigma inv}``, ``p_{rho(xbar)}``), as printed before :func:`symsched.symbols.latex`.

``tests/`` is on ``sys.path`` under pytest, so test modules import this as ``latex_helpers``.
"""

from __future__ import annotations

import re

#: one pattern per ASCII spelling; a LaTeX command that contains it (``\lambda``, ``\rho(``) is not
#: a match
ASCII_NAMES = re.compile(
    r"(?<![\\A-Za-z])lam(?![a-z])|xbar|alpha_bar|\bbar [ab]\b|(?<![\\A-Za-z])rho\(|Sigma inv"
    r"|sqrt\(|\btr_|\bKL_|\bVar_|gamma\*|\br\*|_\{exact\}|(?<![\\A-Za-z])phi(?![a-z])"
)


def ascii_names(tex: str) -> list[str]:
    """The ASCII spellings of symbols in ``tex`` (none in LaTeX of the project's notation)."""
    return [m.group(0) for m in ASCII_NAMES.finditer(tex)]
