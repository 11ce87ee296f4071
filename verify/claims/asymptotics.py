"""Claims of the Euler–Maclaurin asymptotics [sun2026, §5.1]
(docs/theory/gaussian.md#euler-maclaurin-expansion)."""

# check_remainders' property test runs with derandomize=True, which seeds hypothesis from the test
# function's source: its text is kept as it was (a dict comprehension included) so that the drawn
# schedules, and the values the report records, stay the same.
# ruff: noqa: C416

from __future__ import annotations

import math
from contextvars import ContextVar
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symsched._typing import FloatArray, Start
from symsched.gaussian import asymptotics, exact, tangent
from symsched.schedules import families
from symsched.symbols import gamma, s
from symsched_verify import tolerances as tol
from symsched_verify.oracles.exact_sums import family_levels_mp, kl_direct, log_ratio_direct
from symsched_verify.registry import Budget, Outcome, claim

SRC = "Sun, Poor, Zhang, arXiv 2601.13602"


@claim(
    "asymptotics.em-derivation",
    statement=(
        r"Midpoint Euler–Maclaurin gives $\ln r_i = -J_i/N - K_i/N^3 + O(N^{-5})$ with "
        r"$J_i = \int_0^1\dot\varphi_i^2\,du$ and $K_i = \int_0^1(\dot\varphi_i^4/6 - "
        r"\ddot\varphi_i^2/12)\,du$; the $N^{-3}$ boundary terms cancel; "
        r"$\mathrm{KL}(p\,\|\,\hat p) = \sum_i\big(J_i^2/(4N^2) + J_i^3/(12N^3) + (J_iK_i/2 + "
        r"J_i^4/48)/N^4\big)$ and the reverse direction flips the sign of the $N^{-3}$ term."
    ),
    source=(
        f"{SRC}, §5.1 (docs/theory/gaussian.md#euler-maclaurin-expansion, "
        "docs/theory/gaussian.md#kl-coefficients)"
    ),
    method=(
        "SymPy derivation (Taylor of the angle step about the midpoint, series of 2 ln cos, "
        "Bernoulli B_2(1/2), exact total-derivative identity) compared term by term with the "
        "hand-typed coefficients of docs/theory/gaussian.md#kl-coefficients; tangent closed form "
        "vs the paper's J_i(gamma)"
    ),
    tolerance="exact (symbolic equality)",
    docs="docs/theory/gaussian.md#euler-maclaurin-expansion",
    math=(
        r"\ln r_i=-\frac{J_i}{N}-\frac{K_i}{N^3}+O(N^{-5}),\quad J_i=\int_0^1\dot\varphi_i^2\,du,"
        r"\quad K_i=\int_0^1\Big(\frac{\dot\varphi_i^4}{6}-\frac{\ddot\varphi_i^2}{12}\Big)du,"
        r"\qquad\operatorname{KL}=\frac{1}{4N^2}\sum_iJ_i^2\pm\frac{1}{12N^3}\sum_iJ_i^3"
        r"+\frac{1}{N^4}\sum_i\Big(\frac{J_iK_i}{2}+\frac{J_i^4}{48}\Big)+O(N^{-5})"
    ),
)
def check_derivation(budget: Budget) -> Outcome:
    em = asymptotics.log_ratio_expansion()
    p1, p2 = sp.symbols("phi1 phi2", real=True)
    ok_j = sp.simplify(em.j_integrand - p1**2) == 0
    ok_k = sp.simplify(em.k_integrand - (p1**4 / 6 - p2**2 / 12)) == 0
    ok_b = em.boundary_residual == 0
    J, K, B = sp.symbols("J K B", real=True)
    kls = asymptotics.kl_expansion()
    paper_so = {2: J**2 / 4, 3: J**3 / 12, 4: J * K / 2 + J**4 / 48}
    paper_os = {2: J**2 / 4, 3: -(J**3) / 12, 4: J * K / 2 + J**4 / 48}
    ok_kl = (
        all(
            sp.simplify(kls["kl_source_output"][p].subs(B, 0) - e) == 0 for p, e in paper_so.items()
        )
        and all(
            sp.simplify(kls["kl_output_source"][p].subs(B, 0) - e) == 0 for p, e in paper_os.items()
        )
        and all(sp.simplify(kls[d][p].subs(B, 0)) == 0 for d in kls for p in (0, 1))
    )
    # tangent closed form (pure noise, sigma_min = 0) against the paper's J_i(gamma) (the symbolic
    # integral of docs/theory/gaussian.md#coefficient-gamma-star)
    fj, _fk, fj_inf, _ = asymptotics._tangent_closed_form()
    k, D = sp.Symbol("k", positive=True), sp.Symbol("D", positive=True)
    j_pure = sp.simplify((fj_inf - fj.subs(sp.Symbol("x", positive=True), 0)).subs(D, sp.pi / 2))
    ok_t = sp.simplify(j_pure - tangent.J_tangent().subs(gamma, k * s).subs(s, 1)) == 0
    ok = ok_j and ok_k and ok_b and ok_kl and ok_t
    return Outcome(
        ok,
        f"The derived J integrand {'equals' if ok_j else 'differs from'} $\\dot\\varphi^2$ and "
        f"the K integrand {'equals' if ok_k else 'differs from'} "
        f"$\\dot\\varphi^4/6 - \\ddot\\varphi^2/12$; the $N^{{-3}}$ boundary terms "
        f"{'cancel' if ok_b else 'do not cancel'}, the KL coefficients through $N^{{-4}}$ "
        f"{'match' if ok_kl else 'do not match'} the hand-typed ones, and the tangent closed "
        f"form {'reproduces' if ok_t else 'does not reproduce'} $J_i(\\gamma)$.",
        {
            "step_series": str(em.step_series),
            "boundary_residual": str(em.boundary_residual),
            "kl_source_output": {str(p): str(e) for p, e in kls["kl_source_output"].items()},
            "kl_output_source": {str(p): str(e) for p, e in kls["kl_output_source"].items()},
        },
    )


