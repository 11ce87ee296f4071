r"""The Curie–Weiss model: exact finite-d law, exact sampler, two-mode and exact denoisers.

``mu(s) ∝ exp(beta/(2d) (sum s_i)^2 + (h/d) sum s_i)``, ``s in {-1, +1}^d``,
``h = (1/2) log(p/(1-p))`` (docs/theory/highdim.md#curie-weiss-model; the field scaling is
inferred from the authors' code). The spins are embedded in ``R^d`` and noised by the interpolant
``c (1 - tau) z + tau a`` (docs/theory/highdim.md#curie-weiss-model). The likelihood of ``s``
given ``x`` is ``∝ exp(sum_i y_i s_i)`` with ``y_i = tau x_i / (c^2 (1 - tau)^2)``
(docs/theory/highdim.md#curie-weiss-denoisers).

* :func:`exact_law` — enumeration of the magnetisation ``M = (2K - d)/d`` (log-space binomials),
  exact mode weight ``P(M > 0) + P(M = 0)/2`` and exact targets of every measured statistic.
* :func:`sample_exact` — exact sampler: ``K`` from the enumerated law, then a random subset.
* :func:`denoiser_two_mode` — the two-mode (low-temperature, ``beta > 1``) denoiser
  (docs/theory/highdim.md#two-mode-denoiser),
  computed in log space with a log-sum-exp; numpy or torch.
* :func:`denoiser_hs` — the exact denoiser for any ``d`` by Hubbard–Stratonovich quadrature
  (docs/theory/highdim.md#exact-denoiser-by-hubbard-stratonovich).

References: [aranguri2025, §4] (docs/theory/highdim.md#curie-weiss-model); [biroli2023]
(Biroli & Mézard 2023, arXiv 2306.03518).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast, overload

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, gammaln, logsumexp

from symsched._typing import ArrayLike, FloatArray, JSONDict, TorchTensor
from symsched._validate import check_positive
from symsched.highdim.gm import check_dim, check_weight

if TYPE_CHECKING:
    import torch

__all__ = [
    "CWLaw",
    "CurieWeiss",
    "denoiser_hs",
    "denoiser_two_mode",
    "exact_law",
    "local_field",
    "magnetization",
    "sample_exact",
    "two_mode_law",
]


def magnetization(beta: float) -> float:
    """Spontaneous magnetisation: the positive root of ``m = tanh(beta m)``.

    See docs/theory/highdim.md#curie-weiss-model.

    Parameters
    ----------
    beta
        Inverse temperature (> 0).

    Returns
    -------
    float
        ``m(beta)``, 0 when ``beta <= 1``.
    """
    beta = check_positive(beta, "beta")
    if beta <= 1:
        return 0.0
    return float(brentq(lambda x: math.tanh(beta * x) - x, 1e-12, 1.0, xtol=1e-15, rtol=1e-15))


@dataclass(frozen=True)
class CurieWeiss:
    """Curie–Weiss model [aranguri2025, §4] (docs/theory/highdim.md#curie-weiss-model).

    Parameters
    ----------
    beta
        Inverse temperature (> 0; the two-mode denoiser needs ``beta > 1``).
    p
        Mode weight in (0, 1); the field is ``h = (1/2) log(p / (1 - p))``.
    dim
        Dimension ``d >= 1``.
    """

    beta: float = 2.0
    p: float = 0.8
    dim: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "beta", check_positive(self.beta, "beta"))
        object.__setattr__(self, "p", check_weight(self.p, "p"))
        object.__setattr__(self, "dim", check_dim(self.dim))

    @property
    def h(self) -> float:
        """The field ``h = (1/2) log(p / (1 - p))``."""
        return 0.5 * (math.log(self.p) - math.log1p(-self.p))

    @property
    def m(self) -> float:
        """Spontaneous magnetisation ``m(beta)``."""
        return magnetization(self.beta)

    @property
    def w_plus(self) -> float:
        """Two-mode weight ``W+ = 1 / (1 + e^{-2 h m})``: the target of ``P(M > 0)``.

        See docs/theory/highdim.md#curie-weiss-model.
        """
        return float(expit(2 * self.h * self.m))

    def require_low_temperature(self) -> None:
        """The two-mode approximation needs ``beta > 1`` (two ordered states).

        Raises
        ------
        ValueError
            If ``beta <= 1``.
        """
        if not self.beta > 1:
            raise ValueError(
                f"beta must be > 1 for the two-mode Curie-Weiss approximation: it only holds at "
                f"low temperature, where m = tanh(beta m) has a positive root; "
                f"got beta = {self.beta:g}"
            )

    def params(self) -> JSONDict:
        """The model's parameters for JSON ``params``.

        Returns
        -------
        JSONDict
            ``beta``, ``p``, ``dim``, ``m`` and ``w_plus``.
        """
        return {"beta": self.beta, "p": self.p, "dim": self.dim, "m": self.m, "w_plus": self.w_plus}


@dataclass(frozen=True)
class CWLaw:
    """Exact finite-d law of ``K = #{s_i = +1}`` and the exact targets of the measured statistics.

    Parameters
    ----------
    log_weights
        Normalised ``log P(K)``, ``K = 0 .. d``.
    mode_fraction
        ``P(M > 0) + P(M = 0) / 2``.
    abs_magnetization
        ``E|M|``.
    minority_fraction
        ``E[(1 - |M|) / 2]``.
    within_var
        ``E[1 - M^2]`` (population variance of the coordinates).
    """

    log_weights: FloatArray  # normalised log P(K), K = 0 .. d
    mode_fraction: float  # P(M > 0) + P(M = 0) / 2
    abs_magnetization: float  # E|M|
    minority_fraction: float  # E[(1 - |M|) / 2]
    within_var: float  # E[1 - M^2] (population variance of the coordinates)

    @property
    def probabilities(self) -> FloatArray:
        """``P(K)``, ``K = 0 .. d``."""
        out: FloatArray = np.exp(self.log_weights)
        return out


def exact_law(model: CurieWeiss) -> CWLaw:
    r"""The exact finite-d law of the CW, by enumeration of ``K`` in log space.

    ``P(K) ∝ C(d, K) exp(beta (2K - d)^2 / (2d) + h (2K - d) / d)`` [aranguri2025, §4.1]
    (docs/theory/highdim.md#curie-weiss-model).

    Parameters
    ----------
    model
        The Curie–Weiss model.

    Returns
    -------
    CWLaw
    """
    d = model.dim
    k = np.arange(d + 1, dtype=np.float64)
    mag = (2 * k - d) / d
    logw = (
        gammaln(d + 1)
        - gammaln(k + 1)
        - gammaln(d - k + 1)
        + model.beta * d * mag**2 / 2
        + model.h * mag
    )
    logw -= logsumexp(logw)
    prob = np.exp(logw)
    frac = float(prob[mag > 0].sum() + 0.5 * prob[mag == 0].sum())
    return CWLaw(
        logw,
        frac,
        float(prob @ np.abs(mag)),
        float(prob @ ((1 - np.abs(mag)) / 2)),
        float(prob @ (1 - mag**2)),
    )


def two_mode_law(model: CurieWeiss) -> CWLaw:
    r"""Exact finite-d law of the two-mode approximation, what the two-mode denoiser targets.

    The two-mode law of docs/theory/highdim.md#curie-weiss-model.

    A mixture with weights ``W+-`` of product measures whose spins have mean ``+-m``: in the ``+``
    mode ``K ~ Binomial(d, (1 + m)/2)``. Converges to :func:`exact_law` as ``d`` grows.

    Parameters
    ----------
    model
        The Curie–Weiss model (``beta > 1``).

    Returns
    -------
    CWLaw

    Raises
    ------
    ValueError
        If ``beta <= 1``.
    """
    model.require_low_temperature()
    d = model.dim
    k = np.arange(d + 1, dtype=np.float64)
    mag = (2 * k - d) / d
    q = (1 + model.m) / 2
    log_binom = gammaln(d + 1) - gammaln(k + 1) - gammaln(d - k + 1)
    log_plus = log_binom + k * math.log(q) + (d - k) * math.log1p(-q)
    log_minus = log_plus[::-1]
    logw = np.logaddexp(math.log(model.w_plus) + log_plus, math.log1p(-model.w_plus) + log_minus)
    logw -= logsumexp(logw)
    prob = np.exp(logw)
    frac = float(prob[mag > 0].sum() + 0.5 * prob[mag == 0].sum())
    return CWLaw(
        logw,
        frac,
        float(prob @ np.abs(mag)),
        float(prob @ ((1 - np.abs(mag)) / 2)),
        float(prob @ (1 - mag**2)),
    )


def sample_exact(
    model: CurieWeiss, samples: int, rng: np.random.Generator, law: CWLaw | None = None
) -> FloatArray:
    """Exact samples of ``+-1`` spins: ``K`` from :func:`exact_law`, then a random subset.

    Parameters
    ----------
    model
        The Curie–Weiss model.
    samples
        Number of samples.
    rng
        numpy generator.
    law
        The law of ``K`` to draw from (default :func:`exact_law`; :func:`two_mode_law` gives
        samples of the two-mode approximation, the law the two-mode denoiser targets).

    Returns
    -------
    FloatArray
        ``(samples, d)`` spins.
    """
    law = exact_law(model) if law is None else law
    d = model.dim
    ks = rng.choice(d + 1, size=int(samples), p=law.probabilities / law.probabilities.sum())
    u = rng.random((int(samples), d))
    # the K smallest of d iid uniforms form a uniformly random K-subset
    ranks = np.argsort(np.argsort(u, axis=1), axis=1)
    out: FloatArray = np.where(ranks < ks[:, None], 1.0, -1.0)
    return out


@overload
def local_field(x: TorchTensor, tau: float, alpha: float, c_value: float) -> TorchTensor: ...
@overload
def local_field(x: FloatArray, tau: float, alpha: float, c_value: float) -> FloatArray: ...
def local_field(
    x: FloatArray | TorchTensor, tau: float, alpha: float, c_value: float
) -> FloatArray | TorchTensor:
    """The CW local field ``y = tau x / (c^2 alpha^2)`` (the code's ``x * b_over_a(t)``).

    See docs/theory/highdim.md#curie-weiss-denoisers.

    Parameters
    ----------
    x
        States (numpy or torch).
    tau, alpha
        Interpolant time and its complement ``alpha = 1 - tau > 0``.
    c_value
        Noise scale ``c``.

    Returns
    -------
    FloatArray or TorchTensor
        ``y``, same type and shape as ``x``.
    """
    return x * (tau / (c_value**2 * alpha**2))


@overload
def denoiser_two_mode(
    model: CurieWeiss,
    x: TorchTensor,
    tau: float | TorchTensor,
    alpha: float | TorchTensor,
    c_value: float,
) -> TorchTensor: ...
@overload
def denoiser_two_mode(
    model: CurieWeiss, x: FloatArray, tau: float, alpha: float, c_value: float
) -> FloatArray: ...
def denoiser_two_mode(
    model: CurieWeiss,
    x: FloatArray | TorchTensor,
    tau: float | TorchTensor,
    alpha: float | TorchTensor,
    c_value: float,
) -> FloatArray | TorchTensor:
    r"""Two-mode CW denoiser ``E[a | I_tau = x]`` in log space.

    See docs/theory/highdim.md#two-mode-denoiser.

    .. math::
        \eta_i = w_+ \tanh(\beta m + y_i) + (1 - w_+)\tanh(y_i - \beta m),\quad
        w_+ = \operatorname{sigmoid}\big(2hm + \textstyle\sum_i[\log(1 + m\tanh y_i)
        - \log(1 - m\tanh y_i)]\big)

    Computed from ``t = tanh(y)`` only: ``log(1 + m t) - log(1 - m t) = 2 atanh(m t)`` and, because
    ``tanh(beta m) = m``, ``tanh(y +- beta m) = (t +- m) / (1 +- m t)``, so with ``g = 2 w+ - 1 =
    tanh(logit / 2)`` the two terms combine into one fraction (``m < 1``: no cancellation in the
    denominator; ``1 - t^2`` carries an absolute error ~eps, multiplied by at most
    ``m / (1 - m^2)``):

    .. math::
        \eta_i = \frac{(1 - m^2)\, t_i + g\, m\, (1 - t_i^2)}{1 - m^2 t_i^2}.

    The mode weight is a tanh of the log-odds (no overflow: an exact log-sum-exp of two terms).

    Parameters
    ----------
    model
        The Curie–Weiss model (``beta > 1``).
    x
        States ``(batch, d)``, numpy or torch (the torch path works in place on temporaries).
    tau, alpha
        Interpolant time and ``alpha = 1 - tau > 0`` (torch path: also tensors that broadcast
        against ``x``, e.g. one level per row of shape ``(batch, 1)``).
    c_value
        Noise scale ``c``.

    Returns
    -------
    FloatArray or TorchTensor
        The denoised states, same type and shape as ``x``.

    Raises
    ------
    ValueError
        If ``beta <= 1``.
    """
    model.require_low_temperature()
    mm = model.m
    scale = tau / (c_value**2 * alpha**2)  # y = scale * x  (local_field)
    if type(x).__module__.startswith("torch"):
        import torch

        t = torch.mul(cast("torch.Tensor", x), scale).tanh_()
        logit = 2 * model.h * mm + 2 * torch.atanh(t * mm).sum(-1, keepdim=True)
        g = torch.tanh(0.5 * logit)
        t2 = t * t
        den = t2.mul(-(mm**2)).add_(1.0)
        num = t2.mul_(-1.0).add_(1.0).mul_(g * mm).add_(t, alpha=1 - mm**2)
        return num.div_(den)
    tn = np.tanh(np.multiply(x, scale))
    logit_n = 2 * model.h * mm + 2 * np.arctanh(mm * tn).sum(-1, keepdims=True)
    gn = np.tanh(0.5 * logit_n)
    tn2 = tn * tn
    out: FloatArray = ((1 - mm**2) * tn + gn * mm * (1 - tn2)) / (1 - mm**2 * tn2)
    return out


def denoiser_hs(
    model: CurieWeiss,
    x: ArrayLike,
    tau: float,
    alpha: float,
    c_value: float,
    grid: int = 4001,
    span: float = 4.0,
) -> FloatArray:
    r"""Exact CW denoiser by Hubbard–Stratonovich quadrature, any ``beta > 0``.

    See docs/theory/highdim.md#exact-denoiser-by-hubbard-stratonovich.

    ``eta_i = ∫ w(lam) tanh(lam + y_i) / ∫ w`` with
    ``log w = -d (lam - h/d)^2 / (2 beta) + sum_i log cosh(lam + y_i)``
    on a uniform ``lam`` grid of ``grid`` points on ``[-span, span]`` (trapezoid; the integrand is
    smooth and negligible at the ends for ``|y| <~ span``).

    Parameters
    ----------
    model
        The Curie–Weiss model.
    x
        States ``(batch, d)`` (numpy).
    tau, alpha
        Interpolant time and ``alpha = 1 - tau > 0``.
    c_value
        Noise scale ``c``.
    grid, span
        Quadrature points and half-width of the ``lam`` grid.

    Returns
    -------
    FloatArray
        The denoised states ``(batch, d)``.
    """
    xa: FloatArray = np.atleast_2d(np.asarray(x, dtype=np.float64))
    d = xa.shape[1]
    lam = np.linspace(-span, span, int(grid))
    y = local_field(xa, tau, alpha, c_value)
    out = np.empty_like(xa)
    for i in range(xa.shape[0]):
        z = lam[:, None] + y[i][None, :]  # (grid, d)
        logcosh = np.logaddexp(z, -z) - math.log(2.0)
        logw = -d * (lam - model.h / d) ** 2 / (2 * model.beta) + logcosh.sum(1)
        w = np.exp(logw - logw.max())
        out[i] = (w @ np.tanh(z)) / w.sum()
    return out
