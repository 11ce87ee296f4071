r"""MkDocs hook: every formula of a page typeset to MathML when the site is built.

``pymdownx.arithmatex`` (``generic: true``) finds the math in the Markdown, ``$...$`` / ``\(...\)``
inline and ``$$...$$`` / ``\[...\]`` displayed, and skips code spans and blocks; it leaves each
formula in a ``<span class="arithmatex">`` or ``<div class="arithmatex">``. This hook replaces each
of them by the ``<math>`` element that :func:`symsched_verify.mathml.latex_to_mathml` (latex2mathml)
makes of it, so the pages need no script and no network to show math: browsers lay MathML out
natively. The entries of the page's table of contents get the same treatment (a heading's formula
is there as text). A formula that does not convert stops the build with the page and the formula
named.
"""

from __future__ import annotations

import html
import re
from typing import Any

from mkdocs.exceptions import PluginError

from symsched_verify.mathml import latex_to_mathml

# arithmatex's generic output: the formula, HTML-escaped, between \( \) or \[ \] (or an
# environment such as \begin{aligned} ... \end{aligned} for display math)
_SPAN = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
_INLINE = re.compile(r"\A\\\((.*)\\\)\Z", re.S)
_DISPLAY = re.compile(r"\A\\\[(.*)\\\]\Z", re.S)
# the text of a heading with math, as the table of contents holds it (the formula's tags stripped)
_TOC_MATH = re.compile(r"\\\((.+?)\\\)", re.S)


def to_mathml(fragment: str, *, block: bool) -> str:
    """The MathML of one arithmatex element's content (HTML-escaped LaTeX with its delimiters)."""
    tex = html.unescape(fragment).strip()
    m = _INLINE.match(tex) or _DISPLAY.match(tex)
    if m is not None:
        display = tex.startswith("\\[")
        tex = m.group(1)
    else:  # a bare environment: display math
        display = True
    out = latex_to_mathml(tex, display=display or block)
    return f'<div class="math-display">{out}</div>' if block else out


def on_page_content(html_text: str, page: Any, **kwargs: Any) -> str:
    failures: list[str] = []

    def replace(m: re.Match[str]) -> str:
        try:
            return to_mathml(m.group(2), block=m.group(1) == "div")
        except ValueError as exc:
            failures.append(str(exc))
            return m.group(0)

    out = _SPAN.sub(replace, html_text)

    def toc(items: Any) -> None:  # a heading's entry in the page's table of contents
        for item in items:
            try:
                item.title = _TOC_MATH.sub(
                    lambda m: latex_to_mathml(html.unescape(m.group(1))), item.title
                )
            except ValueError as exc:
                failures.append(str(exc))
            toc(item.children)

    toc(page.toc)
    if failures:
        listed = "\n  ".join(failures)
        raise PluginError(f"{page.file.src_uri}: {len(failures)} formula(s) fail:\n  {listed}")
    return out
