"""Every file the command line writes goes through symsched._io: atomic, mode from the umask, never
over an existing file without --force, checked before the run, one-line errors naming the flag."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from cli_helpers import one_line, run

from symsched import _io

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}
RANK = ["rank", "--model", "sd15", "--eigenvalues", "0.5,1,2", "--nfe", "3,5"]
SIMULATE = ["simulate", "gm", "--dim", "100", "--steps", "4", "--schedule", "vp-dilated"]
SIMULATE += ["--samples", "200", "--no-progress"]
STEPS = ["steps-needed", "gm", "--schedule", "vp-dilated", "--dims", "1e2", "--no-progress"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(directory: Path) -> list[str]:
    """Temporary files or directories of the writers left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _figure() -> Any:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    return fig


# --- the writer ---------------------------------------------------------------------------------


def test_write_text_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        _io.write_text(tmp_path / "a.txt", "x\n", force=False, flag="-o")
        os.umask(0o077)
        _io.write_text(tmp_path / "b.txt", "y\n", force=False, flag="-o")
        os.umask(0o002)
        _io.write_bytes(tmp_path / "c.bin", b"z", force=False, flag="-o")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.txt") == 0o644  # not the 0600 of mkstemp
    assert mode(tmp_path / "b.txt") == 0o600
    assert mode(tmp_path / "c.bin") == 0o664
    assert (tmp_path / "a.txt").read_text() == "x\n" and (tmp_path / "c.bin").read_bytes() == b"z"
    assert leftovers(tmp_path) == []


def test_existing_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    _io.write_text(target, "first", force=False, flag="-o")
    with pytest.raises(_io.OutputError) as info:
        _io.write_text(target, "second", force=False, flag="-o")
    assert str(info.value) == f"-o {target}: file exists; pass --force to overwrite it"
    assert target.read_text() == "first"
    _io.write_text(target, "second", force=True, flag="-o")
    assert target.read_text() == "second" and leftovers(tmp_path) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_write_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, exc: type[BaseException]
) -> None:
    target = tmp_path / "p.png"
    target.write_bytes(b"old")

    class HalfFigure:
        def savefig(self, fh: Any, **kwargs: Any) -> None:
            fh.write(b"half a figure")
            raise exc("stop")

    with pytest.raises(exc):
        _io.write_figure(target, HalfFigure(), force=True, flag="--plot")
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("missing/x.png", "does not exist"),
        ("adir", "is a directory"),
        ("plot", "no image format"),
        ("p.jpg", "unsupported image format '.jpg'"),
        ("a" * 300 + ".png", "too long"),
        ("afile/x.png", "is not a directory"),
        ("", "empty"),
    ],
)
def test_check_target_refusals_name_the_flag(tmp_path: Path, name: str, why: str) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    path = str(tmp_path / name) if name else ""
    with pytest.raises(_io.OutputError) as info:
        _io.check_target(path, force=True, flag="--plot", figure=True)
    assert str(info.value).startswith("--plot") and why in str(info.value), str(info.value)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"]  # nothing written


def test_non_regular_target_is_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(_io.OutputError, match="not a regular file"):
        _io.write_text(fifo, "x", force=True, flag="-o")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def _unwritable(tmp_path: Path) -> Path:
    """A directory this process cannot create files in: mode 0555, or /sys when running as root
    (root ignores permission bits; sysfs refuses new files to everyone)."""
    if os.geteuid() != 0:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o555)
        return d
    return Path("/sys")


def test_unwritable_directory_is_a_clean_error(tmp_path: Path) -> None:
    d = _unwritable(tmp_path)
    with pytest.raises(_io.OutputError) as info:
        _io.write_text(d / "x.json", "{}", force=False, flag="-o")
    assert str(info.value).startswith(f"-o {d / 'x.json'}: cannot write in")


def test_oserror_during_the_write_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(_io.OutputError) as info:
        _io.write_text(tmp_path / "x.txt", "x", force=False, flag="-o")
    assert (
        str(info.value)
        == f"-o {tmp_path / 'x.txt'}: could not write the file: No space left on device"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg", "PDF"])
def test_write_figure_format_from_the_extension(tmp_path: Path, fmt: str, umask022: None) -> None:
    target = tmp_path / f"fig.{fmt}"
    fig = _figure()
    _io.write_figure(target, fig, force=False, flag="--plot", dpi=50)
    plt.close(fig)
    assert target.read_bytes().startswith(MAGIC[fmt.lower()])
    assert mode(target) == 0o644 and leftovers(tmp_path) == []


def test_output_error_is_a_usage_error_like_cli_error() -> None:
    from symsched.cli._common import CliError

    assert issubclass(_io.OutputError, _io.UsageError)
    assert issubclass(CliError, _io.UsageError)


# --- -o/--output ---------------------------------------------------------------------------------


def test_output_file_mode_0644_under_umask_022(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], umask022: None
) -> None:
    target = tmp_path / "s.json"
    code, out, _ = run(capsys, "schedule", "karras", "--steps", "3", "--json", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["steps"] == 3
    assert mode(target) == 0o644 and leftovers(tmp_path) == []


def test_output_into_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no" / "s.json"
    code, _, err = run(capsys, "schedule", "karras", "--steps", "3", "-o", str(target))
    assert code == 2
    one_line(err, f"-o {target}", "does not exist")
    assert not (tmp_path / "no").exists()


def test_output_onto_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "schedule", "karras", "--steps", "3", "-o", str(tmp_path), "--force")
    assert code == 2
    one_line(err, f"-o {tmp_path}", "is a directory")


