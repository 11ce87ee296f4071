"""``symsched schedule METHOD --steps N ...``: build a grid and print or export it."""

from __future__ import annotations

import argparse
import sys

from symsched.cli._common import (
    CliError,
    dumps_json,
    parse_floats,
    spectrum_from_args,
    write_output,
)
from symsched.export import _legacy as exporters
from symsched.schedules._registry import METHODS, _load_builtin_methods, build


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _load_builtin_methods()
    p = sub.add_parser(
        "schedule",
        help="build an N-step noise-level grid",
        description="Build an N-step grid [sigma_0 > ... > sigma_N] and print or export it.",
    )
    p.add_argument(
        "method",
        metavar="METHOD",
        choices=sorted(METHODS),
        help="one of: " + ", ".join(sorted(METHODS)),
    )
    p.add_argument(
        "--steps", type=int, required=True, metavar="N", help="number of steps (N+1 levels)"
    )
    p.add_argument(
        "--sigma-min", type=float, metavar="A", help="smallest level (method default if omitted)"
    )
    p.add_argument(
        "--sigma-max",
        type=float,
        metavar="B",
        help="largest level, may be inf (method default if omitted)",
    )
    add_method_options(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the schedule object as JSON")
    out.add_argument("--format", choices=exporters.FORMATS, help="export format")
    p.add_argument(
        "--train-schedule",
        choices=exporters.TRAIN_SCHEDULES,
        default=None,
        help="training beta table for --format diffusers-timesteps (default scaled_linear: SD 1.x/XL)",
    )
    p.add_argument(
        "--shift",
        type=float,
        default=None,
        metavar="S",
        help="shift configured on the flow-matching scheduler, undone by --format flow-matching (default 1)",
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout"
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=run)


def add_method_options(p: argparse.ArgumentParser) -> None:
    """Add the union of every registered method's options (each flag once)."""
    seen: set[str] = set(p._option_string_actions)  # flags the command already defines
    method_dests: set[str] = set()
    for spec in METHODS.values():
        for opt in spec.options:
            if opt.flag in seen:
                continue
            seen.add(opt.flag)
            method_dests.add(opt.dest)
            p.add_argument(opt.flag, **dict(opt.kwargs))
    p.set_defaults(method_option_dests=frozenset(method_dests))


def schedule_from_args(
    args: argparse.Namespace, method: str, *, use_spectrum: bool = True
) -> object:
    """Build the schedule named by ``method`` from parsed CLI options."""
    spec = METHODS[method]
    kwargs: dict[str, object] = {"sigma_min": args.sigma_min, "sigma_max": args.sigma_max}
    for opt in spec.options:
        kwargs[opt.dest] = getattr(args, opt.dest, None)
    # spectrum options are parsed into arrays here
    if "eigenvalues" in kwargs or "spectrum_file" in kwargs:
        lam = spectrum_from_args(args)
        kwargs.pop("eigenvalues", None)
        kwargs.pop("spectrum_file", None)
        if lam is not None and use_spectrum:
            kwargs["eigenvalues"] = lam
    # method options the user gave that this method does not take (the command's own flags, such
    # as kl's --start, are not method options even when a method has an option of the same name)
    method_dests = getattr(args, "method_option_dests", frozenset())
    given_unused = [
        o.flag
        for s in METHODS.values()
        for o in s.options
        if o.dest in method_dests
        and o.dest not in kwargs
        and getattr(args, o.dest, None) not in (None, False)
        and o.dest not in ("eigenvalues", "spectrum_file")
    ]
    if given_unused:
        raise CliError(f"method {method} does not take {', '.join(sorted(set(given_unused)))}")
    if args.steps is not None and args.steps < 1:
        raise CliError(f"--steps must be >= 1, got {args.steps}")
    try:
        return build(method, args.steps, **kwargs)
    except ValueError as exc:
        raise CliError(
            str(exc).replace("sigma_min", "--sigma-min").replace("sigma_max", "--sigma-max")
        ) from None


def run(args: argparse.Namespace) -> int:
    sched = schedule_from_args(args, args.method)
    fmt = "json" if args.json else args.format
    if fmt is None and (args.train_schedule is not None or args.shift is not None):
        raise CliError(
            "--train-schedule needs --format diffusers-timesteps and --shift needs --format flow-matching"
        )
    if fmt is None:
        lines = [
            f"# {sched.method}: {sched.steps} steps, params {dumps_json(sched.params).replace(chr(10), ' ')}"
        ]  # type: ignore[attr-defined]
        lines += [repr(float(v)) if v != float("inf") else "inf" for v in sched.sigmas]  # type: ignore[attr-defined]
        write_output("\n".join(lines), args.output, force=args.force)
        return 0
    opts: dict[str, object] = {}
    if args.train_schedule is not None:
        opts["train_schedule"] = args.train_schedule
    if args.shift is not None:
        opts["shift"] = args.shift
    try:
        out = exporters.export(sched, fmt, **opts)  # type: ignore[arg-type]
    except ValueError as exc:
        msg = str(exc)
        raise CliError(msg if msg.startswith("--") else f"--format {fmt}: {msg}") from None
    write_output(out.text, args.output, force=args.force)
    print(out.note, file=sys.stderr)
    return 0


__all__ = ["add_method_options", "parse_floats", "register", "schedule_from_args"]
