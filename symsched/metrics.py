r"""Sample-quality metrics in data space, and the EDM rho closest to a grid.

Metrics (both symmetric, both 0 for identical samples):

* :func:`frechet_distance` — the Fréchet (2-Wasserstein) distance between the Gaussians with the
  two samples' means and covariances [dowson1982], the formula behind FID [heusel2017, Eq. (6)] but
  in data space (no Inception features):

  .. math::
     \mathrm{FD}=\|\mu_1-\mu_2\|^2
     +\operatorname{tr}\bigl(S_1+S_2-2\,(S_1^{1/2}S_2S_1^{1/2})^{1/2}\bigr).

  The square roots are taken by symmetric eigendecompositions (PSD, so no complex round-off as
  with a general ``sqrtm``); the tests check it against ``scipy.linalg.sqrtm`` and closed forms.
* :func:`sliced_wasserstein` — the sliced 2-Wasserstein distance [bonneel2015]
  :math:`\mathrm{SW}_2=(\mathbb E_\theta W_2^2(\theta^\top X,\theta^\top Y))^{1/2}` over seeded
  uniform directions :math:`\theta\in S^{d-1}`, each 1-D :math:`W_2^2=\int_0^1(F^{-1}-G^{-1})^2du`
  computed exactly for samples of any sizes (piecewise-constant quantile functions).
* :func:`fit_karras_rho` — the EDM :math:`\rho` [karras2022, Eq. (5)] whose grid is closest to a
  given grid.

The schedule comparison that uses them on the trained networks is
:func:`symsched.stein.quality.compare_schedules`.

References
----------
.. [dowson1982] D. C. Dowson, B. V. Landau, "The Fréchet distance between multivariate normal
   distributions", J. Multivariate Anal. 12 (1982).
.. [heusel2017] M. Heusel et al., "GANs trained by a two time-scale update rule converge to a local
   Nash equilibrium", NeurIPS 2017, arXiv:1706.08500.
.. [bonneel2015] N. Bonneel, J. Rabin, G. Peyré, H. Pfister, "Sliced and Radon Wasserstein
   barycenters of measures", J. Math. Imaging Vis. 51 (2015).
.. [karras2022] arXiv:2206.00364, Eq. (5) (the rho grid).
"""

from __future__ import annotations

import math

import numpy as np

from symsched._typing import ArrayLike, FloatArray, GridLike, RowsLike

__all__ = [
    "fit_karras_rho",
    "frechet_distance",
    "psd_sqrt",
    "sliced_wasserstein",
]


