"""The Curie-Weiss laws against brute-force enumeration of every spin configuration
(docs/theory/highdim.md#curie-weiss-model, [aranguri2025, §4.1]).

For small d all 2^d configurations are listed and weighted directly: the Gibbs weight
``exp(beta (sum s)^2 / (2 d) + h sum s / d)`` for :func:`exact_law`, and the two product measures
with spin means ``+-m`` mixed with weights ``W+-`` for :func:`two_mode_law`. Every statistic of the
law (P(K), the mode fraction with the M = 0 half, E|M|, the minority fraction, the within
variance) is recomputed from that list. The field ``h``, the magnetisation ``m`` and ``W+`` are
checked against their defining equations.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from symsched._typing import FloatArray
from symsched.highdim.cw import CurieWeiss, CWLaw, exact_law, magnetization, two_mode_law


def _configurations(d: int) -> FloatArray:
    out: FloatArray = np.array(list(itertools.product((-1.0, 1.0), repeat=d)))
    return out


def _stats(spins: FloatArray, weight: FloatArray) -> tuple[FloatArray, dict[str, float]]:
    d = spins.shape[1]
    prob = weight / weight.sum()
    mag = spins.mean(1)
    k = (spins > 0).sum(1)
    pk: FloatArray = np.bincount(k, weights=prob, minlength=d + 1).astype(np.float64)
    return pk, {
        "mode_fraction": float(prob[mag > 0].sum() + 0.5 * prob[mag == 0].sum()),
        "abs_magnetization": float(prob @ np.abs(mag)),
        "minority_fraction": float(prob @ ((1 - np.abs(mag)) / 2)),
        "within_var": float(prob @ (1 - mag**2)),
    }


def _check(law: CWLaw, want: tuple[FloatArray, dict[str, float]]) -> None:
    pk, stats = want
    np.testing.assert_allclose(law.probabilities, pk, rtol=1e-12, atol=1e-300)
    for key, value in stats.items():
        assert getattr(law, key) == pytest.approx(value, rel=1e-12, abs=1e-15), key


@pytest.mark.parametrize(("beta", "p", "d"), [(2.0, 0.8, 6), (1.1, 0.7, 7), (0.5, 0.3, 8)])
def test_the_exact_law_is_the_gibbs_measure(beta: float, p: float, d: int) -> None:
    mdl = CurieWeiss(beta=beta, p=p, dim=d)
    s = _configurations(d)
    total = s.sum(1)
    weight = np.exp(beta * total**2 / (2 * d) + mdl.h * total / d)
    _check(exact_law(mdl), _stats(s, weight))


@pytest.mark.parametrize(("beta", "p", "d"), [(2.0, 0.8, 6), (1.1, 0.7, 7), (3.0, 0.4, 8)])
def test_the_two_mode_law_is_the_mixture_of_two_product_measures(
    beta: float, p: float, d: int
) -> None:
    mdl = CurieWeiss(beta=beta, p=p, dim=d)
    s = _configurations(d)
    up = (s > 0).sum(1)
    q = (1 + mdl.m) / 2
    plus = q**up * (1 - q) ** (d - up)
    minus = (1 - q) ** up * q ** (d - up)
    weight = mdl.w_plus * plus + (1 - mdl.w_plus) * minus
    _check(two_mode_law(mdl), _stats(s, weight))


@pytest.mark.parametrize("p", [0.8, 0.3, 0.5])
def test_the_field_and_the_two_mode_weight_follow_their_definitions(p: float) -> None:
    mdl = CurieWeiss(beta=2.0, p=p, dim=10)
    # h = (1/2) log(p / (1 - p)): tanh(h) = 2p - 1
    assert math.tanh(mdl.h) == pytest.approx(2 * p - 1, abs=1e-15)
    # W+ = 1 / (1 + exp(-2 h m)); the two modes' weights are in the ratio exp(2 h m)
    w = mdl.w_plus
    assert w / (1 - w) == pytest.approx(math.exp(2 * mdl.h * mdl.m), rel=1e-13)


@pytest.mark.parametrize("beta", [1.0, 0.5, 1.1, 2.0, 5.0])
def test_the_magnetisation_solves_the_mean_field_equation(beta: float) -> None:
    m = magnetization(beta)
    if beta <= 1:
        assert m == 0.0  # the only solution of m = tanh(beta m) at high temperature
    else:
        assert 0 < m < 1 and math.tanh(beta * m) == pytest.approx(m, abs=1e-14)
