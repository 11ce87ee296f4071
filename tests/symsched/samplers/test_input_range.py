"""The input-range contract (docs/cli.md#input-range) for every sampler, both starts, both KLs.

Eigenvalues and finite levels are drawn log-uniform over [1e-300, 1e300], mixed with ordinary
values, the range's ends and clusters of close levels; the float64 path must match the sampler's
direct recursion in mpmath (rerun with as many digits as the value needs) to
``tol.INPUT_RANGE_RTOL``, be NaN-free, and be finite wherever the exact value is a finite float64.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symsched
from symsched._typing import FloatArray
from symsched.cli import main
from symsched.gaussian import exact
from symsched.samplers import SAMPLERS, get_sampler
from symsched_verify import tolerances as tol

DBL_MAX = sys.float_info.max
MP_MAX_HI = mpmath.mpf(DBL_MAX) * (1 + tol.INPUT_RANGE_RTOL)  # above: the float64 is inf
DBL_TINY = sys.float_info.min  # smallest normal float64
NAMES = sorted(SAMPLERS)
STARTS = ("exact", "prior")


# --- strategies -----------------------------------------------------------------------------------


def _clip(v: float) -> float:
    return min(max(v, 1e-300), 1e300)


def values() -> st.SearchStrategy[float]:
    """Log-uniform over the whole range, ordinary values, and the range's ends."""
    return st.one_of(
        st.floats(-300.0, 300.0).map(lambda e: _clip(10.0**e)),
        st.floats(-3.0, 3.0).map(lambda e: 10.0**e),
        st.sampled_from([1e-300, 1e300, 1.0, 2.0e154]),
    )


@st.composite
def grids(draw: st.DrawFn, pure_noise: bool = True) -> FloatArray:
    """Descending levels: independent draws, or a cluster ``v (1 - k 10^-g)`` of close levels;
    optionally ``inf`` first and ``0`` last."""
    if draw(st.booleans()):
        levels = sorted(set(draw(st.lists(values(), min_size=1, max_size=6))), reverse=True)
    else:
        v, g, n = draw(values()), draw(st.floats(1.0, 12.0)), draw(st.integers(2, 5))
        levels = sorted({_clip(v * (1.0 - k * 10.0**-g)) for k in range(n)}, reverse=True)
    if pure_noise and draw(st.booleans()):
        levels = [math.inf, *levels]
    if draw(st.booleans()) or len(levels) < 2:
        levels = [*levels, 0.0]
    return np.array(levels, dtype=np.float64)


def spectra() -> st.SearchStrategy[FloatArray]:
    return st.lists(values(), min_size=1, max_size=3).map(lambda v: np.array(v, dtype=np.float64))


def knobs_for(name: str) -> st.SearchStrategy[dict[str, float]]:
    if name != "ancestral":
        return st.just({})
    return st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0)).map(lambda e: {"eta": e})


# --- the reference and the comparison -------------------------------------------------------------


def reference(
    lam: FloatArray,
    sig: FloatArray,
    start: str,
    name: str,
    knobs: dict[str, float],
    got: FloatArray,
) -> tuple[exact.MpKL, int]:
    """``kl_mpmath`` with enough digits to resolve every ln r (or the float64 value ``got``, or
    the absolute floor ``tol.LOG_RATIO_ATOL``, whichever is largest) well beyond the tolerance."""
    dps = 50
    while True:
        res = exact.kl_mpmath(lam, sig, start=start, sampler=name, dps=dps, **knobs)  # type: ignore[arg-type]
        need = dps
        for lr, g in zip(res.log_variance_ratios, got, strict=True):
            if lr == -mpmath.inf:
                continue
            size = max(abs(lr), abs(mpmath.mpf(float(g))), mpmath.mpf(tol.LOG_RATIO_ATOL))
            # ln r is good to ~10^(4 - dps) absolute (terms of size <= 1e4)
            digits = -int(mpmath.floor(mpmath.log10(size)))
            need = max(need, 14 + tol.REFERENCE_MARGIN_DIGITS + digits)
        if need <= dps or dps >= tol.REFERENCE_DPS_CAP:
            return res, dps
        dps = min(tol.REFERENCE_DPS_CAP, max(need, 2 * dps))


