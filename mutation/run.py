#!/usr/bin/env python3
"""Mutation testing of the symsched core, on demand: ``make mutation [MODULE=NAME]``.

An AST mutator and a fork-per-mutant runner (docs/mutation.md says why not mutmut or
cosmic-ray). Per module of ``mutation/modules.toml``:

1. every mutation site inside a function body of the module's source files is enumerated
   (operators below); a mutant's id is ``PATH::QUALNAME::HASH``, stable while that expression
   is unchanged;
2. a baseline run of the module's test selection (in a forked child) records which tests call
   which function of the sources, how long each test takes, and which third-party modules the
   tests import;
3. the driver imports those third-party modules once (so a mutant does not pay for numpy,
   sympy, torch, ...), then for each mutant forks a child that serves the mutated source for
   that one module through an import hook, imports ``symsched`` afresh and runs, with ``-x``,
   only the tests that call the mutated function (fastest first), under a timeout;
4. every verdict is written to ``mutation/verdicts/MODULE.json`` (committed) as it comes
   (resumable, also in a fresh checkout: a killed mutant is kept while its function's source
   is unchanged, a survivor while the test files of the selection are unchanged too), and the
   table ``mutation/results.md`` is rewritten,
   counting the mutants listed in ``mutation/equivalent.toml`` as equivalent.

Operators (function bodies only; not decorators, default values, annotations, docstrings,
string literals, ``raise`` or ``assert`` statements): arithmetic ``+ - * / // % **`` and the
bit operators swapped (``+``/``-``, ``*``/``/``, ``//``->``/``, ``%``->``/``, ``**``->``*``),
also in augmented assignments; comparisons to their boundary or negation (``<``/``<=``,
``>``/``>=``, ``==``/``!=``, ``is``/``is not``, ``in``/``not in``); ``and``/``or``; ``not x``
and ``-x`` to ``x``; an int ``n`` to ``n + 1``, a float ``x`` to ``x + 1.0``, ``True``/``False``
(not the ``strict=`` of ``zip``); ``min``/``max``, ``minimum``/``maximum``, ``any``/``all``,
``floor``/``ceil``, ``argmin``/``argmax`` calls swapped; ``break``/``continue`` swapped.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import fnmatch
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import signal
import sys
import tempfile
import time
import tomllib
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "mutation" / "modules.toml"
EQUIVALENT = ROOT / "mutation" / "equivalent.toml"
RESULTS = ROOT / "mutation" / "results.md"
CACHE = ROOT / ".cache" / "mutation"
# the verdicts are committed: a fresh checkout resumes where the last run stopped (each entry
# carries the hash of its function and of the test selection, so a stale one is rerun)
VERDICTS = ROOT / "mutation" / "verdicts"
TREE = ROOT  # the tree under test: the working tree, or a snapshot (--snapshot REF)
DRIVER_VERSION = "2"  # bump when a change here invalidates cached verdicts

# one thread per BLAS / OpenMP pool, set before anything imports numpy or torch
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

KILLED, SURVIVED, TIMEOUT, NO_COVER, ERROR = "killed", "survived", "timeout", "no-cover", "error"
_STALE = 97  # a child's exit code: the mutant or its function could not be found

_BINOP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Div,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
}
_CMPOP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_SWAP_CALLS = {
    "min": "max",
    "max": "min",
    "minimum": "maximum",
    "maximum": "minimum",
    "amin": "amax",
    "amax": "amin",
    "nanmin": "nanmax",
    "nanmax": "nanmin",
    "any": "all",
    "all": "any",
    "floor": "ceil",
    "ceil": "floor",
    "argmin": "argmax",
    "argmax": "argmin",
}
_SKIP_KEYWORDS = {"strict"}  # zip(..., strict=True) only ever raises on a caller's bug
_COMPREHENSION_PARTS = {"<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "<lambda>"}


# --------------------------------------------------------------------------------------------
# mutation sites


@dataclass
class Site:
    """One mutation of one file: ``apply`` performs it on the tree it was enumerated from."""

    mid: str
    path: str
    qualname: str
    line: int
    description: str
    fn_hash: str
    apply: Callable[[], None] = field(repr=False)


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_type_checking(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test)


class _Enumerator:
    """Walks a module's function bodies in a fixed order and lists their mutation sites."""

    def __init__(self, path: str, source: str) -> None:
        self.path = path
        self.source = source
        self.tree = ast.parse(source, filename=path)
        self.sites: list[Site] = []
        self._seen: dict[tuple[str, str], int] = {}
        self._qual: list[str] = []
        self._fn_hash = ""

    def run(self) -> list[Site]:
        self._container(self.tree.body, in_function=False)
        return self.sites

    # structure -------------------------------------------------------------------------------

    def _container(self, body: list[ast.stmt], *, in_function: bool) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self._function(stmt)
            elif isinstance(stmt, ast.ClassDef):
                self._qual.append(stmt.name)
                self._container(stmt.body, in_function=False)
                self._qual.pop()
            elif in_function:
                self._statement(stmt)
            elif isinstance(stmt, ast.If | ast.Try) and not _is_type_checking(stmt):
                # module-level code is not mutated, but functions defined under an if/try are
                for part in ("body", "orelse", "finalbody"):
                    self._container(getattr(stmt, part, []), in_function=False)
                for handler in getattr(stmt, "handlers", []):
                    self._container(handler.body, in_function=False)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if any("overload" in ast.unparse(d) for d in node.decorator_list):
            return
        outer_hash = self._fn_hash
        self._qual.append(node.name)
        segment = ast.get_source_segment(self.source, node) or ast.dump(node)
        self._fn_hash = hashlib.sha1(segment.encode()).hexdigest()[:12]
        body = node.body[1:] if node.body and _is_docstring(node.body[0]) else node.body
        for stmt in body:
            self._statement(stmt)
        self._qual.pop()
        self._fn_hash = outer_hash

    def _statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self._qual.append("<locals>")
            self._function(stmt)
            self._qual.pop()
            return
        if isinstance(stmt, ast.ClassDef):
            self._qual.extend(["<locals>", stmt.name])
            self._container(stmt.body, in_function=False)
            del self._qual[-2:]
            return
        if isinstance(stmt, ast.Raise | ast.Assert) or _is_docstring(stmt):
            return
        if _is_type_checking(stmt):
            return
        if isinstance(stmt, ast.Break | ast.Continue):
            self._jump(stmt)
            return
        if isinstance(stmt, ast.AugAssign):
            self._augassign(stmt)
        for name, value in ast.iter_fields(stmt):
            if isinstance(stmt, ast.AnnAssign) and name == "annotation":
                continue
            self._field(stmt, name, value)

    def _field(self, parent: ast.AST, name: str, value: object) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.stmt):
                    self._statement(item)
                elif isinstance(item, ast.AST):
                    self._expr(item, parent, name, i)
        elif isinstance(value, ast.stmt):
            self._statement(value)
        elif isinstance(value, ast.AST):
            self._expr(value, parent, name, None)

    def _expr(self, node: ast.AST, parent: ast.AST, name: str, index: int | None) -> None:
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    self._expr(part.value, part, "value", None)
            return
        if isinstance(node, ast.keyword) and node.arg in _SKIP_KEYWORDS:
            return
        if isinstance(node, ast.ExceptHandler):
            for stmt in node.body:
                self._statement(stmt)
            return
        if isinstance(node, ast.arguments):
            return  # a lambda's defaults
        self._mutations(node, parent, name, index)
        for child_name, child in ast.iter_fields(node):
            self._field(node, child_name, child)

    # the operators ---------------------------------------------------------------------------

    def _add(self, node: ast.AST, kind: str, mutated: ast.AST, apply: Callable[[], None]) -> None:
        before = ast.unparse(node)
        after = ast.unparse(mutated)
        qualname = ".".join(self._qual)
        key = (qualname, f"{kind}|{before}|{after}")
        occurrence = self._seen.get(key, 0)
        self._seen[key] = occurrence + 1
        digest = hashlib.sha1(f"{key}|{occurrence}".encode()).hexdigest()[:8]
        line = getattr(node, "lineno", 0)
        self.sites.append(
            Site(
                mid=f"{self.path}::{qualname}::{digest}",
                path=self.path,
                qualname=qualname,
                line=line,
                description=f"{kind}: `{_short(before)}` -> `{_short(after)}`",
                fn_hash=self._fn_hash,
                apply=apply,
            )
        )

    def _replace(self, parent: ast.AST, name: str, index: int | None, new: ast.AST) -> None:
        if index is None:
            setattr(parent, name, new)
        else:
            getattr(parent, name)[index] = new

    def _mutations(self, node: ast.AST, parent: ast.AST, name: str, index: int | None) -> None:
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
            new_op = _BINOP[type(node.op)]()
            mutated = copy.copy(node)
            mutated.op = new_op

            def set_op(n: ast.BinOp = node, op: ast.operator = new_op) -> None:
                n.op = op

            self._add(node, "arith", mutated, set_op)
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) not in _CMPOP:
                    continue
                new_cmp = _CMPOP[type(op)]()
                mutated_cmp = copy.copy(node)
                mutated_cmp.ops = [*node.ops[:i], new_cmp, *node.ops[i + 1 :]]

                def set_cmp(n: ast.Compare = node, i: int = i, op: ast.cmpop = new_cmp) -> None:
                    n.ops[i] = op

                self._add(node, "compare", mutated_cmp, set_cmp)
        elif isinstance(node, ast.BoolOp):
            new_bool: ast.boolop = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            mutated_bool = copy.copy(node)
            mutated_bool.op = new_bool

            def set_bool(n: ast.BoolOp = node, op: ast.boolop = new_bool) -> None:
                n.op = op

            self._add(node, "boolean", mutated_bool, set_bool)
        elif isinstance(node, ast.UnaryOp) and (
            isinstance(node.op, ast.Not)
            or (isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant))
        ):
            operand = node.operand

            def drop(p: ast.AST = parent, f: str = name, i: int | None = index) -> None:
                self._replace(p, f, i, operand)

            self._add(node, "unary", operand, drop)
        elif isinstance(node, ast.Constant) and not isinstance(node.value, str | bytes):
            value = node.value
            new_value: bool | int | float
            if isinstance(value, bool):
                new_value = not value
            elif isinstance(value, int):
                new_value = value + 1
            elif isinstance(value, float):
                new_value = value + 1.0
            else:
                return
            mutated_const = ast.Constant(new_value)

            def set_value(n: ast.Constant = node, v: bool | int | float = new_value) -> None:
                n.value = v

            self._add(node, "constant", mutated_const, set_value)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in _SWAP_CALLS:
                swapped = _SWAP_CALLS[func.id]

                def set_name(f: ast.Name = func, s: str = swapped) -> None:
                    f.id = s

                self._add(func, "call", ast.Name(swapped), set_name)
            elif isinstance(func, ast.Attribute) and func.attr in _SWAP_CALLS:
                swapped_attr = _SWAP_CALLS[func.attr]
                mutated_attr = copy.copy(func)
                mutated_attr.attr = swapped_attr

                def set_attr(f: ast.Attribute = func, s: str = swapped_attr) -> None:
                    f.attr = s

                self._add(func, "call", mutated_attr, set_attr)

    def _augassign(self, stmt: ast.AugAssign) -> None:
        if type(stmt.op) not in _BINOP:
            return
        new_op = _BINOP[type(stmt.op)]()
        mutated = copy.copy(stmt)
        mutated.op = new_op

        def set_op(n: ast.AugAssign = stmt, op: ast.operator = new_op) -> None:
            n.op = op

        self._add(stmt, "arith", mutated, set_op)

    def _jump(self, stmt: ast.Break | ast.Continue) -> None:
        # a break/continue is replaced inside its statement list, found by identity
        new: ast.stmt = ast.Continue() if isinstance(stmt, ast.Break) else ast.Break()
        ast.copy_location(new, stmt)
        holder = self._holder_of(stmt)
        if holder is None:
            return
        parent, name = holder

        def swap(
            p: ast.AST = parent, f: str = name, old: ast.stmt = stmt, s: ast.stmt = new
        ) -> None:
            body: list[ast.stmt] = getattr(p, f)
            body[body.index(old)] = s

        self._add(stmt, "jump", new, swap)

    def _holder_of(self, stmt: ast.stmt) -> tuple[ast.AST, str] | None:
        for node in ast.walk(self.tree):
            for name, value in ast.iter_fields(node):
                if isinstance(value, list) and any(v is stmt for v in value):
                    return node, name
        return None


