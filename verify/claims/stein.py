r"""Claims of the score-optimal (Stein-cost) schedules [williams2024]
(docs/theory/stein.md#closed-forms, docs/theory/stein.md#checks).

Oracles are independent of :mod:`symsched.stein`: the closed forms of
docs/theory/stein.md#closed-forms typed in by hand below (``_ref_*``), adaptive
``scipy.integrate.quad`` with finite differences for the two-point mixture, root-finding of the
hand-typed length for optimal grids, and Monte Carlo / JVP estimates that see only the denoiser
``D(x, sigma)``.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any, NotRequired, TypedDict

import numpy as np
import sympy as sp
from scipy.integrate import quad
from scipy.optimize import brentq

from symsched import stein
from symsched._typing import FloatArray
from symsched.datasets import dataset_spectrum
from symsched.models import EmpiricalModel, GaussianModel, ScoreModel, two_point
from symsched.schedules import families
from symsched.stein import _symbolic as S
from symsched.symbols import lam
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim

SRC = "Williams, Campbell, Doucet, Syed, arXiv 2412.07877"
LO, HI = 0.002, 80.0


# --- hand-typed oracles (docs/theory/stein.md#closed-forms, transcribed, not derived) -----------
def _ref_cost_iso(d: float, c: float, s: float, t: float, weight: str = "target") -> float:
    w = (
        t if weight == "target" else s
    )  # isotropic VE: d sigma'^2 (sigma^2 - sigma'^2)^2 / ((c^2+sigma'^2)^2 (c^2+sigma^2))
    return d * w**2 * (s**2 - t**2) ** 2 / ((c**2 + t**2) ** 2 * (c**2 + s**2))


def _ref_cost_gauss(lams: FloatArray, s: float, t: float, process: str) -> float:
    def m(level: float) -> FloatArray:  # Gaussian data: m = s(t)^2 lam + sigma^2
        return (lams + level**2) if process == "ve" else ((1 - level**2) * lams + level**2)

    return float(t**2 * np.sum(m(s) * (1 / m(t) - 1 / m(s)) ** 2))


def _ref_metric_iso(d: float, c: float, s: FloatArray) -> FloatArray:
    return 4 * d * s**4 / (c**2 + s**2) ** 3  # isotropic VE


def _ref_length_iso(d: float, c: float, s: float) -> float:
    return 2 * math.sqrt(d) * (math.asinh(s / c) - s / math.sqrt(s**2 + c**2))  # isotropic VE


def _ref_metric_vp(d: float, c: float, sig: FloatArray) -> FloatArray:
    # VP Gaussian (docs/theory/stein.md#vp-gaussian), w.r.t. sigma_VP:
    # m = (1 - sigma^2) c^2 + sigma^2 = c^2 + sigma^2 (1 - c^2), so
    # delta = sigma^2 d mdot^2 / m^3 = 4 d sigma^4 (1 - c^2)^2 / (c^2 + sigma^2 (1 - c^2))^3.
    # A misprinted variant with the denominator (1 - sigma^2 (1 - c^2))^3 swaps the roles of data
    # and noise (it agrees only at c = 1); check_estimators shows that variant fails against Monte
    # Carlo (a negative control).
    return 4 * d * sig**4 * (1 - c**2) ** 2 / (c**2 + sig**2 * (1 - c**2)) ** 3


def _misprinted_metric_vp(d: float, c: float, sig: FloatArray) -> FloatArray:
    return 4 * d * sig**4 * (1 - c**2) ** 2 / (1 - sig**2 * (1 - c**2)) ** 3  # misprinted variant


def _ref_two_point_score(x: float, s: float) -> float:
    return (math.tanh(x / s**2) - x) / s**2  # two-point data


def _two_point_expect(f: Callable[[float], float], s: float) -> float:
    # E over p_s = 1/2 N(-1, s^2) + 1/2 N(1, s^2); symmetric, so the mode at +1
    def g(x: float) -> float:
        return f(x) * math.exp(-((x - 1) ** 2) / (2 * s * s)) / math.sqrt(2 * math.pi * s * s)

    return float(quad(g, 1 - 12 * s, 1 + 12 * s, epsabs=0, epsrel=1e-12, limit=400)[0])


def _ref_two_point_metric(s: float) -> float:
    h = 1e-4 * s  # central difference in sigma; error ~ h^2 |s'''| ~ 1e-8 relative

    def ds(x: float) -> float:
        return (_ref_two_point_score(x, s + h) - _ref_two_point_score(x, s - h)) / (2 * h)

    return s**2 * _two_point_expect(lambda x: ds(x) ** 2, s)


def _ref_two_point_cost(s: float, t: float) -> float:
    return t**2 * _two_point_expect(
        lambda x: (_ref_two_point_score(x, t) - _ref_two_point_score(x, s)) ** 2, s
    )


def _stderr(est: stein.CostEstimate) -> FloatArray:
    """The standard errors of a Monte Carlo estimate (an exact estimate has none)."""
    if est.stderr is None:
        raise ValueError(f"the {est.estimator} estimate has no standard errors")
    return est.stderr


def _optimal_iso(d: float, c: float, n: int, lo: float = LO, hi: float = HI) -> FloatArray:
    """Closed-form optimum: Lambda^-1 at equally spaced lengths, by root finding
    (docs/theory/stein.md#isotropic-ve)."""
    la, lb = _ref_length_iso(d, c, lo), _ref_length_iso(d, c, hi)
    targets = lb + (la - lb) * np.arange(1, n) / n
    inner = [
        brentq(lambda s, t=t: _ref_length_iso(d, c, s) - t, lo, hi, xtol=1e-15, rtol=1e-15)
        for t in targets
    ]
    return np.array([hi, *inner, lo])


STEPS = [(5.0, 4.0), (1.0, 0.8), (0.3, 0.25), (0.05, 0.04)]


@claim(
    "stein.closed-forms-symbolic",
    statement=(
        r"The SymPy-derived corrector cost $\mathcal L_c$ (target and source weight), local "
        r"metric $\delta_c$ (VE and VP), and the isotropic length $\Lambda$ equal the hand-typed "
        r"closed forms; $d\Lambda/d\sigma = \sqrt{\delta_c}$, and $\delta_c \to 4d/\sigma^2$ as "
        r"$c \to 0$."
    ),
    source=(
        f"{SRC}, §2.3, §3.1; docs/theory/stein.md#gaussian-data, "
        "docs/theory/stein.md#isotropic-ve, docs/theory/stein.md#vp-gaussian, "
        "docs/theory/stein.md#point-mass"
    ),
    method="symbolic: simplify(derived - hand-typed) == 0 for each formula",
    tolerance="exact (symbolic identity)",
    docs="docs/theory/stein.md#closed-forms",
    math=(
        r"\mathcal L_c(\sigma\to\sigma')=\frac{d\,v^2(\sigma^2-\sigma'^2)^2}"
        r"{(c^2+\sigma'^2)^2(c^2+\sigma^2)},\ v\in\{\sigma',\sigma\},\quad"
        r"\delta_c^{\mathrm{VE}}=\frac{4d\,\sigma^4}{(c^2+\sigma^2)^3},\quad"
        r"\delta_c^{\mathrm{VP}}=\frac{4d\,\sigma^4(1-c^2)^2}{\big(c^2+\sigma^2(1-c^2)\big)^3},"
        r"\qquad\Lambda(\sigma)=2\sqrt d\Big[\operatorname{asinh}\frac{\sigma}{c}"
        r"-\frac{\sigma}{\sqrt{\sigma^2+c^2}}\Big],\quad\frac{d\Lambda}{d\sigma}=\sqrt{\delta_c},"
        r"\quad\lim_{c\to0}\delta_c^{\mathrm{VE}}=\frac{4d}{\sigma^2}"
    ),
)
def check_symbolic(budget: Budget) -> Outcome:
    s, t, d, c = S.sigma, S.sigma_t, S.dim, S.c_iso
    typed = {
        "L_c VE target": (
            d * S.gaussian_interval_cost("ve").subs(lam, c**2),
            d * t**2 * (s**2 - t**2) ** 2 / ((c**2 + t**2) ** 2 * (c**2 + s**2)),
        ),
        "L_c VE source": (
            d * S.gaussian_interval_cost("ve", "source").subs(lam, c**2),
            d * s**2 * (s**2 - t**2) ** 2 / ((c**2 + t**2) ** 2 * (c**2 + s**2)),
        ),
        "delta_c VE": (S.isotropic_local_metric(), 4 * d * s**4 / (c**2 + s**2) ** 3),
        "delta_c VP (corrected)": (
            d * S.gaussian_local_metric("vp").subs(lam, c**2),
            4 * d * s**4 * (1 - c**2) ** 2 / (c**2 + s**2 * (1 - c**2)) ** 3,
        ),
        "Lambda VE": (
            S.isotropic_length(),
            2 * sp.sqrt(d) * (sp.asinh(s / c) - s / sp.sqrt(s**2 + c**2)),
        ),
        "Lambda' = sqrt(delta)": (
            sp.diff(S.isotropic_length(), s),
            sp.sqrt(S.isotropic_local_metric()),
        ),
        "point mass limit": (sp.limit(S.isotropic_local_metric(), c, 0), 4 * d / s**2),
    }
    residuals = {k: str(sp.simplify(a - b)) for k, (a, b) in typed.items()}
    ok = all(r == "0" for r in residuals.values())
    return Outcome(
        ok,
        f"{sum(r == '0' for r in residuals.values())} of {len(residuals)} derived formulas "
        "equal the hand-typed closed forms exactly (the cost with target and source weight, the "
        "metric in VE and VP, the length, $d\\Lambda/d\\sigma = \\sqrt{\\delta_c}$ and the "
        "point-mass limit).",
        {"residuals": residuals},
    )


@claim(
    "stein.estimators-match-closed-forms",
    statement=(
        "Every estimator reproduces the Gaussian (VE isotropic, VE digits spectrum, VP "
        "anisotropic) and two-point closed forms: exact to round-off, Monte Carlo (common random "
        "numbers) finite-step costs and JVP local metrics (plain and with control variates) "
        "within 5 standard errors (JVP with control variates on Gaussian data, where it is "
        "exact, to $10^{-9}$)."
    ),
    source=f"{SRC}, §2.3, §3; docs/theory/stein.md#estimators, docs/theory/stein.md#closed-forms",
    method=(
        "hand-typed closed forms; two-point by adaptive quad + central differences; estimators "
        "see only D(x, sigma)"
    ),
    tolerance=(
        f"exact: rtol {tol.STEIN_ROUNDOFF_RTOL:g} (quadrature {tol.STEIN_QUADRATURE_RTOL:g}); "
        f"MC/JVP: |est - truth| <= {tol.Z_SCORE:g} SE + the oracle's rtol; JVP with control "
        f"variates on Gaussians: rtol {tol.STEIN_CV_EXACT_RTOL:g}"
    ),
    docs="docs/theory/stein.md#estimators",
    math=(
        r"\hat{\mathcal L}_c=\frac{v^2}{n}\sum_{k=1}^n\|s(x_k,\rho_{i+1})-s(x_k,\rho_i)"
        r"\|^2,\quad\hat\delta_c=\frac{v^2}{n}\sum_{k=1}^n\|\partial_\rho s(x_k,\rho)"
        r"\|^2,"
        r"\qquad\frac{|\hat{\mathcal L}_c-\mathcal L_c|}{\mathrm{se}},\ "
        rf"\frac{{|\hat\delta_c-\delta_c|}}{{\mathrm{{se}}}}\le{tol.Z_SCORE:g}"
    ),
)
def check_estimators(budget: Budget) -> Outcome:
    n = budget.pick(2000, 20000)
    lam_digits = dataset_spectrum("digits")
    lam_vp = np.array([0.05, 0.3, 0.7, 2.0, 5.0])
    # (name, model, process, cost oracle (source, target) -> L_c, metric oracle or None, rtol)
    cases: list[
        tuple[
            str,
            ScoreModel,
            str,
            Callable[[float, float], float],
            Callable[[FloatArray], FloatArray] | None,
            float,
        ]
    ] = [
        (
            "ve-iso",
            GaussianModel.isotropic(0.5, 16),
            "ve",
            lambda s_, t_: _ref_cost_iso(16, 0.5, s_, t_),
            lambda r: _ref_metric_iso(16, 0.5, r),
            tol.STEIN_ROUNDOFF_RTOL,
        ),
        (
            "ve-digits",
            GaussianModel(lam_digits),
            "ve",
            lambda s_, t_: _ref_cost_gauss(lam_digits, s_, t_, "ve"),
            None,
            tol.STEIN_ROUNDOFF_RTOL,
        ),
        (
            "vp-aniso",
            GaussianModel(lam_vp),
            "vp",
            lambda s_, t_: _ref_cost_gauss(
                lam_vp, s_ / math.sqrt(1 + s_**2), t_ / math.sqrt(1 + t_**2), "vp"
            ),
            None,
            tol.STEIN_ROUNDOFF_RTOL,
        ),
        (
            "two-point",
            two_point(),
            "ve",
            _ref_two_point_cost,
            lambda r: np.array([_ref_two_point_metric(x) for x in r]),
            tol.STEIN_QUADRATURE_RTOL,
        ),
    ]
    worst_exact, worst_z, rows = 0.0, 0.0, []
    for name, model, proc, ref_cost, ref_metric, rtol in cases:
        for k, (s_, t_) in enumerate(STEPS):
            truth = ref_cost(s_, t_)
            ex = stein.estimate_costs(model, [s_, t_], estimator="exact", process=proc).costs[0]
            mc = stein.estimate_costs(
                model,
                [s_, t_],
                estimator="monte-carlo",
                samples=n,
                seed=budget.seed + k,
                process=proc,
            )
            worst_exact = max(worst_exact, abs(ex / truth - 1) / rtol)
            mc_se = _stderr(mc)
            z = abs(mc.costs[0] - truth) / mc_se[0]
            worst_z = max(worst_z, z)
            rows.append(
                {
                    "model": name,
                    "from": s_,
                    "to": t_,
                    "truth": truth,
                    "exact": ex,
                    "mc": mc.costs[0],
                    "mc_stderr": mc_se[0],
                    "z": z,
                }
            )
        lev = np.array([s_ for s_, _ in STEPS])
        if ref_metric is not None:
            truth_m = ref_metric(lev)
            for cv in (False, True):  # plain JVP and JVP with control variates (the default)
                delta, se, _ = stein.estimate_metric(
                    model, lev, samples=n, seed=budget.seed, process=proc, control_variate=cv
                )
                if cv and isinstance(
                    model, GaussianModel
                ):  # the controls are exact on Gaussian data
                    z = np.abs(delta / truth_m - 1) / tol.STEIN_CV_EXACT_RTOL * tol.Z_SCORE
                else:  # the oracle's own error (rtol) is added to the statistical allowance
                    z = np.abs(delta - truth_m) / (se + rtol * np.abs(truth_m) / tol.Z_SCORE)
                worst_z = max(worst_z, float(z.max()))
                rows.append(
                    {
                        "model": name,
                        "control_variate": cv,
                        "metric_levels": lev,
                        "jvp": delta,
                        "jvp_stderr": se,
                        "truth": truth_m,
                        "z": z.max(),
                    }
                )
            ex_m = model.exact_local_metric(lev, process=proc)
            if ex_m is None:
                raise ValueError(f"{name}: the model has no closed-form local metric")
            worst_exact = max(worst_exact, float(np.max(np.abs(ex_m / truth_m - 1))) / rtol)
    # VP metric against docs/theory/stein.md#vp-gaussian (in sigma_VP), converted to rho by the
    # chain rule
    r = np.array([3.0, 1.0, 0.5, 0.1])
    sig = r / np.sqrt(1 + r**2)
    vp_ref = _ref_metric_vp(4, 0.5, sig) * (1 + r**2) ** -3
    vp_model = GaussianModel.isotropic(0.5, 4)
    delta, se, _ = stein.estimate_metric(vp_model, r, samples=n, seed=budget.seed, process="vp")
    worst_z = max(worst_z, float(np.max(np.abs(delta - vp_ref) / se)))
    printed = _misprinted_metric_vp(4, 0.5, sig) * (1 + r**2) ** -3
    rows.append(
        {
            "model": "vp-iso c=0.5 d=4",
            "metric_levels": r,
            "jvp": delta,
            "jvp_stderr": se,
            "truth": vp_ref,
            "spec_as_printed": printed,
            "spec_as_printed_z": np.abs(delta - printed) / se,
        }
    )
    worst_exact = max(
        worst_exact,
        float(np.max(np.abs(vp_model.exact_local_metric(r, process="vp") / vp_ref - 1)))
        / tol.STEIN_ROUNDOFF_RTOL,
    )
    ok = worst_exact <= 1.0 and worst_z <= tol.Z_SCORE
    return Outcome(
        ok,
        f"The exact estimator is off the closed forms by {worst_exact:.2e} times its tolerance; "
        f"with n = {n} samples the Monte Carlo and JVP estimates lie at most {worst_z:.2f} "
        f"standard errors from the truth.",
        {"worst_exact_over_tol": worst_exact, "worst_z": worst_z, "rows": rows},
    )


def _schedule_figure(grids: dict[int, tuple[FloatArray, FloatArray]]) -> Any:
    """Algorithm 1's grid (lines) and the closed-form optimum (circles) per N."""
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import style, styles

    fig = new_figure((6.0, 4.3))
    ax = fig.add_subplot()
    look = styles(f"N = {n}" for n in grids)
    for n, (alg, closed) in grids.items():
        st = look[f"N = {n}"]
        i = np.arange(n + 1)
        ax.semilogy(
            i,
            alg,
            color=st.color,
            ls="-",
            marker=style("stein").marker,
            ms=4,
            label=f"Algorithm 1, N = {n}",
        )
        ax.semilogy(
            i,
            closed,
            color=st.color,
            ls="none",
            marker="o",
            ms=9,
            mfc="none",
            label=f"closed form, N = {n}",
        )
    ax.set_xlabel("step index i")
    ax.set_ylabel("noise level $\\sigma_i$")
    ax.set_title(
        f"Gaussian N(0, c² I), c = 0.5, VE, σ ∈ [{LO:g}, {HI:g}]: Stein-optimal grid",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    return tidy(fig)


@claim(
    "stein.schedule-matches-closed-form",
    statement=(
        r"Algorithm 1 (cumulative $\sqrt{\text{cost}}$ on a fine probe grid, PCHIP inversion) "
        r"reproduces the closed-form optimal grid $\Lambda^{-1}(i\Lambda/N)$ of "
        r"$\mathcal N(0, c^2 I)$ for N = 10 and 18."
    ),
    source=(
        f"{SRC}, Algorithm 1, Thm. 3.1; docs/theory/stein.md#updateschedule, "
        "docs/theory/stein.md#end-to-end-schedule, docs/theory/stein.md#isotropic-ve"
    ),
    method=(
        "root-finding of the hand-typed Lambda(sigma) (c = 0.5, sigma in [0.002, 80]) vs "
        "Algorithm 1 on exact finite-step costs, K = 2000 log-spaced probes"
    ),
    tolerance=f"max relative level error <= {tol.STEIN_SCHEDULE_RTOL:g}",
    docs="docs/theory/stein.md#isotropic-ve",
    math=(
        r"\Lambda(\rho_k)-\Lambda(\sigma_{\min})=\frac{N-k}{N}\big(\Lambda(\sigma_{\max})"
        r"-\Lambda(\sigma_{\min})\big),\qquad\max_k\frac{|\rho_k^{\text{Alg. 1}}-\rho_k|}{\rho_k}"
        rf"\le{tol.STEIN_SCHEDULE_RTOL:g}"
    ),
)
def check_schedule(budget: Budget) -> Outcome:
    model = GaussianModel.isotropic(0.5, 1)
    lev = stein.probe_levels(LO, HI, 2000)
    costs = stein.estimate_costs(model, lev, estimator="exact").costs
    errs = {}
    grids: dict[int, tuple[FloatArray, FloatArray]] = {}
    for n in (10, 18):
        grids[n] = (stein.update_schedule(lev, costs, n), _optimal_iso(1, 0.5, n))
        errs[n] = stein.schedule_error(*grids[n])
    worst = max(errs.values())
    sched = stein.update_schedule(lev, costs, 10)
    from symsched.schedules import Schedule

    fig = _schedule_figure(grids)
    caption = (
        "Noise levels $\\sigma_i$ against the step index i of the grid Algorithm 1 builds from "
        "exact finite-step corrector costs on 2000 log-spaced probes (lines) and of the "
        "closed-form optimum $\\Lambda^{-1}(i\\Lambda/N)$ (circles), for the Gaussian "
        f"N(0, c² I) with c = 0.5 on σ ∈ [{LO:g}, {HI:g}], N = 10 and 18. The largest relative "
        f"level difference is {errs[10]:.1e} at N = 10 and {errs[18]:.1e} at N = 18."
    )

    return Outcome(
        worst <= tol.STEIN_SCHEDULE_RTOL,
        f"Algorithm 1's grid differs from the closed-form optimum by at most {worst:.2e} "
        f"relative ({errs[10]:.2e} at N = 10, {errs[18]:.2e} at N = 18).",
        {"errors": {str(k): v for k, v in errs.items()}},
        figures={"stein_vs_closed_form": fig},
        captions={"stein_vs_closed_form": caption},
        schedules=[
            {
                "name": "stein-gaussian-c0.5-N10",
                "schedule": Schedule(
                    "stein",
                    sched,
                    {"model": "gaussian(c=0.5)", "estimator": "exact", "probe_levels": 2000},
                ).to_json(),
            }
        ],
    )


# Gauss-Legendre nodes and weights on [-1, 1]; numpy's stubs leave leggauss untyped
_leggauss: Callable[[int], tuple[FloatArray, FloatArray]] = np.polynomial.legendre.leggauss


def _ref_metric_spectrum(lams: FloatArray, s: float) -> float:
    # Gaussian data N(0, diag lam), VE: delta = s^2 sum (2 s)^2 / (lam + s^2)^3
    return float(4 * s**4 * np.sum(1.0 / (lams + s * s) ** 3))


def _optimal_from_metric(
    metric: Callable[[float], float], steps: tuple[int, ...], panels: int = 320
) -> dict[int, FloatArray]:
    """Optimal grids Lambda^-1(k Lambda / N) from a metric, without :mod:`symsched.stein`.

    Lambda(u), u = ln sigma, by 8-point Gauss-Legendre on ``panels`` equal panels of [ln LO,
    ln HI]; between panel edges the cubic Hermite interpolant of Lambda with its exact derivative
    sqrt(delta) sigma (error ~ w^4 / 384 times the fourth derivative: 3e-7 relative near
    sigma_min for w = 0.033, where Lambda ~ exp(3u)); the levels by root finding.
    """
    return _roots(_length_table(metric, panels), steps)


def _length_table(metric: Callable[[float], float], panels: int) -> Callable[[float], float]:
    from scipy.interpolate import CubicHermiteSpline

    z, w = _leggauss(8)
    edges = np.linspace(math.log(LO), math.log(HI), panels + 1)
    half = 0.5 * (edges[1] - edges[0])

    def g(u: float) -> float:
        return math.sqrt(metric(math.exp(u))) * math.exp(u)

    pieces = [
        half * sum(wj * g(0.5 * (a + b) + half * zj) for zj, wj in zip(z, w, strict=True))
        for a, b in itertools.pairwise(edges)
    ]
    spline = CubicHermiteSpline(
        edges, np.concatenate([[0.0], np.cumsum(pieces)]), [g(u) for u in edges]
    )

    def lam_u(u: float) -> float:
        return float(spline(u))

    return lam_u


def _roots(lam_u: Callable[[float], float], steps: tuple[int, ...]) -> dict[int, FloatArray]:
    a, b = math.log(LO), math.log(HI)
    total = lam_u(b)
    out = {}
    for n in steps:
        inner = [
            math.exp(brentq(lambda u, t=t: lam_u(u) - t, a, b, xtol=1e-14))
            for t in total * np.arange(n - 1, 0, -1) / n
        ]
        out[n] = np.array([HI, *inner, LO])
    return out


DEFAULT_STEPS = (5, 10, 20, 50, 100)


@functools.cache
def _two_point_length() -> Callable[[float], float]:
    """Two-point Lambda(ln sigma) from the adaptive-quadrature, central-difference metric."""
    return _length_table(_ref_two_point_metric, 320)


def _two_point_optimum(steps: tuple[int, ...] = DEFAULT_STEPS) -> dict[int, FloatArray]:
    """Optimal two-point grids (:func:`_two_point_length`, root finding)."""
    return _roots(_two_point_length(), steps)


@claim(
    "stein.default-schedule-matches-closed-form",
    statement=(
        r"The Stein schedule as shipped (stein_schedule(model, N) with no options, and the "
        r"command line's schedule stein) is within $10^{-3}$ relative of the continuum optimum "
        r"$\Lambda^{-1}(k\Lambda/N)$ at every level for Gaussian data $\mathcal N(0,c^2I_d)$, "
        r"$c\in\{0.1,0.5,2\}$, $d\in\{1,16\}$, and the 64-eigenvalue digits spectrum, "
        "N = 5 to 100."
    ),
    source=(
        f"{SRC}, Algorithm 1, §3.1 (Thm. 3.1); docs/theory/stein.md#second-order-length-estimate, "
        "docs/theory/stein.md#isotropic-ve"
    ),
    method=(
        "root finding of the hand-typed closed-form length (isotropic) or of Gauss-Legendre "
        "panels of the hand-typed metric (spectrum) against the default schedule; the forward "
        "costs of Algorithm 1 on the same probes for contrast"
    ),
    tolerance=(
        f"max relative level error <= {tol.STEIN_DEFAULT_SCHEDULE_RTOL:g} (the promise of "
        "docs/defaults.md)"
    ),
    docs="docs/defaults.md#stein-schedule",
    math=(
        r"\max_{N\in\{5,\dots,100\}}\max_k\frac{|\rho_k^{\text{default}}-\rho_k^\star|}"
        rf"{{\rho_k^\star}}\le{tol.STEIN_DEFAULT_SCHEDULE_RTOL:g},\qquad"
        r"\Lambda(\rho_k^\star)-\Lambda(\sigma_{\min})=\tfrac{N-k}{N}\,\Lambda"
    ),
)
def check_default_schedule(budget: Budget) -> Outcome:
    from symsched.schedules import build

    errs: dict[str, float] = {}
    fwd: dict[str, float] = {}
    cases: dict[str, tuple[GaussianModel, dict[int, FloatArray]]] = {}
    for c, d in itertools.product((0.1, 0.5, 2.0), (1, 16)):
        grids = {n: _optimal_iso(d, c, n) for n in DEFAULT_STEPS}
        cases[f"c = {c:g}, d = {d}"] = (GaussianModel.isotropic(c, d), grids)
    lams = np.asarray(dataset_spectrum("digits"), dtype=np.float64)
    spec = _optimal_from_metric(lambda s: _ref_metric_spectrum(lams, s), DEFAULT_STEPS)
    cases["the digits spectrum"] = (GaussianModel(lams), spec)
    for name, (model, grids) in cases.items():
        for n, ref in grids.items():
            key = f"{name}, N = {n}"
            errs[key] = stein.schedule_error(stein.stein_schedule(model, n).schedule.sigmas, ref)
            fwd[key] = stein.schedule_error(
                stein.stein_schedule(model, n, symmetric=False).schedule.sigmas, ref
            )
    cli = build("stein", 9, model="gaussian", c=0.5, dim=1, sigma_min=LO, sigma_max=HI)
    cli_err = stein.schedule_error(cli.sigmas, _optimal_iso(1, 0.5, 9))
    worst_key = max(errs, key=lambda k: errs[k])
    worst = max(errs[worst_key], cli_err)
    return Outcome(
        worst <= tol.STEIN_DEFAULT_SCHEDULE_RTOL,
        f"As shipped, the Stein schedule is within {errs[worst_key]:.1e} relative of the "
        f"continuum optimum over {len(errs)} cases (the worst is {worst_key}), and the command "
        f"line's schedule for c = 0.5, d = 1, N = 9 is within {cli_err:.1e}; the forward costs of "
        f"Algorithm 1 on the same probes are off by up to {max(fwd.values()):.1e}.",
        {
            "errors": errs,
            "forward_errors": fwd,
            "cli_error": cli_err,
            "cli_params": {k: cli.params[k] for k in ("estimator", "probe_levels", "length")},
        },
    )


@claim(
    "stein.default-schedule-two-point",
    statement=(
        r"For the two-point data $\tfrac12\delta_{-1}+\tfrac12\delta_{+1}$ the Stein schedule as "
        r"shipped (stein_schedule(two_point(), N)) is within $10^{-3}$ relative of the continuum "
        r"optimum at every level, N = 5 to 100."
    ),
    source=(
        f"{SRC}, Algorithm 1, §3.1; docs/theory/stein.md#second-order-length-estimate, "
        "docs/theory/stein.md#two-point-data"
    ),
    method=(
        "the metric by adaptive scipy quad of a central difference of the hand-typed score, "
        "its length by Gauss-Legendre panels, root finding; against the default schedule"
    ),
    tolerance=f"max relative level error <= {tol.STEIN_DEFAULT_SCHEDULE_RTOL:g}",
    docs="docs/defaults.md#stein-schedule",
    math=(
        r"\max_{N\in\{5,\dots,100\}}\max_k\frac{|\rho_k^{\text{default}}-\rho_k^\star|}"
        rf"{{\rho_k^\star}}\le{tol.STEIN_DEFAULT_SCHEDULE_RTOL:g}"
    ),
)
def check_default_two_point(budget: Budget) -> Outcome:
    model = two_point()
    ref = _two_point_optimum()
    res = {n: stein.stein_schedule(model, n) for n in DEFAULT_STEPS}
    errs = {str(n): stein.schedule_error(r.schedule.sigmas, ref[n]) for n, r in res.items()}
    worst = max(errs.values())
    est = sorted({str(r.schedule.params["estimator"]) for r in res.values()})
    return Outcome(
        worst <= tol.STEIN_DEFAULT_SCHEDULE_RTOL and est == ["exact"],
        f"As shipped (the {', '.join(est)} quadrature costs, symmetrised), the two-point Stein "
        f"schedule is within {worst:.1e} relative of the continuum optimum for N = "
        + ", ".join(str(n) for n in DEFAULT_STEPS)
        + f" ({errs['5']:.1e} at N = 5, {errs['100']:.1e} at N = 100).",
        {"errors": errs, "estimators": est},
    )


def _order_figure(ks: list[int], curves: dict[str, list[float]]) -> Any:
    """Schedule error against the probe count K, forward vs symmetric lengths."""
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import styles

    fig = new_figure((6.0, 4.3))
    ax = fig.add_subplot()
    look = styles(curves)
    for name, errs in curves.items():
        st = look[name]
        ax.loglog(ks, errs, color=st.color, ls=st.linestyle, marker="o", ms=4, label=name)
    ax.axhline(tol.STEIN_DEFAULT_SCHEDULE_RTOL, color="k", ls=":", lw=1, label="the 1e-3 promise")
    ax.set_xlabel("probe intervals K")
    ax.set_ylabel("max relative level error, N = 9")
    ax.set_title(
        f"Gaussian N(0, 0.25) and two-point data, VE, σ ∈ [{LO:g}, {HI:g}]: length estimates",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    return tidy(fig)


@claim(
    "stein.length-second-order",
    statement=(
        "The schedule from symmetrised finite-step costs converges to the continuum optimum at "
        "second order in the probe step (error ratio 4 per doubling of K), the forward costs of "
        r"Algorithm 1 at first order (ratio 2), for $\mathcal N(0,\tfrac14)$ and the two-point "
        "data, N = 9."
    ),
    source=f"{SRC}, Algorithm 1, §2.3, §3.1; docs/theory/stein.md#second-order-length-estimate",
    method=(
        "exact (Gaussian closed form, two-point quadrature) forward and symmetric costs on "
        "K = 128, 256, 512, 1024 log-spaced probes; errors against the root-found optimum of the "
        "hand-typed length (Gaussian) or metric (two-point); log2 of successive error ratios"
    ),
    tolerance=(
        f"observed orders within {tol.STEIN_LENGTH_ORDER_BAND} of 1 (forward) and 2 (symmetric) "
        "from K = 256 on"
    ),
    docs="docs/theory/stein.md#second-order-length-estimate",
    math=(
        r"\log_2\frac{e(K)}{e(2K)}\to p,\qquad p_{\text{forward}}=1,\quad "
        r"p_{\text{symmetric}}=2,\qquad e(K)=\max_k\frac{|\rho_k^{(K)}-\rho_k^\star|}"
        r"{\rho_k^\star}"
    ),
)
def check_length_order(budget: Budget) -> Outcome:
    n, ks = 9, [128, 256, 512, 1024]
    refs = {"Gaussian": _optimal_iso(1, 0.5, n), "two-point": _two_point_optimum((n,))[n]}
    models: dict[str, ScoreModel] = {
        "Gaussian": GaussianModel.isotropic(0.5, 1),
        "two-point": two_point(),
    }
    curves: dict[str, list[float]] = {}
    expected: dict[str, int] = {}
    for (name, model), sym in itertools.product(models.items(), (False, True)):
        errs = []
        for k in ks:
            lev = stein.probe_levels(LO, HI, k)
            costs = stein.estimate_costs(model, lev, estimator="exact", symmetric=sym).costs
            errs.append(stein.schedule_error(stein.update_schedule(lev, costs, n), refs[name]))
        label = f"{name}, {'symmetric' if sym else 'forward'}"
        curves[label], expected[label] = errs, 2 if sym else 1
    orders = {k: [math.log2(a / b) for a, b in itertools.pairwise(e)] for k, e in curves.items()}
    lo_b, hi_b = tol.STEIN_LENGTH_ORDER_BAND
    ok = all(
        expected[k] + lo_b <= p <= expected[k] + hi_b for k, ps in orders.items() for p in ps[1:]
    )
    g_f, g_s = curves["Gaussian, forward"], curves["Gaussian, symmetric"]
    caption = (
        "Largest relative level error of the N = 9 Stein schedule against the continuum optimum, "
        f"against the number K of log-spaced probe intervals on σ ∈ [{LO:g}, {HI:g}], for exact "
        "forward costs (Algorithm 1 as written) and symmetrised costs, on the Gaussian "
        "N(0, 0.25) and the two-point data. The forward error halves per doubling of K "
        f"({g_f[0]:.1e} to {g_f[-1]:.1e} on the Gaussian), the symmetric one quarters "
        f"({g_s[0]:.1e} to {g_s[-1]:.1e}); the dotted line is the 1e-3 promise of the defaults."
    )
    return Outcome(
        ok,
        "The observed orders from K = 256 on are "
        + "; ".join(f"{k} " + " and ".join(f"{p:.2f}" for p in ps[1:]) for k, ps in orders.items())
        + f"; at the default K = 128 the Gaussian error is {g_f[0]:.1e} forward and "
        f"{g_s[0]:.1e} symmetric.",
        {"K": ks, "errors": curves, "orders": orders},
        figures={"error_vs_probes": _order_figure(ks, curves)},
        captions={"error_vs_probes": caption},
    )


@claim(
    "stein.independent-of-dimension-and-probe-grid",
    statement=(
        "The optimal schedule does not depend on d (d = 1, 7, 256: identical to round-off) nor "
        r"on the probe grid once fine (log-uniform vs EDM $\rho = 7$ spacing, K = 2000; and "
        "K = 1000 vs 2000)."
    ),
    source=f"{SRC}, Thm. 3.1; docs/theory/stein.md#isotropic-ve",
    method=(
        "Algorithm 1 on exact costs for the three dimensions and the probe grids; pairwise max "
        "relative level differences"
    ),
    tolerance=(
        f"dimension: {tol.STEIN_ROUNDOFF_RTOL:g}; probe grid: {tol.STEIN_GRID_INDEPENDENCE_RTOL:g}"
    ),
    docs="docs/theory/stein.md#isotropic-ve",
    math=(
        r"\Lambda_d(\sigma)=\sqrt d\,\Lambda_1(\sigma)\ \Rightarrow\ \rho_k^{(d)}=\rho_k^{(1)},"
        r"\qquad\max_k\frac{|\rho_k^{\text{probe grid A}}-\rho_k^{\text{probe grid B}}|}{\rho_k}"
        rf"\le{tol.STEIN_GRID_INDEPENDENCE_RTOL:g}"
    ),
)
def check_invariance(budget: Budget) -> Outcome:
    n = 12
    lev = stein.probe_levels(LO, HI, 2000)
    by_d = [
        stein.update_schedule(
            lev,
            GaussianModel.isotropic(0.7, d).exact_interval_costs(
                lev, process="ve", weight="target"
            ),
            n,
        )
        for d in (1, 7, 256)
    ]
    dim_err = max(stein.schedule_error(g, by_d[0]) for g in by_d[1:])
    m = GaussianModel.isotropic(0.7, 1)
    grids = {}
    for kind, k in (("log", 2000), ("karras", 2000), ("log", 1000)):
        lv = stein.probe_levels(LO, HI, k, kind)
        grids[f"{kind}-{k}"] = stein.update_schedule(
            lv, m.exact_interval_costs(lv, process="ve", weight="target"), n
        )
    grid_err = max(
        stein.schedule_error(grids["karras-2000"], grids["log-2000"]),
        stein.schedule_error(grids["log-1000"], grids["log-2000"]),
    )
    ok = dim_err <= tol.STEIN_ROUNDOFF_RTOL and grid_err <= tol.STEIN_GRID_INDEPENDENCE_RTOL
    return Outcome(
        ok,
        f"The grids for d = 1, 7 and 256 differ by at most {dim_err:.1e} relative, and those "
        f"from the three probe grids by {grid_err:.1e}.",
        {"dimension_error": dim_err, "probe_grid_error": grid_err},
    )


@claim(
    "stein.equal-costs-at-optimum",
    statement=(
        r"On the closed-form optimal grid the total corrector cost tends to $\Lambda^2/N$ and "
        r"the interval costs become equal (away from $\sigma_{\min}$) at rate $1/N$."
    ),
    source=f"{SRC}, Thm. 3.1 (constant speed); docs/theory/stein.md#length-and-geodesic-schedules",
    method=(
        "exact finite-step costs (hand-typed, isotropic VE) on root-found optimal grids, N = 50, "
        "100, 200, 400; spread over the first 90% of intervals; log-log slope"
    ),
    tolerance=(
        f"spread(N=400) <= {tol.STEIN_EQUAL_COST_RTOL:g}, |N sum L / Lambda^2 - 1| <= "
        f"{tol.STEIN_EQUAL_COST_RTOL:g} and decreasing, slope in {tol.STEIN_LOCAL_ORDER_BAND}"
    ),
    docs="docs/theory/stein.md#length-and-geodesic-schedules",
    math=(
        r"N\sum_{i=0}^{N-1}\mathcal L_c(\rho_i\to\rho_{i+1})\to\Lambda^2,\qquad"
        r"\frac{\max_i\mathcal L_c(\rho_i\to\rho_{i+1})}{\min_i\mathcal L_c(\rho_i\to\rho_{i+1})}"
        r"-1=O(N^{-1})"
    ),
)
def check_equal_costs(budget: Budget) -> Outcome:
    c = 0.5
    lam_total = _ref_length_iso(1, c, HI) - _ref_length_iso(1, c, LO)
    ns, spreads, totals = (50, 100, 200, 400), [], []
    per_step: dict[int, FloatArray] = {}
    for n in ns:
        g = _optimal_iso(1, c, n)
        costs = np.array([_ref_cost_iso(1, c, g[i], g[i + 1]) for i in range(n)])
        per_step[n] = n * n * costs / lam_total**2
        keep = costs[: n - math.ceil(n / 10)]
        spreads.append(keep.max() / keep.min() - 1)
        totals.append(n * costs.sum() / lam_total**2 - 1)
    slope = float(np.polyfit(np.log(ns), np.log(spreads), 1)[0])
    lo_b, hi_b = tol.STEIN_LOCAL_ORDER_BAND
    ok = (
        spreads[-1] <= tol.STEIN_EQUAL_COST_RTOL
        and abs(totals[-1]) <= tol.STEIN_EQUAL_COST_RTOL
        and all(abs(b) < abs(a) for a, b in itertools.pairwise(totals))
        and lo_b <= slope <= hi_b
    )
    return Outcome(
        ok,
        f"At N = {ns[-1]} the interval costs spread by {spreads[-1]:.2e} relative and "
        f"$N\\sum_i\\mathcal{{L}}_c/\\Lambda^2 - 1$ is {totals[-1]:.2e}; the spread decays with "
        f"log-log slope {slope:.2f}.",
        {"N": list(ns), "spread": spreads, "total_minus_one": totals, "slope": slope},
        figures={"per_step_costs": _costs_figure(per_step, c)},
        captions={
            "per_step_costs": (
                "Exact corrector cost of each interval of the closed-form optimal grid, times "
                "$N^2/\\Lambda^2$, against the interval's position i/N, for the Gaussian "
                f"N(0, c² I) with c = {c:g} (VE, σ ∈ [{LO:g}, {HI:g}]) and N = "
                + ", ".join(str(n) for n in ns)
                + ". The costs are equal (the curves flat at 1) away from $\\sigma_{\\min}$: "
                f"over the first 90% of intervals they spread by {spreads[0]:.1e} at N = {ns[0]} "
                f"and {spreads[-1]:.1e} at N = {ns[-1]} (slope {slope:.2f})."
            )
        },
    )


def _costs_figure(per_step: dict[int, FloatArray], c: float) -> Any:
    """Per-interval costs (times N^2 / Lambda^2) against i/N for each N."""
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import styles

    fig = new_figure((6.0, 4.3))
    ax = fig.add_subplot()
    look = styles(f"N = {n}" for n in per_step)
    for n, v in per_step.items():
        st = look[f"N = {n}"]
        ax.plot(
            (np.arange(n) + 0.5) / n, v, color=st.color, ls=st.linestyle, lw=1.3, label=f"N = {n}"
        )
    ax.axvline(0.9, color="k", ls=":", lw=1, label="90% of the intervals")
    ax.set_xlabel("interval position i / N (from $\\sigma_{\\max}$ to $\\sigma_{\\min}$)")
    ax.set_ylabel("$N^2 \\mathcal{L}_i / \\Lambda^2$")
    ax.set_title(
        f"Gaussian N(0, c² I), c = {c:g}, VE, σ ∈ [{LO:g}, {HI:g}]: costs on the optimal grid",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    return tidy(fig)


@claim(
    "stein.vp-unit-variance-zero-cost",
    statement=(
        "VP with unit-variance Gaussian data has zero corrector cost everywhere: symbolically, "
        "in closed form, and through the denoiser by Monte Carlo and JVP; the same data under VE "
        "(and VP data of variance 0.25) have a positive cost."
    ),
    source=f"{SRC}, §2.3; docs/theory/stein.md#vp-gaussian (unit-variance data: zero cost)",
    method="SymPy substitution lam = 1; exact, Monte Carlo and JVP estimates on a probe grid",
    tolerance=(
        "|cost| <= (64 eps)^2 d / sigma_min^2, JVP metric <= (64 eps)^2 d / sigma_min^4 "
        "(cancellation round-off, verify/tolerances/_stein.py); non-vacuity: the VE and lam = "
        "0.25 costs > 1e3 x that"
    ),
    docs="docs/theory/stein.md#vp-gaussian",
    math=(
        r"\text{VP: }m_k(\sigma)=(1-\sigma^2)\lambda_k+\sigma^2\big|_{\lambda_k=1}=1\ \Rightarrow"
        r"\ \mathcal L_c\equiv0,\quad\delta_c\equiv0;\qquad\text{VE or }\lambda_k=0.25:\ "
        r"\mathcal L_c>0"
    ),
)
def check_vp_zero(budget: Budget) -> Outcome:
    sym_zero = (
        sp.simplify(S.gaussian_interval_cost("vp").subs(lam, 1)) == 0
        and sp.simplify(S.gaussian_local_metric("vp").subs(lam, 1)) == 0
    )
    model = GaussianModel(np.ones(8))
    lev = stein.probe_levels(0.01, 50.0, 64)
    vals = {
        "exact": float(
            np.max(np.abs(stein.estimate_costs(model, lev, estimator="exact", process="vp").costs))
        ),
        "monte-carlo": float(
            np.max(
                np.abs(
                    stein.estimate_costs(
                        model, lev, estimator="monte-carlo", samples=64, process="vp"
                    ).costs
                )
            )
        ),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stein.SteinAccuracyWarning)
        vals["jvp"] = float(np.max(stein.estimate_metric(model, lev, samples=64, process="vp")[0]))
    ve_cost = float(stein.estimate_costs(model, lev, estimator="exact", process="ve").costs.min())
    other = float(
        stein.estimate_costs(
            GaussianModel(np.full(8, 0.25)), lev, estimator="exact", process="vp"
        ).costs.min()
    )
    s_min = float(stein.process_sigma(lev[-1], "vp"))
    atol, atol_jvp = tol.stein_zero_atol(8, s_min), tol.stein_zero_atol(8, s_min, derivative=True)
    ok = (
        sym_zero
        and max(vals["exact"], vals["monte-carlo"]) <= atol
        and vals["jvp"] <= atol_jvp
        and min(ve_cost, other) > 1e3 * atol_jvp
    )
    return Outcome(
        ok,
        f"The VP cost and metric of unit-variance data {'are' if sym_zero else 'are not'} zero "
        f"symbolically; the largest cost is {vals['exact']:.0e} exact and "
        f"{vals['monte-carlo']:.1e} by Monte Carlo (tolerance {atol:.1e}), the largest JVP "
        f"metric {vals['jvp']:.1e} (tolerance {atol_jvp:.1e}); the smallest VE cost is "
        f"{ve_cost:.1e} and the smallest VP cost of variance-0.25 data {other:.1e}.",
        {
            "symbolic_zero": sym_zero,
            "max_abs": vals,
            "ve_min_cost": ve_cost,
            "vp_quarter_min_cost": other,
        },
    )


@claim(
    "stein.point-mass-loglinear",
    statement=(
        r"Point-mass data gives an exactly log-linear (geometric) optimal schedule, "
        r"$\delta_c = 4d/\sigma^2$; the Monte Carlo and JVP schedules of a point-mass model equal "
        r"the geometric grid to round-off, and the two-point mixture approaches $4/\sigma^2$ at "
        r"small $\sigma$."
    ),
    source=f"{SRC}, §3.1; docs/theory/stein.md#point-mass, docs/theory/stein.md#two-point-data",
    method=(
        "families.loglinear grid vs Algorithm 1 on estimates for a one-row empirical model (d = "
        "3); two-point metric by adaptive quad at sigma = 0.02"
    ),
    tolerance=f"relative {tol.STEIN_LOGLINEAR_RTOL:g}; two-point {tol.STEIN_QUADRATURE_RTOL:g}",
    docs="docs/theory/stein.md#point-mass",
    math=(
        r"\delta_c(\sigma)=\frac{4d}{\sigma^2}\ \Rightarrow\ \Lambda(\sigma)=2\sqrt d\ln\sigma"
        r"+\text{const},\quad\rho_k=\sigma_{\max}\Big(\frac{\sigma_{\min}}{\sigma_{\max}}"
        r"\Big)^{k/N};\qquad\text{two-point: }\frac{\sigma^2\delta_c(\sigma)}{4}\to1\ "
        r"(\sigma\to0)"
    ),
)
def check_point_mass(budget: Budget) -> Outcome:
    model = EmpiricalModel(np.array([[0.3, -0.2, 0.5]]), name="point-mass")
    errs = {}
    lev = stein.probe_levels(LO, HI, 128)
    for est in ("jvp", "monte-carlo"):
        costs = stein.estimate_costs(
            model,
            lev,
            estimator=est,
            samples=8,
            seed=budget.seed,
            common_noise=True,
            control_variate=False if est == "jvp" else None,
        ).costs
        for n in (5, 10, 20):
            geo = families.loglinear(LO, HI).grid(n)
            errs[f"{est}-N{n}"] = stein.schedule_error(stein.update_schedule(lev, costs, n), geo)
    s_small = 0.02
    tp = _ref_two_point_metric(s_small) * s_small**2 / 4 - 1
    worst = max(errs.values())
    ok = worst <= tol.STEIN_LOGLINEAR_RTOL and abs(tp) <= tol.STEIN_QUADRATURE_RTOL
    return Outcome(
        ok,
        f"The Monte Carlo and JVP schedules of the point mass deviate from the geometric grid "
        f"by at most {worst:.1e} relative; the two-point metric has $\\sigma^2\\delta_c/4 - 1$ "
        f"equal to {tp:.1e} at $\\sigma$ = {s_small}.",
        {"errors": errs, "two_point_small_sigma": tp},
    )


def _errors(
    model: ScoreModel,
    ref: FloatArray,
    variant: tuple[str, bool, bool],
    k: int,
    n: int,
    seeds: int,
    steps: int,
) -> tuple[float, int]:
    estimator, common, cv = variant
    lev = stein.probe_levels(LO, HI, k)
    errs, evals = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stein.SteinAccuracyWarning)
        for sd in range(seeds):
            e = stein.estimate_costs(
                model,
                lev,
                estimator=estimator,
                samples=n,
                seed=1000 + sd,
                common_noise=common,
                control_variate=cv if estimator == "jvp" else None,
            )
            errs.append(stein.schedule_error(stein.update_schedule(lev, e.costs, steps), ref))
            evals = e.evaluations
    return float(np.sqrt(np.mean(np.square(errs)))), evals


class Trial(TypedDict):
    """One ladder setting of :func:`evaluations_to_target`."""

    probe: int
    samples: int
    evaluations: int
    rms_error: float


class TargetSearch(TypedDict):
    """The result of :func:`evaluations_to_target` (``probe`` and ``samples`` when reached)."""

    reached: bool
    evaluations: int
    probe: NotRequired[int]
    samples: NotRequired[int]
    tried: list[Trial]


def evaluations_to_target(
    model: ScoreModel,
    ref: FloatArray,
    variant: tuple[str, bool, bool],
    seeds: int,
    ladder: list[tuple[int, int]],
    steps: int = 10,
    target: float = tol.STEIN_TARGET_SCHEDULE_ERROR,
) -> TargetSearch:
    """Cheapest (K, n) on ``ladder`` (sorted by evaluations) whose RMS schedule error <= target.

    ``variant`` is ``(estimator, common_noise, control_variate)``.
    """
    tried: list[Trial] = []
    for k, n in sorted(ladder, key=lambda kn: (kn[0] * kn[1], kn[0])):
        err, evals = _errors(model, ref, variant, k, n, seeds, steps)
        tried.append(
            {
                "probe": k,
                "samples": n,
                "evaluations": evals,
                "rms_error": err,
            }
        )
        if err <= target:
            return {"reached": True, "evaluations": evals, "probe": k, "samples": n, "tried": tried}
    return {"reached": False, "evaluations": max(t["evaluations"] for t in tried), "tried": tried}


class Hypercube(ScoreModel):
    """Uniform data on {-1, 1}^d: a product of two-point mixtures, D_i = tanh(x_i / sigma^2)
    (docs/theory/stein.md#two-point-data).

    Non-Gaussian, d-dimensional, with an exact metric: d times the two-point quadrature metric.
    """

    def __init__(self, dim: int) -> None:
        super().__init__(dim, name=f"hypercube(d={dim})")

    def _denoise(self, x: Any, sigma: Any) -> Any:
        import torch

        return torch.tanh(x / sigma[:, None] ** 2)

    def _sample_data(self, n: int, generator: Any) -> Any:
        import torch

        return 2.0 * torch.randint(0, 2, (n, self.dim), generator=generator).to(torch.float64) - 1.0

    def data_moments(self) -> tuple[FloatArray, FloatArray]:
        return np.zeros(self.dim), np.eye(self.dim)


def hypercube_reference(dim: int, steps: int) -> FloatArray:
    """Optimal grid of the hypercube from d x the two-point quadrature metric (trapezoid in log
    sigma, K = 4000)."""
    lev = stein.probe_levels(LO, HI, 4000)
    delta = dim * stein.two_point_local_metric(lev)
    return stein.update_schedule(lev, stein.length_from_metric(delta, lev) ** 2, steps)


@claim(
    "stein.estimator-efficiency",
    statement=(
        "The default estimator (JVP local metric with control variates, fresh samples per level) "
        "reaches a 1% schedule error, and no independent-noise Monte Carlo setting with fewer "
        r"than 4× its score evaluations does, on non-Gaussian data (uniform on "
        r"$\{-1,1\}^{16}$), N = 10."
    ),
    source=(
        f"{SRC}, §3; docs/theory/stein.md#jvp-with-control-variates, "
        "docs/theory/stein.md#two-point-data"
    ),
    method=(
        "RMS over seeds of the max relative level error vs the optimum from 16 x the two-point "
        "quadrature metric (K = 4000); cheapest (probe K, samples n) on a ladder reaching 1% for "
        "the default; Monte Carlo with fresh samples per interval tried on every ladder setting "
        "below 4x that budget"
    ),
    tolerance=(
        f"default reaches {tol.STEIN_TARGET_SCHEDULE_ERROR:g}; Monte Carlo below "
        f"{tol.STEIN_EFFICIENCY_FACTOR:g}x its evaluations does not"
    ),
    docs="docs/theory/stein.md#jvp-with-control-variates",
    math=(
        r"e(E)=\Big(\mathbb E_{\text{seeds}}\max_k\frac{(\hat\rho_k-\rho_k^\star)^2}"
        r"{\rho_k^{\star2}}\Big)^{1/2}:\qquad "
        rf"e_{{\text{{JVP+CV}}}}(E)\le{tol.STEIN_TARGET_SCHEDULE_ERROR:g},\quad "
        rf"e_{{\text{{MC}}}}(E')>{tol.STEIN_TARGET_SCHEDULE_ERROR:g}\ \text{{for }}"
        rf"E'<{tol.STEIN_EFFICIENCY_FACTOR:g}E"
    ),
)
def check_efficiency(budget: Budget) -> Outcome:
    dim = 16
    model = Hypercube(dim)
    ref = hypercube_reference(dim, 10)
    seeds = budget.pick(6, 16)
    ladder_jvp = [(k, n) for k in (32, 64) for n in (4, 8, 16, 32, 64, 128)]
    d = evaluations_to_target(model, ref, (stein.DEFAULT_ESTIMATOR, False, True), seeds, ladder_jvp)
    cap = tol.STEIN_EFFICIENCY_FACTOR * d["evaluations"]
    # finite-step costs need fine probes (first-order bias 1.3% at K = 128 with exact costs on
    # N(0, 0.25 I)), so K starts at 128; every setting below the cap is tried
    ladder_mc = [
        (k, n)
        for k in (128, 256, 512, 1024, 2048)
        for n in (2, 4, 8, 16, 32, 64)
        if 2 * k * n < cap
    ]
    m: TargetSearch = (
        evaluations_to_target(model, ref, ("monte-carlo", False, False), seeds, ladder_mc)
        if ladder_mc
        else {"reached": False, "evaluations": 0, "tried": []}
    )
    ok = bool(d["reached"]) and not m["reached"]
    best_mc = min((t["rms_error"] for t in m["tried"]), default=float("nan"))
    return Outcome(
        ok,
        f"The default estimator {'reaches' if d['reached'] else 'does not reach'} a 1% "
        f"schedule error with {d['evaluations']} score evaluations; independent-noise Monte "
        f"Carlo below {cap:.0f} evaluations gets no closer than {best_mc:.2%} RMS and "
        f"{'reaches' if m['reached'] else 'does not reach'} the target.",
        {"default": d, "monte_carlo_independent": m, "seeds": seeds, "cap": cap},
    )
