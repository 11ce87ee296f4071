r"""High-dimensional Gaussian-mixture and Curie–Weiss models under VP / VE interpolants.

Aranguri, Biroli, Mézard, Vanden-Eijnden, arXiv 2501.00988 [aranguri2025]; the page is
docs/theory/highdim.md.

- :class:`GaussianMixture`, :func:`derive_gm` — the GM and its posterior, denoiser, velocity and
  score derived by Bayes' rule in SymPy (docs/theory/highdim.md#exact-gm-fields)
- :class:`CurieWeiss`, :func:`exact_law`, :func:`two_mode_law`, :func:`sample_exact`,
  :func:`denoiser_two_mode`, :func:`denoiser_hs` — the Curie–Weiss model
  (docs/theory/highdim.md#curie-weiss-model)
- :func:`tau_grid`, :func:`constant`, :func:`vp_dilated`, :func:`ve_dilated` — time grids
  [aranguri2025, §5.1] (docs/theory/highdim.md#dilated-schedules)
- :func:`gm_stein_schedule`, :func:`gm_stein_metric` — the Stein-cost schedule of the GM
  [williams2024] (docs/theory/highdim.md#stein-schedule-of-the-mixture, self-contained here)

Submodules not imported here: :mod:`.simulate` (Euler simulators), :mod:`.noise_level` (both
models in the noise-level scale, run by any network sampler: Heun, DPM-Solver++(2M), ...),
:mod:`.measure` (statistics and feature errors), :mod:`.search` (the steps-needed search and the
sweeps; it uses :mod:`.measure`, never the reverse) and :mod:`.plots`. :class:`TauGrid` lives in
:mod:`._grid`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from symsched._lazy import lazy_attributes

if TYPE_CHECKING:
    from symsched.highdim.cw import (
        CurieWeiss,
        CWLaw,
        denoiser_hs,
        denoiser_two_mode,
        exact_law,
        magnetization,
        sample_exact,
        two_mode_law,
    )
    from symsched.highdim.gm import (
        GaussianMixture,
        GMDerivation,
        derive_gm,
        noise_scale,
        stable_forms,
    )
    from symsched.highdim.gm_stein import gm_stein_length, gm_stein_metric, gm_stein_schedule
    from symsched.highdim.schedules import (
        DEFAULT_KAPPA,
        SCHEDULES,
        TauGrid,
        constant,
        process_of,
        tau_grid,
        ve_dilated,
        vp_dilated,
    )

__all__ = [
    "DEFAULT_KAPPA",
    "SCHEDULES",
    "CWLaw",
    "CurieWeiss",
    "GMDerivation",
    "GaussianMixture",
    "TauGrid",
    "constant",
    "denoiser_hs",
    "denoiser_two_mode",
    "derive_gm",
    "exact_law",
    "gm_stein_length",
    "gm_stein_metric",
    "gm_stein_schedule",
    "magnetization",
    "noise_scale",
    "process_of",
    "sample_exact",
    "stable_forms",
    "tau_grid",
    "two_mode_law",
    "ve_dilated",
    "vp_dilated",
]

_LAZY: dict[str, str] = {
    "CurieWeiss": "symsched.highdim.cw",
    "CWLaw": "symsched.highdim.cw",
    "denoiser_hs": "symsched.highdim.cw",
    "denoiser_two_mode": "symsched.highdim.cw",
    "exact_law": "symsched.highdim.cw",
    "magnetization": "symsched.highdim.cw",
    "sample_exact": "symsched.highdim.cw",
    "two_mode_law": "symsched.highdim.cw",
    "GaussianMixture": "symsched.highdim.gm",
    "GMDerivation": "symsched.highdim.gm",
    "derive_gm": "symsched.highdim.gm",
    "noise_scale": "symsched.highdim.gm",
    "stable_forms": "symsched.highdim.gm",
    "gm_stein_length": "symsched.highdim.gm_stein",
    "gm_stein_metric": "symsched.highdim.gm_stein",
    "gm_stein_schedule": "symsched.highdim.gm_stein",
    "DEFAULT_KAPPA": "symsched.highdim.schedules",
    "SCHEDULES": "symsched.highdim.schedules",
    "TauGrid": "symsched.highdim.schedules",
    "constant": "symsched.highdim.schedules",
    "process_of": "symsched.highdim.schedules",
    "tau_grid": "symsched.highdim.schedules",
    "ve_dilated": "symsched.highdim.schedules",
    "vp_dilated": "symsched.highdim.schedules",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
