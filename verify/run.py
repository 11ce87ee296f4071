r"""Run claims from the registry and write the report (``symsched verify``, the main job)."""

from __future__ import annotations

import fnmatch
import json
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symsched.schedule import json_safe

from ._version import __version__
from .registry import Budget, Claim, Outcome, load_claims

__all__ = ["ClaimResult", "select_claims", "run_claims", "write_report"]


@dataclass
class ClaimResult:
    claim: Claim
    outcome: Outcome
    seconds: float
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error is not None:
            return "ERROR"
        return "PASS" if self.outcome.passed else "FAIL"


def select_claims(pattern: str | None = None) -> list[Claim]:
    """Claims whose id matches ``pattern`` (a glob, or a substring when it has no ``*?[``)."""
    claims = list(load_claims().values())
    if pattern is None:
        return claims
    glob = pattern if any(ch in pattern for ch in "*?[") else f"*{pattern}*"
    chosen = [c for c in claims if fnmatch.fnmatchcase(c.id, glob)]
    if not chosen:
        raise ValueError(f"--only {pattern!r} matches no claim; known ids: {', '.join(c.id for c in claims)}")
    return chosen


def run_one(c: Claim, budget: Budget) -> ClaimResult:
    t0 = time.perf_counter()
    try:
        out = c.check(budget)
        if not isinstance(out, Outcome):
            raise TypeError(f"claim {c.id} returned {type(out).__name__}, not Outcome")
        return ClaimResult(c, out, time.perf_counter() - t0)
    except Exception as exc:  # a crashing check is a failed claim, reported with its traceback
        tb = traceback.format_exc(limit=6)
        return ClaimResult(c, Outcome(False, f"error: {exc}"), time.perf_counter() - t0, error=tb)


def run_claims(claims: list[Claim], budget: Budget, *, progress: bool = True) -> list[ClaimResult]:
    """Run ``claims`` in order under ``budget``, with a live progress bar."""
    import matplotlib

    matplotlib.use("Agg")
    results: list[ClaimResult] = []
    if not progress:
        return [run_one(c, budget) for c in claims]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]verify[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), transient=False, console=_console()) as bar:
        task = bar.add_task("", total=len(claims))
        for c in claims:
            bar.update(task, description=c.id)
            results.append(run_one(c, budget))
            bar.advance(task)
    return results


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def print_table(results: list[ClaimResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="symsched verify", show_lines=False)
    for col in ("claim", "status", "measured", "time"):
        table.add_column(col, overflow="fold")
    style = {"PASS": "green", "FAIL": "red", "ERROR": "red"}
    for r in results:
        table.add_row(r.claim.id, f"[{style[r.status]}]{r.status}[/]", r.outcome.measured, f"{r.seconds:.1f}s")
    Console(stderr=False, width=160).print(table)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_report(results: list[ClaimResult], out: Path, budget: Budget, command: str) -> None:
    """Write ``report.md``, ``results.json``, ``figures/*.png`` and ``schedules/`` into ``out``."""
    figdir = out / "figures"
    scheddir = out / "schedules"
    figdir.mkdir(parents=True, exist_ok=True)
    scheddir.mkdir(parents=True, exist_ok=True)
    n_pass = sum(r.status == "PASS" for r in results)
    lines = [
        "# symsched verification report", "",
        f"symsched {__version__} · profile `{budget.profile}` · seed {budget.seed} · command `{command}`", "",
        f"**{n_pass} of {len(results)} claims pass.**", "",
        "| claim | status | measured | time |", "|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| [{r.claim.id}](#{r.claim.id.replace('.', '')}) | {r.status} | "
                     f"{_md_escape(r.outcome.measured)} | {r.seconds:.1f} s |")
    lines.append("")
    index: list[dict[str, Any]] = []
    records = []
    import matplotlib.pyplot as plt

    for r in results:
        c = r.claim
        lines += [f"## {c.id}", "", f"**{r.status}** — {c.statement}", "",
                  f"- **Source:** {c.source}", f"- **Method (oracle):** {c.method}",
                  f"- **Tolerance:** {c.tolerance}", f"- **Measured:** {r.outcome.measured}",
                  f"- **Issue:** #{c.issue} · **time:** {r.seconds:.2f} s", ""]
        if r.outcome.details:
            lines += ["```json", json.dumps(json_safe(r.outcome.details), indent=1)[:4000], "```", ""]
        if r.error:
            lines += ["```", r.error, "```", ""]
        for name, fig in r.outcome.figures.items():
            fname = f"{c.id}.{name}.png"
            fig.savefig(figdir / fname, dpi=110, bbox_inches="tight", metadata={"Software": None})
            plt.close(fig)
            lines += [f"![{c.id} {name}](figures/{fname})", ""]
        for s in r.outcome.schedules:
            fname = f"{s['name']}.json"
            payload = {**s, "claim": c.id}
            (scheddir / fname).write_text(json.dumps(json_safe(payload), indent=1, allow_nan=False) + "\n")
            index.append({"file": fname, "claim": c.id, **{k: v for k, v in s.items() if k != "schedule"},
                          "method": s["schedule"]["method"], "steps": s["schedule"]["steps"]})
        records.append({"id": c.id, "status": r.status, "statement": c.statement, "source": c.source,
                        "method": c.method, "tolerance": c.tolerance, "issue": c.issue,
                        "measured": r.outcome.measured, "details": r.outcome.details,
                        "seconds": round(r.seconds, 3), "error": r.error})
    (out / "report.md").write_text("\n".join(lines) + "\n")
    meta = {"version": __version__, "command": command, "profile": budget.profile, "seed": budget.seed}
    (out / "results.json").write_text(json.dumps(json_safe({**meta, "claims": records}), indent=1, allow_nan=False) + "\n")
    (scheddir / "index.json").write_text(json.dumps(json_safe({**meta, "schedules": index}), indent=1, allow_nan=False) + "\n")


def prepare_out(out: Path, force: bool) -> None:
    """Refuse to clobber an existing, non-empty ``out`` unless ``force``."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ValueError(f"--out {out} exists and is not empty; pass --force to replace it, or choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def command_line() -> str:
    return " ".join(["symsched", *sys.argv[1:]]) if sys.argv and sys.argv[0].endswith("symsched") else "symsched verify"
