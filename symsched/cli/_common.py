"""Shared CLI plumbing: one-line errors, list and spectrum parsing, JSON and safe file output."""

from __future__ import annotations

import argparse
import enum
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from symsched._validate import as_eigenvalues
from symsched._json import json_safe

__all__ = [
    "CliError",
    "ExitCode",
    "OneLineParser",
    "add_spectrum_args",
    "dumps_json",
    "load_spectrum_file",
    "parse_floats",
    "parse_steps_list",
    "spectrum_from_args",
    "spectrum_from_text",
    "write_output",
]


class ExitCode(enum.IntEnum):
    OK = 0
    CLAIM_FAILED = 1
    BAD_INPUT = 2


class CliError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse parser whose errors are one line on stderr (no usage block), exit status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        kwargs.setdefault("allow_abbrev", False)  # an abbreviation could silently pick a flag
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(ExitCode.BAD_INPUT)


def parse_floats(text: str, name: str) -> NDArray[np.float64]:
    """Parse a comma-separated list of numbers (``inf`` allowed) for option ``name``."""
    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(p == "" for p in parts):
        raise CliError(f"{name} must be a comma-separated list of numbers, got {text!r}")
    try:
        return np.array([float(p) for p in parts], dtype=np.float64)
    except ValueError:
        raise CliError(f"{name} must be a comma-separated list of numbers, got {text!r}") from None


def parse_steps_list(text: str, name: str = "--steps") -> list[int]:
    """Parse a comma-separated list of step counts (integers >= 1; ``1e3`` accepted) for option ``name``."""
    out = []
    for tok in str(text).split(","):
        try:
            v = float(tok)
        except ValueError:
            raise CliError(f"{name} must be comma-separated integers >= 1, got {text!r}") from None
        if not (math.isfinite(v) and v >= 1 and v == int(v)):
            raise CliError(f"{name} must be comma-separated integers >= 1, got {text!r}")
        out.append(int(v))
    return out


def load_spectrum_file(path: str) -> NDArray[np.float64]:
    """Eigenvalues from a ``.npy`` file or a text file with one number per line (``#`` comments)."""
    p = Path(path)
    if not p.is_file():
        raise CliError(f"--spectrum-file {path!r} does not exist or is not a file")
    try:
        if p.suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        else:
            arr = np.loadtxt(p, dtype=np.float64, comments="#", ndmin=1)
    except (OSError, ValueError) as exc:
        raise CliError(f"--spectrum-file {path!r} could not be read as numbers ({exc})") from None
    arr = np.asarray(arr, dtype=np.float64).ravel()
    try:
        return as_eigenvalues(arr, f"--spectrum-file {path}")
    except ValueError as exc:
        raise CliError(str(exc)) from None


def spectrum_from_text(flag: str, text: str) -> NDArray[np.float64]:
    """The spectrum given as ``--eigenvalues TEXT`` or ``--spectrum-file PATH`` (``flag`` says which)."""
    if flag == "--spectrum-file":
        return load_spectrum_file(text)
    try:
        return as_eigenvalues(parse_floats(text, flag), flag)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def add_spectrum_args(parser: argparse.ArgumentParser, required: bool = False) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(
        "--eigenvalues", metavar="L", help="comma-separated covariance eigenvalues, e.g. 1,2,3.5"
    )
    group.add_argument(
        "--spectrum-file", metavar="F", help="eigenvalues from a .npy or text file (one per line)"
    )


def spectrum_from_args(args: argparse.Namespace) -> NDArray[np.float64] | None:
    """The spectrum of a command's own ``--eigenvalues`` / ``--spectrum-file`` (``None`` if neither)."""
    if getattr(args, "eigenvalues", None) is not None:
        return spectrum_from_text("--eigenvalues", args.eigenvalues)
    if getattr(args, "spectrum_file", None) is not None:
        return spectrum_from_text("--spectrum-file", args.spectrum_file)
    return None


def dumps_json(obj: Any) -> str:
    return json.dumps(json_safe(obj), indent=2, allow_nan=False)


def write_output(text: str, path: str | None, *, force: bool = False) -> None:
    """Print ``text`` to stdout, or write it atomically to ``path`` (never clobbering without ``force``)."""
    if path is None or path == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    target = Path(path)
    if target.exists() and not force:
        raise CliError(f"-o {path}: file exists; pass --force to overwrite it")
    if target.is_dir():
        raise CliError(f"-o {path}: is a directory")
    if not target.parent.exists():
        raise CliError(f"-o {path}: directory {str(target.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
