r"""Estimators of the corrector cost from score evaluations [williams2024, §3].

The estimators of docs/theory/stein.md#estimators:

* ``exact`` — closed forms / quadrature of analytic models (docs/theory/stein.md#closed-forms).
* ``monte-carlo`` —
  :math:`\hat{\mathcal L}_c=v^2\frac1n\sum_k\|s(x_k,\sigma_{i+1})-s(x_k,\sigma_i)\|^2`
  with both levels at the *same* noised samples :math:`x_k=s_iy_k+\sigma_i\varepsilon_k` (common
  random numbers within an interval; with ``common_noise=True`` also the same
  :math:`(y_k,\varepsilon_k)` across intervals), and its standard error. Two score evaluations per
  sample per interval.
* ``symmetric=True`` (exact and Monte Carlo) — the mean of each interval's forward and backward
  finite-step costs, whose square root is a second-order estimate of the interval's length
  (docs/theory/stein.md#second-order-length-estimate); what :func:`stein_schedule` inverts.
* ``jvp`` — the local metric
  :math:`\hat\delta_c(\rho)=v^2\frac1n\sum_k\|\partial_\rho s(x_k,\rho)\|^2` by one
  forward-mode derivative in the noise level (``torch.func.jvp``) per sample and probe level, then
  :math:`\Delta\Lambda` by the trapezoid rule in :math:`\log\rho` and costs
  :math:`\Delta\Lambda^2`.

Scores and the weight :math:`v=\sigma` are taken in the process's own scale (``process="ve"``: EDM;
``"vp"``: :math:`x_{VP}=\alpha x`, :math:`\sigma_{VP}=\alpha\rho`), see :mod:`._closed`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from symsched._typing import FloatArray, GridLike, TorchTensor
from symsched._validate import check_choice, check_steps
from symsched.stein._closed import PROCESSES, WEIGHTS, as_levels, length_from_metric, process_sigma

if TYPE_CHECKING:
    from types import TracebackType

    from symsched.models._base import ScoreModel

__all__ = [
    "DEFAULT_ESTIMATOR",
    "ESTIMATORS",
    "RELATIVE_SE_WARNING",
    "CostEstimate",
    "SteinAccuracyWarning",
    "estimate_costs",
    "estimate_metric",
    "schedule_error",
]

ESTIMATORS: tuple[str, ...] = ("exact", "monte-carlo", "jvp")
# Chosen by measurement (benchmarks/bench_stein.py, claim stein.estimator-efficiency): the JVP
# local metric with control variates and fresh samples per level reaches a 1% schedule error with
# the fewest score evaluations (no finite-step bias, so a coarse probe grid suffices).
DEFAULT_ESTIMATOR = "jvp"
# Warn when the total length's relative standard error exceeds this: the schedule's interior
# levels then move by about as much, far above the 1% schedule accuracy the defaults aim for.
RELATIVE_SE_WARNING = 0.05
_ROWS_PER_CALL = 8192


class SteinAccuracyWarning(UserWarning):
    """Too few samples for the requested accuracy (the estimate's standard error is large)."""


@dataclass(frozen=True)
class CostEstimate:
    r"""Interval costs on a descending probe grid, with standard errors and the evaluation count.

    Parameters
    ----------
    levels
        The probe grid ``[rho_0 > ... > rho_K]``.
    costs
        ``K`` interval costs :math:`\mathcal L_c(\rho_i\to\rho_{i+1})` [williams2024, §2.3].
    stderr
        Their standard errors (``None`` for the exact estimator).
    estimator
        ``"exact"``, ``"monte-carlo"`` or ``"jvp"``.
    samples
        Samples per interval / level (0 for exact).
    evaluations
        Score evaluations spent (a JVP counts as two).
    process, weight
        The scale and the weight of the cost.
    seed
        Seed of the torch generator (``None`` for exact).
    common_noise
        Whether the same samples were reused across intervals / levels.
    extra
        Estimator-specific values: the JVP ``metric`` and ``metric_stderr`` arrays and whether a
        ``control_variate`` was used.
    """

    levels: FloatArray
    costs: FloatArray
    stderr: FloatArray | None
    estimator: str
    samples: int
    evaluations: int
    process: str
    weight: str
    seed: int | None
    common_noise: bool = True
    extra: dict[str, FloatArray | bool] = field(default_factory=dict)

    @property
    def lengths(self) -> FloatArray:
        r"""Per-interval lengths :math:`\sqrt{\mathcal L_i}`."""
        out: FloatArray = np.sqrt(np.maximum(self.costs, 0.0))
        return out

    @property
    def total_length(self) -> float:
        r""":math:`\hat\Lambda=\sum_i\sqrt{\mathcal L_i}` (Algorithm 1, line 2)."""
        return float(self.lengths.sum())

    @property
    def total_length_stderr(self) -> float | None:
        r"""Standard error of :math:`\hat\Lambda` by the delta method (independent intervals)."""
        if self.stderr is None:
            return None
        ok = self.costs > 0
        se_len = np.where(ok, self.stderr / (2 * np.sqrt(np.where(ok, self.costs, 1.0))), 0.0)
        return float(np.sqrt(np.sum(se_len**2)))


def schedule_error(a: GridLike, b: GridLike) -> float:
    """Largest relative difference of two grids' levels, ``max_i |a_i / b_i - 1|``.

    Parameters
    ----------
    a, b
        Grids of the same size (finite, positive levels).

    Returns
    -------
    float
        The largest relative difference.

    Raises
    ------
    ValueError
        If the grids differ in size.
    """
    u, v = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if u.shape != v.shape:
        raise ValueError(f"grids differ in size: {u.shape} vs {v.shape}")
    return float(np.max(np.abs(u / v - 1.0)))


def _score_process(
    model: ScoreModel, x: TorchTensor, rho: TorchTensor, process: str
) -> TorchTensor:
    """Score in the process's own scale at rows ``x`` (process coordinates), levels ``rho``."""
    import torch

    if process == "ve":
        return model.score(x, rho)
    # x_VP = alpha x_VE, so grad log p_VP(x) = grad log p_VE(x / alpha) / alpha
    alpha = 1.0 / torch.sqrt(1.0 + rho**2)
    return model.score(x / alpha[:, None], rho) / alpha[:, None]


def _noised(y: TorchTensor, eps: TorchTensor, rho: TorchTensor, process: str) -> TorchTensor:
    import torch

    x = y + rho[:, None] * eps
    return x if process == "ve" else x / torch.sqrt(1.0 + rho**2)[:, None]


class _Progress(Protocol):
    """The part of a tqdm bar used here."""

    def update(self, n: int) -> object: ...

    def __enter__(self) -> _Progress: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def _progress(total: int, enabled: bool, desc: str) -> _Progress:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]  # tqdm ships no type information

    bar: _Progress = tqdm(total=total, disable=not enabled, desc=desc, unit="lvl", leave=False)
    return bar


