r"""Exact numerics of a sampler on a Gaussian source: variance ratios and both KL directions.

For eigenvalues :math:`\lambda_i` and a grid :math:`\sigma_0>\dots>\sigma_N`, each sampler of
:mod:`symsched.samplers` gives :math:`\ln r_i` (output variance over target variance) in float64
by its cancellation-free recursion; the KL per direction is :math:`\tfrac12\,\phi(\mp\ln r)`
with :math:`\phi(x)=e^x-1-x` evaluated without cancellation [sun2026, §4]
(docs/theory/gaussian.md#kl-divergences). :func:`kl_mpmath` is the 40-digit reference: every
sampler's direct recursion in mpmath.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from symsched import _compiled, numeric
from symsched._typing import (
    ArrayBackend,
    ArrayLike,
    BackendArray,
    Device,
    FloatArray,
    GridLike,
    SpectrumLike,
    Start,
    TorchDType,
)
from symsched._validate import as_eigenvalues, as_grid, check_choice
from symsched.samplers import _stable as stable
from symsched.samplers import get_sampler, start_log_ratio
from symsched.samplers.ddim import log_cos2_stable

if TYPE_CHECKING:
    pass


__all__ = [
    "STARTS",
    "GaussianKL",
    "MpKL",
    "covariance_trajectory",
    "half_phi",
    "kl",
    "kl_from_log_ratios",
    "kl_mpmath",
    "log_variance_ratios",
    "output_covariance",
    "variance_ratios",
    "variance_trajectory",
]

STARTS: tuple[Start, ...] = ("exact", "prior")
MIN_DPS = 15  # below float64's ~16 digits the "reference" would be worse than the fast path


@dataclass(frozen=True)
class GaussianKL:
    """Exact KL divergences of one grid on one spectrum.

    Attributes
    ----------
    kl_source_output
        :math:`KL(\\text{target}\\|\\text{output})=\\tfrac12\\sum(1/r_i-1+\\ln r_i)`.
    kl_output_source
        :math:`KL(\\text{output}\\|\\text{target})=\\tfrac12\\sum(r_i-1-\\ln r_i)`.
    log_variance_ratios
        :math:`\\ln r_i` per eigenvalue (numpy array, or torch tensor for the torch backend).
    """

    kl_source_output: float
    kl_output_source: float
    log_variance_ratios: Any

    @property
    def variance_ratios(self) -> Any:
        r""":math:`r_i=e^{\ln r_i}`: 0 / ``inf`` (the nearest float64) where :math:`r_i` leaves the
        float64 range (:math:`\ln r_i` stays exact)."""
        lr = self.log_variance_ratios
        if not isinstance(lr, np.ndarray) and hasattr(lr, "exp"):
            return lr.exp()
        with np.errstate(over="ignore"):
            return np.exp(lr)


def _xp(backend: str) -> Any:
    if backend == "torch":
        import torch

        return torch
    return np


def _prepare(
    eigenvalues: SpectrumLike, sigmas: GridLike, start: str, backend: str
) -> tuple[FloatArray, FloatArray]:
    check_choice(start, "start", STARTS)
    check_choice(backend, "backend", numeric.BACKENDS)
    return as_eigenvalues(eigenvalues), as_grid(sigmas)


def log_variance_ratios(
    eigenvalues: SpectrumLike,
    sigmas: GridLike,
    *,
    start: Start = "exact",
    sampler: str = "ddim",
    backend: ArrayBackend = "numpy",
    device: Device = None,
    dtype: TorchDType | None = None,
    **knobs: float,
) -> BackendArray:
    r"""Exact :math:`\ln r_i` (output variance / target variance) per eigenvalue [sun2026, §3].

    Parameters
    ----------
    eigenvalues
        Covariance eigenvalues :math:`\lambda_i>0`, shape ``(d,)``.
    sigmas
        Grid ``[sigma_0 > ... > sigma_N >= 0]``; ``sigma_0`` may be ``inf``.
    start
        ``"exact"`` (variance :math:`\lambda+\sigma_0^2`) or ``"prior"`` (:math:`\sigma_0^2`).
    sampler
        A name of :data:`symsched.samplers.SAMPLERS`: ``"ddim"`` (default), ``"euler-vp"``,
        ``"heun"``, ``"flow-heun"``, ``"dpmpp-2m"``, ``"ancestral"``, or ``"exact-flow"`` (the
        zero-KL oracle).
    backend
        ``"numpy"`` or ``"torch"`` (float64 by default, on ``device``).
    **knobs
        The sampler's knobs, e.g. ``eta`` of ``"ancestral"`` (in [0, 1], default 1); a knob the
        sampler does not take is a ``ValueError``.

    Returns
    -------
    array
        ``log r`` of shape ``(d,)``; ``-inf`` where the output variance is 0 (one step from pure
        noise to 0).
    """
    if backend == "mpmath":  # type: ignore[comparison-overlap]
        raise ValueError("backend='mpmath' is served by kl_mpmath(); use 'numpy' or 'torch' here")
    lam_np, sig = _prepare(eigenvalues, sigmas, start, backend)
    smp = get_sampler(sampler)
    kn = smp.make_knobs(**knobs)
    out: BackendArray = smp.log_variance_ratios(
        lam_np, sig, start, kn, backend=backend, dtype=dtype, device=device
    )
    return out


def gaussian_first_step_variance(b_value: float) -> float:
    """Variance after one step from pure noise to level ``b_value`` (derived limit, = b^2)."""
    f = _compiled.function("pure_noise_first_step_variance")
    return float(f(b_value))


def variance_ratios(eigenvalues: SpectrumLike, sigmas: GridLike, **kwargs: Any) -> BackendArray:
    """:math:`r_i = \\exp(\\ln r_i)` (0 / ``inf`` outside the float64 range); see
    :func:`log_variance_ratios` for the arguments."""
    lr = log_variance_ratios(eigenvalues, sigmas, **kwargs)
    if not isinstance(lr, np.ndarray):
        return lr.exp()
    with np.errstate(over="ignore"):
        out: FloatArray = np.exp(lr)
    return out


_HALF_EXP_SWITCH = 700.0  # above this, (e^x - 1 - x) / 2 is evaluated as e^(x - ln 2) - (1 + x) / 2


def _expm1mx(x: Any, xp: Any) -> Any:
    r""":math:`e^x-1-x` without cancellation: Taylor series for :math:`|x|<1/2`, ``expm1``
    beyond."""
    small = xp.abs(x) < 0.5
    xs = xp.where(small, x, xp.zeros_like(x))
    # Horner for sum_{k>=2} x^k/k!, 18 terms: truncation < 0.5^19/19! ~ 2e-23 relative to x^2/2
    acc = xp.zeros_like(x) + 1.0 / math.factorial(19)
    for k in range(18, 1, -1):
        acc = acc * xs + 1.0 / math.factorial(k)
    series = acc * xs * xs
    with np.errstate(over="ignore", invalid="ignore"):
        big = xp.expm1(xp.where(small, xp.zeros_like(x), x)) - xp.where(small, xp.zeros_like(x), x)
    return xp.where(small, series, big)


def half_phi(x: Any, xp: Any = np) -> Any:
    r""":math:`\tfrac12(e^x-1-x)`, the per-direction KL as a function of :math:`\pm\ln r`
    [sun2026, §4].

    :func:`_expm1mx` halved, except for :math:`x>700` where it is
    :math:`(\tfrac12e^{x/2})\,e^{x/2}-\tfrac12(1+x)`: the value stays finite up to the float64
    maximum instead of overflowing a factor 2 early (:math:`e^x` overflows at
    :math:`x\approx709.78`, the KL only at :math:`x\approx710.48`), and :math:`x/2` is exact
    where :math:`x-\ln2` would round. Above that the exact KL exceeds the float64 maximum and
    the result is ``inf``.
    """
    huge = x > _HALF_EXP_SWITCH
    if not bool(huge.any()):  # the common case: no extra passes over the spectrum
        return 0.5 * _expm1mx(x, xp)
    xh = xp.where(huge, x, xp.zeros_like(x))
    with np.errstate(over="ignore"):
        root = xp.exp(0.5 * xh)
        tail = (0.5 * root) * root - 0.5 * (1.0 + xh)
    return xp.where(huge, tail, 0.5 * _expm1mx(xp.where(huge, xp.zeros_like(x), x), xp))


def kl_from_log_ratios(log_r: Any, weights: FloatArray | None = None) -> tuple[float, float]:
    r"""Both KL directions from :math:`\ln r_i` [sun2026, §4]; stable for tiny KL.

    Returns ``(kl_source_output, kl_output_source)``; ``inf`` when some :math:`r_i=0`, or when
    the exact KL exceeds the largest float64 (about 1.8e308; :math:`\ln r_i` stays finite and
    exact). A KL below the smallest normal float64 (2.2e-308) is returned as its nearest
    float64, a subnormal or 0: compare :math:`\ln r_i` there. ``weights`` (numpy ``log_r``
    only) multiply the terms: the multiplicities of distinct eigenvalues, an exact regrouping of
    the sum.
    """
    xp = _xp("torch") if not isinstance(log_r, np.ndarray) and hasattr(log_r, "exp") else np
    if xp is np:
        log_r = np.asarray(log_r, dtype=np.float64)
    if bool((log_r == -math.inf).any()):
        return math.inf, math.inf
    if xp is np and log_r.ndim == 1 and (weights is None or np.shape(weights) == log_r.shape):
        return _kl_sums_blocked(log_r, None if weights is None else np.asarray(weights))
    with np.errstate(over="ignore"):
        if weights is None:
            kso = half_phi(-log_r, xp).sum()
            kos = half_phi(log_r, xp).sum()
        else:
            kso = (weights * half_phi(-log_r, xp)).sum()
            kos = (weights * half_phi(log_r, xp)).sum()
    if xp is not np:  # plain floats out: no autograd history to convert
        kso, kos = kso.detach(), kos.detach()
    return float(kso), float(kos)


_KL_BLOCK = 16384  # eigenvalues per block of the KL terms: half_phi's ~20 temporaries stay in L2


def _kl_sums_blocked(log_r: FloatArray, weights: FloatArray | None) -> tuple[float, float]:
    """:func:`kl_from_log_ratios` on a numpy vector: :func:`half_phi` of both signs per block of
    eigenvalues (temporaries in cache), each block summed pairwise by numpy and the block sums
    added exactly (``math.fsum``), so the sum is at least as accurate as one pairwise sum."""
    kso_parts, kos_parts = [], []
    with np.errstate(over="ignore"):
        for s0 in range(0, log_r.size, _KL_BLOCK):
            x = log_r[s0 : s0 + _KL_BLOCK]
            t_so, t_os = half_phi(-x), half_phi(x)
            if weights is not None:
                w = weights[s0 : s0 + _KL_BLOCK]
                t_so, t_os = w * t_so, w * t_os
            kso_parts.append(float(t_so.sum()))
            kos_parts.append(float(t_os.sum()))
    return _fsum(kso_parts), _fsum(kos_parts)


def _fsum(parts: list[float]) -> float:
    """``math.fsum`` of nonnegative parts; ``inf`` where the exact sum exceeds the float64
    maximum (``fsum`` raises ``OverflowError`` there instead)."""
    try:
        return math.fsum(parts)
    except OverflowError:
        return math.inf


def kl(
    eigenvalues: SpectrumLike,
    sigmas: GridLike,
    *,
    start: Start = "exact",
    sampler: str = "ddim",
    backend: ArrayBackend | str = "numpy",
    device: Device = None,
    dtype: TorchDType | None = None,
    **knobs: float,
) -> GaussianKL:
    """Exact KL of the Gaussian sampler in both directions (arguments: :func:`log_variance_ratios`).

    ``backend="mpmath"`` evaluates :func:`kl_mpmath` (40 digits) and rounds to float64.

    Examples
    --------
    >>> from symsched.gaussian.exact import kl
    >>> round(kl([1.0], [float('inf'), 1.0, 0.0]).kl_source_output, 11)
    0.80685281944
    """
    if backend == "mpmath":
        res = _kl_mpmath(eigenvalues, sigmas, start, sampler, 40, knobs)
        return GaussianKL(
            float(res.kl_source_output),
            float(res.kl_output_source),
            np.array([float(v) for v in res.log_variance_ratios]),
        )
    check_choice(backend, "backend", ("numpy", "torch"))
    lr = log_variance_ratios(
        eigenvalues,
        sigmas,
        start=start,
        sampler=sampler,
        backend=backend,  # type: ignore[arg-type]
        device=device,
        dtype=dtype,
        **knobs,
    )
    kso, kos = kl_from_log_ratios(lr)
    return GaussianKL(kso, kos, lr)


@dataclass(frozen=True)
class MpKL:
    """mpmath reference result (``mpf`` values)."""

    kl_source_output: Any
    kl_output_source: Any
    log_variance_ratios: Sequence[Any]
    variance_ratios: Sequence[Any]


@functools.cache
def _mp_kl_funcs() -> tuple[Callable[..., Any], Callable[..., Any]]:
    from symsched.gaussian import derive
    from symsched.symbols import r

    return (
        numeric.lambdify((r,), derive.kl_source_output(), "mpmath"),
        numeric.lambdify((r,), derive.kl_output_source(), "mpmath"),
    )


def kl_mpmath(
    eigenvalues: SpectrumLike,
    sigmas: GridLike,
    *,
    start: Start = "exact",
    sampler: str = "ddim",
    dps: int = 40,
    **knobs: float,
) -> MpKL:
    r"""The 40-digit reference: the sampler's direct recursion in mpmath, then both KLs.

    Eigenvalues and levels are taken as the exact binary values of their float64 inputs. The
    recursion runs at ``dps`` digits, so :math:`\ln r_i` is good to about
    :math:`10^{-\mathrm{dps}}` absolute: a reference for :math:`|\ln r_i|` down to
    :math:`10^{10-\mathrm{dps}}` at 1e-10 relative (raise ``dps`` for smaller ones). Each KL
    term :math:`\tfrac12(1/r-1+\ln r)` is evaluated with extra digits, so it keeps the accuracy
    of its :math:`\ln r_i` however close :math:`r_i` is to 1.

    Raises
    ------
    ValueError
        If ``dps < 15`` (fewer digits than float64 carries is no reference), or as
        :func:`log_variance_ratios`.
    """
    return _kl_mpmath(eigenvalues, sigmas, start, sampler, dps, knobs)


def _kl_mpmath(
    eigenvalues: SpectrumLike,
    sigmas: GridLike,
    start: Start,
    sampler: str,
    dps: int,
    knobs: dict[str, float],
) -> MpKL:
    import mpmath

    if isinstance(dps, bool) or not isinstance(dps, int) or dps < MIN_DPS:
        raise ValueError(
            f"dps must be an integer >= {MIN_DPS} (digits of the reference), got {dps!r}"
        )
    lam_np, sig = _prepare(eigenvalues, sigmas, start, "mpmath")
    smp = get_sampler(sampler)
    kn = smp.make_knobs(**knobs)
    smp.check_grid(sig)
    kso_f, kos_f = _mp_kl_funcs()
    with mpmath.workdps(dps):
        levels = [mpmath.mpf(float(v)) if math.isfinite(v) else mpmath.inf for v in sig]
        lrs: list[Any] = []
        rs: list[Any] = []
        kso, kos = mpmath.mpf(0), mpmath.mpf(0)
        for lv in lam_np:
            ratio = smp.variance_ratio_mp(mpmath.mpf(float(lv)), levels, start, kn)
            rs.append(ratio)
            if ratio == 0:
                lrs.append(-mpmath.inf)
                kso = kos = mpmath.inf
                continue
            lr = mpmath.log(ratio)
            lrs.append(lr)
            if lr == 0:
                continue
            # 1/r - 1 + ln r cancels to ~(ln r)^2 / 2: evaluate it with twice the digits that
            # ln r lacks, so the KL of the computed r keeps dps digits however close r is to 1
            extra = 10 + 2 * max(0, -int(mpmath.floor(mpmath.log10(abs(lr)))))
            with mpmath.workdps(dps + extra):
                kso += kso_f(ratio)
                kos += kos_f(ratio)
        return MpKL(kso, kos, lrs, rs)


def variance_trajectory(
    eigenvalues: SpectrumLike, sigmas: GridLike, *, start: Start = "exact"
) -> FloatArray:
    r"""Variance of the scaled state :math:`\bar x` along each eigen-direction at every level.

    Returns shape ``(N+1, d)``; row 0 is the start (``inf`` for a pure-noise start).
    [sun2026, §3 "trajectory"]: :math:`\mathrm{Var}_{k}=\mathrm{Var}_{k-1}\,g_k^2`, multiplied
    directly inside the fast window (docs/theory/samplers.md#float64-numerics-over-the-input-range);
    elsewhere :math:`\mathrm{Var}_k=(\lambda+\sigma_k^2)\,r_k` with :math:`\ln r_k` summed from the
    stable per-step terms, so a variance is ``inf`` or 0 only where it leaves the float64 range.
    """
    lam_np, sig = _prepare(eigenvalues, sigmas, start, "numpy")
    out = np.empty((sig.size, lam_np.size))
    finite = sig[np.isfinite(sig)]
    window = bool(stable.fast_eigenvalues(lam_np).all()) and all(
        stable.fast_level(float(v)) for v in finite
    )
    if not window:
        return _variance_trajectory_logs(lam_np, sig, start)
    gain = _compiled.function("ddim_gain_rho")
    if math.isinf(sig[0]):
        out[0] = math.inf
        out[1] = gaussian_first_step_variance(float(sig[1]))
        k0 = 2
    else:
        out[0] = lam_np + sig[0] ** 2 if start == "exact" else sig[0] ** 2
        k0 = 1
    for k in range(k0, sig.size):
        out[k] = out[k - 1] * gain(sig[k - 1], sig[k], lam_np) ** 2
    return out


def _variance_trajectory_logs(lam_np: FloatArray, sig: FloatArray, start: Start) -> FloatArray:
    """:func:`variance_trajectory` over the whole input range: ``(lam + sigma_k^2) exp(ln r_k)``."""
    out = np.empty((sig.size, lam_np.size))
    log_lam = np.log(lam_np)
    log_r = np.asarray(start_log_ratio(lam_np, float(sig[0]), start), dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore"):
        out[0] = (
            math.inf
            if math.isinf(sig[0])
            else np.exp(log_r + np.logaddexp(log_lam, 2.0 * math.log(sig[0])))
        )
        for k in range(1, sig.size):
            log_r = log_r + log_cos2_stable(float(sig[k - 1]), float(sig[k]), lam_np)
            log_t = log_lam if sig[k] == 0 else np.logaddexp(log_lam, 2.0 * math.log(sig[k]))
            out[k] = np.exp(log_r + log_t)
    return out


def output_covariance(
    covariance: ArrayLike, sigmas: GridLike, *, start: Start = "exact"
) -> FloatArray:
    r"""Closed-form covariance of the sampler output :math:`\bar x_N` for a full covariance matrix.

    :math:`U\,\mathrm{diag}(r_i(\lambda_i+\sigma_N^2))\,U^\top` with :math:`\Sigma=U\Lambda U^\top`
    [sun2026, §3]; valid because each DDIM step commutes with :math:`\Sigma`
    (:func:`symsched.gaussian.derive.matrix_gain_commutator`).
    """
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"covariance must be a square matrix, got shape {cov.shape}")
    if not np.allclose(cov, cov.T, rtol=1e-12, atol=1e-14 * np.abs(cov).max()):
        raise ValueError("covariance must be symmetric")
    lam_np, U = np.linalg.eigh(cov)
    lam_np = as_eigenvalues(lam_np, "covariance eigenvalues")
    sig = as_grid(sigmas)
    lr = log_variance_ratios(lam_np, sig, start=start)
    # r (lam + sigma_N^2) in logs: r may underflow where lam + sigma_N^2 overflows
    with np.errstate(divide="ignore", over="ignore"):
        var_out = np.exp(lr + np.logaddexp(np.log(lam_np), 2.0 * np.log(sig[-1])))
    out: FloatArray = (U * var_out) @ U.T
    return out


def covariance_trajectory(
    covariance: ArrayLike, sigmas: GridLike, *, start: Start = "exact"
) -> FloatArray:
    r"""Closed-form covariance of :math:`\bar x` at every level of the grid, full matrix.

    :math:`\Sigma_k=U\,\mathrm{diag}_i(\mathrm{Var}^{(i)}_k)\,U^\top` [sun2026, §3 "trajectory"],
    shape ``(N+1, D, D)``; row 0 is ``inf`` on the diagonal for a pure-noise start.
    """
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"covariance must be a square matrix, got shape {cov.shape}")
    lam_np, U = np.linalg.eigh(cov)
    lam_np = as_eigenvalues(lam_np, "covariance eigenvalues")
    traj = variance_trajectory(lam_np, sigmas, start=start)
    if np.isfinite(traj[0]).all():
        out: FloatArray = np.einsum("ij,kj,lj->kil", U, traj, U)
        return out
    first = np.where(np.eye(cov.shape[0], dtype=bool), np.inf, 0.0)[None]
    return np.concatenate([first, np.einsum("ij,kj,lj->kil", U, traj[1:], U)])
