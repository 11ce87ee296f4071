r"""``report.html``: the verification report as one self-contained page, findings first.

The page opens with what was verified and what it found (:mod:`symsched_verify.findings`: the
headline numbers of each paper and capability, with their figures), then the table of which
schedule to use for which model, sampler and step budget (linking the schedule files written
beside the report), then every claim grouped by paper and area (:mod:`symsched_verify.areas`):
statement, the claimed relation as typeset math, source, oracle, tolerance, the measured value
and the figures with their captions.

Formulas are rendered to MathML when the page is written (:mod:`symsched_verify.mathml`) and
figures are embedded as base64 PNG ``data:`` URIs; styles are inline, so the page loads no external
asset. A small inline script marks the page as rendered and counts decoded images
(``data-rendered``, ``data-images-ok``), which the headless-browser test reads back.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from symsched._json import json_safe
from symsched_verify.areas import group
from symsched_verify.findings import FindingText, ratio_text
from symsched_verify.mathml import latex_to_mathml, render_math
from symsched_verify.report_md import front_matter

__all__ = ["claim_anchor", "render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:1.5em auto;
padding:0 1em;color:#1d1d1f;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.88em;margin:.6em 0}
td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.PASS{color:#17752d;font-weight:bold}.FAIL,.ERROR{color:#b00020;font-weight:bold}
.verdict{font-size:1.15em;margin:.4em 0}.verdict.bad{color:#b00020}
.finding{border:1px solid #ddd;border-radius:6px;padding:.4em 1em .8em;margin:1em 0;
background:#fcfcfd}
.finding h3{margin:.4em 0}.finding ul{margin:.3em 0;padding-left:1.2em}
.finding .body{display:flex;flex-wrap:wrap;gap:1em}.finding .text{flex:1 1 26em}
.finding .figs{flex:1 1 30em}
.figs{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.figs figure{flex:1 1 30em;margin:0;max-width:100%}
figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85em;color:#444;margin-top:.2em}
.claim{border-top:1px solid #e3e3e3;margin-top:1.2em;padding-top:.3em}
.claim h5{margin:.3em 0;font-size:1em}h3{margin-top:1.4em}
.claim dl{display:grid;grid-template-columns:8.5em 1fr;gap:.15em .8em;margin:.4em 0}
.claim dt{font-weight:600;color:#444}.claim dd{margin:0}
.math{overflow-x:auto;margin:.4em 0}math{font-size:1.08em}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.8em;max-height:24em}
.meta{color:#555;font-size:.85em}.toc{font-size:.92em}.toc ul{margin:.2em 0}
.rec td.best{white-space:nowrap}.small{font-size:.8em;color:#555}
"""

_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img'), ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.body.setAttribute('data-images-ok', String(ok));
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-sections',
    String(document.querySelectorAll('section.claim').length));
  document.body.setAttribute('data-math', String(document.querySelectorAll('math').length));
  document.body.setAttribute('data-rendered', 'ok');
});
"""

e = html.escape


def claim_anchor(claim_id: str) -> str:
    """The HTML id of a claim's section."""
    return "claim-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in claim_id)


def _figure(claim_id: str, name: str, png: bytes, caption: str | None) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    text = render_math(caption) if caption else e(f"{claim_id}: {name}")
    return (
        f'<figure><img alt="{e(claim_id)} {e(name)}" src="data:image/png;base64,{b64}">'
        f"<figcaption>{text} <span class=small>(figure <code>{e(name)}</code> of "
        f'<a href="#{claim_anchor(claim_id)}">{e(claim_id)}</a>)</span></figcaption></figure>'
    )


def _findings_html(findings: list[FindingText], by_id: dict[str, Any]) -> str:
    out = []
    for f in findings:
        claims = " · ".join(
            f'<a href="#{claim_anchor(c)}">{e(c)}</a> <span class="{s}">{s}</span>'
            for c, s in f.statuses.items()
        )
        figs = "".join(
            _figure(c, k, by_id[c].pngs[k], by_id[c].outcome.captions.get(k)) for c, k in f.figures
        )
        items = "".join(f"<li>{render_math(s)}</li>" for s in f.sentences)
        out.append(
            f'<div class="finding" id="{e(f.finding.key)}"><h3>{e(f.finding.title)}</h3>'
            f'<div class="body"><div class="text"><ul>{items}</ul>'
            f'<p class="small">Measured by {claims}.</p></div>'
            f'<div class="figs">{figs}</div></div></div>'
        )
    return "".join(out)


