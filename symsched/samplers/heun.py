r"""EDM's second-order Heun sampler [karras2022, Algorithm 1, deterministic].

An Euler predictor and a trapezoidal corrector; the final step to 0 is the Euler step (the
corrector would divide by 0). Two denoiser evaluations per step, one for a final step to 0.
Needs a finite :math:`\sigma_0` (docs/theory/samplers.md#edm-heun).

The float64 path (:func:`log_step_factor`) is exact to ~1e-13 over the whole input range
(docs/cli.md#input-range) from any finite :math:`\sigma_0`: each step adds
``log1p`` of the derived, positive :math:`q-1` (:func:`heun_step_forms`). Heun steps raise r
while the last step to 0 and a prior start lower it; near an exact cancellation the error is
~1e-13 of the terms' sum, not of ln r.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from symsched import numeric
from symsched._typing import BoolArray, FloatArray, Start
from symsched.samplers import _stable
from symsched.samplers._base import (
    NoKnobs,
    Sampler,
    register_sampler,
    start_log_ratio,
    start_variance_mp,
    to_np,
)
from symsched.samplers._linear import LinearMapForm
from symsched.samplers._network import (
    Denoiser,
    StepCallback,
    check_network_inputs,
    ode_direction,
)

if TYPE_CHECKING:
    import mpmath
    import sympy as sp


__all__ = ["Heun", "heun_gain", "heun_step_forms", "log_step_factor", "sample"]


def _step(x: Any, d_at: Callable[[Any, Any], Any], s: Any, t: Any) -> Any:
    """One Heun step ``s -> t`` (t > 0) given the ODE direction ``d_at(x, sigma)``."""
    d = d_at(x, s)
    x_pred = x + (t - s) * d  # Algorithm 1, line 5 (Euler predictor)
    return x + (t - s) / 2 * (d + d_at(x_pred, t))  # lines 6-8: trapezoidal correction


@functools.cache
def heun_gain() -> tuple[sp.Expr, sp.Expr]:
    r"""Gain on :math:`\bar x` of one Heun step ``a -> b`` and of the Euler step to 0.

    The step of :func:`sample` applied to the symbolic exact denoiser; returns
    ``(heun, euler_to_zero)``.
    """
    import sympy as sp

    from symsched.samplers._derive import denoiser_at
    from symsched.symbols import a, b, xbar

    def d_at(xv: sp.Expr, level: sp.Expr) -> sp.Expr:
        return (xv - denoiser_at(level).subs(xbar, xv)) / level

    heun = sp.factor(sp.simplify(_step(xbar, d_at, a, b) / xbar))
    euler0 = sp.factor(sp.simplify((xbar + d_at(xbar, a) * (0 - a)) / xbar))
    return heun, euler0


@functools.cache
def heun_step_forms() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    r"""The per-step factor :math:`q=g^2(\lambda+a^2)/(\lambda+b^2)` of r, cancellation-free.

    Returns ``(excess, loss0, keep0)``: :math:`q-1` of a Heun step, derived from
    :func:`heun_gain` as
    :math:`\lambda(a-b)^3(a\lambda+4b^3+3b\lambda)/(4(\lambda+a^2)(\lambda+b^2)^3)`
    (every term positive: a Heun step never lowers the ratio), and :math:`1-q`, :math:`q` of the
    Euler step to 0 (:math:`a^2/(\lambda+a^2)` and :math:`\lambda/(\lambda+a^2)`). The ratio
    changes by ``log1p(excess)`` per step, so no digits cancel even for tiny steps, where
    :math:`2\ln g+\ln(\lambda+a^2)-\ln(\lambda+b^2)` would lose them all.
    """
    import sympy as sp

    from symsched.symbols import a, b, lam

    heun, euler0 = heun_gain()
    excess = sp.factor(sp.cancel(heun**2 * (lam + a**2) / (lam + b**2) - 1))
    keep0 = sp.factor(sp.cancel(euler0**2 * (lam + a**2) / lam))
    loss0 = sp.factor(sp.cancel(1 - keep0))
    return excess, loss0, keep0


@functools.cache
def _gains(backend: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    from symsched.symbols import a, b, lam

    heun, euler0 = heun_gain()
    return numeric.lambdify((a, b, lam), heun, backend), numeric.lambdify((a, lam), euler0, backend)


@functools.cache
def _step_fns() -> dict[str, Callable[..., Any]]:
    from symsched.symbols import a, b, lam

    excess, loss0, keep0 = heun_step_forms()
    return {
        "excess": numeric.lambdify((a, b, lam), excess),
        "loss0": numeric.lambdify((a, lam), loss0),
        "keep0": numeric.lambdify((a, lam), keep0),
        "log_excess": numeric.lambdify((a, b, lam), _stable.log_form(excess, [a - b])),
        "log_loss0": numeric.lambdify((a, lam), _stable.log_form(loss0)),
        "log_keep0": numeric.lambdify((a, lam), _stable.log_form(keep0)),
    }


def log_step_factor(ak: float, bk: float, lam_v: FloatArray, fast_lam: BoolArray) -> FloatArray:
    r""":math:`\ln q` of the step ``ak -> bk`` (:func:`heun_step_forms`) anywhere in the range.

    Inside the fast window the derived forms are compiled as they are; outside, their log forms
    (:mod:`symsched.samplers._stable`).
    """
    f = _step_fns()
    step_fast = _stable.fast_level(ak) and _stable.fast_level(bk)
    if bk == 0.0:
        return _stable.by_window(
            lam_v,
            fast_lam,
            step_fast,
            lambda lv: _stable.log_one_minus(
                np.log(f["loss0"](ak, lv)), np.log(f["keep0"](ak, lv))
            ),
            lambda lv: _stable.log_one_minus(f["log_loss0"](ak, lv), f["log_keep0"](ak, lv)),
        )
    return _stable.by_window(
        lam_v,
        fast_lam,
        step_fast,
        lambda lv: np.log1p(f["excess"](ak, bk, lv)),
        lambda lv: _stable.log_one_plus(f["log_excess"](ak, bk, lv)),
    )


@register_sampler
class Heun(Sampler):
    """EDM Heun (no churn)."""

    name = "heun"
    summary = "EDM Heun, second order (Euler on the last step to 0)"
    reference = "Karras et al. 2022 (EDM), Algorithm 1"
    order = 2
    nfe_per_step = 2
    pure_noise_start = False

    def nfe(self, sigmas: FloatArray) -> int:
        """Two evaluations per step, one for a final step to 0."""
        return 2 * int(sigmas.size - 1) - (1 if sigmas[-1] == 0.0 else 0)

    def linear_map_form(self) -> LinearMapForm:
        """The Heun gain and the Euler step to 0 of :func:`heun_gain`; no pure-noise start."""
        heun, euler0 = heun_gain()
        return LinearMapForm(step=heun, to_zero=euler0)

    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: NoKnobs
    ) -> FloatArray:
        start_total = to_np(start_log_ratio(eigenvalues, float(sigmas[0]), start))
        return _stable.sum_log_steps(log_step_factor, eigenvalues, sigmas, start_total)

    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: NoKnobs
    ) -> mpmath.mpf:
        gain, gain0 = _gains("mpmath")
        var = start_variance_mp(eigenvalue, levels[0], start)
        for k in range(1, len(levels)):
            ak, bk = levels[k - 1], levels[k]
            g = gain0(ak, eigenvalue) if bk == 0 else gain(ak, bk, eigenvalue)
            var *= g**2
        return var / (eigenvalue + levels[-1] ** 2)


def sample(model: Denoiser, x: Any, sigmas: Any, *, callback: StepCallback | None = None) -> Any:
    r"""Heun's second-order sampler on a denoiser [karras2022, Algorithm 1, deterministic].

    .. math:: \tilde x=x_i+h\,d_i,\quad
       x_{i+1}=x_i+\tfrac h2\bigl(d_i+d(\tilde x,\sigma_{i+1})\bigr),
       \quad h=\sigma_{i+1}-\sigma_i,\ d(x,\sigma)=(x-D(x,\sigma))/\sigma

    with the Euler step alone when :math:`\sigma_{i+1}=0`. Parameters and return value as
    :func:`symsched.samplers.ddim.sample`.
    """
    x, sig = check_network_inputs(model, x, sigmas)

    def d_at(xv: Any, level: float) -> Any:
        return ode_direction(model, xv, level)

    for i in range(sig.size - 1):
        s, t = float(sig[i]), float(sig[i + 1])
        x = _step(x, d_at, s, t) if t > 0 else x + (t - s) * d_at(x, s)
        if callback is not None:
            callback({"i": i, "sigma": s, "sigma_next": t, "x": x})
    return x
