"""Helpers of the command-line tests: run ``symsched`` in-process and read its one stderr line.

``tests/`` is on ``sys.path`` under pytest (``pythonpath`` in pyproject.toml), so the test
modules import these as ``from cli_helpers import run, one_line``.
"""

from __future__ import annotations

import pytest

from symsched.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``symsched ARGV`` in this process: the exit status, stdout and stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: usage errors (2), --help / --version (0)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str, *needles: str) -> str:
    """stderr is exactly one line, and it holds every needle (the flag, the fix)."""
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