def enumerate_sites(path: str) -> tuple[ast.Module, list[Site]]:
    """The parsed tree of ``path`` (relative to the repository) and its mutation sites."""
    source = (TREE / path).read_text(encoding="utf-8")
    enumerator = _Enumerator(path, source)
    return enumerator.tree, enumerator.run()


# --------------------------------------------------------------------------------------------
# configuration


@dataclass
class Module:
    """A unit of ``modules.toml``: source files and the test selection that checks them."""

    name: str
    sources: list[str]
    tests: list[str]
    deselect: list[str]
    timeout_factor: float
    timeout_min_s: float
    note: str


def load_modules() -> dict[str, Module]:
    data = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    defaults: dict[str, Any] = data.get("defaults", {})
    modules: dict[str, Module] = {}
    for name, entry in data["module"].items():
        sources: list[str] = []
        for pattern in entry["sources"]:
            matches = sorted(
                str(p.relative_to(TREE)) for p in TREE.glob(pattern) if p.name != "__init__.py"
            )
            sources.extend(m for m in matches if m not in sources)
        for pattern in entry.get("exclude", []):
            sources = [s for s in sources if not fnmatch.fnmatch(s, pattern)]
        modules[name] = Module(
            name=name,
            sources=sources,
            tests=list(entry["tests"]),
            deselect=list(entry.get("deselect", [])),
            timeout_factor=float(entry.get("timeout_factor", defaults.get("timeout_factor", 3.0))),
            timeout_min_s=float(entry.get("timeout_min_s", defaults.get("timeout_min_s", 20.0))),
            note=str(entry.get("note", "")),
        )
    return modules


