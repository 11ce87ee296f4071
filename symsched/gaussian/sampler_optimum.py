r"""The exact finite-N optimum of a grid for any sampler, under its KL or its coupling error.

[sun2026, §3-§5] give the exact output law of every sampler with a Gaussian recursion; this
module minimises a criterion of that law over the N-1 interior levels (in :math:`\ln\sigma`,
ends fixed) for the sampler the user runs (docs/theory/coupling.md#the-sampler-aware-optimum):

* ``objective="coupling"`` — the coupling error :math:`C` (:mod:`symsched.gaussian.coupling`),
  the default for every sampler but DDIM. It is sound: :math:`C=0` only for the exact flow map,
  and no grid can lower it by cancelling errors.
* ``objective="kl"`` — an exact KL direction. Sound for DDIM (every step only loses variance,
  :math:`r_i\le1`, [sun2026, §3]), but not for second-order samplers, whose ratios
  :math:`r_i` fall on both sides of 1: the optimiser can find grids whose output variance is
  right by accident, e.g. by merging levels, while every sample is far from its teacher.

The objective and its exact gradient are evaluated by automatic differentiation (torch, float64)
of the sampler's derived linear map (:func:`symsched.samplers._linear.propagate`), with equal
eigenvalues grouped (an exact rewriting of the sum); the result is re-evaluated on the full
spectrum by the cancellation-free float64 paths (:func:`symsched.gaussian.coupling.criteria`).
DDIM under its KL keeps the analytic optimiser :func:`symsched.gaussian.variational.kl_optimal`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from threadpoolctl import threadpool_limits

from symsched._typing import FloatArray, GridLike, KLDirection, SpectrumLike, Start
from symsched._validate import (
    as_eigenvalues,
    as_grid,
    check_choice,
    check_endpoints,
    check_steps,
    distinct_eigenvalues,
)
from symsched.gaussian.compress import (
    Agreement,
    CompressedSpectrum,
    agreement,
    check_fallback_memory,
    spectrum_for_optimiser,
)
from symsched.gaussian.coupling import Criteria, criteria
from symsched.samplers import get_sampler
from symsched.samplers._linear import propagate

__all__ = [
    "OBJECTIVES",
    "SamplerOptimum",
    "default_objective",
    "objective_and_gradient",
    "sampler_optimal",
    "search_tape_bytes",
]

Objective = Literal["kl", "coupling"]
OBJECTIVES: tuple[Objective, ...] = ("kl", "coupling")
"""The criteria a grid can be optimised for."""

GAP_FLOOR = 1e-3
r"""With both ends finite and positive, every step in :math:`\ln\sigma` is at least this fraction
of the mean step: two levels never merge, so a multistep sampler's step ratio
:math:`h_{\rm last}/h` stays positive (its extrapolation weight :math:`1/(2r)` finite). A
result at the floor shows as :attr:`SamplerOptimum.min_gap_ratio` = 0.001."""


def default_objective(sampler: str) -> Objective:
    """``"kl"`` for DDIM (the objective of [sun2026], whose steps only lose variance) and for
    stochastic samplers (whose injected noise is no error in law but dominates the coupling
    error); ``"coupling"`` for every other sampler (docs/theory/coupling.md)."""
    return "kl" if sampler == "ddim" or get_sampler(sampler).stochastic else "coupling"


@dataclass(frozen=True)
class SamplerOptimum:
    """Result of :func:`sampler_optimal`.

    Attributes
    ----------
    sigmas
        The optimal grid.
    sampler, objective, kl_direction, start
        What was optimised: the sampler, the criterion (``kl`` or ``coupling``), the KL direction
        and start the ``kl`` objective used.
    objective_value
        The criterion at the optimum, re-evaluated on the full spectrum by the float64 paths.
    criteria
        All three exact criteria of the optimum (:class:`~symsched.gaussian.coupling.Criteria`).
    gradient_norm
        The largest absolute entry of the projected gradient of the criterion's log w.r.t. the
        optimiser's free variables at the optimum (the log steps; components pushing against an
        active step-ratio bound count as 0; :func:`objective_and_gradient` gives the gradient
        w.r.t. the log levels).
    iterations, converged, message
        The optimiser's report.
    distinct_eigenvalues
        The distinct eigenvalues of the spectrum.
    compression
        The spectrum the optimiser worked on (:func:`~symsched.gaussian.compress.compress_spectrum`,
        or exact grouping; its ``nodes.size`` is the size of every evaluation).
    agreement
        The criterion of the answer on the compressed and on the full spectrum (``None`` when
        the optimiser worked on the exact grouping).
    fell_back
        ``True`` when the two differed by more than :data:`~symsched.gaussian.compress.RTOL` and
        the search was repeated on the full spectrum from the answer.
    """

    sigmas: FloatArray
    sampler: str
    objective: Objective
    kl_direction: KLDirection
    start: Start
    objective_value: float
    criteria: Criteria
    gradient_norm: float
    iterations: int
    converged: bool
    message: str
    distinct_eigenvalues: int
    compression: CompressedSpectrum | None = None
    agreement: Agreement | None = None
    fell_back: bool = False

    @property
    def max_step_ratio(self) -> float:
        r"""The largest ratio of consecutive finite steps in :math:`\ln\sigma` (either way
        round): :data:`STEP_RATIO_BOUND` when a multistep optimum sits on its bound."""
        pos = self.sigmas[np.isfinite(self.sigmas) & (self.sigmas > 0)]
        if pos.size < 3:
            return 1.0
        gaps = -np.diff(np.log(pos))
        ratio = gaps[1:] / gaps[:-1]
        return float(np.max(np.maximum(ratio, 1.0 / ratio)))

    @property
    def min_gap_ratio(self) -> float:
        r"""The smallest step in :math:`\ln\sigma` over the mean one (finite positive levels):
        near 0 when the optimiser merges levels."""
        pos = self.sigmas[np.isfinite(self.sigmas) & (self.sigmas > 0)]
        if pos.size < 3:
            return 1.0
        gaps = -np.diff(np.log(pos))
        return float(gaps.min() / gaps.mean())


def _group(lam_v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Distinct eigenvalues and their multiplicities (the sums over i are exact rewritings)."""
    values, counts = distinct_eigenvalues(lam_v)
    return values, counts.astype(np.float64)


