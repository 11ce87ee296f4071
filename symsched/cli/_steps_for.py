"""``symsched steps-for``: how many steps a method needs for a target KL (docs/cli.md#steps-for).

``--method METHOD`` is followed by that method's own options (``symsched schedule METHOD
--help``); a method that takes a spectrum gets the source spectrum. The answer is the fewest N
with KL(target || output) <= ``--target-kl`` under ``--sampler``
(:func:`symsched.score.steps_for_method`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from symsched._options import option_fields
from symsched._version import __version__
from symsched.cli._common import CliError, dumps_json, spectrum_from_args, write_output
from symsched.cli._registry_args import flagify, method_of, parse_method_argv, sampler_of
from symsched.samplers import sampler_names
from symsched.schedules import METHODS

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``steps-for`` command."""
    p = sub.add_parser(
        "steps-for",
        help="the fewest steps of a method that reach a target KL under a sampler",
        description="The fewest steps N for which METHOD's N-step grid has KL(target||output) <= "
        "--target-kl under --sampler, on a Gaussian spectrum (exact KL, doubling then "
        "bisection). The method's own options follow --method (see `symsched schedule METHOD "
        "--help`).",
    )
    spec = p.add_mutually_exclusive_group(required=True)
    spec.add_argument("--eigenvalues", metavar="L", help="comma-separated eigenvalues")
    spec.add_argument("--spectrum-file", metavar="F", help="eigenvalues from a .npy or text file")
    p.add_argument("--target-kl", type=float, required=True, metavar="K", help="the target KL")
    p.add_argument(
        "--method", required=True, choices=sorted(METHODS), metavar="METHOD",
        help="the schedule method: " + ", ".join(sorted(METHODS)),
    )  # fmt: skip
    p.add_argument(
        "--sampler", default="ddim", metavar="S", help=f"one of {', '.join(sampler_names())}"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run, accepts_method_options=True)


def run(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    """Search N and print it."""
    from symsched.score import MAX_TARGET_STEPS, steps_for_method

    lam = spectrum_from_args(args)
    assert lam is not None
    if not (args.target_kl > 0 and args.target_kl < float("inf")):
        raise CliError(f"--target-kl must be a finite number > 0, got {args.target_kl}")
    sampler_of(args.sampler)
    m = method_of(args.method)
    margs = parse_method_argv(m, extra, prog=f"symsched steps-for --method {m.name}",
                              skip=("eigenvalues",))  # fmt: skip
    given = {k: v for k, v in vars(margs).items() if v is not None}
    if m.wants_source_spectrum(given):
        given["eigenvalues"] = lam
    try:
        n = steps_for_method(lam, args.target_kl, m.name, sampler=args.sampler, **given)
    except (ValueError, TypeError) as exc:
        msg = flagify(str(exc), option_fields(m.options))
        raise CliError(msg if msg.startswith("--") else f"--method {m.name}: {msg}") from None
    out = {
        "method": m.name,
        "sampler": args.sampler,
        "target_kl": args.target_kl,
        "steps": n,
        "max_steps": MAX_TARGET_STEPS,
        "dimension": int(lam.size),
        "version": __version__,
    }
    if args.json:
        write_output(dumps_json(out), None)
    else:
        what = f"> {MAX_TARGET_STEPS}" if n is None else str(n)
        write_output(
            f"{m.name} under {args.sampler}: {what} steps for KL(target||output) <= "
            f"{args.target_kl:g} (d = {lam.size})",
            None,
        )
    return 0
