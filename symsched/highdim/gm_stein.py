r"""Stein-cost (corrector-optimised) schedule of the Gaussian mixture, self-contained.

This is the corrector cost of [williams2024, §2.3] (docs/theory/stein.md#corrector-cost)
evaluated exactly on the GM of :mod:`symsched.highdim.gm`, not the general :mod:`symsched.stein`
module (docs/theory/highdim.md#stein-schedule-of-the-mixture). In the noise-level scale
(docs/conventions.md#noise-level) ``xbar = x / tau = a + rho z`` with ``rho = c (1 - tau) / tau``,
and

.. math::
    \delta_c(\rho) = \rho^2\, \mathbb E_{p_\rho}
        \big\|\partial_\rho \nabla \log p_\rho(\bar x)\big\|^2,
    \qquad \Lambda(\rho) = \int_0^\rho \sqrt{\delta_c}, \qquad
    \rho_k = \Lambda^{-1}\big(\Lambda(\rho_{\max})\,(N - k)/(N - 1)\big)

([williams2024, §3.1], docs/theory/stein.md#local-metric, weight ``v = rho``; Algorithm 1 on a fine
probe grid, docs/theory/stein.md#end-to-end-schedule). The score is the derived GM score of
:func:`~symsched.highdim.gm.derive_gm`, mapped to the ``xbar`` scale and differentiated in SymPy;
the expectation over ``p_rho`` reduces exactly to the isotropic part
``(d - 1) V`` (``V = sigma^2 + rho^2``) plus a 1-D expectation over ``S = 1 . xbar``, done by
Gauss–Hermite quadrature in each mode.

The length diverges like ``2 sqrt(d) log rho`` as ``rho -> inf``, so the grid starts with one step
from pure noise (``tau_0 = 0``) to ``rho_max``; the remaining ``N - 1`` steps have equal length.
With ``alpha = 1 - tau`` the Euler step is DDIM in ``rho`` whatever ``c`` is, so the schedule is
returned as a VP (``c = 1``) time grid.

References
----------
williams2024: C. Williams, A. Campbell, A. Doucet, S. Syed, "Score-optimal diffusion schedules",
NeurIPS 2024, arXiv:2412.07877, §2.3, §3.1 and Algorithm 1. Page: docs/theory/stein.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import sympy as sp
from scipy.interpolate import PchipInterpolator

from symsched import numeric
from symsched._typing import ArrayLike, FloatArray
from symsched._validate import check_positive, check_steps
from symsched.highdim._grid import TauGrid
from symsched.highdim._symbols import S, c, h, m, rho, sigma, tau
from symsched.highdim.gm import GaussianMixture, derive_gm

__all__ = [
    "DEFAULT_RHO_MAX_FACTOR",
    "gm_stein_length",
    "gm_stein_metric",
    "gm_stein_schedule",
    "gm_xbar_score",
]

DEFAULT_RHO_MAX_FACTOR = 10.0  # rho_max = 10 x the RMS norm of the data, sqrt(d (m^2 + sigma^2))
_GH_NODES = 201

# probabilists' Gauss-Hermite nodes and weights; numpy's stubs leave hermegauss untyped
_hermegauss: Callable[[int], tuple[FloatArray, FloatArray]] = np.polynomial.hermite_e.hermegauss


@functools.cache
def gm_xbar_score() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""The GM score in the noise-level scale, derived: ``(a, b1, k)``.

    ``grad log p_rho(xbar) = a xbar + b1 m 1 tanh(h + k S)``, from the derived score of ``I_tau``
    (Tweedie, [aranguri2025, §2.2]): ``grad_xbar = tau grad_x`` at ``x = tau xbar`` and
    ``c = rho tau / (1 - tau)``. Expected: ``a = -1/V``, ``b1 = 1/V``, ``k = m / V``,
    ``V = sigma^2 + rho^2``.

    Returns
    -------
    tuple of sympy.Expr
        ``(a, b1, k)`` as expressions in ``rho``, ``sigma`` and ``m``.
    """
    der = derive_gm()
    sub = {c: rho * tau / (1 - tau)}
    a = sp.simplify((tau**2 * der.score_x).subs(sub))
    b1 = sp.simplify((tau * der.score_1).subs(sub))
    k = sp.simplify((tau * der.tanh_slope).subs(sub))
    return a, b1, k


@functools.cache
def _metric_pieces() -> tuple[Callable[..., FloatArray], Callable[..., FloatArray]]:
    a, b1, k = gm_xbar_score()
    arg = h + k * S
    b = b1 * m * sp.tanh(arg)
    da = sp.diff(a, rho)
    db = sp.diff(b, rho).subs(1 - sp.tanh(arg) ** 2, sp.sech(arg) ** 2)
    args = (rho, S, m, sigma, h)
    return numeric.lambdify(args, da), numeric.lambdify(args, db)


