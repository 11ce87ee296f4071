"""The worked examples of CONTRIBUTING.md run as written, each in a fresh interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "CONTRIBUTING.md").read_text(), flags=re.S)


def test_contributing_has_the_four_worked_examples() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    for heading in (
        "Adding a schedule method",
        "Adding a sampler",
        "Adding an export format",
        "Adding a claim",
    ):
        assert f"## {heading}" in text
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index: int, tmp_path: Path) -> None:
    # a fresh interpreter: the example's registrations must not leak into the other tests
    done = subprocess.run(
        [sys.executable, "-c", BLOCKS[index]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
