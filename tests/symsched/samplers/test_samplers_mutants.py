"""Behaviour of the samplers' shared core that the mutation run found unchecked
(docs/mutation.md): the 40-digit linear recursion against the float64 one, and the memory
estimate against the arrays a run allocates."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from symsched.gaussian import exact
from symsched.samplers import SAMPLERS, get_sampler
from symsched.samplers._linear import compiled_linear_map, propagate

SPECTRUM = np.array([0.004, 0.05, 0.3, 1.5, 7.0])
GRIDS = {
    "finite-to-zero": [80.0, 12.0, 3.0, 0.7, 0.1, 0.0],
    "finite-to-positive": [60.0, 9.0, 2.0, 0.4, 0.002],
    "pure-to-zero": [math.inf, 20.0, 3.0, 0.5, 0.05, 0.0],
    "pure-to-positive": [math.inf, 15.0, 1.0, 0.01],
    "one-step": [5.0, 0.0],
}


def _mp_propagate(name: str, lv: float, grid: list[float]) -> tuple[float, float]:
    smp = get_sampler(name)
    kv = smp.knob_values(smp.make_knobs())
    with mpmath.workdps(40):
        levels = [mpmath.mpf(g) if math.isfinite(g) else math.inf for g in grid]
        lam = mpmath.mpf(lv)
        std0 = None if math.isinf(grid[0]) else mpmath.sqrt(lam + levels[0] ** 2)
        u, v = propagate(
            compiled_linear_map(name, "mpmath"), lam, levels, std0, kv, backend="mpmath"
        )
        return float(u), float(v)


@pytest.mark.parametrize("grid_name", sorted(GRIDS))
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_mpmath_recursion_equals_float64_recursion_and_each_samplers_ratio(
    name: str, grid_name: str
) -> None:
    # the 40-digit branch of propagate is a second implementation of the same recursion: its
    # (u_N, v_N) must equal the array branch's, and the variance ratio they give must equal the
    # sampler's own cancellation-free ratio (an independent closed form)
    smp = get_sampler(name)
    grid = GRIDS[grid_name]
    if math.isinf(grid[0]) and not smp.pure_noise_start:
        with pytest.raises(ValueError, match="pure noise"):
            _mp_propagate(name, 1.0, grid)
        return
    kv = smp.knob_values(smp.make_knobs())
    std0 = None if math.isinf(grid[0]) else np.sqrt(SPECTRUM + grid[0] ** 2)
    un, vn = propagate(smp.linear_map_form(), SPECTRUM, grid, std0, kv)
    un = np.broadcast_to(un, SPECTRUM.shape)
    vn = np.broadcast_to(vn, SPECTRUM.shape)
    ratio = exact.variance_ratios(SPECTRUM, np.asarray(grid), sampler=name)
    for i, lv in enumerate(SPECTRUM):
        um, vm = _mp_propagate(name, float(lv), grid)
        assert um == pytest.approx(float(un[i]), rel=1e-12, abs=1e-300)
        assert vm == pytest.approx(float(vn[i]), rel=1e-12, abs=1e-300)
        r = (um * um + vm) / (lv + grid[-1] ** 2)
        assert r == pytest.approx(float(ratio[i]), rel=1e-10)


@pytest.mark.parametrize("top", [1 / 3, 0.3, 0.1, 1e-2, 1e-4, 1e-8, 0.0])
def test_atanh_odd_tail_is_correct_to_the_last_ulp_for_every_magnitude(top: float) -> None:
    # sum_j u^(2j) / (2j + 3) = (atanh(u) - u) / u^3; the number of terms adapts to the largest
    # |u| of the array, so each magnitude must still give every element to ~1 ulp
    from symsched.samplers._stable import _atanh_odd_tail

    u = np.array([top, -top / 2, top / 7, top * 1e-3, 0.0])
    got = _atanh_odd_tail(u)
    with mpmath.workdps(50):
        for ui, gi in zip(u, got, strict=True):
            m = mpmath.mpf(float(ui))
            ref = mpmath.mpf(1) / 3 if m == 0 else (mpmath.atanh(m) - m) / m**3
            assert abs(gi - ref) <= 4e-16 * ref, (ui, gi, ref)


def test_memory_estimate_bounds_what_a_run_allocates() -> None:
    # the size guard's estimate (16 float64 d-vectors plus 8 copies of the grid) must cover
    # the peak of an actual run, and not overstate it by more than the budget's headroom
    import tracemalloc

    d = 200_000
    lam = np.geomspace(1e-4, 1e2, d)
    grid = np.geomspace(80.0, 0.002, 21)
    for name in ("ddim", "heun", "dpmpp-2m"):
        smp = get_sampler(name)
        est, driver = smp.memory_estimate(d, 20)
        assert driver == "eigenvalues"
        exact.variance_ratios(lam, grid, sampler=name)  # warm: compiled forms, caches
        tracemalloc.start()
        exact.variance_ratios(lam, grid, sampler=name)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= est, (name, peak, est)
        assert est <= 16 * peak, (name, peak, est)
    est_n, driver_n = get_sampler("ddim").memory_estimate(10, 10**6)
    assert driver_n == "steps" and est_n >= 8.0 * (10**6 + 1)  # at least the grid itself


X_GRID = np.concatenate(
    [-np.geomspace(0.999, 1e-12, 60), [0.0], np.geomspace(1e-12, 1e6, 80), [0.5, -0.5, 1.5]]
)


@pytest.mark.parametrize("fn", ["log1pmx", "log1pmx_over_x", "log1p_over_x"])
def test_cancellation_free_logs_are_correct_to_a_few_ulps_across_the_switch(fn: str) -> None:
    # each switches from a series to log1p at a threshold; on both sides (and at it) the value
    # must be the 50-digit one to a few ulps
    from symsched.samplers import _stable

    got = getattr(_stable, fn)(X_GRID)
    with mpmath.workdps(50):
        for xi, gi in zip(X_GRID, got, strict=True):
            m = mpmath.mpf(float(xi))
            if fn == "log1pmx":
                ref = mpmath.log1p(m) - m
            elif m == 0:
                ref = mpmath.mpf(0) if fn == "log1pmx_over_x" else mpmath.mpf(1)
            elif fn == "log1pmx_over_x":
                ref = (mpmath.log1p(m) - m) / m
            else:
                ref = mpmath.log1p(m) / m
            rtol = 7e-13 if fn == "log1pmx" else 8e-16
            assert abs(gi - ref) <= rtol * abs(ref) + 1e-300, (fn, xi, gi, ref)


def _log_form_cases() -> list[tuple[str, object, list[object], int]]:
    import sympy as sp

    a, b, lam = sp.symbols("a b lam", nonnegative=True)
    return [
        ("number", sp.Integer(-3) * a, [], -1),
        ("quotient", a**2 * b / (a + b) ** 3, [], 1),
        ("even power of a difference", (a - b) ** 2, [], 1),
        ("odd power of a difference", (a - b) ** 3 / a, [], 0),
        ("odd power of a known-positive difference", (a - b) ** 3, [a - b], 1),
        ("negated known-positive difference", (b - a) * lam, [a - b], -1),
        ("root of a positive sum", sp.sqrt(a**2 + lam) * 2, [], 1),
        ("root of a known-positive difference", sp.sqrt(a - b), [a - b], 1),
        ("sum of negative terms", -a * lam - b, [], -1),
        ("difference of two inputs", 1 - lam, [], 0),
        ("inverse power", (a + 1) ** -3 * (lam + b), [], 1),
    ]


@pytest.mark.parametrize("case", _log_form_cases(), ids=lambda c: c[0])
def test_log_abs_form_gives_the_log_of_the_magnitude_and_the_sign(
    case: tuple[str, object, list[object], int],
) -> None:
    # the log form (log and logaddexp only) must equal log|expr| numerically, with the sign
    import sympy as sp

    from symsched.samplers._stable import log_abs_form

    _, expr, positive, sign = case
    form, got_sign = log_abs_form(expr, positive)  # type: ignore[arg-type]
    assert got_sign == sign
    a, b, lam = sp.symbols("a b lam", nonnegative=True)
    for av, bv, lv in ((3.0, 0.7, 0.2), (9.5, 2.25, 4.0), (1.3, 0.05, 0.9)):
        subs = {a: av, b: bv, lam: lv}
        value = complex(sp.sympify(expr).subs(subs))
        with mpmath.workdps(30):
            want = mpmath.log(abs(value))
        plain = form.replace(
            lambda e: e.func.__name__ == "logaddexp",
            lambda e: sp.log(sp.exp(e.args[0]) + sp.exp(e.args[1])),
        )
        have = sp.N(plain.subs(subs), 30)
        assert float(have) == pytest.approx(float(want), rel=1e-12, abs=1e-13)
        if sign != 0:
            assert np.sign(value.real) == sign


@pytest.mark.parametrize("expr_text", ["a - b * lam", "a**(1/3) * (a - b)**(1/2)", "a**b"])
def test_log_abs_form_refuses_what_it_cannot_sign(expr_text: str) -> None:
    import sympy as sp

    from symsched.samplers._stable import log_abs_form

    a, b, lam = sp.symbols("a b lam", nonnegative=True)
    expr = sp.sympify(expr_text, locals={"a": a, "b": b, "lam": lam})
    with pytest.raises(ValueError, match="log form"):
        log_abs_form(expr)


@pytest.mark.parametrize("name", ["ddim", "heun"])
def test_network_samplers_on_the_exact_gaussian_denoiser_give_the_closed_form_ratio(
    name: str,
) -> None:
    # D(x, sigma) = lam / (lam + sigma^2) x is the exact denoiser of N(0, diag(lam)); the
    # network sampler is linear in x, so started from x_0 = sqrt(lam + sigma_0^2) its output
    # squared over lam + sigma_N^2 is the variance ratio of the closed form
    import importlib

    import torch

    module = importlib.import_module(f"symsched.samplers.{name}")
    lam = torch.as_tensor(SPECTRUM)
    grid = np.array([80.0, 12.0, 3.0, 0.7, 0.1, 0.01])

    def denoiser(x: torch.Tensor, sigma: float) -> torch.Tensor:
        return lam / (lam + sigma**2) * x

    x0 = torch.sqrt(lam + grid[0] ** 2)[None, :]
    out = module.sample(denoiser, x0, grid)[0].numpy()
    ratio = out**2 / (SPECTRUM + grid[-1] ** 2)
    np.testing.assert_allclose(
        ratio, exact.variance_ratios(SPECTRUM, grid, sampler=name), rtol=1e-11
    )
    with pytest.raises(TypeError, match=r"floating torch\.Tensor"):
        module.sample(denoiser, x0.numpy(), grid)
    with pytest.raises(TypeError, match=r"floating torch\.Tensor"):
        module.sample(denoiser, x0.to(torch.int64), grid)
    with pytest.raises(ValueError, match="finite"):
        module.sample(denoiser, x0, np.array([math.inf, 1.0, 0.1]))
    with pytest.raises(TypeError, match="callable"):
        module.sample("denoiser", x0, grid)


def test_sum_log_steps_spans_every_block_once_and_leaves_its_input_alone() -> None:
    # more eigenvalues than one block: each eigenvalue's steps are summed exactly once, and
    # the caller's running total is not written into
    from symsched.samplers._stable import EIGEN_BLOCK, sum_log_steps

    d = 2 * EIGEN_BLOCK + 123
    lam = np.geomspace(1e-3, 1e3, d)
    sigmas = np.array([10.0, 3.0, 1.0, 0.2])
    total = np.full(d, 0.25)
    kept = total.copy()

    def step(a: float, b: float, lam_b: np.ndarray, mask_b: np.ndarray) -> np.ndarray:
        return np.log1p(lam_b / a) - np.log1p(lam_b / b) + 0 * mask_b

    out = sum_log_steps(step, lam, sigmas, total)
    want = 0.25 + np.log1p(lam / 10.0) - np.log1p(lam / 0.2)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)
    assert np.array_equal(total, kept)


def test_a_sampler_name_cannot_be_registered_by_another_class() -> None:
    from symsched.samplers._base import SAMPLERS, register_sampler

    ddim_cls = type(SAMPLERS["ddim"])
    assert register_sampler(ddim_cls) is ddim_cls  # the same class again (a reload): allowed
    assert type(SAMPLERS["ddim"]) is ddim_cls
    impostor = type("Impostor", (ddim_cls,), {})
    with pytest.raises(ValueError, match="registered twice"):
        register_sampler(impostor)
    assert type(SAMPLERS["ddim"]) is ddim_cls


def test_torch_backend_of_the_variance_ratios_is_a_tensor_equal_to_numpy() -> None:
    import torch

    smp = get_sampler("heun")
    grid = np.array([80.0, 12.0, 3.0, 0.7, 0.0])
    kn = smp.make_knobs()
    ref = smp.log_variance_ratios(SPECTRUM, grid, "exact", kn)
    got = smp.log_variance_ratios(SPECTRUM, grid, "exact", kn, backend="torch")
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    np.testing.assert_array_equal(got.numpy(), ref)


def test_cancellation_free_logs_have_their_limits_at_infinity() -> None:
    from symsched.samplers._stable import log1p_over_x, log1pmx_over_x

    assert float(log1p_over_x(np.array([math.inf]))[0]) == 0.0
    assert float(log1pmx_over_x(np.array([math.inf]))[0]) == -1.0


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_generated_linear_map_parts_are_those_of_the_symbolic_form(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the parts read from the generated code (no SymPy) must be the parts the SymPy form has;
    # without generated code (a fresh derivation) the form itself gives them
    from symsched import _compiled
    from symsched.samplers import _linear

    form = get_sampler(name).linear_map_form()
    want = tuple(
        p
        for p in _linear.LINEAR_MAP_PARTS
        if p in ("step", "first", "to_zero") or getattr(form, p) is not None
    )
    _linear.linear_map_parts.cache_clear()
    assert _linear.linear_map_parts(name) == want
    monkeypatch.setattr(_compiled, "generated_names", lambda: ())
    _linear.linear_map_parts.cache_clear()
    try:
        assert _linear.linear_map_parts(name) == want
    finally:
        monkeypatch.undo()
        _linear.linear_map_parts.cache_clear()
