"""``symsched rank``: rank discretisation strategies of a pretrained model's schedule by exact KL.

Writes nothing unless asked: the plot only with ``--plot FILE`` (png, pdf or svg, by the extension;
checked before the work, written atomically, never over an existing file without ``--force``)."""

from __future__ import annotations

import argparse

import numpy as np

from symsched._budget import check_memory
from symsched._io import check_target, write_figure
from symsched._typing import FloatArray
from symsched._version import __version__
from symsched.cli._common import (
    CliError,
    dumps_json,
    parse_steps_list,
    spectrum_from_args,
    write_output,
)
from symsched.cli._registry_args import spectrum_flag
from symsched.samplers import SAMPLERS, sampler_names
from symsched.schedules import METHODS, pretrained
from symsched.schedules._registry import grid_memory

# every sampler: the budget is in NFE (pretrained.steps_for: Heun takes NFE // 2 steps)
RANK_SAMPLERS = sampler_names()


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "rank",
        help="rank time discretisations of a pretrained model by exact KL",
        description="Exact Gaussian KL (Sun et al. 2026, §7; "
        "docs/theory/gaussian.md#pretrained-model-ranking) of every discretisation strategy "
        "of a model's noise schedule, on a data spectrum, at each NFE; prints the table, and "
        "with --plot FILE writes the plot.",
    )
    p.add_argument(
        "--model",
        required=True,
        choices=pretrained.MODELS,
        help="edm: continuous [0.002, 80]; ddpm-linear / ddpm-cosine: 1000-step tables; "
        "sd15 / sdxl: scaled_linear (AYS applies); flow: rectified flow, pure noise to 0",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--data",
        choices=("digits", "patches"),
        help="spectrum of a shipped dataset ([-1, 1] scale)",
    )
    src.add_argument("--eigenvalues", metavar="L", help="comma-separated covariance eigenvalues")
    src.add_argument("--spectrum-file", metavar="F", help="eigenvalues from a .npy or text file")
    p.add_argument(
        "--nfe",
        default=",".join(map(str, pretrained.NFES)),
        metavar="N1,N2,...",
        help="budgets of denoiser evaluations (one per step; Heun: two per step)",
    )
    p.add_argument(
        "--strategies",
        metavar="S1,S2,...",
        help="subset of: " + ", ".join(pretrained.STRATEGIES) + " (default: all that apply)",
    )
    p.add_argument(
        "--sampler",
        default="ddim",
        choices=RANK_SAMPLERS,
        help="sampler whose exact KL ranks the grids (sampler-optimal is its own KL optimum)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE",
        help="write the plot of KL against NFE to this image file (png, pdf, svg); none by default",
    )
    p.add_argument("--force", action="store_true", help="overwrite the plot file if it exists")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


_SPECTRUM_SEARCHES = ("variational", "kl-optimal", "sampler-optimal")
"""The strategies that search over the spectrum (their memory grows with it; they compress it)."""


def _check_memory(
    lam: FloatArray, nfes: list[int], strategies: list[str] | None, args: argparse.Namespace
) -> None:
    """Refuse NFE budgets whose largest strategy needs more memory than the budget: the
    spectrum-aware optima hold (N x d) arrays, the other grids (N+1) levels."""
    n = max(nfes)
    chosen = pretrained.STRATEGIES if strategies is None else strategies
    est: list[tuple[float, str]] = [(grid_memory(n), "steps")]
    for strategy in _SPECTRUM_SEARCHES:
        if strategy in chosen:
            m = METHODS["kl-optimal" if strategy == "sampler-optimal" else strategy]
            kw: dict[str, object] = {"eigenvalues": lam}
            if strategy == "sampler-optimal":
                kw["sampler"] = args.sampler
            est.append(m.memory_estimate(n, m.make_options(**kw)))
    est.append(SAMPLERS[args.sampler].memory_estimate(lam.size, n))
    nbytes = sum(e for e, _ in est)
    driver = max(est)[1]
    flag = "--nfe" if driver == "steps" else "--data" if args.data else spectrum_flag(args)
    check_memory(nbytes, flag=flag, what=f"ranking at NFE {n} on {lam.size} eigenvalues")


