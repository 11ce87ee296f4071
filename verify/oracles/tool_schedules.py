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

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from symsched.builtin import get_builtin
from symsched.builtin.config import DIFFUSERS_CLASSES

__all__ = [
    "AYS_KEYS",
    "real_diffusers",
    "real_kdiffusion",
    "ulps",
    "zero_snr_bound",
    "zero_snr_excess",
    "zero_snr_timestep_excess",
]

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


def zero_snr_excess(ours: NDArray[Any], real: NDArray[Any]) -> float:
    r"""The worst relative difference of two zero-SNR level arrays over its bound (<= 1: within).

    The bound is :math:`\epsilon_0 + \tfrac12\epsilon_{\bar\alpha}(1+s^2)/s^2`, with
    :math:`s` the smallest positive level (``tol.DIFFUSERS_ZERO_SNR_RTOL`` and
    ``tol.DIFFUSERS_ZERO_SNR_ALPHA_RTOL``). A relative error :math:`\delta` of
    :math:`\bar\alpha` moves :math:`\sigma=\sqrt{(1-\bar\alpha)/\bar\alpha}` by
    :math:`\tfrac12\delta/(1-\bar\alpha)=\tfrac12\delta(1+\sigma^2)/\sigma^2` relative,
    worst at the smallest level; the schedulers' levels in between are interpolations (in
    :math:`t`, :math:`\ln\sigma`, :math:`\sigma^{1/\rho}` or :math:`\lambda`) or re-spacings
    between the two ends, which carry at most the worst relative error of the levels they
    combine. Zero and infinite levels must coincide (``inf`` when they do not).
    """
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(real, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    pos = np.isfinite(b) & (b > 0)
    if not np.array_equal(a[~pos], b[~pos]):
        return math.inf
    if not pos.any():
        return 0.0
    return float(np.max(np.abs(a[pos] / b[pos] - 1)) / zero_snr_bound(b))


def zero_snr_bound(levels: NDArray[Any]) -> float:
    """The relative bound of :func:`zero_snr_excess` for a grid (its smallest positive level)."""
    from symsched_verify import tolerances as tol

    b = np.asarray(levels, dtype=np.float64)
    pos = b[np.isfinite(b) & (b > 0)]
    if not pos.size:
        return float(tol.DIFFUSERS_ZERO_SNR_RTOL)
    s2 = float(np.min(pos)) ** 2
    return float(
        tol.DIFFUSERS_ZERO_SNR_RTOL + 0.5 * tol.DIFFUSERS_ZERO_SNR_ALPHA_RTOL * (1 + s2) / s2
    )


def zero_snr_timestep_excess(
    ours: NDArray[Any], real: NDArray[Any], real_levels: NDArray[Any]
) -> float:
    r"""The worst timestep difference of a zero-SNR grid over its bound (<= 1: within).

    Timesteps read back from levels (``_sigma_to_t``) move by the levels' error in
    :math:`\ln\sigma` times :math:`|dt/d\ln\sigma|`. The levels and the table they are read on are
    each within :func:`zero_snr_bound` of ``real_levels`` relative, so the
    bound at step k is ``tol.DIFFUSERS_DERIVED_TIMESTEP_ATOL`` plus twice that times the larger of
    the two secant slopes of :math:`t` in :math:`\ln\sigma` on either side of k (on a monotone
    stretch that is convex or concave there, one of them exceeds the derivative at k). Integer
    timesteps may then differ by one more than the bound's integer part (a rounding flip).
    """
    from symsched_verify import tolerances as tol

    t_ours = np.asarray(ours, dtype=np.float64)
    t_real = np.asarray(real, dtype=np.float64)
    lv = np.asarray(real_levels, dtype=np.float64)[: t_real.size]
    if t_ours.shape != t_real.shape:
        return math.inf
    ok = np.isfinite(lv) & (lv > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        secant = np.abs(np.diff(t_real) / np.diff(np.log(np.where(ok, lv, np.nan))))
    secant = np.where(np.isfinite(secant), secant, 0.0)
    pad = np.concatenate([[0.0], secant, [0.0]])
    slope = np.maximum(pad[:-1], pad[1:])
    bound = tol.DIFFUSERS_DERIVED_TIMESTEP_ATOL + 2.0 * zero_snr_bound(real_levels) * slope
    if np.issubdtype(np.asarray(real).dtype, np.integer):
        # rounded to integers: values within B of each other round at most floor(B) + 1 apart
        bound = np.floor(bound) + 1.0
    return float(np.max(np.abs(t_ours - t_real) / bound, initial=0.0))
