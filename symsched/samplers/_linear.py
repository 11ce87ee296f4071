r"""The linear map of a sampler on a Gaussian source, and of the exact flow it approximates.

On a Gaussian source with the exact (Tweedie) denoiser every sampler of :mod:`symsched.samplers`
acts on each covariance eigen-direction as a linear recursion in the scaled state
:math:`\bar x=x/\alpha`: a one-step sampler multiplies by a gain :math:`g(a,b,\lambda)`, a
two-step one (DPM-Solver++(2M)) forms :math:`A\bar x_a+B\bar x_{\rm prev}`, and an ancestral one
adds independent noise of variance :math:`\sigma_{\rm up}^2`. So the output is
:math:`\hat x_N=G_i\,\bar x_0+\text{noise}` with :math:`G_i` the product of the per-step maps,
while the exact probability-flow map from :math:`\sigma_0` to :math:`\sigma_N` is
:math:`G^\star_i=\sqrt{(\lambda_i+\sigma_N^2)/(\lambda_i+\sigma_0^2)}`
(:func:`symsched.gaussian.derive.exact_flow_gain_rho`, a telescoping product)
[sun2026, §3] (docs/theory/coupling.md).

Each sampler states its map as a :class:`LinearMapForm` of SymPy expressions derived from its
own update rule (its module derives them from the exact denoiser); :func:`propagate` runs the
recursion on numpy, torch (differentiable in the levels, for the sampler-aware optimum) or
mpmath values. It returns the normalised mean map :math:`u_N` (the output's coefficient of a
unit-variance start, times :math:`\sqrt{\mathrm{Var}_0}`) and the added noise variance, so that

.. math:: q_i=\frac{G_i}{G^\star_i}=\frac{u_N}{\sqrt{\lambda_i+\sigma_N^2}},\qquad
   r_i=\frac{u_N^2+v_N}{\lambda_i+\sigma_N^2}

for the exact start (:math:`u_0=\sqrt{\lambda_i+\sigma_0^2}`); a pure-noise start
(:math:`\sigma_0=\infty`) takes the limit :math:`u_1=\lim_{a\to\infty}\sqrt{\lambda+a^2}\,g(a,b)`
of the first step, derived by SymPy per sampler.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from symsched import numeric

if TYPE_CHECKING:
    import sympy as sp


__all__ = [
    "LINEAR_MAP_PARTS",
    "LinearMapForm",
    "compiled_form",
    "compiled_linear_map",
    "linear_map_parts",
    "propagate",
    "pure_noise_limit",
]


@dataclass(frozen=True)
class LinearMapForm:
    r"""The per-step linear map of a sampler on one eigen-direction (SymPy expressions).

    Every expression is a function of ``a`` (the level the step starts from), ``b`` (where it
    ends), ``lam`` and, for a multistep sampler, ``a_prev`` (the level before ``a``), plus the
    sampler's knob symbols ``knob_symbols`` (in the order of its knobs dataclass).

    Attributes
    ----------
    step
        The gain of a regular step :math:`a\to b>0` (a multistep sampler: the coefficient
        :math:`A` of :math:`\bar x_a`).
    history
        A multistep sampler's coefficient :math:`B` of :math:`\bar x_{\rm prev}` (``None``: none).
    first
        The gain of a step without history (the first step of a multistep sampler; default
        ``step``).
    to_zero
        The gain of a final step to 0 (default ``step`` at ``b = 0``).
    noise
        The variance an ancestral step adds (``None``: deterministic); 0 for a step to 0.
    pure_noise
        :math:`u_1` after the first step from :math:`\sigma_0=\infty` (a function of ``b``,
        ``lam`` and the knobs), or ``None`` if the sampler cannot start from pure noise.
    pure_noise_noise
        The noise variance of that first step (ancestral), else ``None``.
    knob_symbols
        The knobs' symbols.
    """

    step: sp.Expr
    history: sp.Expr | None = None
    first: sp.Expr | None = None
    to_zero: sp.Expr | None = None
    noise: sp.Expr | None = None
    pure_noise: sp.Expr | None = None
    pure_noise_noise: sp.Expr | None = None
    knob_symbols: tuple[sp.Symbol, ...] = ()


def pure_noise_limit(gain: sp.Expr) -> sp.Expr:
    r""":math:`\lim_{a\to\infty}\sqrt{\lambda+a^2}\,g(a,b,\lambda)`: the first step from pure noise.

    The start :math:`\bar x_0` has standard deviation :math:`\sqrt{\lambda+a^2}`, so this is the
    coefficient :math:`u_1` of the unit-variance start after one step to ``b``.
    """
    import sympy as sp

    from symsched.symbols import a, lam

    expr = (sp.sqrt(lam + a**2) * gain).rewrite(sp.log)
    return sp.simplify(sp.limit(expr, a, sp.oo))


@dataclass(frozen=True)
class _Compiled:
    step: Callable[..., Any]
    first: Callable[..., Any]
    to_zero: Callable[..., Any]
    history: Callable[..., Any] | None
    noise: Callable[..., Any] | None
    pure_noise: Callable[..., Any] | None
    pure_noise_noise: Callable[..., Any] | None


@functools.cache
def compiled_form(form: LinearMapForm, backend: str) -> _Compiled:
    """The expressions of ``form`` compiled for ``backend`` (numpy, torch or mpmath)."""
    import sympy as sp

    from symsched.samplers._derive import a_prev
    from symsched.symbols import a, b, lam

    args = (a, b, a_prev, lam, *form.knob_symbols)
    pn_args = (b, lam, *form.knob_symbols)

    def comp(e: sp.Expr | None, arg: Sequence[sp.Symbol] = args) -> Callable[..., Any] | None:
        return None if e is None else numeric.lambdify(tuple(arg), sp.sympify(e), backend)

    step = comp(form.step)
    first = comp(form.first if form.first is not None else form.step)
    to_zero = comp(form.to_zero if form.to_zero is not None else form.step.subs(b, 0))
    assert step is not None and first is not None and to_zero is not None
    return _Compiled(
        step,
        first,
        to_zero,
        comp(form.history),
        comp(form.noise),
        comp(form.pure_noise, pn_args),
        comp(form.pure_noise_noise, pn_args),
    )


LINEAR_MAP_PARTS: tuple[str, ...] = (
    "step",
    "first",
    "to_zero",
    "history",
    "noise",
    "pure_noise",
    "pure_noise_noise",
)
"""The parts of a compiled linear map, as named in :mod:`symsched._specs` (``linear.NAME.PART``)."""


@functools.cache
def linear_map_parts(sampler: str) -> tuple[str, ...]:
    """The parts the sampler ``sampler``'s linear map has (without SymPy when generated)."""
    from symsched._compiled import generated_names

    names = set(generated_names())
    have = tuple(p for p in LINEAR_MAP_PARTS if f"linear.{sampler}.{p}" in names)
    if "step" in have:
        return have
    from symsched.samplers import get_sampler

    form = get_sampler(sampler).linear_map_form()
    return tuple(
        p
        for p in LINEAR_MAP_PARTS
        if p in ("step", "first", "to_zero") or getattr(form, p) is not None
    )


