r"""Score any sigma list: exact criteria under every sampler, the gap to that sampler's optimum,
the observed order in N and the steps a target KL needs (docs/theory/coupling.md#scoring-a-grid).

A grid from any tool (a ComfyUI ``SIGMAS`` string, a k-diffusion list, a schedule JSON) is scored
on a Gaussian spectrum by the exact machinery of :mod:`symsched.gaussian`:

* both KLs and the coupling error under each sampler that accepts the grid
  (:func:`symsched.gaussian.coupling.criteria`);
* the gap to the exact optimum of that sampler's criterion for the same N and end levels
  (:func:`symsched.gaussian.sampler_optimum.sampler_optimal`);
* the grid's own *shape* refined: the levels as a monotone function of :math:`u=k/N`
  (:func:`refine`, a shape-preserving cubic through :math:`\arctan\rho_k` at :math:`u_k`, so
  ``inf`` and 0 are ordinary end points), evaluated at 2N and 4N steps: the observed order
  :math:`p=\log_2(\mathrm{KL}_N/\mathrm{KL}_{2N})`, to compare with the order the Euler–Maclaurin
  expansion predicts (2 for DDIM on a smooth family [sun2026, §5.1]);
* the fewest steps of that shape whose KL(target || output) is at most a target
  (:func:`steps_for_target`).

Parsing (:func:`parse_sigma_text`) reads every number of a text with one regular expression for a
float literal, so ``3e-05`` is one number (ComfyUI's ``ManualSigmas`` node splits it into two).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from symsched._typing import FloatArray, SpectrumLike
from symsched._validate import as_eigenvalues, as_grid, distinct_eigenvalues
from symsched.gaussian.compress import (
    MAX_STEPS,
    CompressedSpectrum,
    compress_spectrum,
    exact_grouping,
)
from symsched.gaussian.coupling import Criteria, grouped_criteria
from symsched.gaussian.exact import kl_from_log_ratios, log_variance_ratios

__all__ = [
    "MAX_TARGET_STEPS",
    "SamplerScore",
    "parse_sigma_text",
    "refine",
    "score_grid",
    "steps_for_method",
    "steps_for_target",
]

MAX_TARGET_STEPS = 100_000
"""The largest step count :func:`steps_for_target` searches (beyond it: ``None``)."""

_NUMBER = re.compile(r"[-+]?(?:inf(?:inity)?|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", re.IGNORECASE)


def parse_sigma_text(text: str) -> FloatArray:
    """Every number of ``text``, in order: a ComfyUI ``SIGMAS`` print, a ``ManualSigmas`` string,
    ``tensor([...])``, a JSON list or plain comma/space separated values.

    Parameters
    ----------
    text
        The text.

    Returns
    -------
    FloatArray
        The numbers (``inf`` allowed).

    Raises
    ------
    ValueError
        If the text holds fewer than two numbers, or a character that is not part of a number,
        a separator or a known wrapper (``tensor``, brackets, ``dtype=...``).
    """
    body = re.sub(r"dtype\s*=\s*[\w.]+|device\s*=\s*'[^']*'|tensor", " ", text)
    leftover = _NUMBER.sub(" ", body)
    bad = re.sub(r"[\s,\[\]()]", "", leftover)
    if bad:
        raise ValueError(f"not a sigma list: unexpected {bad[:20]!r} in {text[:40]!r}")
    values = [float(m) for m in _NUMBER.findall(body)]
    if len(values) < 2:
        raise ValueError(f"a sigma list needs at least 2 values, got {len(values)}")
    return np.asarray(values, dtype=np.float64)


def refine(sigmas: Sequence[float] | FloatArray, steps: int) -> FloatArray:
    r"""The grid's shape at ``steps`` steps: a shape-preserving (PCHIP) cubic through
    :math:`(k/N,\arctan\rho_k)`, evaluated at :math:`u=j/\text{steps}` and mapped back by
    :math:`\tan` (its ends kept exactly: ``inf`` is :math:`\pi/2`, 0 is 0).

    Parameters
    ----------
    sigmas
        The grid, strictly decreasing.
    steps
        The new step count (>= 1).

    Returns
    -------
    FloatArray
        ``steps + 1`` strictly decreasing levels with the grid's ends.
    """
    from scipy.interpolate import PchipInterpolator

    sig = as_grid(sigmas)
    n = sig.size - 1
    theta = np.arctan(sig)  # arctan(inf) = pi/2 exactly in float64's sense
    f = PchipInterpolator(np.linspace(0.0, 1.0, n + 1), theta)
    th = np.asarray(f(np.linspace(0.0, 1.0, steps + 1)), dtype=np.float64)
    out: FloatArray = np.tan(th)
    out[0], out[-1] = sig[0], sig[-1]
    if math.isinf(sig[0]):
        out[0] = math.inf
    return out


def _kl_grouped(values: FloatArray, counts: FloatArray, grid: FloatArray, sampler: str) -> float:
    """KL(target || output) summed over the distinct eigenvalues with their multiplicities (an
    exact regrouping; radial Fourier spectra have ~100x fewer distinct values than entries)."""
    lr = np.asarray(log_variance_ratios(values, grid, sampler=sampler), dtype=np.float64)
    return kl_from_log_ratios(lr, counts)[0]


@dataclass(frozen=True)
class SamplerScore:
    """The scores of one grid under one sampler.

    Attributes
    ----------
    sampler
        The sampler.
    criteria
        Both KLs and the coupling error of the grid.
    objective, optimum, gap
        The sampler's default criterion (``kl``: KL(target || output); ``coupling``), its value at
        the exact optimum for the same N and ends (``None`` if not computed), and
        ``criterion(grid) / criterion(optimum)``.
    refined
        KL(target || output) of the grid's shape at N, 2N and 4N steps.
    order
        The observed orders :math:`\\log_2` of consecutive ratios of ``refined``.
    """

    sampler: str
    criteria: Criteria
    objective: str
    optimum: float | None
    gap: float | None
    refined: tuple[float, float, float]
    order: tuple[float, float]


def score_grid(
    eigenvalues: SpectrumLike,
    sigmas: Sequence[float] | FloatArray,
    samplers: Sequence[str],
    *,
    optimum: bool = True,
) -> list[SamplerScore]:
    """Score ``sigmas`` under each of ``samplers`` (see the module).

    Parameters
    ----------
    eigenvalues
        The Gaussian spectrum.
    sigmas
        The grid.
    samplers
        Sampler names; each must accept the grid (``Sampler.check_grid``).
    optimum
        Whether to compute each sampler's exact optimum for the gap (seconds for large spectra).

    Returns
    -------
    list[SamplerScore]
        One per sampler, in order.
    """
    from symsched.gaussian.sampler_optimum import default_objective, sampler_optimal
    from symsched.samplers import get_sampler

    lam = as_eigenvalues(eigenvalues)
    values, cnt = distinct_eigenvalues(lam)
    counts = cnt.astype(np.float64)
    sig = as_grid(sigmas)
    n = sig.size - 1
    out = []
    for name in samplers:
        smp = get_sampler(name)
        smp.check_grid(sig)
        crt = grouped_criteria(values, counts, sig, sampler=name)
        obj = default_objective(name)
        value = crt.coupling if obj == "coupling" else crt.kl_source_output
        best: float | None = None
        gap: float | None = None
        if optimum and n >= 2:
            opt = sampler_optimal(lam, n, float(sig[-1]), float(sig[0]), sampler=name)
            oc = opt.criteria  # on the full spectrum
            best = oc.coupling if obj == "coupling" else oc.kl_source_output
            gap = value / best if best > 0 else math.inf
        kls = tuple(_kl_grouped(values, counts, refine(sig, m * n), name) for m in (1, 2, 4))
        order = tuple(
            math.log2(a / b) if a > 0 and b > 0 else math.nan for a, b in itertools.pairwise(kls)
        )
        out.append(SamplerScore(name, crt, obj, best, gap, kls, order))  # type: ignore[arg-type]
    return out


def _fewest_steps(kl_at: Callable[[int], float], target_kl: float) -> tuple[int | None, int]:
    """Doubling then bisection for the fewest N with ``kl_at(N) <= target_kl``; with the last
    step count the doubling tried (the largest tested when the answer is ``None``)."""
    if not (math.isfinite(target_kl) and target_kl > 0):
        raise ValueError(f"target_kl must be a finite number > 0, got {target_kl}")
    lo, hi = 0, 1
    while kl_at(hi) > target_kl:
        lo, hi = hi, hi * 2
        if hi > MAX_TARGET_STEPS:
            return None, lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if kl_at(mid) <= target_kl:
            hi = mid
        else:
            lo = mid
    return hi, hi


_WALK = 8  # steps the full-spectrum check walks from the compressed answer before searching anew


def _certified_fewest_steps(
    lam: FloatArray, grid_of: Callable[[int], FloatArray | None], sampler: str, target_kl: float
) -> int | None:
    r"""The fewest N whose grid meets ``target_kl``, searched on the compressed spectrum
    (:func:`symsched.gaussian.compress.compress_spectrum`; the exact grouping beyond
    :data:`~symsched.gaussian.compress.MAX_STEPS` steps) and certified on the full one: the
    answer N has a full-spectrum KL at most the target and N - 1 more (or N = 1), walked from the
    compressed answer when the two spectra disagree at the threshold, and searched anew on the
    full spectrum if that walk does not end within :data:`_WALK` steps
    (docs/theory/gaussian.md#compressed-spectra). ``grid_of(N)`` is ``None`` for a step count
    without a grid (its KL is ``inf``)."""
    comp = compress_spectrum(lam)
    exact = comp if comp.exact else exact_grouping(lam)
    grids: dict[int, FloatArray | None] = {}

    def kl_on(m: int, spectrum: CompressedSpectrum) -> float:
        if m not in grids:
            grids[m] = grid_of(m)
        grid = grids[m]
        if grid is None:
            return math.inf
        spec = exact if m > MAX_STEPS else spectrum
        return _kl_grouped(spec.nodes, spec.weights, grid, sampler)

    def full(m: int) -> float:
        return kl_on(m, exact)

    n, last = _fewest_steps(lambda m: kl_on(m, comp), target_kl)
    if comp.exact:
        return n
    if n is None:
        if full(last) > target_kl:
            return None
        return _fewest_steps(full, target_kl)[0]
    for _ in range(_WALK):
        if full(n) > target_kl:
            if n + 1 > MAX_TARGET_STEPS:
                return None
            n += 1
        elif n > 1 and full(n - 1) <= target_kl:
            n -= 1
        else:
            return n
    return _fewest_steps(full, target_kl)[0]


def steps_for_method(
    eigenvalues: SpectrumLike,
    target_kl: float,
    method: str,
    /,
    *,
    sampler: str = "ddim",
    **options: object,
) -> int | None:
    """The fewest steps N for which ``method``'s N-step grid (``symsched.build(method, N,
    **options)``) has KL(target || output) <= ``target_kl`` under ``sampler`` (doubling, then
    bisection on the exact KL of the compressed spectrum, the answer certified on the full one:
    see :func:`steps_for_target`). ``options`` are the method's own (``eigenvalues=`` for a
    method that takes a spectrum).

    Returns
    -------
    int or None
        N, or ``None`` if even :data:`MAX_TARGET_STEPS` steps miss the target.
    """
    from symsched import build

    def grid_of(m: int) -> FloatArray | None:
        try:
            return np.asarray(build(method, m, **options).sigmas, dtype=np.float64)
        except ValueError:
            if m == 1:  # a method with no 1-step grid (flow: one step outputs 0)
                return None
            raise

    return _certified_fewest_steps(as_eigenvalues(eigenvalues), grid_of, sampler, target_kl)


def steps_for_target(
    eigenvalues: SpectrumLike,
    sigmas: Sequence[float] | FloatArray,
    target_kl: float,
    *,
    sampler: str = "ddim",
) -> int | None:
    """The fewest steps of the grid's shape (:func:`refine`) with KL(target || output) <=
    ``target_kl`` under ``sampler``: doubling, then bisection (the KL of a refined shape falls
    with N once the steps resolve it), on the compressed spectrum; the answer is certified on the
    full spectrum: its KL there is at most the target and its left neighbour's is more
    (docs/theory/gaussian.md#compressed-spectra).

    Returns
    -------
    int or None
        The step count, or ``None`` if even :data:`MAX_TARGET_STEPS` steps miss the target.
    """
    sig = as_grid(sigmas)
    return _certified_fewest_steps(
        as_eigenvalues(eigenvalues), lambda m: refine(sig, m), sampler, target_kl
    )
