"""``symsched derive TOPIC --latex`` prints valid LaTeX in the notation of the docs: every equation
converts to MathML, every title's math too, and no ASCII spelling of a symbol (``lam``, ``xbar``,
``\\alpha_{bar a}``, ``tr_{\\Sigma inv}``, ``sqrt(``) is left."""

from __future__ import annotations

import re

import pytest
import sympy as sp
from cli_helpers import run
from latex_helpers import ascii_names

from symsched.cli._derive import TOPICS
from symsched.symbols import LATEX_NAMES, lam, latex, u
from symsched_verify.mathml import latex_to_mathml, render_math

STEP = re.compile(r"% \[(\d+)\] (.+)\n((?:(?!% \[).+\n?)+)")


def derive_latex(capsys: pytest.CaptureFixture[str], topic: str) -> list[tuple[int, str, str]]:
    code, out, err = run(capsys, "derive", topic, "--latex")
    assert code == 0 and err == "", err
    steps = [(int(i), title, body.strip()) for i, title, body in STEP.findall(out)]
    # nothing outside the steps: comment line, equation, blank line
    assert "".join(f"% [{i}] {t}\n{b}\n" for i, t, b in steps) == out.replace("\n\n", "\n")
    return steps


@pytest.mark.parametrize("topic", TOPICS)
def test_every_step_is_latex_that_converts_to_mathml(
    capsys: pytest.CaptureFixture[str], topic: str
) -> None:
    steps = derive_latex(capsys, topic)
    assert [i for i, _, _ in steps] == list(range(1, len(steps) + 1)) and len(steps) >= 5
    for i, title, body in steps:
        assert "\n" not in body, (i, body)  # one equation per step
        assert "<math" in latex_to_mathml(body, display=True)
        render_math(title)  # the title's $...$ math converts too (raises MathError otherwise)
        assert ascii_names(title + "\n" + body) == [], (i, title, body)
        assert "object at 0x" not in body and "Eq(" not in body and "Symbol(" not in body


def test_expected_snippets(capsys: pytest.CaptureFixture[str]) -> None:
    gaussian = {i: b for i, _, b in derive_latex(capsys, "gaussian")}
    assert gaussian[1].startswith(r"p_{\rho}(\bar{x}) = \frac{\sqrt{2} e^{- \frac{\bar{x}^{2}}")
    assert gaussian[2] == r"D = \frac{\lambda \bar{x}}{\lambda + \rho^{2}}"
    assert gaussian[3] == r"g = \frac{a b + \lambda}{a^{2} + \lambda}"
    assert r"\sqrt{\bar{\alpha}_{a}} \sqrt{\bar{\alpha}_{b}} \lambda" in gaussian[5]
    assert gaussian[11].startswith(r"\operatorname{KL}(\text{target}\,\|\,\text{output}) = ")
    tangent = {i: b for i, _, b in derive_latex(capsys, "tangent")}
    assert tangent[2] == (
        r"\rho(u) = s \tan{\left(\pi \left(\frac{1}{2} - \frac{u}{2}\right) \right)}"
    )
    assert tangent[6] == (
        r"\gamma^{\star} = \frac{\sqrt[4]{\operatorname{tr}(\Sigma)}}"
        r"{\sqrt[4]{\operatorname{tr}(\Sigma^{-1})}}"
    )


def test_pretty_output_keeps_its_titles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "derive", "gaussian")
    assert code == 0 and out.startswith("[1] Marginal at noise level rho")


def test_latex_names_every_symbol_once_and_keeps_sympy_settings() -> None:
    # one table; the Symbols keep their names (only the printing changes)
    assert lam.name == "lam" and latex(lam) == LATEX_NAMES["lam"] == r"\lambda"
    assert latex(lam, symbol_names={lam: "L"}) == "L"
    assert latex(sp.log(lam)) == r"\ln{\left(\lambda \right)}"
    assert latex(sp.log(lam), ln_notation=False) == r"\log{\left(\lambda \right)}"
    # tuples and undefined functions
    assert latex((lam, sp.Function("phi")(u))) == (
        r"\left( \lambda, \  \varphi{\left(u \right)}\right)"
    )
    assert latex(sp.Symbol("tr_Sigma_inv")) == r"\operatorname{tr}(\Sigma^{-1})"
    for name, tex in LATEX_NAMES.items():
        assert "<math" in latex_to_mathml(tex), name
