"""``symsched kl``: exact KL (both directions) and coupling error of a sampler on a Gaussian
source (docs/theory/coupling.md).

The grid is ``--sigmas`` or ``--schedule METHOD --steps N`` followed by that method's own options
(``symsched schedule METHOD --help``); a method that takes a spectrum gets the source spectrum
unless one of its alternatives is given (``tangent --c``). The sampler is ``--sampler`` with its
knobs (docs/cli.md#kl).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from typing import Any

from symsched._budget import check_memory
from symsched._options import cli_int
from symsched._validate import as_grid
from symsched._version import __version__
from symsched.cli._common import (
    CliError,
    add_spectrum_args,
    dumps_json,
    parse_floats,
    spectrum_from_args,
    write_output,
)
from symsched.cli._registry_args import (
    add_sampler_options,
    build_from_args,
    method_of,
    parse_method_argv,
    sampler_knobs,
)
from symsched.gaussian import exact
from symsched.gaussian.coupling import coupling_error
from symsched.samplers import SAMPLERS
from symsched.schedules import METHODS

__all__ = ["MAX_LISTED_RATIOS", "register"]

MAX_LISTED_RATIOS = 1000


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``kl`` command."""
    p = sub.add_parser(
        "kl",
        help="exact KL and coupling error of a grid on a Gaussian source",
        description="Exact KL (both directions) and coupling error (the teacher-trajectory error, "
        "docs/theory/coupling.md) of a sampler with the exact denoiser on a Gaussian source. "
        "With --schedule METHOD, the method's own options follow (see "
        "`symsched schedule METHOD --help`).",
    )
    add_spectrum_args(p, required=True)
    grid = p.add_mutually_exclusive_group(required=True)
    grid.add_argument(
        "--sigmas", metavar="S0,S1,...,SN", help="the grid, descending (S0 may be inf)"
    )
    grid.add_argument(
        "--schedule",
        metavar="METHOD",
        choices=sorted(METHODS),
        help="build the grid with METHOD: " + ", ".join(sorted(METHODS)),
    )
    p.add_argument("--steps", type=cli_int, metavar="N", help="steps for --schedule")
    add_sampler_options(p)
    p.add_argument(
        "--start",
        default="exact",
        choices=exact.STARTS,
        help="exact: start from the true marginal; prior: from N(0, sigma_0^2)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run, accepts_method_options=True)


def run(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    """Evaluate both KLs and print them (``extra``: the method's own options)."""
    lam = spectrum_from_args(args)
    assert lam is not None  # the group is required
    knobs = sampler_knobs(args, [args.sampler])[args.sampler]
    if args.sigmas is not None:
        if args.steps is not None:
            raise CliError("--steps goes with --schedule, not with --sigmas")
        if extra:
            raise CliError(f"{extra[0]}: method options go with --schedule METHOD, not --sigmas")
        try:
            sigmas = as_grid(parse_floats(args.sigmas, "--sigmas"), "--sigmas")
        except ValueError as exc:
            raise CliError(str(exc)) from None
        params: dict[str, object] = {}
        method = "explicit"
    else:
        if args.steps is None:
            raise CliError("--schedule needs --steps N")
        m = method_of(args.schedule)
        prog = f"symsched kl --schedule {m.name}"
        margs = parse_method_argv(m, extra, prog=prog, skip=("eigenvalues",))
        given = {k: v for k, v in vars(margs).items() if v is not None}
        spectrum = {"eigenvalues": lam} if m.wants_source_spectrum(given) else None
        typed = "--spectrum-file" if args.spectrum_file is not None else "--eigenvalues"
        nbytes, driver = SAMPLERS[args.sampler].memory_estimate(lam.size, args.steps)
        check_memory(
            nbytes,
            flag=typed if driver == "eigenvalues" else "--steps",
            what=f"the {args.sampler} recursion of {args.steps} steps on {lam.size} eigenvalues",
        )
        sched = build_from_args(m, args.steps, margs, extra=spectrum, typed_spectrum=typed)
        sigmas, params, method = sched.sigmas, dict(sched.params), sched.method
    try:
        SAMPLERS[args.sampler].check_grid(sigmas)
    except ValueError as exc:  # name the flag that set sigma_0
        raise CliError(
            f"{'--sigmas' if args.sigmas is not None else '--sigma-max'}: {exc}"
        ) from None
    try:
        res = exact.kl(lam, sigmas, start=args.start, sampler=args.sampler, **knobs)  # type: ignore[arg-type]
        c_err = coupling_error(lam, sigmas, sampler=args.sampler, **knobs)  # type: ignore[arg-type]
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out: dict[str, object] = {
        "kl_source_output": res.kl_source_output,
        "kl_output_source": res.kl_output_source,
        "coupling": c_err,
        "steps": int(sigmas.size - 1),
        "sampler": args.sampler,
        "start": args.start,
        **dataclasses.asdict(SAMPLERS[args.sampler].make_knobs(**knobs)),
        "sigmas": sigmas,
        "schedule": {"method": method, "params": params},
        "dimension": int(lam.size),
        "version": __version__,
    }
    if lam.size <= MAX_LISTED_RATIOS:
        out["variance_ratios"] = res.variance_ratios
    if args.json:
        write_output(dumps_json(out), None)
    else:
        write_output(
            f"KL(source||output) = {res.kl_source_output:.12g}\n"
            f"KL(output||source) = {res.kl_output_source:.12g}\n"
            f"coupling error     = {c_err:.12g}\n"
            f"steps = {sigmas.size - 1}, sampler = {args.sampler}, start = {args.start}, "
            f"d = {lam.size}",
            None,
        )
    return 0
