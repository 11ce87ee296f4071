r"""The exact optimal shift of N uniform flow steps, for a Gaussian spectrum.

A flow sampler's default grid is N uniform steps in flow time, :math:`t_k=1-k/N`, shifted; with
:math:`c_k=(N-k)/k` the noise levels :math:`\rho=t/(1-t)` of the uniform steps, SD3's shift
:math:`s` gives :math:`\rho_k=s\,c_k` (:func:`symsched.flow.derive.linear_shift_rho`) and the
exponential time shift of dynamic shifting gives :math:`\rho_k=e^\mu c_k^\sigma`
(:func:`symsched.flow.derive.exponential_shift_rho`; every diffusers pipeline uses
:math:`\sigma=1`, i.e. :math:`s=e^\mu`). Euler on these grids is DDIM
(:func:`symsched.flow.derive.euler_flow_minus_ddim`), so the exact KL and coupling error of
:mod:`symsched.gaussian` apply, and for a fixed exponent they are smooth functions of
:math:`\theta=\ln s=\mu` alone (docs/theory/flow.md#the-optimal-shift).

:func:`optimal_shift` minimises one of them over :math:`\theta` and certifies the result: a
log-spaced scan of :data:`SCAN_POINTS` shifts over :data:`LOG_SHIFT_RANGE` brackets the best
basin, a safeguarded Newton (DDIM under its KL: the exact first and second derivatives below) or
bounded Brent search (any other sampler or criterion) refines it, and the result records the
scan's best, the derivative and the curvature at the optimum. :func:`optimal_shifts` does the same
for a sequence of step counts, each warm-started from the previous optimum.

**DDIM under its KL in closed form.** With :math:`z=\ln(\rho^2/\lambda)` and
:math:`\operatorname{sp}(z)=\ln(1+e^z)`, one DDIM step :math:`\rho_a\to\rho_b` has gain
:math:`(\lambda+\rho_a\rho_b)/(\lambda+\rho_a^2)` and the first step from pure noise leaves
variance :math:`\rho_1^2`, so

.. math::
   \ln r=\ln\frac{\rho_1^2}{\lambda}+2\sum_{k=1}^{N-2}\operatorname{sp}
   \Big(\ln\frac{\rho_k\rho_{k+1}}{\lambda}\Big)-2\sum_{k=1}^{N-1}\operatorname{sp}
   \Big(\ln\frac{\rho_k^2}{\lambda}\Big),

(the last step to 0 contributes only its :math:`-\operatorname{sp}` term), every argument is
:math:`2\theta` plus a constant, and :math:`\operatorname{sp}'=\operatorname{expit}`,
:math:`\operatorname{expit}'=e^{-|z|}/(1+e^{-|z|})^2`: the derivatives in :math:`\theta` cost one
exponential and one ``log1p`` per step and eigenvalue, with no cancellation and no overflow
anywhere in the input range. The test suite checks this form against
:func:`symsched.gaussian.exact.log_variance_ratios`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symsched import numeric
from symsched._typing import FloatArray, KLDirection, SpectrumLike
from symsched._validate import as_eigenvalues, check_choice, check_steps, distinct_eigenvalues
from symsched.flow import derive
from symsched.gaussian.compress import (
    MAX_STEPS,
    Agreement,
    CompressedSpectrum,
    agreement,
    check_fallback_memory,
    exact_grouping,
    spectrum_for_optimiser,
)
from symsched.gaussian.coupling import Criteria, criteria, grouped_coupling_error
from symsched.gaussian.exact import half_phi, kl_from_log_ratios, log_variance_ratios
from symsched.gaussian.sampler_optimum import (
    CRITERION_FLOOR,
    OBJECTIVES,
    Objective,
    default_objective,
)
from symsched.schedules.families import Family
from symsched.symbols import u

__all__ = [
    "EXPONENT_RANGE",
    "LOG_SHIFT_RANGE",
    "SCAN_POINTS",
    "FamilyGap",
    "ShiftOptimum",
    "expansion_shift",
    "family_gap",
    "flow_shift_family",
    "flow_times",
    "limit_shift",
    "optimal_exponential_shift",
    "optimal_shift",
    "optimal_shifts",
    "shifted_uniform_grid",
    "uniform_levels",
]

_S = sp.Symbol("flow_shift", positive=True)

LOG_SHIFT_RANGE = (math.log(1e-4), math.log(1e4))
"""The search bracket of :math:`\\ln s`: shifts from 1e-4 to 1e4 (SD3 uses 3, Flux
:math:`e^\\mu` up to about 3.2 at 1024 px, Flux.2 more at few steps); an optimum on its edge is
refused (the spectrum is then not on the model's data scale)."""
SCAN_POINTS = 121
"""Log-spaced shifts of the certificate scan (a step of 0.15 in :math:`\\ln s`, finer than the
width of every basin met on the shipped spectra, whose curvature in :math:`\\ln s` is O(1))."""
_NEWTON_TOL = 1e-10  # |Newton step| in ln s at convergence (the optimum to ~1e-10 relative)
_WARM_SPAN = 1.0  # a warm start searches ln s within +-1 of the previous step count's optimum


def uniform_levels(steps: int, exponent: float = 1.0) -> FloatArray:
    r""":math:`c_k^\sigma` with :math:`c_k=(N-k)/k`: the noise levels of N uniform flow steps
    (:math:`t_k=1-k/N`) before the shift, raised to the exponential shift's exponent ``sigma``;
    ``inf`` at k = 0 and 0 at k = N."""
    n = check_steps(steps)
    if not (math.isfinite(exponent) and exponent > 0):
        raise ValueError(f"exponent must be a finite number > 0, got {exponent}")
    k = np.arange(n + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):
        c = np.where(k == 0, math.inf, (n - k) / np.maximum(k, 1.0))
    out: FloatArray = c if exponent == 1.0 else c**exponent
    return out


def shifted_uniform_grid(steps: int, shift: float, exponent: float = 1.0) -> FloatArray:
    r"""The noise levels of N uniform flow steps, shifted: :math:`\rho_k=s\,c_k^\sigma`.

    Parameters
    ----------
    steps
        N.
    shift
        :math:`s>0` (SD3's ``shift``; :math:`e^\mu` for the exponential shift).
    exponent
        :math:`\sigma` of the exponential time shift (1: the linear shift).

    Returns
    -------
    FloatArray
        N+1 levels from ``inf`` (t = 1) to 0 (t = 0).
    """
    if not (math.isfinite(shift) and shift > 0):
        raise ValueError(f"shift must be a finite number > 0, got {shift}")
    c = uniform_levels(steps, exponent)
    with np.errstate(invalid="ignore", over="ignore"):
        out: FloatArray = np.where(np.isinf(c), math.inf, shift * c)
    if bool(np.isinf(out[1:]).any()) or (out.size > 2 and bool((out[1:-1] == 0).any())):
        raise ValueError(
            f"shift {shift:g} with exponent {exponent:g} takes a level of {steps} uniform steps "
            "outside the float64 range; use a shift nearer 1"
        )
    return out


def flow_times(sigmas: FloatArray) -> FloatArray:
    r"""Flow times :math:`t=\rho/(1+\rho)` of noise levels (``inf -> 1``)."""
    rho = np.asarray(sigmas, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(np.isinf(rho), 1.0, rho / (1.0 + rho))
    return out


@dataclass(frozen=True)
class ShiftOptimum:
    r"""The optimal shift of one step count, with its certificate.

    Attributes
    ----------
    shift
        :math:`s^\star`.
    mu
        :math:`\ln s^\star`: the exponential shift's :math:`\mu` (with its ``exponent``).
    exponent
        :math:`\sigma` of the family (1: the linear shift, and every pipeline's choice).
    steps, sampler, objective, kl_direction
        What was optimised: ``objective`` ``"kl"`` (in ``kl_direction``) or ``"coupling"``.
    value
        The criterion at :math:`s^\star` on the full spectrum (:attr:`criteria` holds all
        three there).
    sigmas, t
        The optimal grid: noise levels and flow times.
    gradient, curvature
        First and second derivative of the criterion in :math:`\ln s` at :math:`s^\star` (exact
        for DDIM under its KL, central differences otherwise): ~0 and > 0 at a minimum.
    scan_best
        The best shift of the certificate scan (:data:`SCAN_POINTS` values), or ``None`` when
        the optimum was warm-started from a neighbouring step count (:func:`optimal_shifts`).
    eigenvalues
        The spectrum optimised for.
    compression
        The spectrum the search worked on: the compressed spectrum
        (:func:`symsched.gaussian.compress.compress_spectrum`) or the exact grouping of equal
        eigenvalues (``exact_spectrum``, or after a fallback).
    agreement
        The criterion at :math:`s^\star` on that spectrum against the full one
        (:func:`symsched.gaussian.compress.agreement`).
    fell_back
        Whether the compressed search's answer disagreed with the full spectrum beyond
        :data:`~symsched.gaussian.compress.RTOL`, so the search was redone on the exact grouping.
    """

    shift: float
    mu: float
    exponent: float
    steps: int
    sampler: str
    objective: Objective
    kl_direction: KLDirection
    value: float
    sigmas: FloatArray
    t: FloatArray
    gradient: float
    curvature: float
    scan_best: float | None
    eigenvalues: FloatArray = field(repr=False)
    criteria: Criteria = field(repr=False)
    compression: CompressedSpectrum | None = field(default=None, repr=False)
    agreement: Agreement | None = None
    fell_back: bool = False

    @property
    def kl(self) -> float:
        """KL(data || output) at the optimum (the default criterion)."""
        return self.criteria.kl_source_output


_Derivs = tuple[float, float, float]


class _Criterion:
    r"""The criterion of one step count as a function of :math:`\theta=\ln s`, on a weighted
    spectrum: the compressed one, or the distinct eigenvalues with their multiplicities (an exact
    regrouping of the sum)."""

    def __init__(
        self,
        comp: CompressedSpectrum,
        steps: int,
        sampler: str,
        objective: Objective,
        kl_direction: KLDirection,
        exponent: float,
    ) -> None:
        if steps < 2:
            raise ValueError(
                "the shift family needs --steps >= 2: one step from pure noise to 0 outputs 0 "
                "whatever the shift"
            )
        self.comp = comp
        self.values, self.counts = comp.nodes, comp.weights
        self.n, self.sampler, self.objective = steps, sampler, objective
        self.kl_direction, self.exponent = kl_direction, exponent
        self.exact_derivatives = sampler == "ddim" and objective == "kl"
        if self.exact_derivatives:
            log_c = np.log(uniform_levels(steps, exponent)[1:-1])  # c_1 .. c_{N-1}
            u_half = -0.5 * np.log(self.values)[None, :]
            # the arguments z/2 of the module's form at theta = 0, one row per step (so that the
            # sums over the steps run over contiguous rows), and those sums
            self._halves = (
                u_half + 0.5 * (log_c[:-1] + log_c[1:])[:, None],
                u_half + log_c[:, None],
            )
            self._half_sums = tuple(h.sum(axis=0) for h in self._halves)
            self._buffers = tuple(np.empty_like(self._halves[1]) for _ in range(3))
            self._first = -np.log(self.values) + 2.0 * log_c[0]
        else:
            self._base = uniform_levels(steps, exponent)

    def grid(self, theta: float) -> FloatArray:
        return shifted_uniform_grid(self.n, math.exp(theta), self.exponent)

    def _sign(self) -> float:
        return -1.0 if self.kl_direction == "kl_source_output" else 1.0

    def __call__(self, theta: float) -> float:
        if self.exact_derivatives:
            return self.derivatives(theta)[0]
        grid = self.grid(theta)
        if self.objective == "kl":
            lr = np.asarray(
                log_variance_ratios(self.values, grid, sampler=self.sampler), dtype=np.float64
            )
            kso, kos = kl_from_log_ratios(lr, self.counts)
            return kso if self.kl_direction == "kl_source_output" else kos
        return grouped_coupling_error(self.values, self.counts, grid, sampler=self.sampler)

    def derivatives(self, theta: float) -> _Derivs:
        """``(f, f', f'')`` in :math:`\\theta`: exact for DDIM under its KL (the module's form),
        central differences of the exact criterion otherwise."""
        if not self.exact_derivatives:
            h = 1e-3
            f0, fp, fm = self(theta), self(theta + h), self(theta - h)
            return f0, (fp - fm) / (2 * h), (fp - 2 * f0 + fm) / h**2
        # sp(z) = z/2 + |z|/2 + ln 2 - log1p(|tanh(z/2)|), sp' = (1 + tanh(z/2))/2 and
        # sp'' = (1 - tanh(z/2)^2)/4: one tanh and one log1p per step and eigenvalue
        lr = self._first + 2.0 * theta
        d1 = np.full(self.values.shape, 2.0)
        d2 = np.zeros(self.values.shape)
        for base, total, sign in zip(self._halves, self._half_sums, (2.0, -2.0), strict=True):
            m = base.shape[0]
            if m == 0:
                continue
            zh, th, scratch = (b[:m] for b in self._buffers)  # reused: no page faults per call
            np.add(base, theta, out=zh)
            np.tanh(zh, out=th)
            np.abs(zh, out=scratch)
            soft = total + m * theta + scratch.sum(axis=0)
            np.abs(th, out=scratch)
            soft -= _sum_log1p(scratch)
            lr = lr + sign * (soft + m * math.log(2.0))
            d1 = d1 + sign * (m + th.sum(axis=0))
            d2 = d2 + sign * (m - np.einsum("ij,ij->j", th, th))
        x = self._sign() * lr  # the KL of one direction is half_phi(x)
        with np.errstate(over="ignore", invalid="ignore"):
            ex = np.exp(x)
            f = float(np.sum(self.counts * half_phi(x)))
            dx1, dx2 = self._sign() * d1, self._sign() * d2
            g = float(np.sum(self.counts * 0.5 * np.expm1(x) * dx1))
            h2 = float(np.sum(self.counts * 0.5 * (ex * dx1**2 + np.expm1(x) * dx2)))
        return f, g, h2


def _sum_log1p(x: FloatArray) -> FloatArray:
    """Column sums of ``log1p(x)`` for ``x`` in [0, 1] (``x`` is overwritten) as logs of
    products: one logarithm per column and block of 512 rows instead of one per entry; each
    product lies in [1, 2^512] and is accurate to ~512 roundings, an absolute error below 1e-13
    in its logarithm."""
    x += 1.0  # in place: x is the caller's scratch
    out = np.zeros(x.shape[1])
    for j in range(0, x.shape[0], 512):
        out += np.log(np.prod(x[j : j + 512], axis=0))
    return out


def _scan(f: Callable[[float], float]) -> tuple[FloatArray, FloatArray]:
    lo, hi = LOG_SHIFT_RANGE
    thetas = np.linspace(lo, hi, SCAN_POINTS)
    with np.errstate(all="ignore"):
        values = np.array([f(float(v)) for v in thetas])
    return thetas, values


def _edge_error(exponent: float) -> ValueError:
    lo, hi = LOG_SHIFT_RANGE
    return ValueError(
        f"the optimal shift lies outside [{math.exp(lo):g}, {math.exp(hi):g}] for this spectrum"
        f" (exponent {exponent:g}); rescale the spectrum to the model's data scale (mean "
        "eigenvalue = per-coordinate variance, 1 for unit-variance latents)"
    )


def _newton(crit: _Criterion, theta: float, lo: float, hi: float) -> tuple[float, _Derivs] | None:
    """Safeguarded Newton in ``[lo, hi]`` from ``theta``: the minimiser and its derivatives, or
    ``None`` if it does not converge."""
    f, g, h = crit.derivatives(theta)
    for _ in range(60):
        if h > 0 and abs(g / h) < _NEWTON_TOL:
            return theta, (f, g, h)
        step = -g / h if h > 0 else -math.copysign(0.25, g)
        step = max(-0.5, min(0.5, step))
        for _ in range(40):  # backtrack until the criterion does not increase
            cand = min(hi, max(lo, theta + step))
            fc, gc, hc = crit.derivatives(cand)
            if fc <= f or abs(step) < _NEWTON_TOL:
                break
            step /= 2
        theta, f, g, h = cand, fc, gc, hc
    return None


def _brent(crit: _Criterion, lo: float, hi: float) -> float:
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(crit, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    return float(res.x)


def _refine(crit: _Criterion, theta0: float, lo: float, hi: float) -> tuple[float, _Derivs]:
    if crit.exact_derivatives:
        out = _newton(crit, theta0, lo, hi)
        if out is not None:
            return out
    theta = _brent(crit, lo, hi)
    return theta, crit.derivatives(theta)


def _found(crit: _Criterion) -> tuple[tuple[float, _Derivs], float]:
    """The certified search of one criterion: the scan over :data:`LOG_SHIFT_RANGE`, then the
    refinement around its best; the optimum with its derivatives and the scan's best shift."""
    thetas, values = _scan(crit)
    i = int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))
    if i in (0, thetas.size - 1):
        raise _edge_error(crit.exponent)
    found = _refine(crit, float(thetas[i]), float(thetas[i - 1]), float(thetas[i + 1]))
    return found, math.exp(float(thetas[i]))


def _full_value(crt: Criteria, crit: _Criterion) -> float:
    return crt.coupling if crit.objective == "coupling" else crt.value(crit.kl_direction)


def _result(
    lam: FloatArray,
    crit: _Criterion,
    found: tuple[float, _Derivs],
    scan_best: float | None,
    window: tuple[float, float] | None = None,
) -> ShiftOptimum:
    """The answer of a search on ``crit``'s spectrum, re-evaluated on the full spectrum ``lam``.
    When the two values disagree beyond the compression's tolerance, the search is redone on the
    exact grouping (within ``window``, else the certified scan) and the result says so."""
    theta, _ = found
    grid = crit.grid(theta)
    crt = criteria(lam, grid, sampler=crit.sampler)
    agree = agreement(found[1][0], _full_value(crt, crit), floor=CRITERION_FLOOR)
    fell_back = False
    if not agree.ok and not crit.comp.exact:
        exact = exact_grouping(lam)
        check_fallback_memory(12 * 8.0 * crit.n, exact, "the optimal shift")
        crit = _Criterion(
            exact,
            crit.n,
            crit.sampler,
            crit.objective,
            crit.kl_direction,
            crit.exponent,
        )
        if window is None:
            found, scan = _found(crit)
            scan_best = scan if scan_best is not None else None
        else:
            found = _refine(crit, theta, *window)
        theta, grid, fell_back = found[0], crit.grid(found[0]), True
        crt = criteria(lam, grid, sampler=crit.sampler)
    theta, (_, g, h) = found
    return ShiftOptimum(
        shift=math.exp(theta),
        mu=theta,
        exponent=crit.exponent,
        steps=crit.n,
        sampler=crit.sampler,
        objective=crit.objective,
        kl_direction=crit.kl_direction,
        value=_full_value(crt, crit),
        sigmas=grid,
        t=flow_times(grid),
        gradient=g,
        curvature=h,
        scan_best=scan_best,
        eigenvalues=lam,
        criteria=crt,
        compression=crit.comp,
        agreement=agree,
        fell_back=fell_back,
    )


def _criterion(
    eigenvalues: SpectrumLike,
    steps: int,
    sampler: str,
    objective: Objective | None,
    kl_direction: KLDirection,
    exponent: float,
    exact_spectrum: bool = False,
    comp: CompressedSpectrum | None = None,
) -> tuple[FloatArray, _Criterion]:
    """The validated spectrum and the criterion on the spectrum the search works on: ``comp``
    when given (a sweep compresses once), else
    :func:`~symsched.gaussian.compress.spectrum_for_optimiser`."""
    from symsched.samplers import get_sampler

    lam = as_eigenvalues(eigenvalues)
    n = check_steps(steps)
    smp = get_sampler(sampler)
    smp.check_grid(shifted_uniform_grid(max(n, 2), 1.0))  # the family starts at pure noise
    obj = default_objective(sampler) if objective is None else objective
    check_choice(obj, "objective", OBJECTIVES)
    check_choice(kl_direction, "kl_direction", ("kl_source_output", "kl_output_source"))
    if obj == "coupling" and smp.stochastic:
        raise ValueError(
            f"objective 'coupling' with the stochastic sampler {sampler!r}: its injected noise "
            "dominates the coupling error, so its minimiser says nothing about the schedule; "
            "use objective 'kl'"
        )
    if comp is None:
        comp = spectrum_for_optimiser(lam, n, exact_spectrum)
    return lam, _Criterion(comp, n, sampler, obj, kl_direction, float(exponent))


def optimal_shift(
    eigenvalues: SpectrumLike,
    steps: int,
    *,
    sampler: str = "ddim",
    objective: Objective | None = None,
    kl_direction: KLDirection = "kl_source_output",
    exponent: float = 1.0,
    exact_spectrum: bool = False,
) -> ShiftOptimum:
    r"""The shift :math:`s^\star` of N uniform flow steps that minimises the exact criterion.

    The search runs on the compressed spectrum
    (:func:`symsched.gaussian.compress.compress_spectrum`,
    docs/theory/gaussian.md#compressed-spectra) and its answer is re-evaluated on the full
    spectrum; it is redone on the exact grouping of equal eigenvalues when the two differ by
    more than :data:`~symsched.gaussian.compress.RTOL` (:attr:`ShiftOptimum.fell_back`).

    Parameters
    ----------
    eigenvalues
        The covariance spectrum in the model's scaled state (mean eigenvalue 1 for
        unit-variance latents).
    steps
        N (>= 2).
    sampler
        The sampler: ``ddim`` is the flow Euler sampler
        (:func:`symsched.flow.derive.euler_flow_minus_ddim`); any sampler that starts from pure
        noise.
    objective
        ``"kl"`` or ``"coupling"``; default
        :func:`symsched.gaussian.sampler_optimum.default_objective` (``"kl"`` for DDIM).
    kl_direction
        The KL direction of the ``kl`` objective (default KL(data || output)).
    exponent
        :math:`\sigma` of the exponential time shift :math:`\rho\mapsto e^\mu\rho^\sigma`
        (1: SD3's shift and every pipeline's dynamic shift; then :math:`\mu=\ln s`).
    exact_spectrum
        Search on the exact grouping of equal eigenvalues instead of the compressed spectrum.

    Returns
    -------
    ShiftOptimum

    Raises
    ------
    ValueError
        If the arguments are invalid or the optimum lies on the edge of
        :data:`LOG_SHIFT_RANGE`.

    Examples
    --------
    >>> from symsched.flow.shift import optimal_shift
    >>> opt = optimal_shift([0.5, 1.0, 2.0], 10)
    >>> round(opt.shift, 4), opt.curvature > 0
    (0.8776, True)
    """
    lam, crit = _criterion(
        eigenvalues, steps, sampler, objective, kl_direction, exponent, exact_spectrum
    )
    found, scan_best = _found(crit)
    return _result(lam, crit, found, scan_best)


def optimal_shifts(
    eigenvalues: SpectrumLike,
    steps: Iterable[int],
    *,
    sampler: str = "ddim",
    objective: Objective | None = None,
    kl_direction: KLDirection = "kl_source_output",
    exponent: float = 1.0,
    exact_spectrum: bool = False,
) -> list[ShiftOptimum]:
    r""":func:`optimal_shift` for a sequence of step counts, each warm-started.

    The first step count is scanned and certified as in :func:`optimal_shift`; each next one
    starts from the previous optimum and searches :math:`\ln s` within :math:`\pm1` of it
    (:math:`s^\star` moves by O(1/N) between neighbouring N), falling back to the full scan when
    the optimum reaches that window's edge. A warm-started result has ``scan_best = None``: its
    certificate is local (zero derivative, positive curvature).

    Parameters
    ----------
    eigenvalues, sampler, objective, kl_direction, exponent, exact_spectrum
        As :func:`optimal_shift` (the spectrum is compressed once for the whole sweep).
    steps
        The step counts, in the order searched (increasing is fastest).

    Returns
    -------
    list[ShiftOptimum]
        One per step count, in order.
    """
    lam = as_eigenvalues(eigenvalues)
    spectra: dict[bool, CompressedSpectrum] = {}  # compressed once for the whole sweep

    def spectrum(n: int) -> CompressedSpectrum:
        key = exact_spectrum or n > MAX_STEPS
        if key not in spectra:
            spectra[key] = spectrum_for_optimiser(lam, n, key)
        return spectra[key]

    out: list[ShiftOptimum] = []
    lo_all, hi_all = LOG_SHIFT_RANGE
    for n in steps:
        args = (lam, n, sampler, objective, kl_direction, exponent)
        _, crit = _criterion(*args, comp=spectrum(check_steps(n)))
        if out:
            prev = out[-1].mu
            lo, hi = max(lo_all, prev - _WARM_SPAN), min(hi_all, prev + _WARM_SPAN)
            found = _refine(crit, min(hi, max(lo, _extrapolate(out, n))), lo, hi)
            theta = found[0]
            if min(theta - lo, hi - theta) >= 1e-6:  # inside the window: a local optimum
                out.append(_result(lam, crit, found, None, window=(lo, hi)))
                continue
        # the first step count, or pressed against the window: the certified scan
        found, scan_best = _found(crit)
        out.append(_result(lam, crit, found, scan_best))
    return out


def _extrapolate(done: list[ShiftOptimum], n: int) -> float:
    """The next optimum's ln s predicted by the polynomial through the last (up to) three optima
    in N (Lagrange form): within ~1e-6 of it on smooth sweeps, so Newton needs one step."""
    pts = [(float(o.steps), o.mu) for o in done[-3:]]
    total = 0.0
    for i, (xi, yi) in enumerate(pts):
        w = 1.0
        for j, (xj, _) in enumerate(pts):
            if j != i:
                w *= (n - xj) / (xi - xj)
        total += w * yi
    return total


EXPONENT_RANGE = (0.25, 4.0)
r"""The search bracket of the exponential shift's exponent :math:`\sigma` (pipelines use 1)."""


def optimal_exponential_shift(
    eigenvalues: SpectrumLike,
    steps: int,
    *,
    sampler: str = "ddim",
    objective: Objective | None = None,
    kl_direction: KLDirection = "kl_source_output",
    exact_spectrum: bool = False,
) -> ShiftOptimum:
    r"""The best :math:`(\mu,\sigma)` of the exponential time shift :math:`\rho_k=e^\mu
    c_k^\sigma`: what freeing the exponent that every pipeline fixes at 1 would buy
    (docs/theory/flow.md#what-the-shift-family-loses).

    The profile :math:`\sigma\mapsto\min_\mu` (each inner minimum searched as in
    :func:`optimal_shift`, certified) is scanned at 17 log-spaced exponents over
    :data:`EXPONENT_RANGE` and refined by bounded Brent search around the best, each inner search
    warm-started from the last; all on one compressed spectrum, the answer re-evaluated on the
    full one.

    Parameters
    ----------
    eigenvalues, steps, sampler, objective, kl_direction, exact_spectrum
        As :func:`optimal_shift`.

    Returns
    -------
    ShiftOptimum
        With the optimal ``exponent``; its ``gradient`` and ``curvature`` are those in
        :math:`\mu` at that exponent, ``scan_best`` the scanned shift at the best scanned
        exponent.

    Raises
    ------
    ValueError
        As :func:`optimal_shift`, or if the best exponent lies on the bracket's edge.
    """
    from scipy.optimize import minimize_scalar

    lam = as_eigenvalues(eigenvalues)
    sigmas = np.geomspace(*EXPONENT_RANGE, 17)
    comp = spectrum_for_optimiser(lam, check_steps(steps), exact_spectrum)

    def search(exponent: float, theta0: float | None) -> tuple[_Criterion, tuple[float, _Derivs]]:
        _, crit = _criterion(lam, steps, sampler, objective, kl_direction, exponent, comp=comp)
        if theta0 is None:
            found, scan_best[exponent] = _found(crit)
            return crit, found
        return crit, _refine(crit, theta0, *LOG_SHIFT_RANGE)

    scan_best: dict[float, float] = {}
    scanned = [search(float(e), None) for e in sigmas]
    i = int(np.argmin([found[1][0] for _, found in scanned]))
    if i in (0, sigmas.size - 1):
        raise ValueError(
            f"the best exponent lies outside [{EXPONENT_RANGE[0]:g}, {EXPONENT_RANGE[1]:g}] "
            "for this spectrum and step count"
        )
    best = [scanned[i]]

    def profile(log_e: float) -> float:
        crit, found = search(math.exp(log_e), best[0][1][0])
        if found[1][0] < best[0][1][1][0]:
            best[0] = (crit, found)
        return found[1][0]

    lo, hi = math.log(float(sigmas[i - 1])), math.log(float(sigmas[i + 1]))
    minimize_scalar(profile, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    crit, found = best[0]
    return _result(lam, crit, found, scan_best[float(sigmas[i])], window=LOG_SHIFT_RANGE)


@dataclass(frozen=True)
class FamilyGap:
    r"""What the one-parameter shift family loses against the unrestricted optimum.

    Attributes
    ----------
    family
        The optimal shift (:func:`optimal_shift`).
    unrestricted_sigmas
        The exact finite-N optimum of the same criterion over all N-1 interior levels
        (:func:`symsched.gaussian.sampler_optimum.sampler_optimal` from pure noise to 0).
    unrestricted_value
        Its criterion.
    ratio
        ``family.value / unrestricted_value`` (>= 1 up to the optimisers' tolerance).
    """

    family: ShiftOptimum
    unrestricted_sigmas: FloatArray
    unrestricted_value: float
    ratio: float


def family_gap(
    eigenvalues: SpectrumLike,
    steps: int,
    *,
    sampler: str = "ddim",
    objective: Objective | None = None,
    kl_direction: KLDirection = "kl_source_output",
) -> FamilyGap:
    r"""The optimal shift against the unrestricted optimum of the same criterion
    (docs/theory/flow.md#what-the-shift-family-loses).

    Parameters
    ----------
    eigenvalues, steps, sampler, objective, kl_direction
        As :func:`optimal_shift` (linear shift, exponent 1).

    Returns
    -------
    FamilyGap
    """
    from symsched.gaussian.sampler_optimum import sampler_optimal

    fam = optimal_shift(
        eigenvalues, steps, sampler=sampler, objective=objective, kl_direction=kl_direction
    )
    free = sampler_optimal(
        eigenvalues,
        steps,
        0.0,
        math.inf,
        sampler=sampler,
        objective=fam.objective,
        kl_direction=kl_direction,
        init=fam.sigmas,
    )
    crt = criteria(eigenvalues, free.sigmas, sampler=sampler)
    value = crt.coupling if fam.objective == "coupling" else crt.value(kl_direction)
    ratio = fam.value / value if value > 0 else math.inf
    return FamilyGap(fam, np.asarray(free.sigmas, dtype=np.float64), value, ratio)


def flow_shift_family(shift_value: float) -> Family:
    r"""The schedule family :math:`\rho(u)=s(1-u)/u` of N uniform flow steps shifted by ``s``
    (:func:`shifted_uniform_grid` at :math:`u=k/N`), for the Euler–Maclaurin expansion
    (:func:`symsched.gaussian.asymptotics.coefficients`)."""
    if not (math.isfinite(shift_value) and shift_value > 0):
        raise ValueError(f"shift must be a finite number > 0, got {shift_value}")
    return Family(
        "flow-shift",
        _S * (1 - u) / u,
        {_S: float(shift_value)},
        {"shift": float(shift_value), "sigma_min": 0.0, "sigma_max": math.inf},
    )


def _bounded_log_min(f: Callable[[float], float]) -> tuple[float, float]:
    """``argmin ln s`` of ``f(ln s)``: the certificate scan, then Brent around its best; returns
    the minimiser and the scan's best."""
    from scipy.optimize import minimize_scalar

    thetas, values = _scan(f)
    i = int(np.argmin(values))
    if i in (0, thetas.size - 1):
        raise _edge_error(1.0)
    res = minimize_scalar(
        f,
        bounds=(float(thetas[i - 1]), float(thetas[i + 1])),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(res.x), float(thetas[i])


def limit_shift(eigenvalues: SpectrumLike) -> float:
    r"""The shift that minimises the leading :math:`N^{-2}` coefficient of the KL, i.e. the limit
    of :func:`optimal_shift` as :math:`N\to\infty` (Euler / DDIM).

    The coefficient is :math:`\sum_i J_i^2/4` with the closed form
    :math:`J_i=1+\tfrac\pi4(a_i+1/a_i)`, :math:`a_i=s/\sqrt{\lambda_i}`
    (:func:`symsched.flow.derive.shifted_flow_angle_length`); equal eigenvalues are grouped.
    """
    lam = as_eigenvalues(eigenvalues)
    values, counts = distinct_eigenvalues(lam)
    a = sp.Symbol("a", positive=True)
    j_of_a = numeric.lambdify((a,), derive.shifted_flow_angle_length(), "numpy")
    root = np.sqrt(values)

    def f(log_s: float) -> float:
        return float(np.sum(counts * j_of_a(math.exp(log_s) / root) ** 2))

    return math.exp(_bounded_log_min(f)[0])


def expansion_shift(eigenvalues: SpectrumLike, steps: int, order: int = 4) -> float:
    r"""The shift that minimises the Euler–Maclaurin KL expansion through :math:`N^{-\rm order}`
    at N steps (:func:`symsched.gaussian.asymptotics.predicted_kl`): the finite-N correction of
    :func:`limit_shift`, to compare with the exact :func:`optimal_shift`. Searched (Brent) within a
    factor 10 of the limit shift, where the expansion applies."""
    from scipy.optimize import minimize_scalar

    from symsched.gaussian import asymptotics

    lam = as_eigenvalues(eigenvalues)
    n = check_steps(steps)
    centre = math.log(limit_shift(lam))

    def f(log_s: float) -> float:
        co = asymptotics.coefficients(lam, flow_shift_family(math.exp(log_s)))
        return asymptotics.predicted_kl(co, n, order=order)

    span = math.log(10.0)
    res = minimize_scalar(
        f, bounds=(centre - span, centre + span), method="bounded", options={"xatol": 1e-8}
    )
    return math.exp(float(res.x))
