"""``verify --out DIR`` never deletes what it did not write: refusals (whatever --force) before any
claim or cluster starts, the report built beside DIR and swapped in at the end, the previous report
kept when the run fails or is interrupted; --seed and --only validated; hypothesis checked at run
time."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import one_line, run

ONLY = "tangent.J-closed-form"
MARKER = ".symsched-report"


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for directories)."""
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any claim or any executor starts: refusals come first."""
    import symsched.parallel as parallel
    import symsched_verify.run as vrun

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a claim or a cluster started although --out was refused")

    monkeypatch.setattr(vrun, "run_claims", never)
    monkeypatch.setattr(parallel, "make_executor", never)
    monkeypatch.setattr(parallel.ProcessPool, "map", never)


@pytest.fixture
def report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A previous report written by the command."""
    out = tmp_path / "rep"
    code, _, err = run(capsys, "verify", "--only", ONLY, "--out", str(out))
    assert code == 0, err
    return out


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# --- refusals, whatever --force ------------------------------------------------------------------


def test_out_dot_force_refuses_and_deletes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    nothing_runs: None,
) -> None:
    (tmp_path / "thesis.tex").write_text("years of work")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.npy").write_bytes(b"\x93NUMPY")
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    for out in (".", "./", str(tmp_path), "data/.."):
        code, stdout, err = run(capsys, "verify", "--only", ONLY, "--out", out, "--force")
        assert code == 2 and stdout == ""
        one_line(err, f"--out {out}", "current directory")
    assert snapshot(tmp_path) == before


def test_parent_of_cwd_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    nothing_runs: None,
) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    code, _, err = run(capsys, "verify", "--out", str(tmp_path), "--force")
    assert code == 2
    one_line(err, f"--out {tmp_path}", "one of its parents")
    code, _, err = run(capsys, "verify", "--out", "..", "--force")
    assert code == 2
    one_line(err, "--out ..", "one of its parents")


def test_root_and_home_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    nothing_runs: None,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("x")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "verify", "--out", "/", "--force")
    assert code == 2
    one_line(err, "--out /:", "root of the file system")
    code, _, err = run(capsys, "verify", "--out", str(home), "--force")
    assert code == 2
    one_line(err, f"--out {home}", "home directory")
    assert (home / ".bashrc").read_text() == "x"


@pytest.mark.parametrize(
    ("content", "why"),
    [(".git", "root of a git repository"), ("pyproject.toml", "pyproject.toml")],
)
def test_project_directories_refused_even_with_the_marker(
    tmp_path: Path,
    content: str,
    why: str,
    capsys: pytest.CaptureFixture[str],
    nothing_runs: None,
) -> None:
    d = tmp_path / "proj"
    d.mkdir()
    if content == ".git":
        (d / ".git").mkdir()
    else:
        (d / content).write_text("[project]\n")
    (d / MARKER).write_text("{}")  # a marker does not make a project replaceable
    before = snapshot(d)
    code, _, err = run(capsys, "verify", "--out", str(d), "--force")
    assert code == 2
    one_line(err, f"--out {d}", why)
    assert snapshot(d) == before


def test_unrelated_files_refused_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_runs: None
) -> None:
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "notes.md").write_text("mine")
    (rep / "report.md").write_text("looks like a report, but no marker")
    before = snapshot(rep)
    for extra in ([], ["--force"]):
        code, _, err = run(capsys, "verify", "--only", ONLY, "--out", str(rep), *extra)
        assert code == 2
        one_line(err, f"--out {rep}", "not a symsched report", MARKER, "even with --force")
    assert snapshot(rep) == before


def test_out_file_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_runs: None
) -> None:
    f = tmp_path / "report.txt"
    f.write_text("keep")
    for extra in ([], ["--force"]):
        code, _, err = run(capsys, "verify", "--out", str(f), *extra)
        assert code == 2
        one_line(err, f"--out {f}", "not a directory")
    assert f.read_text() == "keep"


def test_out_symlink_and_missing_parent_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_runs: None
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    code, _, err = run(capsys, "verify", "--out", str(tmp_path / "link"), "--force")
    assert code == 2
    one_line(err, "--out", "symbolic link")
    code, _, err = run(capsys, "verify", "--out", str(tmp_path / "no" / "rep"))
    assert code == 2
    one_line(err, "--out", "does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_previous_report_needs_force(
    report: Path, capsys: pytest.CaptureFixture[str], nothing_runs: None
) -> None:
    before = snapshot(report)
    code, _, err = run(capsys, "verify", "--only", ONLY, "--out", str(report))
    assert code == 2
    one_line(err, f"--out {report}", "pass --force")
    assert snapshot(report) == before


def test_workers_cluster_not_started_when_out_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    nothing_runs: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "verify", "--workers", "2", "--out", ".", "--force")
    assert code == 2
    one_line(err, "--out .")


# --- the swap ------------------------------------------------------------------------------------


def test_report_has_marker_and_mode_from_umask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], umask022: None
) -> None:
    out = tmp_path / "rep"
    code, _, err = run(capsys, "verify", "--only", ONLY, "--out", str(out))
    assert code == 0, err
    marker = json.loads((out / MARKER).read_text())
    assert marker["command"].startswith("symsched verify --quick --only") and marker["version"]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"report.md", "report.html", "results.json", MARKER}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p
    for d in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(d.stat().st_mode) == 0o755, d
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no temporary left beside it


def test_force_replaces_a_previous_report_and_an_empty_directory(
    report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (report / "stale.png").write_bytes(b"from an older run")  # inside a report: it goes
    code, _, err = run(capsys, "verify", "--only", ONLY, "--out", str(report), "--force")
    assert code == 0, err
    assert not (report / "stale.png").exists() and (report / MARKER).is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "verify", "--only", ONLY, "--out", str(empty))
    assert code == 0, err
    assert (empty / "report.md").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "rep"]