def _check_common(
    model: ScoreModel,
    levels: GridLike,
    estimator: str,
    samples: int,
    process: str,
    weight: str,
) -> tuple[FloatArray, int]:
    lev = as_levels(levels)
    check_choice(estimator, "estimator", ESTIMATORS)
    check_choice(process, "process", PROCESSES)
    check_choice(weight, "weight", WEIGHTS)
    n = check_steps(samples, "samples", minimum=2)
    model.check_sigma(np.asarray(lev))
    return lev, n


def estimate_costs(
    model: ScoreModel,
    levels: GridLike,
    *,
    estimator: str = DEFAULT_ESTIMATOR,
    samples: int = 256,
    seed: int = 0,
    process: str = "ve",
    weight: str = "target",
    common_noise: bool = False,
    device: str = "cpu",
    progress: bool = False,
    control_variate: bool | None = None,
    symmetric: bool = False,
) -> CostEstimate:
    r"""Interval costs :math:`\mathcal L_c(\rho_i\to\rho_{i+1})` on a descending probe grid.

    Parameters
    ----------
    model
        A :class:`symsched.models.ScoreModel` (EDM denoiser).
    levels
        Descending probe grid of noise levels inside the model's ``sigma_range``.
    estimator
        ``"exact"`` (analytic models only), ``"monte-carlo"`` or ``"jvp"`` (the default, chosen by
        measurement).
    samples
        Samples per interval (Monte Carlo) or per level (JVP).
    seed
        Seed of the torch generator (results are reproducible for a given seed).
    process, weight
        ``"ve"``/``"vp"`` scale; weight :math:`v=\sigma` at the ``"target"`` (the paper) or
        ``"source"``.
    common_noise
        Reuse the same data rows and noise for every interval / level. Off by default: measured,
        fresh samples per level reach a given schedule error with fewer evaluations (the errors of
        the cumulative length then average over levels; benchmarks/bench_stein.py). Both levels of
        a Monte Carlo interval always share their samples.
    control_variate
        JVP only: regress out the denoising-score and Gaussian-surrogate controls (see
        :func:`estimate_metric`). Default (``None``): on for ``jvp`` with ``process="ve"``.
    symmetric
        Exact and Monte Carlo only: return
        :math:`\tfrac12[\mathcal L_c(\rho_i\to\rho_{i+1})+\mathcal L_c(\rho_{i+1}\to\rho_i)]`,
        the mean of the forward cost and the cost of the reversed step (expectation under
        :math:`p_{\rho_{i+1}}`, the weight at that step's target). Symmetric in the two levels, it
        is :math:`\delta_c(\bar\rho)\Delta^2(1+O(\Delta^2))` about the interval's midpoint, so
        its square root is the interval's length to :math:`O(\Delta^3)` where the forward cost's
        is off by :math:`O(\Delta^2)`: the cumulative length becomes second order in the probe
        step (docs/theory/stein.md#second-order-length-estimate). Monte Carlo draws the first
        :math:`\lceil n/2\rceil` samples of an interval at the upper level and the rest at the
        lower one, so the score evaluations stay :math:`2n` per interval (``samples >= 4``).
    device
        torch device of the computation.
    progress
        Show a progress bar on stderr.

    Returns
    -------
    CostEstimate
        The interval costs with their standard errors (a :class:`SteinAccuracyWarning` is issued
        when the total length's relative standard error exceeds :data:`RELATIVE_SE_WARNING`).

    Raises
    ------
    ValueError
        Unknown estimator, ``exact`` on a model without closed form, ``weight="source"``, a
        control variate or ``symmetric`` with an estimator that does not take it, or
        ``symmetric`` Monte Carlo with fewer than 4 samples.
    ModelError
        Levels outside the model's range (:class:`symsched.models.ModelError`).
    """
    lev, n = _check_common(model, levels, estimator, samples, process, weight)
    if control_variate is None:
        control_variate = estimator == "jvp" and process == "ve"
    if symmetric and estimator == "jvp":
        raise ValueError(
            "symmetric applies to the finite-step estimators (exact, monte-carlo); the jvp "
            "estimator integrates the local metric, which has no step to symmetrise"
        )
    if estimator == "exact":
        costs = model.exact_interval_costs(lev, process=process, weight=weight)
        if costs is None:
            raise ValueError(
                f"estimator 'exact' needs an analytic model with a closed form; {model.name} has "
                "none (use --estimator monte-carlo or jvp)"
            )
        out = np.asarray(costs, dtype=np.float64)
        if symmetric:
            back = model.exact_interval_costs(lev, process=process, weight=weight, reverse=True)
            out = 0.5 * (out + np.asarray(back, dtype=np.float64))
        return CostEstimate(
            lev, out, None, "exact", 0, 0, process, weight, None, extra={"symmetric": symmetric}
        )
    # float64 overflow in the sampled estimates (a model of enormous scale) is checked below
    # instead of surfacing as a numpy warning
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if estimator == "jvp":
            if weight != "target":
                raise ValueError(
                    "the jvp estimator measures the local metric, where target and source weights "
                    "agree; weight='source' applies to finite-step estimators only"
                )
            delta, se, evals = estimate_metric(
                model,
                lev,
                samples=n,
                seed=seed,
                process=process,
                common_noise=common_noise,
                device=device,
                progress=progress,
                control_variate=control_variate,
            )
            dl = length_from_metric(delta, lev)
            g_se = se / (2 * np.sqrt(np.maximum(delta, 1e-300))) * lev
            dl_se = 0.5 * np.log(lev[:-1] / lev[1:]) * np.sqrt(g_se[:-1] ** 2 + g_se[1:] ** 2)
            est = CostEstimate(
                lev,
                dl**2,
                2 * dl * dl_se,
                "jvp",
                n,
                evals,
                process,
                weight,
                seed,
                common_noise,
                {"metric": delta, "metric_stderr": se, "control_variate": bool(control_variate)},
            )
        else:
            if control_variate:
                raise ValueError("control_variate applies to the jvp estimator")
            if symmetric and n < 4:
                raise ValueError(
                    f"symmetric Monte Carlo needs samples >= 4 (two per direction), got {n}"
                )
            est = _monte_carlo(
                model, lev, n, seed, process, weight, common_noise, device, progress, symmetric
            )
    finite = np.isfinite(est.costs) & (True if est.stderr is None else np.isfinite(est.stderr))
    if not finite.all():
        from symsched.models import ModelError

        i = int(np.argmin(finite))
        raise ModelError(
            f"{model.name}: the {est.estimator} cost of the interval {lev[i]:g} -> {lev[i + 1]:g} "
            "overflows float64 (the model's scale is too large for a sampled estimate)"
        )
    _warn_if_noisy(est)
    return est


