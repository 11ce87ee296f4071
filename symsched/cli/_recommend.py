"""``symsched recommend``: which schedule for this model, sampler and step budget.

Prints the recommended grid, its export for the model's consumers, and every alternative scored
by both exact KLs and the coupling error under that sampler, with the proxy it was scored on
(docs/cli.md#recommend, docs/theory/coupling.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from symsched._options import cli_int
from symsched._typing import JSONValue
from symsched._version import __version__
from symsched.cli._common import CliError, dumps_json, write_output
from symsched.cli._registry_args import add_export_options, export_kwargs
from symsched.export import export
from symsched.samplers import get_sampler, sampler_names
from symsched.schedules import Schedule

__all__ = ["register"]

_NAMES = {
    "coupling": "coupling error",
    "kl_source_output": "KL(target||output)",
}


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``recommend`` command."""
    from symsched.reference import MODELS

    p = sub.add_parser(
        "recommend",
        help="the best schedule for a model, sampler and number of steps",
        description="Score every applicable schedule for MODEL under SAMPLER at N steps by the "
        "exact criteria on the model's Gaussian proxy (or --spectrum-file), and recommend the one "
        "of least coupling error (KL for a stochastic sampler); the sampler-aware optimum is one "
        "of the candidates (docs/theory/coupling.md). Built-in models at N = 5, 10, 20 are "
        "precomputed; other N take seconds.",
    )
    p.add_argument(
        "--model",
        required=True,
        choices=[m.name for m in MODELS],
        help="; ".join(f"{m.name}: sigma in [{m.sigma_min:g}, {m.sigma_max:g}]" for m in MODELS),
    )
    p.add_argument("--sampler", required=True, choices=sampler_names(), help="the sampler you run")
    p.add_argument(
        "--steps", type=cli_int, required=True, metavar="N", help="sampler steps (N+1 levels)"
    )
    p.add_argument(
        "--spectrum-file",
        metavar="F",
        help="score on this spectrum (.npy or text; the model input's dimension) instead of the "
        "proxy: e.g. from `symsched spectrum --npy latents.npy`",
    )
    p.add_argument(
        "--exact-spectrum",
        action="store_true",
        help="compute on the spot with the optimisers searching the full spectrum, not the "
        "compressed one (docs/theory/gaussian.md#compressed-spectra); the table is not read",
    )
    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print one JSON object")
    add_export_options(out)
    p.set_defaults(func=run)


def _exports(model: Any, sch: Schedule, fmt: str | None, opts: dict[str, object]) -> JSONValue:
    from symsched.reference import _exports as family_exports

    if fmt is None:
        return family_exports(model, sch)
    # the family's own options for that format (ddpm: its linear training table), then the user's
    base = next((dict(o) for f, o in model.exports if f == fmt), {})
    try:
        ex = export(sch, fmt, **{**base, **opts})
    except ValueError as exc:
        msg = str(exc)
        raise CliError(msg if msg.startswith("--") else f"--format {fmt}: {msg}") from None
    value: JSONValue = json.loads(ex.text) if fmt not in ("csv",) else ex.text
    return {fmt: {"value": value, "note": ex.note}}


def run(args: argparse.Namespace) -> int:
    """Answer the question and print it."""
    from symsched.cli._common import load_spectrum_file
    from symsched.recommend import recommend
    from symsched.reference import MODELS

    if args.steps < 1:
        raise CliError(f"--steps must be >= 1, got {args.steps}")
    opts = export_kwargs(args, args.format)
    lam = None if args.spectrum_file is None else load_spectrum_file(args.spectrum_file)
    try:
        rec = recommend(
            args.model,
            args.sampler,
            args.steps,
            eigenvalues=lam,
            exact_spectrum=args.exact_spectrum,
        )
    except ValueError as exc:
        msg = str(exc)
        flag = "--spectrum-file" if "spectrum" in msg else "--sampler"
        raise CliError(f"{flag}: {msg}") from None
    model = next(m for m in MODELS if m.name == args.model)
    best = rec.recommended
    sch = Schedule(best.method, best.sigmas, dict(best.params))
    smp = get_sampler(args.sampler)
    nfe = smp.nfe(best.sigmas)
    exports = _exports(model, sch, args.format, opts)
    doc: dict[str, JSONValue] = {
        "model": rec.model,
        "sampler": rec.sampler,
        "steps": rec.steps,
        "nfe": nfe,
        "criterion": rec.criterion,
        "recommended": best.to_json(),
        "alternatives": [c.to_json() for c in rec.alternatives],
        "skipped": dict(rec.skipped),
        "exports": exports,
        "proxy": rec.proxy,
        "proxy_dimension": rec.proxy_dimension,
        "source": rec.source,
        "version": __version__,
    }
    if rec.source == "computed":
        print("computed on the spot (not in the precomputed table)", file=sys.stderr)
    if args.json:
        write_output(dumps_json(doc), None)
        return 0
    crit = rec.criterion
    ref = best.criteria.value(crit)
    lines = [
        f"{rec.model}, {rec.sampler}, {rec.steps} steps (NFE {nfe}): recommended "
        f"{best.method} ({_NAMES[crit]} {ref:.4g})",
        "sigmas: " + ", ".join(f"{v:.6g}" for v in best.sigmas),
    ]
    for key, ex in (exports or {}).items():  # type: ignore[union-attr]
        if isinstance(ex, dict) and "value" in ex:
            lines.append(f"{key}: {json.dumps(ex['value'])}")
    lines.append("")
    lines.append(f"{'method':<18} {'coupling':>11} {'KL(t||o)':>11} {'KL(o||t)':>11} {'x best':>8}")
    for c in rec.alternatives:
        v = c.criteria.value(crit)
        ratio = v / ref if ref > 0 else float("inf") if v > 0 else 1.0
        lines.append(
            f"{c.method:<18} {c.criteria.coupling:>11.4g} {c.criteria.kl_source_output:>11.4g} "
            f"{c.criteria.kl_output_source:>11.4g} {ratio:>8.3g}"
        )
    for name, why in rec.skipped.items():
        lines.append(f"{name:<18} not scored: {why}")
    lines.append("")
    lines.append(f"scored on: {rec.proxy} (d = {rec.proxy_dimension})")
    write_output("\n".join(lines), None)
    return 0
