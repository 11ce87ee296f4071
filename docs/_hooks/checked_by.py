"""MkDocs hook: each page lists the verification claims that check it, from the claim registry.

Every registered claim (``symsched_verify.registry.load_claims``) names the page and the heading
that explain it (``Claim.docs``, a page under the repository's ``docs/`` folder plus a GitHub-style
anchor). For each page this hook

* puts a "Checked by" line right under each such heading, linking to the claims' rows, and
* appends a "Checked by" section: one row per claim with its id, its statement and a link back to
  the heading.

Nothing is copied by hand: a claim added, removed or moved to another heading changes the pages at
the next build. A claim whose heading is not on its page stops the build.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

from mkdocs.exceptions import PluginError
from pymdownx.slugs import slugify

_slug = slugify(case="lower")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ATTRS = re.compile(r"\s*\{[^}]*\}\s*$")
_ESCAPE = str.maketrans(
    {c: f"&#{ord(c)};" for c in "\\`*_[]$|<>&#"}  # Markdown, arithmatex and table syntax
)


_IN_TAGS = str.maketrans({c: f"&#{ord(c)};" for c in "\\`|"})


def escape(text: str) -> str:
    """``text`` as literal Markdown: every character that means something there as an entity."""
    return text.translate(_ESCAPE)


def statement_html(text: str) -> str:
    """A claim's statement (prose with ``$...$`` LaTeX, as the report shows it) as HTML that a
    Markdown table cell keeps as it is: the math as MathML, every Markdown or table character in
    the text and in the tags as an entity."""
    from symsched_verify.mathml import render_math

    parts = re.split(r"(<[^>]*>)", render_math(text, escape=True))
    prose = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]$|"})
    return "".join(p.translate(_IN_TAGS if p.startswith("<") else prose) for p in parts)


@functools.cache
def _claims_by_page() -> dict[str, list[Any]]:
    from symsched_verify.registry import load_claims

    pages: dict[str, list[Any]] = {}
    for c in load_claims().values():
        page, _, _anchor = c.docs.removeprefix("docs/").partition("#")
        pages.setdefault(page, []).append(c)
    return pages


def headings(markdown: str) -> list[tuple[int, str, str]]:
    """``(line index, anchor, text)`` of each heading outside code fences, anchors as the ``toc``
    extension makes them (its slugify; repeats get ``_1``, ``_2``, ...)."""
    found: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    fence: str | None = None
    for i, line in enumerate(markdown.splitlines()):
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        m = _HEADING.match(line)
        if m is None:
            continue
        text = m.group(2)
        explicit = re.search(r"\{[^}]*#([\w.-]+)[^}]*\}\s*$", text)
        text = _ATTRS.sub("", text)
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "")
        anchor = explicit.group(1) if explicit else _slug(html.escape(plain), "-")
        base, n = anchor, 0
        while anchor in seen:
            n += 1
            anchor = f"{base}_{n}"
        seen.add(anchor)
        found.append((i, anchor, text))
    return found


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    claims = _claims_by_page().get(page.file.src_uri, [])
    if not claims:
        return markdown
    heads = {anchor: (i, text) for i, anchor, text in headings(markdown)}
    by_anchor: dict[str, list[Any]] = {}
    for c in claims:
        anchor = c.docs.partition("#")[2]
        if anchor not in heads:
            raise PluginError(
                f"claim {c.id}: {c.docs} names a heading that {page.file.src_uri} does not have"
            )
        by_anchor.setdefault(anchor, []).append(c)

    lines = markdown.splitlines()
    # under each heading, bottom first so the line numbers above stay valid
    for anchor, group in sorted(by_anchor.items(), key=lambda kv: -heads[kv[0]][0]):
        refs = ", ".join(f"[`{c.id}`](#claim-{c.id})" for c in sorted(group, key=lambda c: c.id))
        lines[heads[anchor][0] + 1 : heads[anchor][0] + 1] = [
            "",
            f"**Checked by** {refs}",
            "{: .checked-by-line }",
            "",
        ]
    rows = [
        "",
        "## Checked by {#checked-by}",
        "",
        f"The claims of the verification layer that check this page ({len(claims)}), generated "
        "from the claim registry: `symsched verify --only ID` runs one of them "
        "([verification](" + "../" * page.file.src_uri.count("/") + "verification.md)).",
        "",
        "| claim | statement | explained under |",
        "|---|---|---|",
    ]
    for c in sorted(claims, key=lambda c: c.id):
        anchor = c.docs.partition("#")[2]
        title = _ATTRS.sub("", heads[anchor][1])
        cell = f'<span id="claim-{html.escape(c.id)}"></span>`{c.id}`'
        try:
            statement = statement_html(c.statement)
        except ValueError as exc:  # symsched_verify.mathml.MathError: a formula that fails
            raise PluginError(f"claim {c.id}: {exc}") from exc
        rows.append(f"| {cell} | {statement} | [{escape(title.replace('`', ''))}](#{anchor}) |")
    return "\n".join(lines + rows) + "\n"
