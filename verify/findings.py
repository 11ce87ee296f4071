r"""The report's front section: what the verification run found, in sentences, with figures.

Each :class:`Finding` reads the measured values (``Outcome.details``) of a few claims and states
the headline numbers of one paper or capability: KL against N per method and sampler, the tangent
law against the optima (Sun, Poor, Zhang, arXiv 2601.13602), the Stein-optimal schedule against
Karras ρ = 7 on trained networks (Williams et al., arXiv 2412.07877), the VP/VE dichotomy and the
steps needed against d (Aranguri et al., arXiv 2501.00988), the flow shift, the conformance
mismatches and the recommendations. Every number comes from this run's results; a finding whose
claims were not run (``symsched verify --only``) is left out and listed as such.

:func:`recommendation_rows` is the "which schedule for which model, sampler and step budget"
table, read from the claim ``reference.recommend-table``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any

__all__ = [
    "FINDINGS",
    "Finding",
    "FindingText",
    "MissingClaim",
    "ratio_text",
    "recommendation_rows",
    "write_findings",
]

Details = Callable[[str], dict[str, Any]]


class MissingClaim(LookupError):
    """A finding needs a claim that this run did not select."""


@dataclass(frozen=True)
class Finding:
    """One headline of the report.

    Attributes
    ----------
    key
        Anchor of the finding in the report.
    part
        The paper or capability (a key of :data:`symsched_verify.areas.PARTS`).
    title
        The question it answers.
    claims
        The claims whose measured values it states.
    figures
        ``(claim id, figure key)`` of the figures shown with it, in order; a key that the claim
        did not produce is skipped.
    write
        ``details -> sentences``: the finding in words, from the claims' measured values.
    """

    key: str
    part: str
    title: str
    claims: tuple[str, ...]
    figures: tuple[tuple[str, str], ...]
    write: Callable[[Details], list[str]]


@dataclass(frozen=True)
class FindingText:
    """A finding as written for one run: its sentences, the statuses of its claims, its figures."""

    finding: Finding
    sentences: list[str]
    statuses: dict[str, str]
    figures: list[tuple[str, str]]


def _g(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits: plain where that is short, else LaTeX
    ``$m\\cdot 10^{e}$`` (rendered in the HTML report, readable as text)."""
    if x == 0:
        return "0"
    ax = abs(x)
    if float(x).is_integer() and ax < 1e5:
        return str(int(x))
    if 1e-3 <= ax < 1e5:
        return f"{x:.{digits}g}"
    mant, exp = f"{x:.{digits - 1}e}".split("e")
    if float(mant) == 1.0:
        return f"$10^{{{int(exp)}}}$"
    return f"${mant}\\cdot 10^{{{int(exp)}}}$"


def ratio_text(x: float) -> str:
    """A ratio such as ``1.003×`` or ``3.5·10³×``: three decimals near 1, else three digits."""
    return f"{x:.3f}×" if x < 10 else f"{_g(x)}×"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _exact_kl(d: Details) -> list[str]:
    mc = d("gaussian.closed-form-vs-monte-carlo")
    zs = [c["max_abs_z"] for c in mc["cases"]]
    cv = d("gaussian.check-values")
    orders = d("samplers.orders")
    slopes = ", ".join(
        f"{name} {orders['slopes'][name]:.2f} (order {orders['expected'][name]})"
        for name in sorted(orders["slopes"])
    )
    n2 = d("tangent.kl-N-squared-limit")["digits"]
    return [
        f"The closed-form output law of a deterministic sampler on a Gaussian source agrees with "
        f"{mc['particles']:,} Monte Carlo particles in {len(zs)} random cases (largest |z| = "
        f"{max(zs):.2f}) and with the paper's 40-digit check values to a relative "
        f"{_g(cv['max_rel_dev'], 2)}.",
        f"The exact $\\ln\\, r$ of each sampler falls as a power of N with the slope its order "
        f"predicts (the KL falls at twice that rate), measured in log–log: {slopes}.",
        f"On the digits spectrum $N^2\\,\\mathrm{{KL}}$ converges to its Euler–Maclaurin limit "
        f"{n2['limit']:.1f}; the gap shrinks like $N^{{{n2['slope']:.2f}}}$, as the "
        f"$O(1/N)$ correction predicts.",
    ]