class _Gaps:
    r"""Monotone grids from free variables: the finite steps of :math:`\ln\sigma`, positive.

    The finite log steps :math:`h_k>0` (all N with both ends finite and positive, else those not
    touching 0 or infinity) are :math:`e^{w_k}`, or, with a step-ratio bound R, a chain
    :math:`\ln h_k=\ln h_{k-1}+w_k` with the box :math:`|w_k|\le\ln R` (every ratio
    :math:`h_{k-1}/h_k` in :math:`[1/R,R]`). With both ends finite and positive the steps are
    rescaled to span
    :math:`\ln(\sigma_{\max}/\sigma_{\min})` (and, unbounded, floored at :data:`GAP_FLOOR` of
    the mean step); otherwise they count from the finite end (from pure noise to 0: from a free
    first level). Every iterate is a strictly decreasing grid: no level can pass another.
    """

    def __init__(self, hi: float, lo: float, n: int, ratio_bound: float | None) -> None:
        self.hi, self.lo, self.n, self.bound = hi, lo, n, ratio_bound
        self.top, self.bottom = math.isfinite(hi), lo > 0
        # number of finite log steps and whether a free anchor level is needed
        self.m = n - (0 if self.top else 1) - (0 if self.bottom else 1)
        self.anchor = not self.top and not self.bottom

    def _steps(self, w: Any) -> Any:
        import torch

        if self.bound is None:
            return torch.exp(w)
        return torch.exp(torch.cat([w[:1], w[:1] + torch.cumsum(w[1:], 0)]))

    def to_log_levels(self, y: Any) -> Any:
        """The N-1 interior log levels (torch) from the free variables ``y``."""
        import torch

        if self.top and self.bottom:
            span = math.log(self.hi) - math.log(self.lo)
            h = self._steps(torch.cat([y.new_zeros(1), y]))
            p = h / h.sum()
            if self.bound is None:
                p = GAP_FLOOR / self.n + (1.0 - GAP_FLOOR) * p
            return math.log(self.hi) - span * torch.cumsum(p, 0)[:-1]
        if self.anchor:
            h = self._steps(y[1:]) if self.m else y[1:]
            return torch.cat([y[:1], y[:1] - torch.cumsum(h, 0)])
        h = self._steps(y)
        if self.top:  # pure 0 at the bottom: count down from sigma_max
            return math.log(self.hi) - torch.cumsum(h, 0)
        return math.log(self.lo) + torch.flip(torch.cumsum(torch.flip(h, [0]), 0), [0])

    def _free(self, log_h: FloatArray) -> FloatArray:
        if self.bound is None:
            return log_h
        cap = math.log(self.bound)
        return np.concatenate([log_h[:1], np.clip(np.diff(log_h), -cap, cap)])

    def box(self) -> list[tuple[float | None, float | None]]:
        r"""L-BFGS-B bounds of the free variables: each log-step ratio within
        :math:`[-\ln R,\ln R]` (none without a bound)."""
        size = self.n - 1
        if self.bound is None:
            return [(None, None)] * size
        cap = math.log(self.bound)
        ratio: tuple[float | None, float | None] = (-cap, cap)
        free: tuple[float | None, float | None] = (None, None)
        if self.top and self.bottom:  # every variable is a ratio (the first step is the unit)
            return [ratio] * size
        if self.anchor:  # the anchor level, the first step, then ratios
            return [free, free][: min(2, size)] + [ratio] * max(0, size - 2)
        return [free] + [ratio] * (size - 1)

    def projected(self, y: FloatArray, g: FloatArray) -> FloatArray:
        """The gradient ``g`` at ``y`` with the components that push against an active bound
        set to 0 (the first-order optimality measure of a box-constrained problem)."""
        out = g.copy()
        out[_active(self.box(), y, g)[0]] = 0.0
        return out

    def from_levels(self, sig: FloatArray) -> FloatArray:
        """The free variables of a strictly decreasing grid (inverse of :meth:`to_log_levels`;
        a grid outside the ratio bound maps to the nearest one inside)."""
        x = np.log(sig[1:-1])
        if self.top and self.bottom:
            h = -np.diff(np.log(sig))
            p = h / h.sum()
            if self.bound is None:
                p = np.maximum((p - GAP_FLOOR / self.n) / (1.0 - GAP_FLOOR), 1e-300)
            return self._free(np.log(p) - math.log(p[0]))[1:]
        if self.anchor:
            return np.concatenate([x[:1], self._free(np.log(-np.diff(x)))])
        ends = np.concatenate([[math.log(self.hi)], x] if self.top else [x, [math.log(self.lo)]])
        return self._free(np.log(-np.diff(ends)))


