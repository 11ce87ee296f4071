r"""Covariance spectra from data: the eigenvalues the Gaussian theory needs, for your own data.

The exact KL and the optimised schedules of :mod:`symsched.gaussian` depend on the data only
through the eigenvalues of its covariance (docs/theory/gaussian.md#setting). This module
estimates them from samples (:mod:`symsched.images` loads the samples); every function returns
float64 eigenvalues in **descending** order, dequantised by :math:`\Delta^2/12` when a
quantisation step :math:`\Delta` is given (docs/theory/gaussian.md#data-scale).

Methods (docs/theory/gaussian.md#spectra-of-data):

``direct``
    The eigenvalues of the sample covariance :math:`S` of the flattened samples
    (:func:`symsched.datasets.spectrum`). Exact for the samples, but it costs :math:`d^2` memory
    and :math:`d^3` time and needs more samples than dimensions; refused above
    :data:`DIRECT_MAX_DIMENSION`.

``fourier`` (stationary estimate)
    For images ``(n, H, W)`` or ``(n, H, W, C)``. A covariance that depends only on the
    (periodic) offset between two pixels, :math:`C_{pq}=c(p-q \bmod (H,W))`, is a circulant
    matrix (block circulant with circulant blocks in 2-D). Every circulant matrix is diagonalised
    by the unitary DFT :math:`F`: the DFT vector :math:`f_k(p)=e^{2\pi i\,k\cdot p}/\sqrt{HW}`
    satisfies :math:`Cf_k=\hat c(k)f_k` because :math:`\sum_qc(p-q)e^{2\pi ik\cdot q}=
    e^{2\pi ik\cdot p}\sum_rc(r)e^{-2\pi ik\cdot r}`, so the eigenvalues are the power spectrum
    :math:`\hat c(k)`, real and equal at :math:`k` and :math:`-k` (``c`` is even), with the
    cosine and sine of each frequency as real eigenvectors [gray2006, §3]. The estimate is
    :math:`P(k)=\frac{1}{n-1}\sum_n|\mathrm{DFT}(x_n-\bar x)(k)|^2/(HW)`, i.e. the diagonal
    :math:`(FSF^*)_{kk}` of the *same* sample covariance ``direct`` diagonalises, in the DFT basis:
    the two agree exactly when :math:`S` is circulant, the trace (sum of the eigenvalues) is the
    same in both, and otherwise the DFT diagonal is majorised by the eigenvalues (Schur–Horn):
    its spread is never larger. Colour channels are first decorrelated by a colour PCA (the
    eigenvectors of the 3 x 3 channel covariance averaged over pixels), and each decorrelated
    channel is treated as its own stationary field. Memory :math:`O(HWC^2)` beside the samples,
    time :math:`O(nHWC\log HW)`.

    What it assumes: (i) stationarity with a **periodic boundary**: a crop of a larger image is
    not periodic, and the jump at its border leaks power to the frequencies along the axes
    (a taper such as a Hann window trades that leakage for a smoothed spectrum that is no longer
    the DFT diagonal of :math:`S`; it did not bring the estimate closer to ``direct`` on photo
    patches, so none is offered: docs/theory/gaussian.md#spectra-of-data); (ii) a separable
    colour structure: the cross-spectra between the PCA channels vanish at every frequency (true
    when the covariance is :math:`K\otimes\Sigma_{\rm colour}`).
    ``radial=True`` then averages :math:`P` over rings of equal :math:`|k|` (ring
    :math:`\mathrm{round}(\min(H,W)\,|k|)` with :math:`k` in cycles per pixel; the DC term is a
    ring of its own), separately for each channel: an isotropic estimate, smoother, with the
    same trace, whose eigenvalues come in groups of exactly equal values (about
    :math:`0.7\min(H,W)` distinct values per channel), which the optimisers can treat once per
    group. Natural images are close to isotropic with :math:`P\propto|k|^{-2}`
    [vanderschaaf1996]; the ring average drops their anisotropy (more power along the axes).

``auto``
    For images, ``direct`` when :math:`d\le` :data:`AUTO_DIRECT_MAX_DIMENSION` (1024), there are
    at least :data:`AUTO_DIRECT_SAMPLES_PER_DIMENSION` (10) samples per dimension and ``radial``
    is not asked for; ``fourier`` otherwise. With fewer samples the sample covariance's smallest
    eigenvalues, which dominate :math:`\gamma^\star` and the KL, are mostly sampling spread: for
    a white spectrum they fall to :math:`(1-\sqrt{d/n})^2` of the truth (Marchenko–Pastur), a
    factor 0.47 at n = 10 d, while each Fourier value is an average of n periodogram values (no
    such bias). Rows ``(n, d)`` have no Fourier estimate: always ``direct``.

Also: :func:`photographs_spectrum` (the built-in source: patches of scikit-learn's two sample
photographs, cached), :func:`rescale_mean` and :func:`distinct_eigenvalues` (exact grouping of
equal eigenvalues), :func:`memory_estimate` (for the size guard, docs/cli.md#size-guards).

References
----------
.. [gray2006] R. M. Gray, "Toeplitz and Circulant Matrices: A Review", Found. Trends Commun. Inf.
   Theory 2 (2006), §3 (circulant matrices and the DFT).
.. [vanderschaaf1996] A. van der Schaaf, J. H. van Hateren, "Modelling the power spectra of
   natural images: statistics and information", Vision Res. 36 (1996).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from symsched._typing import ArrayLike, FloatArray, IntArray
from symsched._validate import (
    as_eigenvalues,
    check_choice,
    check_positive,
    distinct_eigenvalues,
)
from symsched.datasets import spectrum as _sample_covariance_spectrum
from symsched.images import (
    PATCH_SEED,
    PATCHES_PER_PHOTOGRAPH,
    PIXEL_STEP,
    photograph_patch_chunks,
)

__all__ = [
    "AUTO_DIRECT_MAX_DIMENSION",
    "AUTO_DIRECT_SAMPLES_PER_DIMENSION",
    "DIRECT_MAX_DIMENSION",
    "MAX_QUANTISATION_STEP",
    "MAX_SAMPLE_MAGNITUDE",
    "METHODS",
    "Method",
    "SpectrumEstimate",
    "covariance_spectrum",
    "direct_spectrum",
    "distinct_eigenvalues",
    "fourier_spectrum",
    "memory_estimate",
    "photographs_spectrum",
    "rescale_mean",
    "resolve_method",
]

Method = Literal["auto", "direct", "fourier"]
METHODS: tuple[str, ...] = ("auto", "direct", "fourier")
"""The estimators."""
AUTO_DIRECT_MAX_DIMENSION = 1024
"""``auto`` uses ``direct`` up to this dimension d (a 1024 x 1024 eigenproblem takes ~0.3 s)."""
AUTO_DIRECT_SAMPLES_PER_DIMENSION = 10
"""``auto`` uses ``direct`` for images only with at least this many samples per dimension."""
DIRECT_MAX_DIMENSION = 8192
"""Largest d ``direct`` accepts: its covariance is d^2 floats (512 MB) and the eigensolver d^3."""
MAX_SAMPLE_MAGNITUDE = 1e150
"""Largest absolute sample value: its square (a covariance entry) must fit in float64."""
MAX_QUANTISATION_STEP = 1e150
"""Largest quantisation step: its variance step^2/12 must stay below the input range's 1e300."""
_CHUNK = 64  # images per FFT batch of the Fourier estimate


