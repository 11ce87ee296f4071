"""The report's grouping and findings: every claim has a paper and area; a finding states the
numbers it is given, and only for claims that ran and passed."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from symsched_verify.areas import AREAS, PARTS, area_of, group
from symsched_verify.findings import (
    FINDINGS,
    ratio_text,
    recommendation_rows,
    write_findings,
)
from symsched_verify.mathml import MathError, latex_to_mathml, render_math
from symsched_verify.registry import load_claims

CLAIMS = load_claims()


def test_every_claim_has_an_area_and_every_area_a_claim() -> None:
    used = {area_of(cid).prefix for cid in CLAIMS}  # raises for a claim with no area
    assert used == {a.prefix for a in AREAS}
    assert {a.part for a in AREAS} == {p.key for p in PARTS}
    grouped = [cid for _, areas in group(CLAIMS, str) for _, ids in areas for cid in ids]
    assert sorted(grouped) == sorted(CLAIMS)  # nothing lost or repeated by the grouping


def test_an_unknown_area_is_refused() -> None:
    with pytest.raises(KeyError, match="not listed"):
        area_of("nonsense.claim")


def test_findings_name_registered_claims() -> None:
    for f in FINDINGS:
        assert set(f.claims) <= set(CLAIMS), f.key
        assert {c for c, _ in f.figures} <= set(CLAIMS), f.key
        for c, key in f.figures:  # the figure key is one the claim's module draws (no stale name)
            source = inspect.getsource(inspect.getmodule(CLAIMS[c].check))  # type: ignore[arg-type]
            assert f'"{key}"' in source, (f.key, c, key)
        assert {p.key for p in PARTS} >= {f.part}


def _recommend_details() -> dict[str, Any]:
    rows = [
        {
            "model": "sd15",
            "sampler": "heun",
            "steps": n,
            "recommended": "sampler-optimal",
            "criterion": "coupling",
            "value": 1.0,
            "best_baseline": "karras",
            "best_baseline_ratio": ratio,
        }
        for n, ratio in ((5, 1.5), (10, 2.5), (20, 1.002))
    ]
    pre = [
        {"nfe": 3, "best_baseline_gap": 0.5},
        {"nfe": 3, "best_baseline_gap": 1.25},
        {"nfe": 10, "best_baseline_gap": 9.0},
    ]
    return {
        "reference.recommend-table": {"table": rows},
        "pretrained.kl-optimal-ranks-first": {"rows": pre},
    }


def test_recommendation_finding_states_the_measured_numbers() -> None:
    details = _recommend_details()
    statuses = dict.fromkeys(details, "PASS")
    written, left_out = write_findings(details, statuses, {})
    assert [w.finding.key for w in written] == ["finding-recommend"]
    assert len(left_out) == len(FINDINGS) - 1  # the others' claims did not run
    text = " ".join(written[0].sentences)
    # 3 combinations; median of 1.5, 2.5, 1.002 is 1.50; the least 1.002; NFE 3 gaps 50 %-125 %
    assert "For 3 combinations" in text and "median 1.50×" in text and "1.002×" in text
    assert "all 3 (model, data, NFE) cases" in text and "50.0 %–125.0 %" in text and "NFE 3" in text


def test_a_failed_or_missing_claim_states_no_finding() -> None:
    details = _recommend_details()
    statuses = {"reference.recommend-table": "FAIL", "pretrained.kl-optimal-ranks-first": "PASS"}
    written, _ = write_findings(details, statuses, {})
    assert written == []
    del details["reference.recommend-table"]
    written, _ = write_findings(details, dict.fromkeys(details, "PASS"), {})
    assert written == []


def test_a_finding_shows_only_the_figures_that_exist() -> None:
    details = _recommend_details()
    statuses = dict.fromkeys(details, "PASS")
    (w,), _ = write_findings(details, statuses, {"reference.recommend-table": ["other"]})
    assert w.figures == []
    key = FINDINGS[-1].figures[0][1]
    (w,), _ = write_findings(details, statuses, {"reference.recommend-table": [key]})
    assert w.figures == [("reference.recommend-table", key)]


def test_recommendation_rows_link_the_given_files() -> None:
    table = _recommend_details()["reference.recommend-table"]
    files = {("sd15", "heun", n): f"schedules/x-{n}.json" for n in (5, 10, 20)}
    (row,) = recommendation_rows(table, files)
    assert row["model"] == "sd15" and sorted(row["cells"]) == [5, 10, 20]
    assert row["cells"][10]["file"] == "schedules/x-10.json" and row["cells"][10]["ratio"] == 2.5
    with pytest.raises(KeyError):  # a row without its schedule file is a bug, not a blank cell
        recommendation_rows(table, {})


def test_ratio_text() -> None:
    assert ratio_text(1.0027) == "1.003×"
    assert ratio_text(34.5) == "34.5×"
    assert ratio_text(130000.0) == "$1.30\\cdot 10^{5}$×"


def test_math_rendering() -> None:
    out = render_math(r"a $\gamma^\star$ and $$N^2\,\mathrm{KL}$$ <b> \$5 and $6")
    assert out.count("<math") == 2 and 'display="block"' in out and "&lt;b&gt;" in out
    assert "$5 and $6" in out  # dollar amounts are not math
    assert 'alttext="\\gamma^\\star"' in out
    with pytest.raises(MathError, match="cannot render"):
        latex_to_mathml(r"\frac{1}{")
