"""``symsched steps-needed gm|cw``: smallest N meeting a tolerance on both features, per dimension.

GM: the errors ``|p_hat - p|`` and ``|std/sigma - 1|`` of the Euler scheme are computed without
Monte Carlo (exact scalar reduction + monotone Euler map, :mod:`verify.highdim.measure`), so any
``d`` up to 1e8 is fine. CW: Monte Carlo estimates from the full simulation (``d <= 1e4``) of
``|frac(M > 0) - W+|`` and ``|within_var / target - 1|`` (two-mode targets at that ``d``).
"""

from __future__ import annotations

import argparse
import math

from symsched._version import __version__
from symsched.cli._common import CliError, dumps_json, write_output
from symsched.highdim.schedules import SCHEDULES

from ..highdim.cli_options import (
    add_model_options,
    build_model,
    model_params,
    parse_dims,
    progress_bar,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("steps-needed", help="smallest number of Euler steps meeting a tolerance, per dimension",
                       description="Smallest N on the search grid (ratio 2^(1/4)) for which both features of the "
                                   "GM / Curie-Weiss model are within the tolerance (Aranguri et al., arXiv 2501.00988, §5.2).")
    add_model_options(p)
    p.add_argument("--schedule", required=True, choices=SCHEDULES, help="time discretisation")
    p.add_argument("--dims", required=True, metavar="D1,D2,...", help="comma-separated dimensions, e.g. 1e2,1e4,1e6")
    p.add_argument("--tolerance", type=float, default=None, metavar="T", help="tolerance on both feature errors (default 0.05)")
    p.add_argument("--max-steps", type=int, metavar="N", help="largest N searched (default: gm 262144, cw 1448)")
    p.add_argument("--samples", type=int, default=1000, metavar="S", help="cw only: Monte Carlo samples per (d, N)")
    p.add_argument("--seed", type=int, default=0, metavar="k", help="cw only: random seed")
    p.add_argument("--plot", metavar="FILE", help="write N against d (log-log) to this image file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..highdim import measure as ms

    params = model_params(args)
    dims = parse_dims(args.dims)
    tolerance = ms.DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    if not (tolerance > 0 and math.isfinite(tolerance)):
        raise CliError(f"--tolerance must be a number > 0, got {args.tolerance}")
    if args.model == "cw":
        if args.schedule == "stein":
            raise CliError("--schedule stein is computed on the Gaussian mixture; for cw use vp-constant, vp-dilated, ve-constant or ve-dilated")
        big = [d for d in dims if d > ms.CW_MAX_DIM]
        if big:
            raise CliError(f"--dims must be <= {ms.CW_MAX_DIM} for cw (full simulation; no exact reduction exists), got {big[0]}")
        # the point estimate decides; its error bar must be small against the tolerance
        if args.samples < 10 or 0.5 / math.sqrt(args.samples) > tolerance / 3:
            need = max(10, math.ceil((1.5 / tolerance) ** 2))
            raise CliError(f"--samples {args.samples} is too small for --tolerance {tolerance:g}: the mode-fraction error bar "
                           f"0.5/sqrt(S) must be <= tolerance/3; use --samples >= {need}")
    max_steps = args.max_steps if args.max_steps is not None else (ms.SEARCH_GRID[-1] if args.model == "gm" else 1448)
    if max_steps < ms.SEARCH_GRID[0]:
        raise CliError(f"--max-steps must be >= {ms.SEARCH_GRID[0]}, got {max_steps}")
    grid = tuple(n for n in ms.SEARCH_GRID if n <= max_steps)
    steps: dict[str, int | None] = {}
    errors: dict[str, dict[str, float]] = {}
    with progress_bar(len(dims), f"{args.model} {args.schedule} steps-needed", args.no_progress) as cb:
        for i, d in enumerate(dims):
            model = build_model(args.model, params, d)
            try:
                if args.model == "gm":
                    fn = lambda n, model=model: ms.gm_errors_euler(model, args.schedule, n, args.kappa)
                else:
                    fn = lambda n, model=model: ms.cw_errors(model, args.schedule, n, args.samples, args.seed, args.kappa)
                n_found, trace = ms.steps_needed(fn, tolerance, grid)
            except ValueError as exc:
                msg = str(exc)
                raise CliError("--" + msg if msg.startswith("kappa") else msg) from None
            steps[str(d)] = n_found
            at = next((t for t in trace if t["steps"] == n_found), None)
            if at is not None:
                errors[str(d)] = {"high": at["high"], "low": at["low"]}
            cb(i + 1)
    found = [(d, steps[str(d)]) for d in dims if steps[str(d)] is not None]
    slope = ms.loglog_slope([d for d, _ in found], [n for _, n in found]) if len(found) >= 2 and len(found) == len(dims) else None
    criterion = ("max(|p_hat - p|, |within_std/sigma - 1|) <= tolerance; Euler errors computed without Monte Carlo"
                 if args.model == "gm" else
                 "max(|frac(M>0) - W+|, |within_var/target - 1|) <= tolerance; two-mode targets at d, Monte Carlo point estimates")
    out = {"model": args.model, "schedule": args.schedule, "steps": steps, "criterion": criterion, "tolerance": tolerance,
           "errors_at_steps": errors, "loglog_slope": slope, "kappa": args.kappa, "params": params,
           "search_grid": list(grid), "not_met": [str(d) for d in dims if steps[str(d)] is None], "version": __version__}
    if args.model == "cw":
        out.update({"samples": args.samples, "seed": args.seed})
    if args.plot:
        from ..highdim.plots import plot_steps_needed

        fig = plot_steps_needed({args.schedule: {d: steps[str(d)] for d in dims}}, f"{args.model}, tolerance {tolerance:g}")
        fig.savefig(args.plot, dpi=120)
        out["plot"] = args.plot
    if args.json:
        write_output(dumps_json(out), None)
    else:
        rows = [f"{args.model} {args.schedule}, tolerance {tolerance:g}"]
        rows += [f"  d = {d:>12g}   N = {steps[str(d)] if steps[str(d)] is not None else 'not met (> ' + str(grid[-1]) + ')'}" for d in dims]
        if slope is not None:
            rows.append(f"  log-log slope {slope:.3f}")
        write_output("\n".join(rows), None)
    return 0
