"""``--scheduler ADDRESS`` / ``--workers K``: the executor flags of the commands that fan out.

The executors themselves are :mod:`symsched.parallel`; this module turns the flags into one and
refuses bad values as a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import re

from symsched._budget import check_memory
from symsched.cli._common import CliError
from symsched.parallel import Executor, make_executor

__all__ = ["WORKER_BYTES", "add_executor_options", "executor_from_args"]

WORKER_BYTES = 256 * 2**20
"""Memory charged per local Dask worker against the budget: one Python process with numpy,
SciPy and the task's imports resident (about 150-250 MiB measured)."""

_ADDRESS = re.compile(
    r"((tcp|tls|inproc|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:]*[A-Za-z0-9\]]:\d{1,5}"
)


def add_executor_options(
    p: argparse.ArgumentParser | argparse._ArgumentGroup, what: str = "the tasks"
) -> None:
    """``--scheduler ADDRESS`` / ``--workers K`` (mutually exclusive) on an argparse parser.

    Parameters
    ----------
    p
        The parser (or argument group) of a command.
    what
        What runs on the executor, for the help texts.
    """
    dist = p.add_mutually_exclusive_group()
    dist.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"run {what} on a Dask distributed scheduler (tcp://host:8786)",
    )
    dist.add_argument(
        "--workers",
        type=int,
        metavar="K",
        help=f"run {what} on a local Dask cluster of K single-threaded workers",
    )


def executor_from_args(args: argparse.Namespace) -> Executor:
    """The executor of ``--scheduler`` / ``--workers``.

    Parameters
    ----------
    args
        The command's namespace (from a parser given :func:`add_executor_options`).

    Returns
    -------
    Executor
        As :func:`make_executor`.

    Raises
    ------
    CliError
        Bad values (exit 2, one line): ``--workers < 1`` or more workers than the memory budget
        holds, both flags, dask missing or the scheduler unreachable.
    """
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise CliError(f"--workers must be >= 1, got {workers}")
    if workers is not None:  # each local worker is a Python process of its own
        check_memory(
            float(workers) * WORKER_BYTES,
            flag="--workers",
            what=f"a local Dask cluster of {workers} worker processes",
        )
    scheduler = getattr(args, "scheduler", None)
    if scheduler is not None and not _ADDRESS.fullmatch(scheduler):
        raise CliError(
            f"--scheduler must be the address of a Dask scheduler such as tcp://host:8786, "
            f"got {scheduler!r}"
        )
    try:
        return make_executor(scheduler, workers)
    except ValueError as exc:
        msg = str(exc)
        raise CliError(
            msg if "--scheduler" in msg or "--workers" in msg else f"--scheduler {scheduler}: {msg}"
        ) from None
