"""Curie-Weiss steps-needed machinery: sample-count rule, lockstep search, the affine-in-r fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symsched.highdim import measure as ms
from symsched.highdim.cw import CurieWeiss, two_mode_law
from symsched.highdim.search import search_steps, steps_needed, steps_needed_sweep
from symsched_verify.claims.highdim_cw_steps import _affine_fit


def test_sample_rule_matches_the_small_noise_formula_and_the_cli_rule() -> None:
    # low level: S = Var(M^2) / (E[1 - M^2] tol/10)^2 with Var(M^2) ~ 4 m^2 (1 - m^2) / d
    # (delta method)
    for beta, d in ((2.0, 100), (2.0, 1000)):
        model = CurieWeiss(beta=beta, dim=d)
        m = model.m
        approx = 4 * m**2 * (1 - m**2) / d / ((1 - m**2) * 0.005) ** 2
        assert ms.cw_samples_needed(model, 0.05) == pytest.approx(approx, rel=0.05)
    # beta = 1.1: the mode-fraction rule (0.5/sqrt(S) <= tol/3, S = 900) decides at every d
    assert {
        ms.cw_samples_needed(CurieWeiss(beta=1.1, dim=d), 0.05) for d in (100, 1000, 10_000)
    } == {900}
    assert (
        ms.cw_samples_needed(CurieWeiss(beta=2.0, dim=100), 0.05) > 17_000
    )  # what 1000 samples missed


def test_sample_rule_variance_is_the_sampling_variance_of_the_within_variance() -> None:
    """Var(M^2) of the rule equals the spread of per-sample within-variances of two-mode samples."""
    model = CurieWeiss(beta=2.0, dim=200)
    law = two_mode_law(model)
    rng = np.random.default_rng(3)
    n = 20_000
    sign = np.where(rng.random(n) < model.w_plus, 1.0, -1.0)
    spins = np.where(rng.random((n, 200)) < (1 + model.m) / 2, 1.0, -1.0) * sign[:, None]
    within = spins.var(1)
    mag = (2 * np.arange(201) - 200) / 200
    var_m2 = law.probabilities @ mag**4 - (law.probabilities @ mag**2) ** 2
    se_of_var = var_m2 * math.sqrt(2 / (n - 1)) * 1.5  # generous: the law of M^2 is skewed
    assert abs(within.var() - var_m2) <= 5 * se_of_var


def test_lockstep_search_gives_the_sequential_answers() -> None:
    grid = ms.SEARCH_GRID[:20]
    targets = {"a": 7, "b": 19, "c": 64, "never": 10**9}

    def point(key: str, n: int) -> tuple[str, int]:
        return key, n

    def evaluate(p: tuple[str, int]) -> dict[str, float]:
        key, n = p
        return {"high": targets[key] / n, "low": 0.0}

    out = steps_needed_sweep(list(targets), point, 1.0, grid, evaluate=evaluate)  # type: ignore[arg-type]
    for key, (n, trace) in out.items():
        alone = steps_needed(lambda k, key=key: evaluate((key, k)), 1.0, grid)
        assert (n, trace) == alone
    assert [out[k][0] for k in ("a", "b", "c", "never")] == [7, 19, 64, None]
    gen = search_steps(1.0, grid)
    assert next(gen) == grid[0]


def test_affine_fit_recovers_a_line_and_flags_a_bend() -> None:
    r = np.array([0.3, 0.17, 0.095, 0.053])
    rows = [{"r": float(x), "error": -0.12 + 0.23 * float(x), "stderr": 0.005} for x in r]
    fit = _affine_fit(rows)
    assert fit["a"] == pytest.approx(-0.12, abs=1e-12) and fit["b"] == pytest.approx(
        0.23, abs=1e-12
    )
    assert fit["max_residual_z"] < 1e-9 and 0.01 < fit["b_stderr"] < 0.05
    bent = [
        {**row, "error": row["error"] + (0.05 if i == 1 else 0.0)} for i, row in enumerate(rows)
    ]
    assert _affine_fit(bent)["max_residual_z"] > 5
