"""``symsched asymptotics``: Euler–Maclaurin coefficients of ln r and of both KL directions (conventions.md)."""

from __future__ import annotations

import argparse
import math
import warnings
from typing import Any

from symsched._version import __version__
from symsched.cli._common import (
    CliError,
    add_spectrum_args,
    dumps_json,
    spectrum_from_args,
    write_output,
)
from symsched.gaussian import asymptotics, exact
from symsched.schedules import families

_FAMILY_FLAGS = {  # flag -> (dest, help)
    "--c": ("c", "tangent coefficient (default: gamma* of the spectrum)"),
    "--rho": ("rho", "karras exponent (default 7)"),
    "--beta-min": ("beta_min", "vp-linear beta_min (default 0.1)"),
    "--beta-max": ("beta_max", "vp-linear beta_max (default 20)"),
    "--t-min": ("t_min", "smallest diffusion time (vp-linear, cosine)"),
    "--t-max": ("t_max", "largest diffusion time (vp-linear, cosine)"),
    "--s": ("s", "cosine offset (default 0.008)"),
}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "asymptotics",
        help="Euler-Maclaurin expansion of the KL in the number of steps N",
        description="ln r_i = -B_i - J_i/N - K_i/N^3 + O(N^-5) and both KL directions to N^-4 "
        "for a smooth schedule family on the uniform grid u = k/N (gaussian_theory.md §5.1).",
    )
    add_spectrum_args(p, required=True)
    p.add_argument(
        "--schedule",
        required=True,
        choices=families.FAMILY_NAMES,
        metavar="METHOD",
        help="schedule family: " + ", ".join(families.FAMILY_NAMES),
    )
    p.add_argument("--sigma-min", type=float, metavar="A")
    p.add_argument("--sigma-max", type=float, metavar="B")
    for flag, (dest, hlp) in _FAMILY_FLAGS.items():
        p.add_argument(flag, dest=dest, type=float, help=hlp)
    p.add_argument(
        "--start",
        default="exact",
        choices=exact.STARTS,
        help="prior adds the boundary term B_i = ln(1 + lam_i/sigma_max^2)",
    )
    p.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help="also evaluate the truncated expansion at N and compare with the exact KL",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _coeff_obj(c: dict[int, float]) -> dict[str, float]:
    return {f"N^-{p}" if p else "N^0": v for p, v in c.items() if p >= 2 or v != 0.0}


def run(args: argparse.Namespace) -> int:
    lam = spectrum_from_args(args)
    assert lam is not None
    params: dict[str, Any] = {dest: getattr(args, dest) for _, (dest, _) in _FAMILY_FLAGS.items()}
    params["sigma_min"], params["sigma_max"] = args.sigma_min, args.sigma_max
    if args.schedule == "tangent" and params["c"] is None:
        from symsched.gaussian.tangent import gamma_star

        params["c"] = gamma_star(lam)
        if params["sigma_min"] is None:
            params["sigma_min"] = 0.0
        if params["sigma_max"] is None:
            params["sigma_max"] = math.inf
    try:
        fam = families.family(args.schedule, **params)
        coef = asymptotics.coefficients(lam, fam, start=args.start)
    except ValueError as exc:
        raise CliError(
            str(exc).replace("sigma_min", "--sigma-min").replace("sigma_max", "--sigma-max")
        ) from None
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
        f"{fam.name} {dict(fam.params)}, d = {lam.size}, start = {args.start}, integrals: {coef.method}",
        f"sum J = {coef.J.sum():.10g}, sum K = {coef.K.sum():.10g}, asymptotic onset N* ~ {coef.onset_steps:.3g}",
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
