"""MkDocs hook: record what the built site was built from, so a test can tell whether it is stale.

After a build, ``SITE/.inputs-sha256`` holds :func:`inputs_digest` of the repository: a SHA-256 of
every file the pages are made from (``mkdocs.yml``, ``pyproject.toml``, ``docs/``, the notebooks,
and ``symsched/`` and ``verify/``, whose docstrings, parser, claims and data the pages are
generated from). ``tests/docs/test_site.py`` loads this file to compute the same digest and uses
``site/`` only when the two agree; otherwise it builds the site itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

STAMP = ".inputs-sha256"
_TREES = ("docs", "symsched", "verify")
_FILES = ("mkdocs.yml", "pyproject.toml")


def inputs_digest(root: Path) -> str:
    """SHA-256 of the files the site of the repository at ``root`` is built from."""
    paths = [root / f for f in _FILES]
    paths += sorted((root / "notebooks").glob("*.py"))
    for tree in _TREES:
        paths += sorted(
            p
            for p in (root / tree).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
    h = hashlib.sha256()
    for p in paths:
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


_digest: dict[str, str] = {}


def on_config(config: Any, **kwargs: Any) -> None:
    # taken before the pages are read: a file edited during the build leaves the site stale
    _digest["start"] = inputs_digest(Path(config.config_file_path).resolve().parent)


def on_post_build(config: Any, **kwargs: Any) -> None:
    (Path(config.site_dir) / STAMP).write_text(_digest["start"] + "\n", encoding="utf-8")