@st.composite
def smooth_families(draw: st.DrawFn) -> families.Family:
    """Smooth families with bounded endpoints: tangent (incl. 0 / inf ends), karras, loglinear, and
    cosine / vp-linear with t_min >= 0.05 (closer to t = 0 they approach the rho ~ sqrt(t)
    singularity and the asymptotic regime starts beyond N = 1000)."""
    kind = draw(st.sampled_from(["tangent", "karras", "loglinear", "cosine", "vp-linear"]))

    def lg(lo: float, hi: float) -> st.SearchStrategy[float]:
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(math.exp)

    if kind == "tangent":
        lo = draw(st.one_of(st.just(0.0), lg(-6, -1)))
        hi = draw(st.one_of(st.just(math.inf), lg(1, 5)))
        return families.tangent(draw(lg(-2, 2)), lo, hi)
    if kind == "karras":
        return families.karras(draw(lg(-6, -2)), draw(lg(2, 4.5)), draw(st.floats(2, 10)))
    if kind == "loglinear":
        return families.loglinear(draw(lg(-6, -2)), draw(lg(2, 4.5)))
    if kind == "cosine":
        return families.cosine(t_min_value=draw(st.floats(0.05, 0.2)))
    return families.vp_linear(t_min_value=draw(st.floats(0.05, 0.2)))


_PREDICTED = {
    "ln_r_after_N^-1": 3,
    "ln_r_after_N^-3": 5,
    "kl_so_after_N^-2": 3,
    "kl_so_after_N^-3": 4,
    "kl_so_after_N^-4": 5,
    "kl_os_after_N^-2": 3,
    "kl_os_after_N^-3": 4,
    "kl_os_after_N^-4": 5,
}


def _start(start: str) -> Start:
    """``start`` as the literal the package takes (the property test draws plain strings)."""
    if start == "exact":
        return "exact"
    if start == "prior":
        return "prior"
    raise ValueError(f"start must be 'exact' or 'prior', got {start!r}")


