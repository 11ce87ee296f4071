r"""Score-optimal (Stein-cost) schedules [williams2024]; the page is docs/theory/stein.md.

* :mod:`._symbolic` — the corrector cost, local metric and length derived in SymPy
  [williams2024, §2.3, §3.1] (docs/theory/stein.md#corrector-cost,
  docs/theory/stein.md#closed-forms);
* :mod:`._closed` — their compiled numeric forms and the two-point quadrature
  (docs/theory/stein.md#closed-forms);
* :mod:`._update` — UpdateSchedule on a fine probe grid and the online blend [williams2024,
  Algorithms 1 and 2] (docs/theory/stein.md#updateschedule,
  docs/theory/stein.md#coarse-grid-pitfall);
* :mod:`._estimate` — exact, Monte Carlo (common random numbers) and JVP estimators
  [williams2024, §3] (docs/theory/stein.md#estimators);
* :mod:`._schedule` — the end-to-end score-optimal schedule of a model;
* :mod:`.quality` — sample quality of Stein schedules against baselines on the trained networks
  (not imported here: ``from symsched.stein.quality import compare_schedules``).

References
----------
.. [williams2024] C. Williams, A. Campbell, A. Doucet, S. Syed, "Score-Optimal Diffusion
   Schedules", NeurIPS 2024, arXiv:2412.07877v1.
"""

from __future__ import annotations

from symsched.stein._closed import (
    PROCESSES,
    WEIGHTS,
    gaussian_interval_costs,
    gaussian_local_metric,
    isotropic_length,
    length_from_metric,
    process_sigma,
    two_point_interval_costs,
    two_point_local_metric,
)
from symsched.stein._estimate import (
    DEFAULT_ESTIMATOR,
    ESTIMATORS,
    CostEstimate,
    SteinAccuracyWarning,
    estimate_costs,
    estimate_metric,
    schedule_error,
)
from symsched.stein._schedule import SteinResult, default_estimator, stein_schedule
from symsched.stein._symbolic import gaussian_interval_cost, isotropic_local_metric, two_point_score
from symsched.stein._symbolic import gaussian_local_metric as gaussian_local_metric_expr
from symsched.stein._symbolic import isotropic_length as isotropic_length_expr
from symsched.stein._update import (
    RELATIVE_FLOOR,
    cumulative_length,
    online_update,
    probe_levels,
    update_schedule,
)

__all__ = [
    "DEFAULT_ESTIMATOR",
    "ESTIMATORS",
    "PROCESSES",
    "RELATIVE_FLOOR",
    "WEIGHTS",
    "CostEstimate",
    "SteinAccuracyWarning",
    "SteinResult",
    "cumulative_length",
    "default_estimator",
    "estimate_costs",
    "estimate_metric",
    "gaussian_interval_cost",
    "gaussian_interval_costs",
    "gaussian_local_metric",
    "gaussian_local_metric_expr",
    "isotropic_length",
    "isotropic_length_expr",
    "isotropic_local_metric",
    "length_from_metric",
    "online_update",
    "probe_levels",
    "process_sigma",
    "schedule_error",
    "stein_schedule",
    "two_point_interval_costs",
    "two_point_local_metric",
    "two_point_score",
    "update_schedule",
]
