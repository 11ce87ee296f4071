"""``symsched`` command line (docs/cli.md).

Exit status (:class:`symsched.cli._common.ExitCode`), each failure one line on stderr:

* 0 success;
* 1 only when a verification finds a claim false;
* 2 bad input or an environment problem: a :class:`symsched._io.UsageError` (``CliError``, an
  output file that cannot be written, a missing optional dependency, an unavailable
  ``--device``), an argparse error, a ``ValueError``/``TypeError`` of input validation, or an
  ``ImportError`` of an optional dependency (the line names the extra to install);
* 130 on ``KeyboardInterrupt``;
* 70 for anything else, a bug: ``symsched CMD: internal error: Type: message (please report it;
  rerun with --debug for the traceback)``. ``symsched --debug CMD ...`` or ``SYMSCHED_DEBUG=1``
  prints the traceback (and lets library warnings through).

Warnings of the libraries symsched uses (torch, diffusers, numpy, hypothesis, ...) never reach the
terminal on a normal run; a warning whose category symsched defines (``SteinAccuracyWarning``) and
that the command does not report itself is printed as one ``symsched CMD: warning: ...`` line.

Subcommands live in their own modules here; packages built on top of the core (``verify``)
contribute theirs through the ``symsched.commands`` entry point group, so the core never imports
them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence

from symsched._budget import parse_size, set_budget
from symsched._io import UsageError
from symsched._version import __version__
from symsched.cli._common import (
    OUTPUT_FLAG,
    CliError,
    ExitCode,
    MissingDependency,
    OneLineParser,
    check_device,
)

__all__ = ["build_parser", "main"]


def _core_command_modules() -> list[str]:
    """Every ``symsched/cli/_*.py`` module with a ``register(subparsers)`` function, by name."""
    import pkgutil

    from symsched.cli import __path__ as here

    return [
        f"{__name__}.{m.name}"
        for m in sorted(pkgutil.iter_modules(here), key=lambda m: m.name)
        if m.name.startswith("_") and m.name not in ("_common", "__main__")
    ]


def _command_of(argv: Sequence[str]) -> str | None:
    """The command name in ``argv`` (the first word that is not a global option or its value),
    or ``None``."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--max-memory":
            skip = True
            continue
        if arg == "--" or arg.startswith("-"):
            if arg in ("--help", "-h", "--version"):
                return None
            continue
        return arg
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``symsched`` parser with every command (core and ``symsched.commands`` plugins).

    Parameters
    ----------
    command
        Build only what this command needs: its own module's subparser when one core module
        registers it (``kl`` is ``symsched/cli/_kl.py``), else everything. ``None``: everything
        (``symsched --help``).
    """
    parser = OneLineParser(
        prog="symsched",
        description="Theory-verification toolkit for diffusion noise schedules.",
    )
    parser.add_argument("--version", action="version", version=f"symsched {__version__}")
    parser.add_argument(
        "--max-memory",
        metavar="SIZE",
        help="memory budget of the command, e.g. 16G (default: half the available memory; also: "
        "environment SYMSCHED_MAX_MEMORY); larger requests are refused before they allocate",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print the traceback of an internal error (also: environment SYMSCHED_DEBUG=1)",
    )
    sub = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        parser_class=OneLineParser,
        help="the command to run; `symsched COMMAND --help` lists its options",
    )
    sub.required = True
    modules = _core_command_modules()
    if command is not None:
        own = f"{__name__}._{command.replace('-', '_')}"
        if own in modules:
            mod = importlib.import_module(own)
            if hasattr(mod, "register"):
                mod.register(sub)
            if command in sub.choices:  # its own module registers it: nothing else is needed
                return parser
        return build_parser(None)
    for name in modules:
        mod = importlib.import_module(name)
        if hasattr(mod, "register"):
            mod.register(sub)
    from importlib.metadata import entry_points  # (slow to import: only for the plugins)

    for ep in sorted(entry_points(group="symsched.commands"), key=lambda e: e.name):
        ep.load()(sub)
    return parser


_OWN_PACKAGES = ("symsched", "symsched_verify")


def _debug_asked(argv: Sequence[str]) -> bool:
    """``--debug`` before the command name, or ``SYMSCHED_DEBUG`` set to anything but 0/empty."""
    if os.environ.get("SYMSCHED_DEBUG", "").strip() not in ("", "0"):
        return True
    for arg in argv:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):  # the command name: later flags belong to the command
            return False
    return False


# loggers of libraries that print WARNING records of their own (diffusers: "modules that should be
# kept in float32 ..."); quiet below ERROR during a command
_LIBRARY_LOGGERS = (
    "diffusers",
    "transformers",
    "huggingface_hub",
    "torch",
    "matplotlib",
    "PIL",
    "distributed",
    "k_diffusion",
)
# diffusers (and transformers) set their logger's level from these when first imported
_VERBOSITY_VARIABLES = ("DIFFUSERS_VERBOSITY", "TRANSFORMERS_VERBOSITY")


@contextlib.contextmanager
def _quiet_libraries(command: list[str]) -> Iterator[None]:
    """Keep the warnings and log records of libraries off the terminal for the run of a command;
    print symsched's own warnings (a category defined in symsched) as one ``warning:`` line.

    Only the display of warnings is replaced (``warnings.showwarning``); the filters are left
    alone, so ``-W error`` or a test suite's ``filterwarnings`` still turn warnings into errors.
    A variable such as ``DIFFUSERS_VERBOSITY`` set by the user is respected.
    """

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: object = None,
        line: str | None = None,
    ) -> None:
        if category.__module__.split(".")[0] in _OWN_PACKAGES:
            print(f"{command[0]}: warning: {_one_line(message)}", file=sys.stderr)

    saved_env = {k: os.environ.get(k) for k in _VERBOSITY_VARIABLES}
    loggers = [logging.getLogger(n) for n in _LIBRARY_LOGGERS]
    saved_levels = [lg.level for lg in loggers]
    try:
        for k in _VERBOSITY_VARIABLES:
            os.environ.setdefault(k, "error")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.showwarning = show
            yield
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for lg, level in zip(loggers, saved_levels, strict=True):
            lg.setLevel(level)


def _one_line(exc: BaseException | str) -> str:
    """The message of ``exc`` on one line (a multi-line message is joined with spaces)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or type(exc).__name__


