r"""Which paper or capability each claim belongs to: the report's grouping of claims.

A claim's *area* is the first component of its id (``tangent`` in ``tangent.gamma-star``); each
area belongs to one *part*: one of the three papers symsched verifies (Sun, Poor, Zhang,
arXiv 2601.13602; Williams, Campbell, Doucet, Syed, arXiv 2412.07877; Aranguri, Biroli, Mézard,
Vanden-Eijnden, arXiv 2501.00988) or one of the capabilities built on them (flow models,
reference schedules, the real consumers, conformance with other tools). ``tests/verify`` checks
that every registered claim has an area listed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

__all__ = ["AREAS", "PARTS", "Area", "Part", "area_of", "group", "part_of"]


@dataclass(frozen=True)
class Part:
    """A paper or capability: ``key``, ``title`` and ``source`` (the citation, in words)."""

    key: str
    title: str
    source: str


@dataclass(frozen=True)
class Area:
    """A group of claims (``prefix`` of their ids) with its ``title`` and the ``part`` it is in."""

    prefix: str
    title: str
    part: str


PARTS: tuple[Part, ...] = (
    Part(
        "gaussian",
        "Gaussian theory: exact KL, its expansion in N, the tangent law",
        "Sun, Poor, Zhang, arXiv 2601.13602",
    ),
    Part(
        "stein",
        "Score-optimal schedules: the Stein cost",
        "Williams, Campbell, Doucet, Syed, arXiv 2412.07877",
    ),
    Part(
        "highdim",
        "High dimensions: Gaussian mixtures and the Curie–Weiss model",
        "Aranguri, Biroli, Mézard, Vanden-Eijnden, arXiv 2501.00988",
    ),
    Part(
        "flow",
        "Flow-matching models: the optimal shift and the published rules",
        "Sun, Poor, Zhang, arXiv 2601.13602 (§3, §5.1) applied to rectified flows; "
        "Esser et al. arXiv 2403.03206 §5.3.2",
    ),
    Part(
        "schedules",
        "Reference schedules, recommendations and exports",
        "Sun, Poor, Zhang, arXiv 2601.13602 §7; docs/conventions.md",
    ),
    Part(
        "conformance",
        "Conformance with diffusers, k-diffusion, ComfyUI and A1111",
        "the tools' own source (docs/conformance.md)",
    ),
)

AREAS: tuple[Area, ...] = (
    Area("gaussian", "Closed forms of the output law and the KL", "gaussian"),
    Area("asymptotics", "Euler–Maclaurin expansion in N", "gaussian"),
    Area("tangent", "The tangent law and its coefficient", "gaussian"),
    Area("variational", "Calculus of variations: the optimal schedules", "gaussian"),
    Area("samplers", "Other samplers: Euler, Heun, DPM-Solver++ 2M, ancestral", "gaussian"),
    Area("coupling", "Sampler-aware criteria and optima", "gaussian"),
    Area("stein", "The Stein cost and its optimal schedules", "stein"),
    Area("highdim", "Steps needed in high dimensions", "highdim"),
    Area("transfer", "Beyond the Gaussian: sampler-aware grids on mixtures", "highdim"),
    Area("flow", "Flow models", "flow"),
    Area("schedules", "Reference grids", "schedules"),
    Area("reference", "Reference schedules and the recommendation table", "schedules"),
    Area("pretrained", "Trained networks' schedules", "schedules"),
    Area("export", "Exports to the real consumers", "schedules"),
    Area("conformance", "Built-in schedules of other tools", "conformance"),
)

_BY_PREFIX = {a.prefix: a for a in AREAS}
_PART = {p.key: p for p in PARTS}


def area_of(claim_id: str) -> Area:
    """The area of ``claim_id`` (by the first component of the id).

    Raises
    ------
    KeyError
        For an id whose area is not listed in :data:`AREAS`.
    """
    prefix = claim_id.split(".", 1)[0]
    if prefix not in _BY_PREFIX:
        raise KeyError(
            f"claim {claim_id!r}: area {prefix!r} is not listed in symsched_verify.areas"
        )
    return _BY_PREFIX[prefix]


def part_of(claim_id: str) -> Part:
    """The paper or capability of ``claim_id``."""
    return _PART[area_of(claim_id).part]


def group(
    items: Iterable[T], claim_id: Callable[[T], str]
) -> list[tuple[Part, list[tuple[Area, list[T]]]]]:
    """``items`` (claims or results) grouped by part, then area, in the order of :data:`PARTS` and
    :data:`AREAS`; within an area the items keep their order. Empty groups are left out."""
    buckets: dict[str, list[T]] = {}
    for it in items:
        buckets.setdefault(area_of(claim_id(it)).prefix, []).append(it)
    out: list[tuple[Part, list[tuple[Area, list[T]]]]] = []
    for p in PARTS:
        areas = [(a, buckets[a.prefix]) for a in AREAS if a.part == p.key and a.prefix in buckets]
        if areas:
            out.append((p, areas))
    return out