def remainder_slopes(
    fam: families.Family, lam: FloatArray, start: str, ladder: tuple[int, ...] = tol.EM_LADDER
) -> dict[str, dict[str, float]]:
    """Log-log slopes of the remainders of every truncation against 40-digit direct sums."""
    co = asymptotics.coefficients(lam, fam, start=_start(start))
    rem: dict[str, list[float]] = {k: [] for k in _PREDICTED}
    for n in ladder:
        lev = family_levels_mp(fam, n, tol.EM_DPS)
        lrs = [log_ratio_direct(lev, float(v), start, tol.EM_DPS) for v in lam]
        kso, kos = kl_direct(lrs, tol.EM_DPS)
        with mpmath.workdps(tol.EM_DPS):
            r1 = [
                x + mpmath.mpf(float(bv)) + mpmath.mpf(float(jv)) / n
                for x, bv, jv in zip(lrs, co.B, co.J, strict=True)
            ]
            rem["ln_r_after_N^-1"].append(float(max(abs(v) for v in r1)))
            rem["ln_r_after_N^-3"].append(
                float(
                    max(
                        abs(v + mpmath.mpf(float(kv)) / n**3)
                        for v, kv in zip(r1, co.K, strict=True)
                    )
                )
            )
            for p in (2, 3, 4):
                for tag, val, cs in (
                    ("so", kso, co.kl_source_output),
                    ("os", kos, co.kl_output_source),
                ):
                    pred = sum(mpmath.mpf(cs[q]) / mpmath.mpf(n) ** q for q in range(p + 1))
                    rem[f"kl_{tag}_after_N^-{p}"].append(float(abs(val - pred)))
    logn = np.log(np.array(ladder, dtype=float))
    out: dict[str, dict[str, float]] = {}
    for k, v in rem.items():
        r = np.array(v)
        slope = float(np.polyfit(logn, np.log(r), 1)[0])
        # Richardson view: R N^q = c + d/N + ... for the right order q, so successive increments of
        # R N^q on a doubling ladder shrink by 1/2 even when |d/c| is large (slow onset of N^-q)
        scaled = r * np.array(ladder, dtype=float) ** _PREDICTED[k]
        inc = np.diff(scaled)
        ratios = np.abs(inc[1:] / inc[:-1]) if np.all(inc != 0) else np.array([np.inf])
        out[k] = {"slope": slope, "richardson_max_dev": float(np.max(np.abs(ratios - 0.5)))}
    sink = _REMAINDERS.get()
    if sink is not None:  # check_remainders draws them (the property test's text stays as it was)
        sink.append(rem)
    return out


#: Where :func:`remainder_slopes` also leaves the remainders themselves, while a caller listens.
_REMAINDERS: ContextVar[list[dict[str, list[float]]] | None] = ContextVar(
    "_REMAINDERS", default=None
)

_TRUNCATIONS = {
    "ln_r_after_N^-1": "after $N^{-1}$",
    "ln_r_after_N^-3": "after $N^{-3}$",
    "kl_so_after_N^-2": "after $N^{-2}$",
    "kl_so_after_N^-3": "after $N^{-3}$",
    "kl_so_after_N^-4": "after $N^{-4}$",
}


def _remainder_figure(remainders: list[dict[str, list[float]]]) -> Any:
    """|remainder| against N for every drawn case, one colour per truncation, both panels."""
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import styles

    fig = new_figure((10.5, 4.3))
    panels = fig.subplots(1, 2)
    ladder = np.array(tol.EM_LADDER, dtype=float)
    look = styles(_TRUNCATIONS)
    for ax, prefix, what in (
        (panels[0], "ln_r", "$\\max_i|$remainder of $\\ln r_i|$"),
        (panels[1], "kl_so", "|remainder of KL(source ‖ output)|"),
    ):
        for key, text in _TRUNCATIONS.items():
            if not key.startswith(prefix):
                continue
            st = look[key]
            for j, rem in enumerate(remainders):
                ax.loglog(
                    ladder,
                    rem[key],
                    color=st.color,
                    marker=st.marker,
                    ms=3,
                    lw=0.8,
                    alpha=0.8,
                    label=f"{text} (predicted $N^{{-{_PREDICTED[key]}}}$)" if j == 0 else "_",
                )
        ax.set_xticks(list(ladder), [f"{n:g}" for n in ladder])
        ax.minorticks_off()
        ax.set_xlabel("steps N")
        ax.set_ylabel(what)
        ax.legend(fontsize=8, title="truncation", title_fontsize=8)
    panels[0].set_title("log variance ratio", fontsize=10)
    panels[1].set_title("KL(source ‖ output)", fontsize=10)
    fig.suptitle(
        f"Euler–Maclaurin remainders against 40-digit sums: {len(remainders)} drawn smooth "
        "schedules, 1-3 eigenvalues in [0.01, 100], both starts",
        fontsize=10,
    )
    return tidy(fig)