def gm_stein_metric(model: GaussianMixture, rhos: ArrayLike) -> FloatArray:
    r"""Local corrector metric ``delta_c(rho)`` of the GM at noise levels ``rhos``.

    :math:`\delta_c(\rho)=\rho^2\,\mathbb E\|\partial_\rho\nabla\log p_\rho\|^2`
    [williams2024, §3.1] (docs/theory/stein.md#local-metric) with
    ``E||d_rho score||^2 = a'^2 ((d - 1) V + E S^2 / d) + 2 a' E[S b'] + d E[b'^2]``, the
    expectation over ``S | s ~ N(s m d, d V)`` by ``201``-node Gauss–Hermite quadrature per mode.

    Parameters
    ----------
    model
        The Gaussian mixture.
    rhos
        Noise levels, finite and > 0 (a scalar or any shape; flattened to 1-D).

    Returns
    -------
    FloatArray
        ``delta_c`` at each level (1-D).

    Raises
    ------
    ValueError
        If a level is not finite or not > 0.
    """
    r = np.atleast_1d(np.asarray(rhos, dtype=np.float64))
    if np.any(~np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("rhos must be finite and > 0")
    da_f, db_f = _metric_pieces()
    d = float(model.dim)
    g, w = _hermegauss(_GH_NODES)
    w = w / math.sqrt(2 * math.pi)
    v = model.mode_sigma**2 + r**2
    out = np.zeros_like(r)
    for sign, weight in ((1.0, model.p), (-1.0, 1.0 - model.p)):
        s_nodes = sign * model.m * d + np.sqrt(d * v)[:, None] * g[None, :]  # (rho, node)
        da = da_f(r[:, None], s_nodes, model.m, model.mode_sigma, model.h)
        db = db_f(r[:, None], s_nodes, model.m, model.mode_sigma, model.h)
        inner = da**2 * s_nodes**2 / d + 2 * da * s_nodes * db + d * db**2
        out += weight * (inner @ w)
    out += da_f(r, 0.0, model.m, model.mode_sigma, model.h) ** 2 * (d - 1) * v
    return r**2 * out


@functools.lru_cache(maxsize=64)
def gm_stein_length(
    model: GaussianMixture, rho_max: float, probe: int = 2000
) -> tuple[FloatArray, FloatArray]:
    r"""Cumulative length ``Lambda(rho)`` on a log-spaced probe grid up to ``rho_max``.

    :math:`\Lambda(\rho)=\int_0^\rho\sqrt{\delta_c}` [williams2024, §3.1] by the trapezoid rule
    in ``log rho`` (``dLambda = sqrt(delta) rho dlog rho``); below the first probe point
    ``sqrt(delta) ~ rho^2``, so that piece is ``sqrt(delta(rho_lo)) rho_lo / 3``.

    Parameters
    ----------
    model
        The Gaussian mixture.
    rho_max
        Largest noise level (> 0).
    probe
        Number of log-spaced probe levels (>= 10).

    Returns
    -------
    tuple of FloatArray
        ``(rho, Lambda)`` with a leading ``(0, 0)`` knot (``probe + 1`` values each).
    """
    rho_max = check_positive(rho_max, "rho_max")
    lo = min(1e-4 * model.mode_sigma, rho_max / 10)
    grid = np.exp(np.linspace(math.log(lo), math.log(rho_max), check_steps(probe, "probe", 10)))
    root = np.sqrt(gm_stein_metric(model, grid))
    integrand = root * grid
    du = np.diff(np.log(grid))
    lam = (
        np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * du)])
        + root[0] * lo / 3
    )
    return np.concatenate([[0.0], grid]), np.concatenate([[0.0], lam])


def gm_stein_schedule(
    model: GaussianMixture,
    steps: int,
    rho_max: float | None = None,
    rho_max_factor: float = DEFAULT_RHO_MAX_FACTOR,
    probe: int = 2000,
) -> TauGrid:
    r"""The Stein-cost optimal ``N``-step grid of the GM, as a VP time grid (see module docstring).

    Algorithm 1 of [williams2024] on the fine probe grid of :func:`gm_stein_length`: monotone
    (PCHIP) inversion of ``Lambda`` onto ``N - 1`` equal-length steps below ``rho_max``.

    Parameters
    ----------
    model
        The Gaussian mixture (its dimension matters: the metric grows like ``d``).
    steps
        ``N >= 2``: one step from pure noise to ``rho_max`` plus ``N - 1`` equal-length steps.
    rho_max
        Largest finite noise level; default ``rho_max_factor * sqrt(d (m^2 + sigma^2))``.
    rho_max_factor
        Multiple of the data's RMS norm used when ``rho_max`` is not given.
    probe
        Probe levels of :func:`gm_stein_length`.

    Returns
    -------
    TauGrid
        ``N + 1`` times from ``tau_0 = 0`` to ``tau_N = 1`` with ``params`` ``steps``, ``rho_max``,
        ``probe``, ``weight``, ``model`` and ``length`` (``Lambda(rho_max)``).

    Raises
    ------
    ValueError
        If ``steps < 2`` or ``rho_max`` / ``rho_max_factor`` is not > 0.
    """
    n = check_steps(steps, "steps", minimum=2)
    if rho_max is None:
        rho_max = check_positive(rho_max_factor, "rho_max_factor") * math.sqrt(
            model.dim * (model.m**2 + model.mode_sigma**2)
        )
    rho_max = check_positive(rho_max, "rho_max")
    grid, lam = gm_stein_length(model, rho_max, int(probe))
    # invert in log rho (a smooth coordinate, docs/theory/stein.md#end-to-end-schedule); the
    # rho = 0 knot is handled exactly
    inv = PchipInterpolator(lam[1:], np.log(grid[1:]))
    targets = lam[-1] * (n - np.arange(1, n + 1)) / (n - 1)  # k = 1 .. N
    rhos = np.where(targets >= lam[1], np.exp(inv(np.clip(targets, lam[1], lam[-1]))), 0.0)
    inside = (targets > 0) & (targets < lam[1])
    rhos[inside] = grid[1] * (targets[inside] / lam[1]) ** (1 / 3)  # Lambda ~ rho^3 near 0
    rhos[0], rhos[-1] = rho_max, 0.0
    taus = np.concatenate([[0.0], 1.0 / (1.0 + rhos)])
    alphas = np.concatenate([[1.0], rhos / (1.0 + rhos)])
    return TauGrid(
        "stein",
        taus,
        alphas,
        {
            "steps": n,
            "rho_max": rho_max,
            "probe": probe,
            "weight": "v = rho",
            "model": model.params(),
            "length": float(lam[-1]),
        },
    )