@functools.cache
def compiled_linear_map(sampler: str, backend: str) -> _Compiled:
    """The linear map of the registered sampler ``sampler`` compiled for ``backend``: the
    generated numpy functions of its :meth:`~symsched.samplers.Sampler.linear_map_form` (the
    arguments of :func:`compiled_form`), or :func:`compiled_form` for torch and mpmath."""
    if backend != "numpy":
        from symsched.samplers import get_sampler

        return compiled_form(get_sampler(sampler).linear_map_form(), backend)
    from symsched._compiled import function

    have = linear_map_parts(sampler)
    parts = {p: function(f"linear.{sampler}.{p}") if p in have else None for p in LINEAR_MAP_PARTS}
    step, first, to_zero = parts["step"], parts["first"], parts["to_zero"]
    assert step is not None and first is not None and to_zero is not None
    return _Compiled(
        step,
        first,
        to_zero,
        parts["history"],
        parts["noise"],
        parts["pure_noise"],
        parts["pure_noise_noise"],
    )


def _is_zero(v: Any) -> bool:
    """A fixed level equal to 0 (free torch levels are positive)."""
    import mpmath

    return isinstance(v, (int, float, mpmath.mpf)) and v == 0


def _is_inf(v: Any) -> bool:
    import mpmath

    return isinstance(v, (int, float, mpmath.mpf)) and bool(mpmath.isinf(v))


