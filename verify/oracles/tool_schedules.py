r"""The real tools' built-in schedules, for comparison with :mod:`symsched.builtin`.

:func:`real_diffusers` builds the installed diffusers scheduler class of a ``diffusers:*``
built-in from the same option values (the constructor's arguments; ``set_timesteps``' ``mu``; the
Flux / Qwen-Image pipelines' ``sigmas = linspace(1, 1/N, N)`` for ``sigmas="linspace"``) and returns
the arrays its sampler iterates. :func:`real_kdiffusion` calls the installed k-diffusion function.
Both are imported lazily: they are test-time dependencies, not symsched's.

ComfyUI and A1111 are not installable from the package registries; their reproductions are checked
against values computed by running their own code (docs/conformance.md#how-equality-is-proven).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from symsched.builtin import get_builtin
from symsched.builtin.config import DIFFUSERS_CLASSES

__all__ = ["AYS_KEYS", "real_diffusers", "real_kdiffusion", "ulps"]

AYS_KEYS = {
    "diffusers:ays-sd15": "StableDiffusionSigmas",
    "diffusers:ays-sdxl": "StableDiffusionXLSigmas",
    "diffusers:ays-svd": "StableDiffusionVideoSigmas",
}
"""The ``AysSchedules`` key of each AYS built-in (diffusers ``schedulers/scheduling_utils.py``)."""

_CLASS_OF = {v: k for k, v in DIFFUSERS_CLASSES.items()}


def real_diffusers(
    name: str, steps: int, options: Mapping[str, object]
) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """The real scheduler's arrays for built-in ``name`` at ``steps`` with ``options``.

    Returns
    -------
    (ndarray, ndarray or None)
        The levels its sampler iterates (``scheduler.sigmas``; for DDIM, which keeps none, the VE
        levels of its timesteps' ``alphas_cumprod`` then of ``final_alpha_cumprod``, as the
        built-in defines them) and its timesteps (``None`` for the AYS constants).

    Raises
    ------
    Exception
        Whatever the real scheduler raises for a configuration it refuses.
    """
    import diffusers

    if name in AYS_KEYS:
        from diffusers.schedulers.scheduling_utils import AysSchedules

        return np.asarray(AysSchedules[AYS_KEYS[name]], dtype=np.float64), None
    b = get_builtin(name)
    ctor = {k: v for k, v in options.items() if k in b.config_keys}
    kw: dict[str, Any] = {}
    if options.get("mu") is not None:
        kw["mu"] = options["mu"]
    if options.get("sigmas") == "linspace":
        kw["sigmas"] = np.linspace(1.0, 1.0 / steps, steps)
    cls = getattr(diffusers, _CLASS_OF[name])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        sch = cls(**ctor)
        sch.set_timesteps(steps, **kw)
    ts = np.asarray(sch.timesteps.numpy())
    if hasattr(sch, "sigmas"):
        return np.asarray(sch.sigmas.numpy()), ts
    ac = np.concatenate(
        [sch.alphas_cumprod.numpy()[ts], sch.final_alpha_cumprod.numpy().reshape(1)]
    )
    with np.errstate(divide="ignore"):
        return np.sqrt((1 - ac) / ac), ts


def real_kdiffusion(name: str, steps: int, options: Mapping[str, object]) -> NDArray[Any]:
    """The installed k-diffusion ``get_sigmas_*`` of built-in ``name`` (``k-diffusion:karras`` ->
    ``get_sigmas_karras(n=steps, **options)``), as a numpy array."""
    from k_diffusion import sampling

    fn = getattr(sampling, "get_sigmas_" + name.split(":", 1)[1])
    return np.asarray(fn(steps, **dict(options)).numpy())


def ulps(a: NDArray[Any], b: NDArray[Any]) -> int:
    """The largest distance between two float32 arrays in units in the last place (``-1`` if the
    shapes differ): 0 means bit-exact."""
    if a.shape != b.shape:
        return -1
    x = np.asarray(a, dtype=np.float32).view(np.int32).astype(np.int64)
    y = np.asarray(b, dtype=np.float32).view(np.int32).astype(np.int64)
    return int(np.max(np.abs(x - y))) if x.size else 0