def search_tape_bytes(sampler: str) -> float:
    r"""Bytes per searched eigenvalue and step that the sampler-aware search holds at most: its
    torch autograd tape, the first-order one of L-BFGS-B and the second-order one of the
    projected Newton polish (:func:`_newton_polish`, Hessian rows through a retained graph).

    Measured with ``saved_tensors_hooks`` on exact spectra of 100 to 2000 distinct eigenvalues:
    the one-step samplers' searches peak at 75-217 bytes (48 float64 allowed), a
    DPM-Solver++(2M) search that ends in the Newton polish at 517-522 bytes (N = 8 and 20; its
    history term doubles the saved tensors), so a multistep sampler is allowed 96 float64.
    Used by the size guards of ``kl-optimal --sampler``, of ``score`` and of this search's
    fallback to the full spectrum (docs/cli.md#size-guards).

    Parameters
    ----------
    sampler
        A name of :data:`symsched.samplers.SAMPLERS`.

    Returns
    -------
    float
        The bytes per eigenvalue and step.
    """
    return 8.0 * (96 if get_sampler(sampler).multistep else 48)


STEP_RATIO_BOUND = 2.0
r"""The bound R on consecutive log-step ratios for a multistep sampler's optimum. DPM-Solver++(2M)
forms :math:`(1+\tfrac1{2r})D_a-\tfrac1{2r}D_{\rm prev}` with :math:`r=h_{\rm last}/h`: on the
exact Gaussian denoiser a tiny :math:`r` turns this into an exact derivative, so its criteria
reward merging two levels; on a network the same weights amplify the denoiser's error by up to
:math:`\sqrt{(1+\tfrac1{2r})^2+\tfrac1{4r^2}}`, which is :math:`\sqrt5\approx2.2` at
:math:`r=1/2` (1.6 for uniform steps) and unbounded as :math:`r\to0`. Keeping
:math:`r\in[1/2,2]` bounds it at :math:`\sqrt5`; an optimum on the bound is reported
(:attr:`SamplerOptimum.max_step_ratio`)."""


CRITERION_FLOOR = 1e-14
r"""The search minimises :math:`\max(C, 10^{-14})`: a relative teacher error of
:math:`\sqrt{10^{-14}}=10^{-7}` RMS (or variance ratios within :math:`\sim10^{-7}` for the KL) is
float32's resolution, below what any network sampler can show, and below it the criterion of a
second-order sampler is a difference of nearly equal maps whose gradient is float64 noise. The
reported value is the criterion itself."""

PLATEAU = (50, 1e-4)
"""The search also stops when ``PLATEAU[0]`` iterations lowered the criterion's log by less than
``PLATEAU[1]`` (0.01 % of the criterion): a schedule is not changed by such gains, and on the
tiny criteria of second-order samplers at large N (1e-17 at N = 50) the search would otherwise
spend thousands of iterations at the float64 noise of a difference of nearly equal maps."""


