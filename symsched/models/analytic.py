r"""Analytic denoisers: Gaussian (any diagonal spectrum), Gaussian mixtures, the empirical optimum.

All are exact Bayes denoisers :math:`D(x,\sigma)=E[y\mid y+\sigma\varepsilon=x]` (Tweedie), in
torch so that the JVP estimator can differentiate them in sigma
(docs/theory/stein.md#jvp-with-control-variates). The Gaussian and the two-point mixture also
expose their closed-form costs (docs/theory/stein.md#closed-forms) for the ``exact`` estimator.

References: [williams2024, §2.3] (Williams, Campbell, Doucet, Syed, arXiv:2412.07877) and the
closed forms of docs/theory/stein.md#closed-forms; [karras2022] (Karras et al., arXiv:2206.00364;
EDM convention). Page: docs/theory/stein.md#score-models.
"""

from __future__ import annotations

import math

import numpy as np

from symsched._typing import (
    ArrayLike,
    FloatArray,
    GridLike,
    SpectrumLike,
    TorchGenerator,
    TorchTensor,
)
from symsched._validate import as_eigenvalues, check_positive
from symsched.models._base import ModelError, ScoreModel
from symsched.stein import _closed

__all__ = ["EmpiricalModel", "GaussianMixtureModel", "GaussianModel", "symmetric_gm", "two_point"]


