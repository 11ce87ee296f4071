r"""``symsched sweep``: exact KL over spectra x steps N x methods x samplers.

Every combination of ``--spectra``, ``--steps``, ``--methods`` and ``--sampler`` is one task
(:class:`SweepPoint`): build the method's N-step grid on ``[--sigma-min, --sigma-max]`` with
:func:`symsched.build` (spectrum-aware methods get the spectrum: ``tangent`` takes
:math:`c=\gamma^\star`, ``variational`` and ``kl-optimal`` optimise for it) and evaluate both
directions of the exact KL of the sampler on the Gaussian source with :func:`symsched.kl`
(docs/conventions.md#gaussian-source-and-exact-sampler). ``kl-optimal`` minimises the DDIM KL
from the sweep's ``--start``.

Tasks run through the executor (:mod:`symsched.parallel`): in-process by default, on a local Dask
cluster with ``--workers K``, on a running scheduler with ``--scheduler ADDRESS``. A task is a pure
function of its point (:func:`evaluate`), results come back in input order and the JSON carries no
executor information, so the output is byte-identical whichever executor ran it.

Methods that need a trained model (``stein``, ``ays``) are not swept. Every method is built once on
the requested noise range before any task is sent out, so a range a method refuses is a one-line
error (exit 2) up front.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import math
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from symsched._budget import check_memory
from symsched._json import json_safe
from symsched._options import flag_of, option_fields
from symsched._typing import FloatArray, Start
from symsched._version import __version__
from symsched.cli._common import (
    CliError,
    check_output,
    dumps_json,
    load_spectrum_file,
    parse_steps_list,
    write_output,
)
from symsched.cli._executor import add_executor_options, executor_from_args
from symsched.cli._highdim_options import map_with_progress
from symsched.cli._registry_args import add_sampler_options, sampler_knobs
from symsched.samplers import SAMPLERS, sampler_names
from symsched.schedules import METHODS, method_names

__all__ = ["DEFAULT_METHODS", "SweepPoint", "evaluate", "register", "sweep_methods"]

DEFAULT_METHODS = ("tangent", "karras", "loglinear", "variational", "kl-optimal")
CSV_COLUMNS = (
    "spectrum",
    "dimension",
    "steps",
    "method",
    "sampler",
    "start",
    "knobs",
    "kl_source_output",
    "kl_output_source",
    "coupling",
    "sigmas",
)
CRITERIA = ("kl_source_output", "kl_output_source", "coupling")
"""What a sweep ranks by (``--criterion``): a KL direction or the coupling error
(docs/theory/coupling.md)."""


@dataclass(frozen=True)
class SweepPoint:
    """One task: the grid of ``method`` with ``steps`` steps and its exact KL under ``sampler``.

    ``eigenvalues`` is a tuple of floats, so the point pickles and hashes cheaply; ``knobs`` are
    the sampler's knobs as sorted ``(name, value)`` pairs (e.g. the ancestral ``eta``).
    """

    spectrum: str
    eigenvalues: tuple[float, ...]
    steps: int
    method: str
    sampler: str
    start: str
    knobs: tuple[tuple[str, float], ...]
    sigma_min: float
    sigma_max: float
    criterion: str = "kl_source_output"
    exact_spectrum: bool = False

    @property
    def id(self) -> str:
        """A readable label (the Dask task key uses it)."""
        return f"{Path(self.spectrum).name}-N{self.steps}-{self.method}-{self.sampler}"


def sweep_methods() -> tuple[str, ...]:
    """Registered methods that need no model (``stein`` and ``ays`` take ``--model``)."""
    return method_names(model=False)


def _method_options(
    method: str,
    lam: FloatArray,
    start: str,
    sampler: str = "ddim",
    criterion: str = "kl_source_output",
    knobs: dict[str, float] | None = None,
    exact_spectrum: bool = False,
) -> dict[str, Any]:
    """The spectrum when ``method`` takes one; for kl-optimal also the start, the sampler and the
    criterion it optimises for (the swept sampler's optimum of the swept criterion; a stochastic
    sampler's coupling error is not an objective, so it gets its KL optimum); ``exact_spectrum``
    for the methods that search on a compressed spectrum."""
    dests = {o.name for o in option_fields(METHODS[method].options)}
    out: dict[str, Any] = {}
    if "eigenvalues" in dests:
        out["eigenvalues"] = lam
    if exact_spectrum and "exact_spectrum" in dests:
        out["exact_spectrum"] = True
    if "kl_start" in dests:
        out["kl_start"] = start
    if "sampler" in dests and "objective" in dests:
        out["sampler"] = sampler
        if criterion == "coupling":
            from symsched.samplers import get_sampler

            out["objective"] = "kl" if get_sampler(sampler).stochastic else "coupling"
        else:
            out["objective"], out["kl_objective"] = "kl", criterion
        if knobs and "eta" in dests and "eta" in knobs:
            out["eta"] = knobs["eta"]
    return out


def _build(
    method: str,
    steps: int,
    lam: FloatArray,
    start: str,
    sigma_min: float,
    sigma_max: float,
    sampler: str = "ddim",
    criterion: str = "kl_source_output",
    knobs: dict[str, float] | None = None,
    exact_spectrum: bool = False,
) -> Any:
    import symsched

    return symsched.build(
        method,
        steps,
        sigma_min=sigma_min,
        sigma_max=sigma_max,
        **_method_options(method, lam, start, sampler, criterion, knobs, exact_spectrum),
    )


def _start(name: str) -> Start:
    if name not in ("exact", "prior"):
        raise ValueError(f"start must be exact or prior, got {name!r}")
    return "exact" if name == "exact" else "prior"


def evaluate(point: SweepPoint) -> dict[str, Any]:
    """The record of one sweep point: the grid, both KL directions and the coupling error (pure;
    runs on any worker)."""
    from symsched.gaussian.coupling import criteria

    lam = np.asarray(point.eigenvalues, dtype=np.float64)
    try:
        knobs: dict[str, Any] = dict(point.knobs)  # the sampler's knobs, checked by kl
        sched = _build(
            point.method,
            point.steps,
            lam,
            point.start,
            point.sigma_min,
            point.sigma_max,
            point.sampler,
            point.criterion,
            knobs,
            point.exact_spectrum,
        )
        res = criteria(lam, sched.sigmas, sampler=point.sampler, start=_start(point.start), **knobs)
    except ValueError as exc:
        raise ValueError(
            f"{point.spectrum}, N = {point.steps}, {point.method}, {point.sampler}: {exc}"
        ) from None
    return {
        "spectrum": point.spectrum,
        "dimension": int(lam.size),
        "steps": point.steps,
        "method": point.method,
        "sampler": point.sampler,
        "start": point.start,
        "knobs": dict(point.knobs),
        "kl_source_output": float(res.kl_source_output),
        "kl_output_source": float(res.kl_output_source),
        "coupling": float(res.coupling),
        "sigmas": [float(v) for v in sched.sigmas],
        "params": json_safe(dict(sched.params)),
    }


# --- command line ------------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sweep",
        help="exact KL and coupling error over spectra x steps x methods x samplers",
        description="Build every method's N-step grid for every spectrum and evaluate the exact KL "
        "(both directions) and coupling error of each sampler on the Gaussian source, ranking by "
        "--criterion (kl-optimal is built as the optimum of that criterion for each sampler). "
        "One task per "
        "(spectrum, N, method, sampler), run through the executor (in-process, "
        "--workers K or --scheduler ADDRESS); the output is identical whichever runs it.",
    )
    p.add_argument(
        "--spectra",
        required=True,
        metavar="S1,S2,...",
        help="spectra: digits, patches (shipped datasets) or paths to .npy / text files of "
        "eigenvalues",
    )
    p.add_argument(
        "--steps", required=True, metavar="N1,N2,...", help="numbers of steps, integers >= 1"
    )
    p.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        metavar="M1,M2,...",
        help="schedule methods (stein and ays need a model and are not swept)",
    )
    add_sampler_options(p, multiple=True)
    p.add_argument(
        "--criterion",
        default="kl_source_output",
        choices=CRITERIA,
        help="what the table shows and 'best' ranks by: a KL direction or the coupling error "
        "(docs/theory/coupling.md)",
    )
    p.add_argument(
        "--start",
        default="exact",
        choices=("exact", "prior"),
        help="exact: start from the true marginal; prior: from N(0, sigma_0^2)",
    )
    p.add_argument(
        "--sigma-min", type=float, default=0.002, metavar="A", help="smallest noise level sigma_N"
    )
    p.add_argument(
        "--sigma-max",
        type=float,
        default=80.0,
        metavar="B",
        help="largest noise level sigma_0 (inf allowed)",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object (records and best method)"
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="also write the results to FILE: CSV if it ends in .csv, else JSON",
    )
    p.add_argument(
        "--exact-spectrum",
        action="store_true",
        help="the methods that optimise for a spectrum (kl-optimal, variational, flow) search on "
        "the full spectrum, not the compressed one (docs/theory/gaussian.md#compressed-spectra)",
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_executor_options(p, "the sweep points")
    p.set_defaults(func=run)


def _names(text: str, flag: str, allowed: list[str] | tuple[str, ...] | None = None) -> list[str]:
    names = [t.strip() for t in str(text).split(",")]
    if not names or any(n == "" for n in names):
        raise CliError(f"{flag} must be a non-empty comma-separated list, got {text!r}")
    if allowed is not None:
        bad = [n for n in names if n not in allowed]
        if bad:
            raise CliError(f"{flag}: unknown {bad[0]!r}; choose from {', '.join(allowed)}")
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise CliError(f"{flag} lists {dup!r} twice")
    return names


def _parse_steps(text: str) -> list[int]:
    steps = parse_steps_list(text)
    _names(text, "--steps")  # no value twice
    return steps


def _load_spectrum(name: str) -> FloatArray:
    from symsched.datasets import DATASETS, dataset_spectrum

    if name in DATASETS:
        return dataset_spectrum(name)  # type: ignore[arg-type]
    if not Path(name).is_file():
        raise CliError(
            f"--spectra: {name!r} is neither a shipped dataset ({', '.join(DATASETS)}) "
            "nor an existing .npy / text file of eigenvalues"
        )
    return load_spectrum_file(name, "--spectra")


def _check_range(args: argparse.Namespace) -> tuple[float, float]:
    lo, hi = args.sigma_min, args.sigma_max
    if not (math.isfinite(lo) and lo >= 0):
        raise CliError(f"--sigma-min must be a finite number >= 0, got {lo}")
    if math.isnan(hi) or hi <= 0:
        raise CliError(f"--sigma-max must be a number > 0 (inf allowed), got {hi}")
    if not lo < hi:
        raise CliError(
            f"--sigma-min must be < --sigma-max, got --sigma-min {lo:g} --sigma-max {hi:g}"
        )
    return float(lo), float(hi)


def _probe(
    methods: list[str], spectra: dict[str, FloatArray], start: str, lo: float, hi: float
) -> None:
    """Build every method once (one step) on the range: a refused range fails before the sweep."""
    for method in methods:
        aware = "eigenvalues" in _method_options(method, np.ones(1), start)
        for name, lam in spectra.items() if aware else [("", np.ones(1))]:
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore", RuntimeWarning)
                    _build(method, 1, lam, start, lo, hi)
            except ValueError as exc:
                where = f" for spectrum {name}" if aware else ""
                raise CliError(
                    f"--methods {method} cannot be built on --sigma-min {lo:g} --sigma-max {hi:g}"
                    f"{where}: {exc}"
                ) from None


def _check_memory(
    methods: list[str],
    samplers: list[str],
    spectra: dict[str, FloatArray],
    steps: list[int],
    start: str,
    exact_spectrum: bool = False,
) -> None:
    """Refuse a sweep whose largest point, or whose records, exceed the memory budget."""
    n = max(steps)
    points = len(methods) * len(samplers) * len(spectra) * len(steps)
    records = 64.0 * points * (n + 1)  # each record holds its grid (JSON floats)
    worst: tuple[float, str] = (0.0, "--steps")
    for lam in spectra.values():
        for method in methods:
            m = METHODS[method]
            est, driver = m.memory_estimate(
                n,
                m.make_options(
                    **_method_options(method, lam, start, exact_spectrum=exact_spectrum)
                ),
            )
            worst = max(worst, (est, "--spectra" if driver == "eigenvalues" else "--steps"))
        for sampler in samplers:
            est, driver = SAMPLERS[sampler].memory_estimate(lam.size, n)
            worst = max(worst, (est, "--spectra" if driver == "eigenvalues" else "--steps"))
    check_memory(
        worst[0] + records, flag=worst[1], what=f"the sweep ({points} points, N up to {n})"
    )


def canonical_command(
    args: argparse.Namespace,
    spectra: list[str],
    steps: list[int],
    methods: list[str],
    samplers: list[str],
    knobs: dict[str, dict[str, object]],
) -> str:
    """The command that reproduces the results (executor, output and display options left out)."""
    parts = [
        "symsched",
        "sweep",
        "--spectra",
        ",".join(spectra),
        "--steps",
        ",".join(map(str, steps)),
        "--methods",
        ",".join(methods),
        "--sampler",
        ",".join(samplers),
    ]
    given: dict[str, object] = {}
    for s in samplers:
        for name, value in knobs[s].items():
            given[flag_of(SAMPLERS[s].knobs, name)] = value
    for flag, value in sorted(given.items()):
        parts += [flag, repr(value)]
    if args.criterion != "kl_source_output":
        parts += ["--criterion", args.criterion]
    if getattr(args, "exact_spectrum", False):
        parts += ["--exact-spectrum"]
    parts += [
        "--start",
        args.start,
        "--sigma-min",
        repr(float(args.sigma_min)),
        "--sigma-max",
        repr(float(args.sigma_max)),
    ]
    return shlex.join(parts)


def _best(
    records: list[dict[str, Any]], criterion: str = "kl_source_output"
) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """Per spectrum, steps and sampler: the method of least ``criterion`` (first on ties)."""
    best: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for r in records:
        slot = best.setdefault(r["spectrum"], {}).setdefault(str(r["steps"]), {})
        cur = slot.get(r["sampler"])
        if cur is None or r[criterion] < cur[criterion]:
            slot[r["sampler"]] = {
                "method": r["method"],
                "kl_source_output": r["kl_source_output"],
                "kl_output_source": r["kl_output_source"],
                "coupling": r["coupling"],
            }
    return best


def _cell(value: Any) -> str:
    """A CSV cell: floats as repr (round-trips exactly), infinity as ``inf``, None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list):
        return " ".join(_cell(v) for v in value)
    if isinstance(value, dict):  # sampler knobs: "eta=0.5"
        return " ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def _csv(records: list[dict[str, Any]]) -> str:
    """One row per record (``sigmas`` space-separated); the schedule params are in the JSON only."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in records:
        w.writerow([_cell(r[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


_TITLES = {
    "kl_source_output": "KL(source || output)",
    "kl_output_source": "KL(output || source)",
    "coupling": "coupling error",
}


def _table(doc: dict[str, Any], methods: list[str], criterion: str = "kl_source_output") -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    start = doc["records"][0]["start"] if doc["records"] else "exact"
    table = Table(
        title=f"{_TITLES[criterion]}, start {start}; * = smallest in the row",
        box=box.SIMPLE_HEAD,
    )
    for col in ("spectrum", "N", "sampler", *methods):
        table.add_column(col, justify="left" if col in ("spectrum", "sampler") else "right")
    rows: dict[tuple[str, int, str], dict[str, dict[str, Any]]] = {}
    for r in doc["records"]:
        rows.setdefault((r["spectrum"], r["steps"], r["sampler"]), {})[r["method"]] = r
    for (spectrum, steps, sampler), by_method in rows.items():
        best = doc["best"][spectrum][str(steps)][sampler]["method"]
        dim = next(iter(by_method.values()))["dimension"]
        kn = by_method[best]["knobs"]
        sampler_label = sampler + (
            f" ({', '.join(f'{k} {v:g}' for k, v in kn.items())})" if kn else ""
        )
        cells = [f"{by_method[m][criterion]:.4e}" + (" *" if m == best else "  ") for m in methods]
        table.add_row(f"{spectrum} (d={dim})", str(steps), sampler_label, *cells)
    console = Console(file=io.StringIO(), width=200, color_system=None, highlight=False)
    console.print(table)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def run(args: argparse.Namespace) -> int:
    spectra_names = _names(args.spectra, "--spectra")
    steps = _parse_steps(args.steps)
    methods = _names(args.methods, "--methods", sweep_methods())
    samplers = _names(args.sampler, "--sampler", sampler_names())
    given_knobs = sampler_knobs(args, samplers)
    knobs = {s: dataclasses.asdict(SAMPLERS[s].make_knobs(**given_knobs[s])) for s in samplers}
    lo, hi = _check_range(args)
    for s in samplers:  # the samplers' own start condition, before any work
        try:
            SAMPLERS[s].check_grid(np.array([hi, lo]))
        except ValueError:
            raise CliError(
                f"--sigma-max inf: --sampler {s} cannot start from pure noise (its first step "
                "diverges); give a finite --sigma-max, e.g. 80"
            ) from None
    if args.workers is not None and args.workers < 1:  # before loading spectra
        raise CliError(f"--workers must be >= 1, got {args.workers}")
    check_output(args.output, force=args.force)  # refuse before any work (write_output again)
    spectra = {name: _load_spectrum(name) for name in spectra_names}
    _check_memory(methods, samplers, spectra, steps, args.start, args.exact_spectrum)
    _probe(methods, spectra, args.start, lo, hi)

    points = [
        SweepPoint(
            name,
            tuple(float(v) for v in lam),
            n,
            method,
            sampler,
            args.start,
            tuple(sorted((k, float(v)) for k, v in knobs[sampler].items())),
            lo,
            hi,
            args.criterion,
            args.exact_spectrum,
        )
        for name, lam in spectra.items()
        for n in steps
        for sampler in samplers
        for method in methods
    ]
    executor = executor_from_args(args)
    try:
        try:
            records = map_with_progress(
                executor, evaluate, points, f"sweep ({len(points)} points)", args.no_progress
            )
        except ValueError as exc:
            raise CliError(str(exc)) from None
    finally:
        executor.close()

    inputs = {
        "version": __version__,
        "start": args.start,
        "sigma_min": lo,
        "sigma_max": hi,
        "criterion": args.criterion,
        "knobs": knobs,
        "steps": steps,
        "methods": methods,
        "samplers": samplers,
        "spectra": [[name, [float(v) for v in lam]] for name, lam in spectra.items()],
    }
    doc = {
        "version": __version__,
        "command": canonical_command(args, spectra_names, steps, methods, samplers, given_knobs),
        "inputs_sha256": hashlib.sha256(
            json.dumps(json_safe(inputs), sort_keys=True).encode()
        ).hexdigest(),
        "spectra": [{"name": name, "dimension": int(lam.size)} for name, lam in spectra.items()],
        "criterion": args.criterion,
        "records": records,
        "best": _best(records, args.criterion),
    }
    text = dumps_json(doc)
    if args.output is not None:
        write_output(
            _csv(records) if args.output.endswith(".csv") else text, args.output, force=args.force
        )
    if args.json:
        if args.output != "-":
            write_output(text, None)
    elif args.output != "-":
        write_output(_table(doc, methods, args.criterion), None)
    return 0
