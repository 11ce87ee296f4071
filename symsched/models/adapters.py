r"""Adapters from network conventions to the EDM denoiser :math:`D(x,\sigma)`.

* :class:`KDiffusionModel` — any k-diffusion-style callable ``model(x, sigma) -> denoised``.
* :class:`VPNetworkModel` — an ε- or v-prediction network ``net(x_t, t)`` on a discrete VP
  schedule (``alphas_cumprod``, e.g. DDPM's 1000-step table), mapped as k-diffusion's
  ``DiscreteEpsDDPMDenoiser`` / ``DiscreteVDDPMDenoiser`` do: :math:`x_t=\alpha x`,
  :math:`\alpha=1/\sqrt{1+\sigma^2}`, fractional timestep by linear interpolation in
  :math:`\log\sigma`, and

  .. math:: D = x-\sigma\hat\varepsilon\quad(\varepsilon),\qquad D=\alpha^2x-\sigma\alpha\hat v\quad(v).

The timestep interpolation is written in torch so ``torch.func.jvp`` differentiates through it
(stein_cost.md §3.1, the JVP estimator). References: Williams, Campbell, Doucet, Syed,
arXiv:2412.07877, §3; Salimans & Ho, arXiv:2202.00512 (v-prediction); peers.md §2 (k-diffusion).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validate import check_choice
from ._base import ModelError, ScoreModel

__all__ = ["PREDICTIONS", "KDiffusionModel", "VPNetworkModel"]

PREDICTIONS: tuple[str, ...] = ("epsilon", "v")


class KDiffusionModel(ScoreModel):
    """Wrap a callable ``fn(x, sigma) -> denoised`` (x of shape ``(batch, dim)``, sigma ``(batch,)``)."""

    def __init__(self, fn: Callable[[Any, Any], Any], dim: int, *, sigma_range: tuple[float, float] = (0.0, math.inf),
                 data: Any = None, name: str = "k-diffusion callable") -> None:
        if not callable(fn):
            raise ModelError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        super().__init__(dim, name=name, sigma_range=sigma_range, data=data)

    def _denoise(self, x: Any, sigma: Any) -> Any:
        return self.fn(x, sigma)


class VPNetworkModel(ScoreModel):
    """An ε- or v-prediction network on a discrete VP schedule, seen as an EDM denoiser."""

    def __init__(self, net: Callable[[Any, Any], Any], alphas_cumprod: Any, dim: int, *,
                 prediction: str = "epsilon", data: Any = None, name: str | None = None) -> None:
        check_choice(prediction, "prediction", PREDICTIONS)
        ab = np.asarray(alphas_cumprod, dtype=np.float64)
        if ab.ndim != 1 or ab.size < 2 or np.any(ab <= 0) or np.any(ab >= 1) or not np.all(np.diff(ab) < 0):
            raise ModelError("alphas_cumprod must be a strictly decreasing 1-D table in (0, 1)")
        self.net, self.prediction = net, prediction
        self.log_sigmas = np.log(np.sqrt((1 - ab) / ab))  # increasing with the timestep
        rng = (float(np.exp(self.log_sigmas[0])), float(np.exp(self.log_sigmas[-1])))
        super().__init__(dim, name=name or f"{prediction}-prediction VP network", sigma_range=rng, data=data)

    def sigma_to_t(self, sigma: Any) -> Any:
        """Fractional training timestep of ``sigma`` (linear in log sigma between table entries)."""
        import torch

        ls = torch.as_tensor(self.log_sigmas, dtype=sigma.dtype, device=sigma.device)
        log_s = torch.log(sigma)
        hi = torch.searchsorted(ls, log_s.detach()).clamp(1, ls.numel() - 1)
        lo = hi - 1
        w = (log_s - ls[lo]) / (ls[hi] - ls[lo])
        return lo.to(sigma.dtype) + w

    def _denoise(self, x: Any, sigma: Any) -> Any:
        alpha = 1.0 / torch_sqrt1p(sigma**2)
        x_t = alpha[:, None] * x
        out = self.net(x_t, self.sigma_to_t(sigma))
        if self.prediction == "epsilon":
            return x - sigma[:, None] * out
        return (alpha**2)[:, None] * x - (sigma * alpha)[:, None] * out


def torch_sqrt1p(v: Any) -> Any:
    import torch

    return torch.sqrt(1.0 + v)
