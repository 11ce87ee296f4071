r"""Real data that ships with a package, and the covariance spectra the Gaussian theory needs.

* ``digits``: scikit-learn's 8x8 handwritten digits (1797 images, d = 64), 17 gray levels mapped
  to [-1, 1].
* ``patches``: 16x16 grayscale patches (d = 256) cut from scikit-learn's two bundled sample
  photographs (``china.jpg``, ``flower.jpg``), 8-bit values mapped to [-1, 1].

Both are quantised, so some directions have (near) zero empirical variance (digit border pixels
are always 0). :func:`spectrum` therefore returns the eigenvalues of the covariance of the
*dequantised* data, i.e. plus :math:`\Delta^2/12` for a quantisation step :math:`\Delta` (the
variance of uniform dequantisation noise), which keeps every eigenvalue strictly positive and has
a physical meaning (gaussian_theory.md §9.5: the scale must be the model's input scale).

scikit-learn is imported lazily, only when data is asked for.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ._validate import check_choice, check_steps

__all__ = ["DATASETS", "QUANTISATION_STEP", "dataset_spectrum", "digits", "load", "patches", "spectrum"]

DATASETS: tuple[str, ...] = ("digits", "patches")
# quantisation step in the [-1, 1] scale: digits have 17 levels (0..16), photographs 256
QUANTISATION_STEP: dict[str, float] = {"digits": 2.0 / 16.0, "patches": 2.0 / 255.0}


@functools.cache
def _digits() -> NDArray[np.float64]:
    from sklearn.datasets import load_digits

    x = load_digits().data.astype(np.float64)
    return x / 8.0 - 1.0  # 0..16 -> [-1, 1]


def digits() -> NDArray[np.float64]:
    """The 1797 digits as rows of 64 values in [-1, 1] (a copy)."""
    return _digits().copy()


@functools.cache
def _patches(size: int, stride: int) -> NDArray[np.float64]:
    from sklearn.datasets import load_sample_images

    out = []
    for img in load_sample_images().images:
        gray = img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma, 0..255
        gray = gray / 127.5 - 1.0
        h, w = gray.shape
        for i in range(0, h - size + 1, stride):
            for j in range(0, w - size + 1, stride):
                out.append(gray[i:i + size, j:j + size].ravel())
    return np.asarray(out)


def patches(size: int = 16, stride: int = 8) -> NDArray[np.float64]:
    """Grayscale ``size x size`` patches (rows of ``size**2`` values in [-1, 1]) on a ``stride`` lattice."""
    size = check_steps(size, "size", minimum=2)
    stride = check_steps(stride, "stride", minimum=1)
    return _patches(size, stride).copy()


def load(name: str) -> NDArray[np.float64]:
    """Dataset by name: ``"digits"`` or ``"patches"`` (16x16, stride 8)."""
    check_choice(name, "dataset", DATASETS)
    return digits() if name == "digits" else patches()


def spectrum(data: NDArray[np.float64], quantisation_step: float = 0.0) -> NDArray[np.float64]:
    r"""Descending eigenvalues of the covariance of ``data`` (rows = samples), plus :math:`\Delta^2/12`.

    Raises ``ValueError`` if an eigenvalue would not be strictly positive (pass the data's
    ``quantisation_step`` to dequantise degenerate data).
    """
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"data must be a 2-D array with at least 2 rows (samples), got shape {x.shape}")
    cov = np.cov(x, rowvar=False)
    lam = np.linalg.eigvalsh(cov)[::-1] + quantisation_step**2 / 12.0
    lam = np.maximum(lam, 0.0) if quantisation_step > 0 else lam
    if not (lam > 0).all():
        raise ValueError("the empirical covariance is singular; pass quantisation_step (e.g. 2/255) to dequantise")
    return lam


def dataset_spectrum(name: Literal["digits", "patches"]) -> NDArray[np.float64]:
    """Eigenvalues of the dequantised covariance of a shipped dataset, in the [-1, 1] scale."""
    check_choice(name, "dataset", DATASETS)
    return spectrum(load(name), QUANTISATION_STEP[name])