@dataclass
class Equivalent:
    mid: str
    mutation: str
    reason: str
    kind: str = "equivalent"  # or "neutral": changes only cost, or rounding below the accuracy


def load_equivalents() -> dict[str, Equivalent]:
    if not EQUIVALENT.exists():
        return {}
    data = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))
    return {
        e["id"]: Equivalent(
            e["id"], e.get("mutation", ""), e["reason"], str(e.get("kind", "equivalent"))
        )
        for e in data.get("equivalent", [])
    }


def _hash_files(paths: Sequence[Path]) -> str:
    digest = hashlib.sha1(DRIVER_VERSION.encode())
    for p in sorted(paths):
        # the path relative to the tree: a verdict stays valid in another checkout
        digest.update((p.relative_to(TREE) if p.is_relative_to(TREE) else p).as_posix().encode())
        digest.update(p.read_bytes() if p.is_file() else b"")
    return digest.hexdigest()[:16]


def tests_fingerprint(module: Module) -> str:
    files: list[Path] = [TREE / "tests" / "conftest.py"]
    for t in module.tests:
        base = TREE / t.split("::")[0]
        files.extend(sorted(base.rglob("*.py")) if base.is_dir() else [base])
    # this module's entry of modules.toml, not the whole file: editing another module's
    # selection leaves this one's verdicts valid
    entry = repr((module.tests, module.deselect, module.timeout_factor, module.timeout_min_s))
    return hashlib.sha1((_hash_files(files) + entry).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# running pytest in a forked child


class _MutantLoader(importlib.abc.Loader):
    def __init__(self, code: types.CodeType) -> None:
        self.code = code

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        exec(self.code, module.__dict__)


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Serves the mutated code for one module name; every other import is left alone."""

    def __init__(self, name: str, path: Path, code: types.CodeType) -> None:
        self.name, self.path, self.code = name, path, code

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(
            fullname, self.path, loader=_MutantLoader(self.code)
        )


def module_name(path: str) -> str:
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _pytest_args(module: Module, nodeids: Sequence[str], *, stop_first: bool = True) -> list[str]:
    args = ["-q", "--no-header", "--tb=short", "-p", "no:cacheprovider"]
    # a selection names its tests explicitly: the integration tier's among them run too (the
    # project's default marker expression would deselect them); the slow tier stays out
    args += ["-m", "not slow"]
    args += ["-o", "console_output_style=classic"] + (["-x"] if stop_first else [])
    for d in module.deselect:
        args += ["--deselect", d]
    return [*args, *nodeids]


def _fork(
    work: Callable[[], int], timeout: float, log: Path | None, *, quiet: bool = True
) -> tuple[str, float, int | None]:
    """Runs ``work`` in a forked child (own process group); returns (how, seconds, exit code)."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child
        rc = 3
        try:
            os.setpgid(0, 0)
            if quiet:
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                out = os.open(str(log) if log else os.devnull, flags)
                os.dup2(out, 1)
                os.dup2(out, 2)
            rc = work()
        except BaseException:  # anything escaping is a verdict, not a crash of the driver
            import traceback

            traceback.print_exc()
            rc = 3
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
    deadline = start + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            elapsed = time.monotonic() - start
            if os.WIFEXITED(status):
                return "exit", elapsed, os.WEXITSTATUS(status)
            return "signal", elapsed, -os.WTERMSIG(status)
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.monotonic() - start, None
        time.sleep(0.02)


class _Recorder:
    """The baseline's pytest plugin: per test, the functions of the sources it calls."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources  # absolute file name -> repository-relative path
        self.current = "<collect>"
        self.hits: dict[str, set[str]] = {"<collect>": set()}
        self.durations: dict[str, float] = {}
        self.failed: set[str] = set()
        self.order: list[str] = []

    def trace(self, frame: types.FrameType, event: str, arg: object) -> None:
        if event == "call":
            rel = self.sources.get(frame.f_code.co_filename)
            if rel is not None:
                self.hits[self.current].add(f"{rel}::{_enclosing(frame.f_code.co_qualname)}")

    def pytest_collection_finish(self, session: Any) -> None:
        self.order = [item.nodeid for item in session.items]

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        self.current = nodeid
        self.hits.setdefault(nodeid, set())
        _clear_symsched_caches()

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.failed:
            self.failed.add(report.nodeid)


def _clear_symsched_caches() -> None:
    """Empties every functools cache of the loaded symsched modules, so that the baseline records
    each test that calls a cached function (a derivation, a compiled function), not only the
    first: a cache hit does not run the function's code, and the tests it would miss are exactly
    those left out of its mutants' runs."""
    for name, mod in list(sys.modules.items()):
        if not name.startswith("symsched") or mod is None:
            continue
        for value in list(vars(mod).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and hasattr(value, "cache_info"):
                clear()


def _enclosing(qualname: str) -> str:
    parts = qualname.split(".")
    while parts and parts[-1] in _COMPREHENSION_PARTS:
        parts.pop()
        if parts and parts[-1] == "<locals>":
            parts.pop()
    return ".".join(parts)


def run_baseline(module: Module, out: Path, log: Path) -> dict[str, Any]:
    """Runs the selection unmutated, tracing calls into the sources; returns its record."""

    def work() -> int:
        import threading

        import pytest

        recorder = _Recorder({str(TREE / s): s for s in module.sources})
        sys.settrace(recorder.trace)
        threading.settrace(recorder.trace)
        args = _pytest_args(module, module.tests, stop_first=False)
        rc = int(pytest.main(args, plugins=[recorder]))
        sys.settrace(None)
        third_party = [
            name
            for name, mod in list(sys.modules.items())
            if not name.startswith(("symsched", "__main__", "conftest", "_pytest.", "test"))
            and not str(getattr(mod, "__file__", "") or "").startswith((str(ROOT), str(TREE)))
        ]
        record = {
            "rc": rc,
            "order": recorder.order,
            "durations": recorder.durations,
            "failed": sorted(recorder.failed),
            "hits": {k: sorted(v) for k, v in recorder.hits.items()},
            "preload": third_party,
        }
        out.write_text(json.dumps(record), encoding="utf-8")
        return 0

    how, seconds, _ = _fork(work, 3600.0, log)
    if how != "exit" or not out.exists():
        raise SystemExit(f"baseline of {module.name} did not finish ({how}); see {log}")
    record: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    record["seconds"] = seconds
    return record


def preload(names: Sequence[str]) -> int:
    """Imports the third-party modules the tests use, in the order they were first imported."""
    loaded = 0
    for name in names:
        if name in sys.modules:
            continue
        try:
            with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
                importlib.import_module(name)
            loaded += 1
        except BaseException:  # a private or platform module that does not import on its own
            continue
    return loaded


def _verdict(how: str, rc: int | None, timeout: float) -> tuple[str, str]:
    if how == "timeout":
        return TIMEOUT, f"over {timeout:.0f} s"
    if how == "signal":
        return KILLED, f"crashed (signal {-(rc or 0)})"
    if rc == 0:
        return SURVIVED, ""
    if rc in (1, 2, 3, 4):  # failed, collection error, error, conftest import error
        return KILLED, {1: "test failed", 2: "collection error", 3: "error", 4: "import error"}[rc]
    return ERROR, f"exit code {rc}"


def _mutated_code(site_path: str, index: int, mid: str) -> types.CodeType | None:
    tree, sites = enumerate_sites(site_path)
    if sites[index].mid != mid:
        return None
    sites[index].apply()
    ast.fix_missing_locations(tree)
    return compile(tree, str(TREE / site_path), "exec", dont_inherit=True)


def run_reimported(module: Module, job: Job, log: Path | None) -> tuple[str, float, str]:
    """A mutant of a function that runs at import: a fresh import serves the mutated module."""

    def work() -> int:
        import pytest

        code = _mutated_code(job.site.path, job.index, job.site.mid)
        if code is None:
            return _STALE
        sys.meta_path.insert(
            0, _MutantFinder(module_name(job.site.path), TREE / job.site.path, code)
        )
        return int(pytest.main(_pytest_args(module, job.tests)))

    how, seconds, rc = _fork(work, job.timeout, log)
    status, detail = _verdict(how, rc, job.timeout)
    return status, seconds, detail


def _find_code(code: types.CodeType, qualname: str) -> types.CodeType | None:
    if code.co_qualname == qualname:
        return code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found = _find_code(const, qualname)
            if found is not None:
                return found
    return None


def _outermost(qualname: str) -> str:
    """The module- or class-level function whose code holds ``qualname``'s code."""
    return qualname.split(".<locals>.")[0]


@dataclass
class Job:
    index: int
    site: Site
    tests: list[str]
    timeout: float
    swap: bool


class _SwapRunner:
    """pytest plugin of the module runner: collects once, then forks one child per mutant that
    swaps the mutated function's code into the live function objects and runs its tests."""

    def __init__(
        self,
        module: Module,
        jobs: list[Job],
        record: Callable[[Job, str, float, str], None],
        logs: Path | None,
        deadline: float | None,
    ) -> None:
        self.module, self.jobs, self.record, self.logs = module, jobs, record, logs
        self.deadline = deadline

    def pytest_runtestloop(self, session: Any) -> bool:
        import gc

        from _pytest.runner import runtestprotocol

        items = {item.nodeid: item for item in session.items}
        paths = {str(TREE / s): s for s in self.module.sources}
        live: dict[tuple[str, str], list[types.FunctionType]] = {}
        with warnings.catch_warnings():  # lazy modules warn when looked at
            warnings.simplefilter("ignore")
            for obj in gc.get_objects():
                if isinstance(obj, types.FunctionType) and obj.__code__.co_filename in paths:
                    key = (paths[obj.__code__.co_filename], obj.__code__.co_qualname)
                    live.setdefault(key, []).append(obj)
        for job in self.jobs:
            if self.deadline is not None and time.monotonic() > self.deadline:
                break
            target = _outermost(job.site.qualname)
            functions = live.get((job.site.path, target), [])
            chosen = [items[t] for t in job.tests if t in items]

            def work(
                job: Job = job,
                target: str = target,
                functions: list[types.FunctionType] = functions,
                chosen: list[Any] = chosen,
            ) -> int:
                code = _mutated_code(job.site.path, job.index, job.site.mid)
                new = None if code is None else _find_code(code, target)
                if new is None or not functions or not chosen:
                    return _STALE
                for fn in functions:
                    fn.__code__ = new
                _clear_symsched_caches()  # values cached by the parent came from the original
                for i, item in enumerate(chosen):
                    nextitem = chosen[i + 1] if i + 1 < len(chosen) else None
                    reports = runtestprotocol(item, nextitem=nextitem, log=False)
                    if any(r.failed for r in reports):
                        return 1
                return 0

            log = self.logs / f"{job.site.mid.rsplit('::', 1)[1]}.log" if self.logs else None
            how, seconds, rc = _fork(work, job.timeout, log)
            status, detail = _verdict(how, rc, job.timeout)
            self.record(job, status, seconds, detail)
        return True


# --------------------------------------------------------------------------------------------
# one module


def _load_json(path: Path) -> dict[str, Any]:
    if path.exists():
        with contextlib.suppress(json.JSONDecodeError):
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    return {}


def _save_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def collect_sites(module: Module) -> list[tuple[int, Site]]:
    found: list[tuple[int, Site]] = []
    for path in module.sources:
        _, sites = enumerate_sites(path)
        found.extend(enumerate(sites))
    return found


def _valid(entry: dict[str, Any], site: Site, tests_hash: str) -> bool:
    if entry.get("fn_hash") != site.fn_hash or entry.get("driver") != DRIVER_VERSION:
        return False
    if entry.get("status") == KILLED:
        return True
    if entry.get("status") == ERROR:
        return False
    return bool(entry.get("tests_hash") == tests_hash)


def run_module(
    module: Module, *, rerun: bool, budget_s: float | None, match: str | None, verbose: bool
) -> None:
    """Runs one module in a process of its own (it imports the module's tests)."""

    def work() -> int:
        _run_module(module, rerun=rerun, budget_s=budget_s, match=match, verbose=verbose)
        return 0

    how, _, rc = _fork(work, 24 * 3600.0, None, quiet=False)
    if how != "exit" or rc != 0:
        print(f"[{module.name}] the module runner ended with {how} {rc}", flush=True)


def _run_module(
    module: Module, *, rerun: bool, budget_s: float | None, match: str | None, verbose: bool
) -> None:
    cache_path = VERDICTS / f"{module.name}.json"
    cache = _load_json(cache_path)
    baseline_path = CACHE / f"{module.name}.baseline.json"
    results: dict[str, dict[str, Any]] = {} if rerun else cache.get("mutants", {})
    tests_hash = tests_fingerprint(module)
    sites = collect_sites(module)
    pending = [
        (i, s)
        for i, s in sites
        if (match is None or match in s.mid or match in s.description)
        and not (s.mid in results and _valid(results[s.mid], s, tests_hash))
    ]
    cache["mutants"] = results
    cache["wall_s"] = 0.0 if rerun else float(cache.get("wall_s", 0.0))
    print(
        f"[{module.name}] {len(sites)} mutants in {len(module.sources)} files, "
        f"{len(pending)} to run",
        flush=True,
    )
    if not pending:
        _save_json(cache_path, cache)
        return
    started = time.monotonic()
    logs = CACHE / "logs" / module.name
    logs.mkdir(parents=True, exist_ok=True)
    sources_hash = _hash_files([TREE / s for s in module.sources])
    baseline: dict[str, Any] = _load_json(baseline_path)
    if baseline.get("key") != f"{tests_hash}:{sources_hash}":
        print(f"[{module.name}] baseline run of the selection (traced) ...", flush=True)
        baseline = run_baseline(module, logs / "baseline.json", logs / "baseline.log")
        baseline["key"] = f"{tests_hash}:{sources_hash}" if baseline["rc"] in (0, 1) else ""
        _save_json(baseline_path, baseline)
        cache["wall_s"] = float(cache["wall_s"]) + float(baseline["seconds"])
        _save_json(cache_path, cache)
        print(
            f"[{module.name}] baseline: {len(baseline['order'])} tests, "
            f"{len(baseline['failed'])} failing (left out), {baseline['seconds']:.1f} s",
            flush=True,
        )
    if baseline["rc"] not in (0, 1):
        raise SystemExit(
            f"baseline of {module.name} ended with pytest code {baseline['rc']}; "
            f"see {logs / 'baseline.log'}"
        )
    n = preload(baseline["preload"])
    if verbose:
        print(f"[{module.name}] preloaded {n} third-party modules", flush=True)
    failed = set(baseline["failed"])
    durations: dict[str, float] = baseline["durations"]
    order = [t for t in baseline["order"] if t not in failed]
    hits: dict[str, list[str]] = baseline["hits"]
    at_import = set(hits.get("<collect>", []))
    covering: dict[str, list[str]] = {}
    for test in order:
        for fn in hits.get(test, []):
            covering.setdefault(fn, []).append(test)
    jobs: list[Job] = []
    for index, site in pending:
        key = f"{site.path}::{site.qualname}"
        chain = site.qualname.split(".<locals>.")
        prefixes = {f"{site.path}::{'.<locals>.'.join(chain[: k + 1])}" for k in range(len(chain))}
        imported = bool(prefixes & at_import)
        selected = order if imported else covering.get(key, [])
        selected = sorted(selected, key=lambda t: durations.get(t, 0.0))
        expected = sum(durations.get(t, 0.0) for t in selected)
        timeout = max(module.timeout_min_s, module.timeout_factor * expected + 10.0)
        jobs.append(Job(index, site, selected, timeout, swap=not imported))
    counts: dict[str, int] = {}
    done = [0]

    def record(job: Job, status: str, seconds: float, detail: str) -> None:
        site = job.site
        results[site.mid] = {
            "path": site.path,
            "qualname": site.qualname,
            "line": site.line,
            "description": site.description,
            "fn_hash": site.fn_hash,
            "tests_hash": tests_hash,
            "driver": DRIVER_VERSION,
            "status": status,
            "seconds": round(seconds, 2),
            "detail": detail,
            "tests": len(job.tests),
            "mode": "swap" if job.swap else "reimport",
        }
        cache["wall_s"] = float(cache["wall_s"]) + seconds
        _save_json(cache_path, cache)
        counts[status] = counts.get(status, 0) + 1
        done[0] += 1
        if status != KILLED or verbose:
            print(
                f"  {status:9s} {site.path}:{site.line} {site.qualname} {site.description} "
                f"[{site.mid.rsplit('::', 1)[1]}] {seconds:.1f}s",
                flush=True,
            )
        if done[0] % 25 == 0:
            print(f"[{module.name}] {done[0]}/{len(jobs)} {counts}", flush=True)

    def over_budget() -> bool:
        return budget_s is not None and time.monotonic() - started > budget_s

    for job in [j for j in jobs if not j.tests]:
        record(job, NO_COVER, 0.0, "no test of the selection calls it")
    # mutants of functions that run at import first, while nothing of symsched is imported here
    for job in [j for j in jobs if j.tests and not j.swap]:
        if over_budget():
            break
        log = logs / "last.log" if verbose else None
        status, seconds, detail = run_reimported(module, job, log)
        record(job, status, seconds, detail)
    swap_jobs = [j for j in jobs if j.tests and j.swap]
    if swap_jobs and not over_budget():
        import pytest

        deadline = None if budget_s is None else started + budget_s
        runner = _SwapRunner(module, swap_jobs, record, logs if verbose else None, deadline)
        wanted = sorted({t for j in swap_jobs for t in j.tests})
        pytest.main([*_pytest_args(module, wanted, stop_first=False), "-s"], plugins=[runner])
    left = len(jobs) - done[0]
    if left:
        print(
            f"[{module.name}] time budget spent: {left} mutants left (run again to resume)",
            flush=True,
        )
    _save_json(cache_path, cache)


# --------------------------------------------------------------------------------------------
# the summary


@dataclass
class Row:
    name: str
    total: int = 0
    run: int = 0
    killed: int = 0
    timeout: int = 0
    survived: int = 0
    no_cover: int = 0
    equivalent: int = 0
    neutral: int = 0  # the equivalent entries of kind "neutral"
    error: int = 0
    wall_s: float = 0.0
    survivors: list[dict[str, Any]] = field(default_factory=list)
    # killed (or timed out) although mutation/equivalent.toml calls them equivalent: either the
    # entry's reason is wrong or the kill was not the mutant's doing; listed to be re-examined
    contradicted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        denominator = self.total - self.equivalent
        if self.run < self.total or denominator <= 0:
            return None
        return (self.killed + self.timeout) / denominator

    @property
    def strict_score(self) -> float | None:
        """The score with the neutral mutants counted as survivors."""
        if self.score is None:
            return None
        return (self.killed + self.timeout) / (self.total - self.equivalent + self.neutral)


def summarise(modules: dict[str, Module]) -> list[Row]:
    equivalents = load_equivalents()
    rows: list[Row] = []
    for module in modules.values():
        row = Row(module.name)
        cache = _load_json(VERDICTS / f"{module.name}.json")
        results: dict[str, dict[str, Any]] = cache.get("mutants", {})
        tests_hash = tests_fingerprint(module)
        for _, site in collect_sites(module):
            row.total += 1
            entry = results.get(site.mid)
            if entry is None or not _valid(entry, site, tests_hash):
                if site.mid in equivalents:
                    row.equivalent += 1
                    row.neutral += equivalents[site.mid].kind == "neutral"
                    row.run += 1
                continue
            row.run += 1
            status = entry["status"]
            if status in (KILLED, TIMEOUT) and site.mid in equivalents:
                row.contradicted.append({"id": site.mid, **entry})
            if status == KILLED:
                row.killed += 1
            elif status == TIMEOUT:
                row.timeout += 1
            elif site.mid in equivalents:
                row.equivalent += 1
                row.neutral += equivalents[site.mid].kind == "neutral"
            elif status == ERROR:
                row.error += 1
                row.survivors.append({"id": site.mid, **entry})
            else:
                if status == NO_COVER:
                    row.no_cover += 1
                row.survived += 1
                row.survivors.append({"id": site.mid, **entry})
        row.wall_s = float(cache.get("wall_s", 0.0))
        rows.append(row)
    return rows


def write_results(modules: dict[str, Module], rows: list[Row]) -> str:
    lines = [
        "# Mutation testing results",
        "",
        "Written by `mutation/run.py` (`make mutation`); see docs/mutation.md. Score = "
        "(killed + timeout) / (mutants - equivalent); *survived* includes *no cover* (no test "
        "of the selection calls the function). *Equivalent (neutral)*: the entries of "
        "mutation/equivalent.toml, and of those the *neutral* ones, whose edit changes only the "
        "cost or the rounding below the method's stated accuracy; *strict* counts the neutral ones "
        "as survivors. Wall time: seconds spent running mutants and the baseline, summed over "
        "resumed runs.",
        "",
        "| module | mutants | run | killed | timeout | survived (no cover) | equivalent (neutral) "
        "| score | strict | wall s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.run == 0:
            lines.append(f"| {row.name} | {row.total} | not yet run | | | | | | | |")
            continue
        if row.score is None:
            score = strict = f"partial ({row.run}/{row.total})"
        else:
            score = f"{100 * row.score:.1f} %"
            strict = f"{100 * (row.strict_score or 0.0):.1f} %"
        lines.append(
            f"| {row.name} | {row.total} | {row.run} | {row.killed} | {row.timeout} | "
            f"{row.survived} ({row.no_cover}) | {row.equivalent} ({row.neutral}) | {score} | "
            f"{strict} | {row.wall_s:.0f} |"
        )
    for row in rows:
        if not row.survivors:
            continue
        lines += ["", f"## Surviving mutants: {row.name}", ""]
        for s in sorted(row.survivors, key=lambda e: (e["path"], e["line"])):
            note = f" ({s['status']}: {s.get('detail', '')})" if s["status"] != SURVIVED else ""
            lines.append(f"- `{s['id']}` {s['path']}:{s['line']} {s['description']}{note}")
    for row in rows:
        if not row.contradicted:
            continue
        lines += ["", f"## Killed although listed as equivalent (re-examine): {row.name}", ""]
        for s in sorted(row.contradicted, key=lambda e: (e["path"], e["line"])):
            lines.append(
                f"- `{s['id']}` {s['path']}:{s['line']} {s['description']} ({s['status']}: "
                f"{s.get('detail', '')})"
            )
    text = "\n".join(lines) + "\n"
    RESULTS.write_text(text, encoding="utf-8")
    return text


def snapshot(ref: str, overlay: Sequence[str]) -> Path:
    """The committed tree ``ref`` extracted under .cache/mutation/, plus ``overlay`` files
    (globs) copied from the working tree: a run that others' uncommitted edits do not move."""
    import shutil
    import subprocess
    import tempfile

    sha = subprocess.run(
        ["git", "rev-parse", ref], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    tree = CACHE / f"tree-{sha[:12]}"
    if not tree.exists():
        # each run extracts into its own directory and renames it into place: two runs started
        # together (one module per core) must not share a half-built tree
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f"tree-{sha[:12]}.", suffix=".partial", dir=CACHE))
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive.stdout, check=True)
        (partial / ".mutation-paths").mkdir()
        (partial / ".mutation-paths" / "symsched_verify").symlink_to("../verify")
        try:
            partial.rename(tree)
        except OSError:  # another run put the same tree in place first
            shutil.rmtree(partial, ignore_errors=True)
            if not tree.is_dir():
                raise
    for pattern in overlay:
        for path in ROOT.glob(pattern):
            if path.is_file():
                target = tree / path.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists() or target.read_bytes() != path.read_bytes():
                    shutil.copyfile(path, target)
    return tree


def _iter_selected(modules: dict[str, Module], names: Sequence[str]) -> Iterator[Module]:
    for name in names:
        if name not in modules:
            raise SystemExit(f"unknown module {name!r}; known: {', '.join(modules)}")
        yield modules[name]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", default=[], help="module(s) to run")
    parser.add_argument("--all", action="store_true", help="run every module of modules.toml")
    parser.add_argument("--list", action="store_true", help="list the modules and mutant counts")
    parser.add_argument("--summary", action="store_true", help="only rewrite results.md")
    parser.add_argument("--rerun", action="store_true", help="forget the cached verdicts")
    parser.add_argument("--match", help="run only mutants whose id or description contains this")
    parser.add_argument("--budget", type=float, help="stop a module after this many seconds")
    parser.add_argument("--show", help="print the mutated code of one mutant id")
    parser.add_argument(
        "--snapshot",
        metavar="REF",
        help="test the committed tree REF (e.g. HEAD), not the work tree",
    )
    parser.add_argument(
        "--overlay",
        action="append",
        default=[],
        metavar="GLOB",
        help="with --snapshot: working-tree files copied over the snapshot (e.g. new tests)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every mutant's output")
    args = parser.parse_args(argv)
    global TREE
    if args.snapshot:
        TREE = snapshot(args.snapshot, args.overlay)
    os.chdir(TREE)
    # as under `python -m pytest` from the root: the tree first on the path (tests/ holds a
    # folder named symsched, which must not shadow the package); a snapshot's verify/ is its
    # symsched_verify
    here = Path(__file__).resolve().parent
    rest = [p for p in sys.path if Path(p or ".").resolve() != here]
    extra = [str(TREE / ".mutation-paths")] if TREE != ROOT else []
    sys.path[:] = [str(TREE), *extra, *rest]
    modules = load_modules()
    if args.show:
        path = args.show.split("::")[0]
        tree, sites = enumerate_sites(path)
        del tree
        original = (TREE / path).read_text(encoding="utf-8").splitlines()
        for site in sites:
            if site.mid == args.show:
                print(f"{path}:{site.line} in {site.qualname}: {site.description}")
                print(f"    {original[site.line - 1].strip()}")
                return 0
        print(f"no mutant {args.show}", file=sys.stderr)
        return 2
    if args.list:
        for module in modules.values():
            print(
                f"{module.name:24s} {len(collect_sites(module)):5d} mutants  "
                f"{len(module.sources)} files  tests: {' '.join(module.tests)}"
            )
        return 0
    names = list(modules) if args.all else args.module
    if not args.summary:
        for module in _iter_selected(modules, names):
            run_module(
                module,
                rerun=args.rerun,
                budget_s=args.budget,
                match=args.match,
                verbose=args.verbose,
            )
    text = write_results(modules, summarise(modules))
    print(text.split("\n## ")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
