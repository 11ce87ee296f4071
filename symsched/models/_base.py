r"""Score-model interface in the EDM convention: a denoiser :math:`D(x,\sigma)`, validated inputs.

Every model sees states in the VE scale :math:`x = y + \sigma\varepsilon` (EDM, k-diffusion; VP
networks are wrapped, :mod:`.adapters`) and returns :math:`\hat y = D(x,\sigma)\approx E[y\mid x]`.
The score is :math:`(D-x)/\sigma^2` (docs/theory/stein.md#score-models). Inputs are checked here
once for every adapter: shape ``(batch, dim)``, floating dtype, finite positive sigma inside the
range the model was built or trained for, and finite outputs.

:class:`Denoiser` is the structural type of what the samplers call: anything ``D(x, sigma)``.

References: [williams2024, §3] (Williams, Campbell, Doucet, Syed, arXiv:2412.07877; score
evaluations only); [karras2022, §2, Eq. (3)] (Karras et al., arXiv:2206.00364; the denoiser
convention).
"""

from __future__ import annotations

import math

import numpy as np

from symsched._typing import ArrayLike, FloatArray, GridLike, RowsLike, TorchGenerator, TorchTensor
from symsched.samplers._network import Denoiser

__all__ = ["Denoiser", "ModelError", "ScoreModel", "ScoreOverflowError"]


class ModelError(ValueError):
    """A model that cannot be used as asked: bad inputs, NaN outputs, missing data, bad weights."""


class ScoreOverflowError(ModelError):
    r"""The score at a noise level overflows float64 (a level too small for :math:`1/\sigma^2`)."""