class _Plateau:
    """L-BFGS-B callback: stop at a plateau of the log criterion (:data:`PLATEAU`)."""

    def __init__(self) -> None:
        self.history: list[float] = []
        self.stopped = False

    def __call__(self, intermediate_result: Any) -> None:
        self.history.append(float(intermediate_result.fun))
        window, drop = PLATEAU
        if len(self.history) > window and self.history[-window - 1] - self.history[-1] < drop:
            self.stopped = True
            raise StopIteration


STATIONARITY = 1e-6
r"""The target of the largest projected gradient of the log criterion w.r.t. the free variables
(:attr:`SamplerOptimum.gradient_norm`). L-BFGS-B's relative-reduction stop (``ftol``) can end
short of it in two ways, both seen on DPM-Solver++(2M) ending at 0: in a nonconvex region its
stored curvature pairs turn the search direction nearly orthogonal to the gradient, so the steps
shrink geometrically at a non-stationary point (log gradient ~100); and in a narrow valley
(Hessian condition ~1e5-1e6) the remaining gain, :math:`g^2/2H`, is below ``ftol`` while the
gradient is still ~1e-2. Above the target the search restarts L-BFGS-B with a fresh memory
(:data:`RESTARTS`), then takes projected Newton steps with the exact autograd Hessian
(:data:`NEWTON_STEPS`); not after a :data:`PLATEAU` stop (float64 noise)."""

RESTARTS = 5
"""Most fresh-memory L-BFGS-B restarts from a stalled result (:data:`STATIONARITY`); restarting
stops once one no longer lowers the log criterion."""

NEWTON_STEPS = 20
"""Most projected Newton steps that polish a result above :data:`STATIONARITY`; each must satisfy
the Armijo condition, so the polish stops at float64 noise."""


def _active(box: list[tuple[float | None, float | None]], y: FloatArray, g: FloatArray) -> Any:
    """The variables at a bound of ``box`` whose gradient ``g`` pushes out of it."""
    lo = np.array([-math.inf if b[0] is None else b[0] for b in box])
    hi = np.array([math.inf if b[1] is None else b[1] for b in box])
    return ((y <= lo + 1e-12) & (g > 0)) | ((y >= hi - 1e-12) & (g < 0)), lo, hi


def _newton_polish(
    log_fg: Callable[[FloatArray], tuple[float, FloatArray]],
    log_hess: Callable[[FloatArray], FloatArray],
    box: list[tuple[float | None, float | None]],
    y: FloatArray,
) -> tuple[FloatArray, float, int]:
    r"""Projected Newton steps on the free variables of the box-constrained log criterion: the
    exact Hessian with its eigenvalues replaced by their absolute values (floored at
    :math:`10^{-10}` of the largest: a descent direction also where it is indefinite), the step
    clipped into the box and halved until the Armijo condition holds. Stops at
    :data:`STATIONARITY`, after :data:`NEWTON_STEPS`, or when no step decreases the criterion."""
    f, g = log_fg(y)
    taken = 0
    for _ in range(NEWTON_STEPS):
        active, lo, hi = _active(box, y, g)
        free = ~active
        if not free.any() or float(np.max(np.abs(g[free]))) <= STATIONARITY:
            break
        h = log_hess(y)[np.ix_(free, free)]
        if not np.isfinite(h).all():
            break
        w, vec = np.linalg.eigh((h + h.T) / 2)
        w = np.maximum(np.abs(w), 1e-10 * max(float(np.max(np.abs(w))), 1e-300))
        d = np.zeros_like(y)
        d[free] = -vec @ ((vec.T @ g[free]) / w)
        t, moved = 1.0, False
        for _ in range(40):
            y1 = np.clip(y + t * d, lo, hi)
            f1, g1 = log_fg(y1)
            if f1 <= f + 1e-4 * float(g @ (y1 - y)) and f1 < f:
                y, f, g, moved = y1, f1, g1, True
                break
            t /= 2
        if not moved:
            break
        taken += 1
    return y, f, taken


def _starts(
    lam_v: FloatArray,
    n: int,
    lo: float,
    hi: float,
    start: Start,
    kl_direction: KLDirection,
    comp: CompressedSpectrum | None = None,
) -> list[FloatArray]:
    """The optimiser's starting grids: the DDIM KL optimum (on the spectrum ``comp`` the search
    works on, default that of :func:`~symsched.gaussian.compress.spectrum_for_optimiser`, from
    the tangent grid of ``lam_v``) and, with both ends finite and positive, the log-uniform grid;
    the best local optimum is kept."""
    from symsched.gaussian.tangent import gamma_star, tangent_sigmas
    from symsched.gaussian.variational import _kl_minimise

    if comp is None:
        comp = spectrum_for_optimiser(lam_v, n)

    x0 = tangent_sigmas(n, gamma_star(lam_v), lo, hi)
    out = [_kl_minimise(comp.nodes, comp.weights, x0, start, kl_direction, 2000)[0]]
    if lo > 0 and math.isfinite(hi):
        grid = np.exp(np.linspace(math.log(hi), math.log(lo), n + 1))
        grid[0], grid[-1] = hi, lo
        out.append(grid)
    return out


