r"""Score models in the EDM convention :math:`D(x,\sigma)` and adapters (issue 4; stein_cost.md §3.1).

Importing this package imports torch lazily: only calling a model or drawing data needs it.
"""

from __future__ import annotations

from ._base import ModelError, ScoreModel
from ._spec import MODEL_SPECS, load_model
from .adapters import PREDICTIONS, KDiffusionModel, VPNetworkModel
from .analytic import EmpiricalModel, GaussianMixtureModel, GaussianModel, symmetric_gm, two_point

__all__ = [
    "MODEL_SPECS",
    "PREDICTIONS",
    "EmpiricalModel",
    "GaussianMixtureModel",
    "GaussianModel",
    "KDiffusionModel",
    "ModelError",
    "ScoreModel",
    "VPNetworkModel",
    "load_model",
    "symmetric_gm",
    "two_point",
]
