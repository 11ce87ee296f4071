r"""What the network samplers share: the denoiser protocol, input checks and the ODE direction.

A denoiser is any callable :math:`D(x,\sigma)` in the EDM (VE) scale; the probability-flow ODE is
:math:`dx/d\sigma=(x-D(x,\sigma))/\sigma` [karras2022, Eq. (3) with :math:`s=1`,
:math:`\sigma(t)=t`]. Samplers take the k-diffusion signature ``(model, x, sigmas, *, callback)``:
``x`` is the state at ``sigmas[0]``, the result the state at ``sigmas[-1]``; the grid is used as
given (no zero is appended).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypedDict

import numpy as np

from symsched._typing import FloatArray, GridLike, TorchTensor
from symsched._validate import as_grid

__all__ = [
    "Denoiser",
    "NetworkSampler",
    "StepCallback",
    "StepInfo",
    "check_network_inputs",
    "ode_direction",
]


class StepInfo(TypedDict):
    """What a sampler passes to its ``callback`` after each step (the k-diffusion keys)."""

    i: int
    sigma: float
    sigma_next: float
    x: TorchTensor


StepCallback = Callable[[StepInfo], None]
"""Called after each step with ``{"i", "sigma", "sigma_next", "x"}``."""


class Denoiser(Protocol):
    r"""A denoiser :math:`D(x,\sigma)\approx E[y\mid y+\sigma\varepsilon=x]` (EDM convention).

    Called with states ``x`` of shape ``(batch, dim)`` and a noise level ``sigma`` (a float), it
    returns the denoised states, shape ``(batch, dim)`` [karras2022, §2]. Every
    :class:`symsched.models.ScoreModel` is one; so is a plain function of that signature.
    """

    def __call__(self, x: TorchTensor, sigma: float, /) -> TorchTensor:
        """The denoised states ``D(x, sigma)``."""
        ...


class NetworkSampler(Protocol):
    """A sampler loop ``sample(model, x, sigmas, *, callback=None)`` (k-diffusion's signature)."""

    def __call__(
        self,
        model: Denoiser,
        x: TorchTensor,
        sigmas: GridLike,
        *,
        callback: StepCallback | None = None,
    ) -> TorchTensor:
        """The states after the last step of ``sigmas``."""
        ...


def check_network_inputs(
    model: object, x: TorchTensor, sigmas: GridLike
) -> tuple[TorchTensor, FloatArray]:
    """Validate ``(model, x, sigmas)`` of a network sampler; returns ``x`` and the grid."""
    import torch

    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(
            f"x must be a floating torch.Tensor of shape (batch, dim), got {type(x).__name__}"
        )
    sig = as_grid(sigmas, "sigmas")
    if not np.all(np.isfinite(sig)):
        raise ValueError("sigmas must be finite: start a sampler at a finite sigma_max (e.g. 80)")
    if not callable(model):
        raise TypeError(f"model must be a callable D(x, sigma), got {type(model).__name__}")
    return x, sig


def ode_direction(model: Denoiser, x: TorchTensor, sigma: float) -> TorchTensor:
    """:math:`dx/d\\sigma=(x-D(x,\\sigma))/\\sigma` [karras2022, Algorithm 1, line 4]."""
    return (x - model(x, sigma)) / sigma
