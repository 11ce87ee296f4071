r"""The real k-diffusion samplers agree with symsched's exact closed forms
(docs/theory/samplers.md#checks, docs/conventions.md#k-diffusion-and-comfyui).

``k_diffusion.sampling.sample_euler`` / ``sample_heun`` / ``sample_dpmpp_2m`` /
``sample_euler_ancestral`` [crowson, ``k_diffusion/sampling.py``] are run on lists written by
symsched's ``k-diffusion`` / ``comfyui`` exporters (N+1 sigmas ending at 0, N steps:
docs/conventions.md#steps-and-the-final-0), with the exact
denoiser of a correlated Gaussian as their model
(:func:`symsched_verify.oracles.consumers.run_kdiffusion`). Their output variance along each
eigen-direction, divided by the target variance, is compared with symsched's exact variance ratio of
the matching sampler (:func:`symsched.gaussian.exact.log_variance_ratios`: ``ddim`` for
``sample_euler`` [Karras et al. 2022, arXiv 2206.00364, Alg. 2 / §4: Euler in sigma with the exact
denoiser is DDIM], ``heun`` [ibid., Alg. 1, Euler on the step to 0], ``dpmpp-2m`` [Lu et al.,
DPM-Solver++, arXiv 2211.01095, Alg. 2], ``ancestral`` with ``eta``).

k-diffusion is a test-time dependency: when it cannot be imported these claims fail and name the
fix, they never pass or skip.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from symsched import build
from symsched._typing import FloatArray, Start
from symsched.export import Exported, export
from symsched.gaussian import exact
from symsched_verify import tolerances as tol
from symsched_verify.oracles.ddim_particles import covariance_stderr
from symsched_verify.registry import Budget, Outcome, claim

__all__ = ["KD_EIGENVALUES", "Comparison", "compare", "correlated_covariance"]

#: Eigenvalues of the correlated test source. The smallest, 0.004, makes the final step
#: sigma_min -> 0 (and a list that lacks it) visible on SD's range
#: (sigma_min^2 / lambda = 0.0292^2 / 0.004 ~ 21 %).
KD_EIGENVALUES = np.array([0.004, 0.3, 1.5])


def correlated_covariance(
    eigenvalues: ArrayLike = KD_EIGENVALUES, seed: int = 2206
) -> NDArray[np.float64]:
    """A full (non-diagonal) SPD covariance with the given eigenvalues and a seeded random
    rotation."""
    lam_v = np.asarray(eigenvalues, dtype=np.float64)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((lam_v.size, lam_v.size)))
    m: FloatArray = (q * lam_v) @ q.T
    return (m + m.T) / 2


def _levels(ex: Exported) -> FloatArray:
    """The noise levels a consumer visits for the export ``ex`` (every consumer format has them)."""
    if ex.levels is None:
        raise ValueError(f"the export ({ex.note}) does not state the levels it visits")
    return ex.levels


@dataclass(frozen=True)
class Comparison:
    """Measured vs closed-form variance ratios per eigen-direction (ascending eigenvalues).

    ``z`` = (measured - predicted) / standard error per direction; ``max_cov_z`` the largest
    |z| over the entries of the full sample covariance (off-diagonal terms included).
    """

    measured: NDArray[np.float64]
    predicted: NDArray[np.float64]
    z: NDArray[np.float64]
    max_cov_z: float

    @property
    def max_abs_z(self) -> float:
        return float(max(np.max(np.abs(self.z)), self.max_cov_z))


def compare(
    samples: NDArray[np.float64],
    covariance: ArrayLike,
    levels: ArrayLike,
    sampler: str,
    *,
    start: Start,
    eta: float | None = None,
) -> Comparison:
    r"""Compare output ``samples`` of a k-diffusion sampler with symsched's closed form.

    Parameters
    ----------
    samples
        Output :math:`\bar x` at ``levels[-1]``, shape ``(n, d)``.
    covariance
        Source covariance :math:`\Sigma` (full matrix).
    levels
        The list the sampler was run on (its ``sigmas``).
    sampler
        symsched's sampler name (``ddim``, ``heun``, ``dpmpp-2m``, ``ancestral``); see
        :data:`symsched_verify.oracles.consumers.KDIFFUSION_SAMPLERS` for the k-diffusion
        counterpart.
    start, eta
        As :func:`symsched.gaussian.exact.log_variance_ratios`.
    """
    cov = np.asarray(covariance, dtype=np.float64)
    lv = np.asarray(levels, dtype=np.float64)
    lam_v, u = np.linalg.eigh(cov)
    target = lam_v + lv[-1] ** 2
    if eta is None:  # a knob left at None takes the sampler's default
        lr = exact.log_variance_ratios(lam_v, lv, sampler=sampler, start=start)
    else:
        lr = exact.log_variance_ratios(lam_v, lv, sampler=sampler, start=start, eta=eta)
    pred = np.exp(lr)
    y = np.asarray(samples, dtype=np.float64) @ u
    sq = y * y
    measured = sq.mean(0) / target
    se = sq.std(0, ddof=1) / math.sqrt(sq.shape[0]) / target
    emp, se_cov = covariance_stderr(np.asarray(samples, dtype=np.float64))
    pred_cov = (u * (pred * target)) @ u.T
    return Comparison(
        measured, pred, (measured - pred) / se, float(np.max(np.abs(emp - pred_cov) / se_cov))
    )


def _missing(exc: Exception) -> Outcome:
    return Outcome(False, str(exc), {"error": str(exc)})


def _label(key: str) -> str:
    """A run's key (``euler-ancestral(eta=0.5)``) in words: ``euler-ancestral at $\\eta$ = 0.5``."""
    return key.replace("(eta=", " at $\\eta$ = ").rstrip(")")