def _torch_value(
    lam_v: FloatArray,
    counts: FloatArray,
    hi: float,
    lo: float,
    sampler: str,
    objective: Objective,
    kl_direction: KLDirection,
    start: Start,
    knobs: dict[str, float],
    gaps: _Gaps | None = None,
    final_zero: bool = False,
) -> Callable[[Any], Any]:
    """``x -> criterion``: a torch (float64) function of ``x``, the log interior levels, or the
    free variables of ``gaps`` when given; twice differentiable by autograd."""
    import torch

    from symsched.gaussian.exact import half_phi

    smp = get_sampler(sampler)
    form = smp.linear_map_form()
    kv = smp.knob_values(smp.make_knobs(**knobs))
    lam_t = torch.as_tensor(lam_v, dtype=torch.float64)
    w_t = torch.as_tensor(counts, dtype=torch.float64)
    end = 0.0 if final_zero else lo  # the grid's last level
    t_n = lam_t + end * end
    coupling = objective == "coupling"
    if math.isinf(hi):
        std0: Any = None
    elif coupling or start == "exact":
        std0 = torch.sqrt(lam_t + hi * hi)
    else:
        std0 = torch.full_like(lam_t, hi)
    norm = float((counts * (lam_v + end * end)).sum())

    def value(xt: Any) -> Any:
        inner = torch.exp(xt if gaps is None else gaps.to_log_levels(xt))
        levels: list[Any] = [hi, *(inner[j] for j in range(inner.shape[0])), lo]
        if final_zero:
            levels.append(0.0)
        u, v = propagate(form, lam_t, levels, std0, kv, backend="torch")
        if coupling:
            return (w_t * ((u - torch.sqrt(t_n)) ** 2 + v)).sum() / norm
        lr = torch.log(u * u + v) - torch.log(t_n)
        sign = -1.0 if kl_direction == "kl_source_output" else 1.0
        return (w_t * half_phi(sign * lr, torch)).sum()

    return value