def term_scale(
    lam: FloatArray, sig: FloatArray, start: str, name: str, knobs: dict[str, float]
) -> FloatArray:
    """Sum of the magnitudes of the terms that make up ln r: the start term and each step's change
    (from the float64 path on the grid cut after each step)."""
    prev = exact.log_variance_ratios(lam, sig, start=start, sampler="exact-flow")  # type: ignore[arg-type]
    total = np.abs(prev)
    for k in range(1, sig.size):
        cur = exact.log_variance_ratios(lam, sig[: k + 1], start=start, sampler=name, **knobs)  # type: ignore[arg-type]
        with np.errstate(invalid="ignore"):
            step = np.abs(cur - prev)
        total = total + np.where(np.isfinite(step), step, 0.0)
        prev = cur
    out: FloatArray = total
    return out


@dataclass
class Errors:
    """Relative errors (w.r.t. the allowed tolerance's scale) of one case."""

    log_ratio: float = 0.0
    ratio: float = 0.0
    kl_source_output: float = 0.0
    kl_output_source: float = 0.0

    def worst(self) -> float:
        return max(self.log_ratio, self.ratio, self.kl_source_output, self.kl_output_source)


def _rel(got: float, want: Any) -> float:
    if want == 0:
        return 0.0 if got == 0 else math.inf
    return float(abs((mpmath.mpf(got) - want) / want))


def check_case(
    lam: FloatArray, sig: FloatArray, start: str, name: str, knobs: dict[str, float]
) -> Errors:
    """Assert the contract for one case; return the measured relative errors."""
    smp = get_sampler(name)
    if math.isinf(sig[0]) and not smp.pure_noise_start:
        sig = sig[1:]
        if sig.size < 2:
            sig = np.array([1e300, *sig]) if sig[0] < 1e300 else np.array([1e300, 0.0])
    got = exact.kl(lam, sig, start=start, sampler=name, **knobs)  # type: ignore[arg-type]
    lr_got = np.asarray(got.log_variance_ratios)
    assert not np.isnan(lr_got).any() and not math.isnan(got.kl_source_output)
    assert not math.isnan(got.kl_output_source)
    ref, dps = reference(lam, sig, start, name, knobs, lr_got)
    scale = term_scale(lam, sig, start, name, knobs)
    err = Errors()
    slack_so, slack_os = mpmath.mpf(0), mpmath.mpf(0)
    for i, want in enumerate(ref.log_variance_ratios):
        g = float(lr_got[i])
        if want == -mpmath.inf:
            assert g == -math.inf, (i, g)
            continue
        sum_slack = tol.TERM_SUM_RTOL * float(scale[i])
        allowed = tol.INPUT_RANGE_RTOL * abs(want) + sum_slack + tol.LOG_RATIO_ATOL
        assert abs(g - want) <= allowed, ("ln r", i, g, want, dps)
        if abs(want) >= tol.LOG_RATIO_ATOL:
            err.log_ratio = max(err.log_ratio, _rel(g, want))
        # the variance ratio r = exp(ln r): relative, where the exact r is a normal float64
        with np.errstate(over="ignore"):
            r_want, r_got = mpmath.exp(want), float(np.exp(g))
        if DBL_TINY <= r_want <= DBL_MAX:
            assert abs(r_got - r_want) <= (tol.INPUT_RANGE_RTOL + sum_slack) * r_want, ("r", i)
            err.ratio = max(err.ratio, _rel(r_got, r_want))
        elif r_want > DBL_MAX:
            assert r_got == math.inf
        else:
            assert abs(r_got - r_want) <= tol.INPUT_RANGE_RTOL * r_want + tol.KL_SUBNORMAL_ATOL
        # d KL / d ln r for the slack of the sum of terms
        slack_so += abs(mpmath.expm1(-want)) / 2 * sum_slack
        slack_os += abs(mpmath.expm1(want)) / 2 * sum_slack
    for key, value, want, slack in (
        ("kl_source_output", got.kl_source_output, ref.kl_source_output, slack_so),
        ("kl_output_source", got.kl_output_source, ref.kl_output_source, slack_os),
    ):
        if want == mpmath.inf or want > MP_MAX_HI:
            assert value == math.inf, (key, value, want)
        elif want >= DBL_MAX * (1 - tol.INPUT_RANGE_RTOL):
            assert value == math.inf or abs(value - want) <= tol.INPUT_RANGE_RTOL * want
        elif want < DBL_TINY:
            atol = tol.KL_SUBNORMAL_ATOL * lam.size + float(slack)
            assert abs(value - want) <= tol.INPUT_RANGE_RTOL * want + atol, (key, value, want)
        else:
            assert math.isfinite(value), (key, value, want)
            allowed = tol.INPUT_RANGE_RTOL * want + slack
            assert abs(value - want) <= allowed, (key, value, want, dps)
            setattr(err, key, _rel(value, want))
    return err


