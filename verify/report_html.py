r"""``report.html``: the verification report as one self-contained page.

One section per claim (statement, source, method, tolerance, measured value, details, plots);
figures are embedded as base64 PNG ``data:`` URIs and the styles are inline, so the page loads no
external asset. A small inline script marks the page as rendered and counts decoded images
(``data-rendered``, ``data-images-ok``), which the headless-browser test reads back.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from symsched._json import json_safe

__all__ = ["render_html"]

_CSS = (
    "\n"
    "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;margin:2em "
    "auto;padding:0 1em;color:#222}\n"
    "table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid "
    "#ccc;padding:.3em .5em;text-align:left;vertical-align:top}\n"
    ".PASS{color:#17752d;font-weight:bold}.FAIL,.ERROR{color:#b00020;font-weight:bold}\n"
    "section{border-top:2px solid #ddd;margin-top:2em;padding-top:.5em}"
    "dt{font-weight:bold;margin-top:.4em}\n"
    "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.8em;max-height:24em}"
    "img{max-width:100%}\n"
    ".meta{color:#555;font-size:.9em}\n"
)

_SCRIPT = (
    "\n"
    "window.addEventListener('load', function () {\n"
    "  var imgs = document.querySelectorAll('img'), ok = 0;\n"
    "  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > "
    "0) ok++; }\n"
    "  document.body.setAttribute('data-images-ok', String(ok));\n"
    "  document.body.setAttribute('data-images', String(imgs.length));\n"
    "  document.body.setAttribute('data-sections', "
    "String(document.querySelectorAll('section.claim').length));\n"
    "  document.body.setAttribute('data-rendered', 'ok');\n"
    "});\n"
)


def _anchor(claim_id: str) -> str:
    return "claim-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in claim_id)


def render_html(results: list[Any], meta: dict[str, Any]) -> str:
    """The report page for ``results`` (:class:`symsched_verify.run.ClaimResult`) and provenance
    ``meta``."""
    e = html.escape
    n_pass = sum(r.status == "PASS" for r in results)
    rows = "".join(
        f'<tr><td><a href="#{_anchor(r.claim.id)}">{e(r.claim.id)}</a></td>'
        f'<td class="{r.status}">{r.status}</td><td>{e(r.outcome.measured)}</td></tr>'
        for r in results
    )
    sections = []
    for r in results:
        c = r.claim
        parts = [
            f'<section class="claim" id="{_anchor(c.id)}" data-claim="{e(c.id)}">',
            f'<h2>{e(c.id)} <span class="{r.status}">{r.status}</span></h2>',
            f"<p>{e(c.statement)}</p><dl>",
            f"<dt>Source</dt><dd>{e(c.source)}</dd>",
            f"<dt>Method (oracle)</dt><dd>{e(c.method)}</dd>",
            f"<dt>Tolerance</dt><dd>{e(c.tolerance)}</dd>",
            f"<dt>Measured</dt><dd>{e(r.outcome.measured)}</dd>",
            f'<dt>Docs</dt><dd><a class="docs" href="{e(c.docs)}">{e(c.docs)}</a></dd></dl>',
        ]
        table = (r.outcome.details or {}).get("markdown")
        if isinstance(table, str):
            parts.append(f"<pre>{e(table)}</pre>")
        rest = {k: v for k, v in (r.outcome.details or {}).items() if k != "markdown"}
        if rest:
            text = json.dumps(json_safe(rest), indent=1)[:6000]
            parts.append(f"<details><summary>details</summary><pre>{e(text)}</pre></details>")
        if r.error:
            parts.append(f"<pre>{e(r.error)}</pre>")
        for name, png in (r.pngs or {}).items():
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<figure><img alt="{e(c.id)} {e(name)}" src="data:image/png;base64,{b64}">'
                f"<figcaption>{e(name)}</figcaption></figure>"
            )
        parts.append("</section>")
        sections.append("".join(parts))
    head = (
        f"symsched {e(str(meta['version']))} · profile {e(str(meta['profile']))} · seed "
        f"{e(str(meta['seed']))}"
        f" · command <code>{e(str(meta['command']))}</code> · inputs sha256 "
        f"<code>{e(meta['inputs_sha256'])}</code>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="symsched-inputs-sha256" content="{e(meta["inputs_sha256"])}">'
        '<link rel="icon" href="data:,">'
        f"<title>symsched verification report</title><style>{_CSS}</style></head><body>"
        f'<h1>symsched verification report</h1><p class="meta">{head}</p>'
        f"<p><strong>{n_pass} of {len(results)} claims pass.</strong></p>"
        f"<table><thead><tr><th>claim</th><th>status</th><th>measured</th></tr></thead><tbody>{rows}"
        f"</tbody></table>{''.join(sections)}<script>{_SCRIPT}</script></body></html>\n"
    )