def _report(name: str, message: str, exc: BaseException | None, debug: bool, code: int) -> int:
    if debug and exc is not None:
        import traceback

        traceback.print_exception(exc)
    print(f"{name}: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symsched`` console script; returns the exit status.

    See the module docstring for the exit codes. argparse errors (and ``--help``/``--version``)
    leave through ``SystemExit`` with status 2 (0), as argparse raises it.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_asked(argv)
    name = ["symsched"]  # becomes "symsched CMD" once the command is known
    ctx: contextlib.AbstractContextManager[None] = (
        contextlib.nullcontext() if debug else _quiet_libraries(name)
    )
    with ctx:
        try:
            parser = build_parser(_command_of(argv))
            args, extra = parser.parse_known_args(argv)
            name[0] = f"symsched {args.command}"
            debug = debug or bool(getattr(args, "debug", False))
            # `kl` and `asymptotics` parse what follows --schedule METHOD with the method's options
            takes_extra = bool(getattr(args, "accepts_method_options", False))
            if extra and not takes_extra:
                explain = getattr(args, "unknown_options", None)
                raise CliError(
                    explain(extra)
                    if explain is not None
                    else f"unrecognized arguments: {' '.join(extra)} (see {name[0]} --help)"
                )
            if any(a == "--output" or a.startswith("--output=") for a in argv):
                OUTPUT_FLAG.set("--output")
            if args.max_memory is not None:
                set_budget(parse_size(args.max_memory, "--max-memory"))
            check_device(getattr(args, "device", None))
            status = args.func(args, extra) if takes_extra else args.func(args)
            return int(status or ExitCode.OK)
        except (UsageError, ValueError, TypeError) as exc:
            return _report(name[0], f"error: {_one_line(exc)}", exc, debug, ExitCode.BAD_INPUT)
        except ImportError as exc:
            missing = MissingDependency.from_import_error(exc)
            if missing is None:
                return _internal(name[0], exc, debug)
            return _report(name[0], f"error: {missing}", exc, debug, ExitCode.BAD_INPUT)
        except KeyboardInterrupt as exc:
            return _report(name[0], "interrupted", exc, debug, ExitCode.INTERRUPTED)
        except BrokenPipeError:  # `symsched ... | head`: the reader left; nothing more to say
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes
            return 141  # 128 + SIGPIPE, what a shell reports for a killed writer
        except MemoryError as exc:  # an estimate fell short: still the size of the request
            message = (
                "error: out of memory (the request is larger than this machine can hold; "
                "use smaller sizes or a smaller --max-memory to be refused early): "
                f"{_one_line(exc)}"
            )
            return _report(name[0], message, exc, debug, ExitCode.BAD_INPUT)
        except Exception as exc:
            return _internal(name[0], exc, debug)
        finally:
            set_budget(None)
            OUTPUT_FLAG.set("-o")


def _internal(name: str, exc: BaseException, debug: bool) -> int:
    message = (
        f"internal error: {type(exc).__name__}: {_one_line(exc)} "
        "(please report it; rerun with --debug for the traceback)"
    )
    return _report(name, message, exc, debug, ExitCode.INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
