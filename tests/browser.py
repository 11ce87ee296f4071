"""Headless Chromium for the browser tests of ``report.html`` and of the documentation site.

``tests/`` is on ``sys.path`` under pytest, so the tests import this as ``from browser import ...``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["CHROMIUM", "console_lines", "headless"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def headless(url: str, profile: Path, *extra: str, timeout: float = 180) -> tuple[str, str]:
    """Load ``url`` in headless Chromium with the console logged to stderr, and return the DOM
    after scripts ran and the stderr; ``extra`` flags go before ``--dump-dom``."""
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        "--dump-dom",
        url,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout, res.stderr


def console_lines(stderr: str) -> list[str]:
    """The browser console's messages in Chromium's stderr log."""
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]
