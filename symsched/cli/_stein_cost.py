r"""``symsched stein-cost --model SPEC --from S --to T``: the corrector cost of one sampling step.

:math:`\mathcal L_c(S\to T)=v^2\,\mathbb E_{x\sim p_S}
\|\nabla\log p_T(x)-\nabla\log p_S(x)\|^2` with
:math:`v=T` (the target; ``--weight source`` for :math:`v=S`) [Williams et al., arXiv 2412.07877,
§2.3] (docs/theory/stein.md#corrector-cost). JSON: ``cost`` and, for Monte Carlo, ``stderr``.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np

from symsched._budget import check_memory
from symsched._options import add_options, make_options, option_fields, options_from_namespace
from symsched._validate import INPUT_MAX, INPUT_MIN
from symsched.cli._common import CliError, dumps_json, spectrum_from_text
from symsched.cli._registry_args import flagify, spectrum_flag
from symsched.models.options import MODEL_SPEC_HELP, ModelOptions

_JVP_SUBLEVELS = 128  # log-spaced levels between T and S for the jvp path integral


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "stein-cost",
        help="corrector Stein cost L_c of one step S -> T",
        description="Corrector (Stein/Fisher) cost L_c of the step S -> T, weight v = sigma at "
        "the target T "
        "(Williams et al., arXiv 2412.07877).",
    )
    p.add_argument(
        "--model", required=True, metavar="SPEC", help=f"score model spec: {MODEL_SPEC_HELP}"
    )
    p.add_argument(
        "--from",
        dest="source",
        type=float,
        required=True,
        metavar="S",
        help="source (noisier) level",
    )
    p.add_argument(
        "--to", dest="target", type=float, required=True, metavar="T", help="target level, T < S"
    )
    p.add_argument(
        "--estimator",
        choices=("exact", "monte-carlo", "jvp"),
        default=None,
        help="default: exact when the model has a closed form, else monte-carlo",
    )
    p.add_argument(
        "--samples", type=int, default=4096, metavar="n", help="Monte Carlo / JVP samples"
    )
    p.add_argument("--seed", type=int, default=0, metavar="k", help="random seed")
    p.add_argument(
        "--weight", choices=("target", "source"), default="target", help="where v = sigma is taken"
    )
    p.add_argument(
        "--process", choices=("ve", "vp"), default="ve", help="scale of scores and weight"
    )
    add_options(p.add_argument_group("model options"), ModelOptions, skip=("model",))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from symsched.models import ModelError, ScoreOverflowError
    from symsched.stein import estimate_costs
    from symsched.stein._estimate import SteinAccuracyWarning

    s, t = args.source, args.target
    for flag, val in (("--from", s), ("--to", t)):
        if not np.isfinite(val) or val <= 0:
            raise CliError(f"{flag} must be a finite noise level > 0, got {val}")
        if not INPUT_MIN <= val <= INPUT_MAX:
            raise CliError(
                f"{flag} must lie in [{INPUT_MIN:g}, {INPUT_MAX:g}] (the documented input range), "
                f"got {val:g}"
            )
    if not s > t:
        raise CliError(f"--from must be the noisier level (S > T), got --from {s} --to {t}")
    if args.samples < 2:
        raise CliError(f"--samples must be >= 2, got {args.samples}")
    if args.seed < 0:
        raise CliError(f"--seed must be an integer >= 0, got {args.seed}")
    try:
        mo = make_options(
            ModelOptions,
            options_from_namespace(ModelOptions, args, spectrum=spectrum_from_text),
            owner="--model",
        )
    except (ValueError, TypeError) as exc:
        raise CliError(flagify(str(exc), option_fields(ModelOptions))) from None
    spectrum = mo.eigenvalues
    dim = spectrum.size if spectrum is not None else (mo.dim or 256)  # trained nets: <= 256
    dim_flag = spectrum_flag(args) if spectrum is not None else "--dim"
    terms = {dim_flag: 8.0 * 16 * dim, "--samples": 8.0 * 32 * args.samples * dim}
    if terms["--samples"] > terms[dim_flag] and dim > args.samples:
        terms = {dim_flag: sum(terms.values()), "--samples": 0.0}
    check_memory(
        sum(terms.values()),
        flag=max(terms, key=lambda k: terms[k]),
        what=f"the {args.model} cost with {args.samples} samples in d = {dim}",
    )
    try:
        model = mo.load()
    except (ModelError, ValueError, TypeError) as exc:  # name the flags of the model options
        raise CliError(flagify(str(exc), option_fields(ModelOptions))) from None
    lo, hi = model.sigma_range
    if t < lo * (1 - 1e-9) or s > hi * (1 + 1e-9):  # the model's own tolerance
        raise CliError(
            f"--from {s:g} --to {t:g}: {model.name} takes levels in [{lo:g}, {hi:g}] (the range "
            "it was trained on)"
        )
    if args.estimator == "jvp" and args.weight == "source":
        raise CliError(
            "--weight source goes with a finite-step estimator (--estimator exact or "
            "monte-carlo): jvp measures the local metric, where both weights agree"
        )
    estimator = args.estimator
    if estimator is None:
        has_exact = (
            model.exact_interval_costs([s, t], process=args.process, weight=args.weight) is not None
        )
        estimator = "exact" if has_exact else "monte-carlo"
    levels = np.array([s, t]) if estimator != "jvp" else np.geomspace(s, t, _JVP_SUBLEVELS + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SteinAccuracyWarning)
        try:
            est = estimate_costs(
                model,
                levels,
                estimator=estimator,
                samples=args.samples,
                seed=args.seed,
                process=args.process,
                weight=args.weight,
                device=mo.device,
                progress=sys.stderr.isatty(),
            )
        except ScoreOverflowError as exc:  # a level too small for float64: name the flags
            raise CliError(f"--from {s:g} --to {t:g}: {exc}; choose a larger --to") from None
        except (ModelError, ValueError) as exc:
            raise CliError(str(exc)) from None
    for w in caught:
        if issubclass(w.category, SteinAccuracyWarning):
            print(f"symsched stein-cost: warning: {w.message}", file=sys.stderr)
    out: dict[str, object] = {
        "model": model.name,
        "from": s,
        "to": t,
        "estimator": estimator,
        "weight": args.weight,
        "process": args.process,
    }
    if estimator == "jvp":
        out["cost"] = est.total_length**2
        out["stderr"] = 2 * est.total_length * (est.total_length_stderr or 0.0)
        out["approximation"] = (
            "(integral of sqrt(delta_c) d sigma)^2 over the step: the local-metric limit"
        )
    else:
        out["cost"] = float(est.costs[0])
        if est.stderr is not None:
            out["stderr"] = float(est.stderr[0])
    if estimator != "exact":
        out.update({"samples": est.samples, "seed": args.seed, "evaluations": est.evaluations})
    if args.json:
        sys.stdout.write(dumps_json(out) + "\n")
    else:
        se = f" +- {out['stderr']:.3g}" if "stderr" in out else ""
        print(f"L_c({s:g} -> {t:g}) = {out['cost']:.6g}{se}  [{estimator}, {model.name}]")
    return 0


__all__ = ["register"]
