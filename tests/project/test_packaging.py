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
    # build from a copy of the tracked files, so that the build leaves nothing in the checkout
    src = tmp_path / "src"
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    for name in listed.split():
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run(
        [*cmd, "-w", str(tmp_path), str(src)], check=True, capture_output=True, cwd=tmp_path
    )
    (wheel,) = tmp_path.glob("symsched-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"symsched", "symsched_verify"}
    assert "symsched/data/digits.pt" in names and "symsched_verify/claims/gaussian.py" in names
