r"""Real data that ships with a package, and the covariance spectra the Gaussian theory needs.

* ``digits``: scikit-learn's 8x8 handwritten digits (1797 images, d = 64), 17 gray levels mapped
  to [-1, 1].
* ``patches``: 16x16 grayscale patches (d = 256) cut from scikit-learn's two bundled sample
  photographs (``china.jpg``, ``flower.jpg``), 8-bit values mapped to [-1, 1].

Held-out split (:func:`split`): a deterministic, seeded partition into a ``"train"`` part (the
networks of :mod:`symsched.train` see only it) and a ``"heldout"`` part (about 20%) against which
samples are judged. Digits are split by image (a seeded permutation). Photo patches overlap their
neighbours (stride 8 < size 16), so a random split of patches would leak pixels into the held-out
part; they are split by **disjoint 64x64 pixel blocks** instead: each photo is tiled into blocks, a
seeded 20% of the blocks are held out, and only patches lying wholly inside one block are kept, so
no pixel is shared between the parts.

Both are quantised, so some directions have (near) zero empirical variance (digit border pixels
are always 0). :func:`spectrum` therefore returns the eigenvalues of the covariance of the
*dequantised* data, i.e. plus :math:`\Delta^2/12` for a quantisation step :math:`\Delta` (the
variance of uniform dequantisation noise), which keeps every eigenvalue strictly positive and has
a physical meaning (the scale must be the model's input scale; docs/theory/gaussian.md#data-scale).

scikit-learn is imported lazily, only when data is asked for.
"""

from __future__ import annotations

import functools
from typing import Literal

import numpy as np

from symsched._typing import ArrayLike, BoolArray, FloatArray
from symsched._validate import check_choice, check_steps

__all__ = [
    "DATASETS",
    "DIMENSIONS",
    "HELDOUT_FRACTION",
    "PARTS",
    "QUANTISATION_STEP",
    "SPLIT_BLOCK",
    "SPLIT_SEED",
    "dataset_spectrum",
    "digits",
    "load",
    "patches",
    "spectrum",
    "split",
]

DATASETS: tuple[str, ...] = ("digits", "patches")
DIMENSIONS: dict[str, int] = {"digits": 64, "patches": 256}
"""Dimension d of each data set's rows (8 x 8 digits, 16 x 16 grey patches), known without
loading it."""
# quantisation step in the [-1, 1] scale: digits have 17 levels (0..16), photographs 256
QUANTISATION_STEP: dict[str, float] = {"digits": 2.0 / 16.0, "patches": 2.0 / 255.0}
PARTS: tuple[str, ...] = ("train", "heldout")
HELDOUT_FRACTION = 0.2  # share of digit images / of photo blocks held out
SPLIT_SEED = 20240417  # fixed: the split is part of the shipped models' provenance, never re-drawn
SPLIT_BLOCK = 64  # side of the disjoint pixel blocks the patches are split by


@functools.cache
def _digits() -> FloatArray:
    from sklearn.datasets import load_digits

    x = load_digits().data.astype(np.float64)
    out: FloatArray = x / 8.0 - 1.0  # 0..16 -> [-1, 1]
    return out


def digits() -> FloatArray:
    """The 1797 digits as rows of 64 values in [-1, 1] (a copy).

    Returns
    -------
    FloatArray
        ``(1797, 64)`` rows (scikit-learn's 8x8 digits, 17 gray levels mapped to [-1, 1]).
    """
    return _digits().copy()


@functools.cache
def _patches(size: int, stride: int) -> FloatArray:
    from sklearn.datasets import load_sample_images

    out = []
    for img in load_sample_images().images:
        gray = img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma, 0..255
        gray = gray / 127.5 - 1.0
        h, w = gray.shape
        for i in range(0, h - size + 1, stride):
            for j in range(0, w - size + 1, stride):
                out.append(gray[i : i + size, j : j + size].ravel())
    return np.asarray(out)


def patches(size: int = 16, stride: int = 8) -> FloatArray:
    """Grayscale ``size x size`` patches (rows of ``size**2`` values in [-1, 1]), ``stride`` apart.

    Cut from scikit-learn's two sample photographs (ITU-R 601 luma, 8-bit values mapped to
    [-1, 1]).

    Parameters
    ----------
    size
        Patch side (>= 2).
    stride
        Lattice step (>= 1).

    Returns
    -------
    FloatArray
        ``(n, size**2)`` rows (a copy).

    Raises
    ------
    ValueError
        If ``size`` or ``stride`` is not a valid integer.
    """
    size = check_steps(size, "size", minimum=2)
    stride = check_steps(stride, "stride", minimum=1)
    return _patches(size, stride).copy()


