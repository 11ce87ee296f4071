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

from symsched._version import __version__
from symsched.cli._common import CliError, ExitCode, OneLineParser

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


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="symsched",
        description="Theory-verification toolkit for diffusion noise schedules.",
    )
    parser.add_argument("--version", action="version", version=f"symsched {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name in _core_command_modules():
        mod = importlib.import_module(name)
        if hasattr(mod, "register"):
            mod.register(sub)
    for ep in sorted(entry_points(group="symsched.commands"), key=lambda e: e.name):
        ep.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symsched`` console script; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    accepts_extra = getattr(args, "accepts_method_options", False)
    if extra and not accepts_extra:
        print(
            f"symsched {args.command}: error: unrecognized arguments: {' '.join(extra)} "
            f"(see symsched {args.command} --help)",
            file=sys.stderr,
        )
        return ExitCode.BAD_INPUT
    try:
        return int((args.func(args, extra) if accepts_extra else args.func(args)) or ExitCode.OK)
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
