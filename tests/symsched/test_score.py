"""Scoring any sigma list (symsched.score; docs/theory/coupling.md#scoring-a-grid)."""

from __future__ import annotations

import numpy as np
import pytest

from symsched import build, score
from symsched.gaussian.coupling import criteria

LAM = np.geomspace(0.01, 4.0, 12)


def test_parse_reads_every_float_literal_once() -> None:
    got = score.parse_sigma_text("tensor([14.6146, 9.7, 3e-05, 0.0000], dtype=torch.float64)")
    np.testing.assert_array_equal(got, [14.6146, 9.7, 3e-05, 0.0])  # 3e-05 is one number
    np.testing.assert_array_equal(score.parse_sigma_text("inf 2.5, 1E-2,0"), [np.inf, 2.5, 0.01, 0])
    with pytest.raises(ValueError, match="unexpected"):
        score.parse_sigma_text("14.6, sigma, 0")
    with pytest.raises(ValueError, match="at least 2"):
        score.parse_sigma_text("[3.0]")


def test_refine_keeps_the_nodes_and_the_ends() -> None:
    g = np.append(build("karras", 7, sigma_min=0.002, sigma_max=80.0).sigmas, 0.0)
    np.testing.assert_allclose(score.refine(g, 8), g, rtol=1e-12, atol=0)
    fine = score.refine(g, 32)
    assert fine[0] == 80.0 and fine[-1] == 0.0 and np.all(np.diff(fine) < 0)
    np.testing.assert_allclose(fine[::4], g, rtol=1e-12)  # every 4th level is a node
    flow = build("flow", 6, shift="2").sigmas
    assert np.isinf(score.refine(flow, 12)[0])


def test_scores_are_the_exact_criteria_and_the_gap_is_at_least_one() -> None:
    g = build("loglinear", 10, sigma_min=0.01, sigma_max=40.0).sigmas
    out = score.score_grid(LAM, g, ["ddim", "heun", "dpmpp-2m"])
    for sc in out:
        ref = criteria(LAM, g, sampler=sc.sampler)
        for got, want in zip(sc.criteria.as_dict().values(), ref.as_dict().values(), strict=True):
            assert got == pytest.approx(want, rel=1e-12)  # the same sums, regrouped
        assert sc.gap is not None and sc.gap >= 1.0 - 1e-6  # no grid beats the exact optimum
        assert sc.refined[0] == pytest.approx(ref.kl_source_output, rel=1e-12)
    by = {sc.sampler: sc for sc in out}
    # on a smooth family the KL falls as N^-2 under Euler-type DDIM and N^-4 under Heun
    assert by["ddim"].order[-1] == pytest.approx(2.0, abs=0.25)
    assert by["heun"].order[-1] == pytest.approx(4.0, abs=0.6)


def test_steps_for_target_is_the_fewest_that_reach_it() -> None:
    g = build("loglinear", 8, sigma_min=0.01, sigma_max=40.0).sigmas
    target = 0.05
    n = score.steps_for_target(LAM, g, target)
    assert n is not None and n > 1

    def kl(m: int) -> float:
        return criteria(LAM, score.refine(g, m)).kl_source_output

    assert kl(n) <= target < kl(n - 1)
    with pytest.raises(ValueError, match="target_kl"):
        score.steps_for_target(LAM, g, 0.0)
    # from pure noise one step outputs 0 (KL infinite): the answer is never 1 there
    flow = build("flow", 6, shift="2").sigmas
    m = score.steps_for_target(LAM, flow, 0.05, sampler="flow-heun")
    assert m is not None and m >= 2
    assert criteria(LAM, score.refine(flow, m), sampler="flow-heun").kl_source_output <= 0.05


def test_steps_for_method_is_the_fewest_of_that_method() -> None:
    from symsched.gaussian import exact

    kw = {"sigma_min": 0.002, "sigma_max": 80.0}
    n = score.steps_for_method(LAM, 0.05, "karras", **kw)
    assert n is not None

    def kl(m: int) -> float:
        return exact.kl(LAM, build("karras", m, **kw).sigmas).kl_source_output

    assert kl(n) <= 0.05 < kl(n - 1)
    heun = score.steps_for_method(LAM, 0.05, "karras", sampler="heun", **kw)
    assert heun is not None and heun < n  # a second-order sampler needs fewer steps
    flow = score.steps_for_method(LAM, 0.05, "flow", sampler="flow-heun", eigenvalues=LAM)
    assert flow is not None and flow >= 2  # one step from pure noise outputs 0
