"""The variational geodesic groups equal eigenvalues exactly
(docs/theory/gaussian.md#b-self-consistent-weighted-geodesic)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symsched.gaussian import variational


@pytest.mark.parametrize(("lo", "hi"), [(0.0, math.inf), (0.02, 80.0)])
def test_grouped_geodesic_equals_the_geodesic_of_distinct_copies(lo: float, hi: float) -> None:
    # a spectrum of 4 values with multiplicities 1, 7, 30, 2; the oracle: the same spectrum with
    # every copy moved by a relative 1e-13 * index, so that no two are equal and nothing is grouped
    values = np.array([0.003, 0.4, 2.0, 9.0])
    lam = np.repeat(values, [1, 7, 30, 2])
    spread = lam * (1.0 + 1e-13 * np.arange(lam.size))
    assert np.unique(spread).size == lam.size
    grouped = variational.geodesic(lam, lo, hi)
    distinct = variational.geodesic(spread, lo, hi)
    # moving eigenvalues by 4e-12 relative moves the grid by about as much; the fixed points are
    # both converged to 1e-10 in the weights, which moves the levels by ~1e-10 relative
    for n in (4, 17):
        assert np.allclose(grouped.grid(n), distinct.grid(n), rtol=1e-9, atol=0)
    assert np.allclose(grouped.J, distinct.J, rtol=1e-8, atol=0)
    assert np.allclose(grouped.weights, distinct.weights, rtol=1e-8, atol=0)
    # equal eigenvalues carry equal weights, and the weights sum to 1 over all d copies
    for v in values:
        assert np.ptp(grouped.weights[lam == v]) == 0.0
    assert grouped.weights.sum() == pytest.approx(1.0, rel=1e-14)
    assert grouped.residual <= 1e-10
