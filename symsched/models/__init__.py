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

Importing this package imports torch lazily: only calling a model or drawing data needs it; the
names are imported from their modules on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from symsched._lazy import lazy_attributes

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "Denoiser": "symsched.models._base",
    "ModelError": "symsched.models._base",
    "ScoreModel": "symsched.models._base",
    "ScoreOverflowError": "symsched.models._base",
    "NETWORK_SAMPLERS": "symsched.models._sample",
    "sample_euler": "symsched.models._sample",
    "sample_heun": "symsched.models._sample",
    "start_noise": "symsched.models._sample",
    "MODEL_SPECS": "symsched.models._spec",
    "load_data_rows": "symsched.models._spec",
    "load_model": "symsched.models._spec",
    "PREDICTIONS": "symsched.models.adapters",
    "DiffusersUNetModel": "symsched.models.adapters",
    "KDiffusionModel": "symsched.models.adapters",
    "VPNetworkModel": "symsched.models.adapters",
    "load_diffusers": "symsched.models.adapters",
    "EmpiricalModel": "symsched.models.analytic",
    "GaussianMixtureModel": "symsched.models.analytic",
    "GaussianModel": "symsched.models.analytic",
    "symmetric_gm": "symsched.models.analytic",
    "two_point": "symsched.models.analytic",
    "EDMPreconditioning": "symsched.models.preconditioning",
    "edm_preconditioning": "symsched.models.preconditioning",
    "fourier_features": "symsched.models.preconditioning",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