def _tangent(d: Details) -> list[str]:
    rows = d("variational.optima-ordering")["rows"]
    out = []
    for row in rows:
        if row["steps"] != 10:
            continue
        out.append(
            f"On the {row['spectrum']} spectrum at N = 10 the KL-optimal grid reaches KL = "
            f"{row['kl_optimal']:.3g}; the variational (Euler–Lagrange) grid is "
            f"{_pct(row['variational'] / row['kl_optimal'] - 1)} above it, the tangent law with "
            f"$\\gamma^\\star$ {_pct(row['tangent_gamma_star'] / row['kl_optimal'] - 1)}, "
            f"Karras ρ = 7 {row['karras-rho7'] / row['kl_optimal']:.1f}× and log-linear "
            f"{row['loglinear'] / row['kl_optimal']:.1f}× the optimum."
        )
    gs = d("tangent.gamma-star")["finite_n"]
    last = {r["dataset"]: r for r in gs if r["steps"] == max(x["steps"] for x in gs)}
    gaps = ", ".join(
        f"{_g(r['rel_gap'], 2)} on {k} (γ* = {r['gamma_star']:.4f})"
        for k, r in sorted(last.items())
    )
    out.append(
        f"The tangent coefficient $\\gamma^\\star$ of the paper's §5.3 is the large-N optimum: at "
        f"N = {max(r['steps'] for r in gs)} the exactly optimal γ differs from it by a relative "
        f"{gaps}."
    )
    return out


def _stein(d: Details) -> list[str]:
    sc = d("stein.sampling-comparison")
    out = []
    for data, rows in sorted(sc["tables"].items()):
        by = {(r["schedule"], r["steps"]): r for r in rows}
        floor = [r for r in rows if r["steps"] is None]
        for n in sorted({r["steps"] for r in rows if r["steps"] is not None}):
            st, ka = by.get(("stein", n)), by.get(("karras", n))
            verdict = ""
            if st is not None and ka is not None:
                gap = (ka["fd"] - st["fd"]) / math.hypot(ka["fd_se"], st["fd_se"])
                verdict = (
                    f" (Stein-optimal {'lower' if gap > 0 else 'higher'} than ρ = 7 by "
                    f"{abs(gap):.1f} standard errors)"
                )
            parts = [
                f"{name} {by[(key, n)]['fd']:.3g} ± {by[(key, n)]['fd_se']:.2g}"
                for key, name in (
                    ("stein", "Stein-optimal"),
                    ("karras", "Karras ρ = 7"),
                    ("loglinear", "log-linear"),
                )
                if (key, n) in by
            ]
            out.append(
                f"On the trained {data} network at N = {n}, the Fréchet distance of the samples is "
                + ", ".join(parts)
                + verdict
                + "."
            )
        if floor:
            out.append(
                f"For scale, the distance between the training and held-out {data} images (the "
                f"floor no sampler can beat) is {floor[0]['fd']:.3g}."
            )
        rho = sc["stein_fitted_rho"].get(data, {})
        if rho:
            fits = ", ".join(f"{v:.1f} at N = {k}" for k, v in sorted(rho.items(), key=_int_key))
            out.append(
                f"A Karras ρ fitted to the Stein-optimal {data} schedule is {fits}: from the score "
                "alone the method recovers a schedule near the ρ = 7 heuristic."
            )
    errs = d("stein.default-schedule-matches-closed-form")["errors"]
    out.append(
        "As shipped (default probe grid and estimator), the Stein-optimal schedule of a Gaussian "
        f"matches its closed form to a relative {_g(max(errs.values()), 2)}."
    )
    return out