def _deviation(entry: dict[str, float], q: int) -> float:
    """0 if either order criterion holds, else the slope deviation (both are reported)."""
    if (
        abs(entry["slope"] + q) <= tol.EM_SLOPE_BAND
        or entry["richardson_max_dev"] <= tol.EM_RICHARDSON_BAND
    ):
        return 0.0
    return abs(entry["slope"] + q)


@claim(
    "asymptotics.remainder-slopes",
    statement=(
        r"After truncating $\ln r_i$ at $N^{-1}$ and $N^{-3}$, and both KL directions at "
        r"$N^{-2}$, $N^{-3}$, $N^{-4}$, the remainder decays like $N^{-3}$, $N^{-5}$ and "
        r"$N^{-3}$, $N^{-4}$, $N^{-5}$: finite endpoints, pure-noise starts and both --start "
        r"modes (the prior start adds the boundary term $B_i = \ln(1 + \lambda_i/\sigma_{\max}^2)$,"
        r" giving $N^0$ and $N^{-1}$ KL terms)."
    ),
    source=f"{SRC}, §5.1 (Euler–Maclaurin expansion in N)",
    method=(
        "hypothesis-drawn smooth families (tangent, karras, loglinear, cosine, vp-linear) and "
        "1-3 eigenvalues in [1e-2, 1e2], both starts; 40-digit direct sums of the angle form "
        f"(symsched_verify.oracles.exact_sums, no sumem) at N = {tol.EM_LADDER}; log-log slope "
        "of |remainder|"
    ),
    tolerance=(
        f"|slope - predicted| <= {tol.EM_SLOPE_BAND}, or (slow onset of the N^-q term) "
        f"increments of R N^q shrinking by 1/2 +- {tol.EM_RICHARDSON_BAND} per doubling "
        "(derivations in verify/tolerances/_asymptotics.py)"
    ),
    docs="docs/theory/gaussian.md#euler-maclaurin-expansion",
    math=(
        r"\ln r_i+B_i+\frac{J_i}{N}=O(N^{-3}),\quad"
        r"\ln r_i+B_i+\frac{J_i}{N}+\frac{K_i}{N^3}=O(N^{-5}),\qquad"
        r"\operatorname{KL}-\sum_{q=0}^{p}\frac{c_q}{N^q}=O(N^{-p-1}),\ p=2,3,4,\qquad "
        r"B_i=\ln\Big(1+\frac{\lambda_i}{\sigma_{\max}^2}\Big)\ \text{(prior start)}"
    ),
)
def check_remainders(budget: Budget) -> Outcome:
    records: list[dict[str, Any]] = []

    @settings(
        max_examples=budget.pick(6, 60),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        smooth_families(),
        st.lists(st.floats(math.log(1e-2), math.log(1e2)), min_size=1, max_size=3),
        st.sampled_from(["exact", "prior"]),
    )
    def run(fam: families.Family, logs: list[float], start: str) -> None:
        lam = np.exp(np.array(logs))
        slopes = remainder_slopes(fam, lam, start)
        worst = max(_deviation(slopes[k], q) for k, q in _PREDICTED.items())
        records.append(
            {
                "family": fam.name,
                "params": {k: v for k, v in fam.params.items()},
                "eigenvalues": lam.tolist(),
                "start": start,
                "slopes": slopes,
                "worst_deviation": worst,
            }
        )

    sink: list[dict[str, list[float]]] = []
    token = _REMAINDERS.set(sink)
    try:
        run()
    finally:
        _REMAINDERS.reset(token)
    worst = max(r["worst_deviation"] for r in records)
    worst_slope = max(
        abs(r["slopes"][k]["slope"] + q) for r in records for k, q in _PREDICTED.items()
    )
    ok = worst == 0.0 and len(records) >= 3
    return Outcome(
        ok,
        f"On {len(records)} drawn schedules the log-log slopes of the remainders are within "
        f"{worst_slope:.3f} of the predicted orders; the largest deviation that neither the "
        f"slope band nor the Richardson test accepts is {worst:.3f}.",
        {"cases": records, "predicted": {k: -q for k, q in _PREDICTED.items()}},
        figures={"remainders_vs_steps": _remainder_figure(sink)},
        captions={
            "remainders_vs_steps": (
                "Absolute remainder of the truncated Euler–Maclaurin expansion against 40-digit "
                "direct sums, against the number of steps N (log-log), for each of the "
                f"{len(sink)} smooth schedules drawn from the tangent, karras, loglinear, "
                "cosine and vp-linear families (1-3 eigenvalues, both starts): left the log "
                "variance ratio after its $N^{-1}$ and $N^{-3}$ terms, right KL(source ‖ "
                "output) after its $N^{-2}$, $N^{-3}$ and $N^{-4}$ terms. The fitted slopes are "
                "within "
                f"{worst_slope:.3f} of the predicted orders."
            )
        },
    )