def _value_and_gradient(
    value: Callable[[Any], Any],
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """``x -> (value, gradient)`` of a torch function (autograd, float64)."""
    import torch

    def fg(x: FloatArray) -> tuple[float, FloatArray]:
        xt = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
        out = value(xt)
        (grad,) = torch.autograd.grad(out, xt)
        return float(out.detach()), grad.numpy().astype(np.float64)

    return fg


def _torch_objective(*args: Any, **kwargs: Any) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """``x -> (value, gradient)`` of :func:`_torch_value` (same arguments): ``x`` the log interior
    levels, or the free variables of ``gaps`` when given (torch autograd, float64)."""
    return _value_and_gradient(_torch_value(*args, **kwargs))


def objective_and_gradient(
    eigenvalues: SpectrumLike,
    sigmas: GridLike,
    *,
    sampler: str = "ddim",
    objective: Objective | None = None,
    kl_direction: KLDirection = "kl_source_output",
    start: Start = "exact",
    **knobs: float,
) -> tuple[float, FloatArray]:
    r"""The criterion of a grid and its exact gradient w.r.t. :math:`\ln\sigma_j` of the interior
    levels (automatic differentiation of the sampler's linear map, float64).

    Parameters
    ----------
    eigenvalues, sigmas
        The spectrum and the full grid.
    sampler, objective, kl_direction, start, **knobs
        As :func:`sampler_optimal`.

    Returns
    -------
    tuple of (float, FloatArray)
        The value and the gradient (length N-1).
    """
    lam_v, sig = as_eigenvalues(eigenvalues), as_grid(sigmas)
    obj = _check(sampler, objective, kl_direction, start, sig)
    values, counts = _group(lam_v)
    fg = _torch_objective(
        values, counts, float(sig[0]), float(sig[-1]), sampler, obj, kl_direction, start, knobs
    )
    return fg(np.log(sig[1:-1]))


def _check(
    sampler: str, objective: Objective | None, kl_direction: str, start: str, sig: FloatArray
) -> Objective:
    smp = get_sampler(sampler)
    obj = default_objective(sampler) if objective is None else objective
    check_choice(obj, "objective", OBJECTIVES)
    check_choice(kl_direction, "kl_direction", ("kl_source_output", "kl_output_source"))
    check_choice(start, "start", ("exact", "prior"))
    if smp.oracle_only:
        raise ValueError(f"sampler {sampler} is the exact flow: it has no grid to optimise")
    if obj == "coupling" and smp.stochastic:
        raise ValueError(
            f"objective coupling does not apply to {sampler}: its injected noise dominates the "
            "distance to the deterministic teacher and the minimiser collapses the grid; use "
            "objective kl"
        )
    smp.check_grid(sig)
    return obj


def sampler_optimal(
    eigenvalues: SpectrumLike,
    steps: int,
    sigma_min: float = 0.0,
    sigma_max: float = math.inf,
    *,
    sampler: str = "ddim",
    objective: Objective | None = None,
    kl_direction: KLDirection = "kl_source_output",
    start: Start = "exact",
    init: GridLike | None = None,
    max_iter: int = 1000,
    step_ratio_bound: float | None = None,
    knobs: Mapping[str, float] | None = None,
    final_zero: bool = False,
    exact_spectrum: bool = False,
) -> SamplerOptimum:
    r"""The exact finite-N optimum of ``objective`` for ``sampler`` over the N-1 interior levels.

    L-BFGS-B on the log steps (every iterate a strictly decreasing grid; a multistep sampler's
    consecutive step ratios boxed within :data:`STEP_RATIO_BOUND`) with the exact gradient of
    the sampler's linear map, from ``init`` or from both the DDIM KL optimum and the log-uniform
    grid, keeping the better; a result above :data:`STATIONARITY` is restarted with a fresh
    memory and polished by projected Newton steps. The ends are kept exactly
    (docs/theory/coupling.md#the-sampler-aware-optimum).

    Parameters
    ----------
    eigenvalues
        The covariance spectrum.
    steps
        The number of steps N.
    sigma_min, sigma_max
        The end levels (``sigma_max = inf``: pure noise, for samplers that allow it).
    sampler
        A name of :data:`symsched.samplers.SAMPLERS` (not the exact flow).
    objective
        ``"coupling"`` or ``"kl"``; default :func:`default_objective`.
    kl_direction, start
        The KL direction and start distribution of the ``kl`` objective.
    init
        The starting grid (N+1 levels from ``sigma_max`` to ``sigma_min``).
    max_iter
        Most L-BFGS-B iterations.
    step_ratio_bound
        Bound R on consecutive log-step ratios (``None``: :data:`STEP_RATIO_BOUND` for a
        multistep sampler, none otherwise; ``math.inf``: no bound).
    knobs
        The sampler's knobs (``{"eta": 0.5}`` of ``ancestral``).
    final_zero
        End with a step from ``sigma_min`` to 0, as k-diffusion, ComfyUI and diffusers run an
        N-step list (docs/conventions.md#steps-and-the-final-0): N - 1 steps from ``sigma_max`` to
        ``sigma_min``, then the step to 0, optimised together (``sigma_min`` must be > 0).

    Returns
    -------
    SamplerOptimum
        The grid, its criteria and the optimiser's report.

    Raises
    ------
    ValueError
        For an invalid argument, a sampler that cannot run the grid (Heun from pure noise), or an
        ``init`` that does not match ``steps`` and the ends.
    """
    from symsched.gaussian.tangent import gamma_star, tangent_sigmas
    from symsched.gaussian.variational import _check_optimiser_range, _kl_optimal_on

    knobs = dict(knobs or {})
    lam_v = as_eigenvalues(eigenvalues)
    n = check_steps(steps)
    lo, hi = check_endpoints(sigma_min, sigma_max)
    obj = _check(sampler, objective, kl_direction, start, np.array([hi, lo]))
    _check_optimiser_range(lam_v, lo, hi, "the kl-optimal optimiser")
    comp = spectrum_for_optimiser(lam_v, n, exact_spectrum)
    full_criteria: dict[bytes, Criteria] = {}

    def on_full(sig: FloatArray) -> Criteria:
        # the full-spectrum criteria of a grid, once (the analytic path and result() both ask)
        key = np.asarray(sig, dtype=np.float64).tobytes()
        if key not in full_criteria:
            full_criteria[key] = criteria(lam_v, sig, sampler=sampler, start=start, **knobs)
        return full_criteria[key]

    def result(
        sig: FloatArray,
        grad: float,
        nit: int,
        ok: bool,
        msg: str,
        used: CompressedSpectrum = comp,
        compressed: float | None = None,
        agree: Agreement | None = None,
        fell_back: bool = False,
    ) -> SamplerOptimum:
        crit = on_full(sig)
        value = crit.coupling if obj == "coupling" else crit.value(kl_direction)
        if compressed is not None:
            agree = agreement(compressed, value, floor=CRITERION_FLOOR)
        return SamplerOptimum(
            sig,
            sampler,
            obj,
            kl_direction,
            start,
            value,
            crit,
            grad,
            nit,
            ok,
            msg,
            comp.distinct,
            used,
            agree,
            fell_back,
        )

    if final_zero and not lo > 0:
        raise ValueError("final_zero needs sigma_min > 0 (the grid already ends at 0)")
    tail = [0.0] if final_zero else []
    m = n - 1 if final_zero else n  # steps between sigma_max and sigma_min
    if m <= 1:
        grid = [hi, lo, *tail] if m == 1 else [hi, 0.0]
        return result(as_grid(grid), 0.0, 0, True, "no free level")
    if sampler == "ddim" and obj == "kl" and init is None and not final_zero:  # analytic path
        x0 = tangent_sigmas(n, gamma_star(lam_v), lo, hi)
        opt = _kl_optimal_on(
            lam_v, comp, x0, start, kl_direction, max_iter, lambda g: on_full(g).value(kl_direction)
        )
        rel = opt.gradient_norm / opt.kl if opt.kl > 0 else 0.0
        used = opt.compression if opt.compression is not None else comp
        return result(
            opt.sigmas,
            rel,
            opt.iterations,
            opt.converged,
            opt.message,
            used,
            agree=opt.agreement,
            fell_back=opt.fell_back,
        )
    starts = (
        [as_grid(init)[: m + 1]]
        if init is not None
        else _starts(lam_v, m, lo, hi, start, kl_direction, comp)
    )
    for x0_grid in starts:
        if x0_grid.size != m + 1 or x0_grid[0] != hi or x0_grid[-1] != lo:
            raise ValueError(
                f"init must be a grid of {n + 1} levels from sigma_max={hi} to sigma_min={lo}"
                + (" and 0" if final_zero else "")
            )
    multistep = get_sampler(sampler).multistep
    bound = (
        step_ratio_bound
        if step_ratio_bound is not None
        else (STEP_RATIO_BOUND if multistep else None)
    )
    if bound is not None and not bound > 1:
        raise ValueError(f"step_ratio_bound must be > 1, got {bound}")
    gaps = _Gaps(hi, lo, m, None if bound is None or math.isinf(bound) else bound)
    search = _Search(gaps, hi, lo, sampler, obj, kl_direction, start, knobs, final_zero, max_iter)
    found = search.run(comp, starts)
    if found is None:
        raise ValueError(
            f"every {obj} optimum of {sampler} found merges two levels (equal in float64): the "
            "criterion has no minimiser with N distinct levels from these starts; use fewer "
            "steps or give an init grid"
        )
    sig, grad, nit, ok, msg = found
    if comp.exact:
        return result(as_grid(sig), grad, nit, ok, msg)
    # the compressed criterion by the same float64 paths as the full one: where the criterion is
    # tiny, the optimiser's autograd value is a difference of nearly equal maps (CRITERION_FLOOR)
    on_nodes = criteria(
        comp.nodes, sig, sampler=sampler, start=start, weights=comp.weights, **knobs
    )
    value = on_nodes.coupling if obj == "coupling" else on_nodes.value(kl_direction)
    first = result(as_grid(sig), grad, nit, ok, msg, compressed=value)
    if first.agreement is None or first.agreement.ok:
        return first
    exact = spectrum_for_optimiser(lam_v, n, exact_spectrum=True)
    check_fallback_memory(search_tape_bytes(sampler) * n, exact, "the sampler-aware search")
    again = search.run(exact, [sig[: m + 1]])
    if again is None:  # the answer itself is a start: the full search keeps a distinct grid
        return first
    sig2, grad2, nit2, ok2, msg2 = again
    msg2 += (
        "; searched again on the full spectrum (compressed criterion off by "
        f"{first.agreement.relative_error:.1e})"
    )
    return result(as_grid(sig2), grad2, nit + nit2, ok2, msg2, exact, None, first.agreement, True)


class _Search:
    """The sampler-aware search on one spectrum: L-BFGS-B from each start, restarts and Newton
    polish (:func:`sampler_optimal`)."""

    def __init__(
        self,
        gaps: _Gaps,
        hi: float,
        lo: float,
        sampler: str,
        obj: Objective,
        kl_direction: KLDirection,
        start: Start,
        knobs: dict[str, float],
        final_zero: bool,
        max_iter: int,
    ) -> None:
        self.gaps, self.hi, self.lo = gaps, hi, lo
        self.args = (sampler, obj, kl_direction, start, knobs)
        self.final_zero, self.max_iter = final_zero, max_iter

    def run(
        self, comp: CompressedSpectrum, starts: list[FloatArray]
    ) -> tuple[FloatArray, float, int, bool, str] | None:
        """The best grid found on ``comp`` from ``starts``: grid, projected gradient, iterations,
        success and message (``None``: every result merged two levels)."""
        import torch
        from scipy.optimize import minimize

        gaps, hi, lo = self.gaps, self.hi, self.lo
        tail = [0.0] if self.final_zero else []
        value = _torch_value(
            comp.nodes, comp.weights, hi, lo, *self.args, gaps=gaps, final_zero=self.final_zero
        )
        fg = _value_and_gradient(value)

        def log_fg(yv: FloatArray) -> tuple[float, FloatArray]:
            # the log of the criterion: scale-free, so the stopping rules are relative ones
            kv, gv = fg(yv)
            if not math.isfinite(kv) or not np.isfinite(gv).all():
                return 1e300, np.zeros_like(gv)  # a degenerate iterate: the line search backs off
            if not kv > CRITERION_FLOOR:  # negligible: nothing left to gain (CRITERION_FLOOR)
                return math.log(CRITERION_FLOOR), np.zeros_like(gv)
            return math.log(kv), gv / kv

        def log_hess(yv: FloatArray) -> FloatArray:
            xt = torch.as_tensor(yv, dtype=torch.float64).requires_grad_(True)
            (gt,) = torch.autograd.grad(torch.log(value(xt)), xt, create_graph=True)
            rows = [
                torch.autograd.grad(gt[j], xt, retain_graph=True)[0] for j in range(gt.shape[0])
            ]
            return np.asarray(torch.stack(rows).detach().numpy(), dtype=np.float64)

        box = gaps.box()

        def stationarity(yv: FloatArray, gv: FloatArray) -> float:
            return float(np.max(np.abs(gaps.projected(yv, gv)))) if gv.size else 0.0

        # ftol: where the criterion is tiny it is a difference of two nearly equal maps, good only
        # to ~N eps / sqrt(C) relative (2e-6 at N = 50, C = 1e-17), so decreases of its log below
        # 1e-10 relative are float64 noise there and the search stops
        opts = {"maxiter": self.max_iter, "ftol": 1e-10, "gtol": 1e-10, "maxcor": 30}

        def lbfgsb(y0: FloatArray) -> tuple[Any, bool]:
            plateau = _Plateau()
            with threadpool_limits(1, user_api="blas"):  # small matrices (variational.kl_optimal)
                res = minimize(
                    log_fg,
                    y0,
                    jac=True,
                    method="L-BFGS-B",
                    bounds=box,
                    options=opts,
                    callback=plateau,
                )
            return res, plateau.stopped

        best: tuple[float, FloatArray, FloatArray, bool, str] | None = None
        nit = 0
        for x0_grid in starts:
            res, plateau = lbfgsb(gaps.from_levels(x0_grid))
            nit += int(res.nit)
            y, f, ok, msg = (
                np.asarray(res.x, dtype=np.float64),
                float(res.fun),
                res.success,
                res.message,
            )
            restarts = polished = 0
            if not plateau and math.isfinite(f):
                # STATIONARITY: a stalled L-BFGS-B memory, then an ill-conditioned valley
                while restarts < RESTARTS and stationarity(y, log_fg(y)[1]) > STATIONARITY:
                    again, plateau = lbfgsb(y)
                    nit += int(again.nit)
                    if not float(again.fun) < f:
                        break
                    restarts += 1
                    y, f, ok, msg = (
                        np.asarray(again.x, dtype=np.float64),
                        float(again.fun),
                        again.success,
                        again.message,
                    )
                    if plateau:
                        break
                if not plateau and stationarity(y, log_fg(y)[1]) > STATIONARITY:
                    y, f, polished = _newton_polish(log_fg, log_hess, box, y)
                    nit += polished
            note = "".join(
                [
                    f"; {restarts} L-BFGS-B restart(s)" if restarts else "",
                    f"; {polished} Newton step(s)" if polished else "",
                ]
            )
            with torch.no_grad():
                inner = np.exp(gaps.to_log_levels(torch.as_tensor(y, dtype=torch.float64)).numpy())
            sig = np.concatenate([[hi], inner, [lo], tail])
            if np.all(np.diff(sig) < 0) and (best is None or f < best[0]):
                best = (f, sig, y, bool(ok), str(msg) + note)
        if best is None:
            return None
        _, sig, y_opt, ok, msg = best
        return sig, stationarity(y_opt, log_fg(y_opt)[1]), nit, ok, msg
