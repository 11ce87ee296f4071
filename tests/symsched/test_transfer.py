"""The transfer comparison: shapes, determinism, the verdict rules and small cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from symsched import build
from symsched.highdim import CurieWeiss, GaussianMixture
from symsched.models import NETWORK_SAMPLERS, load_model, start_noise
from symsched.plot_style import label
from symsched.stein.quality import compare_schedules
from symsched.transfer import (
    AWARE,
    METRICS,
    TransferRow,
    TransferSettings,
    TransferTable,
    compare_transfer,
    plot_transfer,
    proxy_spectrum,
)

SMALL = TransferSettings(
    gm=GaussianMixture(0.8, 1.0, 0.5, 10), cw=CurieWeiss(2.0, 0.8, 10), cw_samples=300
)


@pytest.fixture(scope="module")
def gm_table() -> TransferTable:
    return compare_transfer(
        models=("gm",),
        samplers=("heun", "dpmpp-2m"),
        steps=(3, 4),
        methods=(AWARE, "loglinear", "karras", "ddim-optimal"),
        settings=SMALL,
    )


def test_gm_table_shape_grids_and_completeness(gm_table: TransferTable) -> None:
    assert len(gm_table.rows) == 2 * 2 * 4 and gm_table.complete() == []
    assert gm_table.keys() == [("gm", s, n) for s in ("heun", "dpmpp-2m") for n in (3, 4)]
    lam = proxy_spectrum("gm", SMALL)
    for r in gm_table.rows:
        assert r.grid.size == r.steps + 1 and set(r.values) == set(METRICS["gm"])
        assert all(v >= 0 and math.isfinite(v) for v in r.values.values())
        assert r.stderrs == {"mode_fraction_error": 0.0, "std_error": 0.0} and not r.paired
    aware = gm_table.row("gm", "dpmpp-2m", 4, AWARE).grid
    ref = build(
        "kl-optimal", 4, eigenvalues=lam, sigma_min=0.002, sigma_max=80.0, sampler="dpmpp-2m"
    )
    assert np.array_equal(aware, ref.sigmas)
    ll = gm_table.row("gm", "heun", 3, "loglinear").grid
    assert np.allclose(ll, np.geomspace(80.0, 0.002, 4), rtol=1e-14)
    # the DDIM optimum is one grid for both samplers; the sampler-aware ones differ
    assert np.array_equal(
        gm_table.row("gm", "heun", 4, "ddim-optimal").grid,
        gm_table.row("gm", "dpmpp-2m", 4, "ddim-optimal").grid,
    )
    assert not np.array_equal(gm_table.row("gm", "heun", 4, AWARE).grid, aware)
    assert gm_table.row("gm", "heun", 4, AWARE).info["objective"] == "coupling"


def test_gm_table_is_deterministic_and_verdicts_count(gm_table: TransferTable) -> None:
    again = compare_transfer(
        models=("gm",),
        samplers=("heun", "dpmpp-2m"),
        steps=(3, 4),
        methods=(AWARE, "loglinear", "karras", "ddim-optimal"),
        settings=SMALL,
    )
    for r, s in zip(gm_table.rows, again.rows, strict=True):
        assert r.values == s.values and np.array_equal(r.grid, s.grid)
    verdicts = gm_table.verdicts()
    assert len(verdicts) == 2 * 2 * 3 * 2  # samplers x N x baselines x metrics
    counts = gm_table.counts(verdicts)
    assert set(counts) == {"heun", "dpmpp-2m"}
    assert all(sum(c.values()) == 12 for c in counts.values())
    for v in verdicts:  # exact metrics: the tie band is the relative one
        assert v.se == 0.0 and v.threshold == pytest.approx(0.01 * max(v.aware, v.other))
    text = json.dumps(gm_table.to_json())
    assert '"counts_by_sampler"' in text and '"verdicts"' in text


def _row(method: str, values: dict[str, float], paired: dict[str, np.ndarray]) -> TransferRow:
    ses = {
        k: float(np.std(paired[k], ddof=1) / math.sqrt(paired[k].size)) if k in paired else 0.0
        for k in values
    }
    return TransferRow("cw", "heun", 5, method, values, ses, np.geomspace(80, 0.002, 6), paired)


def test_verdict_rules_on_a_constructed_table() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal(400)
    noise = 0.01 * rng.standard_normal(400)
    aware = _row(
        AWARE,
        {"mode_fraction_error": 1.0, "within_var_error": float(base.mean())},
        {"mode_fraction_error": np.ones(400), "within_var_error": base},
    )
    # a significantly worse grid, one that differs by noise only, one significantly better
    worse = _row(
        "a",
        {"mode_fraction_error": 2.0, "within_var_error": float((base + 0.1).mean())},
        {"mode_fraction_error": np.full(400, 2.0) + noise, "within_var_error": base + 0.1},
    )
    same = _row(
        "b",
        {"mode_fraction_error": 1.0, "within_var_error": float((base + noise).mean())},
        {"mode_fraction_error": np.ones(400) + noise, "within_var_error": base + noise},
    )
    better = _row(
        "c",
        {"mode_fraction_error": 0.5, "within_var_error": float((base - 0.1).mean())},
        {"mode_fraction_error": np.full(400, 0.5) + noise, "within_var_error": base - 0.1},
    )
    tab = TransferTable([aware, worse, same, better], TransferSettings())
    out = {(v.baseline, v.metric): v.outcome for v in tab.verdicts()}
    assert out[("a", "within_var_error")] == "win" and out[("a", "mode_fraction_error")] == "win"
    assert out[("b", "within_var_error")] == "tie"
    assert out[("c", "within_var_error")] == "lose" and out[("c", "mode_fraction_error")] == "lose"
    # the paired s.e. sees the common noise cancel: 0.1 shift on a unit-variance base is decisive
    v = next(v for v in tab.verdicts() if (v.baseline, v.metric) == ("a", "within_var_error"))
    assert v.se < 1e-12 and v.diff == pytest.approx(-0.1)
    assert tab.counts(tab.verdicts(), ("baseline",))["b"]["tie"] >= 1


def test_exact_tie_band() -> None:
    def exact(method: str, a: float, b: float) -> TransferRow:
        r = TransferRow(
            "gm",
            "heun",
            5,
            method,
            {"mode_fraction_error": a, "std_error": b},
            {"mode_fraction_error": 0.0, "std_error": 0.0},
            np.geomspace(80, 0.002, 6),
        )
        return r

    tab = TransferTable([exact(AWARE, 1.0, 1.0), exact("x", 1.005, 2.0)], TransferSettings())
    out = {v.metric: v.outcome for v in tab.verdicts(exact_rtol=0.01)}
    assert out == {"mode_fraction_error": "tie", "std_error": "win"}
    assert {v.metric: v.outcome for v in tab.verdicts(exact_rtol=0.001)}[
        "mode_fraction_error"
    ] == "win"


def test_cw_small_case_has_paired_error_bars() -> None:
    tab = compare_transfer(
        models=("cw",),
        samplers=("dpmpp-2m",),
        steps=(3,),
        methods=(AWARE, "loglinear"),
        settings=SMALL,
    )
    assert tab.complete() == []
    for r in tab.rows:
        assert set(r.paired) == set(METRICS["cw"]) and r.paired["within_var_error"].size == 300
        assert all(s > 0 for s in r.stderrs.values())
    (v1, v2) = tab.verdicts()
    assert v1.se > 0 and v2.se > 0


def test_network_case_and_the_floor() -> None:
    st = TransferSettings(batches=2, batch=40, projections=16)
    tab = compare_transfer(
        models=("digits",), samplers=("heun",), steps=(2,), methods=(AWARE, "ays"), settings=st
    )
    assert tab.complete() == [] and set(tab.floors["digits"]) == {"fd", "sw"}
    ays = tab.row("digits", "heun", 2, "ays")
    assert ays.grid[0] == pytest.approx(14.6146412293) and ays.paired["fd"].size == 2
    fig = plot_transfer(tab)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles.count("trained digits network\nsampler: Heun") == 2  # fd and sw
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "Fréchet distance to held-out",
        "sliced $W_2$ to held-out",
    ]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[:2] == [label(AWARE), label("ays")] and "train vs held-out" in labels


def test_compare_schedules_runs_given_grids_from_their_own_start() -> None:
    # a grid starting below the model's sigma_max starts from the same noise, scaled
    mdl = load_model("digits")
    g = np.geomspace(14.0, 0.01, 4)
    comp = compare_schedules(
        "digits", (3,), batches=2, batch=30, projections=8, model=mdl, grids={"x": {3: g}}
    )
    from symsched.datasets import split
    from symsched.metrics import frechet_distance

    with torch.no_grad():
        out = NETWORK_SAMPLERS["heun"](mdl, start_noise(30, 64, 80.0, 0) * (14.0 / 80.0), g)
    assert comp.fd["x"][3][0] == pytest.approx(
        frechet_distance(out.numpy(), split("digits", "heldout"))
    )
    with pytest.raises(ValueError, match="no grid for N = 4"):
        compare_schedules("digits", (4,), batches=2, batch=30, model=mdl, grids={"x": {3: g}})
    with pytest.raises(ValueError, match="outside the model's range"):
        compare_schedules(
            "digits",
            (3,),
            batches=2,
            batch=30,
            model=mdl,
            grids={"x": {3: np.geomspace(700, 0.01, 4)}},
        )


def test_bad_requests() -> None:
    with pytest.raises(ValueError, match="model"):
        compare_transfer(models=("mnist",))
    with pytest.raises(ValueError, match="must include"):
        compare_transfer(models=("gm",), methods=("loglinear",))
    with pytest.raises(ValueError, match="steps"):
        compare_transfer(models=("gm",), steps=(1,))
    with pytest.raises(ValueError, match="sampler"):
        compare_transfer(models=("gm",), samplers=("ancestral",))
    assert proxy_spectrum("digits").size == 64 and proxy_spectrum("cw", SMALL).size == 10
