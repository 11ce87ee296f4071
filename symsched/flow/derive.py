r"""The rectified-flow interpolant :math:`x_t=(1-t)x_0+t\epsilon` in this project's scaled state.

With :math:`\bar x=x/(1-t)=x_0+\rho\,\epsilon` the flow is the VE process of the noise level
:math:`\rho=t/(1-t)` [sun2026, §2], so every result of the Gaussian theory applies to flow models
once their grids are written in :math:`\rho` (docs/theory/flow.md). Derived here, each for an
arbitrary denoiser :math:`D` (not only the Gaussian one):

* :func:`euler_flow_minus_ddim` — an Euler step of the velocity ODE in :math:`t` *is* the DDIM
  step in :math:`\rho` (the difference simplifies to 0);
* :func:`heun_flow_step` — a Heun step in :math:`t` (Euler predictor, trapezoidal corrector in
  :math:`t`) written in the scaled state; the ``flow-heun`` sampler
  (:mod:`symsched.samplers.flow_heun`) derives its gain from it;
* :func:`heun_flow_minus_heun_rho` — a Heun step in :math:`t` is not the Heun step in
  :math:`\rho`: they share the Euler predictor and differ by
  :math:`(D_a-D_b)(t_a-t_b)^2/(2t_b(1-t_a)(1-t_b))`, a second-order term;
* :func:`shifted_flow_angle_length` — :math:`J(a)=\int_0^1\varphi'(u)^2du` of the grid
  :math:`\rho(u)=s(1-u)/u` (N uniform flow steps, shifted) for an eigenvalue with
  :math:`a=s/\sqrt\lambda`: :math:`1+\tfrac\pi4(a+1/a)`, the coefficient of the leading
  :math:`N^{-2}` term of the KL [sun2026, §5.1];
* :func:`linear_shift_rho` and :func:`exponential_shift_rho` — SD3's shift
  :math:`t'=st/(1+(s-1)t)` is :math:`\rho'=s\rho`, and Flux's exponential time shift
  :math:`t'=e^\mu/(e^\mu+(1/t-1)^\sigma)` is :math:`\rho'=e^\mu\rho^\sigma`.
"""

from __future__ import annotations

import functools

import sympy as sp

__all__ = [
    "denoised_a",
    "denoised_b",
    "euler_flow_minus_ddim",
    "exponential_shift_rho",
    "heun_flow_minus_heun_rho",
    "heun_flow_step",
    "linear_shift_rho",
    "noise_level_of_flow_time",
    "shifted_flow_angle_length",
    "t_a",
    "t_b",
    "xbar_flow",
]

t_a, t_b = sp.symbols("t_a t_b", positive=True)  # flow times of a step t_a -> t_b, in (0, 1)
_X, _D_a, _D_b = sp.symbols("xbar D_a D_b", real=True)  # the scaled state and denoiser outputs
xbar_flow, denoised_a, denoised_b = _X, _D_a, _D_b
"""The symbols of :func:`heun_flow_step`: the scaled state at ``t_a`` and the denoiser outputs at
the start and at the predictor."""
_s, _mu, _sig = sp.symbols("s mu sigma", positive=True)
_t = sp.Symbol("t", positive=True)


@functools.cache
def noise_level_of_flow_time() -> sp.Expr:
    r""":math:`\rho(t)=t/(1-t)`: the noise level of :math:`x_t=(1-t)x_0+t\epsilon` (solved from
    :math:`x_t/(1-t)=x_0+\rho\epsilon`)."""
    rho = sp.Symbol("rho", positive=True)
    (sol,) = sp.solve(sp.Eq(_t / (1 - _t), rho), rho)
    return sp.simplify(sol)


def _rho(t: sp.Expr) -> sp.Expr:
    return noise_level_of_flow_time().subs(_t, t)


def _velocity(x: sp.Expr, d: sp.Expr, t: sp.Expr) -> sp.Expr:
    r"""The flow velocity :math:`\hat\epsilon-\hat x_0` at :math:`x` (time :math:`t`) given the
    denoiser output :math:`d=\hat x_0`: :math:`\hat\epsilon=(x/(1-t)-d)/\rho`."""
    return (x / (1 - t) - d) / _rho(t) - d


@functools.cache
def euler_flow_minus_ddim() -> sp.Expr:
    r"""Euler in flow time minus DDIM in :math:`\rho`, in the scaled state: identically 0.

    :math:`x_b=x_a+(t_b-t_a)v(x_a,t_a)`, :math:`\bar x_b=x_b/(1-t_b)`, against
    :math:`D_a+\rho_b(\bar x_a-D_a)/\rho_a`.
    """
    x_a = (1 - t_a) * _X
    x_b = x_a + (t_b - t_a) * _velocity(x_a, _D_a, t_a)
    ddim = _D_a + _rho(t_b) * (_X - _D_a) / _rho(t_a)
    return sp.simplify(x_b / (1 - t_b) - ddim)