def _int_key(item: tuple[str, Any]) -> int:
    return int(item[0])


def _dims(table: Mapping[str, Any]) -> str:
    ds = sorted(int(k) for k in table)
    return f"d = {_g(ds[0])} to {_g(ds[-1])}"


def _highdim(d: Details) -> list[str]:
    vp = d("highdim.vp-constant-loses-p")
    ve = d("highdim.ve-constant-collapses-spread")
    const = d("highdim.steps-needed-constant-sqrt-d")
    dil = d("highdim.steps-needed-dilated-flat")
    cw = d("highdim.cw-steps-needed-constant")["beta=1.1"]

    def grow(tab: dict[str, Any], slopes: dict[str, float]) -> str:
        return "; ".join(
            f"{name} needs N = {tab[name][min(tab[name], key=int)]} to "
            f"{tab[name][max(tab[name], key=int)]} (log–log slope {slopes[name]:.2f})"
            for name in sorted(tab)
        )

    return [
        f"With a constant VP schedule the sampled mode weight drifts from "
        f"{vp['mode_fraction'][0]:.3f} to {vp['mode_fraction'][-1]:.3f} as d grows from "
        f"{_g(vp['dims'][0])} to {_g(vp['dims'][-1])} at fixed N: VP loses the "
        f"mixture weight p. With a constant VE schedule the within-mode spread collapses, "
        f"std/σ = {ve['std_ratio'][0]:.3g} to {ve['std_ratio'][-1]:.3g}: VE loses the variance.",
        f"Steps needed for a fixed accuracy on the Gaussian mixture, "
        f"{_dims(const['table']['vp-constant'])}: {grow(const['table'], const['slopes'])} — the "
        f"Θ(√d) growth (slope 1/2); dilated schedules stay flat: "
        f"{grow(dil['table'], dil['slopes'])}.",
        f"On the Curie–Weiss model at β = 1.1 the constant schedules grow the same way "
        f"({_dims(cw['table']['vp-constant'])}): {grow(cw['table'], cw['slopes'])}.",
    ]


def _flow(d: Details) -> list[str]:
    opt = d("flow.optimal-shift")
    pub = d("flow.published-rules")["table"]
    rows = pub["rows"]
    shifts = [r["shift"] for r in rows]
    rules = []
    for rule in pub["rules"]:
        ratios = [r["rules"][rule]["kl_ratio"] for r in rows]
        rules.append(f"{rule} {_g(min(ratios))}–{_g(max(ratios))}×")
    res = sorted({r["resolution"] for r in rows})
    steps = sorted({r["steps"] for r in rows})
    return [
        f"For the flow Euler sampler on a Gaussian source the KL-optimal shift converges to "
        f"$s_\\infty$ = {opt['s_inf']:.4f} as N grows (s* = "
        + ", ".join(f"{r['shift']:.4f} at N = {r['steps']}" for r in opt["rows"])
        + ").",
        f"On the photographs spectrum at resolutions {res[0]}–{res[-1]} px and N = "
        f"{steps[0]}–{steps[-1]}, the optimal shift is {min(shifts):.3f}–{max(shifts):.3f}; the "
        f"published shift rules give a KL this many times the optimum: {', '.join(rules)}.",
    ]