def _rows(x: RowsLike, name: str) -> FloatArray:
    arr = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ValueError(
            f"{name} must be a 2-D array of at least 2 rows (samples), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def psd_sqrt(a: ArrayLike) -> FloatArray:
    r"""Symmetric square root of a symmetric positive semi-definite matrix.

    :math:`A^{1/2}=V\,\mathrm{diag}(\sqrt{\max(w,0)})\,V^\top` from the eigendecomposition of the
    symmetric part of ``a`` (negative round-off eigenvalues are clipped to 0).

    Parameters
    ----------
    a
        A square matrix.

    Returns
    -------
    FloatArray
        The symmetric PSD square root.

    Raises
    ------
    ValueError
        If ``a`` is not a square 2-D matrix.
    """
    m = np.asarray(a, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"a must be a square matrix, got shape {m.shape}")
    w, v = np.linalg.eigh(0.5 * (m + m.T))
    out: FloatArray = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return out


def frechet_distance(x: RowsLike, y: RowsLike) -> float:
    r"""Fréchet distance between the Gaussian fits of two samples (rows) [dowson1982].

    Means and covariances are the sample ones (``np.cov``, unbiased); the trace term is
    :math:`\sum_k\sqrt{\max(w_k,0)}` over the eigenvalues :math:`w_k` of
    :math:`S_1^{1/2}S_2S_1^{1/2}` (the FID formula, [heusel2017, Eq. (6)], in data space).

    Parameters
    ----------
    x, y
        Samples as rows ``(n, d)`` and ``(m, d)``, ``n, m >= 2``.

    Returns
    -------
    float
        The distance (>= 0).

    Raises
    ------
    ValueError
        If ``x`` or ``y`` is not a finite 2-D array with at least 2 rows, or their widths differ.
    """
    a, b = _rows(x, "x"), _rows(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {a.shape[1]} and {b.shape[1]}")
    mu = a.mean(axis=0) - b.mean(axis=0)
    s1 = np.atleast_2d(np.cov(a, rowvar=False))
    s2 = np.atleast_2d(np.cov(b, rowvar=False))
    r = psd_sqrt(s1)
    cross = np.linalg.eigvalsh(0.5 * ((r @ s2 @ r) + (r @ s2 @ r).T))
    out = float(
        mu @ mu + np.trace(s1) + np.trace(s2) - 2.0 * np.sum(np.sqrt(np.clip(cross, 0.0, None)))
    )
    return max(out, 0.0)


def _w2_squared_1d(u: FloatArray, v: FloatArray) -> float:
    """Exact W_2^2 between two 1-D empirical measures (uniform weights), any sizes."""
    u, v = np.sort(u), np.sort(v)
    n, m = u.size, v.size
    # breakpoints of both quantile functions on [0, 1]; on each piece both are constant
    q = np.unique(np.concatenate([np.arange(1, n + 1) / n, np.arange(1, m + 1) / m]))
    q[-1] = 1.0
    widths = np.diff(np.concatenate([[0.0], q]))
    mid = q - 0.5 * widths
    iu = np.minimum((mid * n).astype(np.int64), n - 1)
    iv = np.minimum((mid * m).astype(np.int64), m - 1)
    return float(np.sum(widths * (u[iu] - v[iv]) ** 2))


def sliced_wasserstein(x: RowsLike, y: RowsLike, *, projections: int = 256, seed: int = 0) -> float:
    r"""Sliced 2-Wasserstein distance over ``projections`` seeded uniform directions [bonneel2015].

    .. math::
       \mathrm{SW}_2=\bigl(\tfrac1L\textstyle\sum_{l=1}^L
       W_2^2(\theta_l^\top X,\theta_l^\top Y)\bigr)^{1/2},

    :math:`\theta_l` = normalised standard normal vectors from
    ``numpy.random.default_rng(seed)``, so two calls with the same ``seed`` and dimension use the
    same directions.

    Parameters
    ----------
    x, y
        Samples as rows ``(n, d)`` and ``(m, d)``, ``n, m >= 2`` (any sizes).
    projections
        Number of directions ``L`` (>= 1).
    seed
        Seed of the directions.

    Returns
    -------
    float
        The distance (>= 0).

    Raises
    ------
    ValueError
        If the samples are invalid or their widths differ, or ``projections`` is not a positive
        integer.
    """
    a, b = _rows(x, "x"), _rows(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {a.shape[1]} and {b.shape[1]}")
    if (
        isinstance(projections, bool)
        or not isinstance(projections, (int, np.integer))
        or projections < 1
    ):
        raise ValueError(f"projections must be a positive integer, got {projections!r}")
    theta = np.random.default_rng(seed).standard_normal((a.shape[1], int(projections)))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    pa, pb = a @ theta, b @ theta
    if pa.shape[0] == pb.shape[0]:
        # equal sizes: W_2^2 = mean of squared differences of order statistics
        return math.sqrt(float(np.mean((np.sort(pa, axis=0) - np.sort(pb, axis=0)) ** 2)))
    return math.sqrt(
        float(np.mean([_w2_squared_1d(pa[:, k], pb[:, k]) for k in range(theta.shape[1])]))
    )


def fit_karras_rho(grid: GridLike, *, bounds: tuple[float, float] = (1.0, 100.0)) -> float:
    r"""The EDM :math:`\rho` whose grid (same N and endpoints) is closest to ``grid``.

    Minimises :math:`\max_k|\ln\sigma_k^{\rm EDM}(\rho)-\ln\sigma_k|` over ``bounds``
    [karras2022, Eq. (5)]; the log-linear grid is the limit :math:`\rho\to\infty`, so a fit at the
    upper bound means "as geometric as the family allows". This is how the paper's "close to
    rho = 7" is read here.

    Parameters
    ----------
    grid
        A finite, strictly decreasing grid of at least 3 positive levels.
    bounds
        Search interval of :math:`\rho`.

    Returns
    -------
    float
        The fitted :math:`\rho` (to ``1e-4``).

    Raises
    ------
    ValueError
        If ``grid`` is not a finite, strictly decreasing grid of >= 3 positive levels.
    """
    from scipy.optimize import minimize_scalar

    from symsched.schedules import families

    g = np.asarray(grid, dtype=np.float64)
    if (
        g.ndim != 1
        or g.size < 3
        or not np.all(np.diff(g) < 0)
        or g[-1] <= 0
        or not np.isfinite(g[0])
    ):
        raise ValueError("grid must be a finite, strictly decreasing grid of >= 3 positive levels")
    n = g.size - 1

    def misfit(r: float) -> float:
        return float(np.max(np.abs(np.log(families.karras(g[-1], g[0], r).grid(n) / g))))

    return float(
        minimize_scalar(misfit, bounds=bounds, method="bounded", options={"xatol": 1e-4}).x
    )