def _heldout_mask(count: int, rng: np.random.Generator) -> BoolArray:
    """Exactly ``round(HELDOUT_FRACTION * count)`` of ``count`` items held out, drawn by ``rng``."""
    mask = np.zeros(count, dtype=bool)
    mask[rng.permutation(count)[: round(HELDOUT_FRACTION * count)]] = True
    return mask


@functools.cache
def _split_patches(size: int, stride: int) -> tuple[FloatArray, FloatArray]:
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(SPLIT_SEED)
    parts: tuple[list[FloatArray], list[FloatArray]] = ([], [])
    b = SPLIT_BLOCK
    for img in load_sample_images().images:
        gray = (img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])) / 127.5 - 1.0
        nb_i, nb_j = gray.shape[0] // b, gray.shape[1] // b
        held = _heldout_mask(nb_i * nb_j, rng).reshape(nb_i, nb_j)
        for bi in range(nb_i):
            for bj in range(nb_j):
                block = gray[bi * b : (bi + 1) * b, bj * b : (bj + 1) * b]
                for i in range(0, b - size + 1, stride):
                    for j in range(0, b - size + 1, stride):
                        parts[int(held[bi, bj])].append(block[i : i + size, j : j + size].ravel())
    return np.asarray(parts[0]), np.asarray(parts[1])


@functools.cache
def _split(name: str) -> tuple[FloatArray, FloatArray]:
    if name == "patches":
        return _split_patches(16, 8)
    x = _digits()
    held = _heldout_mask(x.shape[0], np.random.default_rng(SPLIT_SEED))
    return x[~held], x[held]


def split(name: str, part: str = "train") -> FloatArray:
    r"""The ``"train"`` or ``"heldout"`` part of a shipped dataset (a copy; deterministic, seeded).

    Parameters
    ----------
    name
        ``"digits"`` or ``"patches"``.
    part
        ``"train"`` (what :mod:`symsched.train` fits) or ``"heldout"`` (what samples are judged
        against, never seen in training).

    Returns
    -------
    ndarray
        Rows of ``d`` values in [-1, 1]. Digits: 1438 train / 359 held-out images (a permutation
        seeded by :data:`SPLIT_SEED`). Patches: 16x16 patches at stride 8 inside disjoint
        :data:`SPLIT_BLOCK`-pixel blocks of the two photos, 20% of the blocks held out, so the parts
        share no pixel (patches straddling two blocks are dropped): 4704 train / 1176 held-out.
    """
    check_choice(name, "dataset", DATASETS)
    check_choice(part, "part", PARTS)
    return _split(name)[PARTS.index(part)].copy()


def load(name: str) -> FloatArray:
    """Dataset by name: ``"digits"`` or ``"patches"`` (16x16, stride 8).

    Parameters
    ----------
    name
        ``"digits"`` or ``"patches"``.

    Returns
    -------
    FloatArray
        All rows of the dataset (a copy).

    Raises
    ------
    ValueError
        Unknown ``name``.
    """
    check_choice(name, "dataset", DATASETS)
    return digits() if name == "digits" else patches()


def spectrum(data: ArrayLike, quantisation_step: float = 0.0) -> FloatArray:
    r"""Descending eigenvalues of the covariance of ``data`` plus :math:`\Delta^2/12`.

    The covariance of the dequantised data: uniform dequantisation noise of step :math:`\Delta`
    adds :math:`\Delta^2/12` to every eigenvalue (docs/theory/gaussian.md#data-scale).

    Parameters
    ----------
    data
        Rows = samples (at least 2).
    quantisation_step
        :math:`\Delta` (0: no dequantisation).

    Returns
    -------
    FloatArray
        The eigenvalues, descending, all > 0.

    Raises
    ------
    ValueError
        If ``data`` is not 2-D with at least 2 rows, or an eigenvalue would not be strictly
        positive (pass the data's ``quantisation_step`` to dequantise degenerate data).
    """
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(
            f"data must be a 2-D array with at least 2 rows (samples), got shape {x.shape}"
        )
    cov = np.cov(x, rowvar=False)
    lam = np.linalg.eigvalsh(cov)[::-1] + quantisation_step**2 / 12.0
    lam = np.maximum(lam, 0.0) if quantisation_step > 0 else lam
    if not (lam > 0).all():
        raise ValueError(
            "the empirical covariance is singular; "
            "pass quantisation_step (e.g. 2/255) to dequantise"
        )
    return lam


def dataset_spectrum(name: Literal["digits", "patches"]) -> FloatArray:
    """Eigenvalues of the dequantised covariance of a shipped dataset, in the [-1, 1] scale.

    Parameters
    ----------
    name
        ``"digits"`` or ``"patches"``.

    Returns
    -------
    FloatArray
        :func:`spectrum` of :func:`load` with the dataset's :data:`QUANTISATION_STEP`.
    """
    check_choice(name, "dataset", DATASETS)
    return spectrum(load(name), QUANTISATION_STEP[name])
