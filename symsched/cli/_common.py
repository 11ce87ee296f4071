"""Shared CLI plumbing: one-line errors, exit codes, list and spectrum parsing, JSON and safe file
output (through :mod:`symsched._io`), optional-dependency and device checks."""

from __future__ import annotations

import argparse
import contextvars
import enum
import importlib
import json
import math
import re
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from symsched._io import UsageError, check_target, write_text
from symsched._json import json_safe
from symsched._validate import as_eigenvalues

__all__ = [
    "EXTRAS",
    "CliError",
    "ExitCode",
    "MissingDependency",
    "OneLineParser",
    "UsageError",
    "add_spectrum_args",
    "check_device",
    "check_output",
    "dumps_json",
    "load_spectrum_file",
    "parse_floats",
    "parse_steps_list",
    "require",
    "spectrum_from_args",
    "spectrum_from_text",
    "write_output",
]


class ExitCode(enum.IntEnum):
    """Exit status of ``symsched`` (docs/cli.md)."""

    OK = 0
    CLAIM_FAILED = 1  # only: a verification claim is false
    BAD_INPUT = 2  # bad input or an environment problem (missing extra, unavailable device, ...)
    INTERNAL = 70  # a bug (EX_SOFTWARE): any other exception
    INTERRUPTED = 130  # KeyboardInterrupt (128 + SIGINT)


class CliError(UsageError):
    """Bad command-line input: printed as one line, exit status 2.

    A kind of :class:`symsched._io.UsageError`, like the :class:`symsched._io.OutputError` of the
    file writers; the CLI treats every ``UsageError`` the same way."""


# optional dependency (top-level module) -> the extra of pyproject.toml that installs it
EXTRAS: dict[str, str] = {
    "torch": "torch",
    "torchvision": "torch",
    "diffusers": "consumers",
    "k_diffusion": "consumers",
    "hypothesis": "verify",
    "dask": "dask",
    "distributed": "dask",
}


class MissingDependency(UsageError):
    """An optional dependency is not installed: one line naming the extra that installs it."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.extra = EXTRAS[module]
        super().__init__(
            f"this needs {module}; install it with pip install 'symsched[{self.extra}]'"
        )

    @classmethod
    def from_import_error(cls, exc: ImportError) -> MissingDependency | None:
        """The missing extra behind ``exc``, or ``None`` if the module is not an optional one."""
        name = (exc.name or "").split(".")[0]
        return cls(name) if name in EXTRAS else None


def require(module: str) -> None:
    """Import the optional dependency ``module`` (a key of :data:`EXTRAS`) or raise
    :class:`MissingDependency`."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        missing = MissingDependency.from_import_error(exc) or MissingDependency(module)
        raise missing from None


