"""The generated numpy module (symsched/_generated.py) is the derivations' own code, and current.

(a) regenerating it from the SymPy derivations gives exactly the committed text, so a derivation
changed without ``python -m symsched._codegen`` fails here; (b) every generated function equals the
live ``lambdify`` of its derivation on drawn float64 inputs, within
:data:`symsched_verify.tolerances.GENERATED_CODE_ULPS`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched import _codegen, _compiled, _specs, numeric
from symsched_verify import tolerances as tol

NAMES = _specs.names()


def test_generated_module_is_current() -> None:
    assert _codegen.TARGET.read_text() == _codegen.generate(), (
        "symsched/_generated.py is stale: run python -m symsched._codegen"
    )


def test_every_spec_is_generated_and_nothing_else() -> None:
    assert tuple(_compiled.generated_names()) == NAMES


def _level(lo_exp: float, hi_exp: float) -> st.SearchStrategy[float]:
    return st.floats(lo_exp, hi_exp).map(lambda e: 10.0**e)


# Inputs inside the commands' fast window (levels 1e-3..1e3, eigenvalues 1e-4..1e4), progress in
# [0, 1], knobs (eta) in [0, 1]; each argument is drawn by its name.
_BY_NAME: dict[str, st.SearchStrategy[float]] = {
    "a": _level(-3, 3),
    "b": _level(-3, 3),
    "a_prev": _level(-3, 3),
    "lam": _level(-4, 4),
    "u": st.floats(0.0, 1.0),
    "t": st.floats(0.01, 0.99),
    "eta": st.floats(0.0, 1.0),
    "level": _level(-2, 1),
    "c": _level(-2, 2),
    "sigma_max": _level(1, 2),
    "sigma_min": _level(-3, -1),
    "karras_rho": st.floats(1.0, 10.0),
    "beta_min": st.floats(0.05, 0.5),
    "beta_max": st.floats(5.0, 25.0),
    "s_offset": st.floats(0.001, 0.05),
    "t_min": st.floats(0.0, 0.01),
    "t_max": st.floats(0.9, 1.0),
}


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_generated_function_equals_live_lambdify(name: str, data: st.DataObject) -> None:
    args, expr = _specs.derive_spec(name)
    live = numeric.lambdify(args, expr, "numpy")
    generated = _compiled.function(name)
    values = [np.float64(data.draw(_BY_NAME[q.name], label=q.name)) for q in args]
    want, got = live(*values), generated(*values)
    assert got.dtype == np.float64 and got.shape == want.shape
    if not np.isfinite(want).all():
        np.testing.assert_array_equal(got, want)
        return
    # the same printer and the same common subexpressions: the same float64 operations
    ulps = np.abs(got - want) / np.spacing(np.maximum(np.abs(want), np.finfo(np.float64).tiny))
    assert float(ulps.max()) <= tol.GENERATED_CODE_ULPS, (name, values, got, want)


def test_generated_functions_broadcast_like_lambdify() -> None:
    grid = np.linspace(0.0, 1.0, 5)
    f = _compiled.function("family.karras.rho")
    out = f(grid, 7.0, 80.0, 0.002)
    assert out.shape == (5,) and math.isclose(float(out[0]), 80.0, rel_tol=tol.EPS64 * 8)
    const = _compiled.function("linear.ddim.pure_noise")(np.ones(3), np.ones((2, 3)))
    assert const.shape == (2, 3)