def test_sweep_output_checked_before_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import symsched.cli._sweep as sweep_cli

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the sweep ran although -o was refused")

    monkeypatch.setattr(sweep_cli, "_load_spectrum", never)
    target = tmp_path / "no" / "sweep.csv"
    code, _, err = run(
        capsys,
        "sweep",
        "--spectra",
        "digits",
        "--steps",
        "5",
        "--methods",
        "karras",
        "-o",
        str(target),
    )
    assert code == 2
    one_line(err, "-o", "does not exist")


# --- rank -----------------------------------------------------------------------------------------


def test_rank_writes_nothing_without_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # a second plain run used to fail on the first run's unasked plot
        code, out, err = run(capsys, *RANK)
        assert code == 0 and err == "" and "kl-optimal" in out and "plot" not in out
    code, out, _ = run(capsys, *RANK, "--json")
    assert code == 0 and json.loads(out)["plot"] is None
    assert list(tmp_path.iterdir()) == []


def test_rank_no_plot_flag_is_gone(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *RANK, "--no-plot")
    assert code == 2
    one_line(err, "--no-plot")


@pytest.mark.parametrize("fmt", ["pdf", "svg", "png"])
def test_rank_plot_format_and_mode(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str], umask022: None
) -> None:
    target = tmp_path / f"rank.{fmt}"
    code, out, err = run(capsys, *RANK, "--plot", str(target))
    assert code == 0 and err == "" and f"plot written to {target}" in out
    assert target.read_bytes().startswith(MAGIC[fmt])  # a .pdf is a PDF, not a PNG
    assert mode(target) == 0o644 and leftovers(tmp_path) == []


def test_rank_plot_refusals_before_the_ranking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from symsched.schedules import pretrained

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("ranked although --plot was refused")

    monkeypatch.setattr(pretrained, "rank", never)
    (tmp_path / "adir").mkdir()
    (tmp_path / "old.png").write_bytes(b"keep")
    cases = [
        (tmp_path / "adir", "is a directory"),
        (tmp_path / "bdir", "no image format"),  # must not become bdir.png
        (tmp_path / "p.jpg", "unsupported image format"),
        (tmp_path / "missing" / "p.png", "does not exist"),
        (tmp_path / "old.png", "file exists; pass --force to overwrite it"),
    ]
    for path, why in cases:
        code, out, err = run(capsys, *RANK, "--plot", str(path))
        assert code == 2 and out == ""
        one_line(err, f"--plot {path}", why)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "old.png"]
    assert (tmp_path / "old.png").read_bytes() == b"keep" and list(
        (tmp_path / "adir").iterdir()
    ) == []


def test_rank_plot_force_replaces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "old.png"
    target.write_bytes(b"keep")
    assert run(capsys, *RANK, "--plot", str(target), "--force")[0] == 0
    assert target.read_bytes().startswith(MAGIC["png"])


# --- simulate / steps-needed --plot -------------------------------------------------------------


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any simulation or search fails the test: the refusal must come before the run."""
    import symsched.highdim.search as search

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the run started although --plot was refused")

    monkeypatch.setattr(search, "simulate_point", never)
    monkeypatch.setattr(search, "steps_needed_sweep", never)


@pytest.mark.parametrize("argv", [SIMULATE, STEPS], ids=["simulate", "steps-needed"])
def test_plot_into_missing_directory_fails_before_the_run(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None
) -> None:
    target = tmp_path / "missing" / "p.png"
    code, out, err = run(capsys, *argv, "--plot", str(target))
    assert code == 2 and out == ""
    one_line(err, f"--plot {target}", "does not exist")


@pytest.mark.parametrize("argv", [SIMULATE, STEPS], ids=["simulate", "steps-needed"])
def test_plot_existing_file_needs_force_before_the_run(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None
) -> None:
    target = tmp_path / "p.png"
    target.write_bytes(b"keep")
    code, _, err = run(capsys, *argv, "--plot", str(target))
    assert code == 2
    one_line(err, f"--plot {target}", "pass --force")
    assert target.read_bytes() == b"keep"


@pytest.mark.parametrize("argv", [SIMULATE, STEPS], ids=["simulate", "steps-needed"])
def test_plot_written_with_force_mode_and_format(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], umask022: None
) -> None:
    target = tmp_path / "p.pdf"
    target.write_bytes(b"old")
    code, out, err = run(capsys, *argv, "--plot", str(target), "--force", "--json")
    assert code == 0, err
    assert json.loads(out)["plot"] == str(target)
    assert target.read_bytes().startswith(MAGIC["pdf"])
    assert mode(target) == 0o644 and leftovers(tmp_path) == []
