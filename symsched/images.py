r"""Image samples for covariance spectra: arrays, folders of images, random patches, photographs.

What :mod:`symsched.spectrum` estimates a spectrum from (docs/theory/gaussian.md#spectra-of-data):

* :func:`load_npy`: a ``.npy`` array of rows ``(n, d)`` or images ``(n, H, W)`` /
  ``(n, H, W, C)``, read without pickles; :func:`npy_shape` reads only its header, so that a
  caller can size the request before loading it;
* :func:`load_image_folder`: every PNG/JPEG image of a folder (read with Pillow, the imaging
  library matplotlib depends on), either resized to ``R x R`` (the largest centred square, then
  Lanczos resampling) or cut into random ``R x R`` patches;
* :func:`random_patches`: ``count`` random ``R x R`` crops of each of some larger images, at
  positions drawn from a seeded generator (deterministic);
* :func:`photographs`: the built-in source, random RGB patches of scikit-learn's two sample
  photographs (``china.jpg`` and ``flower.jpg``, 427 x 640 pixels each), 8-bit values mapped to
  the [-1, 1] pixel scale of image diffusion models, drawn with the fixed seed
  :data:`PATCH_SEED`.

Pixel values of 8-bit images are mapped to [-1, 1] by :math:`v/127.5-1`, so their quantisation
step is :data:`PIXEL_STEP` = 2/255 (the step :func:`symsched.spectrum.covariance_spectrum`
dequantises by; docs/theory/gaussian.md#data-scale).

Pillow and scikit-learn are imported lazily, only when images are read.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from symsched._typing import FloatArray, IntArray, PathLike
from symsched._validate import check_steps
from symsched.datasets import QUANTISATION_STEP

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_RESOLUTION",
    "PATCHES_PER_PHOTOGRAPH",
    "PATCH_SEED",
    "PHOTOGRAPH_SHAPE",
    "PIXEL_STEP",
    "image_files",
    "load_image_folder",
    "load_npy",
    "npy_shape",
    "patch_positions",
    "photograph_patch_chunks",
    "photographs",
    "random_patches",
    "sample_photographs",
]

PIXEL_STEP: float = QUANTISATION_STEP["patches"]
"""Quantisation step of 8-bit pixel values mapped to [-1, 1]: 2/255."""
PATCH_SEED = 20260514
"""Seed of the patch positions of :func:`photographs` (fixed: the reference proxies use it)."""
PATCHES_PER_PHOTOGRAPH = 512
"""Default number of random patches cut from each of the two photographs."""
PHOTOGRAPH_SHAPE: tuple[int, int, int] = (427, 640, 3)
"""Height, width and channels of each of scikit-learn's two sample photographs."""
MAX_RESOLUTION = 4096
"""Largest side a sample may have (a 4096 x 4096 x 3 image is 400 MB in float64)."""
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg")
"""File name endings :func:`load_image_folder` reads (case-insensitive)."""


def _check_resolution(resolution: int, limit: int, what: str) -> int:
    r = check_steps(resolution, "resolution", minimum=1)
    if r > limit:
        raise ValueError(f"resolution must be <= {limit} ({what}), got {r}")
    return r


def npy_shape(path: PathLike) -> tuple[tuple[int, ...], np.dtype[np.generic]]:
    """The shape and dtype of the array in a ``.npy`` file, from its header alone.

    Parameters
    ----------
    path
        A ``.npy`` file (one array, as written by :func:`numpy.save`).

    Returns
    -------
    (shape, dtype)
        The array's shape and dtype; nothing but the header is read.

    Raises
    ------
    ValueError
        If the file is not a ``.npy`` file (e.g. an ``.npz`` archive or a text file).
    OSError
        If it cannot be read.
    """
    try:  # a memory map reads the header only; pickles (object arrays) are refused
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, EOFError) as exc:
        raise ValueError(f"not a .npy array of numbers ({exc})") from None
    if not isinstance(arr, np.ndarray):
        raise ValueError("an .npz archive of several arrays, not one .npy array")
    shape, dtype = tuple(int(v) for v in arr.shape), arr.dtype
    del arr
    return shape, dtype


