"""Shared pieces of ``symsched simulate`` and ``symsched steps-needed``: model options, progress."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from symsched.cli._common import CliError, parse_floats
from symsched.parallel import Executor

if TYPE_CHECKING:
    from symsched.highdim.cw import CurieWeiss
    from symsched.highdim.gm import GaussianMixture

T = TypeVar("T")
R = TypeVar("R")

GM_DEFAULTS = {"p": 0.8, "m": 1.0, "mode_sigma": 0.5}
CW_DEFAULTS = {"p": 0.8, "beta": 2.0}


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=("gm", "cw"), help="gm: Gaussian mixture; cw: Curie-Weiss")
    g = p.add_argument_group("model options (gm: --p --m --mode-sigma; cw: --beta --p)")
    g.add_argument(
        "--p", type=float, metavar="P", help="weight of the + mode, in (0, 1) (default 0.8)"
    )
    g.add_argument(
        "--m", type=float, metavar="M", help="gm: mode offset per coordinate (default 1)"
    )
    g.add_argument(
        "--mode-sigma",
        type=float,
        metavar="S",
        help="gm: per-mode standard deviation (default 0.5)",
    )
    g.add_argument(
        "--beta", type=float, metavar="B", help="cw: inverse temperature > 1 (default 2)"
    )
    p.add_argument(
        "--kappa",
        type=float,
        default=3.0,
        metavar="K",
        help="dilation parameter of vp-/ve-dilated (> 0, < sqrt(d))",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def model_params(args: argparse.Namespace) -> dict[str, float]:
    """Model parameters with defaults; options that do not belong to the model are refused."""
    if args.model == "gm":
        if args.beta is not None:
            raise CliError("--beta is a cw option; gm takes --p, --m, --mode-sigma")
        return {
            k: (getattr(args, k) if getattr(args, k) is not None else v)
            for k, v in GM_DEFAULTS.items()
        }
    for flag, val in (("--m", args.m), ("--mode-sigma", args.mode_sigma)):
        if val is not None:
            raise CliError(
                f"{flag} is a gm option; cw takes --beta and --p (m is m(beta), the root of "
                "m = tanh(beta m))"
            )
    return {
        k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in CW_DEFAULTS.items()
    }


def model_title(model: str, params: dict[str, float]) -> str:
    """The model and its parameters for a figure title: ``Gaussian mixture p = 0.8, m = 1,
    σ = 0.5`` or ``Curie–Weiss β = 2, p = 0.8``."""
    if model == "gm":
        return (
            f"Gaussian mixture p = {params['p']:g}, m = {params['m']:g}, "
            f"σ = {params['mode_sigma']:g}"
        )
    return f"Curie–Weiss β = {params['beta']:g}, p = {params['p']:g}"


# The range where the simulators' float64 arithmetic is exact enough (docs/cli.md#input-range):
# products such as m^2 d and exp(beta m) stay far from overflow for d <= 2^53, and the
# Curie-Weiss magnetisation m(beta) stays below 1 (1 - m ~ 2 exp(-2 beta) rounds to 0 from
# beta ~ 18, where the two-mode law and denoiser need log(1 - m)).
PARAMETER_RANGES = {
    "m": (1e-6, 1e6),
    "mode_sigma": (1e-6, 1e6),
    "beta": (1.0, 15.0),
    "kappa": (1e-6, 1e6),
}


def check_parameter(name: str, value: float) -> None:
    """Refuse a model parameter outside :data:`PARAMETER_RANGES` (one line naming the flag)."""
    lo, hi = PARAMETER_RANGES[name]
    flag = "--" + name.replace("_", "-")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise CliError(f"{flag} must be a number in [{lo:g}, {hi:g}], got {value:g}")


def build_model(kind: str, params: dict[str, float], dim: int) -> GaussianMixture | CurieWeiss:
    from symsched.highdim.cw import CurieWeiss
    from symsched.highdim.gm import GaussianMixture

    for name, value in params.items():
        if name in PARAMETER_RANGES:
            check_parameter(name, value)
    try:
        if kind == "gm":
            return GaussianMixture(
                p=params["p"], m=params["m"], mode_sigma=params["mode_sigma"], dim=dim
            )
        model = CurieWeiss(beta=params["beta"], p=params["p"], dim=dim)
        model.require_low_temperature()
        return model
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        first, _, rest = msg.partition(" ")
        if first in ("p", "m", "mode_sigma", "beta"):  # name the command-line flag
            msg = f"--{first.replace('_', '-')} {rest}"
        raise CliError(msg) from None


def parse_schedules(text: str, model: str) -> list[str]:
    """``--schedule`` as a comma-separated list of :data:`symsched.highdim.schedules.SCHEDULES`."""
    from symsched.highdim.schedules import SCHEDULES

    names = [t.strip() for t in str(text).split(",") if t.strip()]
    bad = [n for n in names if n not in SCHEDULES]
    if not names or bad:
        raise CliError(
            f"--schedule must be one or more of {', '.join(SCHEDULES)} (comma-separated), "
            f"got {text!r}"
        )
    if model == "cw" and "stein" in names:
        raise CliError(
            "--schedule stein is computed on the Gaussian mixture; for cw use vp-constant, "
            "vp-dilated, ve-constant or ve-dilated"
        )
    if len(set(names)) != len(names):
        raise CliError(f"--schedule lists a schedule twice: {text!r}")
    return names


def check_kappa(schedule: str, dim: int, kappa: float) -> None:
    """Refuse a ``--kappa`` the dilated ``schedule`` cannot use at ``dim`` (before any task)."""
    from symsched.highdim.schedules import ve_dilated, vp_dilated

    check_parameter("kappa", kappa)
    if schedule in ("vp-dilated", "ve-dilated"):
        try:
            (vp_dilated if schedule == "vp-dilated" else ve_dilated)(2, dim, kappa)
        except ValueError as exc:
            raise CliError(f"--{exc}") from None


MAX_DIM = 2**53  # dimensions are exact integers in float64 up to here


def parse_dims(text: str, flag: str = "--dims") -> list[int]:
    """Comma-separated dimensions (``1e8`` accepted), each an integer in [1, 2^53]."""
    values = parse_floats(text, flag)
    too_big = [v for v in values if v > MAX_DIM]
    if too_big:
        raise CliError(
            f"{flag} must be <= 2^53 = {MAX_DIM:.4g} (an exact integer), got {too_big[0]:g}"
        )
    try:
        from symsched.highdim.gm import check_dim

        return [check_dim(v, flag) for v in values]
    except (ValueError, TypeError) as exc:
        raise CliError(str(exc)) from None


@contextlib.contextmanager
def progress_bar(total: int, description: str, disabled: bool) -> Iterator[Any]:
    """A rich progress bar on stderr; yields ``advance_to(k, total=None)`` (``total`` may grow, e.g.
    as a steps-needed search submits more tasks)."""
    if disabled or not sys.stderr.isatty():
        yield lambda k, total=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        task = prog.add_task(description, total=total)
        yield lambda k, total=None: prog.update(task, completed=k, total=total)


def map_with_progress(
    executor: Executor,
    fn: Callable[[T], R],
    items: Sequence[T],
    description: str,
    disabled: bool,
) -> list[R]:
    """``executor.map(fn, items)`` with a progress bar that counts finished tasks (in any order)."""
    with progress_bar(len(items), description, disabled) as advance:
        finished = 0

        def tick(_i: int, _res: R) -> None:
            nonlocal finished
            finished += 1
            advance(finished)

        return executor.map(fn, items, on_done=tick)
