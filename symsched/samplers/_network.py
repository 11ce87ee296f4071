r"""What the network samplers share: the denoiser protocol, input checks and the ODE direction.

A denoiser is any callable :math:`D(x,\sigma)` in the EDM (VE) scale; the probability-flow ODE is
:math:`dx/d\sigma=(x-D(x,\sigma))/\sigma` [karras2022, Eq. (3) with :math:`s=1`,
:math:`\sigma(t)=t`]. Samplers take the k-diffusion signature ``(model, x, sigmas, *, callback)``:
``x`` is the state at ``sigmas[0]``, the result the state at ``sigmas[-1]``; the grid is used as
given (no zero is appended).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from symsched._typing import FloatArray
from symsched._validate import as_grid

__all__ = ["Denoiser", "StepCallback", "check_network_inputs", "ode_direction"]

StepCallback = Callable[[dict[str, Any]], None]
"""Called after each step with ``{"i", "sigma", "sigma_next", "x"}``."""


class Denoiser(Protocol):
    """A denoiser :math:`D(x,\\sigma)`: the posterior mean of the clean data."""

    def __call__(self, x: Any, sigma: float, /) -> Any: ...


def check_network_inputs(model: object, x: Any, sigmas: Any) -> tuple[Any, FloatArray]:
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


def ode_direction(model: Denoiser, x: Any, sigma: float) -> Any:
    """:math:`dx/d\\sigma=(x-D(x,\\sigma))/\\sigma` [karras2022, Algorithm 1, line 4]."""
    return (x - model(x, sigma)) / sigma