# --- the property tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=20)
@given(data=st.data())
def test_every_sampler_matches_the_reference_over_the_range(
    name: str, start: str, data: st.DataObject
) -> None:
    lam = data.draw(spectra(), label="eigenvalues")
    sig = data.draw(grids(pure_noise=SAMPLERS[name].pure_noise_start), label="sigmas")
    knobs = data.draw(knobs_for(name), label="knobs")
    check_case(lam, sig, start, name, knobs)


@pytest.mark.slow
@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=1000)
@given(data=st.data())
def test_every_sampler_matches_the_reference_over_the_range_long(
    name: str, start: str, data: st.DataObject
) -> None:
    lam = data.draw(spectra(), label="eigenvalues")
    sig = data.draw(grids(pure_noise=SAMPLERS[name].pure_noise_start), label="sigmas")
    knobs = data.draw(knobs_for(name), label="knobs")
    check_case(lam, sig, start, name, knobs)


# --- regressions ---------------------------------------------------------------------------------

# each an input that once gave NaN, a spurious inf, or an overflowed square
REGRESSIONS = [
    ([1e300], [1e300, 1e-300]),  # NaN (both KLs)
    ([1e-300], [80.0, 1.0, 0.0]),  # KL(output||source) = inf, exact 344.89
    ([1.0, 3.0], [2e154, 1.5e154, 1.0]),  # a^2 overflows above 1.3e154
    ([1e200], [1e250, 1e160, 1e-10]),  # lam (a - b)^2 and (lam + a^2)(lam + b^2) overflow
    ([1e-300, 1e-250], [1e300, 1e-300, 0.0]),  # tiny eigenvalues: ln r ~ -1e3, r underflows
    ([1e-300], [1e10, 1.0]),  # ln r ~ -1e-300: the exact KL underflows below 1e-308
    ([1e300, 1e-300], [math.inf, 1e300, 1e-300, 0.0]),  # pure noise across the whole range
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("lam", "sig"), REGRESSIONS)
def test_regressions_via_the_api(name: str, lam: list[float], sig: list[float]) -> None:
    for start in STARTS:
        check_case(
            np.array(lam), np.array(sig), start, name, {"eta": 0.5} if name == "ancestral" else {}
        )


