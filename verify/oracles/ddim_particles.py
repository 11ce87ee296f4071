r"""Particle samplers: DDIM with the exact denoiser in full matrix form — the Monte Carlo oracle.

Written from the textbook definitions, independently of :mod:`symsched.gaussian.derive`: the VP
state :math:`x_t=\sqrt{\bar\alpha}x_0+\sqrt{1-\bar\alpha}\epsilon`, the exact posterior means
obtained by Gaussian conditioning,

.. math:: \hat x_0 = \sqrt{\bar\alpha}\,\Sigma\,(\bar\alpha\Sigma+(1-\bar\alpha)I)^{-1}x,\qquad
          \hat\epsilon = \sqrt{1-\bar\alpha}\,(\bar\alpha\Sigma+(1-\bar\alpha)I)^{-1}x,

and the DDIM (eta = 0) update :math:`x'=\sqrt{\bar\alpha'}\hat x_0+\sqrt{1-\bar\alpha'}\hat\epsilon`
[song2021, Eq. (12)]. Linear solves use the full covariance matrix (no eigendecomposition).
Noise levels enter only through :math:`\bar\alpha=1/(1+\rho^2)`, with :math:`\bar\alpha=0` at
:math:`\rho=\infty`. The output is returned in the scaled variable :math:`\bar x=x/\alpha`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from symsched._validate import as_grid, check_choice, check_steps

__all__ = ["ParticleResult", "covariance_stderr", "ddim_particles"]


@dataclass(frozen=True)
class ParticleResult:
    """Output particles (scaled :math:`\\bar x_N`, shape ``(n, D)``) and their sample covariance."""

    samples: NDArray[np.float64]
    covariance: NDArray[np.float64]
    stderr: NDArray[np.float64]


def covariance_stderr(
    samples: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Sample covariance (known zero mean) and the standard error of each entry.

    Entry :math:`(i,j)` is the mean of :math:`x_ix_j` over particles; its standard error is the
    sample standard deviation of :math:`x_ix_j` over :math:`\sqrt n` (CLT).
    """
    n = samples.shape[0]
    prods = samples[:, :, None] * samples[:, None, :]
    cov = prods.mean(0)
    se = prods.std(0, ddof=1) / math.sqrt(n)
    return cov, se


def ddim_particles(
    covariance: Any,
    sigmas: Any,
    n: int,
    *,
    start: str = "exact",
    seed: int = 0,
    backend: str = "numpy",
    batch: int = 200_000,
) -> ParticleResult:
    """Run DDIM with the exact full-matrix denoiser on ``n`` particles.

    Parameters
    ----------
    covariance
        SPD source covariance :math:`\\Sigma`, shape ``(D, D)``.
    sigmas
        Noise-level grid, descending; ``sigmas[0]`` may be ``inf``.
    n
        Number of particles.
    start
        ``"exact"``: :math:`x_{t_0}` from the true marginal; ``"prior"``: from
        :math:`\\mathcal N(0,(1-\\bar\\alpha_0)I)` (i.e. :math:`\\bar x\\sim\\mathcal
        N(0,\\sigma_0^2I)`).
    seed
        Seed of the particle noise.
    backend
        ``"numpy"`` or ``"torch"`` (float64, CPU).
    """
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"covariance must be square, got shape {cov.shape}")
    sig = as_grid(sigmas)
    n = check_steps(n, "n", minimum=2)
    check_choice(start, "start", ("exact", "prior"))
    check_choice(backend, "backend", ("numpy", "torch"))
    dim = cov.shape[0]
    alpha_bar = np.array([0.0 if math.isinf(s) else 1.0 / (1.0 + s * s) for s in sig])
    chol = np.linalg.cholesky(cov)
    rng = np.random.default_rng(seed)
    outs = []
    for i0 in range(0, n, batch):
        m = min(batch, n - i0)
        eps = rng.standard_normal((m, dim))
        ab0 = alpha_bar[0]
        if start == "exact":
            x0 = rng.standard_normal((m, dim)) @ chol.T
            x = math.sqrt(ab0) * x0 + math.sqrt(1 - ab0) * eps
        else:
            x = math.sqrt(1 - ab0) * eps
        x = _run(x, cov, alpha_bar, backend)
        outs.append(x / math.sqrt(alpha_bar[-1]))
    samples = np.concatenate(outs)
    cov_hat, se = covariance_stderr(samples)
    return ParticleResult(samples, cov_hat, se)


def _run(
    x: NDArray[np.float64], cov: NDArray[np.float64], alpha_bar: NDArray[np.float64], backend: str
) -> NDArray[np.float64]:
    dim = cov.shape[0]
    eye = np.eye(dim)
    if backend == "torch":
        import torch

        xt = torch.as_tensor(x, dtype=torch.float64)
        cov_t = torch.as_tensor(cov, dtype=torch.float64)
        eye_t = torch.eye(dim, dtype=torch.float64)
        for k in range(1, alpha_bar.size):
            ab, ab_next = float(alpha_bar[k - 1]), float(alpha_bar[k])
            m = ab * cov_t + (1 - ab) * eye_t
            sol = torch.linalg.solve(m, xt.T).T  # (ab Sigma + (1-ab) I)^-1 x
            x0_hat = math.sqrt(ab) * sol @ cov_t
            eps_hat = math.sqrt(1 - ab) * sol
            xt = math.sqrt(ab_next) * x0_hat + math.sqrt(1 - ab_next) * eps_hat
        return xt.numpy()
    for k in range(1, alpha_bar.size):
        ab, ab_next = alpha_bar[k - 1], alpha_bar[k]
        m = ab * cov + (1 - ab) * eye
        sol = np.linalg.solve(m, x.T).T
        x0_hat = math.sqrt(ab) * sol @ cov  # Sigma symmetric
        eps_hat = math.sqrt(1 - ab) * sol
        x = math.sqrt(ab_next) * x0_hat + math.sqrt(1 - ab_next) * eps_hat
    return x