@functools.cache
def heun_flow_step() -> tuple[sp.Expr, sp.Expr]:
    r"""One Heun step :math:`t_a\to t_b>0` of the velocity ODE, in the scaled state.

    With :math:`x_a=(1-t_a)\bar x` and :math:`v(x,t)` the velocity of :func:`_velocity`:

    .. math:: \tilde x=x_a+(t_b-t_a)\,v(x_a,t_a),\qquad
       x_b=x_a+\tfrac12(t_b-t_a)\bigl(v(x_a,t_a)+v(\tilde x,t_b)\bigr),

    the predictor and corrector of Heun's method in flow time (diffusers'
    ``FlowMatchHeunDiscreteScheduler``). Returns ``(predictor, corrector)`` as
    :math:`\tilde x/(1-t_b)` and :math:`x_b/(1-t_b)`, functions of :data:`xbar_flow`,
    :data:`denoised_a` (:math:`D` at :math:`(\bar x,t_a)`), :data:`denoised_b` (:math:`D` at the
    predictor and :math:`t_b`), ``t_a`` and ``t_b``; the predictor is the DDIM step
    (:func:`euler_flow_minus_ddim`).
    """
    x_a = (1 - t_a) * _X
    v_a = _velocity(x_a, _D_a, t_a)
    x_pred = x_a + (t_b - t_a) * v_a
    x_b = x_a + (t_b - t_a) / 2 * (v_a + _velocity(x_pred, _D_b, t_b))
    return x_pred / (1 - t_b), x_b / (1 - t_b)


@functools.cache
def heun_flow_minus_heun_rho() -> sp.Expr:
    r"""Heun in flow time (:func:`heun_flow_step`) minus Heun in :math:`\rho` (EDM's
    Algorithm 1), scaled state.

    Both start with the same Euler predictor (:func:`euler_flow_minus_ddim`), whose denoiser
    output at :math:`t_b` is ``D_b``; the correctors average the slope in :math:`t` and in
    :math:`\rho` respectively.
    """
    _, flow = heun_flow_step()
    ra, rb = _rho(t_a), _rho(t_b)
    d_a = (_X - _D_a) / ra
    pred = _X + (rb - ra) * d_a
    heun_rho = _X + (rb - ra) / 2 * (d_a + (pred - _D_b) / rb)
    return sp.factor(sp.simplify(flow - heun_rho))


@functools.cache
def linear_shift_rho() -> sp.Expr:
    r""":math:`\rho(t')` for SD3's shift :math:`t'=st/(1+(s-1)t)`, as a function of
    :math:`\rho=\rho(t)` (symbol ``rho``): :math:`s\rho`."""
    shifted = _s * _t / (1 + (_s - 1) * _t)
    return _in_rho(_rho(shifted))


@functools.cache
def exponential_shift_rho() -> sp.Expr:
    r""":math:`\rho(t')` for the exponential time shift :math:`t'=e^\mu/(e^\mu+(1/t-1)^\sigma)`
    (diffusers' ``time_shift`` with ``use_dynamic_shifting``), as a function of :math:`\rho`:
    :math:`e^\mu\rho^\sigma`."""
    shifted = sp.exp(_mu) / (sp.exp(_mu) + (1 / _t - 1) ** _sig)
    return _in_rho(_rho(shifted))


def _in_rho(expr: sp.Expr) -> sp.Expr:
    rho = sp.Symbol("rho", positive=True)
    t_of_rho = rho / (1 + rho)
    return sp.simplify(sp.powsimp(sp.simplify(expr.subs(_t, t_of_rho)), force=True))


@functools.cache
def shifted_flow_angle_length() -> sp.Expr:
    r""":math:`J(a)=\int_0^1\varphi'(u)^2\,du` with :math:`\varphi=\arctan(\rho/\sqrt\lambda)` and
    :math:`\rho=s(1-u)/u`, in :math:`a=s/\sqrt\lambda` (symbol ``a``): integrated by SymPy and
    simplified to :math:`1+\pi(a^2+1)/(4a)`."""
    a = sp.Symbol("a", positive=True)
    u = sp.Symbol("u", positive=True)
    phi = sp.atan(a * (1 - u) / u)
    j = sp.integrate(sp.simplify(sp.diff(phi, u) ** 2), (u, 0, 1))
    # atan(a) + atan(1/a) = pi/2 for a > 0
    return sp.simplify(sp.simplify(j).subs(sp.atan(1 / a), sp.pi / 2 - sp.atan(a)))
