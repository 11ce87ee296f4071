r"""Claims of the published flow shift rules and of the optimal shift against resolution
(docs/theory/flow_resolution.md).

``flow.rule-definitions`` checks each rule of :data:`symsched.flow.rules.RULES` against the
installed diffusers: the Flux.1 / Flux.2 :math:`\mu` against diffusers' own ``calculate_shift`` and
``compute_empirical_mu`` (run from the installed source, :mod:`symsched_verify.oracles.
diffusers_shift`), the token count against the pipelines' own packing, and every rule's shift,
handed to the real ``FlowMatchEulerDiscreteScheduler`` as ``shift`` or dynamic ``mu``, against the
grid symsched assumes. Without diffusers it fails and says so.

``flow.published-rules`` computes :func:`symsched.flow.resolution.compare_resolution` on its
defaults and checks what the theory asserts independently of the rules: each :math:`s^\star` is a
certified minimum (it beats its neighbours, and two log scans of an independently written KL find
it), no rule beats it, and (measured first, then asserted) it increases with R at every N. The
gaps to the rules and the exponents are findings, reported and not thresholded.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np

from symsched._typing import FloatArray
from symsched._validate import distinct_eigenvalues
from symsched.flow.resolution import (
    RESOLUTIONS,
    STEPS,
    ResolutionTable,
    compare_resolution,
    latent_side,
    markdown_table,
    photograph_proxy,
    plot_resolution,
)
from symsched.flow.rules import RULES, image_seq_len
from symsched.flow.shift import shifted_uniform_grid
from symsched.gaussian.exact import log_variance_ratios
from symsched_verify import tolerances as tol
from symsched_verify.registry import Budget, Outcome, claim
from symsched_verify.tex import tex_number

SRC_RULES = (
    "diffusers 0.42.1: pipelines/flux/pipeline_flux.py (calculate_shift, prepare_latents, "
    "_pack_latents), pipelines/flux2/pipeline_flux2.py (compute_empirical_mu, prepare_latents, "
    "_pack_latents), schedulers/scheduling_flow_match_euler_discrete.py; Esser et al. arXiv "
    "2403.03206 §5.3.2, Eq. (23) (SD3's shift 3.0 and alpha = sqrt(m/n))"
)

RULE_RESOLUTIONS: tuple[int, ...] = (256, 320, 512, 768, 1000, 1024, 1040, 1056, 1536, 2048, 4096)
"""The grid of ``flow.rule-definitions``: the table's sides, a side that is not a multiple of 16
(1000: the floor of the token count), both sides of Flux.2's 4300-token switch (1040: 4225,
1056: 4356) and an extrapolated 4096."""
RULE_STEPS: tuple[int, ...] = (1, 2, 4, 8, 10, 20, 28, 50, 100, 200, 500)
"""Step counts of ``flow.rule-definitions`` (Flux.2's fitted lines are at 10 and 200)."""


def _flow_times(rho: FloatArray) -> FloatArray:
    """t = rho / (1 + rho), with rho = inf at t = 1."""
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(np.isinf(rho), 1.0, rho / (1.0 + rho))
    return out


def _scheduler_times(
    steps: int, *, shift: float | None = None, mu: float | None = None
) -> FloatArray:
    """The flow times the real scheduler visits for N uniform steps, shifted by ``shift`` (SD3's
    static shift) or by the dynamic ``mu`` (exponential time shift, exponent 1), the sigmas
    ``1, ..., 1/N`` passed as the Flux pipelines pass them."""
    from symsched_verify.oracles.consumers import _scheduler

    sigmas = np.linspace(1.0, 1.0 / steps, steps)
    if mu is None:
        sch = _scheduler("FlowMatchEulerDiscreteScheduler", shift=float(shift or 1.0))
        sch.set_timesteps(sigmas=sigmas)
    else:
        sch = _scheduler(
            "FlowMatchEulerDiscreteScheduler",
            use_dynamic_shifting=True,
            time_shift_type="exponential",
        )
        sch.set_timesteps(sigmas=sigmas, mu=mu)
    out: FloatArray = sch.sigmas.double().numpy()
    return out


@claim(
    "flow.rule-definitions",
    statement=(
        "Each published shift rule as coded in symsched.flow.rules is the tool's own: Flux.1's "
        r"$\mu$ equals diffusers' calculate_shift and Flux.2's equals diffusers' "
        r"compute_empirical_mu at the token count of the pipelines' packing, "
        r"$\lfloor R/16\rfloor^2$, on a grid of resolutions "
        "(including a non-multiple of 16 and both sides of Flux.2's 4300-token switch) and step "
        "counts 1 to 500; and every rule's shift, given to diffusers' FlowMatchEulerDiscrete "
        r"scheduler (static shift for sd3 / sd3-resolution, dynamic $\mu$ for flux / flux2), "
        "makes it visit exactly the shifted uniform grid symsched assumes."
    ),
    source=SRC_RULES,
    method=(
        "the installed diffusers functions (imported, or compiled alone from the installed "
        "source when the pipeline module needs transformers; symsched_verify.oracles."
        "diffusers_shift), FluxPipeline._pack_latents and Flux2Pipeline._pack_latents on a zero "
        "latent of side 2 floor(R/16) (the pipelines' prepare_latents rounding), and the real "
        "scheduler's sigmas for sigmas = linspace(1, 1/N, N)"
    ),
    tolerance=(
        f"mu: {tol.FLOW_RULE_MU_ATOL:g} absolute (the same rule in a different algebraic form); "
        "token counts exact; scheduler flow times "
        f"{tol.CONSUMER_LEVEL_RTOL:.1e} relative (float32 scheduler)"
    ),
    docs="docs/theory/flow_resolution.md#the-rules",
    math=(
        r"\mu_{\text{flux}}=0.5+0.65\,\frac{n-256}{3840},\quad n=\lfloor R/16\rfloor^2,\quad "
        r"s=e^{\mu};\qquad|\mu^{\text{symsched}}-\mu^{\text{diffusers}}|\le"
        rf"{tex_number(tol.FLOW_RULE_MU_ATOL)},\quad\frac{{|t_k^{{\text{{scheduler}}}}-t_k|}}{{t_k}}\le"
        r"64\,\varepsilon_{32},\quad t_k=\frac{\rho_k}{1+\rho_k},\ \rho_k=s\,\frac{N-k}{k}"
    ),
)
def check_rule_definitions(budget: Budget) -> Outcome:
    try:
        importlib.import_module("diffusers")  # the tools under test; their absence fails the claim
        import torch

        from symsched_verify.oracles.diffusers_shift import diffusers_function, diffusers_version
    except ImportError as exc:
        return Outcome(
            False,
            f"The package diffusers is not installed ({exc}); install the test extra to check "
            "the shift rules.",
        )
    flux = diffusers_function("pipelines.flux.pipeline_flux", "calculate_shift")
    flux2 = diffusers_function("pipelines.flux2.pipeline_flux2", "compute_empirical_mu")
    pack1 = diffusers_function("pipelines.flux.pipeline_flux", "_pack_latents", "FluxPipeline")
    pack2 = diffusers_function("pipelines.flux2.pipeline_flux2", "_pack_latents", "Flux2Pipeline")
    failures: list[str] = []
    mu_err = {"flux": 0.0, "flux2": 0.0}
    for r in RULE_RESOLUTIONS:
        n_seq = image_seq_len(r)
        side = 2 * (r // 16)  # the latent side of prepare_latents (VAE factor 8, even)
        t1 = pack1.function(torch.zeros(1, 16, side, side), 1, 16, side, side).shape[1]
        t2 = pack2.function(torch.zeros(1, 128, side // 2, side // 2)).shape[1]
        if not t1 == t2 == n_seq:
            failures.append(f"R={r}: tokens flux {t1}, flux2 {t2}, symsched {n_seq}")
        for n in RULE_STEPS:
            for name, ref in (("flux", float(flux.function(n_seq))), ("flux2", None)):
                want = float(flux2.function(n_seq, n)) if ref is None else ref
                got = RULES[name].mu(r, n)
                err = abs(got - want)
                mu_err[name] = max(mu_err[name], err)
                if not err <= tol.FLOW_RULE_MU_ATOL:
                    failures.append(f"{name} R={r} N={n}: mu {got!r} vs diffusers {want!r}")
    level_err: dict[str, float] = {}
    for name, rule in RULES.items():
        worst = 0.0
        for r in (256, 1024, 1056, 2048):
            for n in (4, 28, 50):
                if rule.publishes_mu:
                    visited = _scheduler_times(n, mu=rule.mu(r, n))
                else:
                    visited = _scheduler_times(n, shift=rule.shift(r, n))
                expected = _flow_times(shifted_uniform_grid(n, rule.shift(r, n)))
                if visited.shape != expected.shape:
                    failures.append(
                        f"{name} R={r} N={n}: {visited.size} levels, expected {expected.size}"
                    )
                    continue
                inner = slice(0, n)  # the last level is 0 in both
                rel = float(np.max(np.abs(visited[inner] / expected[inner] - 1.0)))
                worst = max(worst, rel)
                if not (rel <= tol.CONSUMER_LEVEL_RTOL and visited[-1] == 0.0):
                    failures.append(f"{name} R={r} N={n}: scheduler times off by {rel:.2e}")
        level_err[name] = worst
    # Flux.2's high-N line is Flux.1's line (to the 6 printed digits of its coefficients): a finding
    flux2_vs_flux = max(
        abs(float(flux2.function(n_seq, 200)) - float(flux.function(n_seq)))
        for n_seq in (256, 1024, 4096, 16384)
    )
    jump = {
        n: math.exp(RULES["flux2"].mu(1040, n) - RULES["flux2"].mu(1056, n)) for n in (4, 28, 50)
    }
    measured = (
        f"Over {len(RULE_RESOLUTIONS)} resolutions and {len(RULE_STEPS)} step counts symsched's "
        f"$\\mu$ differs from diffusers' by at most {mu_err['flux']:.1e} (flux) and "
        f"{mu_err['flux2']:.1e} (flux2), and the scheduler's flow times from the assumed grid by "
        f"at most {max(level_err.values()):.1e} relative; the token counts are checked against "
        f"$\\lfloor R/16\\rfloor^2$ at every R, and {len(failures)} checks fail (diffusers "
        f"{diffusers_version()}, functions {flux.how.split(' (')[0]})."
    )
    return Outcome(
        not failures,
        measured,
        {
            "mu_max_abs_error": mu_err,
            "scheduler_time_max_rel_error": level_err,
            "how": {f.qualname: f.how for f in (flux, flux2, pack1, pack2)},
            "diffusers_version": diffusers_version(),
            "resolutions": list(RULE_RESOLUTIONS),
            "steps": list(RULE_STEPS),
            "finding_flux2_high_n_line_minus_flux_line_max_abs_mu": flux2_vs_flux,
            "finding_flux2_shift_drop_across_4300_tokens_1040_to_1056": {
                str(k): v for k, v in jump.items()
            },
            "failures": failures,
        },
    )


def _grouped_kl(values: FloatArray, counts: FloatArray, steps: int, log_s: float) -> float:
    r"""KL(data || output) written from the textbook Gaussian KL, per distinct eigenvalue:
    :math:`\tfrac12(1/r-1+\ln r)` with :math:`r` the output / data variance ratio, times the
    multiplicity (independent of the criterion :func:`~symsched.flow.shift.optimal_shift` uses)."""
    grid = shifted_uniform_grid(steps, math.exp(log_s))
    lr = np.asarray(log_variance_ratios(values, grid), dtype=np.float64)
    return float(np.sum(counts * 0.5 * (np.expm1(-lr) + lr)))


def certify(table: ResolutionTable, spectra: dict[int, FloatArray]) -> tuple[list[str], list[Any]]:
    """The independent certificate of every row: neighbours, a coarse and a fine log scan, the
    grouped KL against the table's full-spectrum KL, and no rule below the optimum.

    Returns the failures and one record per row.
    """
    failures: list[str] = []
    records: list[Any] = []
    h = tol.FLOW_NEIGHBOUR_LOG_STEP
    slack = 1.0 + tol.FLOW_KL_ROUNDOFF_RTOL
    coarse = np.arange(math.log(1e-3), math.log(1e3), tol.FLOW_COARSE_LOG_STEP)
    for row in table.rows:
        values, counts = distinct_eigenvalues(spectra[row.side])
        cnt = counts.astype(np.float64)
        x = math.log(row.shift)

        def f(
            log_s: float, n: int = row.steps, v: FloatArray = values, c: FloatArray = cnt
        ) -> float:
            return _grouped_kl(v, c, n, log_s)

        k0, k_lo, k_hi = f(x), f(x - h), f(x + h)
        c_best = float(coarse[int(np.argmin([f(float(v)) for v in coarse]))])
        # the fine lattice: multiples of the fine step around the coarse best, not centred on s*
        step, span = tol.FLOW_FINE_LOG_STEP, tol.FLOW_FINE_LOG_SPAN
        ks = np.arange(math.floor((c_best - span) / step), math.ceil((c_best + span) / step) + 1)
        fine = ks * step
        f_best = float(fine[int(np.argmin([f(float(v)) for v in fine]))])
        grouped_rel = abs(k0 - row.kl) / row.kl
        min_ratio = min(g.kl_ratio for g in row.rules.values())
        rec = {
            "resolution": row.resolution,
            "steps": row.steps,
            "shift": row.shift,
            "neighbour_excess": [k_lo / k0 - 1.0, k_hi / k0 - 1.0],
            "coarse_scan_best_log_offset": c_best - x,
            "fine_scan_best_log_offset": f_best - x,
            "grouped_vs_full_kl_rel": grouped_rel,
            "min_rule_kl_ratio": min_ratio,
        }
        records.append(rec)
        where = f"R={row.resolution} N={row.steps}"
        if not (k0 <= k_lo * slack and k0 <= k_hi * slack):
            failures.append(f"{where}: a neighbour at s* e^(+-{h:g}) has a lower KL")
        if abs(c_best - x) > tol.FLOW_COARSE_LOG_STEP:
            failures.append(f"{where}: the coarse scan's best is {c_best - x:+.3f} from ln s*")
        if abs(f_best - x) > tol.FLOW_FINE_LOG_STEP:
            failures.append(f"{where}: the fine scan's best is {f_best - x:+.4f} from ln s*")
        if not grouped_rel <= tol.FLOW_GROUPED_KL_RTOL:
            failures.append(f"{where}: grouped KL differs from the full one by {grouped_rel:.1e}")
        if not min_ratio * slack >= 1.0:
            failures.append(f"{where}: a rule's KL is below the optimum's (ratio {min_ratio:.6g})")
    return failures, records


@claim(
    "flow.published-rules",
    statement=(
        "On the photograph proxy of a unit-variance latent (radial Fourier spectrum of R/8 × R/8 "
        r"RGB patches, mean eigenvalue 1), the exact optimal shift $s^\star(R, N)$ of N uniform "
        "Euler flow steps, for R = 256 to 2048 and N = 4 to 50, is a certified minimum of the "
        r"exact $\mathrm{KL}(\text{data}\,\|\,\text{output})$, no published rule (sd3, "
        r"sd3-resolution, flux, flux2) reaches a lower KL, and $s^\star$ increases with R at "
        r"every N on that grid (not below it: $s^\star$ has a minimum near R = 320, reported in "
        r"the docs). The gaps $\ln(s_{\text{rule}}/s^\star)$, the KL ratios and the fitted "
        r"exponents $d\ln s/d\ln R$ are reported, not asserted: the proxy speaks to the trend "
        r"with R, not to the level of $s^\star$ in a VAE latent space."
    ),
    source=(
        "Esser et al. arXiv 2403.03206 §5.3.2, Eq. (23); diffusers 0.42.1 pipeline_flux.py "
        "calculate_shift and pipeline_flux2.py compute_empirical_mu; van der Schaaf & van "
        "Hateren, Vision Res. 36 (1996) (scale invariance); docs/theory/flow.md#the-optimal-shift"
    ),
    method=(
        "symsched.flow.resolution.compare_resolution (optimal_shift per (R, N), every rule's KL "
        "by symsched.gaussian.exact.kl on the full spectrum); certificate independent of the "
        "optimiser: the textbook Gaussian KL 1/2 (1/r - 1 + ln r) per distinct eigenvalue, at "
        "s* e^(+-0.01), on a coarse log scan of [1e-3, 1e3] and a fine lattice around the coarse "
        "scan's best (not centred on s*)"
    ),
    tolerance=(
        f"neighbours and rules: KL(s*) <= KL(other) (1 + {tol.FLOW_KL_ROUNDOFF_RTOL:g}); scans: "
        f"best within one step ({tol.FLOW_COARSE_LOG_STEP:g}, {tol.FLOW_FINE_LOG_STEP:g} in ln s)"
        f" of ln s*; grouped vs full-spectrum KL {tol.FLOW_GROUPED_KL_RTOL:g} relative; "
        "monotonicity strict"
    ),
    docs="docs/theory/flow_resolution.md#results",
    math=(
        r"s^\star(R,N)=\mathrm{arg\,min}_s\operatorname{KL}\Big(\text{data}\,\|\,"
        r"\text{output on }\rho_k=s\,\frac{N-k}{k}\Big),\qquad\operatorname{KL}(s^\star)\le"
        r"\operatorname{KL}(s^\star e^{\pm0.01}),\ \operatorname{KL}(s_{\text{rule}}),\qquad "
        r"R_1<R_2\Rightarrow s^\star(R_1,N)<s^\star(R_2,N)"
    ),
)
def check_published_rules(budget: Budget) -> Outcome:
    table = compare_resolution(RESOLUTIONS, STEPS)
    spectra = {latent_side(r): photograph_proxy(latent_side(r)) for r in RESOLUTIONS}
    failures, records = certify(table, spectra)
    up_r = table.increasing_in_resolution()
    failures += [f"N={n}: s* does not increase with R" for n, ok in up_r.items() if not ok]
    fits = table.exponents()
    opt_exp = [f.exponent for f in fits["optimal"].values()]
    shifts = [r.shift for r in table.rows]
    gaps = {k: [r.rules[k].log_gap for r in table.rows] for k in table.rules}
    ratios = {k: [r.rules[k].kl_ratio for r in table.rows] for k in table.rules}

    def span(v: list[float], fmt: str) -> str:
        lo, hi = (round(min(v), 6) + 0.0, round(max(v), 6) + 0.0)  # no "-0.00"
        return f"{lo:{fmt}}..{hi:{fmt}}"

    rule_exp = "; ".join(
        f"{k} {span([f.exponent for f in fits[k].values()], '.2f')}" for k in table.rules
    )

    def words(v: list[float], fmt: str) -> str:
        lo, hi = span(v, fmt).split("..")
        return lo if lo == hi else f"{lo} to {hi}"

    def trend(ok: bool) -> str:
        return "increases" if ok else "does not always increase"

    measured = (
        f"Over R = {min(RESOLUTIONS)} to {max(RESOLUTIONS)} and N = {min(STEPS)} to {max(STEPS)} "
        f"the optimal shift $s^\\star$ runs from {words(shifts, '.3f')}, "
        f"{len(records) - len({f.split(':')[0] for f in failures})} of {len(records)} rows are "
        f"certified, and $s^\\star$ {trend(all(up_r.values()))} with R at every N and "
        f"{trend(all(table.increasing_in_steps().values()))} with N at every R. The fitted "
        f"exponent $d\\ln s^\\star/d\\ln R$ runs from {words(opt_exp, '.3f')}, against "
        + ", ".join(
            f"{words([f.exponent for f in fits[k].values()], '.2f')} ({k})" for k in table.rules
        )
        + " for the rules; $\\ln(s_{\\text{rule}}/s^\\star)$ runs from "
        + ", ".join(f"{words(v, '+.2f')} ({k})" for k, v in gaps.items())
        + " and the KL ratio from "
        + ", ".join(f"{words(v, '.3g')} ({k})" for k, v in ratios.items())
        + "."
    )
    # the wall times stay out of results.json, which reruns reproduce bit for bit (timings.json
    # has the claim's)
    details = {
        "table": {k: v for k, v in table.to_json().items() if k != "seconds"},
        "markdown": markdown_table(table),
        "certificate": records,
        "failures": failures,
    }
    return Outcome(
        not failures,
        measured,
        details,
        figures={"flow_shift_vs_resolution": plot_resolution(table, steps=(4, 10, 28, 50))},
        captions={
            "flow_shift_vs_resolution": (
                "Optimal flow shift s* (exact KL of N uniform flow Euler steps on the "
                "photographs' spectrum at each resolution) against the image side R for "
                "N = 4, 10, 28 and 50, beside the published shift rules (left), and each curve "
                "over its value at the reference resolution (right). The fitted exponent "
                f"d ln s*/d ln R is {span(opt_exp, '.3f')}, against {rule_exp} for the rules."
            )
        },
    )
