"""The user-facing defaults outside the Stein pipeline reach the accuracy docs/defaults.md states.

Each test calls a public function with its DEFAULT options and compares the answer with an
independent, more accurate reference: a much tighter optimisation of the same criterion (its own
L-BFGS-B loop and stopping rules, not the project's), a 30-digit mpmath computation, or the same
computation at a tighter setting. The bounds are those of the table in docs/defaults.md ("Other
defaults"); the measured errors there are 10-1000 times below them, so a test fails only when a
default stops doing its job (a loosened tolerance, a lost restart, a coarser quadrature).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
from scipy.optimize import minimize

from symsched.datasets import dataset_spectrum
from symsched.flow.shift import optimal_shift
from symsched.gaussian import asymptotics, variational
from symsched.gaussian.sampler_optimum import (
    STEP_RATIO_BOUND,
    objective_and_gradient,
    sampler_optimal,
)
from symsched.gaussian.tangent import gamma_star, tangent_sigmas
from symsched.recommend import _family, recommend
from symsched.reference import proxy_spectrum
from symsched.samplers import get_sampler
from symsched.schedules import families
from symsched_verify import tolerances as tol

# --- tolerances (the bounds of docs/defaults.md, "Other defaults") ------------------------------
# kl-optimal: the relative excess of the default optimum's criterion over the tighter optimum.
# Measured at most 2.7e-12 (digits and patches, N = 5..50, ddim / heun / dpmpp-2m, away from the
# 1e-14 criterion floor). Near an optimum the excess is quadratic in the level error, so a search
# stopped early (a lost restart, STATIONARITY loosened to 1e-3) shows an excess of ~1e-7 and more;
# the project's own margin for comparing optima, KL_OPT_MARGIN = 1e-9, is the bound.
KL_OPT_EXCESS_RTOL = tol.KL_OPT_MARGIN
# kl-optimal: the largest relative difference of an interior level from the tighter optimum.
# Measured at most 4.7e-7: an optimum is flat, so the levels are set only to about the square root
# of the criterion's stopping accuracy (STATIONARITY = 1e-6 on the log criterion's gradient);
# 1e-5 is twenty times the measured worst case.
KL_OPT_LEVEL_RTOL = 1e-5
# geodesic (variational): levels of the default grid against the fixed point run to 1e-14 with
# twice the Gauss-Legendre order on panels half as wide. Measured at most 1.2e-9, all of it from
# the fixed-point tolerance (1e-10 on the weights; the quadrature alone: 1.5e-14). 1e-8 is the
# bound: the fixed point's 1e-10 amplified by the grid inversion, with a factor ~10 of room.
GEODESIC_LEVEL_RTOL = 1e-8
# tangent grid and gamma*: closed forms in float64 against 40 digits: a few ulps (measured
# 5.4e-15 on the levels, 0 on gamma*); 1e-13 allows ~500 ulps.
TANGENT_RTOL = 1e-13
# flow --shift auto (DDIM, KL): the Newton stop is 1e-10 in ln s, so s* is good to ~1e-10
# relative (measured at most 6.6e-11 against the 30-digit root of dKL/d ln s); 1e-9 is the bound.
FLOW_SHIFT_RTOL = 1e-9
# recommend: the shipped table's criterion against the one recomputed now (two float64 paths of
# the same exact criterion; measured equal), and against a tighter polish of the recommended grid
# (measured |excess| at most 3.4e-13).
RECOMMEND_RTOL = tol.KL_OPT_MARGIN


def _tight_polish(
    lam: np.ndarray, grid: np.ndarray, sampler: str, objective: str, fixed_tail: int = 1
) -> tuple[np.ndarray, float]:
    """An independent tighter optimum: L-BFGS-B on the log criterion over ln(interior levels),
    ftol 1e-20 and gtol 1e-14, restarted until it stops improving, from ``grid``. The last
    ``fixed_tail`` levels (and the first) are kept."""
    head, tail = grid[:1], grid[-fixed_tail:]
    free = slice(1, grid.size - fixed_tail)

    def full(x: np.ndarray) -> np.ndarray:
        return np.concatenate([head, np.exp(x), tail])

    def log_fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        sig = full(x)
        if not np.all(np.diff(sig) < 0):
            return 1e300, np.zeros_like(x)
        v, g = objective_and_gradient(lam, sig, sampler=sampler, objective=objective)
        if not (v > 0 and math.isfinite(v)):
            return 1e300, np.zeros_like(x)
        return math.log(v), g[: x.size] / v

    x = np.log(grid[free])
    f = log_fg(x)[0]
    for _ in range(3):
        res = minimize(
            log_fg,
            x,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 50_000, "ftol": 1e-20, "gtol": 1e-14, "maxcor": 50},
        )
        if not res.fun < f:
            break
        x, f = res.x, float(res.fun)
    return full(x), math.exp(f)


def _max_step_ratio(sig: np.ndarray) -> float:
    gaps = -np.diff(np.log(sig[np.isfinite(sig) & (sig > 0)]))
    ratio = gaps[1:] / gaps[:-1]
    return float(np.max(np.maximum(ratio, 1 / ratio)))


@pytest.mark.parametrize(
    ("name", "sampler", "steps"),
    [("digits", "ddim", 10), ("patches", "heun", 10), ("digits", "dpmpp-2m", 5)],
)
def test_kl_optimal_default_is_the_optimum(name: str, sampler: str, steps: int) -> None:
    lam = dataset_spectrum(name)  # type: ignore[arg-type]
    # the command's defaults: pure noise to 0 for DDIM; Heun and DPM++ need finite ends
    lo, hi = (0.0, math.inf) if sampler == "ddim" else (0.002, 80.0)
    opt = sampler_optimal(lam, steps, lo, hi, sampler=sampler)
    assert opt.objective_value > 1e-12  # away from the criterion floor, where excess is noise
    starts = [opt.sigmas]
    if lo > 0:  # also the log-uniform grid: the default must not be a worse local optimum
        lu = np.exp(np.linspace(math.log(hi), math.log(lo), steps + 1))
        lu[0], lu[-1] = hi, lo
        starts.append(lu)
    best_sig, best = opt.sigmas, opt.objective_value
    for s0 in starts:
        sig, val = _tight_polish(lam, s0, sampler, opt.objective)
        if val < best and (sampler != "dpmpp-2m" or _max_step_ratio(sig) <= STEP_RATIO_BOUND):
            best_sig, best = sig, val  # (a multistep optimum is boxed: the same feasible set)
    excess = (opt.objective_value - best) / best
    assert excess <= KL_OPT_EXCESS_RTOL
    level = np.max(np.abs(opt.sigmas[1:-1] / best_sig[1:-1] - 1))
    assert level <= KL_OPT_LEVEL_RTOL


@pytest.mark.parametrize("ends", [(0.0, math.inf), (0.002, 80.0)])
def test_geodesic_default_matches_tighter_setting(
    ends: tuple[float, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    lam = dataset_spectrum("patches")
    default = variational.geodesic(lam, *ends)
    grids = {n: default.grid(n) for n in (5, 10, 20, 50)}
    monkeypatch.setattr(variational, "_ORDER", 16)
    monkeypatch.setattr(variational, "_PANEL", 0.125)
    tight = variational.geodesic(lam, *ends, tol=1e-14)
    worst = max(np.max(np.abs(g[1:-1] / tight.grid(n)[1:-1] - 1)) for n, g in grids.items())
    assert worst <= GEODESIC_LEVEL_RTOL
    assert math.isclose(
        default.dominant_coefficient, tight.dominant_coefficient, rel_tol=GEODESIC_LEVEL_RTOL
    )


def test_tangent_grid_and_gamma_star_match_mpmath() -> None:
    lam = dataset_spectrum("digits")
    c = gamma_star(lam)
    with mpmath.workdps(40):
        mp_lam = [mpmath.mpf(float(v)) for v in lam]
        ref_c = (mpmath.fsum(mp_lam) / mpmath.fsum(1 / v for v in mp_lam)) ** mpmath.mpf("0.25")
        assert abs(mpmath.mpf(c) / ref_c - 1) <= TANGENT_RTOL
        for lo, hi in ((0.0, math.inf), (0.002, 80.0)):
            top = mpmath.pi / 2 if math.isinf(hi) else mpmath.atan(mpmath.mpf(hi) / c)
            bottom = mpmath.atan(mpmath.mpf(lo) / c)
            for n in (5, 20, 50):
                sig = tangent_sigmas(n, c, lo, hi)
                for k in range(1, n):
                    ref = c * mpmath.tan(top + mpmath.mpf(k) / n * (bottom - top))
                    assert abs(mpmath.mpf(float(sig[k])) / ref - 1) <= TANGENT_RTOL


def _mp_flow_kl(lam: np.ndarray, steps: int) -> Callable[[mpmath.mpf], mpmath.mpf]:
    """KL(data || output) of N uniform flow steps shifted by e^theta, DDIM from pure noise,
    entirely in mpmath (levels built from theta at the working precision)."""
    ddim = get_sampler("ddim")
    knobs = ddim.make_knobs()
    values, counts = np.unique(lam, return_counts=True)
    mp_values = [mpmath.mpf(float(v)) for v in values]

    def kl(theta: mpmath.mpf) -> mpmath.mpf:
        s = mpmath.exp(theta)
        levels = [mpmath.inf, *(s * mpmath.mpf(steps - k) / k for k in range(1, steps)), 0]
        total = mpmath.mpf(0)
        for v, c in zip(mp_values, counts, strict=True):
            r = ddim.variance_ratio_mp(v, levels, "exact", knobs)
            total += int(c) * (1 / r - 1 + mpmath.log(r)) / 2
        return total

    return kl


@pytest.mark.parametrize("steps", [5, 28])
def test_flow_shift_auto_matches_mpmath_optimum(steps: int) -> None:
    lam = dataset_spectrum("digits")
    lam = lam / lam.mean()  # the model's scaled state: unit mean eigenvalue
    opt = optimal_shift(lam, steps)  # the defaults of `schedule flow --shift auto`
    kl = _mp_flow_kl(lam, steps)
    with mpmath.workdps(30):
        theta = mpmath.findroot(lambda x: mpmath.diff(kl, x), mpmath.mpf(opt.mu))
        assert abs(mpmath.mpf(opt.shift) / mpmath.exp(theta) - 1) <= FLOW_SHIFT_RTOL
        assert abs(mpmath.mpf(opt.value) / kl(theta) - 1) <= tol.FLOW_SHIFT_KL_RTOL


@pytest.mark.parametrize(
    "fam",
    [families.karras(), families.vp_linear(), families.loglinear()],
    ids=["karras", "vp-linear", "loglinear"],
)
def test_asymptotic_coefficients_default_quadrature_match_mpmath(fam: families.Family) -> None:
    lam = np.unique(dataset_spectrum("digits"))
    lam = lam[np.linspace(0, lam.size - 1, 4).round().astype(int)]  # across the spectrum
    coef = asymptotics.coefficients(lam, fam)  # default panels=128, order=8
    mp_j, mp_k = asymptotics.coefficients_mpmath(lam, fam, dps=30)
    ref_j = np.array([float(v) for v in mp_j])
    ref_k = np.array([float(v) for v in mp_k])
    assert np.max(np.abs(coef.J / ref_j - 1)) <= tol.QUAD_RTOL
    assert np.max(np.abs(coef.K - ref_k) / np.abs(ref_k)) <= tol.QUAD_RTOL


@pytest.mark.parametrize(("model", "sampler", "steps"), [("edm", "heun", 10), ("sdxl", "heun", 10)])
def test_recommend_default_answer_is_optimal(model: str, sampler: str, steps: int) -> None:
    from symsched.gaussian.coupling import criteria

    rec = recommend(model, sampler, steps)
    best = rec.recommended
    assert best.method == "sampler-optimal"
    lam = proxy_spectrum(_family(model))
    stored = best.criteria.value(rec.criterion)
    now = criteria(lam, best.sigmas, sampler=sampler).value(rec.criterion)
    assert math.isclose(stored, now, rel_tol=RECOMMEND_RTOL)
    # the recommended grid ends ..., sigma_min, 0: both kept, the rest polished tighter
    _, tight = _tight_polish(lam, best.sigmas, sampler, "coupling", fixed_tail=2)
    assert (now - tight) / tight <= RECOMMEND_RTOL
