r"""Network samplers on a denoiser :math:`D(x,\sigma)`, and the seeded start noise.

:func:`sample_euler` (Euler = DDIM, eta = 0) and :func:`sample_heun` (EDM Heun) are the samplers'
own loops, :func:`symsched.samplers.ddim.sample` and :func:`symsched.samplers.heun.sample`, and
:data:`NETWORK_SAMPLERS` also holds DPM-Solver++(2M), :func:`symsched.samplers.dpmpp_2m.sample`
[lu2022, Algorithm 2]; they take the k-diffusion signature ``(model, x, sigmas, *,
callback=None)`` [karras2022, Algorithms 1-2], and a grid is used as given (no zero is appended).
"""

from __future__ import annotations

import numpy as np

from symsched._typing import TorchDType, TorchTensor
from symsched.models._base import ModelError
from symsched.samplers import ddim, dpmpp_2m, heun
from symsched.samplers._network import NetworkSampler, StepInfo

__all__ = ["NETWORK_SAMPLERS", "StepInfo", "sample_euler", "sample_heun", "start_noise"]

sample_euler = ddim.sample
sample_heun = heun.sample

NETWORK_SAMPLERS: dict[str, NetworkSampler] = {
    "heun": sample_heun,
    "euler": sample_euler,
    "dpmpp-2m": dpmpp_2m.sample,
}
"""The samplers that run on a network denoiser, by the name the quality runs take."""


def start_noise(
    n: int, dim: int, sigma_max: float, seed: int, *, dtype: TorchDType | None = None
) -> TorchTensor:
    r"""Seeded initial states :math:`x_0=\sigma_\text{max}\,\varepsilon` (prior draws).

    :math:`\varepsilon\sim\mathcal N(0,I_d)`: the prior of practical samplers
    (docs/conventions.md#start-conditions, ``--start prior``); float64 by default.

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
