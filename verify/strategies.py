r"""Reusable hypothesis strategies: spectra, SPD matrices, monotone grids.

Every strategy draws bounded floats only (no NaN, inf or subnormals) and constructs valid inputs
instead of filtering with ``assume``. Bounds are stated with their reason.

Examples
--------
>>> from hypothesis import given
>>> from symsched_verify.strategies import spectra, grids
>>> @given(spectra(), grids())  # doctest: +SKIP
... def test_kl_nonnegative(lam, sigmas): ...
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

__all__ = ["eigenvalues", "grids", "spd_matrices", "spectra", "steps"]

# Eigenvalues over 8 decades (1e-4 .. 1e4): the range of pixel-data spectra in [-1, 1] scale and
# latent spectra; beyond it float64 round-off in lam + sigma^2 starts to dominate the checks.
LAM_MIN, LAM_MAX = 1e-4, 1e4
# Noise levels between 1e-3 and 1e3 (EDM uses 0.002..80; VP linear reaches ~152).
SIGMA_LO, SIGMA_HI = 1e-3, 1e3


def eigenvalues(min_value: float = LAM_MIN, max_value: float = LAM_MAX) -> st.SearchStrategy[float]:
    """One eigenvalue, log-uniform-ish between ``min_value`` and ``max_value``."""
    return st.floats(
        math.log(min_value),
        math.log(max_value),
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
    ).map(math.exp)


@st.composite
def spectra(
    draw: st.DrawFn,
    min_size: int = 1,
    max_size: int = 12,
    min_value: float = LAM_MIN,
    max_value: float = LAM_MAX,
) -> NDArray[np.float64]:
    """A covariance spectrum: 1-D float64 array of positive eigenvalues."""
    vals = draw(st.lists(eigenvalues(min_value, max_value), min_size=min_size, max_size=max_size))
    return np.array(vals, dtype=np.float64)


@st.composite
def spd_matrices(
    draw: st.DrawFn, min_dim: int = 2, max_dim: int = 4, min_eig: float = 0.05, max_eig: float = 5.0
) -> NDArray[np.float64]:
    """A symmetric positive-definite matrix ``Q diag(lam) Q^T`` with a random orthogonal ``Q``.

    Eigenvalues in [0.05, 5] keep the condition number <= 100 so that Monte Carlo checks of the
    covariance stay well resolved with 1e5 particles.
    """
    d = draw(st.integers(min_dim, max_dim))
    lam = draw(spectra(min_size=d, max_size=d, min_value=min_eig, max_value=max_eig))
    seed = draw(st.integers(0, 2**32 - 1))
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    m: NDArray[np.float64] = (q * lam) @ q.T
    return (m + m.T) / 2


def steps(min_value: int = 1, max_value: int = 40) -> st.SearchStrategy[int]:
    return st.integers(min_value, max_value)


@st.composite
def grids(
    draw: st.DrawFn,
    min_steps: int = 1,
    max_steps: int = 40,
    pure_noise: bool | None = None,
    to_zero: bool | None = None,
) -> NDArray[np.float64]:
    """A strictly decreasing grid ``[sigma_0 > ... > sigma_N]`` (``sigma_0`` may be inf, ``sigma_N``
    0).

    Interior levels are log-uniform in [1e-3, 1e3], sorted, and separated by at least a relative
    1e-6 so that no two levels collide in float64.
    """
    n = draw(steps(min_steps, max_steps))
    inf_start = draw(st.booleans()) if pure_noise is None else pure_noise
    zero_end = draw(st.booleans()) if to_zero is None else to_zero
    n_free = n + 1 - int(inf_start) - int(zero_end)
    logs = draw(
        st.lists(
            st.floats(
                math.log(SIGMA_LO), math.log(SIGMA_HI), allow_nan=False, allow_infinity=False
            ),
            min_size=n_free,
            max_size=n_free,
        )
    )
    levels = sorted({round(v, 6) for v in logs}, reverse=True)
    while len(levels) < n_free:  # replace collisions deterministically
        levels.append(levels[-1] - 1e-3 if levels else 0.0)
    vals = list(np.exp(np.array(levels)))
    if inf_start:
        vals = [math.inf, *vals]
    if zero_end:
        vals = [*vals, 0.0]
    return np.array(vals, dtype=np.float64)
