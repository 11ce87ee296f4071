r"""Run claims from the registry and write the report (``symsched verify``, the main job).

Claims run through an executor (:mod:`symsched.parallel`: in-process, or Dask). A check's figures
are rendered to PNG bytes where it ran, so results are plain data that travel between processes.
Every output file records the symsched version, the command, the seed and a hash of the inputs
(:func:`provenance`), and holds nothing that varies between runs: rerunning with the same arguments
rewrites every file bit for bit, except ``timings.json``, the wall time of each claim and of the
run (also on the console), which is the one file meant to differ.

The report is written through :mod:`symsched._io` (atomic files, mode from the umask) into a
temporary directory beside ``--out`` and swapped in only when complete (:func:`write_report_dir`);
it holds the marker file ``.symsched-report``, the only sign by which a later ``--force`` may
replace the directory (:func:`check_out`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import math
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symsched._io import REPORT_MARKER, check_output_dir, staged_directory, write_bytes, write_text
from symsched._json import json_safe
from symsched_verify._version import __version__
from symsched_verify.registry import Budget, Claim, Outcome, load_claims

__all__ = [
    "REPORT_MARKER",
    "TIMINGS_FILE",
    "ClaimResult",
    "check_out",
    "previous_timings",
    "provenance",
    "render_png",
    "run_claims",
    "select_claims",
    "write_report",
    "write_report_dir",
]


#: The report's one file that differs between reruns: each claim's wall time and the run's.
TIMINGS_FILE = "timings.json"


@dataclass
class ClaimResult:
    claim: Claim
    outcome: Outcome
    seconds: float
    error: str | None = None
    pngs: dict[str, bytes] | None = None

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
    if not pattern.strip():
        raise ValueError(
            "--only must be a non-empty pattern (a glob or a substring of a claim id), "
            f"got {pattern!r}"
        )
    glob = pattern if any(ch in pattern for ch in "*?[") else f"*{pattern}*"
    chosen = [c for c in claims if fnmatch.fnmatchcase(c.id, glob)]
    if not chosen:
        raise ValueError(
            f"--only {pattern!r} matches no claim; known ids: {', '.join(c.id for c in claims)}"
        )
    return chosen


def render_png(fig: Any, description: str | None = None) -> bytes:
    """PNG bytes of a matplotlib figure, deterministic: no timestamp or software version; the
    provenance line goes in the PNG ``Description`` text chunk."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    meta: dict[str, str | None] = {"Software": None}
    if description is not None:
        meta["Description"] = description
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata=meta)
    plt.close(fig)
    return buf.getvalue()


