r"""The exact optimal shift of N uniform flow steps, for a Gaussian spectrum.

A flow sampler's default grid is N uniform steps in flow time, :math:`t_k=1-k/N`, optionally
shifted; a shift :math:`s` multiplies every noise level (:func:`symsched.flow.derive.
linear_shift_rho`), so the grid is :math:`\rho_k=s\,(N-k)/k` from pure noise to 0 and Euler on it
is DDIM (:func:`symsched.flow.derive.euler_flow_minus_ddim`). Its exact KL
(:func:`symsched.gaussian.exact.kl`) is then a smooth function of :math:`\ln s` alone, minimised
here by bounded Brent search with a certificate (docs/theory/flow.md#the-optimal-shift). Flux's
exponential shift with exponent 1 is the same family with :math:`s=e^\mu`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symsched import numeric
from symsched._typing import FloatArray, KLDirection, SpectrumLike
from symsched._validate import as_eigenvalues, check_choice, check_steps, distinct_eigenvalues
from symsched.flow import derive
from symsched.gaussian.coupling import criteria
from symsched.gaussian.exact import half_phi, log_variance_ratios
from symsched.schedules.families import Family
from symsched.symbols import u

__all__ = [
    "ShiftOptimum",
    "expansion_shift",
    "flow_shift_family",
    "limit_shift",
    "optimal_shift",
    "shifted_uniform_grid",
]

_S = sp.Symbol("flow_shift", positive=True)

LOG_SHIFT_RANGE = (math.log(1e-4), math.log(1e4))
"""The search bracket of ln s: shifts from 1e-4 to 1e4 (SD3 uses 3, Flux e^mu up to ~3.2)."""


def shifted_uniform_grid(steps: int, shift: float) -> FloatArray:
    r"""The noise levels of N uniform flow steps shifted by ``shift``: :math:`\rho_k=s(N-k)/k`.

    Parameters
    ----------
    steps
        N.
    shift
        :math:`s>0`.

    Returns
    -------
    FloatArray
        N+1 levels from ``inf`` (t = 1) to 0 (t = 0).
    """
    n = check_steps(steps)
    if not (math.isfinite(shift) and shift > 0):
        raise ValueError(f"shift must be a finite number > 0, got {shift}")
    k = np.arange(n + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out: FloatArray = np.where(k == 0, math.inf, shift * (n - k) / np.maximum(k, 1.0))
    return out


@dataclass(frozen=True)
class ShiftOptimum:
    """The optimal shift and its certificate.

    Attributes
    ----------
    shift
        :math:`s^\\star`.
    mu
        :math:`\\ln s^\\star` (Flux's :math:`\\mu` with exponent 1).
    kl
        The criterion at :math:`s^\\star`.
    sigmas
        The optimal grid.
    scan_best
        The best shift of a log-spaced scan of 241 values over the bracket (an independent check).
    curvature
        Central second difference of the criterion in :math:`\\ln s` at the optimum (> 0 at a
        minimum).
    """

    shift: float
    mu: float
    kl: float
    sigmas: FloatArray
    scan_best: float
    curvature: float


def optimal_shift(
    eigenvalues: SpectrumLike,
    steps: int,
    *,
    sampler: str = "ddim",
    objective: KLDirection = "kl_source_output",
) -> ShiftOptimum:
    r"""The shift :math:`s^\star` of N uniform flow steps that minimises the exact KL.

    Parameters
    ----------
    eigenvalues
        The covariance spectrum in the model's scaled state.
    steps
        N.
    sampler
        The sampler (``ddim`` is flow Euler, :func:`symsched.flow.derive.euler_flow_minus_ddim`);
        one that starts from pure noise.
    objective
        The KL direction.

    Returns
    -------
    ShiftOptimum

    Raises
    ------
    ValueError
        If the arguments are invalid or the optimum lies on the bracket's edge.
    """
    lam = as_eigenvalues(eigenvalues)
    n = check_steps(steps)
    check_choice(objective, "objective", ("kl_source_output", "kl_output_source"))
    values, counts = distinct_eigenvalues(lam)  # the sum regrouped exactly
    sign = -1.0 if objective == "kl_source_output" else 1.0

    def f(log_s: float) -> float:
        grid = shifted_uniform_grid(n, math.exp(log_s))
        lr = np.asarray(log_variance_ratios(values, grid, sampler=sampler), dtype=np.float64)
        return float(np.sum(counts * half_phi(sign * lr)))

    x, scan_best = _bounded_log_min(f)
    h = 1e-3
    curv = (f(x + h) - 2 * f(x) + f(x - h)) / h**2
    s = math.exp(x)
    grid = shifted_uniform_grid(n, s)
    value = criteria(lam, grid, sampler=sampler).value(objective)  # on the full spectrum
    return ShiftOptimum(s, x, value, grid, math.exp(scan_best), curv)


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
    """``argmin ln s`` of ``f(ln s)``: a scan of the bracket, then Brent around its best;
    returns the minimiser and the scan's best (the certificate)."""
    from scipy.optimize import minimize_scalar

    lo, hi = LOG_SHIFT_RANGE
    scan = np.linspace(lo, hi, 241)
    i = int(np.argmin([f(float(v)) for v in scan]))
    if i in (0, scan.size - 1):
        raise ValueError(
            f"the optimal shift lies outside [{math.exp(lo):g}, {math.exp(hi):g}] for this "
            "spectrum; rescale the spectrum to the model's data scale"
        )
    res = minimize_scalar(
        f,
        bounds=(float(scan[i - 1]), float(scan[i + 1])),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(res.x), float(scan[i])


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
