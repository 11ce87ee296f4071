"""``symsched score``: score any sigma list under every sampler (docs/cli.md#score).

The grid comes as numbers (``--sigmas``, or flow times ``--flow-times``), as a ComfyUI ``SIGMAS`` /
``ManualSigmas`` string (``--comfyui``) or as a schedule JSON (``--schedule-file``); the spectrum as
``--eigenvalues`` / ``--spectrum-file`` or a built-in model's Gaussian proxy (``--model``). See
:mod:`symsched.score`.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from symsched._budget import check_memory
from symsched._options import cli_int
from symsched._typing import FloatArray
from symsched._validate import as_grid
from symsched._version import __version__
from symsched.cli._builtin import builtin_grid_from_args
from symsched.cli._common import (
    CliError,
    dumps_json,
    parse_floats,
    spectrum_from_args,
    write_output,
)
from symsched.samplers import SAMPLERS, sampler_names

__all__ = ["register"]

_MODELS = ("edm", "sd15", "sdxl", "ddpm", "flow")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``score`` command."""
    p = sub.add_parser(
        "score",
        help="score any sigma list: exact KLs and coupling error under each sampler",
        description="Score a grid from any tool on a Gaussian spectrum: both exact KLs and the "
        "coupling error under each sampler that accepts it, the gap to that sampler's exact "
        "optimum for the same N and ends, the observed order of the grid's shape refined to 2N "
        "and 4N, and with --target-kl the fewest steps of that shape that reach it "
        "(docs/cli.md#score).",
    )
    grid = p.add_mutually_exclusive_group(required=True)
    grid.add_argument("--sigmas", metavar="S0,...,SN", help="noise levels, descending (inf ok)")
    grid.add_argument(
        "--flow-times", metavar="T0,...,TN", help="flow times t in [0, 1], descending"
    )
    grid.add_argument(
        "--comfyui",
        metavar="TEXT",
        help="a ComfyUI SIGMAS print or ManualSigmas string, e.g. '[14.61, 7.0, 3e-05, 0]'",
    )
    grid.add_argument("--schedule-file", metavar="F", help="a schedule JSON (schedule --json)")
    grid.add_argument(
        "--builtin",
        metavar="TOOL:NAME",
        help="another tool's built-in schedule at --steps N (symsched schedule builtin --list)",
    )
    grid.add_argument(
        "--diffusers-config",
        metavar="F",
        dest="builtin_config",
        help="a diffusers scheduler_config.json at --steps N (its _class_name picks the scheduler)",
    )
    b = p.add_argument_group("built-in schedules (with --builtin or --diffusers-config)")
    b.add_argument("--steps", type=cli_int, metavar="N", help="the inference steps asked of it")
    b.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="builtin_set",
        help="one of the tool's own arguments (repeatable), e.g. --set use_karras_sigmas=true",
    )
    spec = p.add_mutually_exclusive_group(required=True)
    spec.add_argument("--eigenvalues", metavar="L", help="comma-separated eigenvalues")
    spec.add_argument("--spectrum-file", metavar="F", help="eigenvalues from a .npy or text file")
    spec.add_argument(
        "--model", choices=_MODELS, help="a built-in model family's Gaussian proxy spectrum"
    )
    p.add_argument(
        "--sampler",
        metavar="S[,S...]",
        help=f"samplers (default: every one that accepts the grid: {', '.join(sampler_names())})",
    )
    p.add_argument("--target-kl", type=float, metavar="K", help="steps needed for KL <= K")
    p.add_argument(
        "--no-optimum", action="store_true", help="skip the exact optimum (the gap column)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _grid(args: argparse.Namespace) -> tuple[FloatArray, str]:
    from symsched.export.flow_matching import flow_levels
    from symsched.score import parse_sigma_text

    try:
        if args.sigmas is not None:
            return as_grid(parse_floats(args.sigmas, "--sigmas"), "--sigmas"), "--sigmas"
        if args.flow_times is not None:
            t = parse_floats(args.flow_times, "--flow-times")
            if not (np.all(np.isfinite(t)) and t.min() >= 0 and t.max() <= 1):
                raise CliError("--flow-times must lie in [0, 1]")
            return as_grid(flow_levels(t), "--flow-times"), "--flow-times"
        if args.comfyui is not None:
            return as_grid(parse_sigma_text(args.comfyui), "--comfyui"), "--comfyui"
        if args.schedule_file is not None:
            return _schedule_file(args.schedule_file), "--schedule-file"
    except ValueError as exc:
        msg = str(exc)
        flag = next(f for f in ("--sigmas", "--flow-times", "--comfyui", "--schedule-file")
                    if getattr(args, f[2:].replace("-", "_")) is not None)  # fmt: skip
        raise CliError(msg if msg.startswith("--") else f"{flag}: {msg}") from None
    flag = "--builtin" if args.builtin is not None else "--diffusers-config"
    grid = builtin_grid_from_args(
        args.builtin, args.steps, args, name_flag=flag, config_flag="--diffusers-config"
    )
    return grid.sigmas, flag


def _schedule_file(path: str) -> FloatArray:
    p = Path(path)
    if not p.is_file():
        raise CliError(f"--schedule-file {path!r} does not exist or is not a file")
    if p.stat().st_size > 64 * 2**20:
        raise CliError(f"--schedule-file {path!r} is larger than 64 MiB: not a schedule JSON")
    try:
        obj = json.loads(p.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"--schedule-file {path!r} is not JSON ({exc})") from None
    values = obj.get("sigmas") if isinstance(obj, dict) else obj
    if not isinstance(values, list):
        raise CliError(f"--schedule-file {path!r}: expected a list or an object with 'sigmas'")
    try:
        levels = [math.inf if v == "inf" else float(v) for v in values]
    except (TypeError, ValueError):
        raise CliError(f"--schedule-file {path!r}: 'sigmas' must be numbers or \"inf\"") from None
    return as_grid(levels, "--schedule-file")


def _spectrum(args: argparse.Namespace) -> tuple[FloatArray, str]:
    if args.model is not None:
        from symsched.recommend import _family
        from symsched.reference import proxy_spectrum

        m = _family(args.model)
        return proxy_spectrum(m), m.proxy
    lam = spectrum_from_args(args)
    assert lam is not None
    return lam, "--spectrum-file" if args.spectrum_file is not None else "--eigenvalues"


def run(args: argparse.Namespace) -> int:
    """Score the grid and print the table (or JSON)."""
    from symsched.score import score_grid, steps_for_target

    if (args.builtin is None and args.builtin_config is None) and (
        args.steps is not None or args.builtin_set
    ):
        given = "--steps" if args.steps is not None else "--set"
        raise CliError(f"{given} goes with --builtin or --diffusers-config, not a level list")
    sig, flag = _grid(args)
    lam, source = _spectrum(args)
    if args.sampler is None:
        names = []
        for s in sampler_names():
            try:
                SAMPLERS[s].check_grid(sig)
            except ValueError:
                continue
            names.append(s)
    else:
        names = [s.strip() for s in args.sampler.split(",") if s.strip()]
        for s in names:
            if s not in sampler_names():
                raise CliError(f"--sampler must be among {', '.join(sampler_names())}, got {s!r}")
            try:
                SAMPLERS[s].check_grid(sig)
            except ValueError as exc:
                raise CliError(f"--sampler {s}: {exc}") from None
    if args.target_kl is not None and not (math.isfinite(args.target_kl) and args.target_kl > 0):
        raise CliError(f"--target-kl must be a finite number > 0, got {args.target_kl}")
    n = int(sig.size - 1)
    from symsched.gaussian.sampler_optimum import search_tape_bytes

    for s in names:  # the refinement runs 4N steps; the optimum's tapes, per step and eigenvalue
        nbytes, _ = SAMPLERS[s].memory_estimate(lam.size, 4 * n)
        tape = search_tape_bytes(s) * n * lam.size
        check_memory(max(nbytes, tape), flag=flag, what=f"scoring under {s}")
    try:
        scores = score_grid(lam, sig, names, optimum=not args.no_optimum)
        need = (
            {s: steps_for_target(lam, sig, args.target_kl, sampler=s) for s in names}
            if args.target_kl is not None
            else {}
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out: dict[str, object] = {
        "steps": n,
        "grid": flag
        if flag not in ("--builtin", "--diffusers-config")
        else {
            "builtin": args.builtin,
            "config": args.builtin_config,
            "steps_asked": args.steps,
            "set": list(args.builtin_set),
        },
        "sigmas": sig,
        "spectrum": source,
        "dimension": int(lam.size),
        "scores": [
            {
                "sampler": sc.sampler,
                **sc.criteria.as_dict(),
                "objective": sc.objective,
                "optimum": sc.optimum,
                "gap": sc.gap,
                "kl_refined": {str(m * n): v for m, v in zip((1, 2, 4), sc.refined, strict=True)},
                "observed_order": list(sc.order),
                **({"steps_for_target": need[sc.sampler]} if need else {}),
            }
            for sc in scores
        ],
        "target_kl": args.target_kl,
        "version": __version__,
    }
    if args.json:
        write_output(dumps_json(out), None)
        return 0
    lines = [f"{n} steps, spectrum: {source} (d = {lam.size})", ""]
    head = (
        f"{'sampler':10s} {'KL(t||o)':>11s} {'KL(o||t)':>11s} {'coupling':>11s} {'x optimum':>10s}"
    )
    head += f" {'order':>6s}" + (
        f" {'N for KL<=' + format(args.target_kl, 'g'):>14s}" if need else ""
    )
    lines.append(head)
    for sc in scores:
        c = sc.criteria
        gap = "-" if sc.gap is None else f"{sc.gap:.3g}"
        row = (
            f"{sc.sampler:10s} {c.kl_source_output:11.4g} {c.kl_output_source:11.4g} "
            f"{c.coupling:11.4g} {gap:>10s} {sc.order[-1]:6.2f}"
        )
        if need:
            got = need[sc.sampler]
            row += f" {'> ' + str(100_000) if got is None else str(got):>14s}"
        lines.append(row)
    lines += [
        "",
        "x optimum: the sampler's criterion (coupling error; KL(t||o) for ddim and ancestral) over "
        "its exact optimum for the same N and ends; order: log2 KL(2N)/KL(4N) of the grid's shape "
        "refined",
    ]
    write_output("\n".join(lines), None)
    return 0
