"""TauGrid's checks: each condition of a valid time grid refused on its own, the smallest valid
grid accepted, and the derived step sizes and noise levels (docs/conventions.md#noise-level)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symsched.highdim._grid import TauGrid

T = [0.0, 0.25, 0.5, 0.75, 1.0]
A = [1.0, 0.75, 0.5, 0.25, 0.0]


def test_the_smallest_grid_is_one_step() -> None:
    g = TauGrid("one", np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert g.steps == 1
    np.testing.assert_array_equal(g.dtaus, [1.0])


@pytest.mark.parametrize(
    ("taus", "alphas"),
    [
        ([0.0], [1.0]),  # one level: no step
        ([[0.0, 1.0]], [[1.0, 0.0]]),  # not 1-D
        (T, A[:-1]),  # lengths differ
    ],
)
def test_the_shape_is_checked(taus: list[float], alphas: list[float]) -> None:
    with pytest.raises(ValueError, match="1-D arrays of the same length >= 2"):
        TauGrid("bad", np.array(taus), np.array(alphas))


@pytest.mark.parametrize("which", ["tau0", "tauN", "alpha0", "alphaN"])
def test_each_end_is_checked_on_its_own(which: str) -> None:
    t, a = list(T), list(A)
    if which == "tau0":
        t[0] = 0.01
    elif which == "tauN":
        t[-1] = 0.99
    elif which == "alpha0":
        a[0] = 0.99
    else:
        a[-1] = 0.01
    with pytest.raises(ValueError, match="must start at tau = 0"):
        TauGrid("bad", np.array(t), np.array(a))


@pytest.mark.parametrize(
    ("taus", "alphas"),
    [
        ([0.0, 0.5, 0.4, 0.75, 1.0], A),  # one tau step backwards, the alphas fine
        ([0.0, 0.5, 0.5, 0.75, 1.0], A),  # two equal taus
        (T, [1.0, 0.75, 0.8, 0.25, 0.0]),  # one alpha step upwards, the taus fine
        (T, [1.0, 0.75, 0.75, 0.25, 0.0]),  # two equal alphas
    ],
)
def test_monotonicity_is_checked_for_each_array(taus: list[float], alphas: list[float]) -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        TauGrid("bad", np.array(taus), np.array(alphas))


def test_step_sizes_and_noise_levels() -> None:
    # dtaus: differences of taus where tau < 1/2 after the step, of alphas beyond (more
    # accurate near tau = 1); on this grid alpha = 1 - tau, so both agree
    taus = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    alphas = np.array([1.0, 0.8, 0.5, 0.1, 0.0])
    g = TauGrid("vp", taus, alphas)
    np.testing.assert_allclose(g.dtaus, [0.2, 0.3, 0.4, 0.1], rtol=1e-15)
    # a grid whose alphas are not 1 - tau tells the two sources apart (tau = 1/2 exactly after
    # the second step: still the taus' difference)
    h = TauGrid("other", taus, np.array([1.0, 0.9, 0.7, 0.3, 0.0]))
    np.testing.assert_allclose(h.dtaus, [0.2, 0.3, 0.4, 0.3], rtol=1e-15)
    # rho = c alpha / tau, inf at tau = 0 and 0 at tau = 1
    rho = g.sigmas(2.0)
    assert math.isinf(rho[0]) and rho[-1] == 0.0
    np.testing.assert_allclose(rho[1:], 2.0 * alphas[1:] / taus[1:], rtol=1e-15)
