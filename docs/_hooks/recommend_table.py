"""MkDocs hook: the shipped recommendations as a table, from ``symsched/data/recommended.json``.

``symsched recommend`` answers the built-in model families at N = 5, 10 and 20 from that table
(the claim ``reference.recommend-table`` recomputes it). A page that holds the line
``<!-- recommend-table -->`` gets, in its place, one row per (model, sampler): the recommended
method, and for each N its score on the sampler's criterion above the best other candidate with how
many times larger that one's score is: the shipped numbers, read when the site is built.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

MARKER = "<!-- recommend-table -->"
CRITERION = {"coupling": "coupling error", "kl_source_output": "KL(target ‖ output)"}


def _fmt(x: float) -> str:
    text = f"{x:.3g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa}·10<sup>{int(exp)}</sup>"
    return text


def _ratio(x: float) -> str:
    return f"{x:.2f}" if x < 10 else _fmt(x)


def table(path: Path) -> str:
    """The Markdown table of the recommendations in the JSON file ``path``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    models = {k: v for k, v in data.items() if isinstance(v, dict)}  # all but "version"
    steps = sorted({int(n) for m in models.values() for s in m.values() for n in s})
    head = "| model | sampler | criterion | recommended | " + " | ".join(f"N = {n}" for n in steps)
    lines = [head + " |", "|" + "---|" * (4 + len(steps))]
    for model, samplers in models.items():
        for sampler, by_n in sorted(samplers.items()):
            entries = [by_n[str(n)] for n in steps]
            crit = entries[0]["criterion"]
            methods = {e["alternatives"][0]["method"] for e in entries}
            shared = methods.pop() if len(methods) == 1 else None
            cells = []
            for e in entries:
                best, rest = e["alternatives"][0], e["alternatives"][1:]
                value = best["criteria"][e["criterion"]]
                cell = _fmt(value) if shared else f"`{best['method']}` {_fmt(value)}"
                if rest:
                    nxt = min(rest, key=lambda a: a["criteria"][e["criterion"]])
                    ratio = nxt["criteria"][e["criterion"]] / value if value > 0 else float("inf")
                    cell += f"<br>`{nxt['method']}` ×{_ratio(ratio)}"
                cells.append(cell)
            lines.append(
                f"| `{model}` | `{sampler}` | {CRITERION.get(crit, crit)} | "
                f"{f'`{shared}`' if shared else 'by N'} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    root = Path(config.config_file_path).resolve().parent
    path = root / "symsched" / "data" / "recommended.json"
    if not path.is_file():
        raise PluginError(
            f"{page.file.src_uri}: no {path.relative_to(root)} to build the table from"
        )
    return markdown.replace(MARKER, table(path))