@claim(
    "asymptotics.closed-form-and-quadrature",
    statement=(
        "The tangent family's $J_i$, $K_i$ in closed form (SymPy antiderivatives, finite or "
        "infinite endpoints) and the Gauss–Legendre quadrature of every family agree with "
        "30-digit tanh-sinh quadrature."
    ),
    source=f"{SRC}, §5.1, §5.3(a)",
    method=(
        "mpmath.quad (tanh-sinh, split where rho = sqrt(lam)) of phi'^2 and phi'^4/6 - "
        "phi''^2/12 at 30 digits, random families and eigenvalues in [1e-3, 1e3]"
    ),
    tolerance=(
        f"closed form rtol {tol.CLOSED_FORM_RTOL:g}; quadrature rtol {tol.QUAD_RTOL:g} (relative "
        "to max(|J|, |K|))"
    ),
    docs="docs/theory/gaussian.md#euler-maclaurin-expansion",
    math=(
        r"J_i=\int_0^1\dot\varphi_i^2\,du,\quad "
        r"K_i=\int_0^1\Big(\frac{\dot\varphi_i^4}{6}-\frac{\ddot\varphi_i^2}{12}\Big)du,\qquad"
        r"\frac{\max\big(|J_i-J_i^{\text{tanh-sinh}}|,\,|K_i-K_i^{\text{tanh-sinh}}|\big)}"
        r"{\max(|J_i|,|K_i|)}\le\text{rtol}"
    ),
)
def check_closed_forms(budget: Budget) -> Outcome:
    rng = np.random.default_rng([budget.seed, 31])
    worst_cf, worst_q = 0.0, 0.0
    for i in range(budget.pick(4, 30)):
        lam = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), budget.pick(2, 4)))
        lo = 0.0 if i % 2 else float(np.exp(rng.uniform(-6, -1)))
        hi = math.inf if i % 3 else float(np.exp(rng.uniform(1, 5)))
        fams = [families.tangent(float(np.exp(rng.uniform(-2, 2))), lo, hi)]
        if i < budget.pick(1, 30):
            fams += [
                families.karras(
                    float(np.exp(rng.uniform(-6, -2))), 80.0, float(rng.uniform(2, 10))
                ),
                families.loglinear(0.002, float(np.exp(rng.uniform(2, 5)))),
                families.cosine(t_min_value=float(rng.uniform(1e-3, 0.1))),
            ]
        for fam in fams:
            jm, km = asymptotics.coefficients_mpmath(lam, fam, dps=30)
            jm_a, km_a = np.array([float(v) for v in jm]), np.array([float(v) for v in km])
            scale = np.maximum(np.abs(jm_a), np.abs(km_a))
            q = asymptotics.coefficients(lam, fam, method="quadrature")
            worst_q = max(
                worst_q, float(np.max(np.maximum(np.abs(q.J - jm_a), np.abs(q.K - km_a)) / scale))
            )
            if fam.name == "tangent":
                c = asymptotics.coefficients(lam, fam, method="closed-form")
                worst_cf = max(
                    worst_cf,
                    float(np.max(np.maximum(np.abs(c.J - jm_a), np.abs(c.K - km_a)) / scale)),
                )
    ok = worst_cf <= tol.CLOSED_FORM_RTOL and worst_q <= tol.QUAD_RTOL
    return Outcome(
        ok,
        f"Against 30-digit tanh-sinh quadrature the largest relative error is {worst_cf:.1e} "
        f"for the tangent closed form and {worst_q:.1e} for Gauss–Legendre quadrature.",
        {"closed_form_max_rel_error": worst_cf, "quadrature_max_rel_error": worst_q},
    )


