"""Fuzzing the command-line contract (docs/cli.md): generated command lines, good and bad values.

Hypothesis builds command lines from a grammar read off the real parser (every flag of every
command and schedule method, with its type and choices), starting from a small valid command and
applying mutations: a flag's value replaced by a good or a bad one (empty, NaN, inf, huge,
negative, malformed, wrong files: missing, empty, a directory, a matrix, complex, a pickle), a
flag of the same command added, a flag of another method or command added, a required flag
dropped. Each command line runs in-process in a fresh working directory and must keep the
contract:

* exit status 0, 2 or 130 (1 is only a false claim, and no claim runs here; 70 is a bug);
* on 2, exactly one line on stderr, naming a flag the command line contains (or the positional
  argument argparse names);
* no ``nan`` on stdout;
* no file in the working directory changed, appeared or vanished except the named output
  (``-o``, ``--plot``, ``--out``);
* under :data:`TIME_BOUND` seconds and :data:`MEMORY_BOUND` bytes of extra peak resident memory
  (the run's memory budget is :data:`BUDGET`, so any request the guards accept fits).

The default tier runs ``CASES_PER_GROUP`` cases in each of six groups (at least 300 in all); the
``slow`` tier runs ten times more.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symsched.cli import build_parser, main

CASES_PER_GROUP = 52  # 6 groups -> 312 cases in the default run
SLOW_CASES_PER_GROUP = 520
TIME_BOUND = 60.0  # seconds per command line: the valid workloads below take < 5 s
BUDGET = "1G"  # SYMSCHED_MAX_MEMORY of every run
MEMORY_BOUND = 1.5 * 1024**3  # extra peak RSS allowed on top of the process before the run

# --- the grammar, from the parser ------------------------------------------------------------


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    return {}


PARSER = build_parser()
COMMANDS = _subparsers(PARSER)
METHODS = _subparsers(COMMANDS["schedule"])


def _flags(p: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {
        a.option_strings[-1] if a.option_strings[-1].startswith("--") else a.option_strings[0]: a
        for a in p._actions
        if a.option_strings and not isinstance(a, argparse._HelpAction)
    }


# every flag of every command and method: what gets injected
ALL_FLAGS: dict[str, argparse.Action] = {}
for _p in [*COMMANDS.values(), *METHODS.values()]:
    ALL_FLAGS.update(_flags(_p))

# --- values -------------------------------------------------------------------------------------

BAD_NUMBERS = [
    "", " ", "nan", "NaN", "inf", "-inf", "-1", "0", "-0", "1e400", "-1e400", "1e308", "1e-320",
    "abc", "1,,2", ",", "0x10", "1_0", "2147483649", "1e12", "1e9", "3.5", "1e-300", "1e300",
    "1,nan", "nan,1", "2,1", "1e-5", "-1e-300",
]  # fmt: skip
GOOD_BY_KIND = {
    "float": ["0.5", "1", "2", "80", "0.002", "3"],
    "int": ["1", "2", "4", "8"],
    "str": ["x", "gaussian", "cpu"],
}
FILE_VALUES = [
    "missing.npy", "empty.txt", "adir", "lam.npy", "lam.txt", "matrix.npy", "complex.npy",
    "pickle.npy", "letters.txt", "evil.pt", "rows.npy", "nodir/x.npy",
]  # fmt: skip
OUTPUT_VALUES = [
    "out.json", "out.csv", "p.png", "p.pdf", "p.svg", "p.gif", "existing.txt", "adir",
    "nodir/x.png", ".", "report", "oldreport", "rep", "-",
]  # fmt: skip
OUTPUT_FLAGS = ("-o", "--output", "--plot", "--out")
FILE_FLAGS = ("--spectrum-file", "--data", "--spectra")
# values never generated: a regression there must not be able to delete the machine
NEVER = ("/", "~", "..")


class _Evil:
    """A pickle that would write a file when unpickled (a loader must refuse to run it)."""

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return (Path.write_text, (Path("PWNED"), "unpickled"))


def _make_files(root: Path) -> None:
    rng = np.random.default_rng(0)
    np.save(root / "lam.npy", np.array([0.05, 0.3, 1.0, 2.5]))
    (root / "lam.txt").write_text("# eigenvalues\n0.2\n1.0\n3.0\n")
    (root / "empty.txt").write_text("")
    (root / "letters.txt").write_text("1.0\nabc\n")
    np.save(root / "matrix.npy", np.eye(2) + 1.0)
    np.save(root / "complex.npy", np.array([1 + 1j, 2.0]))
    np.save(root / "pickle.npy", np.array([_Evil()], dtype=object), allow_pickle=True)
    np.save(root / "rows.npy", rng.standard_normal((16, 4)))
    import torch

    torch.save({"x": _Evil()}, root / "evil.pt")
    (root / "adir").mkdir()
    (root / "adir" / "keep.txt").write_text("keep")
    (root / "existing.txt").write_text("previous contents")
    (root / "oldreport").mkdir()
    (root / "oldreport" / "report.md").write_text("an unrelated report without the marker")


# --- base command lines: valid and cheap -----------------------------------------------------

BASES: dict[str, list[list[str]]] = {
    "schedule": [
        ["schedule", "karras", "--steps", "4"],
        ["schedule", "tangent", "--steps", "4", "--eigenvalues", "0.5,2", "--sigma-max", "80"],
        ["schedule", "loglinear", "--steps", "3", "--format", "k-diffusion"],
        ["schedule", "kl-optimal", "--steps", "3", "--spectrum-file", "lam.npy",
         "--sigma-max", "80", "--sigma-min", "0.002"],
        ["schedule", "variational", "--steps", "3", "--eigenvalues", "0.1,1"],
        ["schedule", "vp-linear", "--steps", "4", "--format", "diffusers-timesteps",
         "--train-schedule", "linear"],
        ["schedule", "cosine", "--steps", "4", "--sigma-max", "80", "--format", "csv"],
        ["schedule", "ays", "--steps", "6", "--model", "sdxl", "--format", "comfyui"],
        ["schedule", "tangent", "--steps", "4", "--c", "1", "--format", "flow-matching",
         "--shift", "3"],
        ["schedule", "stein", "--steps", "3", "--model", "gaussian", "--c", "0.5", "--dim", "4"],
        ["schedule", "karras", "--steps", "4", "--json", "-o", "out.json"],
        ["schedule", "kl-optimal", "--steps", "3", "--eigenvalues", "0.1,1", "--sigma-max",
         "80", "--sigma-min", "0.002", "--sampler", "dpmpp-2m", "--json"],
        ["schedule", "kl-optimal", "--steps", "3", "--eigenvalues", "0.5,2", "--sigma-max",
         "20", "--sampler", "heun", "--objective", "kl"],
        ["schedule", "flow", "--steps", "4", "--eigenvalues", "0.5,2", "--format",
         "diffusers-flow", "--flow-args", "mu"],
        ["schedule", "flow", "--steps", "3", "--shift", "3", "--format", "flow-matching"],
        ["schedule", "builtin", "--name", "diffusers:euler", "--steps", "5", "--set",
         "use_karras_sigmas=true", "--json"],
        ["schedule", "builtin", "--name", "comfyui:beta", "--steps", "7", "--set", "model=sdxl"],
        ["schedule", "builtin", "--list", "--name", "a1111:kl_optimal"],
    ],
    "kl": [
        ["kl", "--eigenvalues", "0.5,2", "--sigmas", "80,1,0"],
        ["kl", "--spectrum-file", "lam.npy", "--schedule", "karras", "--steps", "4", "--json"],
        ["kl", "--eigenvalues", "1", "--schedule", "tangent", "--steps", "3",
         "--sampler", "dpmpp-2m"],
        ["kl", "--eigenvalues", "1,3", "--sigmas", "inf,2,0.5,0", "--sampler", "ancestral",
         "--eta", "0.5", "--start", "prior"],
        ["kl", "--eigenvalues", "1", "--sigmas", "20,2,0.1", "--sampler", "heun"],
    ],
    "analysis": [
        ["asymptotics", "--eigenvalues", "0.5,2", "--schedule", "tangent", "--json"],
        ["asymptotics", "--spectrum-file", "lam.txt", "--schedule", "karras", "--steps", "8"],
        ["derive", "gaussian"],
        ["derive", "tangent", "--latex"],
        ["rank", "--model", "edm", "--eigenvalues", "0.5,2", "--nfe", "3",
         "--strategies", "edm-rho7,tangent"],
        ["rank", "--model", "sd15", "--spectrum-file", "lam.npy", "--nfe", "3,4",
         "--strategies", "ays,logsnr-uniform", "--json"],
        ["sweep", "--spectra", "lam.npy", "--steps", "3", "--methods", "karras,tangent",
         "--no-progress"],
        ["score", "--comfyui", "[14.6, 2.0, 3e-05, 0]", "--eigenvalues", "0.5,2", "--no-optimum"],
        ["score", "--sigmas", "inf,3,0.5,0", "--spectrum-file", "lam.npy", "--sampler", "ddim",
         "--target-kl", "5", "--json"],
        ["score", "--builtin", "k-diffusion:karras", "--steps", "4", "--eigenvalues", "0.5,2",
         "--no-optimum", "--json"],
        ["steps-for", "--eigenvalues", "0.5,2", "--target-kl", "0.5", "--method", "karras",
         "--sigma-min", "0.01"],
        ["sweep", "--spectra", "lam.txt", "--steps", "2,3", "--methods", "loglinear",
         "--sampler", "ddim,ancestral", "--no-progress", "-o", "out.csv"],
        ["spectrum", "--photographs", "--resolution", "8", "--patches", "16", "--json"],
        ["spectrum", "--npy", "rows.npy", "--rescale-mean", "1", "--out", "out.npy"],
        ["recommend", "--model", "edm", "--sampler", "dpmpp-2m", "--steps", "5", "--json"],
        ["rank", "--model", "sdxl", "--eigenvalues", "0.5,2", "--nfe", "4", "--sampler", "heun"],
        ["sweep", "--spectra", "lam.npy", "--steps", "3", "--methods", "karras,kl-optimal",
         "--sampler", "ddim,heun", "--criterion", "coupling", "--no-progress"],
        ["recommend", "--model", "sd15", "--sampler", "heun", "--steps", "10"],
        ["recommend", "--model", "ddpm", "--sampler", "ddim", "--steps", "5",
         "--format", "diffusers-timesteps"],
    ],
    "stein": [
        ["stein-cost", "--model", "gaussian", "--c", "0.5", "--dim", "8", "--from", "2",
         "--to", "1"],
        ["stein-cost", "--model", "two-point", "--from", "1", "--to", "0.5", "--json"],
        ["stein-cost", "--model", "gm", "--dim", "4", "--from", "2", "--to", "1",
         "--estimator", "monte-carlo", "--samples", "256"],
        ["stein-cost", "--model", "gaussian", "--spectrum-file", "lam.npy", "--from", "3",
         "--to", "1", "--weight", "source"],
    ],
    "highdim": [
        ["simulate", "gm", "--dim", "100", "--steps", "8", "--schedule", "vp-constant",
         "--samples", "500", "--no-progress"],
        ["simulate", "gm", "--dim", "1e6", "--steps", "6,8", "--schedule", "vp-dilated",
         "--samples", "200", "--no-progress", "--json"],
        ["simulate", "cw", "--dim", "40", "--steps", "6", "--schedule", "ve-dilated",
         "--samples", "50", "--no-progress"],
        ["steps-needed", "gm", "--schedule", "vp-dilated", "--dims", "1e2,1e3",
         "--max-steps", "64", "--no-progress"],
        ["simulate", "gm", "--dim", "50", "--steps", "6", "--schedule", "vp-constant",
         "--samples", "100", "--simulator", "full", "--no-progress"],
    ],
    "verify": [
        ["verify", "--list"],
        ["verify", "--list", "--only", "gaussian.*"],
        ["verify", "--out", "rep", "--seed", "-1"],
        ["verify", "--only", "", "--out", "rep"],
        ["verify", "--out", "oldreport", "--force", "--only", "gaussian.check-values"],
        ["verify", "--out", "existing.txt", "--only", "gaussian.check-values"],
    ],
}  # fmt: skip


def _base_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    return METHODS[argv[1]] if argv[0] == "schedule" else COMMANDS[argv[0]]


def _value_for(flag: str, action: argparse.Action) -> st.SearchStrategy[str]:
    """Good and bad values for ``flag`` (by its type, choices and role)."""
    if flag in OUTPUT_FLAGS:
        return st.sampled_from(OUTPUT_VALUES)
    if flag in FILE_FLAGS:
        return st.sampled_from([*FILE_VALUES, "digits"])
    pool: list[str] = list(BAD_NUMBERS)
    if action.choices:
        pool += [str(c) for c in action.choices] * 3 + ["bogus", "DDIM"]
    elif flag in ("--eigenvalues", "--sigmas", "--dims", "--dim", "--steps", "--nfe"):
        pool += ["0.5,2", "80,1,0", "1", "3", "1e2,1e3", "inf,1,0", "1,2,3", "2,2"]
    elif flag in ("--model",):
        pool += ["gaussian", "two-point", "gm", "digits", "diffusers:adir", "adir", "nosuch"]
    elif flag in ("--device",):
        pool += ["cpu", "cuda", "bogus", "cuda:7"]
    elif flag in ("--scheduler",):
        pool += ["nonsense", "tcp://"]
    elif flag in ("--workers",):
        pool += ["0", "-2"]  # a good value would start a cluster: not fuzzed here
    elif flag in ("--only", "--methods", "--strategies", "--spectra", "--sampler"):
        pool += ["karras", "tangent,karras", "gaussian.*", "nosuch", "karras,karras"]
    else:
        kind = "int" if action.type is int else "float"
        pool += GOOD_BY_KIND[kind] * 2
    return st.sampled_from([v for v in pool if v not in NEVER])


@st.composite
def command_lines(draw: st.DrawFn, group: str) -> list[str]:
    argv = list(draw(st.sampled_from(BASES[group])))
    own = _flags(_base_parser(argv))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["replace", "add-own", "add-foreign", "drop", "duplicate"]))
        present = [i for i, tok in enumerate(argv) if tok in ALL_FLAGS]
        if kind == "replace" and present:
            i = draw(st.sampled_from(present))
            action = ALL_FLAGS[argv[i]]
            if action.nargs != 0 and i + 1 < len(argv):
                argv[i + 1] = draw(_value_for(argv[i], action))
        elif kind in ("add-own", "add-foreign"):
            pool = own if kind == "add-own" or not own else ALL_FLAGS
            flag = draw(st.sampled_from(sorted(pool)))
            action = pool[flag]
            argv += [flag] if action.nargs == 0 else [flag, draw(_value_for(flag, action))]
        elif kind == "drop" and present:
            i = draw(st.sampled_from(present))
            action = ALL_FLAGS[argv[i]]
            del argv[i : i + (1 if action.nargs == 0 else 2)]
        elif kind == "duplicate" and present:
            i = draw(st.sampled_from(present))
            action = ALL_FLAGS[argv[i]]
            argv += argv[i : i + (1 if action.nargs == 0 else 2)]
    if argv[0] == "verify" and "--list" not in argv:
        # a run that passes the checks would run claims for minutes: keep one cheap claim only
        argv = [a for a in argv if a not in ("--full", "--quick")]
        if "--only" not in argv:
            argv += ["--only", "gaussian.check-values"]
        else:
            i = argv.index("--only")
            if i + 1 < len(argv) and argv[i + 1] not in ("", " "):
                argv[i + 1] = "gaussian.check-values"
    return argv


# --- running and checking -----------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not p.is_symlink():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[rel + "/"] = "dir"
    return out


def _peak_rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _has_base(argv: Sequence[str]) -> bool:
    if not argv or argv[0] not in COMMANDS:
        return False
    return argv[0] != "schedule" or (len(argv) > 1 and argv[1] in METHODS)


def _scheduled_methods(argv: Sequence[str]) -> list[str]:
    """The methods a ``--schedule METHOD`` of the command line names."""
    return [v for k, v in itertools.pairwise(argv) if k == "--schedule" and v in METHODS]


def _named_outputs(argv: Sequence[str]) -> set[str]:
    named = {"symsched-report"} if argv and argv[0] == "verify" and "--out" not in argv else set()
    for i, tok in enumerate(argv[:-1]):
        if tok in OUTPUT_FLAGS:
            named.add(argv[i + 1].rstrip("/"))
    return named


def _allowed(rel: str, named: set[str]) -> bool:
    rel = rel.rstrip("/")
    return any(rel == n or rel.startswith(n + "/") for n in named if n not in (".", ""))


def _log_start(argv: list[str]) -> None:
    """With ``SYMSCHED_FUZZ_LOG=FILE``, note the case before it runs (a crash leaves it last)."""
    path = os.environ.get("SYMSCHED_FUZZ_LOG")
    if path:
        import json

        with open(path + ".started", "a") as fh:
            fh.write(json.dumps(argv) + "\n")


def _log_case(
    argv: list[str],
    code: int,
    elapsed: float,
    extra_rss: float,
    stdout: str,
    stderr: str,
    unexpected: list[str],
) -> None:
    """With ``SYMSCHED_FUZZ_LOG=FILE``, append one JSON line per case (for the fuzzing figures)."""
    path = os.environ.get("SYMSCHED_FUZZ_LOG")
    if not path:
        return
    import json

    row = {
        "argv": argv,
        "exit": code,
        "seconds": round(elapsed, 3),
        "extra_rss_mib": round(extra_rss / 2**20, 1),
        "stderr_lines": len(stderr.strip().splitlines()),
        "traceback": "Traceback" in stderr,
        "nan": re.search(r"\bnan\b", stdout, flags=re.I) is not None,
        "files_changed_unasked": unexpected,
    }
    with open(path, "a") as fh:
        fh.write(json.dumps(row) + "\n")


def run_case(argv: list[str], root: Path) -> None:
    before = _snapshot(root)
    _log_start(argv)
    out, err = io.StringIO(), io.StringIO()
    _reset_peak()
    base_rss = _peak_rss()
    t0 = time.perf_counter()
    with _cwd(root), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors (2), --help / --version (0)
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 2
    elapsed = time.perf_counter() - t0
    extra_rss = _peak_rss() - base_rss
    stdout, stderr = out.getvalue(), err.getvalue()
    after = _snapshot(root)
    named = _named_outputs(argv)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    unexpected = sorted(k for k in changed if not _allowed(k, named))
    _log_case(argv, code, elapsed, extra_rss, stdout, stderr, unexpected)
    shown = f"argv = {argv!r}\nexit {code}\nstderr: {stderr!r}"
    assert code in (0, 2, 130), shown
    if code == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, shown
        flags = [t for t in argv if t.startswith("-") and len(t) > 1]
        # a flag the line contains, or (a missing required one) a flag of the command
        known = flags + (list(_flags(_base_parser(argv))) if _has_base(argv) else [])
        # kl / asymptotics --schedule METHOD: a missing method option is named too
        known += [f for m in _scheduled_methods(argv) for f in _flags(METHODS[m])]
        positional = re.search(r"argument (METHOD|COMMAND|model)\b", lines[0])
        names_flag = any(re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", lines[0]) for f in known)
        assert names_flag or positional or not flags, shown
    assert re.search(r"\bnan\b", stdout, flags=re.I) is None, shown
    assert not unexpected, f"{shown}\nfiles changed: {unexpected}"
    assert "PWNED" not in after, f"{shown}\na pickle was executed"
    assert elapsed < TIME_BOUND, f"{shown}\ntook {elapsed:.1f} s"
    assert extra_rss < MEMORY_BOUND, f"{shown}\npeak RSS grew by {extra_rss / 2**20:.0f} MiB"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    _make_files(root)
    return root


@pytest.fixture(autouse=True)
def _budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYMSCHED_MAX_MEMORY", BUDGET)


def _fresh(sandbox: Path) -> Path:
    """A copy of the sandbox per case, so that one case's output cannot mask another's."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="case-", dir=sandbox.parent))
    for p in sandbox.iterdir():
        if p.is_dir():
            shutil.copytree(p, root / p.name)
        else:
            shutil.copy2(p, root / p.name)
    return root


