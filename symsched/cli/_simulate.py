"""``symsched simulate gm|cw``: one probability-flow run with Monte Carlo error bars.

GM runs use the exact scalar reduction of the Euler scheme (any d up to 1e8;
docs/theory/highdim.md#scalar-reduction)
unless ``--simulator full`` asks for the d-dimensional torch simulation (d <= 1e4). CW runs are full
simulations with the two-mode denoiser (d <= 1e4).

Comma-separated ``--dim``, ``--steps`` and ``--schedule`` run every combination as a sweep through
the executor (:mod:`symsched.parallel`; ``--workers K`` / ``--scheduler ADDRESS``); each run's seed
is derived from ``(--seed, d, schedule)`` (:func:`symsched.highdim.search.task_seed`), so a run
gives the same numbers alone, inside a sweep, in-process or on Dask.

``--plot FILE`` (one run; png, pdf or svg) is checked before the run and written after it, never
over an existing file without ``--force``.
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from symsched._budget import check_memory
from symsched._io import check_target, write_figure
from symsched._version import __version__
from symsched.cli._common import CliError, dumps_json, parse_steps_list, write_output
from symsched.cli._executor import add_executor_options, executor_from_args
from symsched.cli._highdim_options import (
    add_model_options,
    build_model,
    check_kappa,
    map_with_progress,
    model_params,
    model_title,
    parse_dims,
    parse_schedules,
    progress_bar,
)
from symsched.highdim._names import SCHEDULES
from symsched.parallel import InProcess

if TYPE_CHECKING:
    from symsched.highdim.search import Point, SimulateResult

FULL_MAX_DIM = 10_000


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "simulate",
        help="simulate the probability-flow ODE of the GM or Curie-Weiss model",
        description="Euler simulation of the probability-flow ODE "
        "(Aranguri et al., arXiv 2501.00988) with Monte Carlo error bars on every measured "
        "feature. Comma-separated --dim, --steps and --schedule make a sweep over every "
        "combination, run through the executor (in-process, --workers K or --scheduler ADDRESS).",
    )
    add_model_options(p)
    p.add_argument(
        "--dim",
        required=True,
        metavar="D[,D2,...]",
        help="dimension(s) d >= 1 (1e8 accepted for gm)",
    )
    p.add_argument("--steps", required=True, metavar="N[,N2,...]", help="number(s) of Euler steps")
    p.add_argument(
        "--schedule",
        required=True,
        metavar="S[,S2,...]",
        help=f"time discretisation(s): {', '.join(SCHEDULES)}",
    )
    p.add_argument(
        "--samples",
        type=int,
        metavar="S",
        help="samples (default: gm 100000 reduced / 1000 full; cw 1000)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="k",
        help="base seed; each (d, schedule) draws from a seed derived from (k, d, schedule), "
        "reported as task_seed",
    )
    p.add_argument(
        "--simulator",
        choices=("reduced", "full"),
        default=None,
        help="gm only: exact scalar reduction (any d; the default) or full d-dimensional torch "
        "simulation (d <= 1e4); cw is always a full simulation",
    )
    p.add_argument(
        "--max-stderr",
        type=float,
        metavar="E",
        help="refuse sample counts whose mode-fraction error bar can exceed E (0.5/sqrt(S) > E)",
    )
    p.add_argument(
        "--record",
        type=int,
        default=32,
        metavar="K",
        help="samples whose trajectory of M is kept (for --plot)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE",
        help="write the trajectories of M to this image file (png, pdf, svg; one run only)",
    )
    p.add_argument("--force", action="store_true", help="overwrite the --plot file if it exists")
    p.add_argument(
        "--json", action="store_true", help='print one JSON object (a sweep: {"runs": [...]})'
    )
    add_executor_options(p, "the sweep points")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from symsched.highdim.search import Point, simulate_point

    params = model_params(args)
    dims = parse_dims(str(args.dim), "--dim")
    steps_list = parse_steps_list(args.steps)
    schedules = parse_schedules(args.schedule, args.model)
    if args.seed < 0:
        raise CliError(f"--seed must be an integer >= 0, got {args.seed}")
    if args.model == "cw" and args.simulator is not None:
        raise CliError(
            "--simulator is a gm option: cw has no exact reduction and always runs the full "
            "simulation; omit --simulator"
        )
    full = args.model == "cw" or args.simulator == "full"
    big = [d for d in dims if d > FULL_MAX_DIM]
    if full and big:
        what = (
            "cw (full simulation; no exact reduction exists)"
            if args.model == "cw"
            else "--simulator full"
        )
        raise CliError(
            f"--dim must be <= {FULL_MAX_DIM} for {what}, got {big[0]}"
            + (
                "; use --simulator reduced (exact for Euler) for larger d"
                if args.model == "gm"
                else ""
            )
        )
    samples = args.samples if args.samples is not None else (100_000 if not full else 1000)
    from symsched.highdim.simulate import MIN_SAMPLES

    if samples < MIN_SAMPLES:
        raise CliError(
            f"--samples must be >= {MIN_SAMPLES} to give a Monte Carlo error bar, got {samples}"
        )
    if args.record < 0:
        raise CliError(f"--record must be an integer >= 0, got {args.record}")
    if args.max_stderr is not None:
        if not args.max_stderr > 0:
            raise CliError(f"--max-stderr must be > 0, got {args.max_stderr}")
        if args.max_stderr < 0.5 * 2.0**-26.5:  # (0.5 / stderr)^2 samples would exceed 2^53
            raise CliError(
                f"--max-stderr {args.max_stderr:g} would need more than 2^53 samples; choose a "
                "larger --max-stderr"
            )
        if 0.5 / math.sqrt(samples) > args.max_stderr:
            need = math.ceil((0.5 / args.max_stderr) ** 2)
            raise CliError(
                f"--samples {samples} is too small for --max-stderr {args.max_stderr:g}: the "
                f"mode-fraction error bar can reach 0.5/sqrt(S) = {0.5 / math.sqrt(samples):.3g}; "
                f"use --samples >= {need}"
            )
    for d in dims:
        build_model(args.model, params, d)
        for schedule in schedules:
            check_kappa(schedule, d, args.kappa)
    points = [
        Point(
            args.model,
            tuple(sorted(params.items())),
            d,
            schedule,
            n,
            args.kappa,
            samples,
            args.seed,
            "full" if full else "reduced",
            args.record,
        )
        for d in dims
        for n in steps_list
        for schedule in schedules
    ]
    for pt in points:
        nbytes, flag = _memory(pt, args.model)
        check_memory(
            nbytes, flag=flag, what=f"the {args.model} run at d = {pt.dim:g}, N = {pt.steps}"
        )
    if args.plot is not None:
        if len(points) > 1:
            raise CliError(
                "--plot draws the trajectories of one run; give a single --dim, --steps and "
                "--schedule"
            )
        check_target(args.plot, force=args.force, flag="--plot", figure=True)  # before the run
    executor = executor_from_args(args)
    try:
        if len(points) == 1 and isinstance(
            executor, InProcess
        ):  # one run here: progress per Euler step
            pt = points[0]
            chunks = 1 if args.model == "gm" else math.ceil(samples / max(1, 4_000_000 // pt.dim))
            with progress_bar(
                pt.steps * chunks,
                f"{args.model} {pt.schedule} d={pt.dim:g} N={pt.steps}",
                args.no_progress,
            ) as cb:
                runs = [simulate_point(pt, callback=cb)]
        else:
            runs = map_with_progress(
                executor,
                simulate_point,
                points,
                f"{args.model} simulate sweep ({len(points)} runs)",
                args.no_progress,
            )
    finally:
        executor.close()
    docs = [_document(args, params, pt, res, full) for pt, res in zip(points, runs, strict=True)]
    if args.plot is not None:
        import matplotlib.pyplot as plt

        from symsched.highdim.plots import plot_trajectories

        pt = points[0]
        fig = plot_trajectories(
            runs[0]["trajectories"],
            f"{model_title(args.model, params)}, d = {pt.dim:g}\n{pt.schedule}, N = {pt.steps}",
        )
        try:
            write_figure(args.plot, fig, force=args.force, flag="--plot", dpi=120)
        finally:
            plt.close(fig)
        docs[0]["plot"] = args.plot
    if args.json:
        write_output(
            dumps_json(docs[0] if len(docs) == 1 else {"runs": docs, "version": __version__}), None
        )
    else:
        lines = []
        for doc in docs:
            lines.append(
                f"{args.model} {doc['schedule']}: d = {doc['dim']:g}, N = {doc['steps']}, "
                f"samples = {doc['samples']}, c = {doc['c']:g}"
            )
            for key, target in doc["targets"].items():
                lines.append(
                    f"  {key:20s} {doc[key]:.6g} +- {doc[key + '_stderr']:.2g}   "
                    f"(target {target:.6g})"
                )
        write_output("\n".join(lines), None)
    return 0


def _memory(pt: Point, model: str) -> tuple[float, str]:
    """Bytes one run allocates at most, and the flag that drives it: ~12 arrays of one number
    per sample, ~24 per level of the grid (times and coefficients), the recorded trajectories,
    and for a full simulation ~4 (samples x d) arrays (a CW run in chunks of 4e6 numbers)."""
    per_level = "--record" if pt.record > pt.steps + 1 else "--steps"  # the larger factor
    terms = {
        "--samples": 8.0 * 12 * pt.samples,
        per_level: 8.0 * (24 + pt.record) * (pt.steps + 1),
    }
    if pt.simulator == "full" or model == "cw":
        held = float(pt.samples) * pt.dim if model == "gm" else min(pt.samples * pt.dim, 4e6)
        key = "--samples" if pt.samples >= pt.dim else "--dim"
        terms[key] = terms.get(key, 0.0) + 8.0 * 4 * held
    return sum(terms.values()), max(terms, key=lambda k: terms[k])


def _document(
    args: argparse.Namespace,
    params: dict[str, float],
    pt: Point,
    res: SimulateResult,
    full: bool,
) -> dict[str, Any]:
    """The JSON object of one run (docs/cli.md#simulate)."""
    from symsched.highdim.cw import CurieWeiss
    from symsched.highdim.search import build

    model = build(pt)
    extra = {"m_beta": model.m, "w_plus": model.w_plus} if isinstance(model, CurieWeiss) else {}
    return {
        "model": args.model,
        "params": {**params, **extra},
        "dim": pt.dim,
        "steps": pt.steps,
        "schedule": pt.schedule,
        "kappa": args.kappa,
        "c": res["c"],
        "simulator": "full" if full else "reduced",
        "seed": args.seed,
        "task_seed": res["task_seed"],
        **res["stats"],
        "grid": res["grid"],
        "version": __version__,
    }
