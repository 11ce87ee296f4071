"""Every claim cites a docs page and heading that exist, and the report and ``--list`` show it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from symsched.cli import main
from symsched_verify.registry import claim, load_claims

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = load_claims()


def github_anchors(page: Path) -> set[str]:
    """GitHub's anchors of a markdown page's headings: lowercase, punctuation dropped, spaces to
    hyphens, ``-1``, ``-2`` ... for repeats; headings inside code fences do not count."""
    seen: dict[str, int] = {}
    anchors: set[str] = set()
    fence = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m is None:
            continue
        text = m.group(1).replace("`", "").strip().lower()
        slug = "".join(ch for ch in text if ch.isalnum() or ch in " -_").replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def test_slugs_follow_github() -> None:
    page = ROOT / "docs" / "theory" / "gaussian.md"
    anchors = github_anchors(page)
    # "(b) Self-consistent weighted geodesic", "Variance recursion and output ratio"
    assert "b-self-consistent-weighted-geodesic" in anchors
    assert "variance-recursion-and-output-ratio" in anchors
    assert "tangent-law" in anchors and "relation-to-the-paper" in anchors


@pytest.mark.parametrize("claim_id", sorted(CLAIMS))
def test_claim_docs_anchor_exists(claim_id: str) -> None:
    docs = CLAIMS[claim_id].docs
    path, _, anchor = docs.partition("#")
    page = ROOT / path
    assert page.is_file(), f"{claim_id}: no page {path}"
    assert anchor, f"{claim_id}: {docs} has no anchor"
    assert anchor in github_anchors(page), f"{claim_id}: no heading #{anchor} in {path}"


def test_claim_refuses_a_docs_value_without_anchor() -> None:
    with pytest.raises(ValueError, match="docs must look like"):
        claim("x.y", statement="s", source="s", method="m", tolerance="t", docs="docs/cli.md")
    with pytest.raises(ValueError, match="docs must look like"):
        claim("x.y", statement="s", source="s", method="m", tolerance="t", docs="docs/cli.md#")


def test_list_prints_id_docs_statement(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["verify", "--only", "tangent.J-*", "--list"])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    c = CLAIMS["tangent.J-closed-form"]
    assert code == 0 and out == f"{c.id}\t{c.docs}\t{c.statement}\n"


def test_report_files_show_docs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rep"
    try:
        code = main(["verify", "--only", "tangent.J-closed-form", "--out", str(out)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    capsys.readouterr()
    assert code == 0
    docs = CLAIMS["tangent.J-closed-form"].docs
    assert f"- **Docs:** [{docs}]({docs})" in (out / "report.md").read_text()
    assert (
        f'<dt>Docs</dt><dd><a class="docs" href="{docs}">{docs}</a></dd>'
        in (out / "report.html").read_text()
    )
    (record,) = json.loads((out / "results.json").read_text())["claims"]
    assert record["docs"] == docs and "issue" not in record


def test_every_docs_link_in_the_verification_layer_resolves() -> None:
    # claims' source/method/tolerance strings, docstrings and comments cite docs/PAGE.md#anchor
    link = re.compile(r"docs/[\w/-]+\.md(?:#[\w-]+)?")
    found, bad = 0, []
    for py in sorted((ROOT / "verify").rglob("*.py")):
        for target in link.findall(py.read_text(encoding="utf-8")):
            path, _, anchor = target.partition("#")
            if path == "docs/PAGE.md":  # the placeholder of the registry's docstring
                continue
            found += 1
            page = ROOT / path
            if not page.is_file() or (anchor and anchor not in github_anchors(page)):
                bad.append(f"{py.relative_to(ROOT)}: {target}")
    assert found > 59 and bad == [], bad
