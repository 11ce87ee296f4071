"""``symsched asymptotics``: Euler–Maclaurin coefficients of ln r and of both KL directions.

See docs/cli.md#asymptotics and docs/theory/gaussian.md#euler-maclaurin-expansion.
"""

from __future__ import annotations

import argparse
import math
import warnings
from collections.abc import Sequence
from typing import Any

from symsched._budget import check_memory
from symsched._options import cli_int, option_fields
from symsched._version import __version__
from symsched.cli._common import (
    CliError,
    add_spectrum_args,
    dumps_json,
    spectrum_from_args,
    write_output,
)
from symsched.cli._registry_args import flagify, method_of, parse_method_argv
from symsched.gaussian import exact
from symsched.samplers import SAMPLERS
from symsched.schedules import family_of, method_names


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "asymptotics",
        help="Euler-Maclaurin expansion of the KL in the number of steps N",
        description="ln r_i = -B_i - J_i/N - K_i/N^3 + O(N^-5) and both KL directions to N^-4 "
        "for a smooth schedule family on the uniform grid u = k/N (Sun et al. 2026, §5.1; "
        "docs/theory/gaussian.md#euler-maclaurin-expansion).",
    )
    add_spectrum_args(p, required=True)
    p.add_argument(
        "--schedule",
        required=True,
        choices=method_names(family=True),
        metavar="METHOD",
        help="a smooth schedule family: "
        + ", ".join(method_names(family=True))
        + "; its own options follow (see symsched schedule METHOD --help)",
    )
    p.add_argument(
        "--start",
        default="exact",
        choices=exact.STARTS,
        help="prior adds the boundary term B_i = ln(1 + lam_i/sigma_max^2)",
    )
    p.add_argument(
        "--steps",
        type=cli_int,
        metavar="N",
        help="also evaluate the truncated expansion at N and compare with the exact KL",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run, accepts_method_options=True)


def _coeff_obj(c: dict[int, float]) -> dict[str, float]:
    return {f"N^-{p}" if p else "N^0": v for p, v in c.items() if p >= 2 or v != 0.0}


def run(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    """Print the Euler–Maclaurin coefficients (``extra``: the family's own options)."""
    from symsched.gaussian import asymptotics

    lam = spectrum_from_args(args)
    assert lam is not None
    m = method_of(args.schedule)
    margs = parse_method_argv(
        m, extra, prog=f"symsched asymptotics --schedule {m.name}", skip=("eigenvalues",)
    )
    given = {k: v for k, v in vars(margs).items() if v is not None}
    kwargs = dict(given)
    if m.wants_source_spectrum(given):
        kwargs["eigenvalues"] = lam
    fields = option_fields(m.options)
    typed = "--spectrum-file" if args.spectrum_file is not None else "--eigenvalues"
    # J, K and the KL coefficients: ~40 d-vectors (the quadrature works in bounded chunks)
    check_memory(8.0 * 40 * lam.size, flag=typed, what=f"the expansion on {lam.size} eigenvalues")
    if args.steps is not None:
        nbytes, driver = SAMPLERS["ddim"].memory_estimate(lam.size, args.steps)
        check_memory(
            nbytes,
            flag=typed if driver == "eigenvalues" else "--steps",
            what=f"the exact KL at --steps {args.steps}",
        )
    try:
        fam = family_of(m.name, kwargs)
        coef = asymptotics.coefficients(lam, fam, start=args.start)
    except ValueError as exc:
        msg = flagify(str(exc), fields)
        if "at eigenvalue" in msg:  # a property of the spectrum: name the flag that gave it
            msg = f"{typed}: {msg}"
        raise CliError(msg) from None
    out: dict[str, Any] = {
        "schedule": {"method": fam.name, "params": dict(fam.params)},
        "start": args.start,
        "dimension": int(lam.size),
        "J": coef.J,
        "K": coef.K,
        "kl_source_output": _coeff_obj(coef.kl_source_output),
        "kl_output_source": _coeff_obj(coef.kl_output_source),
        "integrals": coef.method,
        "onset_steps": coef.onset_steps,
        "warnings": [],
        "version": __version__,
    }
    if args.start == "prior" and math.isfinite(fam.sigma_max):
        out["B"] = coef.B
    if args.steps is not None:
        if args.steps < 1:
            raise CliError(f"--steps must be >= 1, got {args.steps}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["warnings"] = asymptotics.small_n_warnings(coef, args.steps)
        res = exact.kl(lam, fam.grid(args.steps), start=args.start)
        out["steps"] = args.steps
        out["predicted"] = {
            d: {
                f"through N^-{p}": asymptotics.predicted_kl(coef, args.steps, p, d)
                for p in (2, 3, 4)
            }
            for d in ("kl_source_output", "kl_output_source")
        }
        out["exact"] = {
            "kl_source_output": res.kl_source_output,
            "kl_output_source": res.kl_output_source,
        }
    if args.json:
        write_output(dumps_json(out), None)
        return 0
    lines = [
        f"{fam.name} {dict(fam.params)}, d = {lam.size}, start = {args.start}, "
        f"integrals: {coef.method}",
        f"sum J = {coef.J.sum():.10g}, sum K = {coef.K.sum():.10g}, "
        f"asymptotic onset N* ~ {coef.onset_steps:.3g}",
    ]
    for d in ("kl_source_output", "kl_output_source"):
        lines.append(
            f"{d}: " + ", ".join(f"{k}: {v:.10g}" for k, v in _coeff_obj(getattr(coef, d)).items())
        )
    if args.steps is not None:
        for d in ("kl_source_output", "kl_output_source"):
            lines.append(
                f"N = {args.steps}: {d} exact {out['exact'][d]:.10g}, predicted through N^-4 "
                f"{out['predicted'][d]['through N^-4']:.10g}"
            )
    lines += [f"warning: {w}" for w in out["warnings"]]
    write_output("\n".join(lines), None)
    return 0
