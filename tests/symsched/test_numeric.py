"""The lambdify bridge: broadcasting of constants, caching, torch/mpmath paths."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from symsched import numeric

x, y = sp.symbols("x y", positive=True)


def test_constant_expression_broadcasts_numpy() -> None:
    f = numeric.lambdify((x,), sp.Integer(1))
    out = f(np.linspace(0, 1, 5))
    assert out.shape == (5,) and out.dtype == np.float64 and np.all(out == 1)


def test_partly_constant_broadcasts_to_all_inputs() -> None:
    f = numeric.lambdify((x, y), 2 * x)
    assert f(np.ones(3), np.ones((2, 1))).shape == (2, 3)


def test_constant_expression_broadcasts_torch() -> None:
    torch = pytest.importorskip("torch")
    f = numeric.lambdify((x,), sp.Integer(3), "torch")
    out = f(torch.zeros(4, dtype=torch.float32))
    assert out.shape == (4,) and torch.all(out == 3)
    g = numeric.lambdify((x,), x, "torch")
    assert g([1.0, 2.0]).dtype == torch.float64  # float64 by default


def test_stable_functions_on_torch() -> None:
    torch = pytest.importorskip("torch")
    e = numeric.EXPM1(x) + numeric.LOG1P(x)
    f = numeric.lambdify((x,), e, "torch")
    v = f(torch.tensor([1e-12], dtype=torch.float64))
    assert float(v[0]) == pytest.approx(2e-12, rel=1e-10)


def test_mpmath_backend_keeps_precision() -> None:
    f = numeric.lambdify((x,), numeric.EXPM1(x), "mpmath")
    with mpmath.workdps(40):
        v = f(mpmath.mpf("1e-30"))
        assert abs(v - mpmath.mpf("1e-30")) < mpmath.mpf("1e-59")


def test_compiled_functions_are_cached() -> None:
    numeric.lambdify((x,), x**2 + 1)
    hits = numeric._compile.cache_info().hits
    numeric.lambdify((x,), x**2 + 1)
    assert numeric._compile.cache_info().hits == hits + 1


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        numeric.lambdify((x,), x, "cupy")
