"""``symsched derive gaussian|tangent``: print the derivation steps (pretty or LaTeX)."""

from __future__ import annotations

import argparse

import sympy as sp

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
    p.add_argument("--latex", action="store_true", help="print LaTeX instead of pretty text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.topic == "gaussian":
        from symsched.gaussian.derive import derivation
    else:
        from symsched.gaussian.tangent import derivation
    chunks = []
    for i, step in enumerate(derivation(), 1):
        body = sp.latex(step.expr) if args.latex else sp.pretty(step.expr, use_unicode=True)
        chunks.append(f"[{i}] {step.title}\n{body}\n")
    write_output("\n".join(chunks), None)
    return 0