def _conformance(d: Details) -> list[str]:
    mm = d("conformance.mismatches")
    cases = mm["cases"]
    with_kl = [c for c in cases if c["kl_ddim"] is not None]
    worst = max(with_kl, key=lambda c: max(c["kl_ddim"]) / min(c["kl_ddim"]))
    ratio = max(worst["kl_ddim"]) / min(worst["kl_ddim"])
    steps_off = [c for c in cases if c["executed"][0] != c["executed"][1]]
    rp = d("conformance.reproduced")
    exact = sum(c["exact"] for c in rp["counts"].values())
    within = sum(c["within"] for c in rp["counts"].values())
    refused = sum(c["both-refuse"] for c in rp["counts"].values())
    out = [
        f"Schedules with the same name differ between tools in {len(cases)} measured cases; the "
        f"largest DDIM KL ratio is {ratio:.1f}× ({worst['left']} vs {worst['right']}).",
    ]
    if steps_off:
        out.append(
            f"In {len(steps_off)} cases the tools do not even take the same number of steps "
            + "; ".join(
                f"({c['left']}: {c['executed'][0]}, {c['right']}: {c['executed'][1]})"
                for c in steps_off
            )
            + "."
        )
    out.append(
        f"symsched's built-ins reproduce the installed diffusers and k-diffusion on "
        f"{len(rp['counts'])} schedulers × {rp['draws']} drawn configurations: {exact} bit-exact, "
        f"{within} within a few float32 ulps (worst {max(rp['max_ulps'].values())}), {refused} "
        "refused by both."
    )
    return out


def _recommend(d: Details) -> list[str]:
    rows = d("reference.recommend-table")["table"]
    ratios = [
        r["best_baseline_ratio"]
        for r in rows
        if r["best_baseline_ratio"] == r["best_baseline_ratio"]
    ]
    pre = d("pretrained.kl-optimal-ranks-first")["rows"]
    low = [r for r in pre if r["nfe"] == min(x["nfe"] for x in pre)]
    gaps = [r["best_baseline_gap"] for r in low]
    return [
        f"For {len(rows)} combinations of model family, sampler and N the recommended grid beats "
        f"the best listed alternative on that sampler's own criterion by a median "
        f"{median(ratios):.2f}× (at least {min(ratios):.3f}×); the table below links each schedule "
        "file.",
        f"With the models' own noise tables (EDM, DDPM linear and cosine, SD 1.5) and the two "
        f"real spectra, the KL-optimal grid has the least exact KL of every strategy in all "
        f"{len(pre)} (model, data, NFE) cases; at NFE {low[0]['nfe']} the best published "
        f"heuristic (uniform or quadratic t, logSNR-uniform, EDM ρ = 7, AYS) has "
        f"{_pct(min(gaps))}–{_pct(max(gaps))} more KL.",
    ]


FINDINGS: tuple[Finding, ...] = (
    Finding(
        "finding-kl-vs-n",
        "gaussian",
        "How does the exact KL fall with the number of steps, per method and sampler?",
        (
            "gaussian.closed-form-vs-monte-carlo",
            "gaussian.check-values",
            "samplers.orders",
            "tangent.kl-N-squared-limit",
        ),
        (
            ("reference.schedules", "kl_vs_steps"),
            ("samplers.orders", "log_ratio_vs_steps"),
            ("tangent.kl-N-squared-limit", "n2_gap"),
        ),
        _exact_kl,
    ),
    Finding(
        "finding-tangent",
        "gaussian",
        "How close is the tangent law to the optimal schedules?",
        ("variational.optima-ordering", "tangent.gamma-star"),
        (("tangent.gamma-star", "kl_vs_gamma"), ("variational.optima-ordering", "kl_vs_steps")),
        _tangent,
    ),
    Finding(
        "finding-stein",
        "stein",
        "Does the Stein-optimal schedule beat Karras ρ = 7 on trained networks?",
        (
            "stein.sampling-comparison",
            "stein.default-schedule-matches-closed-form",
            "stein.schedule-matches-closed-form",
        ),
        (
            ("stein.sampling-comparison", "fd_sw_vs_steps"),
            ("stein.schedule-matches-closed-form", "stein_vs_closed_form"),
        ),
        _stein,
    ),
    Finding(
        "finding-highdim",
        "highdim",
        "What do VP and VE constant schedules miss, and how many steps does each need as d grows?",
        (
            "highdim.vp-constant-loses-p",
            "highdim.ve-constant-collapses-spread",
            "highdim.steps-needed-constant-sqrt-d",
            "highdim.steps-needed-dilated-flat",
            "highdim.cw-steps-needed-constant",
        ),
        (
            ("highdim.steps-needed-constant-sqrt-d", "gm_steps_needed_constant"),
            ("highdim.steps-needed-dilated-flat", "gm_steps_needed_dilated"),
            ("highdim.vp-constant-loses-p", "gm_vp_constant_phat_vs_d"),
            ("highdim.ve-constant-collapses-spread", "gm_ve_constant_spread_vs_d"),
        ),
        _highdim,
    ),
    Finding(
        "finding-flow",
        "flow",
        "Which shift should a flow-matching sampler use, and how far off are the published rules?",
        ("flow.optimal-shift", "flow.published-rules"),
        (
            ("flow.published-rules", "flow_shift_vs_resolution"),
            ("flow.optimal-shift", "kl_vs_shift"),
        ),
        _flow,
    ),
    Finding(
        "finding-conformance",
        "conformance",
        "Do the schedules other tools ship agree, and does symsched reproduce them?",
        ("conformance.mismatches", "conformance.reproduced"),
        (("conformance.mismatches", "conformance_mismatches"),),
        _conformance,
    ),
    Finding(
        "finding-recommend",
        "schedules",
        "Which schedule for which model, sampler and step budget?",
        ("reference.recommend-table", "pretrained.kl-optimal-ranks-first"),
        (
            ("reference.recommend-table", "vs-best-alternative"),
            ("pretrained.kl-optimal-ranks-first", "kl_vs_nfe"),
        ),
        _recommend,
    ),
)


