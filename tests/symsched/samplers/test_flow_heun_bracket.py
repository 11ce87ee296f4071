"""Flow-Heun's step bracket where its two terms cancel: the vectorised factored form (roots at 40
digits, double-double differences) against exact rational arithmetic on the same float64 inputs,
and the integer evaluation against Python's ``Fraction`` arithmetic of the polynomial's terms."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched.samplers import flow_heun as fh
from symsched_verify import tolerances as tol

Step = tuple[str, float, float, np.ndarray]
KEYS = st.sampled_from(["poly", "poly0"])


@st.composite
def steps(draw: st.DrawFn) -> Step:
    key = draw(KEYS)
    bk = 10.0 ** draw(st.floats(-290.0, 290.0))
    ak = math.inf if key == "poly0" else bk / draw(st.floats(0.02, 0.999))
    rel = draw(st.lists(st.floats(-1e-6, 1e-6), min_size=1, max_size=12))
    wide = draw(st.lists(st.floats(-300.0, 300.0), min_size=1, max_size=12))
    lam = np.array([bk * (1 + r) for r in rel] + [10.0**w for w in wide] + [bk])
    return key, ak, bk, lam


@settings(max_examples=150, deadline=None)
@given(steps())
def test_factored_form_equals_exact_rational_arithmetic(case: Step) -> None:
    key, ak, bk, lam = case
    want_log, want_sign = fh._log_abs_exact(key, ak, bk, lam)
    got = fh._log_abs_by_roots(key, ak, bk, lam)
    assert got is not None  # the bracket is a quadratic in lambda
    got_log, got_sign = got
    fin = np.isfinite(want_log)
    assert np.array_equal(np.isfinite(got_log), fin)
    assert np.array_equal(got_sign[fin], want_sign[fin])
    np.testing.assert_allclose(got_log[fin], want_log[fin], rtol=0, atol=tol.BRACKET_LOG_ATOL)


@settings(max_examples=40, deadline=None)
@given(steps())
def test_integer_horner_equals_fraction_sum_of_terms(case: Step) -> None:
    key, ak, bk, lam = case
    fa, fb = (Fraction(0) if math.isinf(ak) else Fraction(ak)), Fraction(bk)
    logs, signs = fh._log_abs_exact(key, ak, bk, lam)
    for lv, lg, sg in zip(lam.tolist(), logs, signs, strict=True):
        fl = Fraction(lv)
        val = sum((c * fa**i * fb**j * fl**k for c, i, j, k in fh._exact_poly(key)), Fraction(0))
        assert sg == (val > 0) - (val < 0)
        if val:
            want = math.log(abs(val.numerator)) - math.log(val.denominator)
            assert abs(lg - want) <= tol.BRACKET_LOG_ATOL
        else:
            assert lg == -math.inf
