r"""The GM and Curie–Weiss models in the noise-level (EDM) scale, run by any network sampler.

In the noise-level scale (docs/conventions.md#noise-level) the interpolant
``c (1 - tau) z + tau a`` is ``xbar = x / tau = a + rho z`` with ``rho = c (1 - tau) / tau``, and
its denoiser ``D(xbar, rho) = E[a | xbar]`` is what the samplers of :mod:`symsched.samplers` run
on (``sample(model, x, sigmas)``, [karras2022]); so the Euler-only simulators of
:mod:`symsched.highdim.simulate` extend to Heun, DPM-Solver++(2M) and every other network sampler
without a second copy of any update rule (docs/theory/highdim.md#scalar-reduction).

* :class:`GMReducedDenoiser` — the GM denoiser on the exact two-coordinate reduction
  ``x = (u / sqrt d) 1 + w e`` (``e`` a fixed unit vector orthogonal to ``1``): the denoiser is
  ``A x + B m 1 tanh(h + K S)`` [aranguri2025, §3], so every sampler step, a linear combination
  of states and denoiser outputs, keeps that form, and ``(u, w)`` evolve exactly, for any ``d``.
* :func:`gm_sampler_features` — the two GM features (docs/theory/highdim.md#two-features) of a
  grid under a sampler, without Monte Carlo: the within-sample spread is the deterministic
  growth of ``w``, and ``P(M > 0)`` the Gaussian measure of the starts whose ``u_N > 0``
  (bracketed on a node grid and bisected; no monotonicity is assumed).
* :class:`CurieWeissModel` — the two-mode CW denoiser as a
  :class:`~symsched.models.ScoreModel` (docs/theory/highdim.md#two-mode-denoiser); local field
  ``y = xbar / rho^2``.
* :func:`cw_sampler_run` — the full CW simulation under any sampler, as a
  :class:`~symsched.highdim.simulate.CWRun`.
* :func:`gm_spectrum`, :func:`cw_spectrum` — the covariance spectra of the two laws (the
  Gaussian proxies of docs/theory/coupling.md#transfer-beyond-the-gaussian).

References: [aranguri2025, §3-§4] (Aranguri, Biroli, Mézard, Vanden-Eijnden, arXiv:2501.00988);
[karras2022] (Karras et al., arXiv:2206.00364, the denoiser convention).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TypedDict

import numpy as np
import sympy as sp
from scipy.special import ndtr

from symsched import numeric
from symsched._typing import FloatArray, GridLike, TorchGenerator, TorchTensor
from symsched._validate import as_grid, check_steps
from symsched.highdim._symbols import m, rho, sigma
from symsched.highdim.cw import CurieWeiss, CWLaw, denoiser_two_mode, sample_exact, two_mode_law
from symsched.highdim.gm import GaussianMixture
from symsched.highdim.gm_stein import gm_xbar_score
from symsched.highdim.simulate import MIN_SAMPLES, CWRun, cw_summary
from symsched.models._base import ScoreModel
from symsched.samplers._network import NetworkSampler

__all__ = [
    "CurieWeissModel",
    "GMFeatures",
    "GMReducedDenoiser",
    "cw_moments",
    "cw_sampler_run",
    "cw_spectrum",
    "gm_denoiser_coefficients",
    "gm_sampler_features",
    "gm_spectrum",
]


@functools.cache
def gm_denoiser_coefficients() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""The GM denoiser in the noise-level scale, derived: ``(A, B, K)`` in ``rho, sigma, m``.

    ``D(xbar, rho) = xbar + rho^2 grad log p_rho(xbar) = A xbar + B m 1 tanh(h + K S)`` (Tweedie)
    from the derived score of :func:`~symsched.highdim.gm_stein.gm_xbar_score`. Expected:
    ``A = sigma^2 / V``, ``B = rho^2 / V``, ``K = m / V``, ``V = sigma^2 + rho^2``.

    Returns
    -------
    tuple of sympy.Expr
        ``(A, B, K)``.
    """
    a, b1, k = gm_xbar_score()
    return sp.factor(sp.simplify(1 + rho**2 * a)), sp.factor(sp.simplify(rho**2 * b1)), k


