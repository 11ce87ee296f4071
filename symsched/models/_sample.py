r"""Deterministic samplers that run a denoiser :math:`D(x,\sigma)` down a grid of noise levels.

The probability-flow ODE in the EDM (VE) scale is :math:`dx/d\sigma=(x-D(x,\sigma))/\sigma`
(Karras et al., arXiv:2206.00364, Eq. (3) with :math:`s=1`, :math:`\sigma(t)=t`). Both samplers
take the k-diffusion signature ``(model, x, sigmas, *, callback=None)`` (peers.md §2): ``x`` is the
state at ``sigmas[0]``; the result is the state at ``sigmas[-1]``. A grid is used as given
(conventions.md: no zero is appended), so with ``sigmas[-1] = sigma_min > 0`` every step is a full
Heun step. ``model`` is any :class:`~symsched.models.Denoiser`.

* :func:`sample_euler` — Euler steps [karras2022, Algorithm 2 without churn] (= DDIM, eta = 0).
* :func:`sample_heun` — Heun's 2nd-order method [karras2022, Algorithm 1]: an Euler predictor and a
  trapezoidal corrector; one step costs two denoiser evaluations, except a final step to 0, which
  is the Euler step (the corrector would divide by 0).

References
----------
.. [karras2022] T. Karras, M. Aittala, T. Aila, S. Laine, "Elucidating the Design Space of
   Diffusion-Based Generative Models", NeurIPS 2022, arXiv:2206.00364, Algorithms 1-2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

import numpy as np

from symsched._typing import FloatArray, GridLike, TorchDType, TorchTensor
from symsched._validate import as_grid
from symsched.models._base import Denoiser, ModelError

__all__ = ["StepInfo", "sample_euler", "sample_heun", "start_noise"]


class StepInfo(TypedDict):
    """What a sampler passes to its ``callback`` after each step (the k-diffusion keys)."""

    i: int
    sigma: float
    sigma_next: float
    x: TorchTensor


def _prepare(model: Denoiser, x: TorchTensor, sigmas: GridLike) -> tuple[TorchTensor, FloatArray]:
    import torch

    if not isinstance(x, torch.Tensor) or not x.is_floating_point():  # callers may pass anything
        raise TypeError(
            f"x must be a floating torch.Tensor of shape (batch, dim), got {type(x).__name__}"
        )
    sig = as_grid(sigmas, "sigmas")
    if sig.size < 2:
        raise ValueError(f"sigmas must hold at least 2 levels (one step), got {sig.size}")
    if not np.all(np.isfinite(sig)):
        raise ValueError("sigmas must be finite: start a sampler at a finite sigma_max (e.g. 80)")
    if not callable(model):
        raise TypeError(f"model must be a callable D(x, sigma), got {type(model).__name__}")
    return x, sig


def _d(model: Denoiser, x: TorchTensor, sigma: float) -> TorchTensor:
    # dx/dsigma = (x - D(x, sigma)) / sigma  [karras2022, Eq. (3), Algorithm 1 line 4]
    return (x - model(x, sigma)) / sigma


def sample_euler(
    model: Denoiser,
    x: TorchTensor,
    sigmas: GridLike,
    *,
    callback: Callable[[StepInfo], None] | None = None,
) -> TorchTensor:
    r"""Euler steps on the probability-flow ODE [karras2022, Algorithm 2, :math:`S_\text{churn}=0`].

    :math:`x_{i+1}=x_i+(\sigma_{i+1}-\sigma_i)\,(x_i-D(x_i,\sigma_i))/\sigma_i`; N denoiser
    evaluations.

    Parameters
    ----------
    model
        A denoiser ``D(x, sigma)`` (e.g. a :class:`symsched.models.ScoreModel`).
    x
        Initial state at ``sigmas[0]``, a torch tensor of shape ``(batch, dim)``.
    sigmas
        Descending finite noise levels ``[sigma_0 > ... > sigma_N >= 0]``.
    callback
        Called after each step with ``{"i", "sigma", "sigma_next", "x"}``.

    Returns
    -------
    TorchTensor
        The state at ``sigmas[-1]``.

    Raises
    ------
    TypeError
        If ``x`` is not a floating torch tensor or ``model`` is not callable.
    ValueError
        If ``sigmas`` is not a descending grid of at least 2 finite levels.
    """
    x, sig = _prepare(model, x, sigmas)
    for i in range(sig.size - 1):
        s, t = float(sig[i]), float(sig[i + 1])
        x = x + (t - s) * _d(model, x, s)
        if callback is not None:
            callback({"i": i, "sigma": s, "sigma_next": t, "x": x})
    return x


def sample_heun(
    model: Denoiser,
    x: TorchTensor,
    sigmas: GridLike,
    *,
    callback: Callable[[StepInfo], None] | None = None,
) -> TorchTensor:
    r"""Heun's 2nd-order sampler [karras2022, Algorithm 1, deterministic].

    .. math:: \tilde x=x_i+h\,d_i,\quad
       x_{i+1}=x_i+\tfrac h2\bigl(d_i+d(\tilde x,\sigma_{i+1})\bigr),
       \quad h=\sigma_{i+1}-\sigma_i,\ d(x,\sigma)=(x-D(x,\sigma))/\sigma

    with the Euler step alone when :math:`\sigma_{i+1}=0`. Two evaluations per step (2N on a grid
    ending at :math:`\sigma_\text{min}>0`).

    Parameters
    ----------
    model
        A denoiser ``D(x, sigma)`` (e.g. a :class:`symsched.models.ScoreModel`).
    x
        Initial state at ``sigmas[0]``, a torch tensor of shape ``(batch, dim)``.
    sigmas
        Descending finite noise levels ``[sigma_0 > ... > sigma_N >= 0]``.
    callback
        Called after each step with ``{"i", "sigma", "sigma_next", "x"}``.

    Returns
    -------
    TorchTensor
        The state at ``sigmas[-1]``.

    Raises
    ------
    TypeError, ValueError
        As :func:`sample_euler`.
    """
    x, sig = _prepare(model, x, sigmas)
    for i in range(sig.size - 1):
        s, t = float(sig[i]), float(sig[i + 1])
        d = _d(model, x, s)
        x_pred = x + (t - s) * d  # Algorithm 1, line 5 (Euler predictor)
        # lines 6-8: trapezoidal correction (Euler alone on a final step to sigma = 0)
        x = x + (t - s) * 0.5 * (d + _d(model, x_pred, t)) if t > 0 else x_pred
        if callback is not None:
            callback({"i": i, "sigma": s, "sigma_next": t, "x": x})
    return x


def start_noise(
    n: int, dim: int, sigma_max: float, seed: int, *, dtype: TorchDType | None = None
) -> TorchTensor:
    r"""Seeded initial states :math:`x_0=\sigma_\text{max}\,\varepsilon` (prior draws).

    :math:`\varepsilon\sim\mathcal N(0,I_d)`: the prior of practical samplers (conventions.md,
    ``--start prior``); float64 by default.

    Parameters
    ----------
    n
        Number of states (a positive integer).
    dim
        Dimension d.
    sigma_max
        The starting noise level (finite, > 0).
    seed
        Seed of the torch generator.
    dtype
        torch dtype (default ``torch.float64``).

    Returns
    -------
    TorchTensor
        ``(n, dim)`` states.

    Raises
    ------
    ModelError
        If ``n`` is not a positive integer.
    ValueError
        If ``sigma_max`` is not finite and > 0.
    """
    import torch

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ModelError(f"samples must be a positive integer, got {n!r}")
    if not (np.isfinite(sigma_max) and sigma_max > 0):
        raise ValueError(f"sigma_max must be finite and > 0, got {sigma_max}")
    gen = torch.Generator().manual_seed(int(seed))
    return float(sigma_max) * torch.randn(
        int(n), int(dim), generator=gen, dtype=dtype or torch.float64
    )