GROUPS = sorted(BASES)
_SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}


def _fuzz(group: str, sandbox: Path, data: st.DataObject) -> None:
    argv = data.draw(command_lines(group), label="argv")
    root = _fresh(sandbox)
    try:
        run_case(argv, root)
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("group", GROUPS)
@settings(max_examples=CASES_PER_GROUP, **_SETTINGS)
@given(data=st.data())
def test_fuzz_contract(group: str, sandbox: Path, data: st.DataObject) -> None:
    _fuzz(group, sandbox, data)


@pytest.mark.slow
@pytest.mark.parametrize("group", GROUPS)
@settings(max_examples=SLOW_CASES_PER_GROUP, **{**_SETTINGS, "derandomize": False})
@given(data=st.data())
def test_fuzz_contract_slow(group: str, sandbox: Path, data: st.DataObject) -> None:
    _fuzz(group, sandbox, data)


def test_the_default_run_tries_at_least_300_cases() -> None:
    assert CASES_PER_GROUP * len(GROUPS) >= 300


def test_every_command_and_method_has_a_base_command_line() -> None:
    # a new command or method without fuzz coverage fails here
    commands = {b[0] for bases in BASES.values() for b in bases}
    methods = {b[1] for b in BASES["schedule"]}
    assert commands == set(COMMANDS) and methods == set(METHODS)


def test_base_command_lines_keep_the_contract(sandbox: Path) -> None:
    # the starting points themselves: valid ones exit 0, the deliberate bad ones 2
    for group in GROUPS:
        for argv in BASES[group]:
            root = _fresh(sandbox)
            run_case(list(argv), root)