def load_npy(path: PathLike) -> FloatArray:
    """Samples from a ``.npy`` file: rows ``(n, d)`` or images ``(n, H, W)`` / ``(n, H, W, C)``.

    Parameters
    ----------
    path
        The file; pickled objects are refused.

    Returns
    -------
    FloatArray
        The array as float64, shape unchanged.

    Raises
    ------
    ValueError
        If the file is not a ``.npy`` array of real numbers with 2 to 4 axes and at least 2
        samples, or holds a NaN or an infinity.
    """
    shape, dtype = npy_shape(path)
    _check_sample_shape(shape, dtype)
    raw = np.load(path, allow_pickle=False)
    x = np.asarray(raw, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("the samples hold a NaN or an infinity")
    return x


def _check_sample_shape(shape: tuple[int, ...], dtype: np.dtype[np.generic]) -> None:
    if dtype.kind not in "fiub":
        raise ValueError(f"the array holds {dtype} values, not real numbers")
    if not 2 <= len(shape) <= 4:
        raise ValueError(
            f"the array has shape {shape}; give rows (n, d) or images (n, H, W) or (n, H, W, C)"
        )
    if shape[0] < 2:
        raise ValueError(f"the array holds {shape[0]} sample(s); a covariance needs at least 2")
    if min(shape) < 1:
        raise ValueError(f"the array has an empty axis: shape {shape}")


def patch_positions(
    height: int, width: int, resolution: int, count: int, rng: np.random.Generator
) -> IntArray:
    """``count`` top-left corners of ``resolution``-sided crops of a ``height x width`` image.

    Parameters
    ----------
    height, width
        The image's size.
    resolution
        The crop side (``<= min(height, width)``).
    count
        How many corners.
    rng
        The generator that draws them (rows first, then columns, uniformly).

    Returns
    -------
    IntArray
        ``(count, 2)`` corners ``(i, j)``.
    """
    i = rng.integers(0, height - resolution + 1, size=count)
    j = rng.integers(0, width - resolution + 1, size=count)
    out: IntArray = np.stack([i, j], axis=1).astype(np.int64)
    return out


def random_patches(
    images: Sequence[NDArray[Any]], resolution: int, count: int, *, seed: int = PATCH_SEED
) -> FloatArray:
    """``count`` random ``resolution x resolution`` crops of each image (deterministic).

    Parameters
    ----------
    images
        Arrays ``(H, W)`` or ``(H, W, C)``, all with the same number of channels and each at
        least ``resolution`` on both sides.
    resolution
        The crop side R.
    count
        Crops per image.
    seed
        Seed of the positions: one generator, drawn image after image (:func:`patch_positions`).

    Returns
    -------
    FloatArray
        ``(len(images) * count, R, R[, C])`` crops, values as given (float64), the crops of the
        first image first.

    Raises
    ------
    ValueError
        If an image is smaller than R, the images differ in channels, or an argument is invalid.
    """
    if not images:
        raise ValueError("random_patches needs at least one image")
    count = check_steps(count, "count", minimum=1)
    smallest = min(min(img.shape[:2]) for img in images)
    r = _check_resolution(resolution, smallest, "the smallest side of the images")
    if len({img.shape[2:] for img in images}) > 1 or images[0].ndim not in (2, 3):
        raise ValueError("the images must all be (H, W) or all (H, W, C) with the same C")
    rng = np.random.default_rng(seed)
    out = []
    for img in images:
        for i, j in patch_positions(img.shape[0], img.shape[1], r, count, rng):
            out.append(np.asarray(img[i : i + r, j : j + r], dtype=np.float64))
    return np.stack(out)


@functools.cache
def _photographs_signed() -> tuple[FloatArray, ...]:
    from sklearn.datasets import load_sample_images

    imgs = tuple(img.astype(np.float64) / 127.5 - 1.0 for img in load_sample_images().images)
    for img in imgs:
        img.setflags(write=False)
    return imgs


def sample_photographs() -> list[FloatArray]:
    """scikit-learn's two sample photographs in the [-1, 1] pixel scale (copies).

    Returns
    -------
    list of FloatArray
        ``china.jpg`` and ``flower.jpg``, each ``(427, 640, 3)``, RGB, :math:`v/127.5-1`.
    """
    return [img.copy() for img in _photographs_signed()]


def _photograph_positions(resolution: int, count: int, seed: int) -> list[IntArray]:
    rng = np.random.default_rng(seed)
    return [
        patch_positions(img.shape[0], img.shape[1], resolution, count, rng)
        for img in _photographs_signed()
    ]


def photograph_patch_chunks(
    resolution: int,
    count: int = PATCHES_PER_PHOTOGRAPH,
    *,
    seed: int = PATCH_SEED,
    chunk: int = 64,
) -> Iterator[FloatArray]:
    """The patches of :func:`photographs`, ``chunk`` at a time (bounded memory).

    Parameters
    ----------
    resolution, count, seed
        As :func:`photographs`.
    chunk
        Patches per yielded array.

    Yields
    ------
    FloatArray
        ``(<= chunk, R, R, 3)`` consecutive patches of :func:`photographs`, equal to its rows.
    """
    r = _check_resolution(resolution, min(PHOTOGRAPH_SHAPE[:2]), "the photographs' height")
    count = check_steps(count, "count", minimum=1)
    chunk = check_steps(chunk, "chunk", minimum=1)
    corners = [
        (img, int(i), int(j))
        for img, pos in zip(
            _photographs_signed(), _photograph_positions(r, count, seed), strict=True
        )
        for i, j in pos
    ]
    for start in range(0, len(corners), chunk):
        part = corners[start : start + chunk]
        yield np.stack([img[i : i + r, j : j + r] for img, i, j in part])


def photographs(
    resolution: int, count: int = PATCHES_PER_PHOTOGRAPH, *, seed: int = PATCH_SEED
) -> FloatArray:
    """Random RGB patches of scikit-learn's two sample photographs, in [-1, 1] (deterministic).

    Parameters
    ----------
    resolution
        The patch side R, 1 to 427 (the photographs are 427 x 640).
    count
        Patches per photograph (``china.jpg`` first, then ``flower.jpg``).
    seed
        Seed of the positions (default :data:`PATCH_SEED`; the same seed gives the same patches).

    Returns
    -------
    FloatArray
        ``(2 * count, R, R, 3)`` patches, 8-bit values mapped to [-1, 1] by :math:`v/127.5-1`.

    Raises
    ------
    ValueError
        If ``resolution`` or ``count`` is not a positive integer, or R > 427.
    """
    return np.concatenate(list(photograph_patch_chunks(resolution, count, seed=seed, chunk=256)))


def image_files(directory: PathLike) -> list[Path]:
    """The PNG/JPEG files of ``directory`` (not its subfolders), sorted by name.

    Parameters
    ----------
    directory
        A folder.

    Returns
    -------
    list of Path
        Files whose name ends in one of :data:`IMAGE_SUFFIXES` (any case), sorted.

    Raises
    ------
    ValueError
        If ``directory`` is not a folder.
    """
    d = Path(os.fspath(directory))
    if not d.is_dir():
        raise ValueError(f"{str(d)!r} is not a directory")
    return sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _read_image(path: Path, colour: bool) -> NDArray[np.uint8]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert("RGB" if colour else "L"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path.name}: not a readable image ({exc})") from None


def _is_colour(path: Path) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.mode not in ("1", "L", "LA", "I", "I;16", "F")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path.name}: not a readable image ({exc})") from None


