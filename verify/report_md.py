r"""``report.md``: the verification report in Markdown, in the order of ``report.html``.

Findings first (:mod:`symsched_verify.findings`), then the recommendation table linking the
schedule files, then every claim grouped by paper and area (:mod:`symsched_verify.areas`), with
its formula as ``$$ … $$`` display math (GitHub and most Markdown viewers typeset it) and its
figures from ``figures/``.
"""

from __future__ import annotations

import json
from typing import Any

from symsched._json import json_safe
from symsched_verify.areas import group
from symsched_verify.findings import (
    Finding,
    FindingText,
    ratio_text,
    recommendation_rows,
    write_findings,
)

__all__ = ["figure_file", "front_matter", "render_markdown", "schedule_file"]


def figure_file(claim_id: str, name: str) -> str:
    """The file name of figure ``name`` of claim ``claim_id`` under ``figures/``."""
    return f"{claim_id}.{name}.png"


def schedule_file(entry: dict[str, Any]) -> str:
    """The file name under ``schedules/`` of a reference schedule a claim produced
    (an entry of ``Outcome.schedules``)."""
    return f"{entry['name']}.json"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def front_matter(
    results: list[Any],
) -> tuple[list[FindingText], list[Finding], list[dict[str, Any]]]:
    """What both reports put before the claims, from ``results``
    (:class:`symsched_verify.run.ClaimResult`): the findings written, those left out, and the
    rows of the recommendation table (empty unless ``reference.recommend-table`` passed), each
    cell linking its file under ``schedules/``."""
    findings, left_out = write_findings(
        {r.claim.id: r.outcome.details or {} for r in results},
        {r.claim.id: r.status for r in results},
        {r.claim.id: list((r.pngs or {}).keys()) for r in results},
    )
    rec = next((r for r in results if r.claim.id == "reference.recommend-table"), None)
    if rec is None or rec.status != "PASS":
        return findings, left_out, []
    files = {
        (str(e["model"]), str(e["sampler"]), int(e["schedule"]["steps"])): (
            f"schedules/{schedule_file(e)}"
        )
        for e in rec.outcome.schedules
    }
    return findings, left_out, recommendation_rows(rec.outcome.details or {}, files)


def _anchor(claim_id: str) -> str:
    # GitHub's heading anchors: lowercase, punctuation other than - and _ dropped, spaces -> -
    return "".join(ch for ch in claim_id.lower() if ch.isalnum() or ch in "-_")


def _figure(claim_id: str, name: str, caption: str | None) -> list[str]:
    text = caption or f"{claim_id}: {name}"
    return [f"![{_cell(text)}](figures/{figure_file(claim_id, name)})", "", f"*{text}*", ""]


def render_markdown(results: list[Any], meta: dict[str, Any], version: str) -> str:
    """The Markdown report for ``results`` (:class:`symsched_verify.run.ClaimResult`) and
    provenance ``meta``."""
    by_id = {r.claim.id: r for r in results}
    bad = [r for r in results if r.status != "PASS"]
    findings, left_out, rows = front_matter(results)
    lines = [
        "# symsched verification report",
        "",
        (
            f"symsched {version} · profile `{meta['profile']}` · seed {meta['seed']} · "
            f"command `{meta['command']}` · inputs sha256 `{meta['inputs_sha256'][:16]}` · "
            "wall time of each claim: `timings.json`"
        ),
        "",
        (
            f"**All {len(results)} claims pass.**"
            if not bad
            else f"**{len(bad)} of {len(results)} claims do not pass:** "
            + ", ".join(f"[{r.claim.id}](#{_anchor(r.claim.id)})" for r in bad)
            + "."
        ),
        "",
    ]
    if findings:
        lines += ["## What was found", ""]
    for f in findings:
        lines += [f"### {f.finding.title}", ""]
        lines += [f"- {s}" for s in f.sentences]
        lines += [
            "",
            "Measured by "
            + ", ".join(f"[{c}](#{_anchor(c)}) ({s})" for c, s in f.statuses.items())
            + ".",
            "",
        ]
        for c, k in f.figures:
            lines += _figure(c, k, by_id[c].outcome.captions.get(k))
    if left_out:
        lines += [
            "Not run in this selection, so not stated: "
            + "; ".join(f.title for f in left_out)
            + ".",
            "",
        ]
    if rows:
        steps = sorted({n for r in rows for n in r["cells"]})
        lines += [
            "## Which schedule for which model, sampler and step budget",
            "",
            "The recommended grid per model family (its Gaussian proxy) and sampler, ranked on the "
            "sampler's own criterion; each cell links the schedule file (with its exports) and "
            "says how many times worse the best listed alternative is "
            "(docs/theory/coupling.md#recommendations).",
            "",
            "| model | sampler | " + " | ".join(f"N = {n}" for n in steps) + " |",
            "|---|---|" + "---|" * len(steps),
        ]
        for r in rows:
            cells = []
            for n in steps:
                c = r["cells"].get(n)
                if c is None:
                    cells.append("–")
                    continue
                ratio = ratio_text(c["ratio"])
                cells.append(f"[{c['method']}]({c['file']}) ({ratio} vs {c['baseline']})")
            lines.append(f"| {r['model']} | {r['sampler']} | " + " | ".join(cells) + " |")
        lines.append("")
    groups = group(results, lambda r: r.claim.id)
    lines += [
        "## Claims by paper and area",
        "",
        "| paper or capability | source | claims passing |",
        "|---|---|---|",
    ]
    for p, areas in groups:
        n_ok = sum(r.status == "PASS" for _, rs in areas for r in rs)
        lines.append(
            f"| {_cell(p.title)} | {_cell(p.source)} | {n_ok} of "
            f"{sum(len(rs) for _, rs in areas)} |"
        )
    lines.append("")
    for p, areas in groups:
        lines += [f"### {p.title}", "", f"*{p.source}*", ""]
        for a, rs in areas:
            lines += [f"#### {a.title}", ""]
            for r in rs:
                lines += _claim_md(r)
    return "\n".join(lines) + "\n"


def _claim_md(r: Any) -> list[str]:
    c = r.claim
    lines = [f"##### {c.id}", "", f"**{r.status}** — {c.statement}", ""]
    if c.math:
        lines += ["$$", c.math, "$$", ""]
    lines += [
        f"- **Source:** {c.source}",
        f"- **Oracle:** {c.method}",
        f"- **Tolerance:** {c.tolerance}",
        f"- **Measured:** {r.outcome.measured}",
        f"- **Docs:** [{c.docs}]({c.docs})",
        "",
    ]
    table = (r.outcome.details or {}).get("markdown")
    if isinstance(table, str):  # a claim's findings as a Markdown table, shown as a table
        lines += [table, ""]
    rest = {k: v for k, v in (r.outcome.details or {}).items() if k != "markdown"}
    if rest:
        lines += [
            "<details><summary>measured values</summary>",
            "",
            "```json",
            json.dumps(json_safe(rest), indent=1)[:4000],
            "```",
            "",
            "</details>",
            "",
        ]
    if r.error:
        lines += ["```", r.error, "```", ""]
    for name in r.pngs or {}:
        lines += _figure(c.id, name, r.outcome.captions.get(name))
    return lines