class GMReducedDenoiser:
    r"""The GM denoiser on the exact reduction: states ``(batch, 2)`` of ``(u, w)``.

    ``x = (u / sqrt d) 1 + w e`` with ``e`` a unit vector orthogonal to ``1``, so
    ``D_u = A u + B m sqrt(d) tanh(h + K sqrt(d) u)`` and ``D_w = A w`` with ``(A, B, K)`` of
    :func:`gm_denoiser_coefficients`. ``M = u / sqrt d`` is the magnetisation and
    ``|w| / sqrt(d - 1)`` the within-sample standard deviation
    (docs/theory/highdim.md#two-features).
    A :class:`~symsched.samplers.Denoiser`: any network sampler runs it.

    Parameters
    ----------
    model
        The Gaussian mixture (any ``d``).
    """

    def __init__(self, model: GaussianMixture) -> None:
        self.model = model
        args = (rho, sigma, m)
        self._coef = tuple(numeric.lambdify(args, e) for e in gm_denoiser_coefficients())

    def coefficients(self, level: float) -> tuple[float, float, float]:
        """``(A, B, K)`` at the noise level ``level`` (> 0, finite)."""
        vals = (level, self.model.mode_sigma, self.model.m)
        a, b, k = (float(f(*vals)) for f in self._coef)
        return a, b, k

    def __call__(self, x: TorchTensor, level: float, /) -> TorchTensor:
        """``D`` of the reduced states ``x = (u, w)`` at the noise level ``level``."""
        import torch

        if not (isinstance(x, torch.Tensor) and x.ndim == 2 and x.shape[1] == 2):
            raise TypeError("x must be a torch tensor of reduced states (u, w), shape (batch, 2)")
        lv = float(level)
        if not (math.isfinite(lv) and lv > 0):
            raise ValueError(f"the noise level must be finite and > 0, got {lv}")
        a, b, k = self.coefficients(lv)
        root_d = math.sqrt(self.model.dim)
        u, w = x[:, 0], x[:, 1]
        du = a * u + b * self.model.m * root_d * torch.tanh(self.model.h + k * root_d * u)
        return torch.stack([du, a * w], dim=1)


class GMFeatures(TypedDict):
    """The two GM features of a grid under a sampler (:func:`gm_sampler_features`).

    Attributes
    ----------
    mode_fraction
        ``P(M > 0)`` of the output (target ``p``).
    mode_fraction_error
        ``|P(M > 0) - p|`` (the high-level error of docs/theory/highdim.md#steps-needed).
    std_ratio
        Output within-sample standard deviation over ``sigma`` (exact ratio of scales).
    std_error
        ``|std_ratio - 1|`` (the low-level error).
    sign_changes
        Number of roots of ``z -> u_N`` found (1 for a monotone map).
    """

    mode_fraction: float
    mode_fraction_error: float
    std_ratio: float
    std_error: float
    sign_changes: int


