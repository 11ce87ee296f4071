"""Numerics of the coupling error (docs/theory/coupling.md): scale invariance of the float64
route against the 30-digit recursion, a start far above the data against the pure-noise start,
the large-ratio branch of its logs against 40 digits, and the weights' refusals."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from symsched._typing import FloatArray
from symsched.gaussian import coupling
from symsched.samplers import get_sampler
from symsched_verify import tolerances as tol

SPECTRUM = np.array([0.004, 0.05, 0.3, 1.5, 7.0])


@pytest.mark.parametrize(
    "weights",
    [[1.0, math.inf, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, -math.inf, 1.0]],
    ids=["inf", "-inf"],
)
def test_infinite_coupling_weights_are_refused(weights: list[float]) -> None:
    grid = np.array([80.0, 3.0, 0.1, 0.0])
    with pytest.raises(ValueError, match="weights must be 5 finite positive numbers"):
        coupling.coupling_error(SPECTRUM, grid, weights=weights)


# euler-vp is left out: its VP time map alpha = 1 / sqrt(1 + sigma^2) fixes an absolute scale
@pytest.mark.parametrize("name", ["ancestral", "ddim", "heun", "dpmpp-2m"])
@pytest.mark.parametrize("scale", [1.0, 1e-100, 1e-60, 1e-30, 1e40, 1e100])
def test_coupling_terms_are_invariant_under_a_common_rescaling(name: str, scale: float) -> None:
    # c_i is dimensionless: lambda -> s^2 lambda, sigma -> s sigma leaves it unchanged (an exact
    # property of the Gaussian problem). At s = 1e-100 the plain float64 recursion of the
    # ancestral noise b^2 (a - b)(a + b) / a^2 underflows (~1e-400) without turning non-finite;
    # every scale must give the 30-digit recursion's value at s = 1 (a finite start: sigma_0
    # enters the start's variance).
    sig = np.array([80.0, 10.0, 3.0, 0.5, 0.02])
    lam = np.array([1e-3, 0.2, 1.0, 10.0])
    kn = {"eta": 0.6} if name == "ancestral" else {}
    want = [float(coupling.coupling_error_mpmath([lv], sig, sampler=name, knobs=kn)) for lv in lam]
    got = coupling.coupling_terms(lam * scale**2, sig * scale, sampler=name, **kn)
    bound = tol.dpm_mp_rtol(sig.tolist()) if name == "dpmpp-2m" else tol.COUPLING_MP_RTOL
    np.testing.assert_allclose(got, want, rtol=bound)


def test_a_start_far_above_the_data_is_the_pure_noise_start() -> None:
    # sigma_0 = 1e200 leaves the float64 window, so these entries come from the 30-digit
    # recursion; the start's variance lambda + sigma_0^2 then carries no memory of the data (its
    # effect is O(lambda / sigma_0^2) ~ 1e-400), so the terms equal the pure-noise start's, which
    # runs in float64 with its own closed-form first step
    lam = np.array([1e-3, 1.0, 10.0])
    far = coupling.coupling_terms(lam, [1e200, 1e100, 3.0, 0.5], sampler="ancestral", eta=0.6)
    pure = coupling.coupling_terms(lam, [math.inf, 1e100, 3.0, 0.5], sampler="ancestral", eta=0.6)
    np.testing.assert_allclose(far, pure, rtol=tol.COUPLING_MP_RTOL)


def test_large_variance_ratios_keep_the_coupling_logs_exact() -> None:
    # ln c_i for h = ln(r_i) / 2 beyond 30, where e^h alone is near overflow and the formula
    # switches to 2 h + 2 log1p(-s e^-h): against 40 digits of ln (e^h - s)^2 with s = sign(q_i)
    # (the e^-h term is ~4e-15 of the value at h = 30.1, inside the tolerance's reach)
    lam = np.array([0.01, 0.1, 1.0, 10.0, 100.0])
    sig = np.array([80.0, 3.0, 0.1, 0.0])
    for name in ("ddim", "euler-vp"):
        smp = get_sampler(name)
        kn = smp.make_knobs()
        sign = coupling._gain_signs(smp, lam, sig, kn)
        lr = np.array([61.0, 75.5, 200.0, 1500.0, 60.2])  # h = 30.5 ... 750
        got = coupling._log_coupling_terms(smp, lam, sig, kn, lr)
        with mpmath.workdps(40):
            want = [
                float(2 * mpmath.log(abs(mpmath.exp(mpmath.mpf(x) / 2) - int(s))))
                for x, s in zip(lr, sign, strict=True)
            ]
        np.testing.assert_allclose(got, want, rtol=1e-15)


def _ancestral_terms_and_fallbacks(
    lam: FloatArray, sig: FloatArray
) -> tuple[FloatArray, list[float]]:
    """The ancestral (eta = 0.6) coupling terms, and the eigenvalues sent to the 30-digit
    recursion while computing them."""
    calls: list[float] = []
    real = coupling._propagate_mp

    def counted(smp: object, lv: float, *args: object) -> object:
        calls.append(lv)
        return real(smp, lv, *args)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(coupling, "_propagate_mp", counted)
        got = coupling.coupling_terms(lam, sig, sampler="ancestral", eta=0.6)
    return got, calls


@pytest.mark.parametrize("last", [0.02, 0.0])
def test_extreme_eigenvalues_stay_on_the_float64_route_and_match_30_digits(last: float) -> None:
    # the eigenvalues enter the ancestral recursion only through lambda + a^2 and
    # lambda / (a^2 + lambda): from 1e-300 to 1e300 the float64 route needs no fallback
    sig = np.array([80.0, 10.0, 3.0, 0.5, last])
    lam = np.array([1e-300, 1e-200, 1e-160, 1e160, 1e200, 1e300])
    got, calls = _ancestral_terms_and_fallbacks(lam, sig)
    assert calls == []
    want = [
        float(coupling.coupling_error_mpmath([lv], sig, sampler="ancestral", knobs={"eta": 0.6}))
        for lv in lam
    ]
    np.testing.assert_allclose(got, want, rtol=tol.COUPLING_MP_RTOL)


def test_a_grid_spanning_more_than_the_float64_window_takes_the_fallback() -> None:
    # levels 1e100 .. 5e-101 (a span of 2e200 > 1e150): the float64 recursion's sigma_up^2
    # would underflow, so every entry comes from the 30-digit recursion, and matches it
    sig = np.array([1e100, 1.0, 3e-100, 5e-101])
    lam = np.array([1e-203, 1e-200, 1e-199])
    got, calls = _ancestral_terms_and_fallbacks(lam, sig)
    assert sorted(calls) == sorted(lam.tolist())
    want = [
        float(coupling.coupling_error_mpmath([lv], sig, sampler="ancestral", knobs={"eta": 0.6}))
        for lv in lam
    ]
    np.testing.assert_allclose(got, want, rtol=tol.COUPLING_MP_RTOL)


def test_ancestral_outside_the_float64_range_comes_from_mpmath_and_matches_it() -> None:
    # sigma_0 = 1e200: lambda + sigma_0^2 overflows float64, so these entries take the fallback
    sig = np.array([1e200, 1e100, 3.0, 0.5])  # ending above 0: the weights' sigma_N^2 counts
    lam = np.array([1e-3, 1.0, 10.0])
    c, calls = _ancestral_terms_and_fallbacks(lam, sig)
    assert sorted(calls) == sorted(lam.tolist())  # every entry took the fallback
    q, frac = coupling.gain_ratios(lam, sig, sampler="ancestral", eta=0.6)
    assert np.all(np.isfinite(q)) and np.all(np.isfinite(frac)) and np.all(frac > 0)
    want = [
        float(coupling.coupling_error_mpmath([lv], sig, sampler="ancestral", knobs={"eta": 0.6}))
        for lv in lam
    ]
    np.testing.assert_allclose(c, want, rtol=tol.COUPLING_MP_RTOL)