def _progress_free(err: str) -> str:
    """stderr without the rich progress display of the claim runner."""
    return "".join(line + "\n" for line in err.splitlines() if not line.startswith("verify"))


def test_interrupted_run_keeps_the_previous_report(
    report: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import symsched_verify.run as vrun

    before = snapshot(report)

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(vrun, "run_one", interrupted)
    code, _, err = run(capsys, "verify", "--only", ONLY, "--out", str(report), "--force")
    assert code == 130
    assert _progress_free(err) == "symsched verify: interrupted\n"
    assert snapshot(report) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("disk on fire")])
def test_failure_while_writing_keeps_the_previous_report_and_no_temporary(
    exc: BaseException,
    report: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import symsched_verify.report_html as html

    before = snapshot(report)

    def broken(*args: Any, **kwargs: Any) -> str:
        raise exc

    monkeypatch.setattr(html, "render_html", broken)  # report.md already written by then
    monkeypatch.delenv("SYMSCHED_DEBUG", raising=False)
    code, _, err = run(capsys, "verify", "--only", ONLY, "--out", str(report), "--force")
    assert code == (130 if isinstance(exc, KeyboardInterrupt) else 70)
    line = one_line(_progress_free(err))
    assert ("interrupted" if code == 130 else "internal error: RuntimeError: disk on fire") in line
    assert snapshot(report) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_report_dir_staging_in_python(tmp_path: Path) -> None:
    from symsched._io import OutputError, staged_directory

    out = tmp_path / "rep"
    with staged_directory(out, force=False, flag="--out") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".rep.") and not out.exists()
        (tmp / MARKER).write_text("{}")
        (tmp / "a.txt").write_text("1")
    assert (out / "a.txt").read_text() == "1"
    with (
        pytest.raises(OutputError, match="pass --force"),
        staged_directory(out, force=False, flag="--out"),
    ):
        pass
    # somebody swaps their files into the directory while the new report is built: refused at the
    # swap, nothing of theirs lost
    with (
        pytest.raises(OutputError, match="not a symsched report"),
        staged_directory(out, force=True, flag="--out") as tmp,
    ):
        (tmp / MARKER).write_text("{}")
        (out / MARKER).unlink()
        (out / "theirs.txt").write_text("keep")
    assert (out / "theirs.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


# --- --seed, --only ----------------------------------------------------------------------------


def test_negative_seed_exits_2_naming_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_runs: None
) -> None:
    code, out, err = run(capsys, "verify", "--seed", "-1", "--out", str(tmp_path / "r"))
    assert code == 2 and out == ""
    one_line(err, "symsched verify: error: --seed must be an integer >= 0, got -1")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("jobs", ["0", "-2"])
def test_jobs_below_one_exits_2_naming_jobs(
    jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_runs: None
) -> None:
    code, out, err = run(capsys, "verify", "--jobs", jobs, "--out", str(tmp_path / "r"))
    assert code == 2 and out == ""
    one_line(
        err,
        "symsched verify: error: --jobs must be >= 1 (1 runs the claims in this process), "
        f"got {jobs}",
    )
    assert list(tmp_path.iterdir()) == []


def test_jobs_beyond_the_memory_budget_exits_2_before_any_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_runs: None
) -> None:
    code, _, err = run(
        capsys, "--max-memory", "1GiB", "verify", "--jobs", "4", "--only", "gaussian",
        "--out", str(tmp_path / "r"),
    )  # fmt: skip
    assert code == 2
    one_line(err, "--jobs")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("pattern", ["", "  "])
def test_empty_only_exits_2_naming_only(
    pattern: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], nothing_runs: None
) -> None:
    code, _, err = run(capsys, "verify", "--only", pattern, "--out", str(tmp_path / "r"))
    assert code == 2
    one_line(err, "--only must be a non-empty pattern")
    code, _, err = run(capsys, "verify", "--only", pattern, "--list")
    assert code == 2
    one_line(err, "--only")


def test_budget_refuses_a_negative_seed() -> None:
    from symsched_verify.registry import Budget

    with pytest.raises(ValueError, match="seed"):
        Budget(seed=-1)


# --- hypothesis (the verify extra) is needed at run time only --------------------------------


def _without_hypothesis(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\nsys.modules['hypothesis'] = None\n"
        "from symsched.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


def test_verify_without_hypothesis_exits_2_naming_the_extra(tmp_path: Path) -> None:
    expected = (
        "symsched verify: error: this needs hypothesis; install it with pip install "
        "'symsched[verify]'\n"
    )
    for argv in (["verify", "--out", "rep"], ["verify", "--list"]):
        res = _without_hypothesis(*argv, cwd=tmp_path)
        assert res.returncode == 2 and res.stdout == "" and res.stderr == expected, res.stderr
    assert list(tmp_path.iterdir()) == []
    res = _without_hypothesis("verify", "--help", cwd=tmp_path)  # registration needs no hypothesis
    assert res.returncode == 0 and "--out" in res.stdout


@pytest.mark.integration  # a whole quick verification run in a subprocess (~40 s)
def test_verify_writes_nothing_but_out_in_the_working_directory(tmp_path: Path) -> None:
    """hypothesis caches the constants of the source it tests in ./.hypothesis unless told
    otherwise; a verify run (a fresh process, as a user runs it) leaves only --out behind."""
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    env["SYMSCHED_QUICK_EXAMPLES"] = "2"  # the claim draws hypothesis examples; 2 are enough here
    claim = "asymptotics.remainder-slopes"
    res = subprocess.run(
        [sys.executable, "-m", "symsched.cli", "verify", "--only", claim, "--out", "rep"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