def _nfes_and_strategies(args: argparse.Namespace) -> tuple[list[int], list[str] | None]:
    nfes = parse_steps_list(args.nfe, "--nfe")
    strategies = (
        None if args.strategies is None else [s.strip() for s in args.strategies.split(",")]
    )
    if strategies is not None and (not strategies or "" in strategies):
        raise CliError(f"--strategies must be a comma-separated list, got {args.strategies!r}")
    return nfes, strategies


def run(args: argparse.Namespace) -> int:
    lo, hi = pretrained.model_range(args.model)
    if hi == float("inf") and not SAMPLERS[args.sampler].pure_noise_start:
        can = ", ".join(sampler_names(where=lambda s: s.pure_noise_start))
        raise CliError(
            f"--sampler {args.sampler} cannot start from pure noise, where --model {args.model} "
            f"starts (sigma = inf); choose one of {can}"
        )
    if args.plot is not None:  # refuse a bad --plot before the work
        check_target(args.plot, force=args.force, flag="--plot", figure=True)
    if args.data is not None:
        from symsched.datasets import DIMENSIONS, dataset_spectrum

        # a first, fast refusal before the data set is loaded (its dimension is known)
        _check_memory(np.ones(DIMENSIONS[args.data]), *_nfes_and_strategies(args), args)
        lam = dataset_spectrum(args.data)
        data_name = args.data
    else:
        given = spectrum_from_args(args)
        if given is None:  # argparse requires one of --data, --eigenvalues, --spectrum-file
            raise CliError("give --data, --eigenvalues or --spectrum-file")
        lam = given
        data_name = "spectrum"
    nfes, strategies = _nfes_and_strategies(args)
    _check_memory(lam, nfes, strategies, args)
    try:
        ranking = pretrained.rank(args.model, lam, nfes, strategies, sampler=args.sampler)
    except ValueError as exc:
        msg = (
            str(exc)
            .replace("strategy", "--strategies")
            .replace("nfe", "--nfe")
            .replace("for model ", "for --model ")
        )
        if "strictly decreasing" in msg:  # a grid whose scale c comes from the spectrum
            msg = f"{'--data' if args.data else spectrum_flag(args)}: {msg}"
        raise CliError(msg) from None
    plot_path = args.plot
    if plot_path is not None:
        import matplotlib.pyplot as plt

        fig = pretrained.plot(
            ranking,
            title=(
                f"{args.model} noise schedule, {data_name} spectrum (d = {lam.size}): exact "
                f"Gaussian KL ({args.sampler})"
            ),
        )
        try:
            write_figure(plot_path, fig, force=args.force, flag="--plot", dpi=120)
        finally:
            plt.close(fig)
    if args.json:
        from symsched.gaussian.compress import spectrum_for_optimiser

        # the spectrum the spectrum-aware strategies searched on (every KL in the table is the
        # full spectrum's)
        searched = any(s in ranking.strategies for s in _SPECTRUM_SEARCHES)
        comp = spectrum_for_optimiser(lam, max(ranking.nfes)) if searched else None
        out = {
            **ranking.to_json(),
            "data": data_name,
            "dimension": int(lam.size),
            "spectrum_compression": None if comp is None else comp.as_dict(),
            "plot": plot_path,
            "sigma_range": list(pretrained.model_range(args.model)),
            "version": __version__,
        }
        write_output(dumps_json(out), None)
        return 0
    lo, hi = pretrained.model_range(args.model)
    width = max(len(s) for s in ranking.strategies)
    lines = [
        f"model {args.model} (sigma in [{lo:.4g}, {hi:.4g}]), data {data_name} "
        f"(d = {lam.size}), sampler {args.sampler}",
        "exact KL(data || output) by NFE; * = best",
        " " * width + "".join(f"{n:>11d}" for n in ranking.nfes),
    ]
    best = {
        i: min(ranking.strategies, key=lambda s: ranking.kl_source_output[s][i])
        for i in range(len(ranking.nfes))
    }
    for s in ranking.strategies:
        cells = "".join(
            f"{ranking.kl_source_output[s][i]:>10.4g}{'*' if best[i] == s else ' '}"
            for i in range(len(ranking.nfes))
        )
        lines.append(f"{s:<{width}}{cells}")
    if plot_path:
        lines.append(f"plot written to {plot_path}")
    write_output("\n".join(lines), None)
    return 0
