"""``symsched simulate gm|cw``: one probability-flow run with Monte Carlo error bars (conventions.md).

GM runs use the exact scalar reduction of the Euler scheme (high_dim.md §3.3; any d up to 1e8)
unless ``--simulator full`` asks for the d-dimensional torch simulation (d <= 1e4). CW runs are full
simulations with the two-mode denoiser (d <= 1e4).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from symsched._version import __version__
from symsched.cli._common import CliError, dumps_json, write_output
from symsched.highdim.schedules import SCHEDULES

from ..highdim.cli_options import add_model_options, build_model, model_params, progress_bar

FULL_MAX_DIM = 10_000


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("simulate", help="simulate the probability-flow ODE of the GM or Curie-Weiss model",
                       description="Euler simulation of the probability-flow ODE (Aranguri et al., arXiv 2501.00988) "
                                   "with Monte Carlo error bars on every measured feature.")
    add_model_options(p)
    p.add_argument("--dim", required=True, type=float, metavar="D", help="dimension d >= 1 (1e8 accepted for gm)")
    p.add_argument("--steps", required=True, type=int, metavar="N", help="number of Euler steps")
    p.add_argument("--schedule", required=True, choices=SCHEDULES, help="time discretisation")
    p.add_argument("--samples", type=int, metavar="S", help="samples (default: gm 100000 reduced / 1000 full; cw 1000)")
    p.add_argument("--seed", type=int, default=0, metavar="k", help="random seed")
    p.add_argument("--simulator", choices=("reduced", "full"), default="reduced",
                   help="gm only: exact scalar reduction (any d) or full d-dimensional torch simulation (d <= 1e4)")
    p.add_argument("--max-stderr", type=float, metavar="E",
                   help="refuse sample counts whose mode-fraction error bar can exceed E (0.5/sqrt(S) > E)")
    p.add_argument("--record", type=int, default=32, metavar="K", help="samples whose trajectory of M is kept (for --plot)")
    p.add_argument("--plot", metavar="FILE", help="write the trajectories of M to this image file (png, pdf, svg)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from symsched.highdim.gm import check_dim

    from ..highdim import measure as ms
    from ..highdim import simulate as sim

    params = model_params(args)
    try:
        dim = check_dim(args.dim, "--dim")
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from None
    if args.steps is None or args.steps < 1:
        raise CliError(f"--steps must be an integer >= 1, got {args.steps}")
    full = args.model == "cw" or args.simulator == "full"
    if args.model == "cw" and args.schedule == "stein":
        raise CliError("--schedule stein is computed on the Gaussian mixture; for cw use vp-constant, vp-dilated, ve-constant or ve-dilated")
    if full and dim > FULL_MAX_DIM:
        what = "cw (full simulation; no exact reduction exists)" if args.model == "cw" else "--simulator full"
        raise CliError(f"--dim must be <= {FULL_MAX_DIM} for {what}, got {dim}" + ("; use --simulator reduced (exact for Euler) for larger d" if args.model == "gm" else ""))
    samples = args.samples if args.samples is not None else (100_000 if not full else 1000)
    if samples < sim.MIN_SAMPLES:
        raise CliError(f"--samples must be >= {sim.MIN_SAMPLES} to give a Monte Carlo error bar, got {samples}")
    if args.model == "gm" and full and samples * dim > 50_000_000:
        raise CliError(f"--samples {samples} x --dim {dim} is too large for --simulator full (holds samples x d float64 "
                       f"numbers, limit 5e7 = 400 MB); lower --samples or use --simulator reduced (exact for Euler)")
    if args.max_stderr is not None:
        if not args.max_stderr > 0:
            raise CliError(f"--max-stderr must be > 0, got {args.max_stderr}")
        if 0.5 / math.sqrt(samples) > args.max_stderr:
            need = math.ceil((0.5 / args.max_stderr) ** 2)
            raise CliError(f"--samples {samples} is too small for --max-stderr {args.max_stderr:g}: the mode-fraction "
                           f"error bar can reach 0.5/sqrt(S) = {0.5 / math.sqrt(samples):.3g}; use --samples >= {need}")
    model = build_model(args.model, params, dim)
    try:
        grid, c_value = ms.make_grid(args.schedule, args.steps, model, args.kappa)
    except ValueError as exc:
        msg = str(exc)
        raise CliError("--" + msg if msg.startswith("kappa") else msg) from None
    chunks = 1 if args.model == "gm" else math.ceil(samples / max(1, 4_000_000 // dim))
    with progress_bar(grid.steps * chunks, f"{args.model} {args.schedule} d={dim:g} N={grid.steps}", args.no_progress) as cb:
        if args.model == "gm":
            runner = sim.gm_full if full else sim.gm_reduced
            res = runner(model, grid, c_value, samples, args.seed, record=args.record, callback=cb)  # type: ignore[arg-type, operator]
            stats = ms.gm_statistics(model, res)  # type: ignore[arg-type]
        else:
            res = sim.cw_full(model, grid, c_value, samples, args.seed, record=args.record, callback=cb)  # type: ignore[arg-type]
            stats = ms.cw_statistics(model, res)  # type: ignore[arg-type]
    out = {"model": args.model, "params": {**params, **({"m_beta": model.m, "w_plus": model.w_plus} if args.model == "cw" else {})},
           "dim": dim, "steps": grid.steps, "schedule": args.schedule, "kappa": args.kappa, "c": c_value,
           "simulator": "full" if full else "reduced", "seed": args.seed, **stats,
           "grid": grid.to_json(c_value), "version": __version__}
    if args.plot:
        from ..highdim.plots import plot_trajectories

        fig = plot_trajectories(np.asarray(res.trajectories), f"{args.model} {args.schedule}, d = {dim:g}, N = {grid.steps}")
        fig.savefig(args.plot, dpi=120)
        out["plot"] = args.plot
    if args.json:
        write_output(dumps_json(out), None)
    else:
        lines = [f"{args.model} {args.schedule}: d = {dim:g}, N = {grid.steps}, samples = {stats['samples']}, c = {c_value:g}"]
        for key, target in stats["targets"].items():
            lines.append(f"  {key:20s} {stats[key]:.6g} +- {stats[key + '_stderr']:.2g}   (target {target:.6g})")
        write_output("\n".join(lines), None)
    return 0
