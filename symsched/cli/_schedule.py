"""``symsched schedule METHOD --steps N ...``: build a grid and print or export it.

One sub-command per registered method, each with that method's options only
(``symsched schedule karras --help``), then the output options: ``--json`` or ``--format FMT`` with
the format's own options, ``-o FILE`` and ``--force``.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from symsched._options import add_options, cli_int, option_fields
from symsched.cli._builtin import add_builtin_parser
from symsched.cli._common import CliError, dumps_json, write_output
from symsched.cli._registry_args import (
    add_export_options,
    build_from_args,
    export_kwargs,
    method_export_kwargs,
    unknown_method_option,
)
from symsched.export import export
from symsched.schedules import METHODS

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``schedule`` and one sub-command per registered method."""
    p = sub.add_parser(
        "schedule",
        help="build an N-step noise-level grid",
        description="Build an N-step grid [sigma_0 > ... > sigma_N] with METHOD and print or "
        "export it. `symsched schedule METHOD --help` lists the method's options.",
    )
    methods = p.add_subparsers(
        dest="method",
        metavar="METHOD",
        parser_class=type(p),
        help="the schedule method (or builtin: another tool's schedule)",
    )
    methods.required = True
    for name in sorted(METHODS):
        m = METHODS[name]
        mp = methods.add_parser(
            name,
            help=m.summary,
            description=m.summary,
            epilog=f"example: {m.example}",
        )
        mp.add_argument(
            "--steps", type=cli_int, required=True, metavar="N", help="number of steps (N+1 levels)"
        )
        add_options(mp.add_argument_group(f"{name} options"), m.options)
        out = mp.add_argument_group("output")
        excl = out.add_mutually_exclusive_group()
        excl.add_argument("--json", action="store_true", help="print the schedule object as JSON")
        add_export_options(excl, out, skip=frozenset(f.flag for f in option_fields(m.options)))
        out.add_argument(
            "-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout"
        )
        out.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
        mp.set_defaults(func=run, unknown_options=functools.partial(unknown_method_option, m))
    add_builtin_parser(methods)


def run(args: argparse.Namespace) -> int:
    """Build the grid, then print or export it."""
    if args.steps < 1:
        raise CliError(f"--steps must be >= 1, got {args.steps}")
    fmt = "json" if args.json else args.format
    opts = export_kwargs(args, args.format)
    sched = build_from_args(METHODS[args.method], args.steps, args)
    opts = method_export_kwargs(METHODS[args.method], sched, fmt) | opts
    if fmt is None:
        params = dumps_json(sched.params).replace("\n", " ")
        lines = [f"# {sched.method}: {sched.steps} steps, params {params}"]
        lines += [repr(float(v)) if v != float("inf") else "inf" for v in sched.sigmas]
        write_output("\n".join(lines), args.output, force=args.force)
        return 0
    try:
        out = export(sched, fmt, **opts)
    except ValueError as exc:
        msg = str(exc)
        raise CliError(msg if msg.startswith("--") else f"--format {fmt}: {msg}") from None
    write_output(out.text, args.output, force=args.force)
    print(out.note, file=sys.stderr)
    return 0
