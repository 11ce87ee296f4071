r"""Score models in the EDM convention :math:`D(x,\sigma)` and adapters [karras2022].

The models of docs/theory/stein.md#score-models.

* :class:`ScoreModel` — the validated denoiser interface; :class:`Denoiser` — any callable
  ``D(x, sigma)`` the samplers accept;
* :mod:`.analytic` — exact Gaussian, Gaussian-mixture and empirical denoisers;
* :mod:`.adapters` — k-diffusion callables, VP ε/v networks, diffusers UNets;
* :mod:`.trained` — the shipped EDM-preconditioned MLPs (:mod:`.preconditioning`: Karras et al.
  2022, Eq. (7) and Table 1);
* :func:`sample_euler`, :func:`sample_heun` — deterministic samplers [Karras et al. 2022,
  Algorithms 1-2].

Importing this package imports torch lazily: only calling a model or drawing data needs it.
"""

from __future__ import annotations

from symsched.models._base import Denoiser, ModelError, ScoreModel, ScoreOverflowError
from symsched.models._sample import NETWORK_SAMPLERS, sample_euler, sample_heun, start_noise
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
from symsched.models.preconditioning import (
    EDMPreconditioning,
    edm_preconditioning,
    fourier_features,
)

__all__ = [
    "MODEL_SPECS",
    "NETWORK_SAMPLERS",
    "PREDICTIONS",
    "Denoiser",
    "DiffusersUNetModel",
    "EDMPreconditioning",
    "EmpiricalModel",
    "GaussianMixtureModel",
    "GaussianModel",
    "KDiffusionModel",
    "ModelError",
    "ScoreModel",
    "ScoreOverflowError",
    "VPNetworkModel",
    "edm_preconditioning",
    "fourier_features",
    "load_data_rows",
    "load_diffusers",
    "load_model",
    "sample_euler",
    "sample_heun",
    "start_noise",
    "symmetric_gm",
    "two_point",
]
