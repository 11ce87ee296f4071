"""Code, docs, help and reports cite the papers and the project's own docs/ only.

No reference to a file outside the repository (the reference material the project was built
from, machine paths), no tracker issue numbers, and every cited docs page and anchor
(``docs/<page>.md#<anchor>``) resolves to a heading of that page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".txt", ".yaml", ".yml"}
EXTERNAL = re.compile(
    r"shared/spec|\.\./shared|/work/|(?<![\w/])(gaussian_theory|stein_cost|high_dim|peers|"
    r"peers_2026)\.md"
)
# outside docs/ (whose pages link each other relatively), a conventions page is docs/conventions.md
BARE_CONVENTIONS = re.compile(r"(?<![\w/])conventions\.md")
TRACKER = re.compile(r"(?i)\bissues? #?\d+\b|\(#\d+\)|\bitem \d+ of issue|#\d+\s*\|")
THIS_FILE = Path(__file__).resolve()


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    names = out.stdout.split() if out.returncode == 0 else []
    if not names:  # not a git checkout (an unpacked sdist): walk the tree
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    return [ROOT / n for n in names if Path(n).suffix in TEXT_SUFFIXES and (ROOT / n).is_file()]


def _slug(heading: str) -> str:
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")


def test_no_reference_to_files_outside_the_repository() -> None:
    hits = []
    for path in _tracked():
        if path.resolve() == THIS_FILE:
            continue
        in_docs = path.relative_to(ROOT).parts[0] == "docs"
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if EXTERNAL.search(line) or (not in_docs and BARE_CONVENTIONS.search(line)):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert hits == []


def test_no_tracker_issue_numbers() -> None:
    hits = []
    for path in _tracked():
        if path.resolve() == THIS_FILE:
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if TRACKER.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert hits == []


def test_every_cited_docs_anchor_exists() -> None:
    anchors = {}
    for page in (ROOT / "docs").rglob("*.md"):
        heads = re.findall(r"^#+\s+(.*)$", page.read_text(), flags=re.M)
        anchors[page.relative_to(ROOT).as_posix()] = {_slug(h) for h in heads}
    bad = []
    for path in _tracked():
        for m in re.finditer(
            r"(docs/[a-z0-9_/\-]+\.md)(#[a-z0-9_\-]+)?", path.read_text(errors="replace")
        ):
            page, anchor = m.group(1), m.group(2)
            if page not in anchors:
                bad.append(f"{path.relative_to(ROOT)}: {m.group(0)} (no such page)")
            elif anchor and anchor[1:] not in anchors[page]:
                bad.append(f"{path.relative_to(ROOT)}: {m.group(0)} (no such heading)")
    assert bad == []


def test_help_and_claim_list_cite_no_tracker_numbers() -> None:
    from symsched.cli import build_parser

    texts = [build_parser().format_help()]
    for action in build_parser()._subparsers._group_actions:  # type: ignore[union-attr]
        texts += [p.format_help() for p in action.choices.values()]
    listing = subprocess.run(
        [sys.executable, "-m", "symsched.cli", "verify", "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for text in [*texts, listing]:
        assert not EXTERNAL.search(text) and not BARE_CONVENTIONS.search(text)
        assert not TRACKER.search(text)
