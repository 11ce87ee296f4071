"""``symsched kl``: exact KL of a grid on a Gaussian spectrum (conventions.md)."""

from __future__ import annotations

import argparse

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
from symsched.cli._schedule import add_method_options, schedule_from_args
from symsched.gaussian import exact
from symsched.schedules._registry import METHODS

MAX_LISTED_RATIOS = 1000


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "kl",
        help="exact KL of a grid on a Gaussian source",
        description="Exact KL (both directions) of the DDIM sampler with the exact denoiser.",
    )
    add_spectrum_args(p, required=True)
    grid = p.add_mutually_exclusive_group(required=True)
    grid.add_argument(
        "--sigmas", metavar="S0,S1,...,SN", help="the grid, descending (S0 may be inf)"
    )
    grid.add_argument(
        "--schedule", metavar="METHOD", choices=sorted(METHODS), help="build the grid with METHOD"
    )
    p.add_argument("--steps", type=int, metavar="N", help="steps for --schedule")
    p.add_argument("--sigma-min", type=float, metavar="A")
    p.add_argument("--sigma-max", type=float, metavar="B")
    p.add_argument(
        "--sampler",
        default="ddim",
        choices=[s for s in exact.SAMPLERS if s != "exact-flow"],
        help="reverse sampler (euler-vp: Euler on the VP PF-ODE in x; heun: EDM 2nd order; "
        "dpmpp-2m: DPM-Solver++(2M); ancestral: Euler ancestral / DDPM with --eta)",
    )
    p.add_argument(
        "--eta",
        type=float,
        metavar="E",
        help="noise fraction of --sampler ancestral, in [0, 1] (default 1)",
    )
    p.add_argument(
        "--start",
        default="exact",
        choices=exact.STARTS,
        help="exact: start from the true marginal; prior: from N(0, sigma_0^2)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_method_options(p)  # after the command's own flags, which take precedence
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    lam = spectrum_from_args(args)
    assert lam is not None  # the group is required
    if args.sigmas is not None:
        if args.steps is not None:
            raise CliError("--steps goes with --schedule, not with --sigmas")
        try:
            sigmas = as_grid(parse_floats(args.sigmas, "--sigmas"), "--sigmas")
        except ValueError as exc:
            raise CliError(str(exc)) from None
        params: dict[str, object] = {}
        method = "explicit"
    else:
        if args.steps is None:
            raise CliError("--schedule needs --steps N")
        # the spectrum also parametrises spectrum-aware methods (tangent -> gamma*) unless --c is given
        use_spectrum = not (args.schedule == "tangent" and args.c is not None)
        sched = schedule_from_args(args, args.schedule, use_spectrum=use_spectrum)
        sigmas, params, method = sched.sigmas, dict(sched.params), sched.method  # type: ignore[attr-defined]
    if args.eta is not None and args.sampler != "ancestral":
        raise CliError(f"--eta goes with --sampler ancestral, not {args.sampler}")
    try:
        res = exact.kl(lam, sigmas, start=args.start, sampler=args.sampler, eta=args.eta)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out: dict[str, object] = {
        "kl_source_output": res.kl_source_output,
        "kl_output_source": res.kl_output_source,
        "steps": int(sigmas.size - 1),
        "sampler": args.sampler,
        "start": args.start,
        **({"eta": 1.0 if args.eta is None else args.eta} if args.sampler == "ancestral" else {}),
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
            f"steps = {sigmas.size - 1}, sampler = {args.sampler}, start = {args.start}, d = {lam.size}",
            None,
        )
    return 0
