"""The pretrained-model ranking (symsched.schedules.pretrained, [sun2026, §7]): each strategy's
grid against an independent transcription of its definition, the models' ranges against their
training tables computed here from the betas, and the ranking against exact KLs recomputed here.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from symsched.gaussian import exact
from symsched.schedules import pretrained as P

LAM = np.array([0.01, 0.2, 1.0, 3.0])


def _table(kind: str) -> np.ndarray:
    """sqrt((1 - abar) / abar) of the 1000-step table, from its betas (float64)."""
    t = np.arange(1000)
    if kind == "linear":
        betas = np.linspace(1e-4, 0.02, 1000)
    elif kind == "scaled_linear":
        betas = np.linspace(0.00085**0.5, 0.012**0.5, 1000) ** 2
    else:  # squaredcos_cap_v2: alpha_bar(t) = cos^2((t/T + 0.008) / 1.008 pi/2), beta <= 0.999
        f = lambda x: math.cos((x + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
        betas = np.array([min(1 - f((i + 1) / 1000) / f(i / 1000), 0.999) for i in t])
    abar = np.cumprod(1.0 - betas)
    return np.sqrt((1 - abar) / abar)


@pytest.mark.parametrize(
    ("model", "kind"),
    [("ddpm-linear", "linear"), ("ddpm-cosine", "squaredcos_cap_v2"), ("sd15", "scaled_linear")],
)
def test_model_range_is_the_tables_ends(model: str, kind: str) -> None:
    tab = _table(kind)
    lo, hi = P.model_range(model)
    assert lo == pytest.approx(tab[0], rel=1e-6) and hi == pytest.approx(tab[-1], rel=1e-6)
    assert P.model_range("sdxl") == P.model_range("sd15")


def test_model_range_of_the_continuous_models() -> None:
    assert P.model_range("edm") == (0.002, 80.0)
    assert P.model_range("flow") == (0.0, math.inf)
    with pytest.raises(ValueError, match="model"):
        P.model_range("sd3")


def test_applies() -> None:
    assert P.applies("sd15", "ays") and P.applies("sdxl", "ays")
    assert not P.applies("edm", "ays") and not P.applies("ddpm-linear", "ays")
    assert not P.applies("flow", "logsnr-uniform") and not P.applies("flow", "edm-rho7")
    assert P.applies("flow", "uniform-t") and P.applies("edm", "edm-rho7")


@pytest.mark.parametrize(
    ("sampler", "nfe", "steps"), [("ddim", 10, 10), ("heun", 10, 5), ("heun", 1, 1), ("heun", 7, 3)]
)
def test_steps_for_divides_by_the_evaluations_per_step(sampler: str, nfe: int, steps: int) -> None:
    assert P.steps_for(sampler, nfe) == steps


def test_uniform_and_quadratic_in_time_on_a_table() -> None:
    # levels at fractional training times by log-sigma interpolation (k-diffusion's
    # DiscreteSchedule): t_k from T - 1 to 0, uniform or quadratic in k / N
    tab = _table("linear")
    n = 4
    u = np.arange(n + 1) / n
    for strategy, t in (("uniform-t", 999.0 * (1 - u)), ("quadratic-t", 999.0 * (1 - u) ** 2)):
        want = np.exp(np.interp(t, np.arange(1000), np.log(tab)))
        got = P.strategy_grid("ddpm-linear", strategy, n)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        assert got.size == n + 1 and got[0] == P.model_range("ddpm-linear")[1]
        assert got[-1] == P.model_range("ddpm-linear")[0]


def test_edm_strategies() -> None:
    n = 5
    u = np.arange(n + 1) / n
    lo, hi = 0.002, 80.0
    np.testing.assert_allclose(P.strategy_grid("edm", "uniform-t", n), hi + u * (lo - hi))
    np.testing.assert_allclose(
        P.strategy_grid("edm", "quadratic-t", n), lo + (hi - lo) * (1 - u) ** 2
    )
    np.testing.assert_allclose(P.strategy_grid("edm", "logsnr-uniform", n), hi * (lo / hi) ** u)
    rho = 7.0
    karras = (hi ** (1 / rho) + u * (lo ** (1 / rho) - hi ** (1 / rho))) ** rho
    np.testing.assert_allclose(P.strategy_grid("edm", "edm-rho7", n), karras, rtol=1e-12)


def test_flow_strategies_run_from_pure_noise_to_zero() -> None:
    n = 4
    u = np.arange(n + 1) / n
    for strategy, t in (("uniform-t", 1 - u), ("quadratic-t", (1 - u) ** 2)):
        g = P.strategy_grid("flow", strategy, n)
        assert g[0] == math.inf and g[-1] == 0.0
        np.testing.assert_allclose(g[1:-1], t[1:-1] / (1 - t[1:-1]), rtol=1e-12)  # sigma = t/(1-t)
    with pytest.raises(ValueError, match="finite positive ends"):
        P.strategy_grid("flow", "edm-rho7", n)


def test_ays_is_the_published_ten_step_table_and_refused_elsewhere() -> None:
    # Sabour et al. 2024, Table 3 (SD 1.5), between the model's ends; the shipped table is
    # ComfyUI's 10-decimal one, within 3.2e-3 relative of the paper's 3 decimals (0.3977 / 0.399)
    g = P.strategy_grid("sd15", "ays", 10)
    paper = [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029]
    np.testing.assert_allclose(g[1:-1], paper[1:-1], rtol=4e-3)
    lo, hi = P.model_range("sd15")
    assert g[0] == hi and g[-1] == lo and g.size == 11
    with pytest.raises(ValueError, match="has no table"):
        P.strategy_grid("edm", "ays", 10)


@pytest.mark.parametrize("strategy", ["tangent", "variational", "kl-optimal", "sampler-optimal"])
def test_spectrum_strategies_need_the_spectrum_and_span_the_range(strategy: str) -> None:
    with pytest.raises(ValueError, match="needs the data spectrum"):
        P.strategy_grid("edm", strategy, 5)
    g = P.strategy_grid("edm", strategy, 5, LAM)
    assert g.size == 6 and g[0] == 80.0 and g[-1] == 0.002 and np.all(np.diff(g) < 0)


def test_kl_optimal_beats_every_fixed_strategy_on_its_own_objective() -> None:
    kl = {
        s: exact.kl(LAM, P.strategy_grid("edm", s, 6, LAM)).kl_source_output
        for s in ("uniform-t", "quadratic-t", "logsnr-uniform", "edm-rho7", "kl-optimal")
    }
    assert kl["kl-optimal"] <= min(kl.values()) * (1 + 1e-9)


def test_rank_recomputes_each_kl_and_orders_by_it() -> None:
    nfes = (4, 8)
    r = P.rank("ddpm-linear", LAM, nfes, ["uniform-t", "edm-rho7", "kl-optimal"], sampler="heun")
    assert r.model == "ddpm-linear" and r.sampler == "heun" and r.nfes == nfes
    for s in r.strategies:
        for i, nfe in enumerate(nfes):
            grid = P.strategy_grid("ddpm-linear", s, nfe // 2, LAM)
            k = exact.kl(LAM, grid, sampler="heun")
            assert r.kl_source_output[s][i] == k.kl_source_output
            assert r.kl_output_source[s][i] == k.kl_output_source
    for i, nfe in enumerate(nfes):
        order = r.ranks()[nfe]
        vals = [r.kl_source_output[s][i] for s in order]
        assert vals == sorted(vals) and set(order) == set(r.strategies)
    js = r.to_json()
    assert js["ranking"] == {str(k): v for k, v in r.ranks().items()}
    assert js["kl_source_output"] == r.kl_source_output and js["nfes"] == list(nfes)


def test_rank_defaults_to_every_strategy_that_applies() -> None:
    r = P.rank("flow", LAM, (3,), None)
    assert r.strategies == tuple(s for s in P.STRATEGIES if P.applies("flow", s))
    with pytest.raises(ValueError, match="strategy"):
        P.rank("edm", LAM, (3,), ["karras"])


def test_plot_has_one_labelled_line_per_strategy_with_log_axes() -> None:
    r = P.rank("edm", LAM, (3, 6), ["uniform-t", "edm-rho7"])
    fig = P.plot(r)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["uniform t", "karras $\\rho = 7$"]
    for ln, s in zip(lines, r.strategies, strict=True):
        assert list(ln.get_xdata()) == [3, 6]
        assert list(ln.get_ydata()) == r.kl_source_output[s]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "edm" in ax.get_title() and "ddim" in ax.get_title() and "NFE" in ax.get_xlabel()
    plt.close(fig)


@pytest.mark.parametrize("strategy", ["tangent", "variational", "kl-optimal"])
def test_spectrum_strategies_are_the_registered_methods_between_the_models_ends(
    strategy: str,
) -> None:
    from symsched import build

    want = build(strategy, 5, eigenvalues=LAM, sigma_min=0.002, sigma_max=80.0).sigmas
    np.testing.assert_allclose(P.strategy_grid("edm", strategy, 5, LAM), want, rtol=1e-9)


def test_plot_into_a_callers_axes_returns_the_root_figure_without_a_legend() -> None:
    from matplotlib.figure import Figure

    r = P.rank("edm", LAM, (3, 6), ["uniform-t", "edm-rho7"])
    root = Figure()
    ax = root.subfigures(1, 2)[0].add_subplot()
    out = P.plot(r, ax=ax, title="my model")
    assert out is root and ax.get_legend() is None and ax.get_title() == "my model"
    assert len(ax.get_lines()) == 2
    own = P.plot(r)
    own_ax = own.axes[0]
    assert own_ax.get_legend() is not None
    assert [t.get_text() for t in own_ax.get_legend().get_texts()] == [
        "uniform t",
        "karras $\\rho = 7$",
    ]
    assert any(g.get_visible() for g in own_ax.get_xgridlines())
    plt.close(own)