def _recommend_html(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    steps = sorted({n for r in rows for n in r["cells"]})
    head = "".join(f"<th>N = {n}</th>" for n in steps)
    body = []
    for r in rows:
        cells = []
        for n in steps:
            c = r["cells"].get(n)
            if c is None:
                cells.append("<td>–</td>")
                continue
            cells.append(
                f'<td class="best"><a href="{e(c["file"])}">{e(c["method"])}</a><br>'
                f"<span class=small>{render_math(ratio_text(c['ratio']))} better than "
                f"{e(c['baseline'])}</span></td>"
            )
        body.append(f"<tr><td>{e(r['model'])}</td><td>{e(r['sampler'])}</td>{''.join(cells)}</tr>")
    return (
        '<h2 id="which-schedule">Which schedule for which model, sampler and step budget</h2>'
        "<p>The recommended grid for each model family (its Gaussian proxy spectrum) and sampler, "
        "ranked on that sampler's own criterion (coupling error of the deterministic samplers, "
        "KL of the stochastic one); each cell links the schedule file with its exports for "
        "diffusers, k-diffusion and ComfyUI, and gives how many times worse the best listed "
        "alternative is. Derivation: docs/theory/coupling.md#recommendations.</p>"
        f'<table class="rec"><thead><tr><th>model</th><th>sampler</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _claim_html(r: Any) -> str:
    c = r.claim
    parts = [
        f'<section class="claim" id="{claim_anchor(c.id)}" data-claim="{e(c.id)}">',
        f'<h5>{e(c.id)} <span class="{r.status}">{r.status}</span></h5>',
        f"<p>{render_math(c.statement)}</p>",
    ]
    if c.math:
        parts.append(f'<div class="math">{latex_to_mathml(c.math, display=True)}</div>')
    parts += [
        "<dl>",
        f"<dt>Source</dt><dd>{render_math(c.source)}</dd>",
        f"<dt>Oracle</dt><dd>{render_math(c.method)}</dd>",
        f"<dt>Tolerance</dt><dd>{render_math(c.tolerance)}</dd>",
        f"<dt>Measured</dt><dd>{render_math(r.outcome.measured)}</dd>",
        f'<dt>Docs</dt><dd><a class="docs" href="{e(c.docs)}">{e(c.docs)}</a></dd></dl>',
    ]
    table = (r.outcome.details or {}).get("markdown")
    if isinstance(table, str):
        parts.append(f"<details><summary>table</summary><pre>{e(table)}</pre></details>")
    rest = {k: v for k, v in (r.outcome.details or {}).items() if k != "markdown"}
    if rest:
        text = json.dumps(json_safe(rest), indent=1)[:6000]
        parts.append(f"<details><summary>measured values</summary><pre>{e(text)}</pre></details>")
    if r.error:
        parts.append(f"<pre>{e(r.error)}</pre>")
    figs = "".join(
        _figure(c.id, name, png, r.outcome.captions.get(name))
        for name, png in (r.pngs or {}).items()
    )
    if figs:
        parts.append(f'<div class="figs">{figs}</div>')
    parts.append("</section>")
    return "".join(parts)


def render_html(results: list[Any], meta: dict[str, Any]) -> str:
    """The report page for ``results`` (:class:`symsched_verify.run.ClaimResult`) and provenance
    ``meta``."""
    by_id = {r.claim.id: r for r in results}
    bad = [r for r in results if r.status != "PASS"]
    findings, left_out, rec = front_matter(results)
    groups = group(results, lambda r: r.claim.id)
    summary_rows = "".join(
        f'<tr><td><a href="#part-{e(p.key)}">{e(p.title)}</a></td><td>{e(p.source)}</td>'
        f"<td>{sum(r.status == 'PASS' for _, rs in areas for r in rs)} of "
        f"{sum(len(rs) for _, rs in areas)}</td></tr>"
        for p, areas in groups
    )
    verdict = (
        f'<p class="verdict">All {len(results)} claims pass.</p>'
        if not bad
        else f'<p class="verdict bad">{len(bad)} of {len(results)} claims do not pass: '
        + ", ".join(f'<a href="#{claim_anchor(r.claim.id)}">{e(r.claim.id)}</a>' for r in bad)
        + ".</p>"
    )
    n_parts = len(groups)
    intro = (
        f"<p>This run checked {len(results)} claims in {n_parts} parts (the three papers symsched "
        "verifies and the capabilities built on them) against oracles that do not share the "
        "derivation they check: Monte Carlo samplers, Gaussian-mixture and Curie–Weiss "
        "simulations, Stein-cost schedules of trained score networks, the installed diffusers and "
        "k-diffusion, and 40-digit mpmath sums. "
        + ("The findings below state what they measured; " if findings else "")
        + ('<a href="#which-schedule">which schedule to use</a> and ' if rec else "")
        + '<a href="#claims">every claim</a> follow.</p>'
    )
    left = (
        "<p class=small>Not run in this selection, so not stated: "
        + "; ".join(e(f.title) for f in left_out)
        + ".</p>"
        if left_out
        else ""
    )
    claims_html = []
    for p, areas in groups:
        claims_html.append(
            f'<h3 id="part-{e(p.key)}">{e(p.title)}</h3><p class="meta">{e(p.source)}</p>'
        )
        for a, rs in areas:
            claims_html.append(f'<h4 id="area-{e(a.prefix)}">{e(a.title)}</h4>')
            claims_html += [_claim_html(r) for r in rs]
    head = (
        f"symsched {e(str(meta['version']))} · profile {e(str(meta['profile']))} · seed "
        f"{e(str(meta['seed']))}"
        f" · command <code>{e(str(meta['command']))}</code> · inputs sha256 "
        f"<code>{e(meta['inputs_sha256'])}</code> · wall time of each claim: "
        "<code>timings.json</code>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="symsched-inputs-sha256" content="{e(meta["inputs_sha256"])}">'
        '<link rel="icon" href="data:,">'
        f"<title>symsched verification report</title><style>{_CSS}</style></head><body>"
        "<h1>symsched verification report</h1>"
        f"{verdict}{intro}"
        + (
            '<h2 id="findings">What was found</h2>' + _findings_html(findings, by_id)
            if findings
            else ""
        )
        + left
        + _recommend_html(rec)
        + '<h2 id="claims">Claims by paper and area</h2>'
        "<table><thead><tr><th>paper or capability</th><th>source</th><th>claims passing</th>"
        f"</tr></thead><tbody>{summary_rows}</tbody></table>"
        + "".join(claims_html)
        + f'<p class="meta">{head}</p><script>{_SCRIPT}</script></body></html>\n'
    )
