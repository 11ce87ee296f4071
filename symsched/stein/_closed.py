r"""Numeric closed forms and quadratures of the corrector cost (compiled from :mod:`._symbolic`).

Every public function takes noise levels :math:`\rho=\sigma/\alpha` (conventions.md) and a
``process``: ``"ve"`` measures scores and the weight :math:`v=\sigma` in the VE scale
(:math:`\sigma=\rho`, EDM's convention, stein_cost.md §3.1); ``"vp"`` in the VP scale
(:math:`\sigma_{VP}=\rho/\sqrt{1+\rho^2}`, states :math:`x_{VP}=\alpha x`, stein_cost.md §5.3).
Local metrics are returned with respect to :math:`\rho`, so
:math:`\Lambda=\int\sqrt{\delta}\,d\rho` in either process [williams2024, §3.1].

Grids here are *descending* like every grid of the project: ``levels = [rho_0 > ... > rho_K]``,
and ``costs[i]`` is the cost of the step ``rho_i -> rho_{i+1}`` (source ``rho_i``, target
``rho_{i+1}``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from symsched import numeric
from symsched._typing import ArrayLike, FloatArray, GridLike, SpectrumLike
from symsched._validate import as_eigenvalues, check_choice, check_positive
from symsched.stein import _symbolic as S
from symsched.symbols import lam

__all__ = [
    "PROCESSES",
    "WEIGHTS",
    "Process",
    "Weight",
    "as_levels",
    "gaussian_interval_costs",
    "gaussian_local_metric",
    "isotropic_length",
    "length_from_metric",
    "process_sigma",
    "two_point_interval_costs",
    "two_point_local_metric",
]

Process = Literal["ve", "vp"]
Weight = Literal["target", "source"]
PROCESSES: tuple[str, ...] = ("ve", "vp")
WEIGHTS: tuple[str, ...] = ("target", "source")
_GL_POINTS = 16  # Gauss-Legendre nodes per panel for the two-point expectations (§5.4)
# Gauss-Legendre nodes and weights on [-1, 1]; numpy's stubs leave leggauss untyped
_leggauss: Callable[[int], tuple[FloatArray, FloatArray]] = np.polynomial.legendre.leggauss


def as_levels(levels: GridLike, name: str = "levels") -> FloatArray:
    """A descending probe grid of finite, strictly positive noise levels (at least 2).

    Parameters
    ----------
    levels
        The grid ``[rho_0 > ... > rho_K]``.
    name
        Name used in error messages.

    Returns
    -------
    FloatArray
        The levels as float64.

    Raises
    ------
    ValueError
        If the grid is not 1-D with at least 2 levels, not finite and > 0, or not strictly
        decreasing.
    """
    arr = np.asarray(levels, dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(
            f"{name} must be a 1-D grid of at least 2 noise levels, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(
            f"{name} must be finite and > 0 (the Stein cost needs 0 < sigma_min, sigma_max < inf)"
        )
    if not np.all(np.diff(arr) < 0):
        raise ValueError(f"{name} must be strictly decreasing (sigma_max first)")
    return arr


def process_sigma(rho: ArrayLike, process: str) -> FloatArray:
    r"""Noise std of the process at noise level ``rho``.

    VE: :math:`\sigma=\rho`; VP: :math:`\sigma_{VP}=\rho/\sqrt{1+\rho^2}` (stein_cost.md §5.3).

    Parameters
    ----------
    rho
        Noise levels :math:`\rho=\sigma/\alpha`.
    process
        ``"ve"`` or ``"vp"``.

    Returns
    -------
    FloatArray
        The process's noise std, same shape as ``rho``.

    Raises
    ------
    ValueError
        Unknown ``process``.
    """
    check_choice(process, "process", PROCESSES)
    r = np.asarray(rho, dtype=np.float64)
    return r if process == "ve" else r / np.sqrt(1.0 + r**2)


def _dsigma_drho(rho: FloatArray, process: str) -> FloatArray:
    return np.ones_like(rho) if process == "ve" else (1.0 + rho**2) ** -1.5


def gaussian_interval_costs(
    eigenvalues: SpectrumLike, levels: GridLike, *, process: str = "ve", weight: str = "target"
) -> FloatArray:
    r"""Exact :math:`\mathcal L_c(\rho_i\to\rho_{i+1})` for Gaussian data.

    Data :math:`\mathcal N(0,\mathrm{diag}\,\lambda)`. The per-eigenvalue form of
    :func:`symsched.stein.gaussian_interval_cost` summed over the spectrum [williams2024, §2.3]
    (stein_cost.md §5.1). ``eigenvalues`` are in the data scale the model sees; a repeated
    eigenvalue may be passed once with its multiplicity folded into ``dim`` by the caller (see
    :func:`isotropic_length`).

    Parameters
    ----------
    eigenvalues
        Data covariance eigenvalues (> 0).
    levels
        Descending probe grid (:func:`as_levels`).
    process
        ``"ve"`` or ``"vp"``.
    weight
        ``"target"`` (:math:`v=\sigma_{i+1}`, the paper) or ``"source"`` (:math:`v=\sigma_i`).

    Returns
    -------
    FloatArray
        The ``K`` interval costs.

    Raises
    ------
    ValueError
        Invalid eigenvalues, levels, process or weight.
    """
    lam_v = as_eigenvalues(eigenvalues)
    lev = as_levels(levels)
    check_choice(process, "process", PROCESSES)
    check_choice(weight, "weight", WEIGHTS)
    sig = process_sigma(lev, process)
    f = numeric.lambdify((S.sigma, S.sigma_t, lam), S.gaussian_interval_cost(process, weight))
    costs = np.asarray(f(sig[:-1, None], sig[1:, None], lam_v[None, :]), dtype=np.float64)
    out: FloatArray = costs.sum(axis=1)
    return out


def gaussian_local_metric(
    eigenvalues: SpectrumLike, rho: ArrayLike, *, process: str = "ve"
) -> FloatArray:
    r"""Exact local metric :math:`\delta_c` with respect to :math:`\rho` (stein_cost.md §2.4, §5.1).

    :math:`\delta_c(\rho)=\sigma^2\sum_k \dot m_k^2/m_k^3\,(d\sigma/d\rho)^2`, derived as the
    second-order coefficient of the interval cost [williams2024, §3.1]; the VP chain rule factor
    :math:`(d\sigma/d\rho)^2` is stein_cost.md §5.3.

    Parameters
    ----------
    eigenvalues
        Data covariance eigenvalues (> 0).
    rho
        Noise levels (any shape).
    process
        ``"ve"`` or ``"vp"``.

    Returns
    -------
    FloatArray
        :math:`\delta_c(\rho)`, same shape as ``rho``.

    Raises
    ------
    ValueError
        Invalid eigenvalues or process.
    """
    lam_v = as_eigenvalues(eigenvalues)
    check_choice(process, "process", PROCESSES)
    r = np.asarray(rho, dtype=np.float64)
    sig = process_sigma(r, process)
    f = numeric.lambdify((S.sigma, lam), S.gaussian_local_metric(process))
    vals = np.asarray(f(sig[..., None], lam_v), dtype=np.float64).sum(axis=-1)
    out: FloatArray = vals * _dsigma_drho(r, process) ** 2
    return out


def isotropic_length(c: float, dim: float, rho: ArrayLike) -> FloatArray:
    r"""Closed-form length :math:`\Lambda(\rho)=\int_0^\rho\sqrt{\delta_c}`, VE isotropic data.

    For :math:`\mathcal N(0,c^2I_d)`:
    :math:`2\sqrt d\,[\operatorname{asinh}(\rho/c)-\rho/\sqrt{\rho^2+c^2}]`, integrated by SymPy
    [williams2024, §3.1] (stein_cost.md §5.2).

    Parameters
    ----------
    c
        Data standard deviation (> 0).
    dim
        Dimension d (> 0).
    rho
        Noise levels.

    Returns
    -------
    FloatArray
        :math:`\Lambda(\rho)`, same shape as ``rho``.

    Raises
    ------
    ValueError
        If ``c`` or ``dim`` is not > 0.
    """
    c = check_positive(c, "c")
    dim = check_positive(dim, "dim")
    f = numeric.lambdify((S.sigma, S.c_iso, S.dim), S.isotropic_length())
    out: FloatArray = np.asarray(f(np.asarray(rho, dtype=np.float64), c, dim), dtype=np.float64)
    return out


def length_from_metric(delta: ArrayLike, rho: GridLike) -> FloatArray:
    r"""Interval lengths from a sampled metric by the trapezoid rule in :math:`\log\rho`.

    .. math::
       \Delta\Lambda_i=\tfrac12(\sqrt{\delta_i}\rho_i+\sqrt{\delta_{i+1}}\rho_{i+1})
       \ln(\rho_i/\rho_{i+1})

    on a descending grid (stein_cost.md §3.1, "quadrature, best done in log sigma")
    [williams2024, §3.1].

    Parameters
    ----------
    delta
        The metric :math:`\delta_c` at each level (negative values count as 0).
    rho
        Descending grid of ``K + 1`` levels.

    Returns
    -------
    FloatArray
        The ``K`` interval lengths.

    Raises
    ------
    ValueError
        If ``rho`` is not a valid descending grid.
    """
    r = as_levels(rho, "rho")
    g = np.sqrt(np.maximum(np.asarray(delta, dtype=np.float64), 0.0)) * r
    out: FloatArray = 0.5 * (g[:-1] + g[1:]) * np.log(r[:-1] / r[1:])
    return out


def _panels(sigma: float, width: float) -> FloatArray:
    """Panel edges on [1 - 14 sigma, 1 + 14 sigma], graded toward x = 0 (tanh(x / width) turns)."""
    a, b = 1.0 - 14.0 * sigma, 1.0 + 14.0 * sigma
    edges = list(np.linspace(a, b, 161))
    if a < 0.0 < b:
        grade = width * 2.0 ** np.arange(-4, 40)
        edges += [e for g in grade for e in (g, -g) if a < e < b] + [0.0]
    out: FloatArray = np.unique(np.asarray(edges))
    return out


def _two_point_expect(
    fn: Callable[[FloatArray, int], FloatArray], sigma: FloatArray, width: FloatArray
) -> FloatArray:
    r"""E_{x ~ p_sigma} fn(x, i) for ½δ₋₁+½δ₊₁ noised to ``sigma[i]``; by symmetry, the mode at +1.

    Composite 16-point Gauss–Legendre on panels graded toward :math:`x=0`, where the integrands'
    :math:`\tanh(x/\sigma^2)` factors turn over on a scale ``width`` (a plain Gauss–Hermite rule
    misses that turn by 1e-4 relative at sigma ~ 0.3).
    """
    z, w = _leggauss(_GL_POINTS)
    out = np.empty(sigma.size)
    for i, (s, wd) in enumerate(zip(sigma, width, strict=True)):
        e = _panels(float(s), float(wd))
        mid, half = 0.5 * (e[1:] + e[:-1]), 0.5 * (e[1:] - e[:-1])
        x = (mid[:, None] + half[:, None] * z).ravel()
        wt = (
            (half[:, None] * w).ravel()
            * np.exp(-((x - 1.0) ** 2) / (2 * s * s))
            / np.sqrt(2 * np.pi * s * s)
        )
        out[i] = np.sum(wt * fn(x, i))
    return out


def two_point_local_metric(rho: ArrayLike) -> FloatArray:
    r"""Local metric of the two-point mixture ½δ₋₁+½δ₊₁ (VE), by quadrature.

    :math:`\delta_c(\sigma)=\sigma^2\mathbb E[\partial_\sigma\nabla\log p_\sigma]^2`
    [williams2024, §3.1]: composite Gauss–Legendre
    quadrature of the SymPy-derived derivative (stein_cost.md §5.4 uses 200-node Gauss–Hermite;
    see :func:`_two_point_expect` for why panels are used instead).

    Parameters
    ----------
    rho
        Noise levels (finite, > 0).

    Returns
    -------
    FloatArray
        :math:`\delta_c` at each level (1-D).

    Raises
    ------
    ValueError
        If a level is not finite and > 0.
    """
    r = np.atleast_1d(np.asarray(rho, dtype=np.float64))
    if np.any(~np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("rho must be finite and > 0")
    ds = numeric.lambdify((S.xs, S.sigma), S.two_point_score_sigma_derivative())

    def squared(x: FloatArray, i: int) -> FloatArray:
        out: FloatArray = ds(x, r[i]) ** 2
        return out

    res: FloatArray = r**2 * _two_point_expect(squared, r, r**2)
    return res


def two_point_interval_costs(levels: GridLike, *, weight: str = "target") -> FloatArray:
    r"""Finite-step :math:`\mathcal L_c(\rho_i\to\rho_{i+1})` for the two-point mixture.

    By quadrature [williams2024, §2.3] (stein_cost.md §2.3, §5.4), under the source level:

    .. math::
       v^2\,\mathbb E_{x\sim p_{\rho_i}}
       [\nabla\log p_{\rho_{i+1}}(x)-\nabla\log p_{\rho_i}(x)]^2 .

    Parameters
    ----------
    levels
        Descending probe grid (VE).
    weight
        ``"target"`` or ``"source"``.

    Returns
    -------
    FloatArray
        The ``K`` interval costs.

    Raises
    ------
    ValueError
        Invalid levels or weight.
    """
    lev = as_levels(levels)
    check_choice(weight, "weight", WEIGHTS)
    sc = numeric.lambdify((S.xs, S.sigma), S.two_point_score())
    src, tgt = lev[:-1], lev[1:]
    v = tgt if weight == "target" else src

    def diff2(x: FloatArray, i: int) -> FloatArray:
        out: FloatArray = (sc(x, tgt[i]) - sc(x, src[i])) ** 2
        return out

    res: FloatArray = v**2 * _two_point_expect(diff2, src, tgt**2)
    return res