def write_findings(
    details: Mapping[str, dict[str, Any]],
    statuses: Mapping[str, str],
    figure_keys: Mapping[str, list[str]],
) -> tuple[list[FindingText], list[Finding]]:
    """The findings this run supports, and those whose claims it did not run.

    Parameters
    ----------
    details
        ``claim id -> Outcome.details`` of the claims that ran.
    statuses
        ``claim id -> "PASS" | "FAIL" | "ERROR"``.
    figure_keys
        ``claim id -> the keys of its figures``.

    A finding is written only when all its claims passed: a failed claim's numbers are not
    findings (the claim section states them, with the failure).
    """

    def get(claim_id: str) -> dict[str, Any]:
        if claim_id not in details or statuses.get(claim_id) != "PASS":
            raise MissingClaim(claim_id)
        return details[claim_id]

    written: list[FindingText] = []
    left_out: list[Finding] = []
    for f in FINDINGS:
        try:
            sentences = f.write(get)
        except MissingClaim:
            left_out.append(f)
            continue
        figs = [(c, k) for c, k in f.figures if k in figure_keys.get(c, [])]
        written.append(FindingText(f, sentences, {c: statuses[c] for c in f.claims}, figs))
    return written, left_out


def recommendation_rows(
    details: Mapping[str, Any], files: Mapping[tuple[str, str, int], str]
) -> list[dict[str, Any]]:
    """Rows of the recommendation table, one per model family and sampler, with one cell per N.

    Parameters
    ----------
    details
        ``Outcome.details`` of the claim ``reference.recommend-table`` (its ``table``).
    files
        ``(model, sampler, N) -> the path of the schedule file``, relative to the report.

    Returns
    -------
    list of dict
        ``{"model", "sampler", "cells": {N: {"method", "file", "ratio", "baseline",
        "criterion"}}}``.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in details.get("table", []):
        key = (str(r["model"]), str(r["sampler"]), int(r["steps"]))
        row = out.setdefault(key[:2], {"model": key[0], "sampler": key[1], "cells": {}})
        row["cells"][key[2]] = {
            "method": r["recommended"],
            "file": files[key],
            "ratio": r["best_baseline_ratio"],
            "baseline": r["best_baseline"],
            "criterion": r["criterion"],
        }
    return list(out.values())
