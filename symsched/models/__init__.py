r"""Score models in the EDM convention :math:`D(x,\sigma)` and adapters (issue 4; stein_cost.md §3.1).

Importing this package imports torch lazily: only calling a model or drawing data needs it.
"""

from __future__ import annotations

from symsched.models._base import ModelError, ScoreModel
from symsched.models._sample import sample_euler, sample_heun, start_noise
from symsched.models._spec import MODEL_SPECS, load_data_rows, load_model
from symsched.models.adapters import (
    PREDICTIONS,
    DiffusersUNetModel,
    KDiffusionModel,
    VPNetworkModel,
    load_diffusers,
)
from symsched.models.analytic import (
    EmpiricalModel,
    GaussianMixtureModel,
    GaussianModel,
    symmetric_gm,
    two_point,
)

__all__ = [
    "MODEL_SPECS",
    "PREDICTIONS",
    "DiffusersUNetModel",
    "EmpiricalModel",
    "GaussianMixtureModel",
    "GaussianModel",
    "KDiffusionModel",
    "ModelError",
    "ScoreModel",
    "VPNetworkModel",
    "load_data_rows",
    "load_diffusers",
    "load_model",
    "sample_euler",
    "sample_heun",
    "start_noise",
    "symmetric_gm",
    "two_point",
]
