"""The closed-form Gaussian Stein costs over the documented input range (docs/cli.md#input-range).

Interval costs, local metric and isotropic length for eigenvalues and levels log-uniform over
[1e-300, 1e300] (mixed with ordinary values) against the derived sigma-form expressions of
:mod:`symsched.stein._symbolic` evaluated in mpmath with enough digits for the VP map
:math:`\\sigma=\\rho/\\sqrt{1+\\rho^2}` (whose :math:`1-\\sigma^2` needs ~2 log10(rho) digits).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched._typing import FloatArray
from symsched.stein import _closed
from symsched.stein import _symbolic as S
from symsched.symbols import lam
from symsched_verify import tolerances as tol

DBL_MAX = sys.float_info.max
MP_MAX_HI = mpmath.mpf(DBL_MAX) * (1 + tol.INPUT_RANGE_RTOL)  # above: the float64 is inf
DBL_TINY = sys.float_info.min


def _clip(v: float) -> float:
    return min(max(v, 1e-300), 1e300)


def values() -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(-300.0, 300.0).map(lambda e: _clip(10.0**e)),
        st.floats(-3.0, 3.0).map(lambda e: 10.0**e),
        st.sampled_from([1e-300, 1e300, 1.0, 2.0e154]),
    )


def spectra() -> st.SearchStrategy[FloatArray]:
    return st.lists(values(), min_size=1, max_size=3).map(lambda v: np.array(v, dtype=np.float64))


def levels() -> st.SearchStrategy[FloatArray]:
    return st.lists(values(), min_size=2, max_size=5, unique=True).map(
        lambda v: np.array(sorted(v, reverse=True), dtype=np.float64)
    )


def _dps(*arrays: FloatArray) -> int:
    top = max(float(np.max(x)) for x in arrays)
    return 60 + 2 * max(0, math.ceil(math.log10(top)))


def _mp_sigma(rho: float, process: str) -> Any:
    r = mpmath.mpf(rho)
    return r if process == "ve" else r / mpmath.sqrt(1 + r * r)


def _assert_close(got: float, want: Any, what: object) -> None:
    assert not math.isnan(got), what
    if want > MP_MAX_HI:
        assert got == math.inf, (what, got, want)
    elif want < DBL_TINY:
        assert abs(got - want) <= tol.INPUT_RANGE_RTOL * want + tol.KL_SUBNORMAL_ATOL, what
    else:
        assert abs(got - want) <= tol.INPUT_RANGE_RTOL * want, (what, got, want)


@settings(max_examples=25)
@given(spectra(), levels(), st.sampled_from(["ve", "vp"]), st.sampled_from(["target", "source"]))
def test_interval_costs_match_the_derived_form(
    lam_v: FloatArray, lev: FloatArray, process: str, weight: str
) -> None:
    got = _closed.gaussian_interval_costs(lam_v, lev, process=process, weight=weight)
    f = sp.lambdify((S.sigma, S.sigma_t, lam), S.gaussian_interval_cost(process, weight), "mpmath")
    with mpmath.workdps(_dps(lev)):
        for i in range(lev.size - 1):
            src, tgt = _mp_sigma(lev[i], process), _mp_sigma(lev[i + 1], process)
            want = sum(f(src, tgt, mpmath.mpf(v)) for v in lam_v)
            _assert_close(float(got[i]), want, (process, weight, i))


@settings(max_examples=25)
@given(
    spectra(),
    st.lists(st.one_of(values(), st.just(0.0)), min_size=1, max_size=4),
    st.sampled_from(["ve", "vp"]),
)
def test_local_metric_matches_the_derived_form(
    lam_v: FloatArray, rho: list[float], process: str
) -> None:
    r = np.array(rho)
    got = _closed.gaussian_local_metric(lam_v, r, process=process)
    f = sp.lambdify((S.sigma, lam), S.gaussian_local_metric(process), "mpmath")
    with mpmath.workdps(_dps(r + 1.0)):
        for i, rv in enumerate(rho):
            sig = _mp_sigma(rv, process)
            dsig = 1 if process == "ve" else (1 + mpmath.mpf(rv) ** 2) ** mpmath.mpf(-1.5)
            want = sum(f(sig, mpmath.mpf(v)) for v in lam_v) * dsig**2
            _assert_close(float(got[i]), want, (process, i))


@settings(max_examples=25)
@given(values(), st.floats(1.0, 1e6), st.lists(values(), min_size=1, max_size=4))
def test_isotropic_length_matches_the_derived_form(c: float, dim: float, rho: list[float]) -> None:
    got = _closed.isotropic_length(c, dim, np.array(rho))
    f = sp.lambdify((S.sigma, S.c_iso, S.dim), S.isotropic_length(), "mpmath")
    for i, rv in enumerate(rho):
        # asinh(x) - x / sqrt(1 + x^2) ~ x^3 / 3 cancels 2 log10(1/x) digits for small x = rho / c
        digits = math.ceil(math.log10(c) - math.log10(rv))  # log10(1 / x)
        with mpmath.workdps(60 + 2 * max(0, min(700, digits))):
            want = f(mpmath.mpf(rv), mpmath.mpf(c), mpmath.mpf(dim))
        _assert_close(float(got[i]), want, i)


def test_vp_costs_no_longer_cancel_at_large_rho() -> None:
    # sigma_VP = rho / sqrt(1 + rho^2) rounds to 1 for rho > 1e8, so the sigma form's
    # 1 - sigma^2 = 1 / (1 + rho^2) was lost; the rho form keeps it
    lam_v = np.array([1e6])
    got = _closed.gaussian_local_metric(lam_v, np.array([1e9]), process="vp")
    want = 4 * 1e36 * (1e6 - 1) ** 2 / ((1e6 + 1e18) ** 3 * (1 + 1e18) ** 2)
    assert got[0] == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: _closed.gaussian_interval_costs([1.0], [1e301, 1.0]),
            r"levels must lie in \[1e-300",
        ),
        (lambda: _closed.gaussian_interval_costs([1e-301], [2.0, 1.0]), r"eigenvalues must lie"),
        (lambda: _closed.gaussian_local_metric([1.0], [1e-301]), r"rho must lie in \[1e-300"),
        (lambda: _closed.gaussian_local_metric([1.0], [-1.0]), "rho must be finite"),
        (lambda: _closed.isotropic_length(1.0, 1.0, [math.inf]), "rho must be finite"),
    ],
)
def test_out_of_range_stein_input_is_refused(call: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
