"""The published shift rules (against the installed diffusers) and the optimal shift against
resolution: scaling, monotonicity, the KL costs and the Markdown table."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from symsched.flow.resolution import (
    ResolutionTable,
    compare_resolution,
    fit_exponent,
    latent_side,
    markdown_table,
    plot_resolution,
)
from symsched.flow.rules import RULES, ShiftRule, image_seq_len
from symsched.flow.shift import optimal_shift, shifted_uniform_grid
from symsched.gaussian.exact import kl
from symsched_verify import tolerances as tol

GRID_R = (256, 320, 1000, 1024, 1040, 1056, 2048)
GRID_N = (1, 4, 10, 28, 200, 500)
BASE = np.array([0.003, 0.05, 0.4, 1.0, 6.0])  # a small spectrum for the synthetic tables


def _scaled(side: int) -> np.ndarray:
    """Every eigenvalue grows as L^2: the optimal shift must then grow exactly as L."""
    return BASE * (side / 8.0) ** 2


@pytest.fixture(scope="module")
def photo_table() -> ResolutionTable:
    # small latent sides (L = 8, 16, 32) keep the spectra and optima under a few seconds
    return compare_resolution((64, 128, 256), (4, 10))


def test_every_rule_is_a_shift_rule_with_a_source() -> None:
    for name, rule in RULES.items():
        assert isinstance(rule, ShiftRule) and rule.name == name and rule.source
        s = rule.shift(1024, 28)
        assert s > 0 and math.isclose(rule.mu(1024, 28), math.log(s), rel_tol=0, abs_tol=1e-15)


def test_token_count_is_the_floor_of_sixteenths() -> None:
    assert image_seq_len(1024) == 64 * 64
    assert image_seq_len(1000) == 62 * 62  # 1000 // 16 = 62: the pipelines round down
    assert image_seq_len(1024, 512) == 64 * 32
    with pytest.raises(ValueError):
        image_seq_len(0)


def test_flux_rules_equal_the_diffusers_functions() -> None:
    pytest.importorskip("diffusers", reason="diffusers is the tool under test (test extra)")
    from symsched_verify.oracles.diffusers_shift import diffusers_function

    flux = diffusers_function("pipelines.flux.pipeline_flux", "calculate_shift").function
    flux2 = diffusers_function("pipelines.flux2.pipeline_flux2", "compute_empirical_mu").function
    for r in GRID_R:
        n_seq = image_seq_len(r)
        for n in GRID_N:
            assert abs(RULES["flux"].mu(r, n) - flux(n_seq)) <= tol.FLOW_RULE_MU_ATOL
            assert abs(RULES["flux2"].mu(r, n) - flux2(n_seq, n)) <= tol.FLOW_RULE_MU_ATOL


def test_diffusers_packing_gives_the_token_count() -> None:
    pytest.importorskip("diffusers", reason="diffusers is the tool under test (test extra)")
    import torch

    from symsched_verify.oracles.diffusers_shift import diffusers_function

    pack = diffusers_function("pipelines.flux.pipeline_flux", "_pack_latents", "FluxPipeline")
    for r in (512, 1000, 1040):
        side = 2 * (r // 16)
        out = pack.function(torch.zeros(1, 16, side, side), 1, 16, side, side)
        assert out.shape[1] == image_seq_len(r)


def test_the_scheduler_visits_the_shifted_uniform_grid() -> None:
    pytest.importorskip("diffusers", reason="diffusers is the tool under test (test extra)")
    from symsched_verify.claims.flow_rules import _flow_times, _scheduler_times

    for name, r, n in (("sd3", 1024, 28), ("flux", 2048, 8), ("flux2", 768, 4)):
        rule = RULES[name]
        got = (
            _scheduler_times(n, mu=rule.mu(r, n))
            if rule.publishes_mu
            else _scheduler_times(n, shift=rule.shift(r, n))
        )
        want = _flow_times(shifted_uniform_grid(n, rule.shift(r, n)))
        assert got[-1] == 0.0
        np.testing.assert_allclose(got[:-1], want[:-1], rtol=tol.CONSUMER_LEVEL_RTOL, atol=0)
        # a wrong shift is far outside that band
        wrong = _flow_times(shifted_uniform_grid(n, 1.01 * rule.shift(r, n)))
        assert np.max(np.abs(got[1:-1] / wrong[1:-1] - 1)) > 100 * tol.CONSUMER_LEVEL_RTOL


def test_rule_claim_fails_without_diffusers(monkeypatch: pytest.MonkeyPatch) -> None:
    from symsched_verify.claims.flow_rules import check_rule_definitions
    from symsched_verify.registry import Budget

    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers now raises
    out = check_rule_definitions(Budget())
    assert not out.passed and "diffusers is not installed" in out.measured


def test_rule_shapes_in_resolution_and_steps() -> None:
    res = [256, 512, 1024, 2048]
    fixed = [RULES["sd3"].shift(r, 10) for r in res]
    assert len(set(fixed)) == 1
    fit = fit_exponent(res, [RULES["sd3-resolution"].shift(r, 10) for r in res])
    assert abs(fit.exponent - 1.0) < 1e-12 and fit.rms < 1e-12
    flux = [RULES["flux"].mu(r, 10) for r in res]
    n_seq = [image_seq_len(r) for r in res]
    slopes = np.diff(flux) / np.diff(n_seq)  # mu linear in the token count
    np.testing.assert_allclose(slopes, slopes[0], rtol=1e-12)
    assert RULES["flux"].mu(1024, 4) == RULES["flux"].mu(1024, 50)
    f2 = RULES["flux2"]
    above = image_seq_len(1056) > 4300 >= image_seq_len(1040)
    assert above
    assert f2.mu(1056, 4) == f2.mu(1056, 50)  # above the switch: no N dependence
    assert f2.mu(1040, 4) > f2.mu(1040, 50)  # below it the shift falls with N
    assert f2.mu(1040, 28) > f2.mu(1056, 28)  # and drops across the switch


def test_fit_exponent_recovers_a_power_law_and_refuses_bad_input() -> None:
    r = np.array([256.0, 512.0, 1024.0])
    fit = fit_exponent(r, 0.3 * r**0.37, "x", 7)
    assert abs(fit.exponent - 0.37) < 1e-12 and abs(math.exp(fit.intercept) - 0.3) < 1e-12
    assert fit.subject == "x" and fit.steps == 7
    for bad in (([256.0], [1.0]), ([256.0, 256.0], [1.0, 2.0]), ([256.0, 512.0], [1.0, -1.0])):
        with pytest.raises(ValueError):
            fit_exponent(*bad)


def test_latent_side() -> None:
    assert latent_side(1024) == 128
    with pytest.raises(ValueError, match="multiple of 8"):
        latent_side(1020)


def test_scaled_spectrum_gives_exponent_one() -> None:
    # KL is invariant under (lambda, rho) -> (c^2 lambda, c rho): s* must scale exactly as L
    table = compare_resolution((64, 128, 256), (4, 10), spectrum=_scaled)
    fits = table.exponents()["optimal"]
    for fit in fits.values():
        assert abs(fit.exponent - 1.0) < 1e-6 and fit.rms < 1e-6
    assert all(table.increasing_in_resolution().values())
    flat = compare_resolution((64, 128), (4,), spectrum=lambda side: BASE)
    assert flat.increasing_in_resolution() == {4: False}  # the same spectrum: the same s*
    assert abs(flat.row(64, 4).shift - flat.row(128, 4).shift) < 1e-9


def test_rows_are_the_optimum_and_the_exact_rule_costs(photo_table: ResolutionTable) -> None:
    assert [(r.resolution, r.steps) for r in photo_table.rows] == [
        (64, 4),
        (64, 10),
        (128, 4),
        (128, 10),
        (256, 4),
        (256, 10),
    ]
    from symsched.flow.resolution import photograph_proxy

    row = photo_table.row(128, 10)
    lam = photograph_proxy(16)
    assert lam.size == 3 * 16**2 and abs(lam.mean() - 1.0) < 1e-12
    assert row.shift == optimal_shift(lam, 10).shift
    for name, gap in row.rules.items():
        s = RULES[name].shift(128, 10)
        want = kl(lam, shifted_uniform_grid(10, s)).kl_source_output
        assert gap.shift == s and math.isclose(gap.kl, want, rel_tol=1e-14)
        assert math.isclose(gap.log_gap, math.log(s / row.shift), rel_tol=1e-14)
        assert gap.kl_ratio >= 1.0 - tol.FLOW_KL_ROUNDOFF_RTOL  # no rule beats the optimum
    for r in photo_table.rows:  # the optimum beats its neighbours on the full spectrum
        lam = photograph_proxy(r.side)
        for h in (-tol.FLOW_NEIGHBOUR_LOG_STEP, tol.FLOW_NEIGHBOUR_LOG_STEP):
            other = kl(lam, shifted_uniform_grid(r.steps, r.shift * math.exp(h)))
            assert r.kl <= other.kl_source_output
    assert all(photo_table.increasing_in_steps().values())


def test_markdown_table_has_one_line_per_row(photo_table: ResolutionTable) -> None:
    text = markdown_table(photo_table)
    lines = text.rstrip("\n").split("\n")
    assert len(lines) == 2 + len(photo_table.rows) and text.endswith("\n")
    width = 5 + len(photo_table.rules)
    assert all(line.count("|") == width + 1 for line in lines)
    head = lines[0]
    assert all(f"{k}: s" in head for k in photo_table.rules)
    for line, row in zip(lines[2:], photo_table.rows, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert (int(cells[0]), int(cells[1]), int(cells[2])) == (
            row.resolution,
            row.side,
            row.steps,
        )
        assert math.isclose(float(cells[3]), row.shift, rel_tol=5e-3)
        sd3 = cells[5]
        assert sd3.startswith(f"{row.rules['sd3'].shift:.3g} (") and "×" in sd3


def test_plot_has_a_legend_entry_per_curve(photo_table: ResolutionTable) -> None:
    fig = plot_resolution(photo_table)
    labels = {t.get_text() for leg in fig.legends for t in leg.get_texts()}
    assert {"optimal s*, N = 4", "optimal s*, N = 10", "rule sd3", "rule flux"} <= labels
    assert {"rule flux2, N = 4", "rule flux2, N = 10"} <= labels
    assert "photographs" in fig.get_suptitle()