def run_one(c: Claim, budget: Budget, provenance_line: str | None = None) -> ClaimResult:
    """Run one claim; figures are rendered to PNG here (so the result can cross processes)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "symsched"
    t0 = time.perf_counter()
    try:
        out = c.check(budget)
        if not isinstance(out, Outcome):
            raise TypeError(f"claim {c.id} returned {type(out).__name__}, not Outcome")
        pngs = {name: render_png(fig, provenance_line) for name, fig in out.figures.items()}
        out.figures = {}
        return ClaimResult(c, out, time.perf_counter() - t0, pngs=pngs)
    except Exception as exc:  # a crashing check is a failed claim, reported with its traceback
        tb = traceback.format_exc(limit=6)
        return ClaimResult(
            c, Outcome(False, f"error: {exc}"), time.perf_counter() - t0, error=tb, pngs={}
        )


class _RunOne:
    """Picklable ``claim -> run_one(claim, budget)`` for executors."""

    def __init__(self, budget: Budget, provenance_line: str | None) -> None:
        self.budget = budget
        self.provenance_line = provenance_line

    def __call__(self, c: Claim) -> ClaimResult:
        return run_one(c, self.budget, self.provenance_line)


def run_claims(
    claims: list[Claim],
    budget: Budget,
    *,
    progress: bool = True,
    executor: Any = None,
    command: str | None = None,
    expected_seconds: dict[str, float] | None = None,
) -> list[ClaimResult]:
    """Run ``claims`` under ``budget`` through ``executor`` (default in-process), with progress on
    stderr; results come back in the order of ``claims``. With ``command``, every figure records
    the provenance (:func:`provenance`) in its PNG metadata. With ``expected_seconds`` (a previous
    run's :func:`timings`), the claims start slowest first, so that parallel workers finish
    together (claims it does not list start first); the results keep the order of ``claims``.

    Progress is a live bar on a terminal; when stderr is not a terminal (a CI log, a pipe, a
    file), one flushed plain line per finished claim instead,
    ``verify [12/73] gaussian.check-values PASS 3.2s (elapsed 41s)``.
    """
    from symsched.parallel import InProcess

    ex = executor if executor is not None else InProcess()
    line = None
    if command is not None:
        meta = provenance(budget, command, claims)  # of the claims in their given order
        line = (
            f"symsched {meta['version']}; command: {command}; profile {meta['profile']}; "
            f"seed {meta['seed']}; inputs sha256 {meta['inputs_sha256']}"
        )
    hint = expected_seconds or {}
    order = sorted(range(len(claims)), key=lambda i: -hint.get(claims[i].id, math.inf))
    queue = [claims[i] for i in order]  # the registry's order when there is no hint

    def in_order(ran: list[ClaimResult]) -> list[ClaimResult]:
        back: dict[int, ClaimResult] = dict(zip(order, ran, strict=True))
        return [back[i] for i in range(len(claims))]

    task_fn = _RunOne(budget, line)
    if not progress:
        return in_order(ex.map(task_fn, queue))
    isatty = getattr(sys.stderr, "isatty", None)  # absent where stderr was replaced
    if not (callable(isatty) and isatty()):
        t0 = time.perf_counter()
        finished = 0

        def line_done(i: int, r: ClaimResult) -> None:
            nonlocal finished
            finished += 1
            print(
                f"verify [{finished}/{len(claims)}] {r.claim.id} {r.status} {r.seconds:.1f}s "
                f"(elapsed {time.perf_counter() - t0:.0f}s)",
                file=sys.stderr,
                flush=True,
            )

        return in_order(ex.map(task_fn, queue, on_done=line_done))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]verify[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        transient=False,
        console=_console(),
    ) as bar:
        task = bar.add_task("", total=len(claims))

        def done(i: int, r: ClaimResult) -> None:
            bar.update(task, description=f"{r.claim.id} {r.status}")
            bar.advance(task)

        return in_order(ex.map(task_fn, queue, on_done=done))


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
        table.add_row(
            r.claim.id, f"[{style[r.status]}]{r.status}[/]", r.outcome.measured, f"{r.seconds:.1f}s"
        )
    Console(stderr=False, width=160).print(table)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def provenance(budget: Budget, command: str, claims: list[Claim]) -> dict[str, Any]:
    """What every output file records: version, command, profile, seed and the inputs' hash.

    The hash covers the version, profile, seed and every selected claim's definition (id,
    statement, formula, source, method, tolerance), so two files with the same hash came from the
    same inputs.
    """
    inputs = {
        "version": __version__,
        "profile": budget.profile,
        "seed": budget.seed,
        "claims": [[c.id, c.statement, c.math, c.source, c.method, c.tolerance] for c in claims],
    }
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    return {
        "version": __version__,
        "command": command,
        "profile": budget.profile,
        "seed": budget.seed,
        "inputs_sha256": digest,
    }


def _dump(obj: Any) -> str:
    return json.dumps(json_safe(obj), indent=1, allow_nan=False) + "\n"


def _write(path: Path, text: str) -> None:
    write_text(path, text, force=False, flag="--out")


def timings(results: list[ClaimResult], wall_seconds: float | None, where: str) -> dict[str, Any]:
    """The content of ``timings.json``: each claim's wall time (slowest first), their sum, the
    run's wall time and where the claims ran.

    Parameters
    ----------
    results
        The claims' results (:attr:`ClaimResult.seconds`, measured where each claim ran).
    wall_seconds
        The run's wall time, or ``None`` when not measured.
    where
        The executor (``"in-process"``, ``"2 local processes x 1 thread"``, ...).

    Returns
    -------
    dict
        JSON-able.
    """
    rows = sorted(results, key=lambda r: -r.seconds)
    return {
        "note": "wall seconds of this run; the one file of the report that differs between reruns",
        "executor": where,
        "wall_seconds": wall_seconds,
        "claims_seconds_sum": sum(r.seconds for r in results),
        "claims": [{"id": r.claim.id, "status": r.status, "seconds": r.seconds} for r in rows],
    }


def previous_timings(out: Path) -> dict[str, float]:
    """Each claim's wall time in the report already in ``out`` (its ``timings.json``), or ``{}``
    when there is none or it cannot be read: only an ordering hint for :func:`run_claims`."""
    try:
        rows = json.loads((out / TIMINGS_FILE).read_text())["claims"]
        return {str(r["id"]): float(r["seconds"]) for r in rows}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_report(
    results: list[ClaimResult],
    out: Path,
    budget: Budget,
    command: str,
    *,
    wall_seconds: float | None = None,
    where: str = "in-process",
) -> None:
    """Write ``report.md``, ``report.html``, ``results.json``, ``timings.json``, ``figures/*.png``,
    ``schedules/`` and the marker ``.symsched-report`` into the directory ``out``, which must exist
    and hold none of them (every file goes through :func:`symsched._io.write_text`, which never
    clobbers)."""
    from symsched_verify.report_html import render_html
    from symsched_verify.report_md import figure_file, render_markdown, schedule_file

    figdir = out / "figures"
    scheddir = out / "schedules"
    figdir.mkdir()
    scheddir.mkdir()
    meta = provenance(budget, command, [r.claim for r in results])
    index: list[dict[str, Any]] = []
    records = []
    for r in results:
        c = r.claim
        for name, png in (r.pngs or {}).items():
            write_bytes(figdir / figure_file(c.id, name), png, force=False, flag="--out")
        for s in r.outcome.schedules:
            fname = schedule_file(s)
            _write(scheddir / fname, _dump({**s, "claim": c.id, "provenance": meta}))
            index.append(
                {
                    "file": fname,
                    "claim": c.id,
                    **{k: v for k, v in s.items() if k != "schedule"},
                    "method": s["schedule"]["method"],
                    "steps": s["schedule"]["steps"],
                }
            )
        records.append(
            {
                "id": c.id,
                "status": r.status,
                "statement": c.statement,
                "math": c.math,
                "source": c.source,
                "method": c.method,
                "tolerance": c.tolerance,
                "docs": c.docs,
                "measured": r.outcome.measured,
                "details": r.outcome.details,
                "captions": r.outcome.captions,
                "error": r.error,
            }
        )
    _write(out / "report.md", render_markdown(results, meta, __version__))
    _write(out / "report.html", render_html(results, meta))
    _write(out / "results.json", _dump({**meta, "claims": records}))
    _write(out / TIMINGS_FILE, _dump({**meta, **timings(results, wall_seconds, where)}))
    _write(scheddir / "index.json", _dump({**meta, "schedules": index}))
    _write(out / REPORT_MARKER, _dump({"command": command, "version": __version__}))


def check_out(out: str | Path, force: bool) -> Path:
    """Refuse an ``--out`` directory the report may not replace
    (:func:`symsched._io.check_output_dir`): a file, ``.``, ``/``, the home directory, the current
    directory or a parent of it, a git repository's root, a directory with ``pyproject.toml``, a
    non-empty directory without the marker (even with ``force``), or a previous report without
    ``force``.

    Raises
    ------
    symsched._io.OutputError
        One line naming ``--out`` (the CLI exits 2).
    """
    return check_output_dir(out, force=force, flag="--out", marker=REPORT_MARKER)


def write_report_dir(
    results: list[ClaimResult],
    out: str | Path,
    budget: Budget,
    command: str,
    *,
    force: bool,
    wall_seconds: float | None = None,
    where: str = "in-process",
) -> Path:
    """Write the report into a temporary directory beside ``out`` and swap it in at the end.

    The previous report in ``out`` (if any, and only if :func:`check_out` allows replacing it) is
    removed only once the new one is complete and in place; if writing fails or is interrupted,
    ``out`` is left as it was and the temporary directory is removed. ``wall_seconds`` and
    ``where`` go to ``timings.json`` (:func:`timings`).
    """
    with staged_directory(out, force=force, flag="--out", marker=REPORT_MARKER) as tmp:
        write_report(results, tmp, budget, command, wall_seconds=wall_seconds, where=where)
    return Path(out)


def command_line() -> str:
    return (
        " ".join(["symsched", *sys.argv[1:]])
        if sys.argv and sys.argv[0].endswith("symsched")
        else "symsched verify"
    )
