r"""Griffe extension (mkdocstrings' ``extensions:``): the reST of the docstrings, as Markdown.

The package's docstrings are numpy-style, written with a few reST constructs that Markdown does not
know. Before mkdocstrings parses a docstring, this rewrites

* ``:func:`name```, ``:class:``, ``:mod:``, ``:data:``, ``:meth:``, ``:attr:``, ``:exc:`` (also
  ``~name`` and ``title <name>``): a cross-reference, a link where the object is documented in the
  API pages and plain code otherwise (an ``optional`` reference of mkdocs-autorefs);
* ``:math:`tex``` to ``\(tex\)`` and a ``.. math::`` directive to a ``$$ ... $$`` block, which
  pymdownx.arithmatex finds and the site's math hook typesets to MathML;
* `` `text <url>`_ `` links to Markdown links;
* a project docs reference ``docs/PAGE.md#anchor`` to a link to that page of the site (the API
  pages sit one folder below the site's root);
* a paragraph ending in ``::`` (a reST literal block follows) to one ending in ``:``.

``double backticks`` need nothing: they are a Markdown code span as they stand.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(func|class|mod|data|meth|attr|exc|obj|const):`([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_LINK = re.compile(r"`([^`<]+?)\s*<([^`>]+)>`__?")
_DOCS_REF = re.compile(r"(?<![\w/(\[])docs/([a-z0-9_/-]+)\.md(#[a-z0-9_-]+)?(?![\w/])")
_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")


def _math_blocks(text: str) -> str:
    """Each ``.. math::`` directive (content on its line and/or the indented lines below) as a
    ``$$`` display block at the directive's indentation, with blank lines around it."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m is None:
            out.append(lines[i])
            i += 1
            continue
        indent = m.group("indent")
        body = [m.group("first")] if m.group("first").strip() else []
        i += 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
        ):
            body.append(lines[i].strip())
            i += 1
        while body and not body[-1]:
            body.pop()
        formula = " ".join(part for part in body if part)
        if out and out[-1].strip():
            out.append("")
        out += [f"{indent}$$", f"{indent}{formula}", f"{indent}$$", ""]
    return "\n".join(out)


def rest_to_markdown(text: str, resolve: Any = None) -> str:
    """``text`` with the reST constructs listed in the module docstring rewritten to Markdown.

    ``resolve(name)`` gives the full dotted path of a role's target, or ``None``.
    """

    def role(m: re.Match[str]) -> str:
        content = m.group(2).strip()
        link = re.fullmatch(r"(.+?)\s*<(.+)>", content)
        if link is not None:
            title, target = link.group(1), link.group(2)
        else:
            target = content.lstrip("~")
            title = target.rsplit(".", 1)[-1] if content.startswith("~") else target
        target = target.removesuffix("()")
        full = (resolve(target) if resolve is not None else None) or target
        label = html.escape(title + ("()" if m.group(1) in ("func", "meth") else ""))
        return f'<autoref identifier="{html.escape(full)}" optional><code>{label}</code></autoref>'

    text = _math_blocks(text)
    text = _MATH_ROLE.sub(lambda m: f"\\({m.group(1)}\\)", text)
    text = _ROLE.sub(role, text)
    text = _LINK.sub(lambda m: f"[{m.group(1)}]({m.group(2)})", text)
    text = _DOCS_REF.sub(
        lambda m: f"[docs/{m.group(1)}.md{m.group(2) or ''}](../{m.group(1)}.md{m.group(2) or ''})",
        text,
    )
    return re.sub(r"(?<=\w)::$", ":", text, flags=re.M)


class RestToMarkdown(griffe.Extension):
    """Rewrite every docstring's reST to Markdown once the object tree is complete."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return

        def resolve(name: str) -> str | None:
            for scope in (obj, obj.parent):
                if scope is None:
                    continue
                try:
                    return str(scope.resolve(name))
                except Exception:  # griffe.NameResolutionError, or a name with dots
                    continue
            return name if name.startswith(("symsched.", "symsched_verify.")) else None

        obj.docstring.value = rest_to_markdown(obj.docstring.value, resolve)
