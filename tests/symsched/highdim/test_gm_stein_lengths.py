"""The GM Stein schedule's lengths against an independent quadrature (docs/theory/stein.md,
[williams2024, §3.1, Algorithm 1]; docs/theory/highdim.md#stein-schedule-of-the-mixture).

``gm_stein_length`` integrates :math:`\\sqrt{\\delta_c}` by the trapezoid rule on its log probe
grid with a closed-form first piece; here the same integral is computed by composite
Gauss-Legendre quadrature in log rho of the metric, which is itself checked against Monte Carlo
elsewhere. The schedule's levels must then sit at equal fractions of the total length, also
below the first probe level, where the schedule uses :math:`\\Lambda\\propto\\rho^3`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from symsched._typing import FloatArray
from symsched.highdim import GaussianMixture
from symsched.highdim.gm_stein import (
    DEFAULT_RHO_MAX_FACTOR,
    gm_stein_length,
    gm_stein_metric,
    gm_stein_schedule,
)


def _lengths(gm: GaussianMixture, rhos: FloatArray) -> FloatArray:
    """Lambda at each of ``rhos`` (> 0): int_0^rho sqrt(delta_c(r)) dr by composite 16-node
    Gauss-Legendre in log r on panels of at most 0.05 e-folds, from 1e-9 of the smallest level
    (sqrt(delta) ~ r^2 at 0, so what lies below is under 1e-27 of it); a rule independent of the
    probe grid's trapezoid, exact to ~1e-14 on this smooth integrand."""
    order = np.argsort(rhos)
    pts = np.log(np.concatenate([[rhos[order[0]] * 1e-9], rhos[order]]))
    x, w = np.polynomial.legendre.leggauss(16)  # type: ignore[no-untyped-call]
    nodes, weights, owner = [], [], []
    for i, (a, b) in enumerate(itertools.pairwise(pts)):
        panels = max(1, math.ceil((b - a) / 0.05))
        edges = np.linspace(a, b, panels + 1)
        half = np.diff(edges)[:, None] / 2
        nodes.append((edges[:-1, None] + half * (x[None, :] + 1)).ravel())
        weights.append((half * w[None, :]).ravel())
        owner.append(np.full(panels * x.size, i))
    v = np.concatenate(nodes)
    r = np.exp(v)
    f = np.sqrt(gm_stein_metric(gm, r)) * r * np.concatenate(weights)
    pieces = np.bincount(np.concatenate(owner), weights=f, minlength=rhos.size)
    out: FloatArray = np.empty(rhos.size)
    out[order] = np.cumsum(pieces)
    return out


@pytest.mark.parametrize("dim", [2, 1000])
def test_the_cumulative_length_is_the_integral_of_the_root_metric(dim: int) -> None:
    gm = GaussianMixture(dim=dim)
    rho_max = DEFAULT_RHO_MAX_FACTOR * math.sqrt(dim * (gm.m**2 + gm.mode_sigma**2))
    grid, lam = gm_stein_length(gm, rho_max, 2000)
    assert grid[0] == 0.0 and lam[0] == 0.0 and grid[-1] == pytest.approx(rho_max, rel=1e-12)
    assert grid.size == lam.size == 2001 and np.all(np.diff(lam) > 0)
    # trapezoid in log rho with 2000 points: error ~ h^2 / 12 relative, h ~ 0.01
    idx = np.array([1, 200, 1000, 1600, 2000])
    np.testing.assert_allclose(lam[idx], _lengths(gm, grid[idx]), rtol=2e-4)


@pytest.mark.parametrize(
    ("dim", "steps", "rho_max"), [(2, 12, None), (1000, 12, None), (2, 2000, 5e-4)]
)
def test_the_schedule_cuts_equal_lengths(dim: int, steps: int, rho_max: float | None) -> None:
    # one step from pure noise to rho_max, then N - 1 steps of equal length; with a tiny rho_max
    # and N = 2000 the last levels fall below the probe grid, where Lambda ~ rho^3 places them
    gm = GaussianMixture(dim=dim)
    g = gm_stein_schedule(gm, steps, rho_max=rho_max)
    rhos = g.sigmas(1.0)
    assert rhos.size == steps + 1 and math.isinf(rhos[0]) and rhos[-1] == 0.0
    top = float(rhos[1])
    want_top = (
        rho_max
        if rho_max is not None
        else DEFAULT_RHO_MAX_FACTOR * math.sqrt(dim * (gm.m**2 + gm.mode_sigma**2))
    )
    assert top == pytest.approx(want_top, rel=1e-12)
    assert g.params["rho_max"] == pytest.approx(want_top, rel=1e-15)
    ks = np.arange(1, steps)  # levels 1 .. N-1 (level N is 0)
    pick = ks if steps <= 20 else np.concatenate([ks[:3], ks[-40:]])
    got = _lengths(gm, rhos[pick].astype(np.float64))
    total = float(got[0])  # pick[0] = 1: the level rho_max
    assert g.params["length"] == pytest.approx(total, rel=2e-4)
    # the taus and alphas of the VP grid: tau = 1 / (1 + rho), alpha = rho / (1 + rho)
    np.testing.assert_allclose(g.taus[1:], 1 / (1 + rhos[1:]), rtol=1e-15)
    np.testing.assert_allclose(g.alphas[1:], rhos[1:] / (1 + rhos[1:]), rtol=1e-15)
    lo_probe = gm_stein_length(gm, top, 2000)[0][1]
    assert steps <= 20 or rhos[steps - 1] < lo_probe  # the cube-root branch is reached
    np.testing.assert_allclose(got, total * (steps - pick) / (steps - 1), rtol=2e-3)