# (k-diffusion sampler, eta) pairs checked; symsched's name comes from KDIFFUSION_SAMPLERS.
_RUNS: tuple[tuple[str, float | None], ...] = (
    ("euler", None),
    ("heun", None),
    ("dpmpp-2m", None),
    ("euler-ancestral", 1.0),
    ("euler-ancestral", 0.5),
)


@claim(
    "samplers.k-diffusion-agrees",
    statement=(
        "The real k-diffusion samplers sample_euler (= DDIM), sample_heun, sample_dpmpp_2m and "
        r"sample_euler_ancestral ($\eta$ = 1 and 0.5), run on an exact Gaussian denoiser of a "
        "correlated source, produce per eigen-direction exactly the output variance ratios of "
        "symsched's closed forms (ddim, heun, dpmpp-2m, ancestral), on the k-diffusion export of "
        r"a grid ending at $\sigma_N > 0$ (the method's N levels down to $\sigma_N$, then 0) and "
        "of a grid ending at 0."
    ),
    source=(
        "Karras et al. 2022 (arXiv 2206.00364) Alg. 1-2; Lu et al. 2022 DPM-Solver++ (arXiv "
        "2211.01095) Alg. 2; Sun, Poor, Zhang arXiv 2601.13602 §3 extended "
        "(symsched.samplers._recursions); k-diffusion 0.1.1.post1 sampling.py"
    ),
    method=(
        "k_diffusion.sampling.<sampler>(model, x, sigmas) with model(x, sigma) = Sigma (Sigma + "
        "sigma^2 I)^-1 x (Gaussian conditioning, full matrix), float64; sigmas = the k-diffusion "
        "export of karras N = 8 on [0.0292, 14.6146] (karras' 7-step grid and a 0; prior start, "
        "as k-diffusion's sample.py) "
        "and of tangent c = 0.7, N = 6 on [0, 80] (exact start); 1e5 particles (quick) / 2e6 "
        "(full), fixed seeds; sample variance along each eigenvector over its standard error; "
        "sensitivity: Heun's and DPM++(2M)'s output against DDIM's closed form"
    ),
    tolerance=(
        f"|z| <= {tol.Z_SCORE} per eigen-direction and per covariance entry; model queried at "
        "exactly the listed levels (float64, equality); the sensitivity controls must miss by > "
        f"{tol.KDIFFUSION_NEGATIVE_Z:g} s.e."
    ),
    docs="docs/theory/samplers.md#checks",
    math=(
        r"|z_i|=\frac{|\hat r_i-r_i|}{\mathrm{se}(\hat r_i)}\le"
        rf"{tol.Z_SCORE:g},\quad\hat r_i=\frac{{\widehat{{\mathrm{{Var}}}}(u_i^\top\bar x_N)}}"
        r"{\lambda_i+\sigma_N^2},\quad D(\bar x,\sigma)=\Sigma(\Sigma+\sigma^2I)^{-1}\bar x;"
        rf"\qquad|z^{{\text{{Heun, DPM++(2M) vs DDIM}}}}|>{tol.KDIFFUSION_NEGATIVE_Z:g}"
    ),
)
def check_kdiffusion_agrees(budget: Budget) -> Outcome:
    from symsched_verify.oracles import consumers

    try:
        consumers.import_kdiffusion()
    except consumers.KDiffusionMissing as exc:
        return _missing(exc)
    n = budget.pick(*tol.KDIFFUSION_CLAIM_PARTICLES)
    cov = correlated_covariance()
    grids: dict[str, tuple[FloatArray, Start]] = {
        "karras8-to-0": (
            _levels(export(build("karras", 8, sigma_min=0.0292, sigma_max=14.6146), "k-diffusion")),
            "prior",
        ),
        "tangent6-to-0": (
            _levels(
                export(build("tangent", 6, c=0.7, sigma_min=0.0, sigma_max=80.0), "k-diffusion")
            ),
            "exact",
        ),
    }
    worst: dict[str, float] = {}
    cases: list[dict[str, Any]] = []
    levels_ok = True
    sensitivity: dict[str, float] = {}
    for gi, (gname, (levels, start)) in enumerate(grids.items()):
        for ri, (name, eta) in enumerate(_RUNS):
            sym = consumers.KDIFFUSION_SAMPLERS[name][1]
            run = consumers.run_kdiffusion(
                name, levels, cov, n, budget.seed + 10 * gi + ri, start=start, eta=eta
            )
            levels_ok &= bool(
                np.array_equal(run.queried, consumers.kdiffusion_expected_queries(name, levels))
                and np.array_equal(run.scheduler_sigmas, levels)
            )
            c = compare(run.samples, cov, levels, sym, start=start, eta=eta)
            key = name if eta is None else f"{name}(eta={eta:g})"
            worst[key] = max(worst.get(key, 0.0), c.max_abs_z)
            cases.append(
                {
                    "grid": gname,
                    "sampler": key,
                    "start": start,
                    "particles": n,
                    "variance_ratio_measured": c.measured.tolist(),
                    "variance_ratio_exact": c.predicted.tolist(),
                    "z": c.z.tolist(),
                    "max_cov_z": c.max_cov_z,
                }
            )
            if gname == "karras8-to-0" and name in ("heun", "dpmpp-2m"):
                sensitivity[name] = float(
                    np.max(np.abs(compare(run.samples, cov, levels, "ddim", start=start).z))
                )
    ok = (
        levels_ok
        and all(v <= tol.Z_SCORE for v in worst.values())
        and all(v > tol.KDIFFUSION_NEGATIVE_Z for v in sensitivity.values())
    )
    return Outcome(
        ok,
        f"With {n} particles the k-diffusion samples lie within "
        + ", ".join(f"{v:.2f} ({_label(k)})" for k, v in worst.items())
        + " standard errors of the closed forms; the model "
        + ("is" if levels_ok else "is not")
        + " queried at exactly the listed levels, and against DDIM's closed form the samples "
        + "miss by "
        + ", ".join(f"{v:.0f} ({k})" for k, v in sensitivity.items())
        + " standard errors.",
        {
            "max_abs_z": worst,
            "levels_exact": levels_ok,
            "sensitivity_z": sensitivity,
            "eigenvalues": KD_EIGENVALUES.tolist(),
            "cases": cases,
        },
    )


