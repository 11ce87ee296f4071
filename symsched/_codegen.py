r"""Generate :mod:`symsched._generated`: the numpy code of every named compiled function.

Run ``python -m symsched._codegen`` after changing a derivation: it runs every
spec of :mod:`symsched._specs` (the SymPy derivations), prints each expression with SymPy's
``NumPyPrinter`` exactly as :func:`sympy.lambdify` does with ``cse=True``
(:func:`symsched.numeric.lambdify_source`), and writes the module. ``--check`` compares instead
of writing and exits 1 if the committed module is stale (CI runs the same comparison as a test).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

__all__ = ["TARGET", "generate", "main"]

TARGET = Path(__file__).with_name("_generated.py")
"""The generated module."""

_HEADER = '''"""Generated numpy code of the derivations: DO NOT EDIT.

Written by ``python -m symsched._codegen`` from the SymPy derivations of
:mod:`symsched._specs` (SymPy's NumPyPrinter, as ``sympy.lambdify(..., cse=True)`` prints them);
regenerate with that command after changing a derivation. Read by :mod:`symsched._compiled`.
"""

# ruff: noqa
# fmt: off
# mypy: ignore-errors

import numpy

'''


def _identifier(name: str) -> str:
    return "_" + re.sub(r"[^0-9a-zA-Z]", "_", name)


def generate() -> str:
    """The text of the generated module (imports SymPy and runs every derivation)."""
    from symsched import _specs, numeric

    parts = [_HEADER]
    table = []
    for name in _specs.names():
        args, expr = _specs.derive_spec(name)
        ident = _identifier(name)
        src = numeric.lambdify_source(args, expr, ident).rstrip("\n")
        parts.append(f"# {name}\n{src}\n\n\n")
        table.append(f"    {name!r}: {ident},\n")
    parts.append("FUNCTIONS = {\n" + "".join(table) + "}\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    """``python -m symsched._codegen [--check]``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m symsched._codegen", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed module is stale"
    )
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is stale: run python -m symsched._codegen", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
