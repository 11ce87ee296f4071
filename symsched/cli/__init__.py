"""``symsched`` command line (conventions.md, "Command-line contract").

Exit status: 0 on success, 2 on bad input (one line on stderr naming the argument, no traceback),
1 when a verification finds a claim false. Subcommands live in their own modules here; packages
built on top of the core (``verify``) contribute theirs through the ``symsched.commands`` entry
point group, so the core never imports them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from .._version import __version__
from ._common import CliError, ExitCode, OneLineParser

__all__ = ["main", "build_parser"]

_CORE_COMMANDS = ("symsched.cli._schedule", "symsched.cli._kl", "symsched.cli._derive")
# Modules of the core that add further subcommands (one line each; keep sorted).
_EXTRA_CORE_COMMANDS: list[str] = []


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="symsched",
        description="Theory-verification toolkit for diffusion noise schedules.",
    )
    parser.add_argument("--version", action="version", version=f"symsched {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name in (*_CORE_COMMANDS, *_EXTRA_CORE_COMMANDS):
        importlib.import_module(name).register(sub)
    for ep in sorted(entry_points(group="symsched.commands"), key=lambda e: e.name):
        ep.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symsched`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or ExitCode.OK)
    except CliError as exc:
        print(f"symsched {args.command}: error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except (ValueError, TypeError) as exc:
        print(f"symsched {args.command}: error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except KeyboardInterrupt:
        print("symsched: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