@claim(
    "asymptotics.non-smooth-end-rejected",
    statement=(
        r"Families with $\rho \propto \sqrt{t}$ at $\sigma_{\min} = 0$ (vp-linear, cosine down to "
        r"$t = 0$) have a divergent $J$: asymptotics refuses them with a ValueError, and the "
        r"exact $N^2\,\mathrm{KL}$ indeed keeps growing with N instead of converging."
    ),
    source=(
        f"{SRC}, §5.1 (the expansion needs a smooth schedule); "
        "docs/theory/gaussian.md#smoothness-condition"
    ),
    method=(
        "coefficients() on cosine / vp-linear with t_min = 0 must raise; exact KL "
        "(symsched.gaussian.exact) at N = 100, 1000, 10000 of the same grids: N^2 KL grows; "
        "control: the tangent family's N^2 KL changes by < 2%"
    ),
    tolerance=f"N^2 KL(10^4) / N^2 KL(100) >= {tol.NONSMOOTH_GROWTH}",
    docs="docs/theory/gaussian.md#smoothness-condition",
    math=(
        r"\rho\propto\sqrt t\ \Rightarrow\ J=\int_0^1\frac{\lambda\,\dot\rho^2}{(\lambda+\rho^2)^2}"
        r"\,du=\infty,\qquad\frac{N^2\operatorname{KL}\big|_{N=10^4}}{N^2\operatorname{KL}"
        rf"\big|_{{N=100}}}}\ge{tol.NONSMOOTH_GROWTH:g}"
    ),
)
def check_nonsmooth(budget: Budget) -> Outcome:
    lam = np.array([0.01, 0.1, 1.0])
    details: dict[str, Any] = {}
    ok = True
    for fam in (families.cosine(), families.vp_linear(t_min_value=0.0)):
        try:
            asymptotics.coefficients(lam, fam)
            raised = False
        except ValueError:
            raised = True
        n2kl = [n * n * exact.kl(lam, fam.grid(n)).kl_source_output for n in (100, 1000, 10000)]
        growth = n2kl[-1] / n2kl[0]
        details[fam.name] = {"raised": raised, "N2_KL": n2kl, "growth": growth}
        ok &= raised and growth >= tol.NONSMOOTH_GROWTH
    ctrl = families.tangent(0.3)
    n2c = [n * n * exact.kl(lam, ctrl.grid(n)).kl_source_output for n in (100, 10000)]
    details["tangent_control"] = {"N2_KL": n2c, "growth": n2c[1] / n2c[0]}
    ok &= abs(n2c[1] / n2c[0] - 1) < 0.02
    refused = [k for k, v in details.items() if v.get("raised")]
    factors = ", ".join(f"{v['growth']:.3f} ({k.replace('_', ' ')})" for k, v in details.items())
    return Outcome(
        ok,
        f"The expansion refuses {' and '.join(refused) or 'neither family'} down to $t = 0$; "
        f"from N = 100 to 10 000 $N^2\\,\\mathrm{{KL}}$ grows by a factor {factors}.",
        details,
    )