def _warn_if_noisy(est: CostEstimate) -> None:
    se = est.total_length_stderr
    if se is not None and est.total_length > 0 and se / est.total_length > RELATIVE_SE_WARNING:
        warnings.warn(
            f"{est.estimator}: the total length has relative standard error "
            f"{se / est.total_length:.1%} with {est.samples} samples; increase --samples",
            SteinAccuracyWarning,
            stacklevel=3,
        )


def _monte_carlo(
    model: ScoreModel,
    lev: FloatArray,
    n: int,
    seed: int,
    process: str,
    weight: str,
    common_noise: bool,
    device: str,
    progress: bool,
    symmetric: bool = False,
) -> CostEstimate:
    import torch

    gen = torch.Generator().manual_seed(int(seed))
    k = lev.size - 1
    costs, stderr = np.empty(k), np.empty(k)
    src_all = process_sigma(lev[:-1], process)
    tgt_all = process_sigma(lev[1:], process)
    # forward samples (x ~ p at the upper level) first, then, when symmetric, the reversed step's
    # (x ~ p at the lower level, the weight at that step's target or source)
    n_fwd = (n + 1) // 2 if symmetric else n
    fwd = np.arange(n) < n_fwd
    v_fwd = tgt_all if weight == "target" else src_all
    v_bwd = src_all if weight == "target" else tgt_all
    v_all = np.where(fwd[None, :], v_fwd[:, None], v_bwd[:, None])  # (k, n)
    y = model.sample_data(n, gen)
    eps = torch.randn(n, model.dim, generator=gen, dtype=torch.float64)
    per_call = max(1, _ROWS_PER_CALL // n)
    with torch.no_grad(), _progress(k, progress, "monte-carlo") as bar:
        for start in range(0, k, per_call):
            idx = np.arange(start, min(k, start + per_call))
            if not common_noise:
                ys = [model.sample_data(n, gen) for _ in idx]
                es = [torch.randn(n, model.dim, generator=gen, dtype=torch.float64) for _ in idx]
                yb, eb = torch.cat(ys), torch.cat(es)
            else:
                yb, eb = y.repeat(idx.size, 1), eps.repeat(idx.size, 1)
            rho_src = torch.as_tensor(np.repeat(lev[idx], n))
            rho_tgt = torch.as_tensor(np.repeat(lev[idx + 1], n))
            rho_x = torch.as_tensor(np.where(fwd[None, :], lev[idx, None], lev[idx + 1, None]))
            # x ~ p at the source level of each sample's step (the upper level going forward)
            x = _noised(yb, eb, rho_x.reshape(-1), process).to(device)
            diff = _score_process(model, x, rho_tgt.to(device), process) - _score_process(
                model, x, rho_src.to(device), process
            )
            q = (diff**2).sum(1).cpu().numpy().reshape(idx.size, n) * v_all[idx] ** 2
            if symmetric:
                qf, qb = q[:, :n_fwd], q[:, n_fwd:]
                costs[idx] = 0.5 * (qf.mean(1) + qb.mean(1))
                stderr[idx] = 0.5 * np.sqrt(
                    qf.var(1, ddof=1) / qf.shape[1] + qb.var(1, ddof=1) / qb.shape[1]
                )
            else:
                costs[idx] = q.mean(1)
                stderr[idx] = q.std(1, ddof=1) / math.sqrt(n)
            bar.update(idx.size)
    return CostEstimate(
        lev,
        costs,
        stderr,
        "monte-carlo",
        n,
        2 * n * k,
        process,
        weight,
        int(seed),
        common_noise,
        {"symmetric": symmetric},
    )


class _GaussianControlVariate:
    r"""Gaussian surrogate :math:`\mathcal N(\mu,\Sigma)` with the data's exact mean and covariance.

    Its per-sample metric :math:`q_G=v^2\|\partial_\rho s_G(x,\rho)\|^2` has the closed-form mean
    :math:`\delta_G` under *any* data law with that mean and covariance (it is a quadratic form in
    :math:`x`), so :math:`\delta_G+\overline{q-q_G}` is unbiased for :math:`\delta_c` and its
    variance is that of the non-Gaussian remainder. VE only.
    """

    def __init__(self, moments: tuple[FloatArray, FloatArray]) -> None:
        mean, cov = moments
        lam, vec = np.linalg.eigh(0.5 * (cov + cov.T))
        self.lam = np.maximum(lam, 1e-12 * max(float(lam.max()), 1e-300))
        self.vec, self.mean = vec, mean

    def per_sample(self, x: TorchTensor, rho: TorchTensor) -> TorchTensor:
        import torch

        z = (x - torch.as_tensor(self.mean, dtype=x.dtype)) @ torch.as_tensor(
            self.vec, dtype=x.dtype
        )
        lam = torch.as_tensor(self.lam, dtype=x.dtype)
        r = rho[:, None]
        # v = rho; d_rho s_G = 2 rho z / (lam + rho^2)^2
        return (r**2 * (2 * r * z / (lam + r**2) ** 2) ** 2).sum(1)

    def mean_metric(self, rho: FloatArray) -> FloatArray:
        from symsched.stein._closed import gaussian_local_metric

        return gaussian_local_metric(self.lam, rho, process="ve")


def _regress_out(q: FloatArray, c: FloatArray) -> tuple[FloatArray, int]:
    """Per row (level): q - c beta, beta by least squares on centred samples (controls mean 0)."""
    out = np.empty_like(q)
    for i in range(q.shape[0]):
        ci = c[i] - c[i].mean(0)
        beta, *_ = np.linalg.lstsq(ci, q[i] - q[i].mean(), rcond=None)
        out[i] = q[i] - c[i] @ beta
    return out, 1 + c.shape[-1]


def estimate_metric(
    model: ScoreModel,
    levels: GridLike,
    *,
    samples: int = 256,
    seed: int = 0,
    process: str = "ve",
    common_noise: bool = False,
    device: str = "cpu",
    progress: bool = False,
    control_variate: bool = False,
) -> tuple[FloatArray, FloatArray, int]:
    r"""Local metric :math:`\hat\delta_c(\rho_j)` w.r.t. :math:`\rho` at each level, by JVP.

    :math:`\hat\delta_c(\rho)=v^2\frac1n\sum_k\|\partial_\rho s(x_k,\rho)\|^2`
    [williams2024, §3.1] with one ``torch.func.jvp`` per sample and level. With
    ``control_variate=True`` (VE) two controls of known mean are regressed out per level
    (least-squares coefficients): the metric of the conditional score :math:`(y-x)/\sigma^2` of
    the very sample, :math:`4\|\varepsilon\|^2/\sigma^2` with mean :math:`4d/\sigma^2` for any
    data (docs/theory/stein.md#point-mass), and, when the model knows its data moments, the
    Gaussian surrogate of :class:`_GaussianControlVariate`. Exact for Gaussian and point-mass data
    (docs/theory/stein.md#jvp-with-control-variates).

    Parameters
    ----------
    model
        A :class:`symsched.models.ScoreModel`.
    levels
        Noise levels (a descending grid, or a single level).
    samples, seed, process, common_noise, device, progress
        As :func:`estimate_costs`.
    control_variate
        Regress out the controls (VE only).

    Returns
    -------
    tuple
        ``(delta, stderr, evaluations)``; a JVP is counted as two score evaluations.

    Raises
    ------
    ValueError
        ``control_variate`` with ``process="vp"``, or invalid levels / samples.
    """
    import torch
    from torch.func import jvp

    lev = (
        as_levels(levels)
        if np.ndim(levels) == 1 and np.size(levels) > 1
        else np.atleast_1d(np.asarray(levels, float))
    )
    n = check_steps(samples, "samples", minimum=2)
    gen = torch.Generator().manual_seed(int(seed))
    y = model.sample_data(n, gen)
    eps = torch.randn(n, model.dim, generator=gen, dtype=torch.float64)
    v = process_sigma(lev, process)
    cv: _GaussianControlVariate | None = None
    if control_variate:
        if process != "ve":
            raise ValueError("control_variate needs process='ve'")
        moments = model.data_moments()
        cv = None if moments is None else _GaussianControlVariate(moments)
    delta, se = np.empty(lev.size), np.empty(lev.size)
    per_call = max(1, _ROWS_PER_CALL // n)
    with _progress(lev.size, progress, "jvp") as bar:
        for start in range(0, lev.size, per_call):
            idx = np.arange(start, min(lev.size, start + per_call))
            if not common_noise:
                yb = torch.cat([model.sample_data(n, gen) for _ in idx])
                eb = torch.cat(
                    [torch.randn(n, model.dim, generator=gen, dtype=torch.float64) for _ in idx]
                )
            else:
                yb, eb = y.repeat(idx.size, 1), eps.repeat(idx.size, 1)
            rho = torch.as_tensor(np.repeat(lev[idx], n)).to(device)
            x = _noised(yb.to(device), eb.to(device), rho, process).detach()
            ds = jvp(
                lambda r, x=x: _score_process(model, x, r, process),
                (rho,),
                (torch.ones_like(rho),),
            )[1]
            q = (ds.detach() ** 2).sum(1).cpu().numpy().reshape(idx.size, n) * (v[idx] ** 2)[
                :, None
            ]
            if control_variate:
                # controls with known means: the conditional (denoising) score (y - x)/sigma^2,
                # whose metric 4|eps|^2/sigma^2 has mean 4d/sigma^2 for any data; and the Gaussian
                # surrogate
                controls = [
                    4 * (eb**2).sum(1).cpu().numpy().reshape(idx.size, n) / lev[idx, None] ** 2
                    - 4 * model.dim / lev[idx, None] ** 2
                ]
                if cv is not None:
                    controls.append(
                        cv.per_sample(x, rho).cpu().numpy().reshape(idx.size, n)
                        - cv.mean_metric(lev[idx])[:, None]
                    )
                q, dof = _regress_out(q, np.stack(controls, axis=-1))
            else:
                dof = 1
            delta[idx] = q.mean(1)
            se[idx] = q.std(1, ddof=dof) / math.sqrt(n)
            bar.update(idx.size)
    return delta, se, 2 * n * lev.size
