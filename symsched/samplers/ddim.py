r"""DDIM (eta = 0), i.e. Euler on the probability-flow ODE in :math:`\bar x` against :math:`\sigma`.

Per eigenvalue the step ``a -> b`` multiplies :math:`\bar x` by the derived gain
:math:`g=(\lambda+ab)/(\lambda+a^2)` (:func:`symsched.gaussian.derive.ddim_gain_rho`), and

.. math:: \ln r_i=\ln\frac{\mathrm{Var}_0}{\lambda_i+\sigma_0^2}+\sum_k\ln\cos^2\Delta\varphi_{i,k},
   \qquad \ln\cos^2\Delta\varphi=\operatorname{log1p}(-\ell),\quad
   \ell=\frac{\lambda(a-b)^2}{(\lambda+a^2)(\lambda+b^2)}

(:func:`symsched.gaussian.derive.variance_loss_step`), so no digits cancel even at N = 1e5
[sun2026, §3] (docs/theory/gaussian.md#variance-recursion-and-output-ratio). Steps are processed
in cache-sized tiles so memory stays bounded at d = 1e6 and N = 1e4. Eigenvalues and levels
outside the fast window of :mod:`symsched.samplers._stable` (where :math:`a^2` or the products
would over- or underflow) take the log forms of the same expressions (:func:`log_cos2_stable`),
so the whole input range [1e-300, 1e300] is exact to ~1e-13 relative (docs/cli.md#input-range).
The network sampler :func:`sample` is the same update on a denoiser :math:`D(x,\sigma)`
(k-diffusion ``sample_euler``; Karras et al. 2022, Algorithm 2 without churn).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from symsched import _compiled, numeric
from symsched._typing import ArrayBackend, BoolArray, Device, FloatArray, Start, TorchDType
from symsched.samplers import _stable
from symsched.samplers._base import (
    NoKnobs,
    Sampler,
    register_sampler,
    start_log_ratio,
    start_variance_mp,
)
from symsched.samplers._linear import LinearMapForm, pure_noise_limit
from symsched.samplers._network import (
    Denoiser,
    StepCallback,
    check_network_inputs,
    ode_direction,
)

if TYPE_CHECKING:
    import mpmath
    import sympy as sp


__all__ = ["DDIM", "log_cos2_stable", "log_loss_forms", "sample", "sum_log_cos2"]

_TILE = 1 << 16  # elements per (steps x eigenvalues) tile: fits in L2, bounded memory at any d, N
_CHUNK = 8192  # eigenvalues per tile column
_LOSS_SWITCH = 0.5  # above this loss, log(cos2) is more accurate than log1p(-loss)


def _xp(backend: str) -> Any:
    if backend == "torch":
        import torch

        return torch
    return np


def _log1p_neg(loss: Any, cos2: Any, xp: Any) -> Any:
    """``log(1 - loss)`` choosing ``log1p(-loss)`` or ``log(cos2)`` by accuracy (same value)."""
    with np.errstate(divide="ignore"):
        return xp.where(
            loss < _LOSS_SWITCH,
            xp.log1p(-xp.minimum(loss, xp.zeros_like(loss) + _LOSS_SWITCH)),
            xp.log(cos2),
        )


@functools.cache
def log_loss_forms() -> tuple[sp.Expr, sp.Expr, sp.Expr, sp.Expr]:
    r"""Log forms of the variance loss and of :math:`\cos^2\Delta\varphi`, finite and pure noise.

    ``(ln loss(a, b, lam), ln cos2(a, b, lam), ln loss_inf(b, lam), ln cos2_inf(b, lam))``: the
    derived :func:`symsched.gaussian.derive.variance_loss_step`,
    :func:`~symsched.gaussian.derive.cos2_angle_step` and their :math:`a\to\infty` limits in
    :func:`symsched.samplers._stable.log_form` (sums of logs and ``logaddexp``), which neither
    overflow nor underflow anywhere in the input range.
    """
    from symsched.gaussian import derive
    from symsched.symbols import a, b

    return (
        _stable.log_form(derive.variance_loss_step(), [a - b]),
        _stable.log_form(derive.cos2_angle_step(), [a - b]),
        _stable.log_form(derive.variance_loss_from_pure_noise()),
        _stable.log_form(derive.cos2_pure_noise()),
    )


@functools.cache
def _log_loss_fns() -> tuple[Callable[..., Any], ...]:
    # generated from log_loss_forms() (symsched._specs, symsched._generated)
    return tuple(
        _compiled.function(f"ddim.{k}")
        for k in ("log_loss", "log_cos2", "log_loss_inf", "log_cos2_inf")
    )


def log_cos2_stable(ak: float, bk: float, lam_v: FloatArray) -> FloatArray:
    r""":math:`\ln\cos^2\Delta\varphi` of the step ``ak -> bk`` (``ak`` may be inf), in range.

    :math:`\operatorname{log1p}(-\ell)` with :math:`\ell=e^{\ln\ell}` while
    :math:`\ell<\tfrac12` (relative error ~1e-13), else the log form of :math:`\cos^2` itself
    (absolute error ~1e-13 on a value of magnitude >= ln 2): :func:`log_loss_forms`.
    """
    ll_f, lc_f, ll_inf_f, lc_inf_f = _log_loss_fns()
    if math.isinf(ak):
        ll, lc = ll_inf_f(bk, lam_v), lc_inf_f(bk, lam_v)
    else:
        ll, lc = ll_f(ak, bk, lam_v), lc_f(ak, bk, lam_v)
    out: FloatArray = np.where(ll < -math.log(2.0), _stable.log1m_exp(np.minimum(ll, 0.0)), lc)
    return out


def sum_log_cos2(
    lam_v: Any,
    sig: FloatArray,
    backend: ArrayBackend,
    dtype: TorchDType | None,
    device: Device,
    *,
    a_all: FloatArray | None = None,
    b_all: FloatArray | None = None,
) -> Any:
    r""":math:`\sum_k \ln\cos^2\Delta\varphi_k` over the finite steps of ``sig``, in tiles.

    The derived expressions compiled as they are: callers keep the steps and eigenvalues inside
    the fast window (:mod:`symsched.samplers._stable`). ``a_all, b_all`` replace the steps of
    ``sig`` by an explicit list of steps.
    """
    xp = _xp(backend)
    loss_f = _compiled.function("variance_loss_step", backend, dtype=dtype, device=device)
    cos2_f = _compiled.function("cos2_angle_step", backend, dtype=dtype, device=device)
    if a_all is None or b_all is None:
        a_all, b_all = sig[:-1], sig[1:]
    d = int(lam_v.shape[0])
    total = xp.zeros_like(lam_v)
    if a_all.size == 0 or d == 0:
        return total
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


def _fast_grid(sig: FloatArray) -> BoolArray:
    """Per step of ``sig``: both levels in the fast window (a pure-noise first step counts as fast
    when its end level is)."""
    ok = np.array([math.isinf(v) or _stable.fast_level(float(v)) for v in sig])
    out: BoolArray = ok[:-1] & ok[1:]
    return out


def _log_ratios_stable(lam_np: FloatArray, sig: FloatArray, start: Start) -> FloatArray:
    """ln r over the whole input range in numpy: the compiled derived forms for the eigenvalues
    and steps inside the fast window, the log forms (:func:`log_cos2_stable`) for the rest."""
    total = np.array(start_log_ratio(lam_np, float(sig[0]), start), dtype=np.float64)
    fast_lam = _stable.fast_eigenvalues(lam_np)
    fast_step = _fast_grid(sig)
    fast_idx, slow_idx = np.flatnonzero(fast_lam), np.flatnonzero(~fast_lam)
    every = np.arange(lam_np.size)
    a_all, b_all = sig[:-1], sig[1:]
    for k in range(a_all.size):
        ak, bk = float(a_all[k]), float(b_all[k])
        rows = slow_idx if fast_step[k] else every
        if fast_step[k] and math.isinf(ak):
            total[fast_idx] += _pure_noise_fast(bk, lam_np[fast_idx], "numpy", None, None, np)
        if rows.size:
            total[rows] += log_cos2_stable(ak, bk, lam_np[rows])
    steps = np.flatnonzero(fast_step & np.isfinite(a_all))
    if fast_idx.size and steps.size:
        total[fast_idx] += sum_log_cos2(
            lam_np[fast_idx], sig, "numpy", None, None, a_all=a_all[steps], b_all=b_all[steps]
        )
    return total


def _pure_noise_fast(
    b1: float, lam_v: Any, backend: ArrayBackend, dtype: TorchDType | None, device: Device, xp: Any
) -> Any:
    """The first step from pure noise: the loss lam / (lam + b^2) keeps b^2 of the variance."""
    loss0 = _compiled.function(
        "variance_loss_from_pure_noise", backend, dtype=dtype, device=device
    )(b1, lam_v)
    cos0 = _compiled.function("cos2_pure_noise", backend, dtype=dtype, device=device)(b1, lam_v)
    return _log1p_neg(loss0, cos0, xp)


@functools.cache
def _mp_gain() -> Callable[..., Any]:
    from symsched.gaussian import derive
    from symsched.symbols import a, b, lam

    return numeric.lambdify((a, b, lam), derive.ddim_gain_rho(), "mpmath")


@register_sampler
class DDIM(Sampler):
    """DDIM, eta = 0 (= k-diffusion ``sample_euler`` on the exact denoiser)."""

    name = "ddim"
    summary = "DDIM (eta = 0): Euler on the PF-ODE in x/alpha against sigma"
    reference = "Song et al. 2021 (DDIM, Eq. 12); Sun et al. 2026, §3 (exact Gaussian KL)"
    order = 1

    def linear_map_form(self) -> LinearMapForm:
        """The DDIM gain :func:`symsched.gaussian.derive.ddim_gain_rho`; from pure noise
        :math:`u_1=b` (its limit, :func:`symsched.samplers._linear.pure_noise_limit`)."""
        from symsched.gaussian import derive

        g = derive.ddim_gain_rho()
        return LinearMapForm(step=g, pure_noise=pure_noise_limit(g))

    def log_variance_ratios(
        self,
        eigenvalues: FloatArray,
        sigmas: FloatArray,
        start: Start,
        knobs: Any,
        *,
        backend: ArrayBackend = "numpy",
        dtype: TorchDType | None = None,
        device: Device = None,
    ) -> Any:
        r"""Exact :math:`\ln r_i`, computed on ``backend`` itself (numpy or torch)."""
        self.check_grid(sigmas)
        lam_np = np.asarray(
            eigenvalues.detach().cpu() if hasattr(eigenvalues, "detach") else eigenvalues,
            dtype=np.float64,
        )
        sig = sigmas
        if not (bool(_stable.fast_eigenvalues(lam_np).all()) and bool(_fast_grid(sig).all())):
            # outside the fast window: numpy, then a copy on the backend
            out = _log_ratios_stable(lam_np, sig, start)
            if backend == "numpy":
                return out
            return numeric.to_backend(out, backend, dtype=dtype, device=device)
        xp = _xp(backend)
        lam_v = numeric.to_backend(eigenvalues, backend, dtype=dtype, device=device)
        total = xp.zeros_like(lam_v) + start_log_ratio(lam_v, float(sig[0]), start, backend=backend)
        if math.isinf(sig[0]):
            total = total + _pure_noise_fast(float(sig[1]), lam_v, backend, dtype, device, xp)
            sig = sig[1:]
        return total + sum_log_cos2(lam_v, sig, backend, dtype, device)

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: NoKnobs
    ) -> FloatArray:
        out: FloatArray = self.log_variance_ratios(eigenvalues, sigmas, start, knobs)
        return out

    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: NoKnobs
    ) -> mpmath.mpf:
        r"""The derived gains multiplied: :math:`\mathrm{Var}_k=g_k^2\mathrm{Var}_{k-1}`."""
        import mpmath

        gain = _mp_gain()
        lev = list(levels)
        if lev[0] == mpmath.inf:
            var = (
                lev[1] ** 2
            )  # the derived pure-noise limit (derive.pure_noise_first_step_variance)
            lev = lev[1:]
        else:
            var = start_variance_mp(eigenvalue, lev[0], start)
        for k in range(1, len(lev)):
            var *= gain(lev[k - 1], lev[k], eigenvalue) ** 2
        return var / (eigenvalue + levels[-1] ** 2)


def sample(model: Denoiser, x: Any, sigmas: Any, *, callback: StepCallback | None = None) -> Any:
    r"""Euler steps of the PF-ODE on a denoiser [karras2022, Algorithm 2, :math:`S_\text{churn}=0`].

    :math:`x_{i+1}=x_i+(\sigma_{i+1}-\sigma_i)\,(x_i-D(x_i,\sigma_i))/\sigma_i`; N evaluations.

    Parameters
    ----------
    model
        A denoiser ``D(x, sigma)`` (e.g. a :class:`symsched.models.ScoreModel`).
    x
        Initial state at ``sigmas[0]``, a floating torch tensor of shape ``(batch, dim)``.
    sigmas
        Descending finite noise levels ``[sigma_0 > ... > sigma_N >= 0]`` (used as given).
    callback
        Called after each step with ``{"i", "sigma", "sigma_next", "x"}``.

    Returns
    -------
    torch.Tensor
        The state at ``sigmas[-1]``.
    """
    x, sig = check_network_inputs(model, x, sigmas)
    for i in range(sig.size - 1):
        s, t = float(sig[i]), float(sig[i + 1])
        x = x + (t - s) * ode_direction(model, x, s)
        if callback is not None:
            callback({"i": i, "sigma": s, "sigma_next": t, "x": x})
    return x