def check_device(device: str | None, flag: str = "--device") -> None:
    """Raise :class:`CliError` unless torch can allocate on ``device`` (``None``/``cpu``: no check,
    so a CPU run needs torch only if the computation does)."""
    if device is None or device == "cpu":
        return
    require("torch")
    import torch

    try:
        torch.empty(0, device=device)
    except Exception as exc:  # RuntimeError for a bad string, or no CUDA/MPS on this machine
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise CliError(f"{flag} {device}: not available here ({why}); use {flag} cpu") from None


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown once, where they say something; an ``example:`` epilog kept on one line, so
    that it can be copied.

    ``(default: X)`` is appended to an option's help only when the help does not state its default
    itself (any mention of "default"), the option takes a value (not a flag such as
    ``store_true``/``store_const``, whose default is the flag's absence) and the default is not
    ``None``, ``SUPPRESS`` or an empty list.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        default = action.default
        if (
            not text
            or re.search(r"\bdefaults?\b", text, re.IGNORECASE)
            or action.nargs == 0
            or default is None
            or default is argparse.SUPPRESS
            or (isinstance(default, (list, tuple)) and not default)
        ):
            return text
        return super()._get_help_string(action)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class OneLineParser(argparse.ArgumentParser):
    """argparse parser whose errors are one line on stderr (no usage block), exit status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
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
    """Parse a comma-separated list of step counts (integers >= 1; ``1e3`` accepted) for option
    ``name``."""
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


def load_spectrum_file(path: str, flag: str = "--spectrum-file") -> NDArray[np.float64]:
    """Eigenvalues from a ``.npy`` file (a 1-D real array; pickles are refused) or a text file
    with one number per line (``#`` comments); a single row or column is accepted too.

    A covariance matrix, a complex array or anything else that is not a list of eigenvalues is
    refused with the fix, never flattened or cast silently.
    """
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{flag} {path!r} does not exist or is not a file")
    try:
        if p.suffix == ".npy":
            raw = np.load(p, allow_pickle=False)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "input contained no data": refused below
                raw = np.loadtxt(p, dtype=np.float64, comments="#", ndmin=2)
    except (OSError, ValueError, EOFError, UnicodeDecodeError) as exc:
        raise CliError(
            f"{flag} {path!r} could not be read as numbers ({_first_line(exc)})"
        ) from None
    if not isinstance(raw, np.ndarray):
        raise CliError(
            f"{flag} {path!r} holds several arrays (.npz); save one array with numpy.save"
        )
    if raw.dtype.kind == "c":
        raise CliError(
            f"{flag} {path!r} holds complex numbers; eigenvalues of a covariance are real"
        )
    if raw.dtype.kind not in "fiu":
        raise CliError(f"{flag} {path!r} holds {raw.dtype} values, not real numbers")
    if raw.ndim > 1 and sorted(raw.shape)[-2] > 1:
        shape = "x".join(map(str, raw.shape))
        raise CliError(
            f"{flag} {path!r} holds a {shape} array, not a list of eigenvalues; give a 1-D array "
            "(of a covariance matrix C, its eigenvalues numpy.linalg.eigvalsh(C))"
        )
    arr = np.asarray(raw, dtype=np.float64).reshape(-1)
    try:
        return as_eigenvalues(arr, f"{flag} {path}")
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def spectrum_from_text(flag: str, text: str) -> NDArray[np.float64]:
    """The spectrum of ``--eigenvalues TEXT`` or ``--spectrum-file PATH`` (``flag`` says which)."""
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
    """The spectrum of a command's own ``--eigenvalues`` or ``--spectrum-file`` (else ``None``)."""
    if getattr(args, "eigenvalues", None) is not None:
        return spectrum_from_text("--eigenvalues", args.eigenvalues)
    if getattr(args, "spectrum_file", None) is not None:
        return spectrum_from_text("--spectrum-file", args.spectrum_file)
    return None


def dumps_json(obj: Any) -> str:
    return json.dumps(json_safe(obj), indent=2, allow_nan=False)


OUTPUT_FLAG: contextvars.ContextVar[str] = contextvars.ContextVar("OUTPUT_FLAG", default="-o")
"""How the user spelled the output option, ``-o`` or ``--output`` (set by ``main``), so that a
refusal names the flag as typed."""


def check_output(path: str | None, *, force: bool = False, flag: str | None = None) -> None:
    """Refuse an output file that :func:`write_output` would refuse, before any work is done."""
    if path is not None and path != "-":
        check_target(path, force=force, flag=flag or OUTPUT_FLAG.get())


def write_output(
    text: str, path: str | None, *, force: bool = False, flag: str | None = None
) -> None:
    """Print ``text`` to stdout, or write it to ``path`` through :func:`symsched._io.write_text`
    (atomic, never clobbering without ``force``); a newline is added if missing."""
    body = text if text.endswith("\n") else text + "\n"
    if path is None or path == "-":
        sys.stdout.write(body)
        return
    write_text(path, body, force=force, flag=flag or OUTPUT_FLAG.get())