@dataclass(frozen=True)
class SpectrumEstimate:
    """A covariance spectrum and how it was estimated.

    Attributes
    ----------
    eigenvalues
        The eigenvalues, float64, descending, all > 0.
    method
        ``"direct"`` or ``"fourier"`` (what ``auto`` resolved to).
    samples
        The number of samples n.
    sample_shape
        The shape of one sample: ``(d,)``, ``(H, W)`` or ``(H, W, C)``.
    radial
        Whether the Fourier estimate was ring-averaged (``False`` for ``direct``).
    quantisation_step
        :math:`\\Delta` of the dequantisation (0: none).
    """

    eigenvalues: FloatArray
    method: str
    samples: int
    sample_shape: tuple[int, ...]
    radial: bool
    quantisation_step: float

    @property
    def dimension(self) -> int:
        """d, the number of eigenvalues."""
        return int(self.eigenvalues.size)


def _as_samples(samples: ArrayLike) -> FloatArray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim < 2 or x.ndim > 4:
        raise ValueError(
            f"samples must be rows (n, d) or images (n, H, W) or (n, H, W, C), got shape {x.shape}"
        )
    if x.shape[0] < 2:
        raise ValueError(f"a covariance needs at least 2 samples, got {x.shape[0]}")
    if x.size == 0:
        raise ValueError(f"samples have an empty axis: shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("samples hold a NaN or an infinity")
    if np.abs(x).max() > MAX_SAMPLE_MAGNITUDE:
        raise ValueError(
            f"samples must lie within +-{MAX_SAMPLE_MAGNITUDE:g} (their squares must fit in "
            "float64); rescale them"
        )
    return x


def _check_step(quantisation_step: float) -> float:
    step = check_positive(quantisation_step, "quantisation_step", allow_zero=True)
    if step > MAX_QUANTISATION_STEP:
        raise ValueError(
            f"quantisation_step must be <= {MAX_QUANTISATION_STEP:g} (its variance step^2/12 "
            f"must stay in the input range), got {step:g}"
        )
    return step


def _in_range(lam: FloatArray) -> FloatArray:
    """The estimate, checked against the documented input range (docs/cli.md#input-range)."""
    return as_eigenvalues(lam, "the estimated eigenvalues")


def direct_spectrum(samples: ArrayLike, *, quantisation_step: float = 0.0) -> FloatArray:
    r"""Eigenvalues of the sample covariance of the flattened samples (``direct``).

    Parameters
    ----------
    samples
        ``(n, ...)``: n samples of any shape, flattened to d values each.
    quantisation_step
        :math:`\Delta`; every eigenvalue gets :math:`+\Delta^2/12` (0: none).

    Returns
    -------
    FloatArray
        The d eigenvalues, descending (:func:`symsched.datasets.spectrum`).

    Raises
    ------
    ValueError
        If d > :data:`DIRECT_MAX_DIMENSION` (checked before the covariance is allocated), if
        n <= d (the sample covariance is singular), or if an eigenvalue is not positive.
    """
    x = np.asarray(samples)
    if x.ndim < 2:
        raise ValueError(f"samples must have a sample axis and data axes, got shape {x.shape}")
    n, d = int(x.shape[0]), math.prod(x.shape[1:])
    _check_direct_size(n, d)
    step = _check_step(quantisation_step)
    return _in_range(_sample_covariance_spectrum(_as_samples(x).reshape(n, d), step))


def _check_direct_size(n: int, d: int) -> None:
    if d > DIRECT_MAX_DIMENSION:
        raise ValueError(
            f"direct: d = {d} is too large for the sample covariance (d x d = "
            f"{8.0 * d * d / 2**30:.3g} GiB, time ~ d^3; at most {DIRECT_MAX_DIMENSION}); use the "
            "fourier method for images"
        )
    if n <= d:
        raise ValueError(
            f"direct: {n} samples of dimension {d} give a singular sample covariance (it needs "
            "more samples than dimensions); give more samples or use the fourier method for images"
        )


def _image_shape(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(H, W, C) of one sample of ``shape`` (a sample shape without the sample axis)."""
    if len(shape) == 2:
        return shape[0], shape[1], 1
    if len(shape) == 3:
        return shape[0], shape[1], shape[2]
    raise ValueError(
        f"the fourier method needs images (n, H, W) or (n, H, W, C); got samples of shape {shape}"
    )


def _cross_power(
    chunks: Callable[[], Iterable[FloatArray]], n: int, shape: tuple[int, int, int]
) -> tuple[FloatArray, FloatArray]:
    r"""The sample covariance in the DFT basis: :math:`\mathrm{Re}\,S_k^{ab}`, and the colours'.

    Two passes over ``chunks()``: the per-pixel mean, then the real DFTs (half plane
    :math:`0\le k_2\le W/2`) of the centred samples. Returns the real parts
    of the channel cross-spectra ``(C, C, H, W//2+1)`` in the unitary normalisation (all a
    quadratic form :math:`v^\top S_kv` with a real :math:`v` needs) and the ``C x C`` channel
    covariance averaged over pixels, both divided by n - 1.
    """
    from scipy import fft

    h, w, c = shape
    total = np.zeros((h, w, c))
    for ch in chunks():
        total += ch.reshape(-1, h, w, c).sum(axis=0)
    mean = (total / n).transpose(2, 0, 1)
    cross = np.zeros((c, c, h, w // 2 + 1))
    colour = np.zeros((c, c))
    for ch in chunks():
        y = np.ascontiguousarray(ch.reshape(-1, h, w, c).transpose(0, 3, 1, 2)) - mean
        flat = y.transpose(1, 0, 2, 3).reshape(c, -1)
        colour += flat @ flat.T
        f = fft.rfft2(y)
        # Re(f_i conj f_j) = re_i re_j + im_i im_j on contiguous copies, in reused buffers (the
        # same operations in the same order as on the strided views, so the same bits)
        re = [np.ascontiguousarray(f[:, i].real) for i in range(c)]
        im = [np.ascontiguousarray(f[:, i].imag) for i in range(c)]
        prod, other = np.empty_like(re[0]), np.empty_like(re[0])
        for i in range(c):
            for j in range(i, c):
                np.multiply(re[i], re[j], out=prod)
                prod += np.multiply(im[i], im[j], out=other)
                term = prod.sum(axis=0)
                cross[i, j] += term
                if j != i:
                    cross[j, i] += term
    out: FloatArray = cross / ((n - 1) * h * w)
    return out, colour / ((n - 1) * h * w)


def _rings(h: int, w: int) -> IntArray:
    """Ring index round(min(H, W) |k|) of every DFT frequency (k in cycles per pixel)."""
    fi = np.fft.fftfreq(h)[:, None]
    fj = np.fft.fftfreq(w)[None, :]
    ring: IntArray = np.rint(min(h, w) * np.sqrt(fi**2 + fj**2)).astype(np.int64)
    return ring


def _power(cross: FloatArray, colour: FloatArray, w: int, radial: bool) -> FloatArray:
    """Per-frequency power of each colour-PCA channel, (H, W, C), exactly equal at k and -k."""
    c, _, h, _ = cross.shape
    _, vecs = np.linalg.eigh(0.5 * (colour + colour.T))
    half = np.einsum("ai,abkl,bi->kli", vecs, cross, vecs)  # (H, W//2+1, C)
    power = np.empty((h, w, c))
    power[:, : half.shape[1]] = half
    rest = np.arange(half.shape[1], w)  # k2 > W/2: P(k1, k2) = P(-k1, -k2), stored in the half
    neg_i = (-np.arange(h)) % h
    power[:, rest] = half[neg_i][:, w - rest]
    # the columns k2 = 0 (and W/2) hold both k and -k; their DFTs agree to rounding only: average
    # each pair so that they are exactly equal (a + b == b + a in floating point)
    power = 0.5 * (power + power[neg_i][:, (-np.arange(w)) % w])
    if radial:
        ring = _rings(h, w).ravel()
        counts = np.bincount(ring)
        for j in range(c):
            means = np.bincount(ring, weights=power[..., j].ravel()) / np.maximum(counts, 1)
            power[..., j] = means[ring].reshape(h, w)
    out: FloatArray = power
    return out


def _finish(power: FloatArray, quantisation_step: float) -> FloatArray:
    lam = np.sort(power.ravel())[::-1] + quantisation_step**2 / 12.0
    if not (lam > 0).all():
        raise ValueError(
            "the power spectrum has a frequency of zero power; pass quantisation_step (e.g. "
            "2/255 for 8-bit images in [-1, 1]) to dequantise"
        )
    return _in_range(np.ascontiguousarray(lam))


def _fourier(
    chunks: Callable[[], Iterable[FloatArray]],
    n: int,
    shape: tuple[int, int, int],
    radial: bool,
    quantisation_step: float,
) -> FloatArray:
    if n < 2:
        raise ValueError(f"a covariance needs at least 2 samples, got {n}")
    cross, colour = _cross_power(chunks, n, shape)
    power = _power(cross, colour, shape[1], bool(radial))
    return _finish(power, _check_step(quantisation_step))


def fourier_spectrum(
    images: ArrayLike,
    *,
    radial: bool = False,
    quantisation_step: float = 0.0,
) -> FloatArray:
    r"""The stationary (Fourier) estimate of the covariance spectrum of images (``fourier``).

    See the module docstring for what it computes and assumes: the DFT-basis diagonal of the
    sample covariance, after a colour PCA, optionally ring-averaged.

    Parameters
    ----------
    images
        ``(n, H, W)`` (one channel) or ``(n, H, W, C)``.
    radial
        Average the power over rings of equal :math:`|k|`, per channel (many exactly equal
        eigenvalues; an isotropic estimate).
    quantisation_step
        :math:`\Delta`; every eigenvalue gets :math:`+\Delta^2/12` (0: none).

    Returns
    -------
    FloatArray
        :math:`HWC` eigenvalues, descending.

    Raises
    ------
    ValueError
        If ``images`` is not image-shaped with at least 2 samples, holds a NaN or an infinity, or
        a frequency has zero power without dequantisation.
    """
    x = _as_samples(images)
    shape = _image_shape(x.shape[1:])

    def chunks() -> Iterable[FloatArray]:
        return (x[i : i + _CHUNK] for i in range(0, x.shape[0], _CHUNK))

    return _fourier(chunks, x.shape[0], shape, radial, quantisation_step)


def resolve_method(
    method: str, samples: int, sample_shape: tuple[int, ...], radial: bool = False
) -> str:
    """What ``method`` means for ``samples`` samples of ``sample_shape``: ``direct`` or ``fourier``.

    Parameters
    ----------
    method
        ``"auto"``, ``"direct"`` or ``"fourier"``.
    samples
        n.
    sample_shape
        The shape of one sample: ``(d,)``, ``(H, W)`` or ``(H, W, C)``.
    radial
        Whether the ring average (a Fourier option) is asked for.

    Returns
    -------
    str
        ``"direct"`` or ``"fourier"``: for images ``auto`` is direct when d <=
        :data:`AUTO_DIRECT_MAX_DIMENSION`, n >= :data:`AUTO_DIRECT_SAMPLES_PER_DIMENSION` d and
        ``radial`` is not asked, else fourier; rows (no Fourier estimate) are always direct.

    Raises
    ------
    ValueError
        For an unknown method, ``radial`` with ``direct`` or with rows, or rows that ``direct``
        cannot take.
    """
    n = samples
    check_choice(method, "method", METHODS)
    fourier_asked = bool(radial)
    if method == "direct" and fourier_asked:
        raise ValueError("radial is an option of the fourier method, not of direct")
    if method != "auto":
        return method
    d = math.prod(sample_shape)
    images = len(sample_shape) in (2, 3)
    enough = n >= AUTO_DIRECT_SAMPLES_PER_DIMENSION * d
    if images and not fourier_asked and d <= AUTO_DIRECT_MAX_DIMENSION and enough:
        return "direct"
    if images:
        return "fourier"
    if fourier_asked:
        raise ValueError("radial needs images (n, H, W) or (n, H, W, C), not rows")
    _check_direct_size(n, d)  # rows that direct cannot take: say why
    return "direct"


def covariance_spectrum(
    samples: ArrayLike,
    method: Method = "auto",
    *,
    radial: bool = False,
    quantisation_step: float = 0.0,
) -> SpectrumEstimate:
    r"""The covariance spectrum of samples by ``method`` (``auto``, ``direct`` or ``fourier``).

    Parameters
    ----------
    samples
        Rows ``(n, d)`` or images ``(n, H, W)`` / ``(n, H, W, C)``.
    method
        ``"direct"`` (:func:`direct_spectrum`), ``"fourier"`` (:func:`fourier_spectrum`) or
        ``"auto"`` (:func:`resolve_method`): for images, direct when d <=
        :data:`AUTO_DIRECT_MAX_DIMENSION`, n >= 10 d and ``radial`` is not asked, else fourier;
        rows always direct.
    radial
        Ring-average the Fourier estimate (asking for it makes ``auto`` choose fourier).
    quantisation_step
        :math:`\Delta` of the dequantisation (2/255 for 8-bit images in [-1, 1]; 0: none).

    Returns
    -------
    SpectrumEstimate
        The eigenvalues (descending) and what produced them.

    Raises
    ------
    ValueError
        As :func:`direct_spectrum` and :func:`fourier_spectrum`, or for an unknown ``method``.
    """
    x = _as_samples(samples)
    chosen = resolve_method(method, x.shape[0], x.shape[1:], radial)
    if chosen == "direct":
        lam = direct_spectrum(x, quantisation_step=quantisation_step)
    else:
        lam = fourier_spectrum(x, radial=radial, quantisation_step=quantisation_step)
    shape = tuple(int(s) for s in x.shape[1:])
    step = float(quantisation_step)
    return SpectrumEstimate(lam, chosen, int(x.shape[0]), shape, bool(radial), step)


@functools.cache
def _photographs(
    resolution: int, method: str, radial: bool, count: int, seed: int
) -> SpectrumEstimate:
    n = 2 * count
    shape = (resolution, resolution, 3)
    chosen = resolve_method(method, n, shape, radial)
    if chosen == "direct":
        _check_direct_size(n, math.prod(shape))
        x = np.concatenate(list(photograph_patch_chunks(resolution, count, seed=seed)))
        lam = direct_spectrum(x, quantisation_step=PIXEL_STEP)
    else:

        def chunks() -> Iterable[FloatArray]:
            return photograph_patch_chunks(resolution, count, seed=seed, chunk=_CHUNK)

        lam = _fourier(chunks, n, shape, radial, PIXEL_STEP)
    lam.setflags(write=False)
    return SpectrumEstimate(lam, chosen, n, shape, radial, PIXEL_STEP)


def photographs_spectrum(
    resolution: int,
    method: Method = "auto",
    *,
    radial: bool = False,
    count: int = PATCHES_PER_PHOTOGRAPH,
    seed: int = PATCH_SEED,
) -> SpectrumEstimate:
    r"""The spectrum of RGB patches of the two sample photographs (:mod:`symsched.images`).

    Patches ``R x R x 3`` in the [-1, 1] pixel scale, dequantised by :data:`PIXEL_STEP`; computed
    once per process for each set of arguments (the patches are streamed, 64 at a time, so the
    memory stays small at any R).

    Parameters
    ----------
    resolution
        The patch side R (1 to 427).
    method, radial
        As :func:`covariance_spectrum`.
    count
        Patches per photograph.
    seed
        Seed of the patch positions.

    Returns
    -------
    SpectrumEstimate
        :math:`3R^2` eigenvalues, descending (the array is read-only: copy it to change it).

    Raises
    ------
    ValueError
        As :func:`covariance_spectrum`, or for R outside 1..427.
    """
    from symsched._validate import check_steps

    r = check_steps(resolution, "resolution", minimum=1)
    c = check_steps(count, "count", minimum=1)
    return _photographs(r, str(method), bool(radial), c, int(seed))


def rescale_mean(eigenvalues: ArrayLike, mean: float) -> FloatArray:
    """The spectrum scaled by one factor so that its mean eigenvalue is ``mean``.

    The mean eigenvalue is the per-coordinate variance :math:`\\operatorname{tr}\\Sigma/d`, the
    data scale of docs/theory/gaussian.md#data-scale (EDM's :math:`\\sigma_{\\rm data}^2`, 1 for
    unit-variance latents).

    Parameters
    ----------
    eigenvalues
        A spectrum (all > 0).
    mean
        The target mean (> 0).

    Returns
    -------
    FloatArray
        ``eigenvalues * (mean / eigenvalues.mean())``, same order.

    Raises
    ------
    ValueError
        If ``mean`` is not a positive number or a rescaled eigenvalue leaves the input range
        [1e-300, 1e300].
    """
    lam = as_eigenvalues(eigenvalues)
    target = check_positive(mean, "mean")
    with np.errstate(over="ignore"):  # an overflow is refused just below, not warned about
        scaled = lam * (target / float(lam.mean()))
    return as_eigenvalues(scaled, "the rescaled eigenvalues")


def memory_estimate(samples: int, sample_shape: tuple[int, ...], method: str) -> float:
    """Bytes an estimate from ``samples`` samples of one shape takes (docs/cli.md#size-guards).

    Counted: the samples in float64 and one centred copy (the loaded array may be converted
    once more), and for ``direct`` three d x d matrices (covariance, eigensolver workspace), for
    ``fourier`` one FFT batch of 64 complex images, the C x C cross-spectra per frequency and a
    few (H, W, C) arrays.

    Parameters
    ----------
    samples
        n.
    sample_shape
        The shape of one sample.
    method
        ``"direct"`` or ``"fourier"`` (resolve ``"auto"`` first with :func:`resolve_method`).

    Returns
    -------
    float
        The estimate in bytes (on the high side).
    """
    d = float(math.prod(sample_shape))
    data = 3 * 8.0 * samples * d
    direct = data + 3 * 8.0 * d * d
    c = float(sample_shape[2]) if len(sample_shape) == 3 else 1.0
    fourier = data + 2 * 16.0 * min(samples, _CHUNK) * d + 16.0 * d * c + 8 * 8.0 * d
    check_choice(method, "method", ("direct", "fourier"))
    return direct if method == "direct" else fourier
