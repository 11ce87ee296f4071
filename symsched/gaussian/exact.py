r"""Fast exact numerics of the Gaussian DDIM sampler: variance ratios and both KL directions.

All formulas come from :mod:`symsched.gaussian.derive` through the lambdify bridge; nothing is typed in
twice. For eigenvalues :math:`\lambda_i` and a grid :math:`\sigma_0>\dots>\sigma_N`

.. math:: \ln r_i = \ln\mathrm{Var}_0 + 2\sum_{k=1}^N \ln g(\sigma_{k-1},\sigma_k;\lambda_i)
          - \ln(\lambda_i+\sigma_N^2),

with :math:`\ln g = \operatorname{log1p}(g-1)` (accurate for the tiny steps of N = 1e5) and
:math:`\ln g` directly for the few steps with :math:`g<1/2`; steps are processed in blocks so
that memory stays bounded for d = 1e6 eigenvalues and N = 1e4 steps. The KL per direction is
:math:`\tfrac12\,\phi(\mp\ln r)` with :math:`\phi(x)=e^x-1-x` evaluated without cancellation.

``backend="mpmath"`` is the 40-digit reference: it multiplies the rational gains directly.

References: [sun2026, §3-§4] (gaussian_theory.md).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from numpy.typing import NDArray

from symsched import numeric
from symsched._validate import as_eigenvalues, as_grid, check_choice
from symsched.gaussian import derive
from symsched.symbols import a, b, lam, r

__all__ = [
    "SAMPLERS",
    "STARTS",
    "GaussianKL",
    "covariance_trajectory",
    "kl",
    "kl_from_log_ratios",
    "kl_mpmath",
    "log_variance_ratios",
    "output_covariance",
    "variance_ratios",
    "variance_trajectory",
]

STARTS: tuple[str, ...] = ("exact", "prior")
SAMPLERS: tuple[str, ...] = ("ddim", "exact-flow", "euler-vp", "heun", "dpmpp-2m", "ancestral")
_OTHER_SAMPLERS = (
    "euler-vp",
    "heun",
    "dpmpp-2m",
    "ancestral",
)  # exact recursions in symsched.samplers._recursions
_TILE = (
    1 << 16
)  # elements per (steps x eigenvalues) tile: fits in L2, bounded memory at any d and N
_CHUNK = 8192  # eigenvalues per tile column
_LOSS_SWITCH = 0.5  # above this loss, log(cos2) is more accurate than log1p(-loss)


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
        lr = self.log_variance_ratios
        return lr.exp() if hasattr(lr, "exp") and not isinstance(lr, np.ndarray) else np.exp(lr)


def _xp(backend: str) -> Any:
    if backend == "torch":
        import torch

        return torch
    return np


def _prepare(
    eigenvalues: Any, sigmas: Any, start: str, sampler: str, backend: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    check_choice(start, "start", STARTS)
    check_choice(sampler, "sampler", SAMPLERS)
    check_choice(backend, "backend", numeric.BACKENDS)
    lam_np = as_eigenvalues(eigenvalues)
    sig = as_grid(sigmas)
    return lam_np, sig


def log_variance_ratios(
    eigenvalues: Any,
    sigmas: Any,
    *,
    start: str = "exact",
    sampler: str = "ddim",
    backend: str = "numpy",
    device: Any = None,
    dtype: Any = None,
    eta: float | None = None,
) -> Any:
    r"""Exact :math:`\ln r_i` (output variance / target variance) per eigenvalue [sun2026, §3].

    Uses the angle form :math:`\ln r_i=\ln\frac{\mathrm{Var}_0}{\lambda_i+\sigma_0^2}
    +\sum_k\ln\cos^2\Delta\varphi_{i,k}` with :math:`\ln\cos^2\Delta\varphi=\operatorname{log1p}(-\ell)`
    and the Lagrange form :math:`\ell=\lambda(a-b)^2/((\lambda+a^2)(\lambda+b^2))`
    (:func:`symsched.gaussian.derive.variance_loss_step`), so no digits cancel.

    Parameters
    ----------
    eigenvalues
        Covariance eigenvalues :math:`\lambda_i>0`, shape ``(d,)``.
    sigmas
        Grid ``[sigma_0 > ... > sigma_N >= 0]``; ``sigma_0`` may be ``inf``.
    start
        ``"exact"`` (variance :math:`\lambda+\sigma_0^2`) or ``"prior"`` (:math:`\sigma_0^2`).
    sampler
        ``"ddim"`` (eta = 0), ``"exact-flow"`` (the exact probability-flow map, KL = 0 oracle), or
        one of the recursions of :mod:`symsched.samplers._recursions`: ``"euler-vp"``, ``"heun"``,
        ``"dpmpp-2m"``, ``"ancestral"``.
    backend
        ``"numpy"`` or ``"torch"`` (float64 by default, on ``device``).
    eta
        Noise fraction of the ``"ancestral"`` sampler, in [0, 1] (default 1).

    Returns
    -------
    array
        ``log r`` of shape ``(d,)``; ``-inf`` where the output variance is 0 (one step from pure
        noise to 0).
    """
    if backend == "mpmath":
        raise ValueError("backend='mpmath' is served by kl_mpmath(); use 'numpy' or 'torch' here")
    lam_np, sig = _prepare(eigenvalues, sigmas, start, sampler, backend)
    if sampler in _OTHER_SAMPLERS:
        from symsched.samplers import _recursions as samplers

        lr_np = samplers.log_variance_ratios(lam_np, sig, sampler=sampler, start=start, eta=eta)
        return (
            lr_np
            if backend == "numpy"
            else numeric.to_backend(lr_np, backend, dtype=dtype, device=device)
        )
    if eta is not None:
        raise ValueError(f"eta applies to the ancestral sampler only, not to {sampler!r}")
    xp = _xp(backend)
    lam_v = numeric.to_backend(lam_np, backend, dtype=dtype, device=device)
    first = float(sig[0])
    total = xp.zeros_like(lam_v)
    if start == "prior" and math.isfinite(first):
        # Var_0 / (lam + sigma_0^2) = sigma_0^2 / (lam + sigma_0^2)
        with np.errstate(divide="ignore"):
            total = total - xp.log1p(lam_v / (first * first))
    if sampler == "exact-flow":
        return total
    if math.isinf(first):
        # the first step from pure noise keeps b^2 of the variance: loss lam / (lam + b^2)
        loss0 = numeric.lambdify(
            (b, lam), derive.variance_loss_from_pure_noise(), backend, dtype=dtype, device=device
        )(float(sig[1]), lam_v)
        total = total + _log1p_neg(
            loss0, _cos2_pure_noise(float(sig[1]), lam_v, backend, dtype, device), xp
        )
        sig = sig[1:]
    return total + _sum_log_cos2(lam_v, sig, backend, dtype, device)


def _cos2_pure_noise(b_value: float, lam_v: Any, backend: str, dtype: Any, device: Any) -> Any:
    expr = derive.cos2_pure_noise()
    return numeric.lambdify((b, lam), expr, backend, dtype=dtype, device=device)(b_value, lam_v)


def _log1p_neg(loss: Any, cos2: Any, xp: Any) -> Any:
    """``log(1 - loss)`` choosing ``log1p(-loss)`` or ``log(cos2)`` by accuracy (same value)."""
    with np.errstate(divide="ignore"):
        return xp.where(
            loss < _LOSS_SWITCH,
            xp.log1p(-xp.minimum(loss, xp.zeros_like(loss) + _LOSS_SWITCH)),
            xp.log(cos2),
        )


def _sum_log_cos2(
    lam_v: Any, sig: NDArray[np.float64], backend: str, dtype: Any, device: Any
) -> Any:
    r""":math:`\sum_k \ln\cos^2\Delta\varphi_k` over the finite steps of ``sig``, in blocks."""
    xp = _xp(backend)
    loss_f = numeric.lambdify(
        (a, b, lam), derive.variance_loss_step(), backend, dtype=dtype, device=device
    )
    cos2_f = numeric.lambdify(
        (a, b, lam), derive.cos2_angle_step(), backend, dtype=dtype, device=device
    )
    a_all, b_all = sig[:-1], sig[1:]
    d = int(lam_v.shape[0])
    total = xp.zeros_like(lam_v)
    # The loss peaks at lam = a b with value ((a-b)/(a+b))^2, so a step can only need the log(cos2)
    # branch when that bound exceeds the switch; those few steps take the two-branch path.
    big = ((a_all - b_all) / (a_all + b_all)) ** 2 >= _LOSS_SWITCH
    for k in np.flatnonzero(big):
        ak, bk = float(a_all[k]), float(b_all[k])
        total = total + _log1p_neg(loss_f(ak, bk, lam_v), cos2_f(ak, bk, lam_v), xp)
    small = np.flatnonzero(~big)
    if small.size == 0:
        return total
    # Cache blocking: (rows x chunk) tiles of ~64k elements stay in L2 across the five elementwise
    # passes of the loss, which makes the loop ~1.7x faster than whole-spectrum passes at d = 1e6.
    chunk = min(d, _CHUNK)
    rows = max(1, _TILE // chunk)
    a_small = numeric.to_backend(a_all[small][:, None], backend, dtype=dtype, device=device)
    b_small = numeric.to_backend(b_all[small][:, None], backend, dtype=dtype, device=device)
    parts = []
    for c0 in range(0, d, chunk):
        lam_c = lam_v[None, c0 : c0 + chunk]
        acc = xp.zeros_like(lam_v[c0 : c0 + chunk])
        for r0 in range(0, small.size, rows):
            acc = acc + xp.log1p(
                -loss_f(a_small[r0 : r0 + rows], b_small[r0 : r0 + rows], lam_c)
            ).sum(0)
        parts.append(acc)
    return total + (
        parts[0] if len(parts) == 1 else xp.concatenate(parts) if xp is np else xp.cat(parts)
    )


def gaussian_first_step_variance(b_value: float) -> float:
    """Variance after one step from pure noise to level ``b_value`` (derived limit, = b^2)."""
    f = numeric.lambdify((b,), derive.pure_noise_first_step_variance(), "numpy")
    return float(f(b_value))


def variance_ratios(eigenvalues: Any, sigmas: Any, **kwargs: Any) -> Any:
    """:math:`r_i = \\exp(\\ln r_i)`; see :func:`log_variance_ratios` for the arguments."""
    lr = log_variance_ratios(eigenvalues, sigmas, **kwargs)
    return lr.exp() if kwargs.get("backend") == "torch" else np.exp(lr)


def _expm1mx(x: Any, xp: Any) -> Any:
    r""":math:`e^x-1-x` without cancellation: Taylor series for :math:`|x|<1/2`, ``expm1`` beyond."""
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


def kl_from_log_ratios(log_r: Any) -> tuple[float, float]:
    r"""Both KL directions from :math:`\ln r_i` [sun2026, §4]; stable for tiny KL.

    Returns ``(kl_source_output, kl_output_source)``; ``inf`` when some :math:`r_i=0`.
    """
    xp = _xp("torch") if not isinstance(log_r, np.ndarray) and hasattr(log_r, "exp") else np
    if xp is np:
        log_r = np.asarray(log_r, dtype=np.float64)
    if bool((log_r == -math.inf).any()):
        return math.inf, math.inf
    kso = 0.5 * _expm1mx(-log_r, xp).sum()
    kos = 0.5 * _expm1mx(log_r, xp).sum()
    return float(kso), float(kos)


def kl(
    eigenvalues: Any,
    sigmas: Any,
    *,
    start: str = "exact",
    sampler: str = "ddim",
    backend: str = "numpy",
    device: Any = None,
    dtype: Any = None,
    eta: float | None = None,
) -> GaussianKL:
    """Exact KL of the Gaussian sampler in both directions; arguments as :func:`log_variance_ratios`.

    Examples
    --------
    >>> from symsched.gaussian.exact import kl
    >>> round(kl([1.0], [float('inf'), 1.0, 0.0]).kl_source_output, 11)
    0.80685281944
    """
    if backend == "mpmath":
        if sampler in _OTHER_SAMPLERS:
            raise ValueError(
                f"backend='mpmath' serves the ddim and exact-flow samplers only, not {sampler!r}"
            )
        res = kl_mpmath(eigenvalues, sigmas, start=start, sampler=sampler)
        return GaussianKL(
            float(res.kl_source_output),
            float(res.kl_output_source),
            np.array([float(v) for v in res.log_variance_ratios]),
        )
    lr = log_variance_ratios(
        eigenvalues,
        sigmas,
        start=start,
        sampler=sampler,
        backend=backend,
        device=device,
        dtype=dtype,
        eta=eta,
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
def _mp_funcs() -> tuple[Any, Any, Any]:
    return (
        numeric.lambdify((a, b, lam), derive.ddim_gain_rho(), "mpmath"),
        numeric.lambdify((r,), derive.kl_source_output(), "mpmath"),
        numeric.lambdify((r,), derive.kl_output_source(), "mpmath"),
    )


def kl_mpmath(
    eigenvalues: Any, sigmas: Any, *, start: str = "exact", sampler: str = "ddim", dps: int = 40
) -> MpKL:
    """40-digit reference: multiplies the derived rational gains directly in mpmath.

    Eigenvalues and levels are taken as the exact binary values of their float64 inputs.
    """
    lam_np, sig = _prepare(eigenvalues, sigmas, start, sampler, "mpmath")
    if sampler in _OTHER_SAMPLERS:
        raise ValueError(f"kl_mpmath serves the ddim and exact-flow samplers only, not {sampler!r}")
    gain, kso_f, kos_f = _mp_funcs()
    with mpmath.workdps(dps):
        levels = [mpmath.mpf(float(v)) if math.isfinite(v) else mpmath.inf for v in sig]
        lrs, rs, kso, kos = [], [], mpmath.mpf(0), mpmath.mpf(0)
        for lv in lam_np:
            L = mpmath.mpf(float(lv))
            lev = levels
            if lev[0] == mpmath.inf:
                var = lev[1] ** 2
                lev = lev[1:]
            else:
                var = L + lev[0] ** 2 if start == "exact" else lev[0] ** 2
            for k in range(1, len(lev)):
                if sampler == "ddim":
                    var *= gain(lev[k - 1], lev[k], L) ** 2
                else:
                    var *= (L + lev[k] ** 2) / (L + lev[k - 1] ** 2)
            ratio = var / (L + levels[-1] ** 2)
            rs.append(ratio)
            if ratio == 0:
                lrs.append(-mpmath.inf)
                kso = kos = mpmath.inf
                continue
            lrs.append(mpmath.log(ratio))
            kso += kso_f(ratio)
            kos += kos_f(ratio)
        return MpKL(kso, kos, lrs, rs)


def variance_trajectory(
    eigenvalues: Any, sigmas: Any, *, start: str = "exact"
) -> NDArray[np.float64]:
    r"""Variance of the scaled state :math:`\bar x` along each eigen-direction at every level.

    Returns shape ``(N+1, d)``; row 0 is the start (``inf`` for a pure-noise start).
    [sun2026, §3 "trajectory"]: :math:`\mathrm{Var}_{k}=\mathrm{Var}_{k-1}\,g_k^2`.
    """
    lam_np, sig = _prepare(eigenvalues, sigmas, start, "ddim", "numpy")
    out = np.empty((sig.size, lam_np.size))
    gain = numeric.lambdify((a, b, lam), derive.ddim_gain_rho(), "numpy")
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


def output_covariance(covariance: Any, sigmas: Any, *, start: str = "exact") -> NDArray[np.float64]:
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
    var_out = np.exp(lr) * (lam_np + sig[-1] ** 2)
    return (U * var_out) @ U.T


def covariance_trajectory(
    covariance: Any, sigmas: Any, *, start: str = "exact"
) -> NDArray[np.float64]:
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
        return np.einsum("ij,kj,lj->kil", U, traj, U)
    first = np.where(np.eye(cov.shape[0], dtype=bool), np.inf, 0.0)[None]
    return np.concatenate([first, np.einsum("ij,kj,lj->kil", U, traj[1:], U)])