def _centre_square_resized(img: NDArray[np.uint8], resolution: int) -> NDArray[np.uint8]:
    from PIL import Image

    h, w = img.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(img[top : top + side, left : left + side])
    out = square.resize((resolution, resolution), Image.Resampling.LANCZOS)
    return np.asarray(out)


def load_image_folder(
    directory: PathLike,
    resolution: int,
    *,
    patches: int | None = None,
    seed: int = PATCH_SEED,
) -> FloatArray:
    """Every PNG/JPEG image of a folder, as ``R x R`` samples in the [-1, 1] pixel scale.

    Each image is read as 8-bit RGB, or as 8-bit grey when every image of the folder is grey
    (then the samples have no channel axis); an alpha channel is dropped. Then either

    * (``patches=None``) the largest centred square is resized to ``R x R`` (Lanczos): one
      sample per image, the usual preparation of a training set; or
    * (``patches=K``) ``K`` random ``R x R`` crops are cut from each image at full resolution
      (:func:`random_patches`, seeded by ``seed``); every image must be at least R on both sides.

    Parameters
    ----------
    directory
        The folder (subfolders are not read).
    resolution
        The side R of the samples (1 to :data:`MAX_RESOLUTION`).
    patches
        Random crops per image instead of resizing (``None``: resize).
    seed
        Seed of the crop positions.

    Returns
    -------
    FloatArray
        ``(n, R, R, 3)`` (colour) or ``(n, R, R)`` (grey), :math:`v/127.5-1`.

    Raises
    ------
    ValueError
        If the folder holds no PNG/JPEG file, a file is not a readable image, an image is
        smaller than R (with ``patches``), or an argument is invalid.
    """
    r = _check_resolution(resolution, MAX_RESOLUTION, "MAX_RESOLUTION")
    files = image_files(directory)
    if not files:
        raise ValueError(
            f"{os.fspath(directory)!r} holds no image ({', '.join(IMAGE_SUFFIXES)} files)"
        )
    colour = any(_is_colour(p) for p in files)
    count = None if patches is None else check_steps(patches, "patches", minimum=1)
    rng = np.random.default_rng(seed)
    samples: list[NDArray[np.uint8]] = []
    for path in files:  # one decoded image at a time
        img = _read_image(path, colour)
        if count is None:
            samples.append(_centre_square_resized(img, r))
            continue
        if min(img.shape[:2]) < r:
            raise ValueError(
                f"{path.name} is smaller than {r} x {r}; patches need images at least R on a side"
            )
        # the positions random_patches(images, r, count, seed=seed) draws, image after image
        for i, j in patch_positions(img.shape[0], img.shape[1], r, count, rng):
            samples.append(img[i : i + r, j : j + r].copy())
    scaled: FloatArray = np.stack(samples).astype(np.float64) / 127.5 - 1.0
    return scaled
