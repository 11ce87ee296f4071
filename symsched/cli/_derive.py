"""``symsched derive gaussian|tangent``: print the derivation steps (pretty text, or LaTeX in the
notation of the docs)."""

from __future__ import annotations

import argparse

from symsched.cli._common import write_output

TOPICS = ("gaussian", "tangent")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "derive",
        help="print a symbolic derivation",
        description="Re-derive and print the closed forms step by step.",
    )
    p.add_argument(
        "topic",
        choices=TOPICS,
        help="gaussian: DDIM trajectory and KL; tangent: tangent law and gamma*",
    )
    p.add_argument(
        "--latex",
        action="store_true",
        help="print LaTeX instead of pretty text: per step a comment line '%% [i] title', then the "
        "equation",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print each step: ``[i] title`` then the expression (pretty text), or with ``--latex`` a
    comment line ``% [i] title`` (the title in LaTeX) then the equation in LaTeX, in the notation of
    the docs (:func:`symsched.symbols.latex`)."""
    import sympy as sp

    from symsched.symbols import latex

    if args.topic == "gaussian":
        from symsched.gaussian.derive import derivation
    else:
        from symsched.gaussian.tangent import derivation
    chunks = []
    for i, step in enumerate(derivation(), 1):
        if args.latex:
            chunks.append(f"% [{i}] {step.latex_title or step.title}\n{latex(step.expr)}\n")
        else:
            body = sp.pretty(step.expr, use_unicode=True)
            chunks.append(f"[{i}] {step.title}\n{body}\n")
    write_output("\n".join(chunks), None)
    return 0