def test_named_failures_have_their_exact_values() -> None:
    res = symsched.kl([1e300], [1e300, 1e-300])
    assert res.kl_source_output == pytest.approx(5e299, rel=tol.INPUT_RANGE_RTOL)
    # KL(output||source) = (r - 1 - ln r) / 2 with r = 1e-300 / (1 + 1e-600) ~ 1e-300
    assert res.kl_output_source == pytest.approx(
        0.5 * (-1.0 + 300 * math.log(10.0)), rel=tol.INPUT_RANGE_RTOL
    )
    res = symsched.kl([1e-300], [80.0, 1.0, 0.0])
    ref = exact.kl_mpmath([1e-300], [80.0, 1.0, 0.0])
    assert res.kl_output_source == pytest.approx(float(ref.kl_output_source), rel=1e-12)
    assert float(ref.kl_output_source) == pytest.approx(344.8877639491, rel=1e-12)
    # one step a -> b across s = sqrt(lam) = sqrt(ab) keeps cos^2 = (2 sqrt(b / a))^2 = 4e-600 of
    # the variance: r is below float64 (reads 0), ln r stays exact, KL(source||output) ~ 1/(2r)
    # exceeds the float64 maximum (inf is its nearest float64), KL(output||source) is finite
    res = symsched.kl([1.0], [1e300, 1e-300])
    assert res.log_variance_ratios[0] == pytest.approx(math.log(4.0) - 600 * math.log(10.0))
    assert res.variance_ratios[0] == 0.0 and res.kl_source_output == math.inf
    assert res.kl_output_source == pytest.approx(
        0.5 * (-1.0 - math.log(4.0) + 600 * math.log(10.0)), rel=1e-14
    )


def test_the_kl_stays_finite_up_to_the_float64_maximum() -> None:
    # (e^x - 1 - x) / 2 is finite up to x ~ 710.48 although e^x overflows at x ~ 709.78
    x = 710.2
    res = exact.kl_from_log_ratios(np.array([-x]))
    want = float(mpmath.mpf(0.5) * (mpmath.exp(x) - 1 - x))
    assert res[0] == pytest.approx(want, rel=1e-13)
    assert exact.kl_from_log_ratios(np.array([-711.0]))[0] == math.inf


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_named_failures_via_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "kl", "--eigenvalues", "1e300", "--sigmas", "1e300,1e-300")
    assert code == 0 and "nan" not in out.lower()
    assert "KL(source||output) = 5e+299" in out
    code, out, _ = _cli(capsys, "kl", "--eigenvalues", "1e-300", "--sigmas", "80,1,0")
    assert code == 0 and "KL(output||source) = 344.887763949" in out
    for name in NAMES:
        if name == "exact-flow":
            continue
        code, out, _ = _cli(
            capsys,
            "kl",
            "--eigenvalues",
            "1e300,1e-300",
            "--sigmas",
            "1e300,1e-300",
            "--sampler",
            name,
            "--json",
        )
        assert code == 0
        res = json.loads(out)
        ref = exact.kl_mpmath([1e300, 1e-300], [1e300, 1e-300], sampler=name, dps=80)
        for key in ("kl_source_output", "kl_output_source"):
            want = getattr(ref, key)
            if want > DBL_MAX:
                assert res[key] in ("inf", "Infinity", None) or res[key] == math.inf
            else:
                assert res[key] == pytest.approx(float(want), rel=tol.INPUT_RANGE_RTOL), (name, key)


@pytest.mark.parametrize(("lam", "sig"), REGRESSIONS)
def test_regressions_via_the_cli(
    capsys: pytest.CaptureFixture[str], lam: list[float], sig: list[float]
) -> None:
    # the command line prints what the API returns (checked against mpmath above), NaN-free
    for name in ("ddim", "dpmpp-2m"):
        code, out, err = _cli(
            capsys,
            "kl",
            "--eigenvalues",
            ",".join(repr(v) for v in lam),
            "--sigmas",
            ",".join(repr(v) for v in sig),
            "--sampler",
            name,
            "--json",
        )
        assert code == 0 and err == "" and "nan" not in out.lower()
        res, api = json.loads(out), exact.kl(lam, sig, sampler=name)
        for key in ("kl_source_output", "kl_output_source"):
            want = getattr(api, key)
            assert res[key] == ("inf" if want == math.inf else want), (name, key)


