"""Packaging: every package is listed, the wheel installs no top-level ``verify``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _packages_on_disk() -> set[str]:
    """Import names of every package folder: symsched/..., and verify/... as symsched_verify."""
    names = {"symsched.data"}  # data files only, listed so setuptools ships them
    for p in (ROOT / "symsched").rglob("__init__.py"):
        names.add(".".join(p.parent.relative_to(ROOT).parts))
    for p in (ROOT / "verify").rglob("__init__.py"):
        names.add(".".join(("symsched_verify", *p.parent.relative_to(ROOT / "verify").parts)))
    return names


def test_every_package_folder_is_listed() -> None:
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == _packages_on_disk()
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"symsched_verify": "verify"}


def test_the_verify_command_is_an_entry_point_of_symsched_verify() -> None:
    eps = PYPROJECT["project"]["entry-points"]["symsched.commands"]
    assert eps == {"verify": "symsched_verify.cli:register_commands"}


def test_wheel_installs_no_top_level_verify(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("symsched-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"symsched", "symsched_verify"}
    names = zipfile.ZipFile(wheel).namelist()
    assert "symsched/data/digits.pt" in names and "symsched_verify/claims/gaussian.py" in names