def propagate(
    form: LinearMapForm | _Compiled,
    eigenvalues: Any,
    levels: Sequence[Any],
    start_std: Any,
    knobs: Sequence[float] = (),
    *,
    backend: str = "numpy",
) -> tuple[Any, Any]:
    r"""Run the sampler's linear recursion: ``(u_N, v_N)`` per eigenvalue.

    Parameters
    ----------
    form
        The sampler's :class:`LinearMapForm`, or its compiled form for ``backend``
        (:func:`compiled_linear_map`).
    eigenvalues
        :math:`\lambda_i` (a numpy array, a torch tensor, or one mpmath number).
    levels
        The grid :math:`\sigma_0,\dots,\sigma_N`: floats (``inf`` for pure noise, 0 for a final
        step to 0) or, for the torch backend, 0-d tensors for the free levels.
    start_std
        :math:`\sqrt{\mathrm{Var}_0}` per eigenvalue (ignored for a pure-noise start).
    knobs
        The knob values, in the order of ``form.knob_symbols``.
    backend
        ``"numpy"``, ``"torch"`` or ``"mpmath"``.

    Returns
    -------
    tuple
        :math:`u_N` (the output's coefficient of the unit-variance start) and :math:`v_N` (the
        variance of the added noise; 0 for a deterministic sampler).

    Raises
    ------
    ValueError
        If the grid starts from pure noise and the sampler cannot.
    """
    f = form if isinstance(form, _Compiled) else compiled_form(form, backend)
    if backend != "mpmath":
        return _propagate_arrays(f, eigenvalues, levels, start_std, knobs, backend)
    lv = eigenvalues
    zero = lv * 0
    n = len(levels) - 1
    if _is_inf(levels[0]):
        if f.pure_noise is None:
            raise ValueError("this sampler cannot start from pure noise: give a finite sigma_0")
        b1 = levels[1]
        u = f.pure_noise(b1, lv, *knobs) + zero
        v = zero if f.pure_noise_noise is None else f.pure_noise_noise(b1, lv, *knobs) + zero
        k0 = 1
        u_prev: Any = None  # the pure-noise state carries no usable history
    else:
        u, v, k0, u_prev = start_std + zero, zero, 0, None
    for k in range(k0, n):
        ak, bk = levels[k], levels[k + 1]
        ap = levels[k - 1] if k >= 1 and u_prev is not None else ak
        if _is_zero(bk):
            g = f.to_zero(ak, bk, ap, lv, *knobs)
            new = g * u
        elif f.history is not None and u_prev is not None:
            g = f.step(ak, bk, ap, lv, *knobs)
            new = g * u + f.history(ak, bk, ap, lv, *knobs) * u_prev
        else:
            g = f.first(ak, bk, ap, lv, *knobs)
            new = g * u
        if f.noise is not None:
            added = 0 if _is_zero(bk) else f.noise(ak, bk, ap, lv, *knobs)
            v = g * g * v + added
        u_prev, u = u, new
    return u, v


def _propagate_arrays(
    f: _Compiled,
    lv: Any,
    levels: Sequence[Any],
    start_std: Any,
    knobs: Sequence[float],
    backend: str,
) -> tuple[Any, Any]:
    """:func:`propagate` on numpy or torch: every step's coefficients in one call per expression
    (a (steps x d) array), then the recursion's multiply-adds alone step by step."""
    if backend == "torch":
        import torch

        def stack(vals: Sequence[Any]) -> Any:
            return torch.stack([torch.as_tensor(v, dtype=lv.dtype) for v in vals])[:, None]

        def rows(x: Any) -> Any:
            return x.unbind(0)  # one backward for all rows (indexing would cost O(steps^2 d))

        lam_row = lv[None, :]
    else:
        import numpy as np

        def stack(vals: Sequence[Any]) -> Any:
            return np.asarray([float(v) for v in vals], dtype=np.float64)[:, None]

        def rows(x: Any) -> Any:
            return list(x)

        lam_row = lv[None, :]
    zero = lv * 0
    n = len(levels) - 1
    if _is_inf(levels[0]):
        if f.pure_noise is None:
            raise ValueError("this sampler cannot start from pure noise: give a finite sigma_0")
        u = f.pure_noise(levels[1], lv, *knobs) + zero
        v = zero if f.pure_noise_noise is None else f.pure_noise_noise(levels[1], lv, *knobs) + zero
        k0 = 1
    else:
        u, v, k0 = start_std + zero, zero, 0
    last_zero = _is_zero(levels[-1]) and n > k0  # (from pure noise straight to 0: no more steps)
    seg = list(levels[k0 : n + (0 if last_zero else 1)])  # the finite positive levels
    m = len(seg) - 1  # regular steps
    u_prev: Any = None
    if m > 0:
        a_col, b_col = stack(seg[:-1]), stack(seg[1:])
        ap_col = stack([seg[0] * 2, *seg[:-2]])  # step j's previous level (a dummy for j = 0)
        first = f.first(a_col[:1], b_col[:1], a_col[:1], lam_row, *knobs)[0]
        ones = lam_row * 0 + 1  # every coefficient as a full (steps x d) array
        gains = rows(f.step(a_col, b_col, ap_col, lam_row, *knobs) * ones) if m > 1 else None
        hist = (
            rows(f.history(a_col, b_col, ap_col, lam_row, *knobs) * ones)
            if f.history and m > 1
            else None
        )
        noise = (
            rows(f.noise(a_col, b_col, ap_col, lam_row, *knobs) * ones)
            if f.noise is not None
            else None
        )
        for j in range(m):
            g = first if j == 0 else gains[j]  # type: ignore[index]
            new = g * u if hist is None or j == 0 else g * u + hist[j] * u_prev
            if noise is not None:
                v = g * g * v + noise[j]
            u_prev, u = u, new
    if last_zero:
        a_last = seg[-1]
        g0 = f.to_zero(a_last, levels[-1], a_last, lv, *knobs)
        u_prev, u = u, g0 * u
        if f.noise is not None:
            v = g0 * g0 * v
    return u, v
