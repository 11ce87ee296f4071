"""Every claim's formula renders to MathML, most claims state one, and the statements (and the
measured values of a few fast claims) are sentences without ASCII math."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pytest
from claim_prose import ascii_math, lab_notes

from symsched_verify.mathml import MathError, latex_to_mathml, render_math
from symsched_verify.registry import Budget, load_claims
from symsched_verify.tex import tex_number

CLAIMS = load_claims()
WITH_MATH = sorted(cid for cid, c in CLAIMS.items() if c.math.strip())

#: A claim that is not about a formula may leave ``math`` empty; today all 73 state one (the
#: conformance and file-format claims give the compared quantity), and at least 95% must.
MIN_MATH_FRACTION = 0.95

#: Quick claims (a few seconds each) whose measured sentences are checked here; test_claims.py
#: checks every claim's when it runs them all.
FAST = (
    "gaussian.ddim-gain-derived",
    "gaussian.angle-identity",
    "gaussian.check-values",
    "tangent.J-closed-form",
    "stein.closed-forms-symbolic",
    "variational.euler-lagrange",
)


def _backslash_text(mathml: str) -> list[str]:
    """The text nodes of ``mathml`` that still hold a backslash (LaTeX it did not convert)."""
    return re.findall(r">([^<]*\\[^<]*)<", mathml)


def test_most_claims_state_their_formula() -> None:
    fraction = len(WITH_MATH) / len(CLAIMS)
    assert fraction >= MIN_MATH_FRACTION, sorted(set(CLAIMS) - set(WITH_MATH))


@pytest.mark.parametrize("claim_id", WITH_MATH)
def test_claim_math_renders(claim_id: str) -> None:
    tex = CLAIMS[claim_id].math
    assert "$" not in tex, "math is display LaTeX without surrounding dollars"
    # 1e-09 typesets as "1 e - 09": numbers go through symsched_verify.tex.tex_number
    assert not re.search(r"\d[eE][-+]?\d", tex), f"{claim_id}: a float in e-notation in {tex!r}"
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):  # \{ and \} are literal braces
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, f"unbalanced braces in {tex!r}"
    assert depth == 0, f"unbalanced braces in {tex!r}"
    mathml = latex_to_mathml(tex, display=True)
    # latex2mathml passes an unknown command through as text (<mi>\foo</mi>) instead of raising,
    # and shows escapes such as \_ inside \text{} literally: no text node may keep a backslash
    unknown = _backslash_text(mathml)
    assert not unknown, f"{claim_id}: latex2mathml does not know {unknown}"


def test_an_unknown_formula_is_caught() -> None:
    # negative controls of the two checks above
    with pytest.raises(MathError):
        latex_to_mathml(r"\left(x", display=True)
    assert _backslash_text(latex_to_mathml(r"\notacommand x", display=True))
    assert _backslash_text(latex_to_mathml(r"\text{get\_sigmas}", display=True))


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_statement_is_a_sentence_in_notation(claim_id: str) -> None:
    text = CLAIMS[claim_id].statement
    assert text[:1].isupper() or text[:1] in "$`0123456789", (
        f"{claim_id}: {text!r} starts lowercase"
    )
    assert text.rstrip().endswith("."), f"{claim_id}: {text!r} is not a full sentence"
    assert ascii_math(text) == [], f"{claim_id}: ASCII math {ascii_math(text)} in {text!r}"
    render_math(text)  # its inline $...$ math converts


def test_tex_number() -> None:
    assert [tex_number(x) for x in (1e-9, 2.5e-12, 0.05, 64, 1e20)] == [
        "10^{-9}",
        "2.5\\cdot10^{-12}",
        "0.05",
        "64",
        "10^{20}",
    ]


def test_prose_checks_can_fail() -> None:
    assert ascii_math("r = cos^(2N)(pi/2N) for lam <= 1")
    assert ascii_math("sqrt(lam) * alpha_bar**2")
    assert ascii_math("at beta = 2, gamma* +- 0.1")
    assert ascii_math(r"$\lambda$, $\bar\alpha$ and $\rho(u)$ in words") == []
    assert lab_notes("J integrand True; ok") == ["True", "ok"]


@pytest.mark.parametrize("claim_id", FAST)
def test_measured_is_prose(claim_id: str) -> None:
    out = CLAIMS[claim_id].check(Budget(profile="quick"))
    for fig in out.figures.values():
        plt.close(fig)
    text = out.measured
    assert (text[:1].isupper() or text[:1].isdigit()) and text.rstrip().endswith("."), text
    assert ascii_math(text) == [] and lab_notes(text) == [], text
    assert re.search(r"\d", text), f"{claim_id}: the measured sentence states no number: {text!r}"
    render_math(text)