@claim(
    "export.k-diffusion-consumer",
    statement=(
        r"The k-diffusion and comfyui exports of an N-step grid ending at $\sigma_N > 0$ (the "
        r"method's N levels down to $\sigma_N$, then 0) loaded as the sigmas of the real "
        r"k-diffusion samplers make exactly N steps through the exported levels, end at "
        r"$\sigma = 0$, and sample "
        "the closed-form output distribution of those levels; the same list without its final 0 "
        "is caught."
    ),
    source=(
        "docs/conventions.md#steps-and-the-final-0; docs/conventions.md#k-diffusion-and-comfyui; "
        "Karras et al. 2022 arXiv 2206.00364 (sigmas with t_N = 0)"
    ),
    method=(
        "symsched.export.export (the function `symsched schedule --format` calls) of tangent "
        "gamma* N = 6 on [0.0292, 14.6146], expected: tangent gamma* N = 5 and a 0; "
        "k_diffusion.sampling.sample_euler / sample_heun / sample_dpmpp_2m on the exact Gaussian "
        "denoiser, prior start; negative control: the list without its final 0 in sample_euler"
    ),
    tolerance=(
        f"|z| <= {tol.Z_SCORE} per eigen-direction and covariance entry; levels by equality "
        f"(float64); the negative control must miss by > {tol.KDIFFUSION_NEGATIVE_Z:g} s.e."
    ),
    docs="docs/conventions.md#k-diffusion-and-comfyui",
    math=(
        r"\text{export}\big(\sigma^{(N)}\big)=\big(\sigma^{(N-1)}_0,\dots,\sigma^{(N-1)}_{N-1},0"
        rf"\big),\qquad|z_i|=\frac{{|\hat r_i-r_i|}}{{\mathrm{{se}}(\hat r_i)}}\le{tol.Z_SCORE:g},"
        rf"\quad|z^{{\text{{without the final }}0}}|>{tol.KDIFFUSION_NEGATIVE_Z:g}"
    ),
)
def check_kdiffusion_export(budget: Budget) -> Outcome:
    from symsched_verify.oracles import consumers

    try:
        consumers.import_kdiffusion()
    except consumers.KDiffusionMissing as exc:
        return _missing(exc)
    n = budget.pick(*tol.KDIFFUSION_CLAIM_PARTICLES)
    cov = correlated_covariance()
    sd: dict[str, object] = {"sigma_min": 0.0292, "sigma_max": 14.6146}
    sch = build("tangent", 6, eigenvalues=KD_EIGENVALUES, **sd)
    # 6 steps, the last to 0: the 5-step grid (6 levels down to 0.0292), then 0
    want = np.append(build("tangent", 5, eigenvalues=KD_EIGENVALUES, **sd).sigmas, 0.0)
    zs: dict[str, float] = {}
    ok = True
    for fi, fmt in enumerate(("k-diffusion", "comfyui")):
        lst = json.loads(export(sch, fmt).text)
        ok &= bool(np.array_equal(np.asarray(lst), want))
        for si, name in enumerate(("euler", "heun", "dpmpp-2m")):
            run = consumers.run_kdiffusion(name, lst, cov, n, budget.seed + 100 + 10 * fi + si)
            ok &= bool(
                run.scheduler_sigmas.size == sch.steps + 1
                and run.scheduler_sigmas[-1] == 0.0
                and np.array_equal(run.queried, consumers.kdiffusion_expected_queries(name, want))
            )
            c = compare(
                run.samples, cov, want, consumers.KDIFFUSION_SAMPLERS[name][1], start="prior"
            )
            zs[f"{fmt}/{name}"] = c.max_abs_z
    naive = json.loads(export(sch, "k-diffusion").text)[:-1]
    run = consumers.run_kdiffusion("euler", naive, cov, n, budget.seed + 200)
    z_neg = float(np.max(np.abs(compare(run.samples, cov, want, "ddim", start="prior").z)))
    ok = ok and all(v <= tol.Z_SCORE for v in zs.values()) and z_neg > tol.KDIFFUSION_NEGATIVE_Z
    return Outcome(
        ok,
        f"With {n} particles the samples of every format and sampler lie within "
        + ", ".join(f"{v:.2f} ({k})" for k, v in zs.items())
        + f" standard errors of the closed form; the list without its final 0 misses it by "
        f"{z_neg:.0f} standard errors.",
        {"max_abs_z": zs, "no_trailing_zero_z": z_neg, "particles": n, "levels": want.tolist()},
    )
