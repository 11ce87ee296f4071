r"""The claim registry: every verifiable statement, with its source, oracle and tolerance.

A claim is a function ``check(budget) -> Outcome`` registered with :func:`claim`. ``symsched
verify`` runs them all; ``tests/verify/test_claims.py`` runs each one as a test, so a claim is
checked the same way from the CLI and from pytest.

Adding claims: write a module in ``verify/claims/`` that decorates its checks with ``@claim``;
:func:`load_claims` imports every module of that package.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CLAIMS", "Budget", "Claim", "Outcome", "claim", "load_claims"]

Profile = Literal["quick", "full"]


@dataclass(frozen=True)
class Budget:
    """How hard a check may work: the ``quick`` CI profile or the ``full`` profile, and the seed."""

    profile: Profile = "quick"
    seed: int = 20260122

    def __post_init__(self) -> None:
        if self.profile not in ("quick", "full"):
            raise ValueError(f"profile must be 'quick' or 'full', got {self.profile!r}")
        if isinstance(self.seed, bool) or int(self.seed) != self.seed or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")

    def pick(self, quick: Any, full: Any) -> Any:
        """``quick`` under the quick profile, ``full`` otherwise."""
        return quick if self.profile == "quick" else full

    @property
    def hypothesis_examples(self) -> int:
        return int(self.pick(int(os.environ.get("SYMSCHED_QUICK_EXAMPLES", "25")), 300))


@dataclass
class Outcome:
    """What a check measured.

    Attributes
    ----------
    passed
        Whether the measured value is within the tolerance.
    measured
        The measured value(s) in one or two plain sentences, with their numbers (goes in the
        report table and the console); inline ``$...$`` LaTeX only for short symbols.
    details
        JSON-able measured values (go in ``results.json`` and the report).
    figures
        Matplotlib figures (saved as PNG next to the report).
    captions
        One caption per figure (same keys as ``figures``): full sentences saying what is plotted,
        for which model and parameters, and what it shows.
    schedules
        Reference schedules the check produced:
        ``{"name": ..., "schedule": Schedule.to_json(), ...}``.
    """

    passed: bool
    measured: str
    details: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    schedules: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Claim:
    """A registered claim: ``id``, one-line ``statement``, ``source`` (paper + equation),
        ``method`` (the independent oracle), ``tolerance`` (with its reason), ``docs`` (the page and
        anchor of the project's documentation that explains it, e.g.
        ``"docs/theory/gaussian.md#tangent-law"``), ``math`` (the claimed relation in LaTeX,
    rendered in the report; empty when the claim has no formula) and ``check``."""

    id: str
    statement: str
    source: str
    method: str
    tolerance: str
    docs: str
    check: Callable[[Budget], Outcome]
    math: str = ""


CLAIMS: dict[str, Claim] = {}

#: A docs page and a heading anchor (lowercase, hyphens: GitHub's anchors of markdown headings).
_DOCS_LINK = re.compile(r"docs/[a-z0-9_/-]+\.md#[a-z0-9_-]+")


def claim(
    id: str,
    *,
    statement: str,
    source: str,
    method: str,
    tolerance: str,
    docs: str,
    math: str = "",
) -> Callable[[Callable[[Budget], Outcome]], Callable[[Budget], Outcome]]:
    """Register ``check`` as claim ``id`` (ids are unique, dotted: ``area.short-name``).

    ``docs`` is a page under ``docs/`` and a GitHub-style heading anchor,
    ``docs/PAGE.md#anchor`` (``tests/verify/test_claim_docs.py`` checks that the heading exists).
    ``math`` is the claimed relation in LaTeX (display style, no surrounding ``$``), rendered to
    MathML in the report by :mod:`symsched_verify.mathml`.
    """
    if not _DOCS_LINK.fullmatch(docs):
        raise ValueError(f"claim {id!r}: docs must look like 'docs/PAGE.md#anchor', got {docs!r}")

    def deco(check: Callable[[Budget], Outcome]) -> Callable[[Budget], Outcome]:
        if id in CLAIMS and CLAIMS[id].check is not check:
            raise ValueError(f"claim id {id!r} is registered twice")
        CLAIMS[id] = Claim(id, statement, source, method, tolerance, docs, check, math)
        return check

    return deco


def load_claims() -> dict[str, Claim]:
    """Import every module of :mod:`symsched_verify.claims` (registering their claims) and return
    the registry."""
    import symsched_verify.claims as pkg

    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
        importlib.import_module(f"symsched_verify.claims.{mod}")
    return dict(sorted(CLAIMS.items()))