class ScoreModel:
    r"""Base class: subclasses implement :meth:`_denoise` (torch, ``(batch, dim)`` x ``(batch,)``).

    Parameters
    ----------
    dim
        Data dimension d (a positive integer).
    name
        Short description used in reports and JSON ``params``.
    sigma_range
        ``(lo, hi)`` noise levels the model is valid for, ``0 <= lo < hi`` (``(0, inf)`` for
        analytic models).
    data
        Optional rows ``(n, dim)`` of the data distribution (numpy or torch), resampled by
        :meth:`sample_data` for the Monte Carlo and JVP estimators.

    Attributes
    ----------
    dim
        Data dimension d.
    sigma_range
        ``(lo, hi)`` noise levels the model is valid for (``(0, inf)`` for analytic models).
    name
        Short description used in reports and JSON ``params``.

    Raises
    ------
    ModelError
        If ``dim`` is not a positive integer, ``sigma_range`` is not ordered, or ``data`` is not
        finite rows of width ``dim``.
    """

    dim: int
    sigma_range: tuple[float, float] = (0.0, math.inf)
    name: str = "model"
    default_sigma_range: tuple[float, float] = (0.002, 80.0)

    def __init__(
        self,
        dim: int,
        *,
        name: str,
        sigma_range: tuple[float, float] = (0.0, math.inf),
        data: RowsLike | None = None,
    ) -> None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ModelError(f"dim must be a positive integer, got {dim!r}")
        self.dim = int(dim)
        self.name = name
        lo, hi = float(sigma_range[0]), float(sigma_range[1])
        if not (0 <= lo < hi):
            raise ModelError(f"sigma_range must satisfy 0 <= lo < hi, got {sigma_range}")
        self.sigma_range = (lo, hi)
        self._data = None if data is None else _as_rows(data, self.dim, "data")

    # -- the part subclasses provide --------------------------------------------------------------
    def _denoise(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor:
        raise NotImplementedError  # pragma: no cover - abstract

    def _sample_data(self, n: int, generator: TorchGenerator | None) -> TorchTensor:
        """``n`` rows y ~ data (torch float64). Default: resample the rows given as ``data``."""
        import torch

        if self._data is None:
            raise ModelError(
                f"{self.name}: Monte Carlo and JVP estimators need data samples to noise; "
                "give rows of the training set: --data FILE (.npy or .pt) on the command line, "
                "data=... to the adapter in Python"
            )
        idx = torch.randint(0, self._data.shape[0], (n,), generator=generator)
        return torch.as_tensor(self._data, dtype=torch.float64)[idx]

    def exact_interval_costs(
        self, levels: GridLike, *, process: str, weight: str, reverse: bool = False
    ) -> FloatArray | None:
        r"""Closed-form or quadrature interval costs, or ``None`` when the model has none.

        Parameters
        ----------
        levels
            Descending probe grid ``[rho_0 > ... > rho_K]``.
        process, weight
            ``"ve"``/``"vp"`` and ``"target"``/``"source"`` (see
            :func:`symsched.stein.estimate_costs`).
        reverse
            The costs of the reversed steps :math:`\rho_{i+1}\to\rho_i` instead (the backward half
            of the symmetric length estimate, docs/theory/stein.md#second-order-length-estimate).

        Returns
        -------
        FloatArray or None
            The ``K`` costs :math:`\mathcal L_c(\rho_i\to\rho_{i+1})` [williams2024, §2.3], or
            ``None`` (the base class has no closed form).
        """
        return None

    def data_moments(self) -> tuple[FloatArray, FloatArray] | None:
        """Exact mean and covariance of the data distribution that is noised (``None`` if unknown).

        For a model given data rows this is the empirical distribution of those rows, which is what
        the estimators noise, so the Gaussian control variate built on it stays unbiased.

        Returns
        -------
        tuple of FloatArray or None
            ``(mean (dim,), covariance (dim, dim))`` (population covariance of the rows).
        """
        if self._data is None:
            return None
        cov = np.cov(self._data, rowvar=False, bias=True).reshape(self.dim, self.dim)
        return self._data.mean(axis=0), cov

    def exact_local_metric(self, rho: ArrayLike, *, process: str) -> FloatArray | None:
        r"""Closed-form local metric with respect to ``rho``, or ``None``.

        Parameters
        ----------
        rho
            Noise levels.
        process
            ``"ve"`` or ``"vp"``.

        Returns
        -------
        FloatArray or None
            :math:`\delta_c(\rho)` [williams2024, §3.1], or ``None`` (no closed form).
        """
        return None

    # -- validated public entry points ------------------------------------------------------------
    def sample_data(self, n: int, generator: TorchGenerator | None = None) -> TorchTensor:
        """``n`` data rows, torch float64 of shape ``(n, dim)``.

        Parameters
        ----------
        n
            Number of rows (a positive integer).
        generator
            Torch generator (default: torch's global one).

        Returns
        -------
        TorchTensor
            ``(n, dim)`` float64 rows.

        Raises
        ------
        ModelError
            If ``n`` is not a positive integer, or the model has no data to draw from.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ModelError(f"samples must be a positive integer, got {n!r}")
        out = self._sample_data(int(n), generator)
        if tuple(out.shape) != (n, self.dim):  # pragma: no cover - subclass bug
            raise ModelError(
                f"{self.name}: sample_data returned shape {tuple(out.shape)}, "
                f"expected {(n, self.dim)}"
            )
        return out

    def check_sigma(self, sigma: ArrayLike | TorchTensor) -> None:
        """Check noise levels against the model.

        Parameters
        ----------
        sigma
            Noise levels (any shape; empty passes).

        Raises
        ------
        ModelError
            If a level is not finite, not > 0, or outside ``sigma_range``.
        """
        if type(sigma).__module__.split(".")[0] == "torch":  # tensors (duals under a JVP too)
            import torch

            ts = sigma.detach()  # type: ignore[union-attr]
            if ts.numel() == 0:
                return
            ok = bool(torch.isfinite(ts).all()) and not bool((ts <= 0).any())
            smin, smax = float(ts.min()), float(ts.max())
        else:  # numpy: closed-form models are checked without torch
            s = np.asarray(sigma, dtype=np.float64)
            if s.size == 0:
                return
            ok = bool(np.isfinite(s).all()) and not bool((s <= 0).any())
            smin, smax = float(s.min()), float(s.max())
        if not ok:
            raise ModelError(
                f"{self.name}: sigma must be finite and > 0, got min {smin}, max {smax}"
            )
        lo, hi = self.sigma_range
        if smin < lo * (1 - 1e-9) or smax > hi * (1 + 1e-9):
            raise ModelError(
                f"{self.name}: sigma in [{smin:g}, {smax:g}] is outside the range [{lo:g}, {hi:g}] "
                "the model was trained on; choose --sigma-min/--sigma-max inside it"
            )

    def __call__(self, x: TorchTensor, sigma: ArrayLike | TorchTensor) -> TorchTensor:
        r"""Validated denoiser :math:`D(x,\sigma)` [karras2022, §2].

        Parameters
        ----------
        x
            States, a floating torch tensor of shape ``(batch, dim)``.
        sigma
            A scalar noise level or one per row, shape ``(batch,)``.

        Returns
        -------
        TorchTensor
            The denoised states, shape ``(batch, dim)``, finite.

        Raises
        ------
        TypeError
            If ``x`` is not a floating torch tensor.
        ModelError
            Wrong shapes, invalid noise levels (:meth:`check_sigma`) or non-finite outputs.
        """
        sig = self._checked_inputs(x, sigma)
        out = self._denoise(x, sig)
        if tuple(out.shape) != tuple(x.shape):
            raise ModelError(
                f"{self.name}: the model returned shape {tuple(out.shape)} "
                f"for input {tuple(x.shape)}"
            )
        self._check_finite(out, sig, "the model returned NaN/inf", ModelError)
        return out

    def _check_finite(
        self, out: TorchTensor, sig: TorchTensor, what: str, error: type[ModelError]
    ) -> None:
        import torch

        finite = torch.isfinite(out.detach())
        if not bool(finite.all()):
            bad = sig.detach()[~finite.all(dim=1)]
            raise error(f"{self.name}: {what} at sigma = {float(bad[0]):g}")

    def _checked_inputs(self, x: TorchTensor, sigma: ArrayLike | TorchTensor) -> TorchTensor:
        """Validate ``x`` and ``sigma`` as :meth:`__call__` documents; one level per row."""
        import torch

        _require_float_tensor(x, self.dim)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ModelError(
                f"{self.name}: x must have shape (batch, {self.dim}), got {tuple(x.shape)}"
            )
        sig = (
            sigma
            if isinstance(sigma, torch.Tensor)
            else torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        )
        if sig.ndim == 0:
            sig = sig.expand(x.shape[0])
        if sig.shape != (x.shape[0],):
            raise ModelError(
                f"{self.name}: sigma must be a scalar or shape ({x.shape[0]},), "
                f"got {tuple(sig.shape)}"
            )
        self.check_sigma(sig)
        return sig

    def score(self, x: TorchTensor, sigma: ArrayLike | TorchTensor) -> TorchTensor:
        r"""Score :math:`\nabla\log p_\sigma(x)=(D(x,\sigma)-x)/\sigma^2` [karras2022, Eq. (3)].

        See docs/theory/stein.md#score-models.

        Parameters
        ----------
        x
            States ``(batch, dim)``.
        sigma
            A scalar noise level or one per row.

        Returns
        -------
        TorchTensor
            The score, shape ``(batch, dim)``, finite.

        Raises
        ------
        ModelError
            As :meth:`__call__`; :class:`ScoreOverflowError` if the score overflows float64 (at
            levels so small that
            :math:`1/\sigma^2` does).
        """
        sig = self._checked_inputs(x, sigma)
        out = self._score(x, sig)
        if out is None:
            out = (self(x, sig) - x) / sig[:, None] ** 2
        self._check_finite(out, sig, "the score overflows float64", ScoreOverflowError)
        return out

    def _score(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor | None:
        """A stable closed form of the score, where a subclass has one (default: ``None``, the
        score is formed from the denoiser); inputs are already checked."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim} sigma_range={self.sigma_range}>"


def _require_float_tensor(x: object, dim: int) -> None:
    """Raise ``TypeError`` unless ``x`` is a floating torch tensor (callers may pass anything)."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of shape (batch, {dim}), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must have a floating dtype, got {x.dtype}")


def _as_rows(data: RowsLike, dim: int, name: str) -> FloatArray:
    arr = np.asarray(
        data.detach().cpu().numpy() if hasattr(data, "detach") else data, dtype=np.float64
    )
    if arr.ndim != 2 or arr.shape[1] != dim or arr.shape[0] < 1:
        raise ModelError(f"{name} must be rows of shape (n, {dim}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ModelError(f"{name} must be finite")
    return arr
