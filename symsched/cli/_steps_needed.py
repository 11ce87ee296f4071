"""``symsched steps-needed gm|cw``: smallest N meeting a tolerance on both features, per dimension.

GM: the errors ``|p_hat - p|`` and ``|std/sigma - 1|`` of the Euler scheme are computed without
Monte Carlo (exact scalar reduction + monotone Euler map, :mod:`symsched.highdim.measure`), so any
``d`` up to 1e8 is fine. CW: Monte Carlo estimates from the full simulation (``d <= 1e4``) of
``|frac(M > 0) - W+|`` and ``|within_var / target - 1|`` (two-mode targets at that ``d``), with a
per-``d`` sample count that makes both error bars small against the tolerance
(:func:`symsched.highdim.measure.cw_samples_needed`).

Several schedules and dimensions are searched together
(:func:`symsched.highdim.search.steps_needed_sweep`): each round evaluates one ``N`` per unfinished
``(schedule, d)`` search through the executor, and every point's seed is derived from
``(--seed, d, schedule)``, so the result is the same in-process, on a local Dask cluster
(``--workers K``) or on a scheduler (``--scheduler ADDRESS``).

``--plot FILE`` (png, pdf or svg) is checked before the search and written after it, never over an
existing file without ``--force``.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from symsched._budget import check_memory
from symsched._io import check_target, write_figure
from symsched._version import __version__
from symsched.cli._common import CliError, dumps_json, write_output
from symsched.cli._executor import add_executor_options, executor_from_args
from symsched.cli._highdim_options import (
    add_model_options,
    build_model,
    check_kappa,
    model_params,
    model_title,
    parse_dims,
    parse_schedules,
    progress_bar,
)
from symsched.highdim._names import SCHEDULES


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "steps-needed",
        help="smallest number of Euler steps meeting a tolerance, per dimension",
        description="Smallest N on the search grid (ratio 2^(1/4)) for which both features of the "
        "GM / Curie-Weiss model are within the tolerance (Aranguri et al., arXiv 2501.00988, "
        "§5.2). "
        "The searches of every (schedule, d) advance together; each round's points run "
        "through the executor (in-process, --workers K or --scheduler ADDRESS).",
    )
    add_model_options(p)
    p.add_argument(
        "--schedule",
        required=True,
        metavar="S1,S2,...",
        help=f"time discretisation(s), comma-separated: {', '.join(SCHEDULES)}",
    )
    p.add_argument(
        "--dims",
        required=True,
        metavar="D1,D2,...",
        help="comma-separated dimensions, e.g. 1e2,1e4,1e6",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=None,
        metavar="T",
        help="tolerance on both feature errors (default 0.05)",
    )
    p.add_argument(
        "--max-steps",
        type=int,
        metavar="N",
        help="largest N searched (default: gm 262144, cw 1448)",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        metavar="S",
        help="cw only: Monte Carlo samples per (d, N) (default: the smallest count whose error "
        "bars are <= tolerance/3 on the mode fraction and <= tolerance/10 on the relative "
        "within-variance, per d)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="k",
        help="cw only: base seed (default 0); each (d, schedule) draws from a seed derived from "
        "(k, d, schedule)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE",
        help="write N against d (log-log) to this image file (png, pdf, svg)",
    )
    p.add_argument("--force", action="store_true", help="overwrite the --plot file if it exists")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_executor_options(p, "the (d, N, schedule) points")
    p.set_defaults(func=run)


def _criterion(model: str) -> str:
    if model == "gm":
        return (
            "max(|p_hat - p|, |within_std/sigma - 1|) <= tolerance; Euler errors computed "
            "without Monte Carlo"
        )
    return (
        "max(|frac(M>0) - W+|, |within_var/target - 1|) <= tolerance; two-mode targets at d, "
        "Monte Carlo point estimates (common random numbers across N)"
    )


def run(args: argparse.Namespace) -> int:
    from symsched.highdim import measure as ms
    from symsched.highdim.search import Point, steps_needed_sweep, task_seed

    params = model_params(args)
    schedules = parse_schedules(args.schedule, args.model)
    dims = parse_dims(args.dims)
    tolerance = ms.DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    if not (tolerance > 0 and math.isfinite(tolerance)):
        raise CliError(f"--tolerance must be a number > 0, got {args.tolerance}")
    if args.model == "gm":  # the GM errors are computed without Monte Carlo
        for flag, value in (("--samples", args.samples), ("--seed", args.seed)):
            if value is not None:
                raise CliError(
                    f"{flag} is a cw option: the gm errors are exact (no Monte Carlo); omit it"
                )
    seed = 0 if args.seed is None else args.seed
    if seed < 0:
        raise CliError(f"--seed must be an integer >= 0, got {args.seed}")
    if args.plot is not None:  # refuse a bad --plot before the search
        check_target(args.plot, force=args.force, flag="--plot", figure=True)
    models = {d: build_model(args.model, params, d) for d in dims}
    for schedule in schedules:
        for d in dims:
            check_kappa(schedule, d, args.kappa)
    samples: dict[int, int] = {}
    if args.model == "cw":
        big = [d for d in dims if d > ms.CW_MAX_DIM]
        if big:
            raise CliError(
                f"--dims must be <= {ms.CW_MAX_DIM} for cw (full simulation; no exact reduction "
                f"exists), got {big[0]}"
            )
        for d in dims:
            need = ms.cw_samples_needed(models[d], tolerance)  # type: ignore[arg-type]
            if args.samples is not None and args.samples < need:
                raise CliError(
                    f"--samples {args.samples} is too small for --tolerance {tolerance:g} at "
                    f"d = {d}: the error bars must be <= tolerance/3 on the mode fraction and "
                    f"<= tolerance/10 on the relative within-sample variance; use --samples >= "
                    f"{need} (or omit --samples for the per-d default)"
                )
            samples[d] = need if args.samples is None else args.samples
            check_memory(
                8.0 * 12 * samples[d] + 8.0 * 4 * min(samples[d] * d, 4e6),
                flag="--samples",
                what=f"the cw simulations at d = {d}",
            )
    max_steps = (
        args.max_steps
        if args.max_steps is not None
        else (ms.SEARCH_GRID[-1] if args.model == "gm" else 1448)
    )
    if max_steps < ms.SEARCH_GRID[0]:
        raise CliError(f"--max-steps must be >= {ms.SEARCH_GRID[0]}, got {max_steps}")
    grid = tuple(n for n in ms.SEARCH_GRID if n <= max_steps)
    ptuple = tuple(sorted(params.items()))

    def point(key: tuple[str, int], n: int) -> Point:
        schedule, d = key
        return Point(args.model, ptuple, d, schedule, n, args.kappa, samples.get(d, 0), seed)

    keys = [(schedule, d) for schedule in schedules for d in dims]
    executor = executor_from_args(args)
    try:
        with progress_bar(
            len(keys), f"{args.model} {','.join(schedules)} steps-needed", args.no_progress
        ) as cb:
            found = steps_needed_sweep(keys, point, tolerance, grid, executor, on_done=cb)
    finally:
        executor.close()
    results = {}
    for schedule in schedules:
        steps: dict[str, int | None] = {}
        errors: dict[str, dict[str, float]] = {}
        for d in dims:
            n_found, trace = found[(schedule, d)]
            steps[str(d)] = n_found
            at = next((t for t in trace if t["steps"] == n_found), None)
            if at is not None:
                errors[str(d)] = {"high": at["high"], "low": at["low"]}
        ok = [(d, n) for d in dims if (n := steps[str(d)]) is not None]
        slope = (
            ms.loglog_slope([d for d, _ in ok], [n for _, n in ok])
            if len(ok) >= 2 and len(ok) == len(dims)
            else None
        )
        out = {
            "model": args.model,
            "schedule": schedule,
            "steps": steps,
            "criterion": _criterion(args.model),
            "tolerance": tolerance,
            "errors_at_steps": errors,
            "loglog_slope": slope,
            "kappa": args.kappa,
            "params": params,
            "search_grid": list(grid),
            "not_met": [str(d) for d in dims if steps[str(d)] is None],
            "version": __version__,
        }
        if args.model == "cw":
            out.update(
                {
                    "samples": {str(d): samples[d] for d in dims},
                    "seed": seed,
                    "task_seeds": {str(d): task_seed(seed, d, schedule) for d in dims},
                }
            )
        results[schedule] = out
    doc: dict[str, Any] = (
        results[schedules[0]]
        if len(schedules) == 1
        else {
            "model": args.model,
            "schedules": schedules,
            "results": results,
            "version": __version__,
        }
    )
    if args.plot is not None:
        import matplotlib.pyplot as plt

        from symsched.highdim.plots import plot_steps_needed

        fig = plot_steps_needed(
            {s: {d: results[s]["steps"][str(d)] for d in dims} for s in schedules},
            f"{model_title(args.model, params)}\nsteps needed, tolerance {tolerance:g}",
        )
        try:
            write_figure(args.plot, fig, force=args.force, flag="--plot", dpi=120)
        finally:
            plt.close(fig)
        doc["plot"] = args.plot
    if args.json:
        write_output(dumps_json(doc), None)
    else:
        rows = []
        for s, out in results.items():
            rows.append(f"{args.model} {s}, tolerance {tolerance:g}")
            not_met = f"not met (> {grid[-1]})"
            rows += [
                f"  d = {d:>12g}   N = {n if (n := out['steps'][str(d)]) is not None else not_met}"
                for d in dims
            ]
            if out["loglog_slope"] is not None:
                rows.append(f"  log-log slope {out['loglog_slope']:.3f}")
        write_output("\n".join(rows), None)
    return 0
