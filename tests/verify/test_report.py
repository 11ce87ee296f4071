"""The verification report: self-contained HTML rendered in real headless Chromium, provenance in
every output file, and bit-for-bit reruns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser import CHROMIUM, console_lines, headless

from symsched._version import __version__
from symsched.cli import main

# a verification run (~25 s) is the fixture of almost every test here: the integration tier
pytestmark = pytest.mark.integration

#: let the page's scripts run (virtual time) before the DOM is dumped
BUDGET = "--virtual-time-budget=5000"
ONLY = "reference.schedules"  # one claim with a figure, 396 schedules and their exports (~24 s)


def verify(out: Path, *extra: str) -> int:
    try:
        return main(["verify", "--only", ONLY, "--out", str(out), *extra])
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rep") / "report"
    assert verify(out) == 0
    return out


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_html_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    html = (report / "report.html").read_text()
    assert not re.search(r'src="(?!data:)', html), "the page must not load external assets"
    assert not re.search(r'<link[^>]*href="(?!data:)', html), "no external stylesheet or icon"
    # in-page, a claim's docs page, or a schedule file written beside the report
    links = re.findall(r'<a [^>]*href="([^"]*)"', html)
    pattern = r"#[\w-]+|docs/[\w/-]+\.md#[\w-]+|schedules/[\w.-]+\.json"
    assert links and all(re.fullmatch(pattern, h) for h in links)
    ids = set(re.findall(r' id="([^"]+)"', html))
    assert {h[1:] for h in links if h.startswith("#")} <= ids  # no dangling in-page link
    assert all((report / h).is_file() for h in links if h.startswith("schedules/"))
    dom, err = headless((report / "report.html").as_uri(), tmp_path / "profile", BUDGET)
    assert console_lines(err) == [], console_lines(err)
    body = re.search(r"<body([^>]*)>", dom)
    assert body is not None
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("rendered") == "ok", attrs  # the inline script ran to the end without an error
    results = json.loads((report / "results.json").read_text())
    ids = [c["id"] for c in results["claims"]]
    assert int(attrs["sections"]) == len(ids)
    for cid in ids:  # every claim is shown, with its statement
        assert f'data-claim="{cid}"' in dom
    n_png = len(list((report / "figures").glob("*.png")))
    assert n_png >= 1 and attrs["images"] == attrs["images-ok"] == str(n_png)


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_console_error_detection_can_fail(tmp_path: Path) -> None:
    """Negative control: a page with a script error is caught by the same check."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    _, err = headless(bad.as_uri(), tmp_path / "profile", BUDGET)
    assert any("Uncaught ReferenceError" in ln for ln in console_lines(err))


def test_every_output_file_records_provenance(report: Path) -> None:
    res = json.loads((report / "results.json").read_text())
    digest = res["inputs_sha256"]
    assert res["version"] == __version__ and res["seed"] == 20260122 and res["profile"] == "quick"
    assert res["command"].startswith(
        "symsched verify --quick --only reference.schedules --seed 20260122"
    )
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    for name in ("report.md", "report.html"):
        text = (report / name).read_text()
        assert (
            digest[:16] in text
            and res["command"] in text.replace("&#x27;", "'")
            and __version__ in text
        )
    index = json.loads((report / "schedules" / "index.json").read_text())
    files = {p.name for p in (report / "schedules").glob("*.json")} - {"index.json"}
    # 5 model families x 12 step counts x the applicable methods (more when further methods
    # register)
    assert index["inputs_sha256"] == digest and len(index["schedules"]) >= 264
    assert {e["file"] for e in index["schedules"]} == files
    one = json.loads((report / "schedules" / index["schedules"][0]["file"]).read_text())
    assert one["provenance"]["inputs_sha256"] == digest and one["provenance"]["seed"] == 20260122
    from PIL import Image  # matplotlib's dependency

    for png in (report / "figures").glob("*.png"):
        desc = Image.open(png).text["Description"]
        assert digest in desc and res["command"] in desc and "seed 20260122" in desc


def test_rerun_reproduces_every_file_bit_for_bit(report: Path) -> None:
    from symsched_verify.run import TIMINGS_FILE

    before = {p.relative_to(report): p.read_bytes() for p in report.rglob("*") if p.is_file()}
    assert verify(report, "--force") == 0
    after = {p.relative_to(report): p.read_bytes() for p in report.rglob("*") if p.is_file()}
    assert before.keys() == after.keys()
    changed = [str(k) for k in before if before[k] != after[k]]
    assert changed in ([], [TIMINGS_FILE])  # the wall times are the one file that may differ


def test_timings_file_holds_each_claims_wall_time(report: Path) -> None:
    res = json.loads((report / "results.json").read_text())
    times = json.loads((report / "timings.json").read_text())
    assert times["inputs_sha256"] == res["inputs_sha256"] and times["executor"] == "in-process"
    rows = times["claims"]
    assert [r["id"] for r in rows] == [c["id"] for c in res["claims"]] == [ONLY]
    assert rows[0]["status"] == "PASS" and 0 < rows[0]["seconds"] <= times["wall_seconds"]
    assert times["claims_seconds_sum"] == pytest.approx(sum(r["seconds"] for r in rows))
    assert "timings.json" in (report / "report.md").read_text()


def test_different_seed_changes_the_inputs_hash(report: Path) -> None:
    # the report's hash is provenance() of its inputs; another seed (or profile) gives another
    # hash, computed here without rerunning the claim
    from symsched_verify.registry import Budget
    from symsched_verify.run import provenance, select_claims

    res = json.loads((report / "results.json").read_text())
    claims = select_claims(ONLY)
    same = provenance(Budget(seed=res["seed"]), res["command"], claims)["inputs_sha256"]
    assert same == res["inputs_sha256"]  # the recorded hash is recomputable
    for other in (Budget(seed=7), Budget(profile="full", seed=res["seed"])):
        assert provenance(other, res["command"], claims)["inputs_sha256"] != same


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
def test_full_quick_report_renders_every_claim(tmp_path: Path) -> None:
    """The whole registry (symsched verify --quick), rendered in headless Chromium."""
    from symsched_verify.registry import load_claims

    out = tmp_path / "full"
    try:
        code = main(["verify", "--quick", "--out", str(out)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code in (0, 1)  # a failing claim is the claim tests' business; the page must show it
    dom, err = headless((out / "report.html").as_uri(), tmp_path / "profile", BUDGET)
    assert console_lines(err) == []
    for cid in load_claims():
        assert f'data-claim="{cid}"' in dom
    assert 'data-rendered="ok"' in dom
    from symsched_verify.findings import FINDINGS

    if code == 0:  # every finding is stated (none left out), with the which-schedule table
        for f in FINDINGS:
            assert f'id="{f.key}"' in dom, f.key
        assert "Not run in this selection" not in dom and 'id="which-schedule"' in dom
        assert dom.index('id="findings"') < dom.index('id="claims"')  # findings come first
    assert int(re.search(r'data-math="(\d+)"', dom).group(1)) > 0  # typeset math, MathML
