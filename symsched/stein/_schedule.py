r"""The score-optimal schedule of a model, end to end [williams2024, §3.1, Alg. 1].

The pipeline of docs/theory/stein.md#end-to-end-schedule:

Probe grid (fine) -> interval lengths by an estimator (finite-step costs symmetrised in their two
levels, or the JVP metric by the trapezoid rule: both second order in the probe step,
docs/theory/stein.md#second-order-length-estimate) -> cumulative length -> PCHIP inversion onto N
equal-length steps. The finite-step costs of the output grid are reported too
(by the exact form, or Monte Carlo at common random numbers), with their standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from symsched._typing import FloatArray, JSONDict
from symsched._validate import check_positive, check_steps
from symsched.schedules import Schedule
from symsched.stein._estimate import DEFAULT_ESTIMATOR, CostEstimate, estimate_costs
from symsched.stein._update import probe_levels, update_schedule

if TYPE_CHECKING:
    from symsched.models._base import ScoreModel

__all__ = [
    "DEFAULT_PROBE_LEVELS",
    "DEFAULT_SAMPLES",
    "OUTPUT_SAMPLES",
    "SteinResult",
    "default_estimator",
    "default_probe_levels",
    "stein_schedule",
]

# K >> N (100-1000, docs/theory/stein.md#end-to-end-schedule), at least 8 N; grid-independence is
# a claim
DEFAULT_PROBE_LEVELS = 128
OUTPUT_SAMPLES = 1024  # Monte Carlo samples for the finite-step costs of the N output intervals
# per probe level (jvp) / interval (monte-carlo): jvp with control variates reached a 1% schedule
# error with K = 32 and n = 4-16 on the benchmark models; K = 128, n = 32 leaves a wide margin
DEFAULT_SAMPLES = 32


@dataclass(frozen=True)
class SteinResult:
    r"""A Stein schedule with the probe estimate it came from and the costs of its own intervals.

    Parameters
    ----------
    schedule
        The ``stein`` schedule (N + 1 levels and the parameters of the run).
    probe
        The estimate on the fine probe grid that the schedule inverts.
    interval_costs
        The ``N`` finite-step costs of the schedule's own intervals.
    interval_stderr
        Their standard errors (``None`` when exact).
    """

    schedule: Schedule
    probe: CostEstimate
    interval_costs: FloatArray
    interval_stderr: FloatArray | None

    @property
    def total_length(self) -> float:
        r"""Total Stein length :math:`\hat\Lambda` of the probe estimate."""
        return self.probe.total_length

    def to_json(self) -> JSONDict:
        """Schedule object plus ``total_length``, ``interval_costs`` and the estimator's errors.

        Returns
        -------
        JSONDict
            The schedule object (docs/conventions.md#json-output) with ``total_length``,
            ``total_length_stderr``, ``total_cost``, ``interval_costs``,
            ``interval_costs_stderr`` and ``probe_evaluations`` added.
        """
        out: JSONDict = self.schedule.to_json()
        se = self.probe.total_length_stderr
        out.update(
            {
                "total_length": self.total_length,
                "total_length_stderr": 0.0 if se is None else se,
                "total_cost": float(self.interval_costs.sum()),
                "interval_costs": self.interval_costs.tolist(),
                "interval_costs_stderr": (
                    np.zeros_like(self.interval_costs)
                    if self.interval_stderr is None
                    else self.interval_stderr
                ).tolist(),
                "probe_evaluations": self.probe.evaluations,
            }
        )
        return out


def _default_range(
    model: ScoreModel, sigma_min: float | None, sigma_max: float | None
) -> tuple[float, float]:
    lo_m, hi_m = model.sigma_range
    lo = (
        (max(lo_m, 0.002) if lo_m > 0 else 0.002)
        if sigma_min is None
        else check_positive(sigma_min, "sigma_min")
    )
    hi = (
        (min(hi_m, 80.0) if math.isfinite(hi_m) else 80.0)
        if sigma_max is None
        else check_positive(sigma_max, "sigma_max")
    )
    if not lo < hi:
        raise ValueError(f"sigma_min must be < sigma_max, got {lo} and {hi}")
    return lo, hi


def default_probe_levels(steps: int) -> int:
    """The default number of probe intervals K for an ``steps``-step schedule:
    ``max(DEFAULT_PROBE_LEVELS, 8 N)``, so that K >> N (docs/theory/stein.md#end-to-end-schedule).

    Parameters
    ----------
    steps
        The schedule's number of steps N.

    Returns
    -------
    int
        K.
    """
    return max(DEFAULT_PROBE_LEVELS, 8 * steps)


def default_estimator(model: ScoreModel) -> str:
    """``"exact"`` if the model has closed-form (or quadrature) costs, else the JVP default.

    The choice of :func:`stein_schedule` and of ``symsched schedule stein`` when no estimator is
    given (docs/theory/stein.md#end-to-end-schedule): a sampled estimate of an analytic model
    only adds Monte Carlo error to a cost that is known.

    Parameters
    ----------
    model
        A :class:`symsched.models.ScoreModel`.

    Returns
    -------
    str
        The estimator's name.
    """
    has_exact = model.exact_interval_costs(np.array([2.0, 1.0]), process="ve", weight="target")
    return "exact" if has_exact is not None else DEFAULT_ESTIMATOR


def stein_schedule(
    model: ScoreModel,
    steps: int,
    *,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
    probe: int | None = None,
    probe_kind: str = "log",
    estimator: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    process: str = "ve",
    weight: str = "target",
    device: str = "cpu",
    progress: bool = False,
    coord: str = "log",
    symmetric: bool = True,
    reuse: CostEstimate | None = None,
) -> SteinResult:
    r"""Score-optimal N-step grid of ``model`` [williams2024, Algorithm 1].

    The end-to-end schedule of docs/theory/stein.md#end-to-end-schedule.

    Parameters
    ----------
    model
        A :class:`symsched.models.ScoreModel`.
    steps
        N, the number of steps of the output grid.
    sigma_min, sigma_max
        Endpoints (default ``0.002`` and ``80``, clipped to the model's range); finite and > 0.
    probe, probe_kind
        Number of probe intervals K (>> N; default ``max(128, 8 N)``) and their spacing
        (``"log"`` or ``"karras"``).
    estimator
        ``"exact"``, ``"monte-carlo"`` or ``"jvp"``; default (``None``):
        :func:`default_estimator` (exact for analytic models, else JVP with control variates).
    samples, seed, process, weight, device, progress
        See :func:`symsched.stein.estimate_costs`.
    coord
        PCHIP coordinate (see :func:`symsched.stein.update_schedule`).
    symmetric
        Finite-step estimators (exact, Monte Carlo): invert the symmetrised costs, a second-order
        length estimate (default); ``False`` inverts the forward costs of [williams2024,
        Algorithm 1] literally, whose length is first order in the probe step
        (docs/theory/stein.md#second-order-length-estimate). The JVP estimator integrates its
        metric by the trapezoid rule (second order) and takes only ``True``.
    reuse
        The probe estimate of an earlier call on the same model (its :attr:`SteinResult.probe`):
        taken instead of a new estimate when it was made on this call's probe grid with this
        call's estimator, samples, seed, process and weight (it would be the same numbers), and
        ignored otherwise. The exporters' rebuild of an (N-1)-step grid uses it
        (:attr:`symsched.schedules.Schedule.ending_at_zero`).

    Returns
    -------
    SteinResult
        The schedule (method ``stein``), the probe estimate and the output intervals' costs.

    Raises
    ------
    ValueError
        Invalid endpoints, ``probe_levels < 4 steps`` (costs must be local,
        docs/theory/stein.md#coarse-grid-pitfall), or invalid estimator options.
    """
    n = check_steps(steps, "steps")
    lo, hi = _default_range(model, sigma_min, sigma_max)
    if estimator is None:
        estimator = default_estimator(model)
    if estimator == "jvp" and not symmetric:
        raise ValueError(
            "symmetric=False (the forward finite-step length of Algorithm 1) applies to the exact "
            "and monte-carlo estimators; jvp integrates the local metric"
        )
    k = default_probe_levels(n) if probe is None else check_steps(probe, "probe_levels", minimum=2)
    if k < 4 * n:
        raise ValueError(
            f"probe_levels must be >= 4 * steps ({4 * n}) so that costs are local "
            "(docs/theory/stein.md#coarse-grid-pitfall: never optimise on the coarse grid), "
            f"got {k}"
        )
    lev = probe_levels(lo, hi, k, probe_kind)
    options = {
        "estimator": estimator,
        "samples": samples,
        "seed": seed,
        "process": process,
        "weight": weight,
        "symmetric": symmetric and estimator != "jvp",
    }
    if reuse is not None and _made_with(reuse, lev, options):
        est = reuse
    else:
        est = estimate_costs(model, lev, device=device, progress=progress, **options)  # type: ignore[arg-type]
    sig = update_schedule(lev, est.costs, n, coord=coord)
    if estimator == "exact":
        out = estimate_costs(model, sig, estimator="exact", process=process, weight=weight)
    else:
        # finite-step costs of the N output intervals: cheap (2 n N evaluations), so at least
        # OUTPUT_SAMPLES samples whatever the probe used
        out = estimate_costs(
            model,
            sig,
            estimator="monte-carlo",
            samples=max(samples, OUTPUT_SAMPLES),
            seed=seed + 1,
            process=process,
            weight=weight,
            device=device,
        )
    params: JSONDict = {
        "model": model.name,
        "estimator": est.estimator,
        "probe_levels": k,
        "probe_kind": probe_kind,
        "control_variate": bool(est.extra.get("control_variate", False)),
        "common_noise": est.common_noise if est.estimator != "exact" else None,
        "samples": est.samples,
        "seed": est.seed,
        "process": process,
        "weight": weight,
        "coord": coord,
        "length": (
            "trapezoid" if est.estimator == "jvp" else ("symmetric" if symmetric else "forward")
        ),
        "sigma_min": lo,
        "sigma_max": hi,
        "device": device,
        "total_length": est.total_length,
        "cost": (
            "corrector L_c, v = sigma (Williams et al. arXiv 2412.07877, §2.3; "
            "docs/theory/stein.md#corrector-cost)"
        ),
    }
    return SteinResult(Schedule("stein", sig, params), est, out.costs, out.stderr)


def _made_with(est: CostEstimate, levels: FloatArray, options: dict[str, object]) -> bool:
    """Whether ``est`` is what :func:`estimate_costs` gives on ``levels`` with ``options``."""
    same = (
        est.estimator == options["estimator"]
        and est.process == options["process"]
        and est.weight == options["weight"]
        and bool(est.extra.get("symmetric", False)) == options["symmetric"]
    )
    if est.estimator != "exact":  # the sampled ones: the same draws
        same = same and est.samples == options["samples"] and est.seed == options["seed"]
    return same and est.levels.shape == levels.shape and bool(np.array_equal(est.levels, levels))
