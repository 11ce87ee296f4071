r"""LaTeX to MathML at build time, so pages show typeset math with no script and no network.

The report (``report.html``) and the documentation site render every formula once, when they are
written, with `latex2mathml <https://pypi.org/project/latex2mathml/>`_; browsers lay MathML out
natively (MathML Core), so the pages stay self-contained. :func:`render_math` finds the math in a
piece of text: ``$$ … $$`` is display math, ``$ … $`` inline math (a ``$`` followed by a space or a
digit-and-space, as in "$5 ", is left alone), and ``\$`` is a literal dollar sign.
"""

from __future__ import annotations

import html
import re

__all__ = ["MathError", "latex_to_mathml", "render_math"]


class MathError(ValueError):
    """A formula latex2mathml cannot convert; the message quotes the formula."""


#: ``$$display$$`` first, then ``$inline$`` (Pandoc's rule: the content neither starts nor ends
#: with a space, holds no unescaped ``$``, and the closing ``$`` is not followed by a digit).
_MATH = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?![\s$])((?:\\\$|[^$])+?)(?<![\s\\])\$(?!\d)", re.S
)


def latex_to_mathml(tex: str, *, display: bool = False) -> str:
    """The MathML ``<math>`` element of the LaTeX formula ``tex``.

    Parameters
    ----------
    tex
        A formula, without surrounding ``$``.
    display
        Block (display) style when true, inline otherwise.

    Raises
    ------
    MathError
        When the formula does not parse.
    """
    from latex2mathml.converter import convert

    try:
        out = convert(tex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises assorted exceptions on bad input
        raise MathError(f"cannot render the formula {tex!r}: {exc}") from exc
    # the alttext lets screen readers, search and copy-paste see the source
    return out.replace("<math ", f'<math alttext="{html.escape(tex.strip())}" ', 1)


def render_math(text: str, *, escape: bool = True) -> str:
    r"""``text`` with each ``$…$`` / ``$$…$$`` replaced by MathML.

    Parameters
    ----------
    text
        Prose with LaTeX math between dollar signs.
    escape
        HTML-escape the prose between formulas (true for plain text; false when ``text`` is
        already HTML).
    """
    out: list[str] = []
    pos = 0
    for m in _MATH.finditer(text):
        prose = text[pos : m.start()]
        out.append(html.escape(prose, quote=False) if escape else prose)
        if m.group(1) is not None:
            out.append(latex_to_mathml(m.group(1), display=True))
        else:
            out.append(latex_to_mathml(m.group(2)))
        pos = m.end()
    tail = text[pos:]
    out.append(html.escape(tail, quote=False) if escape else tail)
    return "".join(out).replace("\\$", "$")
