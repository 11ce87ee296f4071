"""``symsched verify`` reports progress when stderr is not a terminal (a CI log, a pipe): one
flushed plain line per finished claim, with the count, the claim id, its status and the times."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from symsched_verify.registry import Budget
from symsched_verify.run import run_claims, select_claims

ONLY = "gaussian.angle-identity"  # a claim of about a second
LINE = re.compile(r"^verify \[(\d+)/(\d+)\] (\S+) (PASS|FAIL|ERROR) \d+\.\ds \(elapsed \d+s\)$")


def test_verify_prints_one_progress_line_per_claim_off_a_terminal(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "symsched.cli", "verify", "--only", ONLY, "--out", "rep"],
        capture_output=True,  # stderr is a pipe, not a terminal
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    lines = [m.groups() for m in map(LINE.match, res.stderr.splitlines()) if m]
    assert lines == [("1", "1", ONLY, "PASS")], res.stderr
    assert "\x1b[" not in res.stderr  # no terminal control sequences of a live bar


def test_progress_lines_count_finished_claims(capsys: pytest.CaptureFixture[str]) -> None:
    claims = select_claims("tangent.J-closed-form") + select_claims("gaussian.angle-identity")
    results = run_claims(claims, Budget())
    err = capsys.readouterr().err
    got = [m.groups() for m in map(LINE.match, err.splitlines()) if m]
    assert [g[:2] for g in got] == [("1", "2"), ("2", "2")], err
    assert {g[2]: g[3] for g in got} == {r.claim.id: r.status for r in results}
    assert [r.status for r in results] == ["PASS", "PASS"]


def test_no_progress_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    run_claims(select_claims("gaussian.angle-identity"), Budget(), progress=False)
    assert capsys.readouterr().err == ""