def test_torch_backend_matches_numpy_outside_the_window() -> None:
    torch = pytest.importorskip("torch")
    lam = [1e-300, 1.0, 1e300]
    for sig in ([1e300, 1e-300, 0.0], [math.inf, 2e154, 1.0]):
        want = exact.log_variance_ratios(lam, sig)
        got = exact.log_variance_ratios(lam, sig, backend="torch")
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--eigenvalues", "1e-301", "--sigmas", "80,1,0"], "--eigenvalues"),
        (["--eigenvalues", "2e300", "--sigmas", "80,1,0"], "--eigenvalues"),
        (["--eigenvalues", "1", "--sigmas", "1e301,1,0"], "--sigmas"),
        (["--eigenvalues", "1", "--sigmas", "80,1e-301"], "--sigmas"),
    ],
)
def test_out_of_range_input_is_refused_by_the_cli(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str
) -> None:
    code, out, err = _cli(capsys, "kl", *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and "[1e-300, 1e300]" in lines[0]


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lam", "sig", "err", "match"),
    [
        ([1e-301], [2.0, 1.0], ValueError, r"eigenvalues must lie in \[1e-300, 1e300\]"),
        ([1e301], [2.0, 1.0], ValueError, r"eigenvalues must lie in \[1e-300, 1e300\]"),
        ([1.0], [1e301, 1.0], ValueError, r"sigmas must be 0, inf .* \[1e-300, 1e300\]"),
        ([1.0], [2.0, 5e-324], ValueError, r"sigmas must be 0, inf .* \[1e-300, 1e300\]"),
        ([1.0 + 2.0j], [2.0, 1.0], TypeError, "eigenvalues must be real"),
        (np.array([1.0 + 0.0j]), [2.0, 1.0], TypeError, "eigenvalues must be real"),
        ([1.0], np.array([2.0, 1.0], dtype=complex), TypeError, "sigmas must be real"),
        (np.ones((2, 2)), [2.0, 1.0], ValueError, "eigenvalues must be one-dimensional"),
        (np.ones((1, 3)), [2.0, 1.0], ValueError, "eigenvalues must be one-dimensional"),
    ],
)
def test_bad_spectra_and_grids_are_refused(lam: Any, sig: Any, err: type, match: str) -> None:
    for call in (exact.kl, exact.log_variance_ratios, exact.kl_mpmath):
        with pytest.raises(err, match=match):
            call(lam, sig)


def test_a_complex_torch_spectrum_is_refused() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="eigenvalues must be real"):
        exact.kl(torch.tensor([1.0 + 2.0j]), [2.0, 1.0])


def test_the_ends_of_the_range_are_accepted() -> None:
    for name in NAMES:
        sig = [1e300, 1.0, 1e-300, 0.0] if name == "heun" else [math.inf, 1e300, 1.0, 1e-300, 0.0]
        res = exact.kl([1e-300, 1.0, 1e300], sig, sampler=name)
        assert not math.isnan(res.kl_source_output) and not math.isnan(res.kl_output_source)


def test_kl_mpmath_keeps_its_digit_floor() -> None:
    with pytest.raises(ValueError, match="dps must be an integer >= 15"):
        exact.kl_mpmath([1.0], [5.0, 1.0, 0.0], dps=14)
    assert exact.kl_mpmath([1.0], [5.0, 1.0, 0.0], dps=15).kl_source_output > 0


@settings(max_examples=15)
@given(spectra(), grids(), st.sampled_from(STARTS))
def test_variance_trajectory_over_the_range(lam: FloatArray, sig: FloatArray, start: str) -> None:
    # every row is (lam + sigma_k^2) r_k with r_k the DDIM ratio after k steps: never NaN, and
    # the nearest float64 of the 40-digit value (inf / 0 only where it leaves float64)
    traj = exact.variance_trajectory(lam, sig, start=start)  # type: ignore[arg-type]
    assert not np.isnan(traj).any()
    for k in range(1, sig.size):
        ref, _ = reference(lam, sig[: k + 1], start, "ddim", {}, np.zeros(lam.size))
        for i, r_k in enumerate(ref.variance_ratios):
            want = r_k * (mpmath.mpf(lam[i]) + mpmath.mpf(sig[k]) ** 2)
            got = float(traj[k, i])
            if want > MP_MAX_HI:
                assert got == math.inf
            elif want < DBL_TINY:
                assert abs(got - want) <= tol.INPUT_RANGE_RTOL * want + tol.KL_SUBNORMAL_ATOL
            else:
                assert abs(got - want) <= tol.INPUT_RANGE_RTOL * want, (k, i, got, want)