class GaussianModel(ScoreModel):
    r"""Data :math:`\mathcal N(0,\mathrm{diag}\,\lambda)`: :math:`D=\lambda/(\lambda+\sigma^2)\,x`.

    The denoiser acts per coordinate; the exact costs are
    :func:`symsched.stein.gaussian_interval_costs` [williams2024, §2.3]
    (docs/theory/stein.md#gaussian-data).

    Parameters
    ----------
    eigenvalues
        The data variances :math:`\lambda_i > 0` (one per coordinate).
    name
        Name in reports (default ``gaussian(d=...)``).

    Raises
    ------
    ValueError
        If an eigenvalue is not finite and > 0.
    """

    def __init__(self, eigenvalues: SpectrumLike, *, name: str | None = None) -> None:
        self.eigenvalues = as_eigenvalues(eigenvalues)
        super().__init__(
            int(self.eigenvalues.size), name=name or f"gaussian(d={self.eigenvalues.size})"
        )

    @classmethod
    def isotropic(cls, c: float, dim: int) -> GaussianModel:
        r"""Isotropic data :math:`\mathcal N(0,c^2I_d)`.

        Parameters
        ----------
        c
            Standard deviation (> 0).
        dim
            Dimension d (a positive integer).

        Returns
        -------
        GaussianModel

        Raises
        ------
        ModelError
            If ``dim`` is not a positive integer.
        ValueError
            If ``c`` is not > 0.
        """
        c = check_positive(c, "c")
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ModelError(f"dim must be a positive integer, got {dim!r}")
        return cls(np.full(int(dim), c * c), name=f"gaussian(c={c:g}, d={dim})")

    def _denoise(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor:
        import torch

        lam = torch.as_tensor(self.eigenvalues, dtype=x.dtype, device=x.device)
        return lam / (lam + sigma[:, None] ** 2) * x

    def _sample_data(self, n: int, generator: TorchGenerator | None) -> TorchTensor:
        import torch

        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return z * torch.as_tensor(np.sqrt(self.eigenvalues))

    def data_moments(self) -> tuple[FloatArray, FloatArray]:
        r"""Mean 0 and covariance :math:`\mathrm{diag}\,\lambda` (exact).

        Returns
        -------
        tuple of FloatArray
            ``(mean, covariance)``.
        """
        return np.zeros(self.dim), np.diag(self.eigenvalues)

    def exact_interval_costs(
        self, levels: GridLike, *, process: str, weight: str, reverse: bool = False
    ) -> FloatArray:
        """Exact interval costs (:func:`symsched.stein.gaussian_interval_costs`).

        Parameters
        ----------
        levels
            Descending probe grid.
        process, weight
            ``"ve"``/``"vp"`` and ``"target"``/``"source"``.
        reverse
            The reversed steps ``rho_{i+1} -> rho_i`` instead
            (docs/theory/stein.md#second-order-length-estimate).

        Returns
        -------
        FloatArray
            The ``K`` interval costs [williams2024, §2.3].
        """
        return _closed.gaussian_interval_costs(
            self.eigenvalues, levels, process=process, weight=weight, reverse=reverse
        )

    def exact_local_metric(self, rho: ArrayLike, *, process: str) -> FloatArray:
        r"""Exact local metric (:func:`symsched.stein.gaussian_local_metric`).

        Parameters
        ----------
        rho
            Noise levels.
        process
            ``"ve"`` or ``"vp"``.

        Returns
        -------
        FloatArray
            :math:`\delta_c(\rho)` [williams2024, §3.1].
        """
        return _closed.gaussian_local_metric(self.eigenvalues, rho, process=process)


class GaussianMixtureModel(ScoreModel):
    r"""Mixture :math:`\sum_k w_k\mathcal N(\mu_k,c_k^2I)` (``c_k = 0``: point masses).

    .. math:: D(x,\sigma)=\sum_k r_k(x)\Big[\mu_k+\frac{c_k^2}{c_k^2+\sigma^2}(x-\mu_k)\Big],
              \quad r_k\propto w_k\,\mathcal N(x;\mu_k,(c_k^2+\sigma^2)I).

    Parameters
    ----------
    means
        ``(K, dim)`` component means.
    weights
        ``K`` positive weights summing to 1 (default uniform).
    stds
        Component standard deviations :math:`c_k \ge 0` (a scalar or ``K`` values).
    name
        Name in reports (default ``gm(K=..., d=...)``).
    chunk
        Rows per batch of the denoiser (memory bound of the ``(batch, K)`` responsibilities).

    Raises
    ------
    ModelError
        Non-finite means, weights that are not positive or do not sum to 1, negative stds.
    """

    def __init__(
        self,
        means: ArrayLike,
        weights: ArrayLike | None = None,
        stds: ArrayLike = 0.0,
        *,
        name: str | None = None,
        chunk: int = 4096,
    ) -> None:
        mu = np.asarray(means, dtype=np.float64)
        if mu.ndim != 2 or mu.shape[0] < 1 or not np.all(np.isfinite(mu)):
            raise ModelError(f"means must be a finite (K, dim) array, got shape {mu.shape}")
        k = mu.shape[0]
        w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (k,) or np.any(w <= 0) or not math.isclose(float(w.sum()), 1.0, rel_tol=1e-9):
            raise ModelError(f"weights must be {k} positive numbers summing to 1")
        c = np.broadcast_to(np.asarray(stds, dtype=np.float64), (k,)).copy()
        if np.any(c < 0) or not np.all(np.isfinite(c)):
            raise ModelError("stds must be finite and >= 0")
        self.means, self.weights, self.stds, self._chunk = mu, w, c, int(chunk)
        super().__init__(mu.shape[1], name=name or f"gm(K={k}, d={mu.shape[1]})")

    def _denoise(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor:
        import torch

        mu = torch.as_tensor(self.means, dtype=x.dtype, device=x.device)
        c2 = torch.as_tensor(self.stds**2, dtype=x.dtype, device=x.device)
        logw = torch.as_tensor(np.log(self.weights), dtype=x.dtype, device=x.device)
        outs = []
        for i in range(0, x.shape[0], self._chunk):
            xb, sb = x[i : i + self._chunk], sigma[i : i + self._chunk]
            var = c2[None, :] + sb[:, None] ** 2  # (b, K)
            d2 = torch.cdist(xb, mu, compute_mode="donot_use_mm_for_euclid_dist") ** 2
            logits = logw[None, :] - d2 / (2 * var) - 0.5 * self.dim * torch.log(var)
            r = torch.softmax(logits, dim=1)  # responsibilities
            shrink = c2[None, :] / var  # (b, K)
            # sum_k r_k [mu_k + shrink_k (x - mu_k)] = (1 - sum r s) mu-part + (sum r s) x
            rs = r * shrink
            outs.append((r - rs) @ mu + rs.sum(1, keepdim=True) * xb)
        return torch.cat(outs)

    def _score(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor | None:
        r""":math:`\sum_k r_k(x)(\mu_k-x)/(c_k^2+\sigma^2)`: the score without the
        :math:`(D-x)/\sigma^2` cancellation, finite as :math:`\sigma\to0` when every
        :math:`c_k>0`."""
        import torch

        mu = torch.as_tensor(self.means, dtype=x.dtype, device=x.device)
        c2 = torch.as_tensor(self.stds**2, dtype=x.dtype, device=x.device)
        logw = torch.as_tensor(np.log(self.weights), dtype=x.dtype, device=x.device)
        outs = []
        for i in range(0, x.shape[0], self._chunk):
            xb, sb = x[i : i + self._chunk], sigma[i : i + self._chunk]
            var = c2[None, :] + sb[:, None] ** 2  # (b, K)
            d2 = torch.cdist(xb, mu, compute_mode="donot_use_mm_for_euclid_dist") ** 2
            logits = logw[None, :] - d2 / (2 * var) - 0.5 * self.dim * torch.log(var)
            r_over_var = torch.softmax(logits, dim=1) / var  # (b, K)
            outs.append(r_over_var @ mu - r_over_var.sum(1, keepdim=True) * xb)
        return torch.cat(outs)

    def _sample_data(self, n: int, generator: TorchGenerator | None) -> TorchTensor:
        import torch

        idx = torch.multinomial(
            torch.as_tensor(self.weights), n, replacement=True, generator=generator
        )
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return torch.as_tensor(self.means)[idx] + torch.as_tensor(self.stds)[idx, None] * z

    def data_moments(self) -> tuple[FloatArray, FloatArray]:
        """Exact mean and covariance of the mixture.

        Returns
        -------
        tuple of FloatArray
            ``(sum_k w_k mu_k, sum_k w_k (mu_k mu_k^T + c_k^2 I) - mean mean^T)``.
        """
        mean = self.weights @ self.means
        second = (self.means * self.weights[:, None]).T @ self.means + np.sum(
            self.weights * self.stds**2
        ) * np.eye(self.dim)
        return mean, second - np.outer(mean, mean)

    def _is_two_point(self) -> bool:
        return bool(
            self.dim == 1
            and self.means.shape[0] == 2
            and np.allclose(np.sort(self.means[:, 0]), [-1, 1])
            and np.allclose(self.weights, 0.5)
            and np.all(self.stds == 0)
        )

    def exact_interval_costs(
        self, levels: GridLike, *, process: str, weight: str, reverse: bool = False
    ) -> FloatArray | None:
        """Quadrature costs of the VE two-point mixture ½δ₋₁+½δ₊₁, or ``None``.

        The quadrature of docs/theory/stein.md#two-point-data [williams2024, §2.3].

        Parameters
        ----------
        levels
            Descending probe grid.
        process, weight
            ``"ve"``/``"vp"`` and ``"target"``/``"source"``.
        reverse
            The reversed steps ``rho_{i+1} -> rho_i`` instead
            (docs/theory/stein.md#second-order-length-estimate).

        Returns
        -------
        FloatArray or None
            :func:`symsched.stein.two_point_interval_costs` for the two-point mixture under VE;
            ``None`` for any other mixture or process.
        """
        if self._is_two_point() and process == "ve":
            return _closed.two_point_interval_costs(levels, weight=weight, reverse=reverse)
        return None

    def exact_local_metric(self, rho: ArrayLike, *, process: str) -> FloatArray | None:
        """Quadrature local metric of the VE two-point mixture, else ``None``.

        Parameters
        ----------
        rho
            Noise levels.
        process
            ``"ve"`` or ``"vp"``.

        Returns
        -------
        FloatArray or None
            :func:`symsched.stein.two_point_local_metric`, or ``None``.
        """
        if self._is_two_point() and process == "ve":
            return _closed.two_point_local_metric(rho)
        return None


class EmpiricalModel(GaussianMixtureModel):
    r"""The exact denoiser of an empirical dataset (the memorising optimum): point masses at rows.

    Parameters
    ----------
    data
        ``(n, dim)`` rows, each a point mass of weight ``1/n``.
    name
        Prefix of the name in reports (``name(n=...)``).
    """

    def __init__(self, data: ArrayLike, *, name: str = "empirical") -> None:
        rows = np.asarray(data, dtype=np.float64)
        super().__init__(
            rows, None, 0.0, name=f"{name}(n={rows.shape[0] if rows.ndim == 2 else '?'})", chunk=512
        )


def two_point() -> GaussianMixtureModel:
    """The 1-D mixture ½δ₋₁ + ½δ₊₁ (docs/theory/stein.md#two-point-data).

    Returns
    -------
    GaussianMixtureModel
        Two point masses at -1 and +1 (exact VE costs by quadrature).
    """
    return GaussianMixtureModel(
        np.array([[-1.0], [1.0]]), np.array([0.5, 0.5]), 0.0, name="two-point"
    )


GM_SCALE_MAX = 1e6
"""Largest mode position ``|m|`` and mode std of :func:`symmetric_gm` (the high-dimensional
mixture's range too)."""


def symmetric_gm(
    p: float = 0.8, m: float = 1.0, mode_sigma: float = 0.5, dim: int = 1
) -> GaussianMixtureModel:
    r"""The mixture :math:`p\,\mathcal N(m\mathbf 1,s^2I)+(1-p)\,\mathcal N(-m\mathbf 1,s^2I)`.

    The Gaussian mixture of [aranguri2025, §3] (docs/theory/highdim.md#gaussian-mixture) as a score
    model.

    Parameters
    ----------
    p
        Weight of the ``+`` mode, in (0, 1).
    m
        Mode offset per coordinate.
    mode_sigma
        Per-mode standard deviation ``s >= 0``.
    dim
        Dimension (a positive integer).

    Returns
    -------
    GaussianMixtureModel

    Raises
    ------
    ModelError
        If ``p`` is not below 1, ``|m|`` or ``mode_sigma`` exceeds :data:`GM_SCALE_MAX`, or
        ``dim`` is not a positive integer.
    ValueError
        If ``p`` is not > 0 or ``mode_sigma`` is negative.
    """
    p = check_positive(p, "p")
    if not p < 1:
        raise ModelError(f"p must be in (0, 1), got {p}")
    m = float(m)
    s = check_positive(mode_sigma, "mode_sigma", allow_zero=True)
    # beyond 1e6 the sampled estimators lose the offsets x - mu to cancellation (a mode at 1e200
    # reads as a cost of 0) and the squared scales leave float64 (docs/cli.md#input-range)
    if not (math.isfinite(m) and abs(m) <= GM_SCALE_MAX):
        raise ModelError(f"m must be a number in [-{GM_SCALE_MAX:g}, {GM_SCALE_MAX:g}], got {m:g}")
    if s > GM_SCALE_MAX:
        raise ModelError(f"mode_sigma must be in [0, {GM_SCALE_MAX:g}], got {s:g}")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ModelError(f"dim must be a positive integer, got {dim!r}")
    mu = np.stack([np.full(dim, m), np.full(dim, -m)])
    return GaussianMixtureModel(
        mu, np.array([p, 1 - p]), s, name=f"gm(p={p:g}, m={m:g}, s={s:g}, d={dim})"
    )
