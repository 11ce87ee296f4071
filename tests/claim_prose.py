"""What the claims' prose may not contain: ASCII math, and in measured values bare flags.

``tests/`` is on ``sys.path`` under pytest, so ``tests/verify/test_claim_math.py`` and
``tests/verify/test_claims.py`` import these as ``from claim_prose import ...``. A statement or a
measured string is read by people (report, console table): symbols are written in LaTeX between
``$`` (``$\\lambda$``, ``$\\bar\\alpha$``, ``$\\le$``) or in words, never as code.
"""

from __future__ import annotations

import re

__all__ = ["ascii_math", "lab_notes"]

#: Code spellings of math, each with a name for the failure message. Greek names count only when
#: not LaTeX commands (no backslash before them).
_ASCII_MATH: dict[str, re.Pattern[str]] = {
    "lam": re.compile(r"(?<![\\\w])lam(?:_\w+)?\b"),
    "lambda": re.compile(r"(?<![\\\w])lambda\b"),
    "sqrt(": re.compile(r"(?<![\\\w])sqrt\s*\("),
    "**": re.compile(r"\*\*"),
    "alpha_bar": re.compile(r"alpha_bar|abar\b"),
    "greek_x / greek(": re.compile(
        r"(?<![\\\w])(?:alpha|beta|gamma|delta|eps|epsilon|eta|kappa|mu|phi|pi|rho|sigma|tau|theta)"
        r"(?:_\w|\^|\()"
    ),
    "pi/": re.compile(r"(?<![\\\w])pi\s*/"),
    "greek =": re.compile(
        r"(?<![\\\w])(?:alpha|beta|gamma|delta|eta|kappa|lambda|lam|mu|phi|rho|sigma|tau|theta)"
        r"\s*(?:=|<|>|\*)"
    ),
    "+-": re.compile(r"\+-|-\+"),
    "^(": re.compile(r"\w\^\("),
    "<= >= !=": re.compile(r"<=|>=|!="),
}

#: Lab-note tokens a measured sentence spells out instead.
_LAB_NOTES = re.compile(r"\b(?:True|False|None|ok|OK)\b")


#: Inline math, removed before looking for a caret in the prose around it.
_INLINE_MATH = re.compile(r"(?<!\\)\$[^$]*(?<!\\)\$")


def ascii_math(text: str) -> list[str]:
    """The names of the ASCII-math spellings found in ``text`` (empty when it has none)."""
    found = [name for name, pat in _ASCII_MATH.items() if pat.search(text)]
    if "^" in _INLINE_MATH.sub(" ", text):
        found.append("^ outside $...$")
    return found


def lab_notes(text: str) -> list[str]:
    """Bare ``True``/``False``/``None``/``ok`` tokens of a measured string."""
    return _LAB_NOTES.findall(text)
