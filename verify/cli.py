"""``symsched verify``: the main job. Registered into the core CLI through an entry point."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from symsched_verify.registry import Budget

if TYPE_CHECKING:
    from symsched.parallel import Executor


def register_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Entry point of the ``symsched.commands`` group: add the ``verify`` command."""
    register_verify(sub)


def register_verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help="run every verification claim and write the report",
        description="Re-derive and check every claim; write report.md, figures and reference "
        "schedules.",
    )
    p.add_argument(
        "--out",
        default="symsched-report",
        metavar="DIR",
        help="report directory (built beside DIR, swapped in when complete)",
    )
    prof = p.add_mutually_exclusive_group()
    prof.add_argument(
        "--quick",
        dest="profile",
        action="store_const",
        const="quick",
        help="CI profile (minutes; default)",
    )
    prof.add_argument(
        "--full", dest="profile", action="store_const", const="full", help="thorough profile"
    )
    p.add_argument(
        "--only", metavar="PATTERN", help="run only claims whose id matches (glob or substring)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=Budget().seed,
        help="base seed of every Monte Carlo check (an integer >= 0)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a previous report in --out (only a directory holding a .symsched-report "
        "marker, i.e. one this command wrote, is ever replaced)",
    )
    p.add_argument("--list", action="store_true", help="list the claims and exit")
    dist = p.add_mutually_exclusive_group()
    dist.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the checks on a Dask distributed scheduler (tcp://host:8786)",
    )
    dist.add_argument(
        "--workers",
        type=int,
        metavar="K",
        help="run the checks on a local Dask cluster of K single-threaded workers",
    )
    dist.add_argument(
        "--jobs",
        type=int,
        metavar="J",
        help="run the checks in J single-threaded local processes (default: one per usable core; "
        "1 runs them in this process); the results do not depend on J",
    )
    p.set_defaults(func=run_verify, profile="quick")


def canonical_command(args: argparse.Namespace) -> str:
    """The command that reproduces a report, in canonical form (options that cannot change the
    results, --force and the executor, are left out so reruns record the same command)."""
    import shlex

    parts = ["symsched", "verify", f"--{args.profile}"]  # --jobs too is left out
    if args.only is not None:
        parts += ["--only", args.only]
    parts += ["--seed", str(args.seed), "--out", str(args.out)]
    return shlex.join(parts)


@contextlib.contextmanager
def _hypothesis_storage_outside_cwd() -> Iterator[None]:
    """Point hypothesis's storage (its cache of source constants, ``./.hypothesis`` by default) at a
    temporary directory for the run, removed afterwards: ``verify`` writes only ``--out``.

    The environment variable reaches Dask workers started inside the block; the configuration call
    covers this process, where hypothesis may have chosen its directory already.
    """
    from hypothesis import configuration

    var = "HYPOTHESIS_STORAGE_DIRECTORY"
    tmp = tempfile.mkdtemp(prefix="symsched-verify-hypothesis-")
    saved_env = os.environ.get(var)
    saved_home = getattr(configuration, "__hypothesis_home_directory", None)
    os.environ[var] = tmp
    configuration.set_hypothesis_home_dir(tmp)
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(saved_home)
        if saved_env is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = saved_env
        shutil.rmtree(tmp, ignore_errors=True)


#: Memory charged per ``--jobs`` process against the budget (``--max-memory``): a Python process
#: with numpy, SciPy, SymPy, torch and matplotlib loaded and the largest quick claim's arrays.
JOB_BYTES = 1024 * 2**20


def _executor(args: argparse.Namespace, n_claims: int) -> Executor:
    """The executor of ``--scheduler`` / ``--workers`` (Dask) or ``--jobs`` (local processes; by
    default one per usable core, at most one per claim and as many as the memory budget holds;
    one job runs in this process)."""
    from symsched._budget import check_memory, memory_budget
    from symsched.cli._executor import executor_from_args
    from symsched.parallel import InProcess, ProcessPool, usable_cores

    if args.scheduler is not None or args.workers is not None:
        return executor_from_args(args)
    if args.jobs is None:  # the default: as many as the cores, the claims and the memory allow
        fits = int(memory_budget()[0] // JOB_BYTES)
        jobs = max(1, min(usable_cores(), n_claims, fits))
    else:
        jobs = min(args.jobs, max(1, n_claims))
    if jobs == 1:
        return InProcess()
    check_memory(
        float(jobs) * JOB_BYTES, flag="--jobs", what=f"{jobs} local verification processes"
    )
    return ProcessPool(jobs)


def run_verify(args: argparse.Namespace) -> int:
    """Check every argument and the --out directory, then run the claims and swap the report in.

    Nothing is started (no claim, no cluster) before the checks pass. ``hypothesis`` (the
    ``verify`` extra) is checked here, at run time, so that registering the command never needs it.
    """
    from symsched.cli._common import CliError, require

    require("hypothesis")  # the claims' property tests; MissingDependency names symsched[verify]
    from symsched_verify.run import (
        check_out,
        previous_timings,
        print_table,
        run_claims,
        select_claims,
        write_report_dir,
    )

    if args.seed < 0:
        raise CliError(f"--seed must be an integer >= 0, got {args.seed}")
    if args.only is not None and not args.only.strip():
        raise CliError(
            "--only must be a non-empty pattern (a glob or a substring of a claim id), "
            f"got {args.only!r}"
        )
    claims = select_claims(args.only)
    if args.list:
        for c in claims:
            print(f"{c.id}\t{c.docs}\t{c.statement}")
        return 0
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers must be >= 1, got {args.workers}")
    if args.jobs is not None and args.jobs < 1:
        raise CliError(f"--jobs must be >= 1 (1 runs the claims in this process), got {args.jobs}")
    out = check_out(args.out, args.force)  # refuse before starting any claim or cluster
    command = canonical_command(args)
    budget = Budget(profile=args.profile, seed=args.seed)
    with _hypothesis_storage_outside_cwd():
        executor = _executor(args, len(claims))
        t0 = time.perf_counter()
        try:
            results = run_claims(
                claims,
                budget,
                executor=executor,
                command=command,
                expected_seconds=previous_timings(out) if args.force else None,
            )
        finally:
            executor.close()
        wall = time.perf_counter() - t0
    where = str(getattr(executor, "where", getattr(executor, "name", "in-process")))
    write_report_dir(
        results, out, budget, command, force=args.force, wall_seconds=wall, where=where
    )
    print_table(results)
    failed = [r for r in results if r.status != "PASS"]
    print(
        f"{len(results) - len(failed)} of {len(results)} claims pass in {wall:.0f} s "
        f"({where}); report: {out / 'report.md'}"
    )
    return 1 if failed else 0