def gm_sampler_features(
    model: GaussianMixture,
    sampler: NetworkSampler,
    sigmas: GridLike,
    *,
    zmax: float = 12.0,
    points: int = 2049,
    rounds: int = 48,
) -> GMFeatures:
    r"""The GM features of ``sigmas`` under ``sampler``, exactly (no Monte Carlo).

    The start is the prior ``xbar_0 = sigma_0 eps`` (docs/conventions.md#start-conditions):
    ``u_0 = sigma_0 z`` with ``z ~ N(0, 1)`` and ``|w_0| = sigma_0 chi_{d-1}``. ``w`` evolves
    linearly, ``w_N = G w_0``, so the output within-sample standard deviation is exactly
    ``|G| sigma_0 / sigma`` times that of the data (both carry the same
    ``chi_{d-1} / sqrt(d - 1)``). ``P(M > 0) = P(u_N(z) > 0)``: the sampler is run on
    ``points`` nodes ``z`` in ``[-zmax, zmax]``, every sign change of ``u_N`` is bisected
    ``rounds`` times, and the Gaussian measure of the positive intervals is summed with
    :func:`scipy.special.ndtr` (exact up to roots closer than the node spacing, which would show
    as an even change in ``sign_changes`` between node grids).

    Parameters
    ----------
    model
        The Gaussian mixture.
    sampler
        A network sampler ``sample(model, x, sigmas)`` (e.g. ``symsched.samplers.heun.sample``).
    sigmas
        The grid, finite ``sigma_0``.
    zmax, points, rounds
        Node range (in units of ``sigma_0``), nodes and bisection rounds.

    Returns
    -------
    GMFeatures
    """
    import torch

    sig = as_grid(sigmas)
    n_nodes = check_steps(points, "points", 3)
    s0 = float(sig[0])
    den = GMReducedDenoiser(model)

    def u_final(z: FloatArray) -> tuple[FloatArray, float]:
        x = torch.stack(
            [torch.as_tensor(s0 * z, dtype=torch.float64), torch.ones(z.size, dtype=torch.float64)],
            dim=1,
        )
        with torch.no_grad():
            out = sampler(den, x, sig)
        return out[:, 0].numpy(), float(out[0, 1])

    nodes = np.linspace(-zmax, zmax, n_nodes)
    u, growth = u_final(nodes)
    pos = u > 0
    idx = np.flatnonzero(pos[1:] != pos[:-1])
    lo, hi, lo_pos = nodes[idx], nodes[idx + 1], pos[idx]
    for _ in range(rounds if idx.size else 0):
        mid = 0.5 * (lo + hi)
        mid_pos = u_final(mid)[0] > 0
        same = mid_pos == lo_pos
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    roots = 0.5 * (lo + hi)
    # the sign is constant between consecutive roots; beyond the nodes it is that of the end node
    edges = np.concatenate([[-np.inf], roots, [np.inf]])
    signs = np.concatenate([[pos[0]], ~lo_pos]) if idx.size else np.array([pos[0]])
    frac = float(sum(ndtr(edges[j + 1]) - ndtr(edges[j]) for j in np.flatnonzero(signs)))
    ratio = abs(growth) * s0 / model.mode_sigma
    return {
        "mode_fraction": frac,
        "mode_fraction_error": abs(frac - model.p),
        "std_ratio": ratio,
        "std_error": abs(ratio - 1.0),
        "sign_changes": int(idx.size),
    }


def gm_spectrum(model: GaussianMixture) -> FloatArray:
    r"""Covariance spectrum of the GM: ``sigma^2 + 4 p (1 - p) m^2 d`` once, ``sigma^2`` d-1 times.

    The covariance is ``sigma^2 I + Var(s) m^2 1 1^T`` with ``Var(s) = 4 p (1 - p)`` for the mode
    sign ``s = +-1`` (docs/theory/highdim.md#gaussian-mixture).

    Returns
    -------
    FloatArray
        ``d`` eigenvalues, descending.
    """
    s2 = model.mode_sigma**2
    top = s2 + 4.0 * model.p * (1.0 - model.p) * model.m**2 * model.dim
    return np.concatenate([[top], np.full(model.dim - 1, s2)])


def cw_moments(model: CurieWeiss, law: CWLaw | None = None) -> tuple[float, float, float]:
    r"""``(E[M], E[s_i s_j], E[M^2])`` (``i != j``) of a CW law, by exchangeability.

    ``E s_i = E M`` and ``E[s_i s_j] = (d E[M^2] - 1) / (d - 1)`` (from
    ``d^2 M^2 = d + sum_{i != j} s_i s_j``); default law :func:`~symsched.highdim.cw.two_mode_law`,
    the one the two-mode denoiser targets.

    Returns
    -------
    tuple of float
        ``(E[M], E[s_i s_j], E[M^2])`` (``E[s_i s_j] = 1`` when ``d = 1``).
    """
    lw = two_mode_law(model) if law is None else law
    d = model.dim
    mag = (2 * np.arange(d + 1, dtype=np.float64) - d) / d
    prob = lw.probabilities
    em, em2 = float(prob @ mag), float(prob @ mag**2)
    pair = (d * em2 - 1.0) / (d - 1) if d > 1 else 1.0
    return em, pair, em2


def cw_spectrum(model: CurieWeiss, law: CWLaw | None = None) -> FloatArray:
    r"""Covariance spectrum of a CW law: ``d Var(M)`` once, ``d (1 - E M^2) / (d - 1)`` d-1 times.

    The covariance is ``(1 - E[s_i s_j]) I + (E[s_i s_j] - E[M]^2) 1 1^T`` (:func:`cw_moments`).

    Returns
    -------
    FloatArray
        ``d`` eigenvalues (the first along ``1``).
    """
    em, pair, em2 = cw_moments(model, law)
    d = model.dim
    perp = 1.0 - pair
    return np.concatenate([[d * (em2 - em * em)], np.full(d - 1, perp)])


