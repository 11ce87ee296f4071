r"""A compressed spectrum: a few weighted nodes in :math:`\ln\lambda` for a million eigenvalues.

Every criterion of a Gaussian source — both exact KLs, the coupling error and their gradients
in the levels [sun2026, §3-§5] — is a sum over eigenvalues of one smooth function of
:math:`u=\ln\lambda` (the grid fixed):

.. math:: F(\sigma)=\sum_{i=1}^d f(u_i;\sigma)=\int f(u;\sigma)\,d\mu(u),\qquad
   \mu=\sum_i\delta_{u_i}.

Split the range of :math:`u` into bins of width at most :math:`h` and replace :math:`\mu`
on each bin :math:`B` (mass :math:`m_B`) by its own :math:`k`-point Gauss rule — the nodes and
weights that integrate every polynomial of degree :math:`\le 2k-1` exactly against
:math:`\mu|_B` (Golub-Welsch on the bin's Jacobi matrix, built by the discrete Stieltjes
procedure). The remainder of a Gauss rule and the monic Chebyshev bound on the bin's orthogonal
polynomial :math:`\pi_k` (:math:`\int\pi_k^2\,d\mu_B\le 4m_B(h/4)^{2k}`), with a Cauchy estimate of
:math:`f^{(2k)}` on disks of radius :math:`a` (where :math:`f` is analytic), give

.. math:: \Bigl|\sum_{i\in B}f(u_i)-\sum_j w_jf(t_j)\Bigr|
   \le\frac{\sup_B|f^{(2k)}|}{(2k)!}\int\pi_k^2\,d\mu_B
   \le 4\,m_B\Bigl(\frac{h}{4a}\Bigr)^{2k}\sup_{{\rm dist}(z,B)\le a}|f(z)|

(docs/theory/gaussian.md#compressed-spectra). Each sampler's per-eigenvalue map is a rational
function of :math:`\lambda/(\lambda+\sigma_k^2)` and square roots of :math:`\lambda+\sigma_k^2`,
singular only on :math:`\operatorname{Im}u=\pm\pi`, so :math:`a` is of order 1 and the error falls
as :math:`(h/4a)^{2k}` with the bin width. The defaults (:data:`BIN_WIDTH`, :data:`NODES_PER_BIN`)
keep the measured error of every criterion below :data:`RTOL` on the stated grid class; the
optimisers re-evaluate their answer on the full spectrum and fall back to it when the two differ
by more (:func:`agreement`), so no answer is a silent approximation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from symsched._typing import FloatArray, SpectrumLike
from symsched._validate import as_eigenvalues, distinct_eigenvalues

__all__ = [
    "BIN_WIDTH",
    "MAX_STEPS",
    "NODES_PER_BIN",
    "RTOL",
    "Agreement",
    "CompressedSpectrum",
    "agreement",
    "check_fallback_memory",
    "compress_spectrum",
    "compression_params",
    "error_bound_factor",
    "exact_grouping",
    "node_bound",
    "spectrum_for_optimiser",
]

RTOL = 1e-6
r"""The stated relative tolerance of a compressed spectrum: every criterion (both KLs, the
coupling error) within this fraction of its full-spectrum value, and its gradient in the log
levels within this fraction of the criterion (the scale of the gradient of :math:`\ln F`, which
the optimisers follow), for every grid of the stated class."""

BIN_WIDTH = 0.5
r"""Default bin width :math:`h` in :math:`\ln\lambda`: 22 bins per decade pair of eigenvalues,
so an image spectrum spanning :math:`10^{-8}..10^2` needs 47 bins."""

NODES_PER_BIN = 4
r"""Default Gauss nodes per bin :math:`k`: exact for polynomials of degree 7 in :math:`u` on each
bin, so the bound's factor :math:`4(h/4a)^{2k}` is :math:`6\cdot10^{-9}` at :math:`a=\pi/2`
(:func:`error_bound_factor`)."""

MAX_STEPS = 10_000
r"""The grid class the tolerance is stated for: at most this many steps, every finite positive
level and every eigenvalue within the float64 windows of the exact paths
(:data:`~symsched.samplers._stable.LEVEL_WINDOW`,
:data:`~symsched.samplers._stable.EIGENVALUE_WINDOW`). A request outside it is evaluated on the
full spectrum."""

ANALYTIC_HALF_WIDTH = math.pi / 2
r"""The half-width :math:`a` of the strip :math:`|\operatorname{Im}u|\le a` used in the bound:
half the distance to the nearest singularities (:math:`\operatorname{Im}u=\pm\pi`, where
:math:`\lambda=-\sigma_k^2`), so the complex values of the per-eigenvalue maps stay of the size of
their real ones."""


def error_bound_factor(
    bin_width: float = BIN_WIDTH, nodes_per_bin: int = NODES_PER_BIN, a: float = ANALYTIC_HALF_WIDTH
) -> float:
    r"""The factor :math:`4(h/4a)^{2k}` of the bound: the error of a bin over its mass times the
    supremum of :math:`|f|` on the bin's :math:`a`-neighbourhood in the complex plane
    (docs/theory/gaussian.md#compressed-spectra)."""
    return float(4.0 * (bin_width / (4.0 * a)) ** (2 * nodes_per_bin))


@dataclass(frozen=True)
class CompressedSpectrum:
    r"""A spectrum as weighted nodes: :math:`\sum_i f(\lambda_i)\approx\sum_j w_j f(\lambda_j')`.

    Attributes
    ----------
    nodes
        The node eigenvalues :math:`\lambda_j'`, descending.
    weights
        Their weights :math:`w_j>0` (float64; they sum to :attr:`size`).
    size
        The number of eigenvalues :math:`d` of the full spectrum.
    distinct
        How many of them are distinct.
    exact
        ``True`` when the nodes are the distinct eigenvalues and the weights their counts: an
        exact rewriting of every sum, no approximation.
    bin_width, nodes_per_bin
        :math:`h` (in :math:`\ln\lambda`) and :math:`k` of the Gauss rule (0 when exact).
    """

    nodes: FloatArray
    weights: FloatArray
    size: int
    distinct: int
    exact: bool
    bin_width: float
    nodes_per_bin: int

    def as_dict(self) -> dict[str, Any]:
        """The compression as JSON-ready fields (what a report states about it)."""
        return {
            "method": "exact grouping" if self.exact else "Gauss nodes per bin in log eigenvalue",
            "eigenvalues": self.size,
            "distinct": self.distinct,
            "nodes": int(self.nodes.size),
            "bin_width": self.bin_width,
            "nodes_per_bin": self.nodes_per_bin,
            "rtol": 0.0 if self.exact else RTOL,
        }


def _exact(values: FloatArray, counts: Any, size: int) -> CompressedSpectrum:
    return CompressedSpectrum(
        values, np.asarray(counts, dtype=np.float64), size, int(values.size), True, 0.0, 0
    )


def exact_grouping(eigenvalues: SpectrumLike) -> CompressedSpectrum:
    """The spectrum as its distinct eigenvalues with their counts: an exact rewriting of every
    sum over eigenvalues (:attr:`CompressedSpectrum.exact`)."""
    lam = as_eigenvalues(eigenvalues)
    values, counts = distinct_eigenvalues(lam)
    return _exact(values, counts, lam.size)


def _gauss_per_bin(
    t: FloatArray, w: FloatArray, starts: Any, k: int
) -> tuple[FloatArray, FloatArray]:
    r"""The k-point Gauss rules of the discrete measures :math:`\sum w\,\delta_t` on the bins
    starting at ``starts`` (every bin with more than k points; ``t`` scaled to [-1, 1] per bin):
    the discrete Stieltjes procedure for the Jacobi matrices of all bins at once, then
    Golub-Welsch (nodes the eigenvalues, weights the mass times the squared first components)."""
    nb = starts.size
    bin_of = np.repeat(np.arange(nb), np.diff(np.append(starts, t.size)))
    alpha = np.zeros((nb, k))
    beta = np.zeros((nb, k))
    p_prev = np.zeros_like(t)
    p = np.ones_like(t)
    norm_prev = np.ones(nb)
    mass = np.add.reduceat(w, starts)
    norm = mass.copy()
    for j in range(k):
        alpha[:, j] = np.add.reduceat(w * t * p * p, starts) / norm
        if j:
            beta[:, j] = norm / norm_prev
        if j == k - 1:
            break
        p_next = (t - alpha[bin_of, j]) * p - (beta[bin_of, j] * p_prev if j else 0.0)
        p_prev, p = p, p_next
        norm_prev, norm = norm, np.add.reduceat(w * p * p, starts)
    jac = np.zeros((nb, k, k))
    idx = np.arange(k)
    jac[:, idx, idx] = alpha
    off = np.sqrt(beta[:, 1:])
    jac[:, idx[:-1], idx[1:]] = off
    jac[:, idx[1:], idx[:-1]] = off
    nodes, vec = np.linalg.eigh(jac)
    weights = mass[:, None] * vec[:, 0, :] ** 2
    return nodes, weights


def compress_spectrum(
    eigenvalues: SpectrumLike,
    *,
    bin_width: float = BIN_WIDTH,
    nodes_per_bin: int = NODES_PER_BIN,
) -> CompressedSpectrum:
    r"""The compressed spectrum: per bin of width ``bin_width`` in :math:`\ln\lambda`, the
    ``nodes_per_bin``-point Gauss rule of the eigenvalues in it.

    A bin with at most ``nodes_per_bin`` distinct eigenvalues keeps them with their counts (exact);
    a spectrum whose compression would not have fewer nodes than distinct values is returned as
    its exact grouping (:attr:`CompressedSpectrum.exact`). The nodes of a bin lie inside it, the
    weights are positive and sum to the bin's count, and every polynomial in :math:`\ln\lambda` of
    degree :math:`\le 2k-1` has the same sum over the nodes as over the bin's eigenvalues
    (docs/theory/gaussian.md#compressed-spectra).

    Parameters
    ----------
    eigenvalues
        The spectrum (any size; equal values are grouped exactly first).
    bin_width
        :math:`h>0`, in :math:`\ln\lambda`.
    nodes_per_bin
        :math:`k\ge1`.

    Returns
    -------
    CompressedSpectrum

    Examples
    --------
    >>> import numpy as np
    >>> from symsched.gaussian.compress import compress_spectrum
    >>> lam = np.geomspace(1e-6, 10.0, 100_000)
    >>> c = compress_spectrum(lam)
    >>> c.nodes.size, c.exact, float(c.weights.sum())
    (124, False, 100000.0)
    >>> bool(np.isclose(c.weights @ np.log(c.nodes) ** 3, np.sum(np.log(lam) ** 3), rtol=1e-12))
    True
    """
    if not (isinstance(bin_width, (int, float)) and math.isfinite(bin_width) and bin_width > 0):
        raise ValueError(f"bin_width must be a finite number > 0, got {bin_width!r}")
    if isinstance(nodes_per_bin, bool) or not isinstance(nodes_per_bin, int) or nodes_per_bin < 1:
        raise ValueError(f"nodes_per_bin must be an integer >= 1, got {nodes_per_bin!r}")
    lam = as_eigenvalues(eigenvalues)
    values, counts = distinct_eigenvalues(lam)
    asc = values[::-1]
    u = np.log(asc)  # ascending
    c = counts[::-1].astype(np.float64)
    which = np.floor((u - u[0]) / bin_width).astype(np.int64)
    starts = np.flatnonzero(np.diff(which, prepend=-1))
    sizes = np.diff(np.append(starts, u.size))
    k = nodes_per_bin
    if int(np.minimum(sizes, k).sum()) * 2 > values.size:  # compression would not pay
        return _exact(values, counts, lam.size)
    big = sizes > k
    keep = np.repeat(~big, sizes)  # points of small bins stay as they are
    out_lam, out_w = [asc[keep]], [c[keep]]
    if big.any():
        sel = np.repeat(big, sizes)
        ub, cb = u[sel], c[sel]
        b_starts = np.concatenate([[0], np.cumsum(sizes[big])[:-1]])
        lo = np.repeat(ub[b_starts], sizes[big])
        hi = np.repeat(ub[np.append(b_starts[1:], ub.size) - 1], sizes[big])
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        nodes, weights = _gauss_per_bin((ub - mid) / half, cb, b_starts, k)
        mids, halves = mid[b_starts][:, None], half[b_starts][:, None]
        # Gauss nodes lie strictly inside the bin's span; clip float64 rounding at its ends
        node_u = np.clip(mids + halves * nodes, mids - halves, mids + halves)
        # the bin's own ends bound its nodes in lambda too (exp of a clipped log may round out)
        ab = asc[sel]
        lam_lo = ab[b_starts][:, None]
        lam_hi = ab[np.append(b_starts[1:], ab.size) - 1][:, None]
        out_lam.append(np.clip(np.exp(node_u), lam_lo, lam_hi).ravel())
        out_w.append(weights.ravel())
    nl, nw = np.concatenate(out_lam), np.concatenate(out_w)
    order = np.argsort(-nl)
    return CompressedSpectrum(
        nl[order], nw[order], lam.size, int(values.size), False, float(bin_width), k
    )


def spectrum_for_optimiser(
    eigenvalues: SpectrumLike, steps: int, exact_spectrum: bool = False
) -> CompressedSpectrum:
    r"""The spectrum an optimiser searches on: :func:`compress_spectrum` of ``eigenvalues``, or
    their :func:`exact_grouping` with ``exact_spectrum`` or outside the stated grid class (more
    than :data:`MAX_STEPS` steps)."""
    if exact_spectrum or steps > MAX_STEPS:
        return exact_grouping(eigenvalues)
    return compress_spectrum(eigenvalues)


def node_bound(eigenvalues: FloatArray, exact_spectrum: bool = False) -> int:
    """An upper bound on the size of the spectrum :func:`spectrum_for_optimiser` returns, without
    building it (what a memory estimate needs): ``d`` with ``exact_spectrum``, else
    :data:`NODES_PER_BIN` per bin of :data:`BIN_WIDTH` over the log range, at most ``d``."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    d = int(lam.size)
    if exact_spectrum or not d or not bool((lam > 0).all()):
        return d
    span = float(np.log(lam.max()) - np.log(lam.min()))
    return min(d, (int(span / BIN_WIDTH) + 1) * NODES_PER_BIN)


def check_fallback_memory(bytes_per_value: float, exact: CompressedSpectrum, what: str) -> None:
    """Refuse a fallback to the exact grouping ``exact`` whose search would exceed the memory
    budget (:func:`symsched._budget.check_memory`): ``bytes_per_value`` per distinct eigenvalue.
    A compressed search needs little memory at any size, so its fallback is the one request that
    may not fit; it is refused before it allocates, never attempted."""
    from symsched._budget import check_memory

    check_memory(
        bytes_per_value * exact.nodes.size,
        flag="--eigenvalues",
        what=f"{what} on the full spectrum ({exact.nodes.size} distinct eigenvalues; the "
        "compressed spectrum failed its check against it)",
    )


@dataclass(frozen=True)
class Agreement:
    """A criterion of the answer on the compressed and on the full spectrum.

    Attributes
    ----------
    compressed, full
        The two values.
    relative_error
        :math:`|F_c-F|/|F|` (0 when both are 0).
    ok
        Whether it is within :data:`RTOL` (or both values are negligible: :func:`agreement`).
    """

    compressed: float
    full: float
    relative_error: float
    ok: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "compressed": self.compressed,
            "full": self.full,
            "relative_error": self.relative_error,
            "within_rtol": self.ok,
        }


def agreement(compressed: float, full: float, rtol: float = RTOL, floor: float = 0.0) -> Agreement:
    """Compare a criterion on the compressed and on the full spectrum (:class:`Agreement`).

    They agree when the relative error is within ``rtol``, or when both values are at most
    ``floor``: the value below which an optimiser treats the criterion as 0 (e.g.
    :data:`symsched.gaussian.sampler_optimum.CRITERION_FLOOR`), where a relative comparison only
    measures float64 rounding of a difference of nearly equal maps."""
    if full == compressed:
        err = 0.0
    elif full == 0 or not math.isfinite(full):
        err = math.inf
    else:
        err = abs(compressed - full) / abs(full)
    negligible = max(abs(compressed), abs(full)) <= floor
    return Agreement(float(compressed), float(full), float(err), bool(err <= rtol or negligible))


def compression_params(result: Any) -> dict[str, Any]:
    """What a report states about the spectrum an optimiser worked on: the compression
    (:meth:`CompressedSpectrum.as_dict`), the answer's criterion on the compressed and on the full
    spectrum (:meth:`Agreement.as_dict`) and whether the search fell back to the full spectrum.
    ``result`` has the attributes ``compression``, ``agreement`` and ``fell_back`` (a
    :class:`~symsched.gaussian.sampler_optimum.SamplerOptimum` or
    :class:`~symsched.gaussian.variational.KLOptimum`)."""
    comp: CompressedSpectrum | None = result.compression
    agree: Agreement | None = result.agreement
    return {
        "spectrum_compression": None if comp is None else comp.as_dict(),
        "compression_check": None if agree is None else agree.as_dict(),
        "fell_back_to_full_spectrum": bool(result.fell_back),
    }