class CurieWeissModel(ScoreModel):
    r"""The two-mode CW denoiser in the noise-level scale, a :class:`~symsched.models.ScoreModel`.

    ``D(xbar, rho)`` is :func:`~symsched.highdim.cw.denoiser_two_mode` at ``c = 1``,
    ``tau = 1 / (1 + rho)``, ``alpha = rho / (1 + rho)`` on ``x = tau xbar`` (its local field
    is ``xbar / rho^2``); differentiable in ``rho`` (the JVP Stein estimator). Its data are the
    samples of the two-mode law (:func:`~symsched.highdim.cw.two_mode_law`) and its moments
    those of :func:`cw_moments`.

    Parameters
    ----------
    model
        The Curie–Weiss model (``beta > 1``).

    Raises
    ------
    ValueError
        If ``beta <= 1``.
    """

    def __init__(self, model: CurieWeiss) -> None:
        model.require_low_temperature()
        self.cw = model
        self._law = two_mode_law(model)
        super().__init__(model.dim, name=f"cw(beta={model.beta:g}, p={model.p:g}, d={model.dim})")

    def _denoise(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor:
        tau = (1.0 / (1.0 + sigma))[:, None]
        alpha = (sigma / (1.0 + sigma))[:, None]
        return denoiser_two_mode(self.cw, x * tau, tau, alpha, 1.0)

    def _sample_data(self, n: int, generator: TorchGenerator | None) -> TorchTensor:
        import torch

        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        rows = sample_exact(self.cw, n, np.random.default_rng(seed), law=self._law)
        return torch.as_tensor(rows, dtype=torch.float64)

    def data_moments(self) -> tuple[FloatArray, FloatArray]:
        """Mean ``E[M] 1`` and covariance of the two-mode law (:func:`cw_moments`).

        Returns
        -------
        tuple of FloatArray
            ``(mean, covariance)``.
        """
        em, pair, _ = cw_moments(self.cw, self._law)
        d = self.dim
        cov = (1.0 - pair) * np.eye(d) + (pair - em * em) * np.ones((d, d))
        return np.full(d, em), cov


def cw_sampler_run(
    model: CurieWeiss,
    sampler: NetworkSampler,
    sigmas: GridLike,
    samples: int,
    seed: int = 0,
    *,
    chunk_elements: int = 4_000_000,
    callback: Callable[[int], None] | None = None,
) -> CWRun:
    r"""Sample the CW with the two-mode denoiser under ``sampler`` on ``sigmas`` (full ``d``).

    Starts from the prior ``xbar_0 = sigma_0 eps`` (:func:`symsched.models.start_noise`, chunk
    ``j`` with seed ``seed + j``: the same draws for every grid of the same ``sigma_0`` ratio,
    so that grids compare on common random numbers). The final states are summarised by
    :func:`~symsched.highdim.simulate.cw_summary`.

    Parameters
    ----------
    model
        The Curie–Weiss model (``beta > 1``).
    sampler
        A network sampler.
    sigmas
        The grid (finite ``sigma_0``; a final 0 is allowed).
    samples, seed
        Number of samples (>= ``MIN_SAMPLES``) and base seed.
    chunk_elements
        Largest number of values held in one chunk.
    callback
        Called with the number of samples done after each chunk.

    Returns
    -------
    CWRun
        Per-sample statistics (no trajectories).
    """
    import torch

    from symsched.models._sample import start_noise

    n = check_steps(samples, "samples", MIN_SAMPLES)
    sig = as_grid(sigmas)
    mdl = CurieWeissModel(model)
    per = max(1, int(chunk_elements) // model.dim)
    parts: list[tuple[FloatArray, ...]] = []
    done, j = 0, 0
    with torch.no_grad():
        while done < n:
            b = min(per, n - done)
            x0 = start_noise(b, model.dim, float(sig[0]), seed + j)
            parts.append(cw_summary(sampler(mdl, x0, sig)))
            done, j = done + b, j + 1
            if callback is not None:
                callback(done)
    cat = [np.concatenate([p[i] for p in parts]) for i in range(5)]
    return CWRun(*cat)
